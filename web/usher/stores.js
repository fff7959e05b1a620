// The stores: nanostores' interface (get / subscribe / listen) and, as in Clerk's Astro SDK, every
// public store computed from two internal atoms: the server's initial auth state and the client-side
// state. No DOM access: importable in Node.
import { decodeJwt, safely } from './util.js';

/** A writable store. Listeners get (value, previous) and only when the value is a different one. */
export function atom(initial) {
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

/**
 * A read-only store of `derive(...values of stores)`, recomputed whenever one of them changes.
 * With `keyOf` (same arguments), the value is only replaced when the key changes: resources are
 * rebuilt on every client update, and the key (the JSON of their raw data) tells whether their
 * content did, so listeners and components do not run needlessly. Eager (unlike nanostores'
 * lazy computed): these stores live as long as the page.
 */
export function computed(stores, derive, keyOf) {
  const values = () => stores.map(s => s.get());
  const $ = atom(derive(...values()));
  let key = keyOf ? keyOf(...values()) : undefined;
  const recompute = () => {
    const v = values();
    if (keyOf) {
      const next = keyOf(...v);
      if (next === key) return;
      key = next;
    }
    $.set(derive(...v));
  };
  for (const s of stores) s.listen(recompute);
  return { get: $.get, listen: $.listen, subscribe: $.subscribe, key: () => key };
}

/** What pages get: no `set`, no `key`. */
export const readonly = s => ({ get: s.get, listen: s.listen, subscribe: s.subscribe });

/** `org:` before a role or permission key that lacks it (Clerk compares both sides so). */
const withOrgPrefix = v => (v.startsWith('org:') ? v : 'org:' + v);

/**
 * Clerk's `has()` (`packages/shared/src/authorization.ts`) over an auth object's fields: false with
 * no signed-in user; at least one check must be asked and every one asked must pass (a role and a
 * permission together: both); they fail without an active organization; both sides carry the
 * `org:` prefix; a permission passes when the active membership holds it, a role on equality. usher has no billing,
 * so a `feature` or `plan` check is false.
 */
export function createHas({ userId, orgId, orgRole, orgPermissions }) {
  return (params = {}) => {
    if (!userId || !params || typeof params !== 'object') return false;
    const { role, permission, feature, plan } = params;
    const roleAsked = role !== undefined;
    const permissionAsked = permission !== undefined;
    if (feature !== undefined || plan !== undefined) return false;
    if (!roleAsked && !permissionAsked) return false;
    // Asked with something that is not a key: fail closed.
    if ((roleAsked && typeof role !== 'string') || (permissionAsked && typeof permission !== 'string')) return false;
    if (!orgId) return false;
    if (roleAsked && (!orgRole || withOrgPrefix(orgRole) !== withOrgPrefix(role))) return false;
    if (permissionAsked) {
      if (!Array.isArray(orgPermissions)) return false;
      if (!orgPermissions.map(withOrgPrefix).includes(withOrgPrefix(permission))) return false;
    }
    return true;
  };
}

/**
 * The auth object of `$authStore`. Before load it comes from the server's initial state (undefined
 * fields when the server told us nothing); after load from the active session: the organization
 * fields from the session's active organization and the user's membership of it (they change at
 * once on setActive and carry the system permissions, as clerk-js reads them), the token's claims
 * when the session names no organization the user belongs to.
 */
export function deriveAuth(csr, initial) {
  if (!csr.loaded) {
    const v = k => (initial ? (initial[k] === undefined ? null : initial[k]) : undefined);
    const auth = {
      userId: v('userId'), sessionId: v('sessionId'), orgId: v('orgId'), orgRole: v('orgRole'),
      orgSlug: v('orgSlug'), orgPermissions: v('orgPermissions'), user: undefined, session: undefined,
      sessionClaims: undefined, sessionStatus: undefined, organization: undefined, actor: undefined,
    };
    return Object.assign(auth, { has: createHas(auth) });
  }
  const session = csr.session;
  const user = session ? session.user : null;
  const jwt = csr.jwt || (session && session.lastActiveToken && session.lastActiveToken.jwt) || '';
  const claims = session ? decodeJwt(jwt) : null;
  // v2 session claims put the organization under `o`; v1 used flat org_* claims.
  const o = (claims && claims.o) || {};
  const membership = activeMembership(session);
  const organization = membership ? membership.organization : null;
  const auth = {
    userId: user ? user.id : null, sessionId: session ? session.id : null,
    sessionStatus: session ? session.status : null,
    orgId: null, orgRole: null, orgSlug: null, orgPermissions: null,
    user, session, sessionClaims: claims, organization, actor: session ? session.actor : null,
  };
  if (membership) {
    Object.assign(auth, {
      orgId: organization.id, orgRole: membership.role, orgSlug: organization.slug,
      orgPermissions: membership.permissions || [],
    });
  } else if (claims) {
    Object.assign(auth, {
      orgId: o.id || claims.org_id || null,
      orgRole: o.rol ? withOrgPrefix(o.rol) : claims.org_role || null,
      orgSlug: o.slg || claims.org_slug || null,
      orgPermissions: claims.org_permissions || (o.id ? [] : null),
    });
  }
  return Object.assign(auth, { has: createHas(auth) });
}

/** The user's membership of the session's `lastActiveOrganizationId`, if any. */
export function activeMembership(session) {
  const id = session && session.lastActiveOrganizationId;
  const memberships = (session && session.user && session.user.organizationMemberships) || [];
  return (id && memberships.find(x => x.organization && x.organization.id === id)) || null;
}

/** The organization whose id is the session's `lastActiveOrganizationId`, among the user's memberships. */
export function activeOrganization(session) {
  const m = activeMembership(session);
  return m ? m.organization : null;
}

// Keys of the raw Client JSON. Tokens are left out: a refresh changes no resource.
const noToken = s => s && Object.assign({}, s, { last_active_token: null });
const activeRaw = c => (c.raw && c.session ? c.raw.sessions.find(s => s.id === c.session.id) : null);
const userKey = c => (c.loaded ? JSON.stringify(activeRaw(c) ? activeRaw(c).user : null) : 'u');
const sessionKey = c => (c.loaded ? JSON.stringify(noToken(activeRaw(c))) : 'u');
const rawKey = (c, part) => (c.loaded ? JSON.stringify(c.raw ? part(c.raw) : null) : 'u');
const loadedOr = (c, value) => (c.loaded ? value : undefined);

/**
 * The store graph. `$csrState` holds {loaded, raw, client, session, jwt, clerk, isLoaded}: `loaded`
 * once the first client answer is in (until then the resource stores are `undefined`, as in
 * Clerk), `isLoaded`/`clerk` once the client object is announced. `update(patch)` merges into it
 * and says whether a data store (auth, user, session, client, sessions, sign-in, sign-up) changed.
 */
export function createStores(initialState) {
  const $initialState = atom(initialState);
  const $csrState = atom({
    loaded: false, raw: null, client: null, session: null, jwt: null, clerk: null, isLoaded: false,
  });
  const csr = [$csrState];
  // Creation order is notification order: data stores first, then $clerkStore, then $isLoadedStore.
  const $authStore = computed([$csrState, $initialState], deriveAuth, (c, initial) => {
    const a = deriveAuth(c, initial);
    return JSON.stringify([c.loaded, userKey(c), sessionKey(c), a.sessionClaims, a.orgId, a.orgRole, a.orgPermissions]);
  });
  const $userStore = computed(csr, c => loadedOr(c, c.session ? c.session.user : null), userKey);
  const $sessionStore = computed(csr, c => loadedOr(c, c.session), sessionKey);
  const $clientStore = computed(csr, c => loadedOr(c, c.client),
    c => rawKey(c, raw => Object.assign({}, raw, { sessions: (raw.sessions || []).map(noToken) })));
  const $sessionListStore = computed(csr, c => loadedOr(c, c.client ? c.client.sessions : null),
    c => rawKey(c, raw => (raw.sessions || []).map(noToken)));
  const $signInStore = computed(csr, c => loadedOr(c, c.client ? c.client.signIn : null),
    c => rawKey(c, raw => raw.sign_in));
  const $signUpStore = computed(csr, c => loadedOr(c, c.client ? c.client.signUp : null),
    c => rawKey(c, raw => raw.sign_up));
  const $organizationStore = computed(csr, c => loadedOr(c, activeOrganization(c.session)),
    c => (c.loaded ? JSON.stringify(activeOrganization(c.session)) : 'u'));
  const $clerkStore = computed(csr, c => c.clerk);
  const $isLoadedStore = computed(csr, c => c.isLoaded);
  const data = [
    $authStore, $userStore, $sessionStore, $clientStore, $sessionListStore, $signInStore, $signUpStore,
    $organizationStore,
  ];
  return {
    $initialState, $csrState, $authStore, $userStore, $sessionStore, $sessionListStore, $organizationStore,
    $clientStore, $signInStore, $signUpStore, $clerkStore, $isLoadedStore,
    update(patch) {
      const before = data.map(s => s.get());
      $csrState.set(Object.assign({}, $csrState.get(), patch));
      return data.some((s, i) => !Object.is(s.get(), before[i]));
    },
  };
}
