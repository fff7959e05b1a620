// The client state behind the stores: the Client from the Frontend API, the active session's
// tokens and the `__session` cookie, refresh before expiry, and keeping tabs in step. No DOM access
// at import: the cookie jar, fetch and the cross-tab channel are passed in.
import { createFapi } from './fapi.js';
import { createResources } from './resources.js';
import { activeOrganization } from './stores.js';
import { decodeJwt, enc, noop, safely } from './util.js';

/**
 * Lifetimes are measured on the local clock from the moment of receipt (exp - iat), so a skewed
 * browser clock cannot make us use expired tokens. A token is "stale" ~10 s before it expires
 * (half its life for very short lifetimes), and the refresh timer fires then.
 */
export function tokenTimes(jwt, now = Date.now()) {
  const c = decodeJwt(jwt) || {};
  const life = c.exp && c.iat ? Math.max(1, c.exp - c.iat) * 1000 : 60000;
  const expiresAt = now + life;
  return { claims: c, expiresAt, staleAt: expiresAt - Math.min(10000, life / 2) };
}

/** Sessions and users: what other tabs must hear about when it changes. */
function signature(raw) {
  if (!raw) return '';
  return JSON.stringify([raw.last_active_session_id, (raw.sessions || []).map(s => [s.id, s.status, s.user])]);
}

/**
 * The cross-tab channel of a window: a BroadcastChannel, else `storage` events on localStorage.
 * `{post(message), listen(callback)}`; post may throw (storage unavailable in private mode).
 */
export function tabChannel(win) {
  if (typeof win.BroadcastChannel === 'function') {
    const channel = new win.BroadcastChannel('usher');
    return { post: msg => channel.postMessage(msg), listen: cb => (channel.onmessage = e => cb(e.data)) };
  }
  return {
    post: msg => win.localStorage.setItem('usher:client', JSON.stringify(msg)),
    listen: cb =>
      win.addEventListener('storage', e => e.key === 'usher:client' && e.newValue && cb(JSON.parse(e.newValue))),
  };
}

/**
 * The client state of one page. `stores` from createStores(); `cookies` has document.cookie's
 * `cookie` property; `secureCookies` adds `Secure` (https pages); `tabs` from tabChannel() (none:
 * no cross-tab messages). `fetch` and `t` go to the Frontend API client.
 */
export function createSession({ frontendApi, fetch, t, stores, cookies, secureCookies = false, tabs = null }) {
  // raw: the Client JSON; client/session: its resources (session = the active one); jwt: the active
  // session's latest token; env: GET /v1/environment; seq: bumped by every applyClient (detects
  // stale GET /v1/client answers); sig: sessions and users, to tell other tabs about changes.
  const state = {
    loaded: false, raw: null, client: null, session: null, jwt: null, env: null, seq: 0, sig: '', lastReload: 0,
  };

  const renderListeners = new Set();
  const clerkListeners = new Set();
  const onRender = cb => (renderListeners.add(cb), () => renderListeners.delete(cb));
  const rerender = () => Array.from(renderListeners).forEach(cb => safely(cb));
  const clerkEvent = () => ({
    client: state.client, session: state.session, user: state.session ? state.session.user : null,
    organization: activeOrganization(state.session),
  });

  /** Brings every store up to date with `state`, then lets components and listeners know. */
  function publish() {
    const { loaded, raw, client, session, jwt } = state;
    if (!stores.update({ loaded, raw, client, session, jwt })) return;
    rerender();
    const ev = clerkEvent();
    for (const cb of Array.from(clerkListeners)) safely(cb, ev);
  }

  /** Clerk's addListener(): called at once when loaded, then on every change. */
  function addListener(cb) {
    clerkListeners.add(cb);
    if (state.loaded) cb(clerkEvent());
    return () => clerkListeners.delete(cb);
  }

  const fapi = createFapi({
    frontendApi, fetch, t,
    onClient: raw => applyClient(raw, 'local'),
    // A session that ended elsewhere (another tab, a revoke, an admin): resynchronise.
    onUnauthorized: path => path !== '/client' && state.loaded && queueReload(),
  });

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

  const resources = createResources({ fapi, meCall, getSessionToken, reloadClient, state });

  /** Installs a new Client (null: none). `origin` 'local' = caused by this tab, so tell the others. */
  function applyClient(raw, origin) {
    state.seq++;
    const prevSig = state.sig;
    const prevActive = state.session ? state.session.id : null;
    state.raw = raw || null;
    state.client = raw ? resources.toClient(raw) : null;
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

  const secure = secureCookies ? '; Secure' : '';
  /**
   * `__session` on the page's own host: the app's server reads it (the usher SDK, @clerk/backend),
   * and usher's own cookie does not reach the app when the two are on different hosts.
   * `__client_uat` is what @clerk/backend compares with the token's `iat`; we keep it <= iat so
   * that a fresh token is never considered older than the client.
   */
  function setSessionCookie(jwt, claims) {
    cookies.cookie = `__session=${jwt}; path=/; SameSite=Lax${secure}`;
    const updated = state.raw && state.raw.updated_at ? Math.floor(state.raw.updated_at / 1000) : 0;
    const uat = claims && claims.iat ? Math.min(updated || claims.iat, claims.iat) : updated;
    cookies.cookie = `__client_uat=${uat}; path=/; Max-Age=31536000; SameSite=Strict${secure}`;
  }
  function clearSessionCookie() {
    if (/(^|;\s*)__session=/.test(cookies.cookie)) {
      cookies.cookie = `__session=; path=/; Max-Age=0; SameSite=Lax${secure}`;
    }
    cookies.cookie = `__client_uat=0; path=/; Max-Age=31536000; SameSite=Strict${secure}`;
  }

  const tokenCache = new Map(); // "sid|template|org" -> {jwt, staleAt}
  const inflight = new Map();
  let refreshTimer = 0;

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
          if (state.seq === seq) {
            applyClient((json && (json.client || json.response)) || null, remote ? 'remote' : 'local');
          }
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

  // ── Cross-tab: a change in one tab makes the others reload their client ──────────────────────
  const tabId = Math.random().toString(36).slice(2);
  function broadcast() {
    if (!tabs) return;
    try {
      tabs.post({ type: 'client', tab: tabId, at: Date.now() });
    } catch (e) {
      /* storage may be unavailable (private mode); other tabs catch up when shown */
    }
  }
  if (tabs) {
    tabs.listen(msg => {
      if (msg && msg.type === 'client' && msg.tab !== tabId && state.loaded) reloadClient(true).catch(noop);
    });
  }

  /**
   * For a page shown again: timers are throttled in background tabs, and changes made on other
   * origins (usher's hosted pages) are not broadcast to us.
   */
  function catchUp() {
    if (!state.loaded) return;
    if (Date.now() - state.lastReload > 5000) reloadClient(true).catch(noop);
    if (state.session && sessionTokenStale()) refreshNow();
  }

  return {
    state, fapi, resources, publish, rerender, onRender, addListener, applyClient, getSessionToken,
    reloadClient, clearSessionCookie, catchUp,
  };
}
