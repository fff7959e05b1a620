// The hosted pages' only script: runs a WebAuthn ceremony for a form marked `data-passkey`
// ("create" or "get") with the options the server put in `data-options`, writes the browser's
// answer into the form's `public_key_credential` field as JSON, and submits the form. Nothing
// else: the server checks the answer, and the page works as a plain form post otherwise.
'use strict';
(() => {
  const toBytes = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));
  const toText = buf => {
    let s = '';
    for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  };
  const withIds = list => (list || []).map(c => ({ ...c, id: toBytes(c.id) }));
  const serialize = cred => {
    const r = cred.response;
    const response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      if (r.getTransports) response.transports = r.getTransports();
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    };
  };
  for (const form of document.querySelectorAll('form[data-passkey]')) {
    const error = form.querySelector('[data-passkey-error]');
    form.addEventListener('submit', async event => {
      if (form.elements.public_key_credential.value) return;
      event.preventDefault();
      if (error) error.hidden = true;
      try {
        if (!window.PublicKeyCredential) throw new Error('This browser does not support passkeys.');
        const options = JSON.parse(form.dataset.options);
        options.challenge = toBytes(options.challenge);
        let cred;
        if (form.dataset.passkey === 'create') {
          options.user = { ...options.user, id: toBytes(options.user.id) };
          options.excludeCredentials = withIds(options.excludeCredentials);
          cred = await navigator.credentials.create({ publicKey: options });
        } else {
          options.allowCredentials = withIds(options.allowCredentials);
          cred = await navigator.credentials.get({ publicKey: options });
        }
        form.elements.public_key_credential.value = JSON.stringify(serialize(cred));
        form.submit();
      } catch (e) {
        if (error) {
          error.textContent = e && e.name === 'NotAllowedError'
            ? 'The passkey prompt was closed or timed out. Try again.'
            : `Passkeys did not work here: ${e && e.message ? e.message : e}`;
          error.hidden = false;
          error.focus();
        }
      }
    });
  }
})();
