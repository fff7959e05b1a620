// The stores: nanostores' get / subscribe / listen, computed stores, and the public store graph
// derived from the two internal atoms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { atom, computed, createStores, readonly } from '../usher/stores.js';
import { createResources } from '../usher/resources.js';

const jwt = claims => ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');
const resources = createResources({
  fapi: async () => null, meCall: async () => null, getSessionToken: async () => null,
  reloadClient: async () => {}, state: {},
});
const rawClient = ({ firstName = 'Ada', token = 'tok', signIn = null } = {}) => ({
  id: 'client_1', last_active_session_id: 'sess_1', sign_in: signIn, sign_up: null, updated_at: 1000,
  sessions: [{
    id: 'sess_1', status: 'active', last_active_token: { jwt: token },
    user: { id: 'user_1', first_name: firstName, email_addresses: [] },
  }],
});
/** What the session module publishes for a raw client. */
function loaded(raw, jwtValue = null) {
  const client = raw ? resources.toClient(raw) : null;
  return { loaded: true, raw, client, session: client ? client.activeSessions[0] || null : null, jwt: jwtValue };
}

test('subscribe calls back at once and on changes, listen only on changes, with the previous value', () => {
  const $ = atom(1);
  const seen = [];
  const offSub = $.subscribe(v => seen.push(['subscribe', v]));
  const offListen = $.listen((v, prev) => seen.push(['listen', v, prev]));
  $.set(2);
  $.set(2); // the same value: nobody is called
  offSub();
  $.set(3);
  offListen();
  $.set(4);
  assert.deepEqual(seen, [['subscribe', 1], ['subscribe', 2], ['listen', 2, 1], ['listen', 3, 2]]);
  assert.equal($.get(), 4);
});

test('a throwing listener does not keep the others from running', t => {
  const logged = t.mock.method(console, 'error', () => {});
  const $ = atom('a');
  const seen = [];
  $.listen(() => {
    throw new Error('page bug');
  });
  $.listen(v => seen.push(v));
  $.set('b');
  assert.deepEqual(seen, ['b']);
  assert.equal(logged.mock.callCount(), 1);
});

test('computed follows every store it derives from and only fires when its value changes', () => {
  const $a = atom(1);
  const $b = atom(10);
  const $sum = computed([$a, $b], (a, b) => a + b);
  const $parity = computed([$sum], s => s % 2);
  const sums = [];
  const parities = [];
  $sum.listen(v => sums.push(v));
  $parity.subscribe(v => parities.push(v));
  assert.equal($sum.get(), 11);
  $a.set(2);
  $b.set(20);
  $a.set(4); // 24: same parity as 22
  assert.deepEqual(sums, [12, 22, 24]);
  assert.deepEqual(parities, [1, 0]);
  assert.equal(readonly($sum).set, undefined);
});

test('a keyed computed keeps its value (the same object) while the key stays the same', () => {
  const $raw = atom({ name: 'Ada', rev: 1 });
  const $obj = computed([$raw], r => ({ name: r.name }), r => r.name);
  const first = $obj.get();
  const seen = [];
  $obj.listen(v => seen.push(v.name));
  $raw.set({ name: 'Ada', rev: 2 });
  assert.equal($obj.get(), first, 'rebuilt with the same content: not replaced');
  $raw.set({ name: 'Grace', rev: 3 });
  assert.deepEqual(seen, ['Grace']);
  assert.equal($obj.key(), 'Grace');
});

test('before load: auth from the server state, resources undefined, not loaded', () => {
  const told = createStores({ userId: 'user_1', sessionId: 'sess_1', orgId: null });
  assert.equal(told.$authStore.get().userId, 'user_1');
  assert.equal(told.$authStore.get().orgRole, null, 'absent fields are null when the server spoke');
  assert.equal(told.$authStore.get().user, undefined);
  const silent = createStores(undefined);
  assert.equal(silent.$authStore.get().userId, undefined, 'nothing known yet');
  for (const s of [silent.$userStore, silent.$sessionStore, silent.$clientStore, silent.$sessionListStore,
    silent.$signInStore, silent.$signUpStore, silent.$organizationStore]) {
    assert.equal(s.get(), undefined);
  }
  assert.equal(silent.$clerkStore.get(), null);
  assert.equal(silent.$isLoadedStore.get(), false);
});

test('$organizationStore is the membership organization the session has active', () => {
  const acme = { id: 'org_1', name: 'Acme', slug: 'acme' };
  const user = { id: 'user_1', organizationMemberships: [{ role: 'org:admin', organization: acme }] };
  const stores = createStores(undefined);
  stores.update({ loaded: true, session: { id: 'sess_1', user, lastActiveOrganizationId: null } });
  assert.equal(stores.$organizationStore.get(), null, 'the personal account');
  assert.equal(stores.update({ session: { id: 'sess_1', user, lastActiveOrganizationId: 'org_1' } }), true);
  assert.equal(stores.$organizationStore.get(), acme);
  assert.equal(stores.$authStore.get().organization, acme);
  stores.update({ session: { id: 'sess_1', user, lastActiveOrganizationId: 'org_gone' } });
  assert.equal(stores.$organizationStore.get(), null, 'an organization the user left is not active');
});

test('after load every public store derives from the client state', () => {
  const stores = createStores(undefined);
  const token = jwt({ sid: 'sess_1', iat: 1, exp: 61, o: { id: 'org_1', rol: 'admin', slg: 'acme' } });
  assert.equal(stores.update(loaded(rawClient(), token)), true);
  const auth = stores.$authStore.get();
  assert.deepEqual([auth.userId, auth.sessionId, auth.sessionStatus], ['user_1', 'sess_1', 'active']);
  assert.deepEqual([auth.orgId, auth.orgRole, auth.orgSlug], ['org_1', 'org:admin', 'acme'], 'v2 `o` claim');
  assert.equal(auth.sessionClaims.exp, 61);
  assert.equal(stores.$userStore.get().firstName, 'Ada');
  assert.equal(stores.$userStore.get(), auth.user);
  assert.equal(stores.$sessionStore.get().id, 'sess_1');
  assert.equal(stores.$clientStore.get().id, 'client_1');
  assert.deepEqual(stores.$sessionListStore.get().map(s => s.id), ['sess_1']);
  assert.equal(stores.$signInStore.get().id, null, 'no sign-in in progress: an empty SignIn');
  assert.equal(stores.$isLoadedStore.get(), false, 'loaded only once the client object is announced');

  const order = [];
  stores.$clerkStore.listen(c => order.push(['clerk', c.name]));
  stores.$isLoadedStore.listen(v => order.push(['isLoaded', v]));
  assert.equal(stores.update({ clerk: { name: 'clerk' }, isLoaded: true }), false, 'no data store changed');
  assert.deepEqual(order, [['clerk', 'clerk'], ['isLoaded', true]]);

  const signedOut = createStores(undefined);
  signedOut.update(loaded(null));
  assert.equal(signedOut.$authStore.get().userId, null);
  assert.equal(signedOut.$userStore.get(), null);
  assert.equal(signedOut.$clientStore.get(), null);
});

test('v1 claims: flat org_* claims', () => {
  const stores = createStores(undefined);
  const token = jwt({ org_id: 'org_2', org_role: 'org:member', org_slug: 'b', org_permissions: ['org:x:y'] });
  stores.update(loaded(rawClient(), token));
  const auth = stores.$authStore.get();
  assert.deepEqual([auth.orgId, auth.orgRole, auth.orgSlug, auth.orgPermissions],
    ['org_2', 'org:member', 'b', ['org:x:y']]);
});

test('a refreshed token changes the claims, not the user, session or client stores', () => {
  const stores = createStores(undefined);
  stores.update(loaded(rawClient({ token: 'a' }), jwt({ iat: 1, exp: 61 })));
  const fired = [];
  for (const name of ['$authStore', '$userStore', '$sessionStore', '$clientStore', '$sessionListStore',
    '$signInStore']) {
    stores[name].listen(() => fired.push(name));
  }
  // A new token (in the envelope and the cache), every resource rebuilt from the same data.
  assert.equal(stores.update(loaded(rawClient({ token: 'b' }), jwt({ iat: 2, exp: 62 }))), true);
  assert.deepEqual(fired, ['$authStore']);
  fired.length = 0;
  assert.equal(stores.update(loaded(rawClient({ token: 'c' }), jwt({ iat: 2, exp: 62 }))), false);
  assert.deepEqual(fired, []);
  stores.update(loaded(rawClient({ token: 'c', firstName: 'Grace' }), jwt({ iat: 2, exp: 62 })));
  assert.deepEqual(fired, ['$authStore', '$userStore', '$sessionStore', '$clientStore', '$sessionListStore']);
  assert.equal(stores.$userStore.get().firstName, 'Grace');
  assert.equal(stores.$authStore.get().user, stores.$userStore.get());
  fired.length = 0;
  const signIn = { id: 'sia_1', status: 'needs_identifier' };
  stores.update(loaded(rawClient({ token: 'c', firstName: 'Grace', signIn }), jwt({ iat: 2, exp: 62 })));
  assert.deepEqual(fired, ['$clientStore', '$signInStore']);
  assert.equal(stores.$signInStore.get().id, 'sia_1');
});

test("has() follows Clerk's rules: a signed-in user, an active organization, both sides prefixed with org:", async () => {
  const { createHas } = await import('../usher/stores.js');
  const admin = { userId: 'user_1', orgId: 'org_1', orgRole: 'org:admin', orgPermissions: ['org:sys_memberships:manage', 'org:invoices:create'] };
  const table = [
    // [auth, params, expected, why]
    [admin, { permission: 'org:invoices:create' }, true, 'a permission the membership holds'],
    [admin, { permission: 'invoices:create' }, true, 'the org: prefix is added to the asked side'],
    [admin, { permission: 'org:invoices:delete' }, false, 'a permission it lacks'],
    [admin, { role: 'org:admin' }, true, 'the role'],
    [admin, { role: 'admin' }, true, 'the role without its prefix'],
    [{ ...admin, orgRole: 'admin' }, { role: 'org:admin' }, true, 'the held side is prefixed too'],
    [admin, { role: 'org:member' }, false, 'another role'],
    [admin, { role: 'org:admin', permission: 'org:invoices:create' }, true, 'both asked, both held'],
    [admin, { role: 'org:member', permission: 'org:invoices:create' }, false, 'both asked: each must pass'],
    [admin, {}, false, 'nothing asked'],
    [admin, { role: null }, false, 'not a key'],
    [admin, { feature: 'invoices' }, false, 'no billing'],
    [{ ...admin, userId: null }, { role: 'org:admin' }, false, 'no signed-in user'],
    [{ ...admin, orgId: null }, { permission: 'org:invoices:create' }, false, 'no active organization'],
    [{ ...admin, orgPermissions: null }, { permission: 'org:invoices:create' }, false, 'no permissions known'],
  ];
  for (const [auth, params, expected, why] of table) assert.equal(createHas(auth)(params), expected, why);
});

test('$authStore takes the organization fields from the active membership, system permissions included', () => {
  const acme = { id: 'org_1', name: 'Acme', slug: 'acme' };
  const membership = { role: 'org:member', permissions: ['org:sys_memberships:read', 'org:invoices:read'], organization: acme };
  const user = { id: 'user_1', organizationMemberships: [membership] };
  const stores = createStores(undefined);
  stores.update({ loaded: true, session: { id: 'sess_1', user, lastActiveOrganizationId: null } });
  let auth = stores.$authStore.get();
  assert.deepEqual([auth.orgId, auth.orgRole, auth.orgSlug, auth.orgPermissions], [null, null, null, null]);
  assert.equal(auth.has({ permission: 'org:sys_memberships:read' }), false, 'the personal account');
  stores.update({ session: { id: 'sess_1', user, lastActiveOrganizationId: 'org_1' } });
  auth = stores.$authStore.get();
  assert.deepEqual([auth.orgId, auth.orgRole, auth.orgSlug], ['org_1', 'org:member', 'acme']);
  assert.deepEqual(auth.orgPermissions, membership.permissions);
  assert.equal(auth.has({ permission: 'org:sys_memberships:read' }), true);
  assert.equal(auth.has({ role: 'org:admin' }), false);
  // Promoted: the new role shows at once, before any token refresh.
  const promoted = { ...membership, role: 'org:admin' };
  stores.update({ session: { id: 'sess_1', user: { ...user, organizationMemberships: [promoted] }, lastActiveOrganizationId: 'org_1' } });
  assert.equal(stores.$authStore.get().has({ role: 'admin' }), true);
});
