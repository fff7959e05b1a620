/*! usher.js — the browser side of usher (self-hosted, Clerk-compatible authentication).
 *
 * Native ES modules, plain ES2020, no dependencies, no build step. usher serves this entry at
 * GET /npm/usher.js and the modules it imports at /npm/usher/… (web/usher/ in the repository).
 * It mirrors the client side of Clerk's Astro SDK (`@clerk/astro/client`): nanostores-style stores,
 * a Clerk-like client object, and web components for the prebuilt UI.
 *
 * ── Configuration ──────────────────────────────────────────────────────────────────────────
 *   <script id="__USHER_OPTIONS__" type="application/json">{ "frontendApi": "http://127.0.0.1:8787",
 *     "publishableKey": "pk_test_…", "signInUrl": "/sign-in", "signUpUrl": "/sign-up",
 *     "userProfileUrl": "/user", "afterSignInUrl": "/", "afterSignUpUrl": "/", "afterSignOutUrl": "/",
 *     "allowedRedirectOrigins": ["https://other.example"], "localization": {…}, "appearance": {…} }</script>
 *   <script id="__USHER_STATE__" type="application/json">{ "userId": null, "sessionId": null,
 *     "orgId": null, "orgRole": null, "orgSlug": null, "orgPermissions": null }</script>
 *     (server-side auth state)
 *   <script type="module" src="http://127.0.0.1:8787/npm/usher.js"></script>
 * A module script is deferred: it runs once the document is parsed, before DOMContentLoaded, so
 * page scripts use window.usher from a DOMContentLoaded listener (or from a module script after it).
 * Without options, the Frontend API is the `data-frontend-api` attribute of a script tag, else the
 * origin usher.js was loaded from. Sign-in / sign-up / profile URLs default to the environment's
 * display_config, else usher's hosted pages.
 *
 * ── window.usher ───────────────────────────────────────────────────────────────────────────
 *   Stores (get / subscribe(cb) / listen(cb)): $authStore, $clerkStore, $userStore, $sessionStore,
 *   $sessionListStore, $organizationStore, $clientStore, $signInStore, $signUpStore, $isLoadedStore.
 *   updateOptions({localization, appearance}), getToken({template, skipCache}), load(), UsherError.
 *   window.Usher is the client object once loaded (signOut, setActive, redirectToSignIn, signIn,
 *   signUp, …). Failed calls reject with an UsherError: .errors (Clerk's error array), .status,
 *   .retryAfter (seconds).
 *
 * ── Components ─────────────────────────────────────────────────────────────────────────────
 *   <usher-sign-in> <usher-sign-up> <usher-user-button> <usher-user-profile>
 *   <usher-organization-switcher> <usher-organization-list> <usher-create-organization after-create-url="…">
 *   <usher-organization-profile> (members, invitations, roles: only what the caller's role permits)
 *   <usher-signed-in> <usher-signed-out> <usher-protect role="org:admin" permission="org:x:y">
 *     (children with slot="fallback" show when the condition fails)
 *   <usher-sign-in-button> <usher-sign-up-button> <usher-sign-out-button> (attribute redirect-url;
 *     with child elements, the children are the clickable content)
 *
 * ── Localization keys (flat; nested objects such as Clerk's {signIn:{start:{title}}} are flattened) ──
 *   See TEXT in usher/text.js for every key and its English default. Error messages:
 *   `unstable__errors.<code>` (Clerk's key), e.g. `unstable__errors.form_password_incorrect`.
 *   `{{name}}` placeholders are filled in.
 *
 * ── Appearance ─────────────────────────────────────────────────────────────────────────────
 *   appearance.variables.<name> becomes the CSS custom property --usher-<kebab-name> on <html>:
 *   colorPrimary, colorDanger, colorSuccess, colorText, colorTextSecondary,
 *   colorTextOnPrimaryBackground, colorBackground, colorInputBackground, colorInputText,
 *   colorNeutral, borderRadius, fontFamily, fontSize.
 *
 * ── Modules ────────────────────────────────────────────────────────────────────────────────
 *   usher/stores.js (atoms, computed, the store graph), usher/fapi.js (Frontend API calls,
 *   UsherError), usher/resources.js (camelCase resources), usher/session.js (client state,
 *   tokens, cookies, refresh, cross-tab), usher/clerk.js (loading, URLs, the client object),
 *   usher/text.js, usher/options.js, usher/util.js; usher/components/*.js (the elements).
 *   Only this file and the components touch the DOM; the others take what they need as arguments.
 */
import { createClerk } from './usher/clerk.js';
import { UsherError } from './usher/fapi.js';
import { cssVariables, frontendApiFor, mergeAppearance } from './usher/options.js';
import { createSession, tabChannel } from './usher/session.js';
import { createStores, readonly } from './usher/stores.js';
import { errorInfo, flatten, translate } from './usher/text.js';
import { provide } from './usher/components/base.js';
import {
  ProtectElement, SignInButton, SignOutButton, SignUpButton, SignedInElement, SignedOutElement,
} from './usher/components/control.js';
import { SignInElement } from './usher/components/sign-in.js';
import { SignUpElement } from './usher/components/sign-up.js';
import { UserButtonElement } from './usher/components/user-button.js';
import { OrganizationSwitcherElement } from './usher/components/organization-switcher.js';
import {
  CreateOrganizationElement, OrganizationListElement, OrganizationProfileElement,
} from './usher/components/organizations.js';
import { UserProfileElement } from './usher/components/user-profile.js';

const VERSION = '0.1.0';

function readJson(id) {
  const el = document.getElementById(id);
  if (!el) return undefined;
  try {
    return JSON.parse(el.textContent || 'null');
  } catch (e) {
    return void console.error(`usher: #${id} is not valid JSON`, e);
  }
}

function start() {
  // ── Options and initial state ──────────────────────────────────────────────────────────────
  const options = Object.assign({}, readJson('__USHER_OPTIONS__') || {});
  options.localization = flatten(options.localization);
  options.appearance = options.appearance || {};
  const initialState = readJson('__USHER_STATE__') || undefined; // undefined: the server told us nothing
  const tag = document.querySelector('script[data-frontend-api]');
  const frontendApi = frontendApiFor({
    option: options.frontendApi, attribute: tag && tag.dataset.frontendApi, scriptUrl: import.meta.url,
  });
  let textVersion = 0; // bumped by updateOptions so that components re-render their labels
  const t = (key, vars) => translate(options.localization, key, vars);

  // ── State, stores and the client object ────────────────────────────────────────────────────
  const stores = createStores(initialState);
  const session = createSession({
    frontendApi, t, stores,
    fetch: (url, init) => fetch(url, init), // the page's fetch at call time
    cookies: document,
    secureCookies: location.protocol === 'https:',
    tabs: tabChannel(window),
  });
  // Timers are throttled in background tabs, and changes made on other origins (usher's hosted
  // pages) are not broadcast to us: catch up when the tab is shown again.
  const onVisible = () => document.visibilityState === 'visible' && session.catchUp();
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('pageshow', e => e.persisted && onVisible());
  const client = createClerk({ version: VERSION, frontendApi, options, session, stores, win: window });
  const { clerk, load, getToken } = client;

  // ── Appearance and updateOptions ───────────────────────────────────────────────────────────
  function applyAppearance() {
    for (const [name, value] of cssVariables(options.appearance)) {
      document.documentElement.style.setProperty(name, value);
    }
  }
  /** updateClerkOptions(): merges localization keys and appearance, re-renders every component. */
  function updateOptions(o = {}) {
    if (o.localization) options.localization = Object.assign({}, options.localization, flatten(o.localization));
    if (o.appearance) {
      options.appearance = mergeAppearance(options.appearance, o.appearance);
      applyAppearance();
    }
    textVersion++;
    session.rerender();
  }

  // ── Exports and start ──────────────────────────────────────────────────────────────────────
  provide(Object.assign({}, client, {
    t,
    errorInfo: err => errorInfo(options.localization, err),
    textVersion: () => textVersion,
    state: session.state,
    resources: session.resources,
    onRender: session.onRender,
    initialState,
    $auth: stores.$authStore,
    $user: stores.$userStore,
    $organization: stores.$organizationStore,
  }));
  window.usher = {
    version: VERSION,
    $authStore: readonly(stores.$authStore),
    $clerkStore: readonly(stores.$clerkStore),
    $userStore: readonly(stores.$userStore),
    $sessionStore: readonly(stores.$sessionStore),
    $sessionListStore: readonly(stores.$sessionListStore),
    $organizationStore: readonly(stores.$organizationStore),
    $clientStore: readonly(stores.$clientStore),
    $signInStore: readonly(stores.$signInStore),
    $signUpStore: readonly(stores.$signUpStore),
    $isLoadedStore: readonly(stores.$isLoadedStore),
    updateOptions,
    getToken,
    load,
    UsherError,
    get clerk() { return session.state.loaded ? clerk : null; },
  };
  applyAppearance();
  const define = (name, cls) => customElements.get(name) || customElements.define(name, cls);
  define('usher-sign-in', SignInElement);
  define('usher-sign-up', SignUpElement);
  define('usher-user-button', UserButtonElement);
  define('usher-user-profile', UserProfileElement);
  define('usher-organization-switcher', OrganizationSwitcherElement);
  define('usher-signed-in', SignedInElement);
  define('usher-signed-out', SignedOutElement);
  define('usher-protect', ProtectElement);
  define('usher-sign-in-button', SignInButton);
  define('usher-sign-up-button', SignUpButton);
  define('usher-sign-out-button', SignOutButton);
  define('usher-create-organization', CreateOrganizationElement);
  define('usher-organization-list', OrganizationListElement);
  define('usher-organization-profile', OrganizationProfileElement);
  load().catch(e => console.error('usher: load failed', e));
}

// Included twice (from two URLs, so as two module instances): keep the first instance.
if (!(window.usher && window.usher.version)) start();
