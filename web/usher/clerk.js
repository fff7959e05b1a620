// The client object (`$clerkStore`, `window.Usher`): loading, URLs and navigation, sign-out and
// setActive. No DOM access at import: the window (location, events) is passed in.
import { UsherError, normError } from './fapi.js';
import { activeOrganization } from './stores.js';
import { enc, noop, sleep } from './util.js';

/**
 * `session` from createSession(), `stores` from createStores(), `options` the page's options,
 * `win` the window: its location for URLs and navigation, `Usher` and the `usher:loaded` event
 * once loaded.
 */
export function createClerk({ version, frontendApi, options, session, stores, win }) {
  const { state, fapi, getSessionToken, reloadClient, resources } = session;
  const location = win.location;
  const frontendOrigin = new URL(frontendApi).origin;

  // ── URLs and navigation ────────────────────────────────────────────────────────────────────
  const display = k => (state.env && state.env.display_config && state.env.display_config[k]) || null;
  const abs = u => new URL(u, location.href).href;
  const navigate = url => location.assign(url);
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
      const allowed = [location.origin, frontendOrigin].concat(options.allowedRedirectOrigins || []); // exact
      if ((u.protocol === 'http:' || u.protocol === 'https:') && allowed.includes(u.origin)) return u.href;
    } catch (e) {
      /* not a URL: ignored */
    }
    return null;
  }
  const afterSignIn = () => requestedRedirect() || abs(options.afterSignInUrl || display('after_sign_in_url') || '/');
  const afterSignUp = () => requestedRedirect() || abs(options.afterSignUpUrl || display('after_sign_up_url') || '/');

  // ── Loading ────────────────────────────────────────────────────────────────────────────────
  let loadP = null;
  function load() {
    if (loadP) return loadP;
    loadP = (async () => {
      // Optional: only default URLs come from it.
      fapi('GET', '/environment', null, { raw: true }).then(env => ((state.env = env), session.rerender()), noop);
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
      } else session.clearSessionCookie();
      win.Usher = clerk;
      session.publish();
      stores.update({ clerk, isLoaded: true });
      session.rerender();
      win.dispatchEvent(new win.CustomEvent('usher:loaded', { detail: clerk }));
      return clerk;
    })();
    return loadP;
  }

  // ── The client object ──────────────────────────────────────────────────────────────────────
  async function setActive({ session: target, organization, redirectUrl, beforeEmit } = {}) {
    const id = target === undefined && state.session ? state.session.id
      : (target && typeof target === 'object' ? target.id : target);
    if (id == null) return signOut({ redirectUrl: redirectUrl === undefined ? null : redirectUrl });
    const body = {};
    if (organization !== undefined) {
      // An id, a slug (resolved through the user's memberships), an organization, or null for
      // the personal account.
      const wanted = organization && typeof organization === 'object' ? organization.id : organization;
      const memberships = (state.session && state.session.user && state.session.user.organizationMemberships) || [];
      const m = wanted ? memberships.find(x => x.organization.id === wanted || x.organization.slug === wanted) : null;
      body.active_organization_id = m ? m.organization.id : (wanted || '');
      body.intent = 'select_org';
    }
    await fapi('POST', `/client/sessions/${enc(id)}/touch`, body);
    if (state.session && state.session.id === id) {
      // A new organization means a new token: the cached one carries the old `o` claim.
      await getSessionToken(id, { skipCache: organization !== undefined }).catch(e => console.warn('usher: token', e));
    }
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
    if (!state.session) session.clearSessionCookie();
    if (cb) return cb();
    if (opts.redirectUrl === null) return;
    navigate(abs(opts.redirectUrl || options.afterSignOutUrl || display('after_sign_out_all_url') || '/'));
  }

  /**
   * Clerk's `handleRedirectCallback(params, customNavigate)`, on the page usher's
   * `/v1/oauth_callback` sent the browser back to (the `redirectUrl` of `authenticateWithRedirect`):
   * a completed sign-in or sign-up becomes the active session; a `transferable` sign-in (the
   * provider vouched for someone with no user yet) becomes a sign-up with `transfer: true`; a
   * sign-in that `needs_second_factor` goes on to `secondFactorUrl` (default: the sign-in page).
   * A failed verification throws its error.
   */
  async function handleRedirectCallback(params = {}, customNavigate) {
    const go = url => (customNavigate || navigate)(abs(url));
    await reloadClient(false);
    const client = state.client;
    if (!client) throw new UsherError('No client', { errors: [{ code: 'client_not_found' }] });
    const si = client.signIn;
    let su = client.signUp;
    const done = (id, target) => setActive({ session: id }).then(() => go(target));
    const afterIn = () => params.signInForceRedirectUrl || params.redirectUrl || afterSignIn();
    const afterUp = () => params.signUpForceRedirectUrl || params.redirectUrl || afterSignUp();
    const ext = su.verifications.externalAccount;
    if (su.status === 'complete' && su.createdSessionId && ext) return done(su.createdSessionId, afterUp());
    if (si.status === 'complete' && si.createdSessionId) return done(si.createdSessionId, afterIn());
    const first = si.firstFactorVerification;
    if (first && first.status === 'transferable') {
      su = await resources.toSignUp(null).create({ transfer: true });
      if (su.status === 'complete' && su.createdSessionId) return done(su.createdSessionId, afterUp());
      return go(params.continueSignUpUrl || signUpBase());
    }
    if (si.status === 'needs_second_factor') return go(params.secondFactorUrl || signInBase());
    const failed = [first, ext].find(v => v && v.status === 'failed');
    if (failed && failed.error) {
      throw new UsherError(failed.error.message || 'Sign-in failed', { errors: [normError(failed.error)] });
    }
    if (state.session) return go(afterIn());
    return go(params.signInUrl || signInBase());
  }

  async function getToken(opts) {
    await load();
    return state.session ? state.session.getToken(opts || {}) : null;
  }

  const clerk = {
    version,
    frontendApi,
    publishableKey: options.publishableKey || null,
    get loaded() { return state.loaded; },
    get client() { return state.client; },
    get session() { return state.session; },
    get user() { return state.session ? state.session.user : null; },
    get organization() { return activeOrganization(state.session); },
    get signIn() { return state.client ? state.client.signIn : resources.toSignIn(null); },
    get signUp() { return state.client ? state.client.signUp : resources.toSignUp(null); },
    load, signOut, setActive, addListener: session.addListener, getToken, handleRedirectCallback,
    createOrganization: resources.createOrganization, getOrganization: resources.getOrganization,
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

  return {
    clerk, load, getToken, signOut, setActive, navigate, handleRedirectCallback, withRedirect, signInBase, signUpBase,
    requestedRedirect, afterSignIn, afterSignUp, buildSignInUrl, buildSignUpUrl, buildUserProfileUrl,
  };
}
