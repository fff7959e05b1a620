// The session: tokens and the __session cookie, refresh before expiry (on fake timers), failures,
// and the cross-tab messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSession, tokenTimes } from '../usher/session.js';
import { createStores } from '../usher/stores.js';

const NOW = 1_700_000_000_000;
const jwt = claims => ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');
const claimsOf = token => JSON.parse(Buffer.from(token.split('.')[1], 'base64url'));
const flush = () => new Promise(r => setImmediate(r)); // setImmediate is not faked: promises settle
const signedIn = () => ({
  id: 'client_1', last_active_session_id: 'sess_1', sign_in: null, sign_up: null, updated_at: NOW - 60_000,
  sessions: [{ id: 'sess_1', status: 'active', user: { id: 'user_1', email_addresses: [] } }],
});

/** A Frontend API in memory: GET /client answers `server.client`, tokens live `server.life` seconds. */
function fakeServer() {
  const server = { client: signedIn(), life: 60, tokenStatus: 200, calls: [], minted: 0 };
  const json = (status, body) =>
    ({ ok: status < 300, status, headers: new Headers(), text: async () => JSON.stringify(body) });
  server.fetch = async (url, init) => {
    const u = new URL(url);
    const call = `${u.searchParams.get('_method') || init.method} ${u.pathname.slice(3)}`;
    server.calls.push(call);
    if (call === 'GET /client') return json(200, { response: server.client, client: server.client });
    if (call === 'POST /client/sessions/sess_1/end') return json(200, { response: {}, client: (server.client = null) });
    if (call === 'POST /client/sessions/sess_1/tokens') {
      if (server.tokenStatus !== 200) return json(server.tokenStatus, { errors: [{ code: 'x', message: 'x' }] });
      const iat = Math.floor(Date.now() / 1000);
      const token = jwt({ sid: 'sess_1', iat, exp: iat + server.life, n: ++server.minted });
      return json(200, { object: 'token', jwt: token });
    }
    return json(404, { errors: [{ code: 'resource_not_found', message: 'not found' }] });
  };
  server.count = call => server.calls.filter(c => c === call).length;
  return server;
}

/** document.cookie's behaviour, enough for our cookies: one cookie per write, Max-Age=0 deletes. */
function cookieJar() {
  const jar = new Map();
  return {
    jar,
    get cookie() { return Array.from(jar, ([k, v]) => `${k}=${v}`).join('; '); },
    set cookie(line) {
      const [pair, ...attrs] = line.split('; ');
      const [name, value] = pair.split('=');
      if (attrs.includes('Max-Age=0')) jar.delete(name);
      else jar.set(name, value);
    },
  };
}

/** A loaded session (as load() leaves it) with its first token, on fake timers at NOW. */
async function signedInSession(t, { life = 60, tabs = null } = {}) {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: NOW });
  const server = fakeServer();
  server.life = life;
  const cookies = cookieJar();
  const stores = createStores(undefined);
  const session = createSession({
    frontendApi: 'https://auth.example', fetch: server.fetch, t: k => k, stores, cookies, tabs,
  });
  await session.reloadClient(true);
  session.state.loaded = true;
  await session.getSessionToken('sess_1', { skipCache: true });
  return { server, cookies, stores, session, tokens: () => server.count('POST /client/sessions/sess_1/tokens') };
}

test('a token is stale 10 s before it expires, or at half its life when that is shorter', () => {
  const at = (life, now = 0) => tokenTimes(jwt({ iat: 100, exp: 100 + life }), now);
  assert.deepEqual([at(60).expiresAt, at(60).staleAt], [60_000, 50_000]);
  assert.equal(at(3).staleAt, 1_500);
  assert.equal(at(60, 5_000).staleAt, 55_000, 'measured from receipt on the local clock');
  assert.equal(tokenTimes('not a jwt', 0).staleAt, 50_000, 'unknown lifetime: 60 s assumed');
});

test('the session token is refreshed ~10 s before expiry, and __session follows', async t => {
  const { server, cookies, stores, tokens } = await signedInSession(t);
  const first = cookies.jar.get('__session');
  assert.equal(claimsOf(first).n, 1);
  assert.equal(cookies.jar.get('__client_uat'), String(Math.floor((NOW - 60_000) / 1000)), 'the client, not after iat');
  assert.equal(stores.$authStore.get().sessionClaims.n, 1);

  t.mock.timers.tick(49_999);
  await flush();
  assert.equal(tokens(), 1, 'not yet');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(tokens(), 2);
  assert.equal(claimsOf(cookies.jar.get('__session')).n, 2);
  assert.equal(stores.$authStore.get().sessionClaims.n, 2, 'the stores see the new claims');
  t.mock.timers.tick(50_000);
  await flush();
  assert.equal(tokens(), 3, 'and again for the next token');
  assert.equal(server.count('GET /client'), 1, 'no client reloads needed');
});

test('short lifetimes: refreshed at half the life, but at most once a second', async t => {
  const three = await signedInSession(t, { life: 3 });
  t.mock.timers.tick(1_499);
  await flush();
  assert.equal(three.tokens(), 1);
  t.mock.timers.tick(1);
  await flush();
  assert.equal(three.tokens(), 2);
  t.mock.timers.reset();

  const one = await signedInSession(t, { life: 1 });
  t.mock.timers.tick(999);
  await flush();
  assert.equal(one.tokens(), 1, 'stale after 0.5 s, yet no refresh before 1 s');
  t.mock.timers.tick(1);
  await flush();
  assert.equal(one.tokens(), 2);
});

test('a failed refresh is retried 5 s later', async t => {
  const { server, cookies, tokens } = await signedInSession(t);
  const first = cookies.jar.get('__session');
  server.tokenStatus = 503;
  t.mock.timers.tick(50_000);
  await flush();
  assert.equal(tokens(), 2);
  server.tokenStatus = 200;
  t.mock.timers.tick(4_999);
  await flush();
  assert.equal(tokens(), 2);
  t.mock.timers.tick(1);
  await flush();
  assert.equal(tokens(), 3);
  assert.notEqual(cookies.jar.get('__session'), first);
});

test('a refresh answered 401 reloads the client; signed out, the cookie goes and refreshing stops', async t => {
  const { server, cookies, stores, tokens } = await signedInSession(t);
  server.tokenStatus = 401;
  server.client = Object.assign(signedIn(), { sessions: [], last_active_session_id: null });
  t.mock.timers.tick(50_000);
  await flush();
  t.mock.timers.tick(50); // the reload queued by the 401 itself
  await flush();
  assert.ok(server.count('GET /client') >= 2, server.calls.join(', '));
  assert.equal(cookies.jar.has('__session'), false);
  assert.equal(cookies.jar.get('__client_uat'), '0');
  assert.equal(stores.$authStore.get().userId, null);
  t.mock.timers.tick(600_000);
  await flush();
  assert.equal(tokens(), 2, 'no session, no refresh');
});

test('tokens are cached until stale, and concurrent requests share one call', async t => {
  const { session, tokens } = await signedInSession(t);
  const [a, b] = await Promise.all([session.getSessionToken('sess_1'), session.getSessionToken('sess_1')]);
  assert.equal(a, b);
  assert.equal(tokens(), 1, 'the token from the first call is still fresh');
  const [c, d] = await Promise.all([
    session.getSessionToken('sess_1', { skipCache: true }), session.getSessionToken('sess_1', { skipCache: true }),
  ]);
  assert.equal(c, d);
  assert.equal(tokens(), 2, 'one request in flight for both');
  assert.equal(claimsOf(await session.getSessionToken('sess_1')).n, 2);
});

test('a change made in this tab is posted to the others; their messages make this tab reload', async t => {
  const posted = [];
  let deliver = null;
  const tabs = { post: msg => posted.push(msg), listen: cb => (deliver = cb) };
  const { server, session } = await signedInSession(t, { tabs });
  assert.equal(posted.length, 0, 'loading changes nothing for the other tabs');

  await session.fapi('POST', '/client/sessions/sess_1/end');
  assert.equal(posted.length, 1, 'a sign-out here is news');
  assert.equal(posted[0].type, 'client');
  assert.equal(session.state.session, null);

  deliver({ ...posted[0] }); // our own message, echoed
  await flush();
  assert.equal(server.count('GET /client'), 1);
  server.client = signedIn();
  deliver({ type: 'client', tab: 'other', at: Date.now() });
  await flush();
  assert.equal(server.count('GET /client'), 2);
  assert.equal(session.state.session.id, 'sess_1');
  assert.equal(posted.length, 1, 'what other tabs told us is not posted back');
});
