// <usher-sign-in>: email and password, an emailed code or link, or a forgotten password reset
// with an emailed code.
import { UsherError } from '../fapi.js';
import { app, card, finish, h, signedIn as signedInNow, t } from './base.js';
import { FlowElement } from './flow.js';
import { callbackUrl, isCallback, providerButtons } from './providers.js';

export class SignInElement extends FlowElement {
  init() { return { mode: 'password', step: 'start', identifier: '', safeId: '', form: {} }; }
  render() {
    const f = this.s.form;
    const cls = 'usher-sign-in';
    const done = this.finished(cls, t('signIn.start.title'), app.afterSignIn);
    if (done) return done;
    if (this.s.step === 'second') return this.secondFactorStep(cls);
    if (this.s.step === 'code') {
      const signIn = () => this.si || app.clerk.signIn;
      const subtitle = t('signIn.emailCode.subtitle', { identifier: this.s.safeId });
      return this.codeStep(cls, t('signIn.emailCode.title'), subtitle,
        async code => this.complete(await signIn().attemptFirstFactor({ strategy: 'email_code', code })),
        t('signIn.emailCode.resend'), () => this.sendCode(this.s.identifier));
    }
    if (this.s.step === 'reset') return this.resetStep(cls);
    if (this.s.step === 'link') {
      return card(cls, t('signIn.emailLink.title'), t('signIn.emailLink.subtitle', { identifier: this.s.safeId }),
        this.alert('form-alert', f.error),
        h('div', { class: 'usher-links' },
          this.linkButton('resend', t('signIn.emailLink.resend'), () => this.run('form', () => this.sendLink())),
          this.extraLink()));
    }
    const pw = this.s.mode === 'password';
    const sendLabel = { email_code: t('signIn.emailCode.send'), email_link: t('signIn.emailLink.send'),
      reset: t('signIn.forgotPassword.send') }[this.s.mode];
    const switchTo = mode => () => {
      const input = this.querySelector('input[name="identifier"]'); // keep the typed address
      this.setState({ mode, identifier: input ? input.value : '', form: {} });
    };
    const alertId = this.id('form-alert');
    const identifier = { type: 'email', autocomplete: 'username', required: true, value: this.s.identifier };
    const password = { type: 'password', autocomplete: 'current-password', required: true };
    return card(cls, t('signIn.start.title'), t('signIn.start.subtitle'), this.alert('form-alert', f.error),
      providerButtons(this, strategy => app.clerk.signIn.authenticateWithRedirect({
        strategy, redirectUrl: callbackUrl(), redirectUrlComplete: app.afterSignIn(),
      })),
      this.form('form', v => this.start(v),
        this.field('identifier', t('formFieldLabel__emailAddress'), identifier, f.error, alertId),
        pw ? this.field('password', t('formFieldLabel__password'), password, f.error, alertId) : null,
        this.submit(pw ? t('formButtonPrimary') : sendLabel, f.busy)),
      h('div', { class: 'usher-links' },
        this.linkButton(pw ? 'to-code' : 'to-password', pw ? t('signIn.emailCode.start') : t('signIn.password.start'),
          switchTo(pw ? 'email_code' : 'password')),
        this.s.mode !== 'email_link' ? this.linkButton('to-link', t('signIn.emailLink.start'), switchTo('email_link')) : null,
        this.s.mode !== 'reset'
          ? this.linkButton('forgot', t('formFieldAction__forgotPassword'), switchTo('reset')) : null,
        this.linkButton('passkey', t('signIn.passkey.start'), () => this.run('form', () => this.passkey()))),
      h('p', { class: 'usher-foot' }, t('signIn.start.actionText') + ' ',
        h('a', { href: app.withRedirect(app.signUpBase(), app.requestedRedirect()) }, t('signIn.start.actionLink'))));
  }
  connectedCallback() {
    super.connectedCallback();
    // Back from a provider with more to do: a second factor (shown here) or a transfer to a
    // sign-up (handleRedirectCallback), once the client is loaded.
    if (isCallback() && !this._callbackHandled) {
      this._callbackHandled = true;
      app.clerk.load().then(() => this.run('form', () => this.afterProvider()));
    }
  }
  async afterProvider() {
    const si = app.clerk.client && app.clerk.client.signIn;
    if (si && si.status === 'needs_second_factor') return this.complete(si);
    if (signedInNow()) return;
    this.s.step = 'done';
    try {
      await app.clerk.handleRedirectCallback({ redirectUrl: app.afterSignIn() });
    } catch (e) {
      this.s.step = 'start';
      throw e;
    }
  }
  extraLink() {
    return this.linkButton('to-password', t('signIn.password.start'), () => {
      if (this.flow) this.flow.cancelEmailLinkFlow();
      this.setState({ mode: 'password', step: 'start', form: {} });
    });
  }
  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.flow) this.flow.cancelEmailLinkFlow();
  }
  resetStep(cls) {
    const err = this.s.form.error;
    const alertId = this.id('form-alert');
    const code = { inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '10' };
    const password = { type: 'password', autocomplete: 'new-password', required: true };
    return card(cls, t('signIn.resetPassword.title'), t('signIn.resetPassword.subtitle', { identifier: this.s.safeId }),
      this.alert('form-alert', err),
      this.form('form', v => this.resetPassword(v),
        this.field('code', t('formFieldLabel__code'), code, err, alertId),
        this.field('password', t('formFieldLabel__newPassword'), password, err, alertId),
        h('div', { class: 'usher-check' },
          h('input', { type: 'checkbox', id: this.id('signout-others'), name: 'sign_out_of_other_sessions',
            checked: true }),
          h('label', { for: this.id('signout-others') }, t('formFieldLabel__signOutOfOtherSessions'))),
        this.submit(t('signIn.resetPassword.submit'), this.s.form.busy)),
      h('div', { class: 'usher-links' },
        this.linkButton('resend', t('signIn.emailCode.resend'), () => this.run('form', () => this.sendReset())),
        this.extraLink()));
  }
  /** Starts a `reset_password_email_code` sign-in (unless resending) and mails the code. */
  async sendReset() {
    let si = this.si;
    if (!si || !si.id || this.s.step !== 'reset') {
      // Creating it with the strategy mails the code (as with Clerk).
      si = await app.clerk.signIn.create({ strategy: 'reset_password_email_code', identifier: this.s.identifier });
    } else {
      const f = si.supportedFirstFactors.find(x => x.strategy === 'reset_password_email_code');
      si = await si.prepareFirstFactor({ strategy: 'reset_password_email_code', emailAddressId: f && f.emailAddressId });
    }
    this.si = si;
    const factor = si.supportedFirstFactors.find(x => x.strategy === 'reset_password_email_code');
    this._focus = 'input[name="code"]';
    this._discard = ['code', 'password'];
    Object.assign(this.s, { step: 'reset', safeId: (factor && factor.safeIdentifier) || this.s.identifier });
  }
  async resetPassword(v) {
    let si = this.si;
    if (si.status !== 'needs_new_password') {
      si = this.si = await si.attemptFirstFactor({ strategy: 'reset_password_email_code', code: (v.code || '').trim() });
    }
    await this.complete(await si.resetPassword({
      password: v.password, signOutOfOtherSessions: !!v.sign_out_of_other_sessions,
    }));
  }
  /** Starts a sign-in (unless resending), mails a link and waits for it to be opened. */
  async sendLink() {
    let si = this.si;
    if (!si || !si.id || this.s.step !== 'link') si = await app.clerk.signIn.create({ identifier: this.s.identifier });
    this.si = si;
    const factor = si.supportedFirstFactors.find(x => x.strategy === 'email_link');
    if (this.flow) this.flow.cancelEmailLinkFlow();
    const flow = (this.flow = si.createEmailLinkFlow());
    const waiting = flow.startEmailLinkFlow({ emailAddressId: factor && factor.emailAddressId,
      redirectUrl: window.location.href });
    // The prepare call has answered once the flow starts reading; show the waiting card at once.
    Object.assign(this.s, { step: 'link', safeId: (factor && factor.safeIdentifier) || this.s.identifier });
    this.update();
    waiting.then(done => {
      if (flow !== this.flow) return;
      if (done.firstFactorVerification && done.firstFactorVerification.status === 'expired') {
        const info = app.errorInfo(new UsherError('expired', { errors: [{ code: 'verification_expired' }] }));
        this.setState({ form: { error: info } });
        return;
      }
      this.run('form', () => this.complete(done));
    }, err => this.setState({ form: { error: app.errorInfo(err) } }));
  }
  async start(v) {
    const identifier = (this.s.identifier = (v.identifier || '').trim());
    if (this.s.mode === 'reset') return this.sendReset();
    if (this.s.mode === 'email_link') return this.sendLink();
    if (this.s.mode !== 'password') return this.sendCode(identifier);
    let si = await app.clerk.signIn.create({ strategy: 'password', identifier, password: v.password });
    if (si.status === 'needs_first_factor') {
      si = await si.attemptFirstFactor({ strategy: 'password', password: v.password });
    }
    await this.complete(si);
  }
  /** A passkey (a discoverable credential: it names the account, nothing is typed). */
  async passkey() {
    await this.complete(await app.clerk.signIn.authenticateWithPasskey({ flow: 'discoverable' }));
  }
  /** Creates the sign-in (unless resending) and mails a code to the email_code factor's address. */
  async sendCode(identifier) {
    let si = this.si || app.clerk.signIn;
    if (!si.id || this.s.step !== 'code') si = await app.clerk.signIn.create({ identifier });
    const factor = si.supportedFirstFactors.find(x => x.strategy === 'email_code');
    this.si = await si.prepareFirstFactor({ strategy: 'email_code', emailAddressId: factor && factor.emailAddressId });
    this._focus = 'input[name="code"]';
    this._discard = ['code'];
    Object.assign(this.s, { step: 'code', safeId: (factor && factor.safeIdentifier) || identifier });
  }
  /** The second factor: a code from the authenticator app, or a backup code. */
  secondFactorStep(cls) {
    const err = this.s.form.error;
    const backup = this.s.factor === 'backup_code';
    const attrs = backup
      ? { autocomplete: 'one-time-code', required: true, maxlength: '64' }
      : { inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '10' };
    const label = backup ? t('formFieldLabel__backupCode') : t('formFieldLabel__totpCode');
    const subtitle = backup ? t('signIn.backupCodeMfa.subtitle') : t('signIn.totpMfa.subtitle');
    const other = backup ? 'totp' : 'backup_code';
    const offered = (this.si.supportedSecondFactors || []).some(f => f.strategy === other);
    return card(cls, t('signIn.totpMfa.title'), subtitle, this.alert('form-alert', err),
      this.form('form', v => this.attemptSecond((v.code || '').trim()),
        this.field('code', label, attrs, err, this.id('form-alert')),
        this.submit(t('formButtonPrimary'), this.s.form.busy)),
      h('div', { class: 'usher-links' }, offered
        ? this.linkButton('to-' + other, backup ? t('signIn.backupCodeMfa.useTotp') : t('signIn.totpMfa.useBackupCode'),
          () => { this._discard = ['code']; this.setState({ factor: other, form: {} }); })
        : null));
  }
  async attemptSecond(code) {
    this._discard = ['code'];
    await this.complete(await this.si.attemptSecondFactor({ strategy: this.s.factor, code }));
  }
  async complete(si) {
    if (si.status === 'needs_second_factor') {
      // The first factor was right; the account asks for its second (totp first, as Clerk offers it).
      this.si = si;
      const factors = si.supportedSecondFactors.map(f => f.strategy);
      this._focus = 'input[name="code"]';
      Object.assign(this.s, { step: 'second', factor: factors.includes('totp') ? 'totp' : factors[0] });
      return;
    }
    if (si.status !== 'complete' || !si.createdSessionId) throw new UsherError(t('unstable__errors.unexpected'));
    this.s.step = 'done';
    await finish(si.createdSessionId, app.afterSignIn());
  }
}
