// "Continue with …" buttons of <usher-sign-in> and <usher-sign-up>, one per enabled provider.
import { app, h, t } from './base.js';
import { enabledProviders, markOf } from '../providers.js';

const SVG = 'http://www.w3.org/2000/svg';

/** The provider's mark, inline and hidden from assistive technology (the button's text names it). */
function mark(strategy) {
  const { viewBox, paths } = markOf(strategy);
  const svg = document.createElementNS(SVG, 'svg');
  for (const [k, v] of [['viewBox', viewBox], ['width', '18'], ['height', '18'], ['aria-hidden', 'true'],
    ['focusable', 'false']]) svg.setAttribute(k, v);
  for (const [fill, d] of paths) {
    const path = document.createElementNS(SVG, 'path');
    path.setAttribute('fill', fill);
    path.setAttribute('d', d);
    svg.append(path);
  }
  return svg;
}

/**
 * The buttons and an "or" divider (nothing when no provider is enabled). `choose(strategy)` runs
 * in the element's `run('form', …)`, so a failure shows in its alert.
 */
export function providerButtons(el, choose) {
  const providers = enabledProviders(app.state.env);
  if (!providers.length) return null;
  return [
    h('div', { class: 'usher-providers' }, providers.map(p =>
      h('button', { type: 'button', class: 'usher-button usher-provider', 'data-strategy': p.strategy,
        disabled: el.s.form.busy || null, onclick: () => el.run('form', () => choose(p.strategy)) },
      mark(p.strategy), h('span', null, t('socialButtonsBlockButton', { provider: p.name }))))),
    h('p', { class: 'usher-divider' }, t('dividerText')),
  ];
}

/** The marker usher.js adds to the page's URL it asks the provider's callback to come back to. */
export const CALLBACK_MARK = 'usher_oauth_callback';

/** This page's URL with the callback marker (kept through usher's redirect). */
export function callbackUrl() {
  const u = new URL(location.href);
  u.searchParams.set(CALLBACK_MARK, '1');
  return u.href;
}

/** Whether this page is the one the callback sent the browser back to. */
export function isCallback() {
  return new URL(location.href).searchParams.has(CALLBACK_MARK);
}
