// <usher-sign-up>: names, email and password, then the emailed code (or an emailed link).
import { UsherError } from '../fapi.js';
import { app, card, finish, h, t } from './base.js';
import { FlowElement } from './flow.js';
import { callbackUrl, isCallback, providerButtons } from './providers.js';

export class SignUpElement extends FlowElement {
  init() { return { step: 'start', email: '', form: {} }; }
  render() {
    const f = this.s.form;
    const cls = 'usher-sign-up';
    const done = this.finished(cls, t('signUp.start.title'), app.afterSignUp);
    if (done) return done;
    if (this.s.step === 'link') {
      return card(cls, t('signIn.emailLink.title'), t('signUp.emailLink.subtitle', { emailAddress: this.s.email }),
        this.alert('form-alert', f.error),
        h('div', { class: 'usher-links' },
          this.linkButton('resend', t('signIn.emailLink.resend'), () => this.run('form', () => this.sendLink()))));
    }
    if (this.s.step === 'verify') {
      const signUp = () => this.su || app.clerk.signUp;
      const subtitle = t('signUp.emailCode.subtitle', { emailAddress: this.s.email });
      return this.codeStep(cls, t('signUp.emailCode.title'), subtitle,
        async code => this.complete(await signUp().attemptEmailAddressVerification({ code })),
        t('signUp.emailCode.resend'), () => signUp().prepareEmailAddressVerification());
    }
    const opt = t('formFieldHintText__optional');
    const alertId = this.id('form-alert');
    const email = { type: 'email', autocomplete: 'email', required: true, value: this.s.email };
    const password = { type: 'password', autocomplete: 'new-password', required: true };
    return card(cls, t('signUp.start.title'), t('signUp.start.subtitle'), this.alert('form-alert', f.error),
      providerButtons(this, strategy => app.clerk.signUp.authenticateWithRedirect({
        strategy, redirectUrl: callbackUrl(), redirectUrlComplete: app.afterSignUp(),
      })),
      this.form('form', v => this.start(v),
        this.field('first_name', t('formFieldLabel__firstName'), { autocomplete: 'given-name' }, f.error, alertId, opt),
        this.field('last_name', t('formFieldLabel__lastName'), { autocomplete: 'family-name' }, f.error, alertId, opt),
        this.field('email_address', t('formFieldLabel__emailAddress'), email, f.error, alertId),
        this.field('password', t('formFieldLabel__password'), password, f.error, alertId),
        this.submit(t('formButtonPrimary'), f.busy)),
      h('p', { class: 'usher-foot' }, t('signUp.start.actionText') + ' ',
        h('a', { href: app.withRedirect(app.signInBase(), app.requestedRedirect()) }, t('signUp.start.actionLink'))));
  }
  async start(v) {
    this.s.email = (v.email_address || '').trim();
    const su = await app.clerk.signUp.create({
      emailAddress: this.s.email, password: v.password,
      firstName: (v.first_name || '').trim() || undefined, lastName: (v.last_name || '').trim() || undefined,
    });
    if (su.status === 'complete') return this.complete(su);
    this.su = await su.prepareEmailAddressVerification({ strategy: 'email_code' });
    this._focus = 'input[name="code"]';
    this.s.step = 'verify';
  }
  connectedCallback() {
    super.connectedCallback();
    // Back from a provider without a session (its address was not verified, say): say why.
    if (isCallback() && !this._callbackHandled) {
      this._callbackHandled = true;
      app.clerk.load().then(() => this.run('form', () => app.clerk.handleRedirectCallback({
        redirectUrl: app.afterSignUp(),
      })));
    }
  }
  extraLink() {
    return this.linkButton('to-link', t('signUp.emailLink.start'), () => this.run('form', () => this.sendLink()));
  }
  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.flow) this.flow.cancelEmailLinkFlow();
  }
  /** Mails a link instead of a code and waits for it to be opened. */
  async sendLink() {
    const su = this.su || app.clerk.signUp;
    if (this.flow) this.flow.cancelEmailLinkFlow();
    const flow = (this.flow = su.createEmailLinkFlow());
    const waiting = flow.startEmailLinkFlow({ redirectUrl: window.location.href });
    this.s.step = 'link';
    this.update();
    waiting.then(done => {
      if (flow !== this.flow) return;
      const v = done.verifications.emailAddress;
      if (v && v.status === 'expired') {
        const info = app.errorInfo(new UsherError('expired', { errors: [{ code: 'verification_expired' }] }));
        this.setState({ form: { error: info } });
        return;
      }
      this.run('form', () => this.complete(done));
    }, err => this.setState({ form: { error: app.errorInfo(err) } }));
  }
  async complete(su) {
    if (su.status !== 'complete' || !su.createdSessionId) {
      const missing = su.missingFields.concat(su.unverifiedFields).join(', ');
      throw new UsherError(t('unstable__errors.unexpected') + (missing ? ` (${missing})` : ''));
    }
    this.s.step = 'done';
    await finish(su.createdSessionId, app.afterSignUp());
  }
}
