// Clerk's own frontend with development keys: examples/astro unmodified against a default
// `usher dev` (`pk_test_`), through @clerk/backend's Frontend API proxy. @clerk/backend demands a
// dev-browser token (`__clerk_db_jwt`) on every page load of a development instance; usher's
// handshake sets it, once. No host but 127.0.0.1/localhost is ever asked (`foreign`).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { astroStack, signInWithPassword, whoAmI } from './astro-app.mjs';
import { PASSWORD, uniqueEmail, waitFor } from './harness.mjs';

const CLOCK_SKEW_MS = 5_000;

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/** Records the page's navigations (paths) from now on. */
function navigations(p) {
  const hops = [];
  p.on('request', r => { if (r.isNavigationRequest() && r.frame() === p.mainFrame()) hops.push(new URL(r.url()).pathname); });
  return hops;
}

describe('Clerk components on usher with pk_test_ keys (2 s tokens)', () => {
  let s;
  before(async () => { s = await astroStack({ liveKeys: false, args: ['--session-token-lifetime', '2'] }); });
  after(async () => {
    await s?.stop();
    assert.deepEqual(s?.foreign ?? [], [], 'the browser asked a host other than 127.0.0.1/localhost');
  });

  test('usher dev issues development keys', () => {
    assert.match(s.usher.publishableKey, /^pk_test_/);
    assert.match(s.usher.secretKey, /^sk_test_/);
  });

  test('the first page load goes through the handshake once for a dev browser, then never again', async () => {
    const ctx = await s.context();
    const p = await ctx.newPage();
    const hops = navigations(p);
    await p.goto(`${s.url}/`);
    assert.deepEqual(await whoAmI(p), { server: 'signed-out', client: 'signed-out' });
    // dev-browser-missing → handshake → the app resolves the nonce (and, for a development
    // instance, sends the browser to the clean URL) → the page.
    assert.deepEqual(hops, ['/', '/clerk/v1/client/handshake', '/', '/'], 'one handshake trip');
    const db = (await ctx.cookies(s.url)).find(c => c.name === '__clerk_db_jwt');
    assert.match(db?.value ?? '', /^dvb_/, 'the app keeps the dev-browser token');
    hops.length = 0;
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: 'signed-out', client: 'signed-out' });
    assert.deepEqual(hops, ['/'], 'with the token, no handshake');
    await ctx.close();
  });

  test('<SignUp/> with the emailed code; the server and $authStore agree', async () => {
    const ctx = await s.context();
    const p = await ctx.newPage();
    const email = uniqueEmail('dev-signup');
    await p.goto(`${s.url}/sign-up`);
    await p.locator('input[name=emailAddress]').fill(email);
    await p.locator('input[name=password]').fill(PASSWORD);
    await p.getByRole('button', { name: 'Continue', exact: true }).click();
    const code = await s.usher.waitForCode(email);
    await p.locator('input[autocomplete="one-time-code"]').first().pressSequentially(code);
    await p.waitForURL(`${s.url}/`);
    const [user] = await s.usher.bapi('GET', `/v1/users?email_address=${encodeURIComponent(email)}`);
    assert.ok(user?.id, 'the sign-up created a user');
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    await ctx.close();
  });

  test('<SignIn/> with a password; an expired page load goes through the handshake once', async () => {
    const user = await s.usher.createUser();
    const ctx = await s.context();
    const p = await ctx.newPage();
    await signInWithPassword(p, s.url, user);
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    const route = await p.request.get(`${s.url}/api/route`);
    assert.equal(route.status(), 200);
    assert.deepEqual(await route.json(), { userId: user.id });

    const session = async () => (await ctx.cookies(s.url)).find(c => c.name === '__session')?.value;
    await p.close();
    await waitFor(async () => {
      const t = await session();
      return !t || jwtPayload(t).exp * 1000 + CLOCK_SKEW_MS < Date.now();
    }, { timeout: 30_000, message: 'the session token expired' });
    const q = await ctx.newPage();
    const hops = navigations(q);
    await q.goto(`${s.url}/`);
    assert.deepEqual(await whoAmI(q), { server: user.id, client: user.id });
    assert.deepEqual(hops, ['/', '/clerk/v1/client/handshake', '/', '/'], 'one trip through the handshake, no loop');
    await ctx.close();
  });
});
