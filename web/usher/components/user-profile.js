// <usher-user-profile>: names, email addresses, password and active sessions of the signed-in user.
import { UsherElement, app, card, h, t } from './base.js';

const CODE = { inputmode: 'numeric', autocomplete: 'one-time-code', required: true };
const badge = text => h('span', { class: 'usher-badge' }, text);

export class UserProfileElement extends UsherElement {
  init() {
    return {
      profile: {}, emails: { pending: null }, password: {}, mfa: { pending: null, codes: null }, passkeys: {},
      sessions: { list: null }, sessionsFor: null,
    };
  }
  viewKey() {
    const user = app.$user.get() ? app.$user.key() : null;
    return JSON.stringify([this.s, app.state.loaded, user, app.state.session && app.state.session.id]);
  }
  update() {
    const u = app.$user.get();
    if (u && this.s.sessionsFor !== u.id) {
      this.s.sessionsFor = u.id; // a (new) user: fetch their sessions once
      this.loadSessions();
    }
    super.update();
  }
  loadSessions() {
    const u = app.$user.get();
    if (!u) return;
    const brief = s => ({ id: s.id, at: s.lastActiveAt && s.lastActiveAt.getTime() });
    u.getSessions().then(
      list => this.setState({ sessions: { list: list.map(brief) } }),
      err => this.setState({ sessions: { list: this.s.sessions.list, error: app.errorInfo(err) } }));
  }
  /** A titled section with its own alert and success status. */
  section(key, title, ...kids) {
    const sec = this.s[key];
    return h('section', { class: 'usher-section', 'aria-labelledby': this.id('h-' + key) },
      h('h3', { id: this.id('h-' + key) }, title), this.alert(key + '-alert', sec.error),
      sec.ok ? h('p', { class: 'usher-status', role: 'status' }, sec.ok) : null, kids);
  }
  button(key, label, section, primary) {
    const cls = 'usher-button' + (primary ? ' usher-primary' : '');
    return h('button', { type: 'submit', class: cls, 'data-k': key, disabled: !!this.s[section].busy }, label);
  }
  render() {
    const u = app.$user.get();
    if (!app.state.loaded && !u) return h('p', { role: 'status' }, t('loading'));
    if (!u) {
      return card('usher-profile', t('userProfile.title'), t('userProfile.signedOut'),
        h('a', { class: 'usher-button usher-primary', href: app.buildSignInUrl() }, t('signInButton')));
    }
    return card('usher-profile', t('userProfile.title'), null,
      this.profileSection(u), this.emailsSection(u), this.passwordSection(u), this.mfaSection(u),
      this.passkeysSection(u), this.sessionsSection());
  }
  profileSection(u) {
    const err = this.s.profile.error;
    const alertId = this.id('profile-alert');
    return this.section('profile', t('userProfile.profileSection.title'),
      this.form('profile', v => this.saveProfile(v),
        this.field('first_name', t('formFieldLabel__firstName'),
          { autocomplete: 'given-name', value: u.firstName || '' }, err, alertId),
        this.field('last_name', t('formFieldLabel__lastName'),
          { autocomplete: 'family-name', value: u.lastName || '' }, err, alertId),
        this.button('save-profile', t('userProfile.profileSection.save'), 'profile', true)));
  }
  emailsSection(u) {
    const S = this.s;
    const alertId = this.id('emails-alert');
    const unverified = e => [badge(t('userProfile.emailAddressesSection.unverified')), ' ', S.emails.pending === e.id
      ? null
      : this.linkButton('verify-' + e.id, t('userProfile.emailAddressesSection.verify'),
        () => this.run('emails', () => this.prepareEmail(e)))];
    return this.section('emails', t('userProfile.emailAddressesSection.title'),
      h('ul', { class: 'usher-list' }, u.emailAddresses.map(e => h('li', { class: 'usher-row' },
        h('span', null, e.emailAddress),
        h('span', null, e.id === u.primaryEmailAddressId ? badge(t('userProfile.emailAddressesSection.primary')) : null,
          e.verification && e.verification.status !== 'verified' ? unverified(e) : null)))),
      S.emails.pending
        ? this.form('emails', v => this.verifyEmail((v.email_code || '').trim()),
          this.field('email_code', t('formFieldLabel__code'), CODE, S.emails.error, alertId),
          this.button('verify-email', t('userProfile.emailAddressesSection.verify'), 'emails', true))
        : this.form('emails', v => this.addEmail((v.email_address || '').trim()),
          this.field('email_address', t('formFieldLabel__emailAddress'),
            { type: 'email', autocomplete: 'email', required: true }, S.emails.error, alertId),
          this.button('add-email', t('userProfile.emailAddressesSection.add'), 'emails')));
  }
  passwordSection(u) {
    const err = this.s.password.error;
    const alertId = this.id('password-alert');
    return this.section('password', t('userProfile.passwordSection.title'),
      this.form('password', v => this.changePassword(v),
        // The account name, for password managers (they pair it with the new password).
        h('input', {
          type: 'text', name: 'username', autocomplete: 'username', value: String(u.primaryEmailAddress || ''),
          hidden: true, 'aria-hidden': 'true', tabindex: '-1',
        }),
        u.passwordEnabled
          ? this.field('current_password', t('formFieldLabel__currentPassword'),
            { type: 'password', autocomplete: 'current-password', required: true }, err, alertId)
          : null,
        this.field('new_password', t('formFieldLabel__newPassword'),
          { type: 'password', autocomplete: 'new-password', required: true }, err, alertId),
        h('div', { class: 'usher-check' },
          h('input',
            { type: 'checkbox', id: this.id('signout-others'), name: 'sign_out_of_other_sessions', checked: true }),
          h('label', { for: this.id('signout-others') }, t('formFieldLabel__signOutOfOtherSessions'))),
        this.button('save-password', t('userProfile.passwordSection.submit'), 'password', true)));
  }
  /** Two-step verification: set up an authenticator app (key and otpauth link), or manage it. */
  mfaSection(u) {
    const S = this.s.mfa;
    const act = (key, label, fn, cls = 'usher-button') =>
      h('button', { type: 'button', class: cls, 'data-k': key, disabled: !!S.busy, onclick: () => this.run('mfa', fn) },
        label);
    const codes = S.codes
      ? h('div', { class: 'usher-status', role: 'status' }, h('p', null, t('userProfile.mfaSection.saveCodes')),
        h('ol', { 'data-backup-codes': '' }, S.codes.map(c => h('li', null, h('code', null, c)))))
      : null;
    let body;
    if (u.totpEnabled) {
      body = [h('p', null, badge(t('userProfile.mfaSection.on'))), codes,
        h('div', { class: 'usher-row' },
          act('new-codes', t('userProfile.mfaSection.newCodes'), () => this.newBackupCodes()),
          act('remove-totp', t('userProfile.mfaSection.remove'), () => this.removeTotp()))];
    } else if (S.pending) {
      body = [h('p', null, t('userProfile.mfaSection.scan')),
        h('p', null, h('code', { 'data-totp-secret': '' }, S.pending.secret)),
        h('p', null, h('a', { href: S.pending.uri }, t('userProfile.mfaSection.openApp'))),
        this.form('mfa', v => this.enableTotp((v.totp_code || '').trim()),
          this.field('totp_code', t('formFieldLabel__totpCode'), CODE, S.error, this.id('mfa-alert')),
          this.button('enable-totp', t('userProfile.mfaSection.enable'), 'mfa', true))];
    } else {
      body = [act('start-totp', t('userProfile.mfaSection.start'), () => this.startTotp())];
    }
    return this.section('mfa', t('userProfile.mfaSection.title'), body);
  }
  /** Passkeys: the list (remove each) and "Add a passkey" (the browser's own prompt). */
  passkeysSection(u) {
    const S = this.s.passkeys;
    const used = p => p.lastUsedAt
      ? t('userProfile.passkeysSection.lastUsed', { time: p.lastUsedAt.toLocaleString() })
      : t('userProfile.passkeysSection.never');
    return this.section('passkeys', t('userProfile.passkeysSection.title'),
      h('ul', { class: 'usher-list' }, u.passkeys.map(p =>
        h('li', { class: 'usher-row', 'data-passkey-id': p.id },
          h('span', null, p.name, ' ', h('small', null, used(p))),
          h('button', { type: 'button', class: 'usher-button', 'data-k': 'remove-passkey-' + p.id, disabled: !!S.busy,
            onclick: () => this.run('passkeys', () => this.removePasskey(p)) }, t('userProfile.passkeysSection.remove'))))),
      h('button', { type: 'button', class: 'usher-button', 'data-k': 'add-passkey', disabled: !!S.busy,
        onclick: () => this.run('passkeys', () => this.addPasskey()) }, t('userProfile.passkeysSection.add')));
  }
  async addPasskey() {
    await app.$user.get().createPasskey();
    this.s.passkeys = { ok: t('userProfile.passkeysSection.added') };
  }
  async removePasskey(p) {
    await p.delete();
    this.s.passkeys = { ok: t('userProfile.passkeysSection.removed') };
  }
  sessionsSection() {
    const current = app.state.session && app.state.session.id;
    const lastActive = s => t('userProfile.sessionsSection.lastActive', { time: new Date(s.at).toLocaleString() });
    const revoke = s => h('button', {
      type: 'button', class: 'usher-button', 'data-k': 'revoke-' + s.id,
      onclick: () => this.run('sessions', () => this.revoke(s.id)),
    }, t('userProfile.sessionsSection.revoke'));
    return this.section('sessions', t('userProfile.sessionsSection.title'),
      h('ul', { class: 'usher-list' }, (this.s.sessions.list || []).map(s =>
        h('li', { class: 'usher-row', 'data-session-id': s.id },
          h('span', null, s.at ? lastActive(s) : s.id),
          s.id === current ? badge(t('userProfile.sessionsSection.current')) : revoke(s)))),
      h('button', { type: 'button', class: 'usher-button', 'data-k': 'signout',
        onclick: () => app.signOut().catch(e => console.error(e)) }, t('signOutButton')));
  }
  async saveProfile(v) {
    await app.$user.get().update({ firstName: v.first_name.trim(), lastName: v.last_name.trim() });
    this._discard = ['first_name', 'last_name'];
    this.s.profile = { ok: t('userProfile.profileSection.saved') };
  }
  async changePassword(v) {
    const others = !!v.sign_out_of_other_sessions;
    await app.$user.get().updatePassword({
      currentPassword: v.current_password, newPassword: v.new_password, signOutOfOtherSessions: others,
    });
    this._discard = ['current_password', 'new_password'];
    this.s.password = { ok: t('userProfile.passwordSection.updated') };
    if (others) this.loadSessions();
  }
  async addEmail(email) {
    await this.prepareEmail(await app.$user.get().createEmailAddress({ email }));
    this._discard = ['email_address'];
  }
  async prepareEmail(e) {
    await e.prepareVerification({ strategy: 'email_code' });
    this._focus = 'input[name="email_code"]';
    this.s.emails = { pending: e.id };
  }
  async verifyEmail(code) {
    await app.resources.toEmail({ id: this.s.emails.pending }).attemptVerification({ code });
    this._discard = ['email_code'];
    this.s.emails = { pending: null, ok: t('userProfile.emailAddressesSection.verified') };
  }
  async startTotp() {
    const totp = await app.$user.get().createTOTP();
    this._focus = 'input[name="totp_code"]';
    this.s.mfa = { pending: { secret: totp.secret, uri: totp.uri }, codes: null };
  }
  async enableTotp(code) {
    const totp = await app.$user.get().verifyTOTP({ code });
    this._discard = ['totp_code'];
    this.s.mfa = { pending: null, codes: totp.backupCodes || [] };
  }
  async newBackupCodes() {
    const codes = await app.$user.get().createBackupCode();
    this.s.mfa = { pending: null, codes: codes.codes };
  }
  async removeTotp() {
    await app.$user.get().disableTOTP();
    this.s.mfa = { pending: null, codes: null, ok: t('userProfile.mfaSection.removed') };
  }
  async revoke(id) {
    await app.resources.toSession({ id }).revoke();
    this.loadSessions();
  }
}
