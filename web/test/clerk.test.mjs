// The client object: where the Frontend API is, URLs and the redirect allow-list, appearance
// options, and what load() announces in which order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClerk } from '../usher/clerk.js';
import { cssVariables, frontendApiFor, mergeAppearance, normalizeBase } from '../usher/options.js';
import { createSession } from '../usher/session.js';
import { createStores } from '../usher/stores.js';

const jwt = claims => ['e30', Buffer.from(JSON.stringify(claims)).toString('base64url'), 'sig'].join('.');

/** A window with a location that records navigations instead of leaving. */
function fakeWindow(href) {
  const win = new EventTarget();
  const url = new URL(href);
  win.location = {
    get href() { return url.href; }, get origin() { return url.origin; }, get search() { return url.search; },
    assigned: [], assign(to) { this.assigned.push(to); },
  };
  win.CustomEvent = CustomEvent;
  return win;
}

function clerkAt(href, options = {}, env = null) {
  const win = fakeWindow(href);
  const session = { state: { env }, fapi: null, getSessionToken: null, reloadClient: null, resources: {} };
  const { clerk, requestedRedirect } = createClerk({
    version: 'test', frontendApi: 'https://auth.example', options, session, stores: createStores(undefined), win,
  });
  return { clerk, requestedRedirect, win };
}

test('the Frontend API: the option, else data-frontend-api, else where usher.js came from', () => {
  const scriptUrl = 'https://usher.example:8443/npm/usher.js';
  const option = 'https://a.example/';
  assert.equal(frontendApiFor({ option, attribute: 'b.example', scriptUrl }), 'https://a.example');
  assert.equal(frontendApiFor({ attribute: 'clerk.b.example', scriptUrl }), 'https://clerk.b.example');
  assert.equal(frontendApiFor({ scriptUrl }), 'https://usher.example:8443');
  assert.equal(normalizeBase('localhost:8787//'), 'http://localhost:8787');
  assert.equal(normalizeBase('127.0.0.1:8787'), 'http://127.0.0.1:8787');
  assert.equal(normalizeBase('[::1]:8787'), 'http://[::1]:8787');
});

test('sign-in URLs carry redirect_url; options win over display_config, which wins over the hosted pages', () => {
  const hosted = clerkAt('https://app.example/page?x=1').clerk;
  assert.equal(hosted.buildSignInUrl(),
    'https://auth.example/sign-in?redirect_url=' + encodeURIComponent('https://app.example/page?x=1'));
  assert.equal(hosted.buildUserProfileUrl(), 'https://auth.example/user');
  const env = { display_config: { sign_in_url: 'https://accounts.example/in', after_sign_in_url: '/home' } };
  const configured = clerkAt('https://app.example/', {}, env).clerk;
  assert.equal(configured.buildSignInUrl({ redirectUrl: '/next' }),
    'https://accounts.example/in?redirect_url=' + encodeURIComponent('https://app.example/next'));
  assert.equal(configured.buildAfterSignInUrl(), 'https://app.example/home');
  const own = clerkAt('https://app.example/', { signUpUrl: '/join', afterSignUpUrl: '/welcome' }, env).clerk;
  assert.equal(own.buildSignUpUrl({ redirectUrl: 'https://app.example/x' }),
    'https://app.example/join?redirect_url=' + encodeURIComponent('https://app.example/x'));
  assert.equal(own.buildAfterSignUpUrl(), 'https://app.example/welcome');
});

test('redirect_url is followed only to this page’s origin, usher’s, or an allowed one', () => {
  const at = (target, options) =>
    clerkAt('https://app.example/sign-in?redirect_url=' + encodeURIComponent(target), options).requestedRedirect();
  assert.equal(at('/dashboard'), 'https://app.example/dashboard');
  assert.equal(at('https://auth.example/user'), 'https://auth.example/user');
  assert.equal(at('https://evil.example/'), null);
  const allowed = { allowedRedirectOrigins: ['https://other.example'] };
  assert.equal(at('https://other.example/x', allowed), 'https://other.example/x');
  assert.equal(at('https://other.example.evil.example/', allowed), null);
  assert.equal(at('javascript:alert(1)'), null);
  const after = clerkAt('https://app.example/sign-in?redirect_url=https%3A%2F%2Fevil.example%2F',
    { afterSignInUrl: '/in' });
  assert.equal(after.clerk.buildAfterSignInUrl(), 'https://app.example/in', 'a refused redirect falls back');
  after.clerk.redirectToAfterSignIn();
  assert.deepEqual(after.win.location.assigned, ['https://app.example/in']);
});

test('appearance: variables merged and turned into --usher-* properties', () => {
  const merged = mergeAppearance({ variables: { colorPrimary: 'red', borderRadius: '4px' }, layout: 1 },
    { variables: { colorPrimary: 'blue' } });
  assert.deepEqual(merged, { variables: { colorPrimary: 'blue', borderRadius: '4px' }, layout: 1 });
  assert.deepEqual(cssVariables({ variables: { colorTextOnPrimaryBackground: '#fff', fontSize: 15, bad: {} } }),
    [['--usher-color-text-on-primary-background', '#fff'], ['--usher-font-size', '15']]);
  assert.deepEqual(cssVariables(undefined), []);
});

test('load(): a fresh token and cookie first, then Usher, the stores, and usher:loaded', async t => {
  t.mock.timers.enable({ apis: ['setTimeout'] }); // the refresh timer it leaves behind
  const client = {
    id: 'client_1', last_active_session_id: 'sess_1', updated_at: 0,
    sessions: [{ id: 'sess_1', status: 'active', user: { id: 'user_1', email_addresses: [] } }],
  };
  const log = [];
  const answer = body => ({ ok: true, status: 200, headers: new Headers(), text: async () => JSON.stringify(body) });
  const fetch = async url => {
    const path = new URL(url).pathname;
    log.push(path);
    if (path === '/v1/client') return answer({ response: client, client });
    if (path === '/v1/environment') return answer({ display_config: {} });
    return answer({ object: 'token', jwt: jwt({ iat: 1, exp: 61 }) });
  };
  let cookie = '';
  const cookies = { get cookie() { return cookie; }, set cookie(v) { cookie += v.split(';')[0] + ';'; } };
  const stores = createStores(undefined);
  const session = createSession({ frontendApi: 'https://auth.example', fetch, t: k => k, stores, cookies });
  const win = fakeWindow('https://app.example/');
  const { clerk, load } = createClerk({
    version: 't', frontendApi: 'https://auth.example', options: {}, session, stores, win,
  });
  stores.$authStore.listen(a => log.push(`auth ${a.userId}`));
  stores.$isLoadedStore.listen(v => log.push(`isLoaded ${v} Usher=${win.Usher === clerk}`));
  win.addEventListener('usher:loaded', e => log.push(`event ${e.detail === clerk}`));
  session.addListener(() => log.push('clerk listener'));

  assert.equal(await load(), clerk);
  assert.equal(load(), load(), 'loads once');
  assert.ok(cookie.includes('__session=e30.'), cookie);
  const tokenAt = log.indexOf('/v1/client/sessions/sess_1/tokens');
  assert.ok(tokenAt > log.indexOf('/v1/client'));
  assert.deepEqual(log.slice(tokenAt + 1).filter(l => !l.startsWith('/')),
    ['auth user_1', 'clerk listener', 'isLoaded true Usher=true', 'event true']);
  assert.equal(clerk.loaded, true);
  assert.equal(clerk.user.id, 'user_1');
  assert.equal(stores.$clerkStore.get(), clerk);
});
