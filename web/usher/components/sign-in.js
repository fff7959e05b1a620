// <usher-sign-in>: email and password, or an emailed code.
import { UsherError } from '../fapi.js';
import { app, card, finish, h, t } from './base.js';
import { FlowElement } from './flow.js';

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
    const pw = this.s.mode === 'password';
    const alertId = this.id('form-alert');
    const identifier = { type: 'email', autocomplete: 'username', required: true, value: this.s.identifier };
    const password = { type: 'password', autocomplete: 'current-password', required: true };
    return card(cls, t('signIn.start.title'), t('signIn.start.subtitle'), this.alert('form-alert', f.error),
      this.form('form', v => this.start(v),
        this.field('identifier', t('formFieldLabel__emailAddress'), identifier, f.error, alertId),
        pw ? this.field('password', t('formFieldLabel__password'), password, f.error, alertId) : null,
        this.submit(pw ? t('formButtonPrimary') : t('signIn.emailCode.send'), f.busy)),
      h('div', { class: 'usher-links' },
        this.linkButton(pw ? 'to-code' : 'to-password', pw ? t('signIn.emailCode.start') : t('signIn.password.start'),
          () => {
            const input = this.querySelector('input[name="identifier"]'); // keep the typed address
            this.setState({ mode: pw ? 'email_code' : 'password', identifier: input ? input.value : '', form: {} });
          })),
      h('p', { class: 'usher-foot' }, t('signIn.start.actionText') + ' ',
        h('a', { href: app.withRedirect(app.signUpBase(), app.requestedRedirect()) }, t('signIn.start.actionLink'))));
  }
  extraLink() {
    return this.linkButton('to-password', t('signIn.password.start'),
      () => this.setState({ mode: 'password', step: 'start', form: {} }));
  }
  async start(v) {
    const identifier = (this.s.identifier = (v.identifier || '').trim());
    if (this.s.mode !== 'password') return this.sendCode(identifier);
    let si = await app.clerk.signIn.create({ strategy: 'password', identifier, password: v.password });
    if (si.status === 'needs_first_factor') {
      si = await si.attemptFirstFactor({ strategy: 'password', password: v.password });
    }
    await this.complete(si);
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
