/*! usher.js — the browser side of usher (self-hosted, Clerk-compatible authentication).
 *
 * One classic script, plain ES2020, no dependencies, no build step. usher serves it at
 * GET /npm/usher.js. It mirrors the client side of Clerk's Astro SDK (`@clerk/astro/client`):
 * nanostores-style stores, a Clerk-like client object, and web components for the prebuilt UI.
 *
 * ── Configuration ──────────────────────────────────────────────────────────────────────────
 *   <script id="__USHER_OPTIONS__" type="application/json">{ "frontendApi": "http://127.0.0.1:8787",
 *     "publishableKey": "pk_test_…", "signInUrl": "/sign-in", "signUpUrl": "/sign-up",
 *     "userProfileUrl": "/user", "afterSignInUrl": "/", "afterSignUpUrl": "/", "afterSignOutUrl": "/",
 *     "allowedRedirectOrigins": ["https://other.example"], "localization": {…}, "appearance": {…} }</script>
 *   <script id="__USHER_STATE__" type="application/json">{ "userId": null, "sessionId": null, "orgId": null,
 *     "orgRole": null, "orgSlug": null, "orgPermissions": null }</script>   (server-side auth state)
 *   <script src="http://127.0.0.1:8787/npm/usher.js"></script>
 * Without options, the Frontend API is the script's `data-frontend-api` attribute, else its origin.
 * Sign-in / sign-up / profile URLs default to the environment's display_config, else usher's hosted pages.
 *
 * ── window.usher ───────────────────────────────────────────────────────────────────────────
 *   Stores (get / subscribe(cb) / listen(cb)): $authStore, $clerkStore, $userStore, $sessionStore,
 *   $sessionListStore, $organizationStore, $clientStore, $signInStore, $signUpStore, $isLoadedStore.
 *   updateOptions({localization, appearance}), getToken({template, skipCache}), load(), UsherError.
 *   window.Usher is the client object once loaded (signOut, setActive, redirectToSignIn, signIn, signUp, …).
 *   Failed calls reject with an UsherError: .errors (Clerk's error array), .status, .retryAfter (seconds).
 *
 * ── Components ─────────────────────────────────────────────────────────────────────────────
 *   <usher-sign-in> <usher-sign-up> <usher-user-button> <usher-user-profile>
 *   <usher-signed-in> <usher-signed-out> <usher-protect role="org:admin" permission="org:x:y">
 *     (children with slot="fallback" show when the condition fails)
 *   <usher-sign-in-button> <usher-sign-up-button> <usher-sign-out-button> (attribute redirect-url;
 *     with child elements, the children are the clickable content)
 *
 * ── Localization keys (flat; nested objects such as Clerk's {signIn:{start:{title}}} are flattened) ──
 *   See TEXT below for every key and its English default. Error messages: `unstable__errors.<code>`
 *   (Clerk's key), e.g. `unstable__errors.form_password_incorrect`. `{{name}}` placeholders are filled in.
 *
 * ── Appearance ─────────────────────────────────────────────────────────────────────────────
 *   appearance.variables.<name> becomes the CSS custom property --usher-<kebab-name> on <html>:
 *   colorPrimary, colorDanger, colorSuccess, colorText, colorTextSecondary, colorTextOnPrimaryBackground,
 *   colorBackground, colorInputBackground, colorInputText, colorNeutral, borderRadius, fontFamily, fontSize.
 */
(function () {
  'use strict';
  if (window.usher && window.usher.version) return; // included twice: keep the first instance

  const VERSION = '0.1.0';
  const script = document.currentScript; // only available while this file first runs

  // ── English defaults (every user-visible string) ─────────────────────────────────────────
  const TEXT = {
    'signIn.start.title': 'Sign in', 'signIn.start.subtitle': 'Welcome back! Please sign in to continue',
    'signIn.start.actionText': 'Don’t have an account?', 'signIn.start.actionLink': 'Sign up',
    'signIn.emailCode.start': 'Use an email code instead', 'signIn.emailCode.send': 'Send code',
    'signIn.emailCode.title': 'Check your email',
    'signIn.emailCode.subtitle': 'Enter the code sent to {{identifier}}', 'signIn.emailCode.resend': 'Resend code',
    'signIn.password.start': 'Use your password instead', 'signIn.alreadySignedIn': 'You are already signed in.',
    'signIn.continue': 'Continue',
    'signUp.start.title': 'Create your account',
    'signUp.start.subtitle': 'Welcome! Please fill in the details to get started',
    'signUp.start.actionText': 'Already have an account?', 'signUp.start.actionLink': 'Sign in',
    'signUp.emailCode.title': 'Verify your email',
    'signUp.emailCode.subtitle': 'Enter the code sent to {{emailAddress}}', 'signUp.emailCode.resend': 'Resend code',
    'redirecting': 'Signed in. Redirecting…', 'loading': 'Loading…', 'signInButton': 'Sign in',
    'signUpButton': 'Sign up', 'signOutButton': 'Sign out',
    'formButtonPrimary': 'Continue', 'formFieldLabel__emailAddress': 'Email address',
    'formFieldLabel__password': 'Password', 'formFieldLabel__firstName': 'First name',
    'formFieldLabel__lastName': 'Last name', 'formFieldLabel__code': 'Verification code',
    'formFieldLabel__currentPassword': 'Current password', 'formFieldLabel__newPassword': 'New password',
    'formFieldLabel__signOutOfOtherSessions': 'Sign out of all other devices',
    'formFieldHintText__optional': 'Optional',
    'userButton.label': 'Open user menu', 'userButton.action__manageAccount': 'Manage account',
    'userButton.action__signOut': 'Sign out',
    'userProfile.title': 'Account', 'userProfile.profileSection.title': 'Profile',
    'userProfile.profileSection.save': 'Save', 'userProfile.profileSection.saved': 'Profile saved',
    'userProfile.emailAddressesSection.title': 'Email addresses',
    'userProfile.emailAddressesSection.add': 'Add email address',
    'userProfile.emailAddressesSection.primary': 'Primary',
    'userProfile.emailAddressesSection.unverified': 'Unverified',
    'userProfile.emailAddressesSection.verify': 'Verify',
    'userProfile.emailAddressesSection.verified': 'Email address verified',
    'userProfile.passwordSection.title': 'Password', 'userProfile.passwordSection.submit': 'Update password',
    'userProfile.passwordSection.updated': 'Password updated', 'userProfile.sessionsSection.title': 'Active devices',
    'userProfile.sessionsSection.current': 'This device',
    'userProfile.sessionsSection.lastActive': 'Last active {{time}}',
    'userProfile.sessionsSection.revoke': 'Sign out of this device', 'userProfile.signedOut': 'You are signed out.',
    'unstable__errors.network_error': 'Could not reach the server. Check your connection and try again.',
    'unstable__errors.too_many_requests': 'Too many attempts. Try again in {{seconds}} seconds.',
    'unstable__errors.unexpected': 'Something went wrong. Please try again.',
  };

  // ── Small utilities ──────────────────────────────────────────────────────────────────────
  const noop = () => {};
  /** Calls a listener; one faulty page callback must not break the others or our own state. */
  const safely = (fn, ...args) => {
    try {
      fn(...args);
    } catch (e) {
      console.error(e);
    }
  };
  const enc = encodeURIComponent;
  const sleep = ms => new Promise(r => setTimeout(r, ms));
  const toDate = v => (typeof v === 'number' ? new Date(v) : v ? new Date(v) : null);
  const snakeKey = k => k.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
  const camelKey = k => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

  /** Plain data from the server in camelCase (for nested objects such as factors and verifications). */
  function camel(v) {
    if (Array.isArray(v)) return v.map(camel);
    if (!v || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) out[camelKey(k)] = k.endsWith('_metadata') ? x : camel(x);
    return out;
  }
  /** Method parameters in the snake_case the Frontend API expects; null/undefined dropped. */
  function snake(p) {
    const out = {};
    for (const [k, v] of Object.entries(p || {})) if (v !== undefined && v !== null) out[snakeKey(k)] = v;
    return out;
  }
  /** Clerk localization may be nested ({signIn:{start:{title}}}); we look keys up flat. */
  function flatten(obj, prefix = '', out = {}) {
    for (const [k, v] of Object.entries(obj || {})) {
      if (v && typeof v === 'object' && !Array.isArray(v)) flatten(v, prefix + k + '.', out);
      else out[prefix + k] = v;
    }
    return out;
  }
  /** The JWT payload, or null. Only read for `exp`/`iat` and sessionClaims: never trusted for security. */
  function decodeJwt(jwt) {
    try {
      const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const bin = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
      return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, c => c.charCodeAt(0))));
    } catch (e) {
      return null; // not a JWT: no claims
    }
  }
  /** Accepts Clerk-style bare hosts ("auth.example.com") as well as full URLs. */
  function normalizeBase(url) {
    if (!/^https?:\/\//.test(url)) url = (/^(localhost|127\.|\[::1\])/.test(url) ? 'http://' : 'https://') + url;
    return url.replace(/\/+$/, '');
  }
  function readJson(id) {
    const el = document.getElementById(id);
    if (!el) return undefined;
    try {
      return JSON.parse(el.textContent || 'null');
    } catch (e) {
      return void console.error(`usher: #${id} is not valid JSON`, e);
    }
  }

  // ── Options and initial state ────────────────────────────────────────────────────────────
  const options = Object.assign({}, readJson('__USHER_OPTIONS__') || {});
  options.localization = flatten(options.localization);
  options.appearance = options.appearance || {};
  const initialState = readJson('__USHER_STATE__') || undefined; // undefined: the server told us nothing
  const frontendApi = normalizeBase(
    options.frontendApi ||
      (script && script.dataset.frontendApi) ||
      (script && script.src ? new URL(script.src, location.href).origin : location.origin),
  );
  const frontendOrigin = new URL(frontendApi).origin;
  let textVersion = 0; // bumped by updateOptions so that components re-render their labels

  function t(key, vars) {
    let s = options.localization[key];
    if (typeof s !== 'string') s = TEXT[key];
    if (typeof s !== 'string') return undefined;
    return vars ? s.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, k) => (vars[k] == null ? '' : vars[k])) : s;
  }

  // ── Internal state ───────────────────────────────────────────────────────────────────────
  // raw: the Client JSON; client/session: its resources (session = the active one); jwt: the active
  // session's latest token; env: GET /v1/environment; seq: bumped by every applyClient (detects stale
  // GET /v1/client answers); sig: sessions and users, to tell other tabs about changes.
  const state = { loaded: false, raw: null, client: null, session: null, jwt: null, env: null, seq: 0, sig: '', lastReload: 0 };

  // ── Stores (the nanostores atom interface: get / subscribe / listen) ───────────────────────
  function atom(initial) {
    let value = initial;
    const listeners = new Set();
    const listen = cb => (listeners.add(cb), () => listeners.delete(cb));
    return {
      get: () => value,
      listen,
      subscribe(cb) {
        const off = listen(cb);
        cb(value);
        return off;
      },
      set(next) {
        if (Object.is(next, value)) return;
        const prev = value;
        value = next;
        for (const cb of Array.from(listeners)) safely(cb, value, prev);
      },
    };
  }
  const readonly = a => ({ get: a.get, listen: a.listen, subscribe: a.subscribe });

  // As in Clerk: `undefined` = not loaded yet, `null` = loaded and absent.
  const $auth = atom(deriveAuth()), $clerk = atom(null), $isLoaded = atom(false), $organization = atom(null);
  const $user = atom(undefined), $session = atom(undefined), $sessionList = atom(undefined);
  const $client = atom(undefined), $signIn = atom(undefined), $signUp = atom(undefined);

  // Resources are rebuilt on every client update; a store only fires when its content changed,
  // compared through a key (the JSON of the raw data), so components do not re-render needlessly.
  const storeKeys = new Map();
  function setKeyed(store, value, key) {
    if (storeKeys.get(store) === key && storeKeys.has(store)) return false;
    storeKeys.set(store, key);
    store.set(value);
    return true;
  }

  const renderListeners = new Set();
  const clerkListeners = new Set();
  const onRender = cb => (renderListeners.add(cb), () => renderListeners.delete(cb));
  const rerender = () => Array.from(renderListeners).forEach(cb => safely(cb));

  function deriveAuth() {
    if (!state.loaded) {
      const s = initialState;
      const v = k => (s ? (s[k] === undefined ? null : s[k]) : undefined);
      return {
        userId: v('userId'), sessionId: v('sessionId'), orgId: v('orgId'), orgRole: v('orgRole'),
        orgSlug: v('orgSlug'), orgPermissions: v('orgPermissions'), user: undefined, session: undefined,
        sessionClaims: undefined, sessionStatus: undefined, organization: undefined, actor: undefined,
      };
    }
    const session = state.session;
    const user = session ? session.user : null;
    const claims = session ? decodeJwt(state.jwt || (session.lastActiveToken && session.lastActiveToken.jwt) || '') : null;
    // v2 session claims put the organization under `o`; v1 used flat org_* claims.
    const o = (claims && claims.o) || {};
    const orgRole = o.rol ? (o.rol.includes(':') ? o.rol : 'org:' + o.rol) : (claims && claims.org_role) || null;
    return {
      userId: user ? user.id : null, sessionId: session ? session.id : null, sessionStatus: session ? session.status : null,
      orgId: (session && session.lastActiveOrganizationId) || o.id || (claims && claims.org_id) || null, orgRole,
      orgSlug: o.slg || (claims && claims.org_slug) || null, orgPermissions: (claims && claims.org_permissions) || null,
      user, session, sessionClaims: claims, organization: null, actor: session ? session.actor : null,
    };
  }

  /** Recomputes every store from `state`, then lets components and listeners know. */
  function publish() {
    const raw = state.raw;
    const loaded = state.loaded;
    const sessionRaw = raw && state.session ? raw.sessions.find(s => s.id === state.session.id) : null;
    const noToken = s => s && Object.assign({}, s, { last_active_token: null });
    const userKey = loaded ? JSON.stringify(sessionRaw ? sessionRaw.user : null) : 'u';
    const sessionKey = loaded ? JSON.stringify(noToken(sessionRaw)) : 'u';
    const a = deriveAuth();
    let changed = false;
    changed = setKeyed($auth, a, JSON.stringify([loaded, userKey, sessionKey, a.sessionClaims, a.orgId, a.orgRole])) || changed;
    changed = setKeyed($user, loaded ? a.user : undefined, userKey) || changed;
    changed = setKeyed($session, loaded ? a.session : undefined, sessionKey) || changed;
    if (loaded) {
      const c = state.client;
      changed = setKeyed($client, c, JSON.stringify(raw && Object.assign({}, raw, { sessions: (raw.sessions || []).map(noToken) }))) || changed;
      changed = setKeyed($sessionList, c ? c.sessions : null, JSON.stringify(raw ? (raw.sessions || []).map(noToken) : null)) || changed;
      changed = setKeyed($signIn, c ? c.signIn : null, JSON.stringify(raw ? raw.sign_in : null)) || changed;
      changed = setKeyed($signUp, c ? c.signUp : null, JSON.stringify(raw ? raw.sign_up : null)) || changed;
    }
    if (!changed) return;
    rerender();
    const ev = { client: state.client, session: state.session, user: state.session ? state.session.user : null, organization: null };
    for (const cb of Array.from(clerkListeners)) safely(cb, ev);
  }

  // ── Errors ───────────────────────────────────────────────────────────────────────────────
  class UsherError extends Error {
    constructor(message, { errors = [], status = 0, retryAfter, clerkTraceId } = {}) {
      super(message);
      // clerkError: what Clerk's isClerkAPIResponseError() looks for.
      Object.assign(this, { name: 'UsherError', errors, status, retryAfter, clerkTraceId, clerkError: true });
    }
  }
  /** Clerk's error entries carry camelCase twins (longMessage, meta.paramName) in clerk-js. */
  function normError(e) {
    const meta = Object.assign({}, e.meta || {});
    if (meta.param_name && !meta.paramName) meta.paramName = meta.param_name;
    return Object.assign({}, e, { longMessage: e.long_message || e.longMessage, meta });
  }

  // ── The Frontend API ─────────────────────────────────────────────────────────────────────
  function encodeForm(params) {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(params || {})) if (v != null) body.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
    return body;
  }

  /**
   * One FAPI call. Clerk's conventions: form bodies, methods other than GET/POST tunnelled as POST
   * with `_method` (no CORS preflight, which also keeps Safari happy), cookies included. The envelope's
   * `client` updates every store, so callers only deal with the `response`.
   */
  async function fapi(method, path, params, opts = {}) {
    const url = new URL(frontendApi + '/v1' + path);
    if (method !== 'GET' && method !== 'POST') url.searchParams.set('_method', method);
    const init = { method: method === 'GET' ? 'GET' : 'POST', credentials: 'include' };
    if (init.method === 'POST') init.body = encodeForm(params); // sent as x-www-form-urlencoded
    let res;
    try {
      res = await fetch(url.href, init);
    } catch (e) {
      const msg = t('unstable__errors.network_error');
      throw new UsherError(msg, { errors: [{ code: 'network_error', message: msg, longMessage: String(e && e.message), meta: {} }] });
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      /* not JSON (a proxy's error page): handled as an error without details below */
    }
    if (!res.ok) {
      const errors = (json && Array.isArray(json.errors) ? json.errors : []).map(normError);
      if (!errors.length) errors.push({ code: res.status === 429 ? 'too_many_requests' : 'unexpected', message: `HTTP ${res.status}`, meta: {} });
      const ra = parseInt(res.headers.get('Retry-After') || '', 10);
      const err = new UsherError(errors[0].longMessage || errors[0].message, {
        errors, status: res.status, retryAfter: Number.isFinite(ra) ? ra : undefined, clerkTraceId: json && json.clerk_trace_id,
      });
      // A session that ended elsewhere (another tab, a revoke, an admin): resynchronise.
      if (res.status === 401 && path !== '/client' && state.loaded) queueReload();
      throw err;
    }
    if (opts.raw) return json;
    if (json && typeof json === 'object' && !Array.isArray(json) && 'response' in json) {
      // A null client only means "signed out" on /client paths; elsewhere it may just be omitted.
      if (json.client) applyClient(json.client, opts.remote ? 'remote' : 'local');
      else if ('client' in json && json.client === null && path.startsWith('/client')) applyClient(null, 'local');
      return json.response;
    }
    return json;
  }

  /** For /v1/me calls: if the envelope did not carry a client, bring the stores up to date ourselves. */
  async function meCall(method, path, params) {
    const seq = state.seq;
    const res = await fapi(method, path, params);
    if (state.seq === seq) {
      if (res && res.object === 'user' && state.raw) {
        const raw = JSON.parse(JSON.stringify(state.raw));
        for (const s of raw.sessions || []) if (s.user && s.user.id === res.id) s.user = res;
        applyClient(raw, 'local');
      } else await reloadClient(false).catch(noop);
    }
    return res;
  }

  // ── Resources (camelCase objects with methods, like clerk-js) ──────────────────────────────
  function toVerification(v) {
    return v ? Object.assign(camel(v), { expireAt: toDate(v.expire_at) }) : null;
  }
  function toEmail(r) {
    const id = r.id;
    const base = `/me/email_addresses/${enc(id)}`;
    return {
      object: 'email_address', id, emailAddress: r.email_address, verification: toVerification(r.verification),
      linkedTo: r.linked_to || [],
      toString() { return r.email_address; },
      prepareVerification: ({ strategy = 'email_code' } = {}) => meCall('POST', base + '/prepare_verification', { strategy }).then(toEmail),
      attemptVerification: ({ code }) => meCall('POST', base + '/attempt_verification', { code }).then(toEmail),
      destroy: () => meCall('DELETE', base),
    };
  }
  function toUser(r) {
    if (!r) return null;
    const emails = (r.email_addresses || []).map(toEmail);
    const fullName = [r.first_name, r.last_name].filter(Boolean).join(' ') || null;
    return {
      object: 'user', id: r.id, firstName: r.first_name || null, lastName: r.last_name || null, fullName,
      username: r.username || null, imageUrl: r.image_url || '', hasImage: !!r.has_image,
      primaryEmailAddressId: r.primary_email_address_id || null,
      primaryEmailAddress: emails.find(e => e.id === r.primary_email_address_id) || null,
      emailAddresses: emails, phoneNumbers: [],
      publicMetadata: r.public_metadata || {}, unsafeMetadata: r.unsafe_metadata || {},
      passwordEnabled: !!r.password_enabled, twoFactorEnabled: !!r.two_factor_enabled,
      lastSignInAt: toDate(r.last_sign_in_at), createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      update: params => meCall('PATCH', '/me', snake(params)).then(toUser),
      updatePassword: params => meCall('POST', '/me/change_password', snake(params)).then(toUser),
      createEmailAddress: ({ email }) => meCall('POST', '/me/email_addresses', { email_address: email }).then(toEmail),
      getSessions: () => fapi('GET', '/me/sessions/active').then(list => (Array.isArray(list) ? list : []).map(toSession)),
      reload: () => reloadClient(false).then(() => (state.session ? state.session.user : null)),
    };
  }
  function toSession(r) {
    const id = r.id;
    const tok = r.last_active_token && r.last_active_token.jwt;
    return {
      object: 'session', id, status: r.status, user: toUser(r.user),
      publicUserData: camel(r.public_user_data || {}),
      lastActiveToken: tok ? { jwt: tok, getRawString: () => tok } : null,
      lastActiveOrganizationId: r.last_active_organization_id || null,
      actor: r.actor || null, factorVerificationAge: r.factor_verification_age || null,
      latestActivity: r.latest_activity ? camel(r.latest_activity) : null,
      lastActiveAt: toDate(r.last_active_at), expireAt: toDate(r.expire_at), abandonAt: toDate(r.abandon_at),
      createdAt: toDate(r.created_at), updatedAt: toDate(r.updated_at),
      getToken: (o = {}) => getSessionToken(id, o),
      touch: () => fapi('POST', `/client/sessions/${enc(id)}/touch`).then(toSession),
      end: () => fapi('POST', `/client/sessions/${enc(id)}/end`).then(toSession),
      remove: () => fapi('POST', `/client/sessions/${enc(id)}/remove`).then(toSession),
      revoke: () => meCall('POST', `/me/sessions/${enc(id)}/revoke`).then(toSession),
    };
  }
  function needId(id, what) {
    if (!id) throw new UsherError(`No ${what} in progress: call create() first`, { errors: [{ code: 'resource_missing', message: `No ${what}` }] });
    return enc(id);
  }
  function toSignIn(raw) {
    const r = raw || {};
    const si = {
      object: 'sign_in', id: r.id || null, status: r.status || null, identifier: r.identifier || null,
      supportedIdentifiers: r.supported_identifiers || [],
      supportedFirstFactors: camel(r.supported_first_factors || []),
      firstFactorVerification: toVerification(r.first_factor_verification),
      secondFactorVerification: null, createdSessionId: r.created_session_id || null, abandonAt: toDate(r.abandon_at),
      create: params => fapi('POST', '/client/sign_ins', snake(params)).then(toSignIn),
      prepareFirstFactor(params) {
        const p = Object.assign({}, params);
        if (p.strategy === 'email_code' && !p.emailAddressId) {
          const f = si.supportedFirstFactors.find(x => x.strategy === 'email_code');
          if (f) p.emailAddressId = f.emailAddressId;
        }
        return fapi('POST', `/client/sign_ins/${needId(si.id, 'sign-in')}/prepare_first_factor`, snake(p)).then(toSignIn);
      },
      attemptFirstFactor: params => fapi('POST', `/client/sign_ins/${needId(si.id, 'sign-in')}/attempt_first_factor`, snake(params)).then(toSignIn),
      reload: () => fapi('GET', `/client/sign_ins/${needId(si.id, 'sign-in')}`).then(toSignIn),
    };
    return si;
  }
  function toSignUp(raw) {
    const r = raw || {};
    const path = () => `/client/sign_ups/${needId(r.id, 'sign-up')}`;
    const v = r.verifications || {};
    return {
      object: 'sign_up', id: r.id || null, status: r.status || null, emailAddress: r.email_address || null,
      firstName: r.first_name || null, lastName: r.last_name || null, unsafeMetadata: r.unsafe_metadata || {},
      requiredFields: r.required_fields || [], optionalFields: r.optional_fields || [],
      missingFields: r.missing_fields || [], unverifiedFields: r.unverified_fields || [],
      verifications: { emailAddress: toVerification(v.email_address) },
      passwordEnabled: !!r.password_enabled, createdUserId: r.created_user_id || null,
      createdSessionId: r.created_session_id || null, abandonAt: toDate(r.abandon_at),
      create: params => fapi('POST', '/client/sign_ups', snake(params)).then(toSignUp),
      update: params => fapi('PATCH', path(), snake(params)).then(toSignUp),
      reload: () => fapi('GET', path()).then(toSignUp),
      prepareVerification: params => fapi('POST', path() + '/prepare_verification', snake(params)).then(toSignUp),
      attemptVerification: params => fapi('POST', path() + '/attempt_verification', snake(params)).then(toSignUp),
      prepareEmailAddressVerification: (p = {}) => fapi('POST', path() + '/prepare_verification', { strategy: p.strategy || 'email_code' }).then(toSignUp),
      attemptEmailAddressVerification: ({ code }) => fapi('POST', path() + '/attempt_verification', { strategy: 'email_code', code }).then(toSignUp),
    };
  }
  function toClient(raw) {
    const sessions = (raw.sessions || []).map(toSession);
    return {
      object: 'client', id: raw.id, sessions,
      activeSessions: sessions.filter(s => s.status === 'active'),
      signedInSessions: sessions.filter(s => s.status === 'active'),
      lastActiveSessionId: raw.last_active_session_id || null,
      signIn: toSignIn(raw.sign_in), signUp: toSignUp(raw.sign_up),
      cookieExpiresAt: toDate(raw.cookie_expires_at), createdAt: toDate(raw.created_at), updatedAt: toDate(raw.updated_at),
      reload: () => reloadClient(false).then(() => state.client),
      destroy: () => fapi('DELETE', '/client'),
      removeSessions: () => fapi('DELETE', '/client/sessions'),
    };
  }

  // ── Client state, session cookie and token refresh ────────────────────────────────────────
  function signature(raw) {
    if (!raw) return '';
    return JSON.stringify([raw.last_active_session_id, (raw.sessions || []).map(s => [s.id, s.status, s.user])]);
  }

  /** Installs a new Client (null: none). `origin` 'local' = caused by this tab, so tell the others. */
  function applyClient(raw, origin) {
    state.seq++;
    const prevSig = state.sig;
    const prevActive = state.session ? state.session.id : null;
    state.raw = raw || null;
    state.client = raw ? toClient(raw) : null;
    const sessions = state.client ? state.client.activeSessions : [];
    state.session = sessions.find(s => s.id === state.client.lastActiveSessionId) || sessions[0] || null;
    state.sig = signature(raw);
    const active = state.session ? state.session.id : null;
    if (active !== prevActive) {
      tokenCache.clear();
      state.jwt = null;
      if (!active) {
        clearTimeout(refreshTimer);
        clearSessionCookie();
      } else if (state.loaded) refreshNow();
    }
    publish();
    if (origin === 'local' && state.sig !== prevSig) broadcast();
  }

  const secure = () => (location.protocol === 'https:' ? '; Secure' : '');
  /**
   * `__session` on the page's own host: the app's server reads it (the usher SDK, @clerk/backend),
   * and usher's own cookie does not reach the app when the two are on different hosts.
   * `__client_uat` is what @clerk/backend compares with the token's `iat`; we keep it <= iat so
   * that a fresh token is never considered older than the client.
   */
  function setSessionCookie(jwt, claims) {
    document.cookie = `__session=${jwt}; path=/; SameSite=Lax${secure()}`;
    const updated = state.raw && state.raw.updated_at ? Math.floor(state.raw.updated_at / 1000) : 0;
    const uat = claims && claims.iat ? Math.min(updated || claims.iat, claims.iat) : updated;
    document.cookie = `__client_uat=${uat}; path=/; Max-Age=31536000; SameSite=Strict${secure()}`;
  }
  function clearSessionCookie() {
    if (/(^|;\s*)__session=/.test(document.cookie)) document.cookie = `__session=; path=/; Max-Age=0; SameSite=Lax${secure()}`;
    document.cookie = `__client_uat=0; path=/; Max-Age=31536000; SameSite=Strict${secure()}`;
  }

  const tokenCache = new Map(); // "sid|template|org" -> {jwt, staleAt}
  const inflight = new Map();
  let refreshTimer = 0;

  /**
   * Lifetimes are measured on the local clock from the moment of receipt (exp - iat), so a skewed
   * browser clock cannot make us use expired tokens. A token is "stale" ~10 s before it expires
   * (half its life for very short lifetimes), and the refresh timer fires then.
   */
  function tokenTimes(jwt) {
    const c = decodeJwt(jwt) || {};
    const life = c.exp && c.iat ? Math.max(1, c.exp - c.iat) * 1000 : 60000;
    const expiresAt = Date.now() + life;
    return { claims: c, expiresAt, staleAt: expiresAt - Math.min(10000, life / 2) };
  }

  function getSessionToken(sessionId, { template, skipCache, organizationId } = {}) {
    const key = [sessionId, template || '', organizationId || ''].join('|');
    const hit = tokenCache.get(key);
    if (!skipCache && hit && Date.now() < hit.staleAt) return Promise.resolve(hit.jwt);
    if (inflight.has(key)) return inflight.get(key);
    const p = (async () => {
      try {
        const path = `/client/sessions/${enc(sessionId)}/tokens` + (template ? '/' + enc(template) : '');
        const res = await fapi('POST', path, organizationId ? { organization_id: organizationId } : {});
        const jwt = res && res.jwt;
        if (!jwt) return null;
        const times = tokenTimes(jwt);
        tokenCache.set(key, { jwt, staleAt: times.staleAt });
        if (!template && !organizationId && state.session && state.session.id === sessionId) {
          state.jwt = jwt;
          setSessionCookie(jwt, times.claims);
          scheduleRefresh(times.staleAt);
          publish(); // sessionClaims changed
        }
        return jwt;
      } finally {
        inflight.delete(key);
      }
    })();
    inflight.set(key, p);
    return p;
  }

  function scheduleRefresh(at) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refreshNow, Math.max(1000, at - Date.now()));
  }
  function refreshNow() {
    const s = state.session;
    if (!s) return;
    getSessionToken(s.id, { skipCache: true }).catch(err => {
      // 401/404: the session is gone (fapi() already queued a reload); otherwise retry soon.
      if (err.status !== 401 && err.status !== 404) scheduleRefresh(Date.now() + 5000);
      else reloadClient(true).catch(noop);
    });
  }
  function sessionTokenStale() {
    const s = state.session;
    const hit = s && tokenCache.get(s.id + '||');
    return !hit || Date.now() >= hit.staleAt;
  }

  let reloadP = null;
  let reloadAgain = false;
  /** GET /v1/client. Answers overtaken by a newer client (a sign-in that raced it) are dropped. */
  function reloadClient(remote) {
    if (reloadP) {
      reloadAgain = true;
      return reloadP;
    }
    reloadP = (async () => {
      try {
        do {
          reloadAgain = false;
          const seq = state.seq;
          const json = await fapi('GET', '/client', null, { raw: true });
          if (state.seq === seq) applyClient((json && (json.client || json.response)) || null, remote ? 'remote' : 'local');
          state.lastReload = Date.now();
        } while (reloadAgain);
      } finally {
        reloadP = null;
      }
    })();
    return reloadP;
  }
  let reloadQueued = 0;
  function queueReload() {
    clearTimeout(reloadQueued);
    reloadQueued = setTimeout(() => reloadClient(true).catch(noop), 50);
  }

  // ── Cross-tab: a change in one tab makes the others reload their client ────────────────────
  const tabId = Math.random().toString(36).slice(2);
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel('usher') : null;
  function broadcast() {
    const msg = { type: 'client', tab: tabId, at: Date.now() };
    try {
      channel ? channel.postMessage(msg) : localStorage.setItem('usher:client', JSON.stringify(msg));
    } catch (e) {
      /* storage may be unavailable (private mode); other tabs catch up when shown */
    }
  }
  function onRemoteChange(msg) {
    if (msg && msg.type === 'client' && msg.tab !== tabId && state.loaded) reloadClient(true).catch(noop);
  }
  if (channel) channel.onmessage = e => onRemoteChange(e.data);
  else {
    window.addEventListener('storage', e => e.key === 'usher:client' && e.newValue && onRemoteChange(JSON.parse(e.newValue)));
  }
  // Timers are throttled in background tabs, and changes made on other origins (usher's hosted
  // pages) are not broadcast to us: catch up when the tab is shown again.
  function onVisible() {
    if (!state.loaded || document.visibilityState !== 'visible') return;
    if (Date.now() - state.lastReload > 5000) reloadClient(true).catch(noop);
    if (state.session && sessionTokenStale()) refreshNow();
  }
  document.addEventListener('visibilitychange', onVisible);
  window.addEventListener('pageshow', e => e.persisted && onVisible());

  // ── Loading ──────────────────────────────────────────────────────────────────────────────
  let loadP = null;
  function load() {
    if (loadP) return loadP;
    loadP = (async () => {
      // Optional: only default URLs come from it.
      fapi('GET', '/environment', null, { raw: true }).then(env => ((state.env = env), rerender()), noop);
      for (let attempt = 0; ; attempt++) {
        try {
          await reloadClient(true);
          break;
        } catch (e) {
          // A 4xx will not get better (e.g. this origin is not allowed): load as signed out.
          if (attempt >= 3 || (e.status >= 400 && e.status < 500 && e.status !== 429)) {
            console.error('usher: could not load the client from ' + frontendApi, e);
            break;
          }
          await sleep(1000 * 2 ** attempt);
        }
      }
      state.loaded = true;
      state.lastReload = Date.now();
      if (state.session) {
        // Have a fresh token (and the __session cookie) in place before announcing "loaded".
        await getSessionToken(state.session.id, { skipCache: true }).catch(e => console.warn('usher: token', e));
      } else clearSessionCookie();
      window.Usher = clerk;
      publish();
      $clerk.set(clerk);
      $isLoaded.set(true);
      rerender();
      window.dispatchEvent(new CustomEvent('usher:loaded', { detail: clerk }));
      return clerk;
    })();
    return loadP;
  }

  // ── URLs and navigation ──────────────────────────────────────────────────────────────────
  const display = k => (state.env && state.env.display_config && state.env.display_config[k]) || null;
  const abs = u => new URL(u, location.href).href;
  const navigate = url => window.location.assign(url);
  function withRedirect(base, redirectUrl) {
    const u = new URL(base, location.href);
    if (redirectUrl) u.searchParams.set('redirect_url', abs(redirectUrl));
    return u.href;
  }
  const signInBase = () => options.signInUrl || display('sign_in_url') || frontendApi + '/sign-in';
  const signUpBase = () => options.signUpUrl || display('sign_up_url') || frontendApi + '/sign-up';
  const profileBase = () => options.userProfileUrl || display('user_profile_url') || frontendApi + '/user';
  const buildSignInUrl = (o = {}) => withRedirect(signInBase(), o.redirectUrl || location.href);
  const buildSignUpUrl = (o = {}) => withRedirect(signUpBase(), o.redirectUrl || location.href);
  const buildUserProfileUrl = () => abs(profileBase());

  /** The current page's `redirect_url` if it is http(s) and on an allowed origin. */
  function requestedRedirect() {
    const q = new URLSearchParams(location.search).get('redirect_url');
    if (!q) return null;
    try {
      const u = new URL(q, location.href);
      const allowed = [location.origin, frontendOrigin].concat(options.allowedRedirectOrigins || []); // exact origins
      if ((u.protocol === 'http:' || u.protocol === 'https:') && allowed.includes(u.origin)) return u.href;
    } catch (e) {
      /* not a URL: ignored */
    }
    return null;
  }
  const afterSignIn = () => requestedRedirect() || abs(options.afterSignInUrl || display('after_sign_in_url') || '/');
  const afterSignUp = () => requestedRedirect() || abs(options.afterSignUpUrl || display('after_sign_up_url') || '/');

  // ── The client object ($clerkStore, window.Usher) ─────────────────────────────────────────
  async function setActive({ session, redirectUrl, beforeEmit } = {}) {
    const id = session && typeof session === 'object' ? session.id : session;
    if (id == null) return signOut({ redirectUrl: redirectUrl === undefined ? null : redirectUrl });
    await fapi('POST', `/client/sessions/${enc(id)}/touch`);
    if (state.session && state.session.id === id) await getSessionToken(id).catch(e => console.warn('usher: token', e));
    if (beforeEmit) await beforeEmit(state.session);
    if (redirectUrl) navigate(abs(redirectUrl));
  }

  /** signOut(), signOut({sessionId, redirectUrl}), signOut(callback, options): Clerk's signatures. */
  async function signOut(a, b) {
    const cb = typeof a === 'function' ? a : null;
    const opts = (cb ? b : a) || {};
    const sessions = state.client ? state.client.activeSessions : [];
    const sid = opts.sessionId || (state.session && state.session.id);
    try {
      if (opts.sessionId || sessions.length <= 1) {
        if (sid) await fapi('POST', `/client/sessions/${enc(sid)}/end`);
      } else await fapi('DELETE', '/client/sessions');
    } catch (e) {
      if (e.status !== 401 && e.status !== 404) throw e;
      await reloadClient(false); // already signed out elsewhere: just catch up
    }
    if (!state.session) clearSessionCookie();
    if (cb) return cb();
    if (opts.redirectUrl === null) return;
    navigate(abs(opts.redirectUrl || options.afterSignOutUrl || display('after_sign_out_all_url') || '/'));
  }

  function addListener(cb) {
    clerkListeners.add(cb);
    if (state.loaded) cb({ client: state.client, session: state.session, user: state.session ? state.session.user : null, organization: null });
    return () => clerkListeners.delete(cb);
  }

  async function getToken(opts) {
    await load();
    return state.session ? state.session.getToken(opts || {}) : null;
  }

  const clerk = {
    version: VERSION,
    frontendApi,
    publishableKey: options.publishableKey || null,
    get loaded() { return state.loaded; },
    get client() { return state.client; },
    get session() { return state.session; },
    get user() { return state.session ? state.session.user : null; },
    get organization() { return null; },
    get signIn() { return state.client ? state.client.signIn : toSignIn(null); },
    get signUp() { return state.client ? state.client.signUp : toSignUp(null); },
    load, signOut, setActive, addListener, getToken,
    buildSignInUrl, buildSignUpUrl, buildUserProfileUrl,
    buildAfterSignInUrl: afterSignIn, buildAfterSignUpUrl: afterSignUp,
    openSignIn: (o = {}) => navigate(buildSignInUrl(o)),
    redirectToSignIn: (o = {}) => navigate(buildSignInUrl({ redirectUrl: o.redirectUrl || o.signInForceRedirectUrl })),
    openSignUp: (o = {}) => navigate(buildSignUpUrl(o)),
    redirectToSignUp: (o = {}) => navigate(buildSignUpUrl({ redirectUrl: o.redirectUrl || o.signUpForceRedirectUrl })),
    openUserProfile: () => navigate(buildUserProfileUrl()),
    redirectToUserProfile: () => navigate(buildUserProfileUrl()),
    redirectToAfterSignIn: () => navigate(afterSignIn()),
    redirectToAfterSignOut: () => navigate(abs(options.afterSignOutUrl || '/')),
  };

  // ── Appearance and updateOptions ─────────────────────────────────────────────────────────
  function applyAppearance() {
    const vars = (options.appearance && options.appearance.variables) || {};
    for (const [k, v] of Object.entries(vars)) {
      if (typeof v !== 'string' && typeof v !== 'number') continue;
      document.documentElement.style.setProperty('--usher-' + k.replace(/[A-Z]/g, c => '-' + c.toLowerCase()), String(v));
    }
  }
  /** updateClerkOptions(): merges localization keys and appearance, re-renders every component. */
  function updateOptions(o = {}) {
    if (o.localization) options.localization = Object.assign({}, options.localization, flatten(o.localization));
    if (o.appearance) {
      const prev = options.appearance || {};
      options.appearance = Object.assign({}, prev, o.appearance, {
        variables: Object.assign({}, prev.variables, o.appearance.variables),
      });
      applyAppearance();
    }
    textVersion++;
    rerender();
  }

  // ── DOM helpers ──────────────────────────────────────────────────────────────────────────
  function h(tag, props, ...kids) {
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
  function injectStyles() {
    if (styled) return;
    styled = true;
    // :where() keeps specificity at zero so that page styles always win.
    const css = `
:where(usher-sign-in,usher-sign-up,usher-user-profile,usher-user-button,usher-sign-in-button,usher-sign-up-button,usher-sign-out-button){
--_p:var(--usher-color-primary,#3b49df);--_op:var(--usher-color-text-on-primary-background,#fff);--_t:var(--usher-color-text,#1f2328);
--_m:var(--usher-color-text-secondary,#57606a);--_bg:var(--usher-color-background,#fff);--_d:var(--usher-color-danger,#b42318);
--_ok:var(--usher-color-success,#1a7f37);--_n:var(--usher-color-neutral,#d0d7de);--_r:var(--usher-border-radius,.5rem);
--_ib:var(--usher-color-input-background,#fff);--_it:var(--usher-color-input-text,var(--_t));
font-family:var(--usher-font-family,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);font-size:var(--usher-font-size,1rem);line-height:1.45;color:var(--_t)}
:where(usher-sign-in,usher-sign-up,usher-user-profile){display:block}usher-signed-in[hidden],usher-signed-out[hidden],usher-protect[hidden]{display:none!important}
:where(.usher-card){box-sizing:border-box;width:100%;max-width:26rem;margin:0 auto;padding:1.5rem;background:var(--_bg);border:1px solid var(--_n);border-radius:calc(var(--_r)*1.5);box-shadow:0 1px 3px rgba(0,0,0,.08)}
:where(.usher-profile){max-width:36rem}:where(.usher-card h2){margin:0 0 .25rem;font-size:1.3rem}:where(.usher-card h3){margin:0 0 .75rem;font-size:1.05rem}
:where(.usher-sub){margin:0 0 1.25rem;color:var(--_m)}:where(.usher-field){display:flex;flex-direction:column;gap:.3rem;margin-bottom:1rem}
:where(.usher-field label){font-weight:600;font-size:.9rem}:where(.usher-hint){font-weight:400;color:var(--_m)}
:where(.usher-input){box-sizing:border-box;width:100%;min-height:2.75rem;padding:.6rem .75rem;font:inherit;font-size:16px;color:var(--_it);background:var(--_ib);border:1px solid #8c959f;border-radius:var(--_r)}
:where(.usher-input:focus-visible,.usher-button:focus-visible,.usher-link:focus-visible){outline:2px solid var(--_p);outline-offset:2px}
:where(.usher-input[aria-invalid=true]){border-color:var(--_d)}
:where(.usher-button){box-sizing:border-box;display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;padding:.55rem 1rem;font:inherit;font-weight:600;color:var(--_t);background:var(--_bg);border:1px solid var(--_n);border-radius:var(--_r);cursor:pointer}
:where(.usher-button[disabled]){opacity:.6;cursor:progress}:where(.usher-primary){background:var(--_p);color:var(--_op);border-color:transparent}
:where(.usher-block){width:100%}:where(.usher-link){background:none;border:0;padding:.25rem 0;font:inherit;color:var(--_p);text-decoration:underline;cursor:pointer}
:where(.usher-links){display:flex;flex-wrap:wrap;gap:.5rem 1rem;margin-top:1rem}
:where(.usher-alert){margin:0 0 1rem;padding:.6rem .75rem;border:1px solid currentColor;border-radius:var(--_r);color:var(--_d);background:#fef3f2}
:where(.usher-status){margin:0 0 1rem;color:var(--_ok)}:where(.usher-foot){margin:1.25rem 0 0;color:var(--_m)}:where(.usher-foot a){color:var(--_p)}
:where(.usher-section){border-top:1px solid var(--_n);margin-top:1.25rem;padding-top:1.25rem}:where(.usher-list){list-style:none;margin:0 0 1rem;padding:0}
:where(.usher-row){display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;padding:.5rem 0;border-bottom:1px solid var(--_n)}
:where(.usher-badge){font-size:.75rem;padding:.1rem .5rem;border-radius:999px;background:#eaeef2;color:var(--_t)}
:where(.usher-check){display:flex;gap:.5rem;align-items:center;margin-bottom:1rem}:where(.usher-ub){position:relative;display:inline-block}
:where(.usher-avatar){width:2.5rem;height:2.5rem;padding:0;border-radius:50%;border:0;background:var(--_p);color:var(--_op);font:inherit;font-weight:700;cursor:pointer;overflow:hidden}
:where(.usher-avatar img){width:100%;height:100%;object-fit:cover}
:where(.usher-menu){position:absolute;right:0;top:calc(100% + .5rem);z-index:1000;min-width:15rem;max-width:calc(100vw - 1rem);box-sizing:border-box;padding:.5rem 0;background:var(--_bg);border:1px solid var(--_n);border-radius:var(--_r);box-shadow:0 8px 24px rgba(0,0,0,.15)}
:where(.usher-menu-head){padding:.5rem 1rem;border-bottom:1px solid var(--_n);margin-bottom:.25rem;overflow-wrap:anywhere}
:where(.usher-menu [role=menuitem]){display:block;box-sizing:border-box;width:100%;min-height:2.75rem;padding:.65rem 1rem;text-align:left;font:inherit;color:var(--_t);background:none;border:0;text-decoration:none;cursor:pointer}
:where(.usher-menu [role=menuitem]:hover,.usher-menu [role=menuitem]:focus){background:#f3f4f6}
@media (max-width:420px){:where(.usher-card){padding:1rem;border-radius:var(--_r)}}`;
    document.head.appendChild(h('style', { id: 'usher-styles' }, css));
  }

  /** Message and input name for a failed call; the input is focused and marked invalid. */
  function errorInfo(err) {
    const e = err && err.errors && err.errors[0];
    if (!e) return { message: t('unstable__errors.unexpected'), param: null };
    let message = t('unstable__errors.' + e.code, { seconds: err.retryAfter || '' });
    if (e.code === 'too_many_requests' && !err.retryAfter && !options.localization['unstable__errors.too_many_requests']) message = null;
    message = message || e.longMessage || e.long_message || e.message || t('unstable__errors.unexpected');
    return { message, param: (e.meta && (e.meta.paramName || e.meta.param_name)) || null };
  }

  let uid = 0;
  /**
   * Base of the rendering components: a re-render replaces the children, so it keeps what the user
   * typed (inputs whose value differs from the rendered default) and the focus. Re-renders happen
   * only when viewKey() changes, i.e. not on every token refresh.
   */
  class UsherElement extends HTMLElement {
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
      this._off = onRender(() => this.update());
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
      const key = textVersion + '|' + this.viewKey();
      if (key === this._key) return;
      this._key = key;
      const edits = {};
      for (const el of this.querySelectorAll('input')) {
        if (!el.name || this._discard === true || (this._discard && this._discard.includes(el.name))) continue;
        if (el.type === 'checkbox' ? el.checked !== el.defaultChecked : el.value !== el.defaultValue) edits[el.name] = el.type === 'checkbox' ? el.checked : el.value;
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
        h('input', Object.assign({ id, name, class: 'usher-input', 'aria-invalid': invalid ? 'true' : null, 'aria-describedby': invalid ? alertId : null }, attrs)));
    }
    /** The live region: always `role="alert"`, hidden while empty. */
    alert(key, err) {
      return h('div', { id: this.id(key), class: 'usher-alert', role: 'alert', 'aria-live': 'assertive', tabindex: '-1', hidden: !err }, err ? err.message : '');
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
        const info = errorInfo(err);
        const hasInput = info.param && this.querySelector(`input[name="${info.param}"]`);
        this._focus = hasInput ? `input[name="${info.param}"]` : '#' + this.id(section + '-alert');
        this.setState({ [section]: Object.assign({}, this.s[section], { busy: false, error: info }) });
      }
    }
    submit(label, busy) {
      return h('button', { type: 'submit', class: 'usher-button usher-primary usher-block', 'data-k': 'submit', disabled: !!busy, 'aria-busy': busy ? 'true' : null }, label);
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
  const card = (cls, title, sub, ...kids) => h('div', { class: 'usher-card ' + cls }, h('h2', null, title), sub ? h('p', { class: 'usher-sub' }, sub) : null, kids);
  const formValues = ev => Object.fromEntries(new FormData(ev.target).entries());
  const signedIn = () => !!$auth.get().userId;
  /** After a completed sign-in or sign-up: make the session active (token + cookie), then go on. */
  async function finish(sessionId, target) {
    await setActive({ session: sessionId });
    navigate(target);
  }

  // ── <usher-sign-in> ──────────────────────────────────────────────────────────────────────
  /** Shared by sign-in and sign-up: the "redirecting" and "already signed in" cards, and the code step. */
  class FlowElement extends UsherElement {
    viewKey() { return JSON.stringify([this.s, state.loaded, signedIn()]); }
    finished(cls, title, target) {
      if (this.s.step === 'done') return card(cls, title, null, h('p', { role: 'status' }, t('redirecting')));
      if (!signedIn()) return null;
      return card(cls, title, t('signIn.alreadySignedIn'), h('a', { class: 'usher-button usher-primary usher-block', href: target() }, t('signIn.continue')));
    }
    codeStep(cls, title, subtitle, attempt, resendLabel, resend) {
      return card(cls, title, subtitle, this.alert('form-alert', this.s.form.error),
        this.form('form', v => attempt((v.code || '').trim()),
          this.field('code', t('formFieldLabel__code'), { inputmode: 'numeric', autocomplete: 'one-time-code', required: true, maxlength: '10' }, this.s.form.error, this.id('form-alert')),
          this.submit(t('formButtonPrimary'), this.s.form.busy)),
        h('div', { class: 'usher-links' }, this.linkButton('resend', resendLabel, () => this.run('form', resend)), this.extraLink && this.extraLink()));
    }
  }
  class SignInElement extends FlowElement {
    init() { return { mode: 'password', step: 'start', identifier: '', safeId: '', form: {} }; }
    render() {
      const f = this.s.form;
      const cls = 'usher-sign-in';
      const done = this.finished(cls, t('signIn.start.title'), afterSignIn);
      if (done) return done;
      if (this.s.step === 'code') {
        return this.codeStep(cls, t('signIn.emailCode.title'), t('signIn.emailCode.subtitle', { identifier: this.s.safeId }),
          async code => this.complete(await (this.si || clerk.signIn).attemptFirstFactor({ strategy: 'email_code', code })),
          t('signIn.emailCode.resend'), () => this.sendCode(this.s.identifier));
      }
      const pw = this.s.mode === 'password';
      const alertId = this.id('form-alert');
      return card(cls, t('signIn.start.title'), t('signIn.start.subtitle'), this.alert('form-alert', f.error),
        this.form('form', v => this.start(v),
          this.field('identifier', t('formFieldLabel__emailAddress'), { type: 'email', autocomplete: 'username', required: true, value: this.s.identifier }, f.error, alertId),
          pw ? this.field('password', t('formFieldLabel__password'), { type: 'password', autocomplete: 'current-password', required: true }, f.error, alertId) : null,
          this.submit(pw ? t('formButtonPrimary') : t('signIn.emailCode.send'), f.busy)),
        h('div', { class: 'usher-links' },
          this.linkButton(pw ? 'to-code' : 'to-password', pw ? t('signIn.emailCode.start') : t('signIn.password.start'), () => {
            const input = this.querySelector('input[name="identifier"]'); // keep the typed address
            this.setState({ mode: pw ? 'email_code' : 'password', identifier: input ? input.value : '', form: {} });
          })),
        h('p', { class: 'usher-foot' }, t('signIn.start.actionText') + ' ',
          h('a', { href: withRedirect(signUpBase(), requestedRedirect()) }, t('signIn.start.actionLink'))));
    }
    extraLink() {
      return this.linkButton('to-password', t('signIn.password.start'), () => this.setState({ mode: 'password', step: 'start', form: {} }));
    }
    async start(v) {
      const identifier = (this.s.identifier = (v.identifier || '').trim());
      if (this.s.mode !== 'password') return this.sendCode(identifier);
      let si = await clerk.signIn.create({ strategy: 'password', identifier, password: v.password });
      if (si.status === 'needs_first_factor') si = await si.attemptFirstFactor({ strategy: 'password', password: v.password });
      await this.complete(si);
    }
    /** Creates the sign-in (unless resending) and mails a code to the email_code factor's address. */
    async sendCode(identifier) {
      let si = this.si || clerk.signIn;
      if (!si.id || this.s.step !== 'code') si = await clerk.signIn.create({ identifier });
      const factor = si.supportedFirstFactors.find(x => x.strategy === 'email_code');
      this.si = await si.prepareFirstFactor({ strategy: 'email_code', emailAddressId: factor && factor.emailAddressId });
      this._focus = 'input[name="code"]';
      this._discard = ['code'];
      Object.assign(this.s, { step: 'code', safeId: (factor && factor.safeIdentifier) || identifier });
    }
    async complete(si) {
      if (si.status !== 'complete' || !si.createdSessionId) throw new UsherError(t('unstable__errors.unexpected'));
      this.s.step = 'done';
      await finish(si.createdSessionId, afterSignIn());
    }
  }

  // ── <usher-sign-up> ──────────────────────────────────────────────────────────────────────
  class SignUpElement extends FlowElement {
    init() { return { step: 'start', email: '', form: {} }; }
    render() {
      const f = this.s.form;
      const cls = 'usher-sign-up';
      const done = this.finished(cls, t('signUp.start.title'), afterSignUp);
      if (done) return done;
      if (this.s.step === 'verify') {
        return this.codeStep(cls, t('signUp.emailCode.title'), t('signUp.emailCode.subtitle', { emailAddress: this.s.email }),
          async code => this.complete(await (this.su || clerk.signUp).attemptEmailAddressVerification({ code })),
          t('signUp.emailCode.resend'), () => (this.su || clerk.signUp).prepareEmailAddressVerification());
      }
      const opt = t('formFieldHintText__optional');
      const alertId = this.id('form-alert');
      return card(cls, t('signUp.start.title'), t('signUp.start.subtitle'), this.alert('form-alert', f.error),
        this.form('form', v => this.start(v),
          this.field('first_name', t('formFieldLabel__firstName'), { autocomplete: 'given-name' }, f.error, alertId, opt),
          this.field('last_name', t('formFieldLabel__lastName'), { autocomplete: 'family-name' }, f.error, alertId, opt),
          this.field('email_address', t('formFieldLabel__emailAddress'), { type: 'email', autocomplete: 'email', required: true, value: this.s.email }, f.error, alertId),
          this.field('password', t('formFieldLabel__password'), { type: 'password', autocomplete: 'new-password', required: true }, f.error, alertId),
          this.submit(t('formButtonPrimary'), f.busy)),
        h('p', { class: 'usher-foot' }, t('signUp.start.actionText') + ' ',
          h('a', { href: withRedirect(signInBase(), requestedRedirect()) }, t('signUp.start.actionLink'))));
    }
    async start(v) {
      this.s.email = (v.email_address || '').trim();
      const su = await clerk.signUp.create({
        emailAddress: this.s.email, password: v.password,
        firstName: (v.first_name || '').trim() || undefined, lastName: (v.last_name || '').trim() || undefined,
      });
      if (su.status === 'complete') return this.complete(su);
      this.su = await su.prepareEmailAddressVerification({ strategy: 'email_code' });
      this._focus = 'input[name="code"]';
      this.s.step = 'verify';
    }
    async complete(su) {
      if (su.status !== 'complete' || !su.createdSessionId) {
        const missing = su.missingFields.concat(su.unverifiedFields).join(', ');
        throw new UsherError(t('unstable__errors.unexpected') + (missing ? ` (${missing})` : ''));
      }
      this.s.step = 'done';
      await finish(su.createdSessionId, afterSignUp());
    }
  }

  // ── <usher-user-button> ──────────────────────────────────────────────────────────────────
  function initials(u) {
    const s = ((u.firstName || '').charAt(0) + (u.lastName || '').charAt(0)).toUpperCase();
    return s || (u.primaryEmailAddress ? u.primaryEmailAddress.emailAddress.charAt(0).toUpperCase() : '?');
  }
  class UserButtonElement extends UsherElement {
    init() { return { open: false }; }
    viewKey() {
      const u = $user.get();
      return JSON.stringify([this.s, u ? [u.id, u.firstName, u.lastName, u.imageUrl, u.hasImage, String(u.primaryEmailAddress)] : null]);
    }
    connectedCallback() {
      super.connectedCallback();
      // Close on a click elsewhere or Escape (keyboard users must be able to leave the menu).
      // composedPath() is fixed at dispatch: still right after a re-render detached the target.
      this._outside = e => this.s.open && !e.composedPath().includes(this) && this.setState({ open: false });
      this._escape = e => e.key === 'Escape' && this.s.open && ((this._focus = '[data-k="trigger"]'), this.setState({ open: false }));
      document.addEventListener('click', this._outside);
      document.addEventListener('keydown', this._escape);
    }
    disconnectedCallback() {
      super.disconnectedCallback();
      document.removeEventListener('click', this._outside);
      document.removeEventListener('keydown', this._escape);
    }
    render() {
      const u = $user.get();
      if (!u) return document.createDocumentFragment();
      const email = u.primaryEmailAddress ? u.primaryEmailAddress.emailAddress : '';
      const menuId = this.id('menu');
      return h('div', { class: 'usher-ub' },
        h('button', {
          type: 'button', class: 'usher-avatar', 'data-k': 'trigger', 'aria-haspopup': 'menu', 'aria-expanded': String(this.s.open),
          'aria-controls': menuId, 'aria-label': `${t('userButton.label')}: ${u.fullName || email}`, title: email,
          onclick: () => {
            if (!this.s.open) this._focus = '[role=menuitem]';
            this.setState({ open: !this.s.open });
          },
        }, u.hasImage && u.imageUrl ? h('img', { src: u.imageUrl, alt: '' }) : initials(u)),
        this.s.open
          ? h('div', { id: menuId, class: 'usher-menu', role: 'menu', onkeydown: e => this.arrows(e) },
            h('div', { class: 'usher-menu-head' }, u.fullName ? h('strong', null, u.fullName, h('br')) : null, h('span', { class: 'usher-email' }, email)),
            h('a', { role: 'menuitem', href: buildUserProfileUrl(), 'data-k': 'manage' }, t('userButton.action__manageAccount')),
            h('button', { type: 'button', role: 'menuitem', 'data-k': 'signout', onclick: () => signOut().catch(e => console.error(e)) }, t('userButton.action__signOut')))
          : null);
    }
    arrows(e) {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      e.preventDefault();
      const items = Array.from(this.querySelectorAll('[role=menuitem]'));
      const i = items.indexOf(document.activeElement);
      items[(i + (e.key === 'ArrowDown' ? 1 : items.length - 1)) % items.length].focus();
    }
  }

  // ── <usher-user-profile> ─────────────────────────────────────────────────────────────────
  class UserProfileElement extends UsherElement {
    init() { return { profile: {}, emails: { pending: null }, password: {}, sessions: { list: null }, sessionsFor: null }; }
    viewKey() { return JSON.stringify([this.s, state.loaded, $user.get() ? storeKeys.get($user) : null, state.session && state.session.id]); }
    update() {
      const u = $user.get();
      if (u && this.s.sessionsFor !== u.id) {
        this.s.sessionsFor = u.id; // a (new) user: fetch their sessions once
        this.loadSessions();
      }
      super.update();
    }
    loadSessions() {
      const u = $user.get();
      if (!u) return;
      u.getSessions().then(
        list => this.setState({ sessions: { list: list.map(s => ({ id: s.id, at: s.lastActiveAt && s.lastActiveAt.getTime() })) } }),
        err => this.setState({ sessions: { list: this.s.sessions.list, error: errorInfo(err) } }));
    }
    /** A titled section with its own alert and success status. */
    section(key, title, ...kids) {
      const sec = this.s[key];
      return h('section', { class: 'usher-section', 'aria-labelledby': this.id('h-' + key) },
        h('h3', { id: this.id('h-' + key) }, title), this.alert(key + '-alert', sec.error),
        sec.ok ? h('p', { class: 'usher-status', role: 'status' }, sec.ok) : null, kids);
    }
    button(key, label, section, primary) {
      return h('button', { type: 'submit', class: 'usher-button' + (primary ? ' usher-primary' : ''), 'data-k': key, disabled: !!this.s[section].busy }, label);
    }
    render() {
      const u = $user.get();
      if (!state.loaded && !u) return h('p', { role: 'status' }, t('loading'));
      if (!u) {
        return card('usher-profile', t('userProfile.title'), t('userProfile.signedOut'),
          h('a', { class: 'usher-button usher-primary', href: buildSignInUrl() }, t('signInButton')));
      }
      const S = this.s;
      const current = state.session && state.session.id;
      const badge = text => h('span', { class: 'usher-badge' }, text);
      return card('usher-profile', t('userProfile.title'), null,
        this.section('profile', t('userProfile.profileSection.title'),
          this.form('profile', v => this.saveProfile(v),
            this.field('first_name', t('formFieldLabel__firstName'), { autocomplete: 'given-name', value: u.firstName || '' }, S.profile.error, this.id('profile-alert')),
            this.field('last_name', t('formFieldLabel__lastName'), { autocomplete: 'family-name', value: u.lastName || '' }, S.profile.error, this.id('profile-alert')),
            this.button('save-profile', t('userProfile.profileSection.save'), 'profile', true))),
        this.section('emails', t('userProfile.emailAddressesSection.title'),
          h('ul', { class: 'usher-list' }, u.emailAddresses.map(e => h('li', { class: 'usher-row' }, h('span', null, e.emailAddress),
            h('span', null, e.id === u.primaryEmailAddressId ? badge(t('userProfile.emailAddressesSection.primary')) : null,
              e.verification && e.verification.status !== 'verified'
                ? [badge(t('userProfile.emailAddressesSection.unverified')), ' ', S.emails.pending === e.id ? null
                  : this.linkButton('verify-' + e.id, t('userProfile.emailAddressesSection.verify'), () => this.run('emails', () => this.prepareEmail(e)))]
                : null)))),
          S.emails.pending
            ? this.form('emails', v => this.verifyEmail((v.email_code || '').trim()),
              this.field('email_code', t('formFieldLabel__code'), { inputmode: 'numeric', autocomplete: 'one-time-code', required: true }, S.emails.error, this.id('emails-alert')),
              this.button('verify-email', t('userProfile.emailAddressesSection.verify'), 'emails', true))
            : this.form('emails', v => this.addEmail((v.email_address || '').trim()),
              this.field('email_address', t('formFieldLabel__emailAddress'), { type: 'email', autocomplete: 'email', required: true }, S.emails.error, this.id('emails-alert')),
              this.button('add-email', t('userProfile.emailAddressesSection.add'), 'emails'))),
        this.section('password', t('userProfile.passwordSection.title'),
          this.form('password', v => this.changePassword(v),
            // The account name, for password managers (they pair it with the new password).
            h('input', { type: 'text', name: 'username', autocomplete: 'username', value: String(u.primaryEmailAddress || ''), hidden: true, 'aria-hidden': 'true', tabindex: '-1' }),
            u.passwordEnabled ? this.field('current_password', t('formFieldLabel__currentPassword'), { type: 'password', autocomplete: 'current-password', required: true }, S.password.error, this.id('password-alert')) : null,
            this.field('new_password', t('formFieldLabel__newPassword'), { type: 'password', autocomplete: 'new-password', required: true }, S.password.error, this.id('password-alert')),
            h('div', { class: 'usher-check' },
              h('input', { type: 'checkbox', id: this.id('signout-others'), name: 'sign_out_of_other_sessions', checked: true }),
              h('label', { for: this.id('signout-others') }, t('formFieldLabel__signOutOfOtherSessions'))),
            this.button('save-password', t('userProfile.passwordSection.submit'), 'password', true))),
        this.section('sessions', t('userProfile.sessionsSection.title'),
          h('ul', { class: 'usher-list' }, (S.sessions.list || []).map(s => h('li', { class: 'usher-row', 'data-session-id': s.id },
            h('span', null, s.at ? t('userProfile.sessionsSection.lastActive', { time: new Date(s.at).toLocaleString() }) : s.id),
            s.id === current
              ? badge(t('userProfile.sessionsSection.current'))
              : h('button', { type: 'button', class: 'usher-button', 'data-k': 'revoke-' + s.id, onclick: () => this.run('sessions', () => this.revoke(s.id)) }, t('userProfile.sessionsSection.revoke'))))),
          h('button', { type: 'button', class: 'usher-button', 'data-k': 'signout', onclick: () => signOut().catch(e => console.error(e)) }, t('signOutButton'))));
    }
    async saveProfile(v) {
      await $user.get().update({ firstName: v.first_name.trim(), lastName: v.last_name.trim() });
      this._discard = ['first_name', 'last_name'];
      this.s.profile = { ok: t('userProfile.profileSection.saved') };
    }
    async changePassword(v) {
      const others = !!v.sign_out_of_other_sessions;
      await $user.get().updatePassword({ currentPassword: v.current_password, newPassword: v.new_password, signOutOfOtherSessions: others });
      this._discard = ['current_password', 'new_password'];
      this.s.password = { ok: t('userProfile.passwordSection.updated') };
      if (others) this.loadSessions();
    }
    async addEmail(email) {
      await this.prepareEmail(await $user.get().createEmailAddress({ email }));
      this._discard = ['email_address'];
    }
    async prepareEmail(e) {
      await e.prepareVerification({ strategy: 'email_code' });
      this._focus = 'input[name="email_code"]';
      this.s.emails = { pending: e.id };
    }
    async verifyEmail(code) {
      await toEmail({ id: this.s.emails.pending }).attemptVerification({ code });
      this._discard = ['email_code'];
      this.s.emails = { pending: null, ok: t('userProfile.emailAddressesSection.verified') };
    }
    async revoke(id) {
      await toSession({ id }).revoke();
      this.loadSessions();
    }
  }

  // ── <usher-signed-in> / <usher-signed-out> / <usher-protect> ─────────────────────────────
  /** Before load, the server's initial state decides; with neither, stay hidden (no flash). */
  const known = () => state.loaded || initialState !== undefined;
  class Conditional extends HTMLElement {
    connectedCallback() {
      injectStyles();
      this._off = onRender(() => this.sync());
      this.sync();
    }
    disconnectedCallback() {
      if (this._off) this._off();
    }
  }
  class SignedInElement extends Conditional {
    sync() { this.hidden = !(known() && !!$auth.get().userId); }
  }
  class SignedOutElement extends Conditional {
    sync() { this.hidden = !(known() && !$auth.get().userId); }
  }
  /** Shadow DOM with two slots: unassigned children are not rendered, text nodes included. */
  class ProtectElement extends Conditional {
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
      const a = $auth.get();
      const role = this.getAttribute('role');
      const perm = this.getAttribute('permission');
      const ok = !!a.userId && (!role || a.orgRole === role) && (!perm || (Array.isArray(a.orgPermissions) && a.orgPermissions.includes(perm)));
      const show = !known() ? null : ok ? this.main : this.fallback;
      if (show === this.shown) return;
      this.shown = show;
      this.root.replaceChildren(...(show ? [show] : []));
    }
  }

  // ── <usher-sign-in-button> / <usher-sign-up-button> / <usher-sign-out-button> ────────────
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
  const SignInButton = actionButton('signInButton', 'usher-primary', r => navigate(buildSignInUrl({ redirectUrl: r || location.href })));
  const SignUpButton = actionButton('signUpButton', '', r => navigate(buildSignUpUrl({ redirectUrl: r || location.href })));
  const SignOutButton = actionButton('signOutButton', '', r => signOut(r ? { redirectUrl: r } : {}));

  // ── Exports and start ────────────────────────────────────────────────────────────────────
  window.usher = {
    version: VERSION,
    $authStore: readonly($auth),
    $clerkStore: readonly($clerk),
    $userStore: readonly($user),
    $sessionStore: readonly($session),
    $sessionListStore: readonly($sessionList),
    $organizationStore: readonly($organization),
    $clientStore: readonly($client),
    $signInStore: readonly($signIn),
    $signUpStore: readonly($signUp),
    $isLoadedStore: readonly($isLoaded),
    updateOptions,
    getToken,
    load,
    UsherError,
    get clerk() { return state.loaded ? clerk : null; },
  };
  applyAppearance();
  const define = (name, cls) => customElements.get(name) || customElements.define(name, cls);
  define('usher-sign-in', SignInElement);
  define('usher-sign-up', SignUpElement);
  define('usher-user-button', UserButtonElement);
  define('usher-user-profile', UserProfileElement);
  define('usher-signed-in', SignedInElement);
  define('usher-signed-out', SignedOutElement);
  define('usher-protect', ProtectElement);
  define('usher-sign-in-button', SignInButton);
  define('usher-sign-up-button', SignUpButton);
  define('usher-sign-out-button', SignOutButton);
  load().catch(e => console.error('usher: load failed', e));
})();
