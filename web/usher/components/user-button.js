// <usher-user-button>: the avatar, and a menu with "Manage account" and "Sign out".
import { UsherElement, app, h, t } from './base.js';

function initials(u) {
  const s = ((u.firstName || '').charAt(0) + (u.lastName || '').charAt(0)).toUpperCase();
  return s || (u.primaryEmailAddress ? u.primaryEmailAddress.emailAddress.charAt(0).toUpperCase() : '?');
}

export class UserButtonElement extends UsherElement {
  init() { return { open: false }; }
  viewKey() {
    const u = app.$user.get();
    const shown = u && [u.id, u.firstName, u.lastName, u.imageUrl, u.hasImage, String(u.primaryEmailAddress)];
    return JSON.stringify([this.s, shown || null]);
  }
  connectedCallback() {
    super.connectedCallback();
    // Close on a click elsewhere or Escape (keyboard users must be able to leave the menu).
    // composedPath() is fixed at dispatch: still right after a re-render detached the target.
    this._outside = e => this.s.open && !e.composedPath().includes(this) && this.setState({ open: false });
    this._escape = e =>
      e.key === 'Escape' && this.s.open && ((this._focus = '[data-k="trigger"]'), this.setState({ open: false }));
    document.addEventListener('click', this._outside);
    document.addEventListener('keydown', this._escape);
  }
  disconnectedCallback() {
    super.disconnectedCallback();
    document.removeEventListener('click', this._outside);
    document.removeEventListener('keydown', this._escape);
  }
  render() {
    const u = app.$user.get();
    if (!u) return document.createDocumentFragment();
    const email = u.primaryEmailAddress ? u.primaryEmailAddress.emailAddress : '';
    const menuId = this.id('menu');
    return h('div', { class: 'usher-ub' },
      h('button', {
        type: 'button', class: 'usher-avatar', 'data-k': 'trigger', 'aria-haspopup': 'menu',
        'aria-expanded': String(this.s.open), 'aria-controls': menuId,
        'aria-label': `${t('userButton.label')}: ${u.fullName || email}`, title: email,
        onclick: () => {
          if (!this.s.open) this._focus = '[role=menuitem]';
          this.setState({ open: !this.s.open });
        },
      }, u.hasImage && u.imageUrl ? h('img', { src: u.imageUrl, alt: '' }) : initials(u)),
      this.s.open ? this.menu(menuId, u, email) : null);
  }
  menu(id, u, email) {
    const signOut = () => app.signOut().catch(e => console.error(e));
    return h('div', { id, class: 'usher-menu', role: 'menu', onkeydown: e => this.arrows(e) },
      h('div', { class: 'usher-menu-head' },
        u.fullName ? h('strong', null, u.fullName, h('br')) : null, h('span', { class: 'usher-email' }, email)),
      h('a', { role: 'menuitem', href: app.buildUserProfileUrl(), 'data-k': 'manage' },
        t('userButton.action__manageAccount')),
      h('button', { type: 'button', role: 'menuitem', 'data-k': 'signout', onclick: signOut },
        t('userButton.action__signOut')));
  }
  arrows(e) {
    if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
    e.preventDefault();
    const items = Array.from(this.querySelectorAll('[role=menuitem]'));
    const i = items.indexOf(document.activeElement);
    items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
  }
}
