// What every component shares: the running instance, the DOM builder, the styles and the base
// class of the rendering components.
import { UsherError } from '../fapi.js';
import { CSS } from './styles.js';

/**
 * The running instance (stores, client state, text, URLs, the client object). usher.js provides
 * it before it defines the elements; elements only read it once connected.
 */
export let app = null;
export function provide(instance) {
  app = instance;
}
export const t = (key, vars) => app.t(key, vars);

export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'checked') el.defaultChecked = el.checked = true;
    else el.setAttribute(k, v === true ? '' : v); // `value` sets defaultValue: lets us spot edits
  }
  for (const kid of kids.flat(Infinity)) if (kid != null && kid !== false) el.append(kid.nodeType ? kid : String(kid));
  return el;
}

let styled = false;
export function injectStyles() {
  if (styled) return;
  styled = true;
  document.head.appendChild(h('style', { id: 'usher-styles' }, CSS));
}

export const card = (cls, title, sub, ...kids) =>
  h('div', { class: 'usher-card ' + cls }, h('h2', null, title), sub ? h('p', { class: 'usher-sub' }, sub) : null,
    kids);
const formValues = ev => Object.fromEntries(new FormData(ev.target).entries());
export const signedIn = () => !!app.$auth.get().userId;

/** After a completed sign-in or sign-up: make the session active (token + cookie), then go on. */
export async function finish(sessionId, target) {
  await app.setActive({ session: sessionId });
  app.navigate(target);
}

let uid = 0;
/**
 * Base of the rendering components: a re-render replaces the children, so it keeps what the user
 * typed (inputs whose value differs from the rendered default) and the focus. Re-renders happen
 * only when viewKey() changes, i.e. not on every token refresh.
 */
export class UsherElement extends HTMLElement {
  constructor() {
    super();
    this.uid = 'usher' + ++uid;
    this.s = this.init ? this.init() : {};
    this._key = null;
    this._focus = null; // selector to focus after the next paint
    this._discard = null; // input names whose edits to drop on the next paint (true: all)
  }
  connectedCallback() {
    injectStyles();
    this._off = app.onRender(() => this.update());
    this._key = null;
    this.update();
  }
  disconnectedCallback() {
    if (this._off) this._off();
  }
  setState(patch) {
    Object.assign(this.s, patch);
    this.update();
  }
  update() {
    const key = app.textVersion() + '|' + this.viewKey();
    if (key === this._key) return;
    this._key = key;
    const edits = {};
    for (const el of this.querySelectorAll('input')) {
      if (!el.name || this._discard === true || (this._discard && this._discard.includes(el.name))) continue;
      const box = el.type === 'checkbox';
      const edited = box ? el.checked !== el.defaultChecked : el.value !== el.defaultValue;
      if (edited) edits[el.name] = box ? el.checked : el.value;
    }
    this._discard = null;
    const act = document.activeElement;
    const focusKey = act && this.contains(act) ? act.getAttribute('name') || act.getAttribute('data-k') : null;
    const sel = act && typeof act.selectionStart === 'number' ? [act.selectionStart, act.selectionEnd] : null;
    this.replaceChildren(this.render());
    for (const [name, v] of Object.entries(edits)) {
      const el = this.querySelector(`input[name="${name}"]`);
      if (el) el.type === 'checkbox' ? (el.checked = v) : (el.value = v);
    }
    let target = null;
    const explicit = !!this._focus;
    if (explicit) target = this.querySelector(this._focus);
    else if (focusKey) target = this.querySelector(`[name="${focusKey}"],[data-k="${focusKey}"]`);
    this._focus = null;
    if (target) {
      target.focus();
      if (sel && !explicit && target.setSelectionRange && /text|email|password|search/.test(target.type)) {
        try { target.setSelectionRange(sel[0], sel[1]); } catch (e) { /* not selectable */ }
      }
    }
  }
  id(x) { return this.uid + '-' + x; }
  /** A labelled input; `err` marks it invalid and points it at the alert. */
  field(name, label, attrs, err, alertId, hint) {
    const id = this.id(name);
    const invalid = !!(err && err.param === name);
    return h('div', { class: 'usher-field' },
      h('label', { for: id }, label, hint ? h('span', { class: 'usher-hint' }, ' (' + hint + ')') : null),
      h('input', Object.assign({
        id, name, class: 'usher-input', 'aria-invalid': invalid ? 'true' : null,
        'aria-describedby': invalid ? alertId : null,
      }, attrs)));
  }
  /** The live region: always `role="alert"`, hidden while empty. */
  alert(key, err) {
    return h('div', {
      id: this.id(key), class: 'usher-alert', role: 'alert', 'aria-live': 'assertive', tabindex: '-1', hidden: !err,
    }, err ? err.message : '');
  }
  /** Runs an async action with busy state; on failure shows the error and moves focus to it. */
  async run(section, fn) {
    const sec = Object.assign({}, this.s[section], { busy: true, error: null, ok: null });
    this.setState({ [section]: sec });
    try {
      await fn();
      this.setState({ [section]: Object.assign({}, this.s[section], { busy: false }) });
    } catch (err) {
      if (!(err instanceof UsherError)) console.error(err);
      const info = app.errorInfo(err);
      const hasInput = info.param && this.querySelector(`input[name="${info.param}"]`);
      this._focus = hasInput ? `input[name="${info.param}"]` : '#' + this.id(section + '-alert');
      this.setState({ [section]: Object.assign({}, this.s[section], { busy: false, error: info }) });
    }
  }
  submit(label, busy) {
    return h('button', {
      type: 'submit', class: 'usher-button usher-primary usher-block', 'data-k': 'submit', disabled: !!busy,
      'aria-busy': busy ? 'true' : null,
    }, label);
  }
  linkButton(key, label, onclick) {
    return h('button', { type: 'button', class: 'usher-link', 'data-k': key, onclick }, label);
  }
  /** A form whose submit runs `action(values)` for `section` (once at a time). */
  form(section, action, ...kids) {
    const onsubmit = e => {
      e.preventDefault();
      const values = formValues(e); // read before the busy re-render replaces the form
      if (!this.s[section].busy) this.run(section, () => action(values));
    };
    return h('form', { novalidate: true, onsubmit }, kids);
  }
}
