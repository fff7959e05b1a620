// WebAuthn for usher.js: turns the server's options JSON (a passkey's or a sign-in's `nonce`)
// into navigator.credentials calls and the browser's answer back into the JSON the Frontend API
// takes, as clerk-js does. The browser is touched only when called: importable in Node.

const toBytes = s => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/')), c => c.charCodeAt(0));

function toText(buf) {
  let s = '';
  for (const b of new Uint8Array(buf)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const withIds = list => (list || []).map(c => ({ ...c, id: toBytes(c.id) }));

/** The credential as JSON text (the shape of PublicKeyCredential.toJSON()). */
export function serialize(cred) {
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
  return JSON.stringify({
    id: cred.id, rawId: toText(cred.rawId), type: cred.type, response,
    authenticatorAttachment: cred.authenticatorAttachment || null,
    clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
  });
}

/** Whether this browser can use passkeys at all. */
export const isSupported = () => typeof window !== 'undefined' && !!window.PublicKeyCredential;

/** `navigator.credentials.create()` for creation options JSON; the answer as JSON text. */
export async function createCredential(json) {
  const options = { ...json, challenge: toBytes(json.challenge), user: { ...json.user, id: toBytes(json.user.id) },
    excludeCredentials: withIds(json.excludeCredentials) };
  return serialize(await navigator.credentials.create({ publicKey: options }));
}

/** `navigator.credentials.get()` for request options JSON; the answer as JSON text. */
export async function getCredential(json) {
  const options = { ...json, challenge: toBytes(json.challenge), allowCredentials: withIds(json.allowCredentials) };
  return serialize(await navigator.credentials.get({ publicKey: options }));
}
