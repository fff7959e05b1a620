// The control components: <usher-signed-in>, <usher-signed-out>, <usher-protect>, and the
// <usher-sign-in-button>, <usher-sign-up-button>, <usher-sign-out-button> buttons.
import { app, h, injectStyles, t } from './base.js';

/** Before load, the server's initial state decides; with neither, stay hidden (no flash). */
const known = () => app.state.loaded || app.initialState !== undefined;

class Conditional extends HTMLElement {
  connectedCallback() {
    injectStyles();
    this._off = app.onRender(() => this.sync());
    this.sync();
  }
  disconnectedCallback() {
    if (this._off) this._off();
  }
}

export class SignedInElement extends Conditional {
  sync() { this.hidden = !(known() && !!app.$auth.get().userId); }
}

export class SignedOutElement extends Conditional {
  sync() { this.hidden = !(known() && !app.$auth.get().userId); }
}

/** Shadow DOM with two slots: unassigned children are not rendered, text nodes included. */
export class ProtectElement extends Conditional {
  static get observedAttributes() { return ['role', 'permission']; }
  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.main = document.createElement('slot');
    this.fallback = document.createElement('slot');
    this.fallback.name = 'fallback';
    this.shown = undefined;
  }
  attributeChangedCallback() { if (this.isConnected) this.sync(); }
  sync() {
    const a = app.$auth.get();
    const role = this.getAttribute('role');
    const perm = this.getAttribute('permission');
    // Clerk's <Protect>: signed in, and with a role or permission, has() decides.
    const ok = !!a.userId && (!role && !perm ? true : a.has(Object.assign({}, role ? { role } : {}, perm ? { permission: perm } : {})));
    const show = !known() ? null : ok ? this.main : this.fallback;
    if (show === this.shown) return;
    this.shown = show;
    this.root.replaceChildren(...(show ? [show] : []));
  }
}

/** A button element class: `labelKey` from the strings, `act(redirectUrlAttribute)` on click. */
function actionButton(labelKey, cls, act) {
  return class extends Conditional {
    connectedCallback() {
      if (!this._init) {
        this._init = true;
        this._custom = this.children.length > 0; // the page supplied its own clickable content
        this.addEventListener('click', e => {
          e.preventDefault();
          Promise.resolve(act(this.getAttribute('redirect-url'))).catch(err => console.error(err));
        });
      }
      super.connectedCallback();
    }
    sync() {
      const label = t(labelKey);
      if (this._custom || label === this._label) return;
      this._label = label;
      this.replaceChildren(h('button', { type: 'button', class: 'usher-button ' + cls }, label));
    }
  };
}

export const SignInButton = actionButton('signInButton', 'usher-primary',
  r => app.navigate(app.buildSignInUrl({ redirectUrl: r || location.href })));
export const SignUpButton = actionButton('signUpButton', '',
  r => app.navigate(app.buildSignUpUrl({ redirectUrl: r || location.href })));
export const SignOutButton = actionButton('signOutButton', '', r => app.signOut(r ? { redirectUrl: r } : {}));
