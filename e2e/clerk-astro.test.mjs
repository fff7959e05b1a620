// Clerk's own frontend, unmodified: examples/astro (@clerk/astro 4 + clerk-js 6 + @clerk/ui) in
// Chromium against `usher dev`, through @clerk/backend's Frontend API proxy. Every sentence of
// issue #16's "What must work". No Clerk host is ever contacted: every test checks `foreign`.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { astroStack, signInWithPassword, whoAmI } from './astro-app.mjs';
import { PASSWORD, uniqueEmail, waitFor } from './harness.mjs';

const CLOCK_SKEW_MS = 5_000;

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

describe('Clerk components on usher', () => {
  let s;
  before(async () => { s = await astroStack(); });
  after(async () => {
    await s?.stop();
    assert.deepEqual(s?.foreign ?? [], [], 'the browser asked a host other than 127.0.0.1');
  });

  test('<SignUp/> with the emailed code, then sign-out through <UserButton/>', async () => {
    const ctx = await s.context();
    const p = await ctx.newPage();
    const email = uniqueEmail('signup');
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

    await p.locator('.cl-userButtonTrigger').click();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await waitFor(async () => (await p.textContent('#client-user')) === 'signed-out', { message: 'signed out on the client' });
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: 'signed-out', client: 'signed-out' });
    await ctx.close();
  });

  test('<SignIn/> with a password; the docs endpoints answer as the docs say', async () => {
    const user = await s.usher.createUser({ firstName: 'Ada' });
    const ctx = await s.context();
    const p = await ctx.newPage();
    // Signed out: the endpoint says 401, the protected page sends to sign-in.
    assert.equal((await p.request.get(`${s.url}/api/route`)).status(), 401);
    assert.equal((await p.request.get(`${s.url}/api/current-user`)).status(), 401);
    await p.goto(`${s.url}/dashboard`);
    assert.match(p.url(), /\/sign-in/);

    await signInWithPassword(p, s.url, user);
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    // <OrganizationSwitcher/> renders the personal account ($organizationStore: none active).
    await p.locator('.cl-organizationSwitcherTrigger').waitFor();
    assert.equal(await p.textContent('#client-org'), '');
    const route = await p.request.get(`${s.url}/api/route`);
    assert.equal(route.status(), 200);
    assert.deepEqual(await route.json(), { userId: user.id });
    assert.deepEqual(await (await p.request.get(`${s.url}/api/current-user`)).json(), { id: user.id, firstName: 'Ada' });
    assert.deepEqual(await (await p.request.get(`${s.url}/api/users`)).json(), { id: user.id, email: user.email });
    await p.goto(`${s.url}/dashboard`);
    assert.equal(await p.textContent('#dashboard'), 'Dashboard of Ada');
    await ctx.close();
  });

  test('<SignIn/> with an email code', async () => {
    const user = await s.usher.createUser();
    const ctx = await s.context();
    const p = await ctx.newPage();
    await p.goto(`${s.url}/sign-in`);
    await p.locator('input[name=identifier]').fill(user.email);
    await p.getByRole('button', { name: 'Continue', exact: true }).click();
    await p.locator('input[name=password]').waitFor();
    const before = await s.usher.mailCount(user.email);
    await p.getByRole('link', { name: 'Use another method' }).or(p.getByRole('button', { name: 'Use another method' })).click();
    await p.getByRole('button', { name: /Email code to/ }).click();
    const code = await s.usher.waitForCode(user.email, before);
    await p.locator('input[autocomplete="one-time-code"]').first().pressSequentially(code);
    await p.waitForURL(`${s.url}/`);
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    await ctx.close();
  });

  test('<UserProfile/> changes the name', async () => {
    const user = await s.usher.createUser({ firstName: 'Old' });
    const ctx = await s.context();
    const p = await ctx.newPage();
    await signInWithPassword(p, s.url, user);
    await p.goto(`${s.url}/user-profile`);
    await p.getByRole('button', { name: 'Update profile' }).click();
    await p.locator('input[name=firstName]').fill('Grace');
    await p.locator('input[name=lastName]').fill('Hopper');
    await p.getByRole('button', { name: 'Save' }).click();
    await waitFor(async () => (await s.usher.bapi('GET', `/v1/users/${user.id}`)).first_name === 'Grace', { message: 'the name saved' });
    assert.equal((await s.usher.bapi('GET', `/v1/users/${user.id}`)).last_name, 'Hopper');
    await p.goto(`${s.url}/`);
    await waitFor(async () => (await p.evaluate(() => document.body.dataset.userName)) === 'Grace Hopper', { message: '$userStore has the new name' });
    await ctx.close();
  });

  test('sign-out in one tab reaches the other', async () => {
    const user = await s.usher.createUser();
    const ctx = await s.context();
    const a = await ctx.newPage();
    await signInWithPassword(a, s.url, user);
    const b = await ctx.newPage();
    await b.goto(`${s.url}/`);
    assert.deepEqual(await whoAmI(b), { server: user.id, client: user.id });
    await a.locator('.cl-userButtonTrigger').click();
    await a.getByRole('button', { name: 'Sign out' }).click();
    await waitFor(async () => (await b.textContent('#client-user')) === 'signed-out', { timeout: 30_000, message: 'the other tab signed out' });
    await ctx.close();
  });
});

describe('tokens that expire (2 s lifetime)', () => {
  let s;
  before(async () => { s = await astroStack({ args: ['--session-token-lifetime', '2'] }); });
  after(async () => {
    await s?.stop();
    assert.deepEqual(s?.foreign ?? [], [], 'the browser asked a host other than 127.0.0.1');
  });

  test('refresh keeps the page signed in, and an expired page load goes through the handshake once', async () => {
    const user = await s.usher.createUser();
    const ctx = await s.context();
    const p = await ctx.newPage();
    await signInWithPassword(p, s.url, user);
    const session = async () => (await ctx.cookies(s.url)).find(c => c.name === '__session')?.value;
    const first = jwtPayload(await waitFor(session, { message: '__session' }));
    // clerk-js refreshes the token in the background: a later one replaces it.
    await waitFor(async () => {
      const t = await session();
      return t && jwtPayload(t).iat > first.exp;
    }, { timeout: 30_000, message: 'a token issued after the first one expired' });
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });

    // No page open: nothing refreshes, so the cookie's token expires (past @clerk/backend's
    // default clock-skew allowance of 5 s, within which it would still be accepted).
    await p.close();
    await waitFor(async () => {
      const t = await session();
      return !t || jwtPayload(t).exp * 1000 + CLOCK_SKEW_MS < Date.now();
    }, { timeout: 30_000, message: 'the session token expired' });
    const q = await ctx.newPage();
    const hops = [];
    q.on('request', r => { if (r.isNavigationRequest()) hops.push(new URL(r.url()).pathname); });
    await q.goto(`${s.url}/`);
    assert.deepEqual(await whoAmI(q), { server: user.id, client: user.id });
    assert.deepEqual(hops, ['/', '/clerk/v1/client/handshake', '/'], 'one trip through the handshake, no loop');
    await ctx.close();
  });
});
