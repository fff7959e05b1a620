// Shared by <usher-sign-in> and <usher-sign-up>: the "redirecting" and "already signed in" cards,
// and the step that asks for an emailed code.
import { UsherElement, app, card, h, signedIn, t } from './base.js';

export class FlowElement extends UsherElement {
  viewKey() { return JSON.stringify([this.s, app.state.loaded, signedIn(), !!app.state.env]); }
  finished(cls, title, target) {
    if (this.s.step === 'done') return card(cls, title, null, h('p', { role: 'status' }, t('redirecting')));
    if (!signedIn()) return null;
    return card(cls, title, t('signIn.alreadySignedIn'),
      h('a', { class: 'usher-button usher-primary usher-block', href: target() }, t('signIn.continue')));
  }
  codeStep(cls, title, subtitle, attempt, resendLabel, resend) {
    const err = this.s.form.error;
    const code = { inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '10' };
    return card(cls, title, subtitle, this.alert('form-alert', err),
      this.form('form', v => attempt((v.code || '').trim()),
        this.field('code', t('formFieldLabel__code'), code, err, this.id('form-alert')),
        this.submit(t('formButtonPrimary'), this.s.form.busy)),
      h('div', { class: 'usher-links' },
        this.linkButton('resend', resendLabel, () => this.run('form', resend)), this.extraLink && this.extraLink()));
  }
}
