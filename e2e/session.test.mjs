// Staying signed in: the token is refreshed before it expires (server with 3 s tokens), and
// sign-in / sign-out in one tab reaches the other tabs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, componentSignIn, sessionCookie, waitFor } from './harness.mjs';

const LIFETIME = 3; // seconds
let s;
before(async () => {
  s = await stack({ usherOptions: { args: ['--session-token-lifetime', String(LIFETIME)] }, example: true });
});
after(async () => {
  await s?.stop();
});

const claimsOf = jwt => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));

test(`the session outlives its ${LIFETIME} s tokens: __session is refreshed and the app keeps accepting it`, async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, user);
  const first = await sessionCookie(ctx, s.pages.url);
  assert.ok(first, '__session is set');
  const c = claimsOf(first);
  assert.equal(c.exp - c.iat, LIFETIME, 'the server issues tokens of the configured lifetime');

  // Watch the cookie for more than two lifetimes (~8 s): it must change several times, and the
  // example app must accept whatever the cookie holds at each moment.
  const seen = new Set([first]);
  const start = Date.now();
  let okCalls = 0;
  await waitFor(async () => {
    const jwt = await sessionCookie(ctx, s.pages.url);
    assert.ok(jwt, `__session disappeared after ${Date.now() - start} ms`);
    seen.add(jwt);
    const res = await ctx.request.get(`${s.example.url}/api/route`);
    assert.equal(res.status(), 200, `/api/route after ${Date.now() - start} ms: ${res.status()} ${await res.text()}`);
    assert.deepEqual(await res.json(), { userId: user.id });
    okCalls++;
    return Date.now() - start > (2 * LIFETIME + 2) * 1000;
  }, { timeout: 30_000, interval: 250, message: 'two token lifetimes' });
  assert.ok(seen.size >= 3, `__session changed ${seen.size - 1} times in ${(Date.now() - start) / 1000} s`);
  assert.ok(okCalls > 5);
  // The stores saw the refreshed claims too, and getToken() still answers.
  const { claimsIat, token } = await p.evaluate(async () => ({
    claimsIat: usher.$authStore.get().sessionClaims.iat,
    token: await usher.getToken(),
  }));
  assert.ok(claimsIat > c.iat);
  assert.ok(claimsOf(token).exp * 1000 > Date.now() - 1000);
});

test('sign-in and sign-out in one tab reach the other tab', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const a = await ctx.newPage();
  const b = await ctx.newPage();
  await b.goto(`${s.pages.url}/`);
  await waitForLoaded(b);
  await b.locator('#signed-out-text').waitFor();

  await componentSignIn(a, s.pages.url, user);
  await b.locator('#signed-in-text').waitFor();
  await b.locator('usher-user-button button').waitFor();
  assert.equal(await b.locator('#auth-state').textContent(), user.id);

  await a.goto(`${s.pages.url}/`);
  await waitForLoaded(a);
  await a.locator('usher-sign-out-button button').click();
  await a.locator('#signed-out-text').waitFor();
  // Tab b updates its stores and components without a reload.
  await b.locator('#signed-out-text').waitFor({ timeout: 5000 });
  assert.equal(await b.locator('#auth-state').textContent(), '');
  assert.equal(await b.locator('usher-user-button button').count(), 0);
  assert.equal(await b.evaluate(() => usher.$userStore.get()), null);
  assert.equal(await sessionCookie(ctx, s.pages.url), undefined, '__session cleared');
  const res = await ctx.request.get(`${s.example.url}/api/route`);
  assert.equal(res.status(), 401);
});
