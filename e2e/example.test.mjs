// The example app's page (GET /): components and stores injected by the usher layer, signed out
// and signed in, and a call to /api/route with a fresh token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, hostedSignIn, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack({ example: true });
});
after(async () => {
  await s?.stop();
});

test('GET / signed out, then signed in through the sign-in button', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const home = `${s.example.url}/`;
  const text = async sel => (await p.locator(sel).textContent()).trim();

  await p.goto(home);
  await waitForLoaded(p);
  assert.equal(await text('#auth-state'), '');
  assert.equal(await text('#whoami'), '');
  assert.equal(await p.locator('usher-sign-in-button button').isVisible(), true);
  assert.equal(await p.locator('usher-user-button button').count(), 0);
  await p.locator('#call-api').click();
  await waitFor(async () => /^401/.test(await text('#api-result')), { message: '401 from /api/route' });

  // Sign in: the button goes to the sign-in page with redirect_url = this page, which sends us back.
  await p.locator('usher-sign-in-button button').click();
  await p.waitForURL(u => u.pathname === '/sign-in');
  assert.equal(new URL(p.url()).searchParams.get('redirect_url'), home);
  await hostedSignIn(p, user);
  await p.waitForURL(home);
  await waitForLoaded(p);
  assert.equal(await text('#auth-state'), user.id);
  await waitFor(async () => (await text('#whoami')) === user.email, { message: '#whoami shows the primary email' });
  assert.equal(await p.locator('usher-user-button button').isVisible(), true);
  assert.equal(await p.locator('usher-sign-in-button button').isVisible(), false);
  await p.locator('#call-api').click();
  await waitFor(async () => (await text('#api-result')) === `200 ${JSON.stringify({ userId: user.id })}`, {
    message: '200 from /api/route',
  });

  // The server rendered the signed-in state too (initial state for usher.js and the page).
  const html = await (await ctx.request.get(home)).text();
  assert.match(html, new RegExp(`<dd id="auth-state">${user.id}</dd>`));
  assert.match(html, new RegExp(`"userId":"${user.id}"`));

  // Sign out from the user button's menu: back to signed out.
  await p.locator('usher-user-button button').click();
  const navigated = p.waitForEvent('framenavigated');
  await p.getByRole('menuitem', { name: 'Sign out' }).click();
  await navigated;
  await waitForLoaded(p);
  assert.equal(await text('#auth-state'), '');
  assert.equal(await text('#whoami'), '');
  assert.equal(await p.locator('usher-sign-in-button button').isVisible(), true);
});

test("the home page shows the organization switcher and the active organization", async t => {
  const user = await s.usher.createUser();
  const org = await s.usher.bapi('POST', '/v1/organizations', { name: `Example Org ${Date.now()}`, created_by: user.id });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const home = `${s.example.url}/`;
  await p.goto(home);
  await waitForLoaded(p);
  assert.equal(await p.locator('usher-organization-switcher select').count(), 0, 'signed out: no switcher');
  await p.locator('usher-sign-in-button button').click();
  await p.waitForURL(u => u.pathname === '/sign-in');
  await hostedSignIn(p, user);
  await p.waitForURL(home);
  await waitForLoaded(p);
  const text = async sel => (await p.locator(sel).textContent()).trim();
  assert.equal(await text('#active-org'), '', 'the personal account at first');
  const select = p.locator('usher-organization-switcher').getByLabel('Organization');
  await select.selectOption(org.id);
  await waitFor(async () => (await text('#active-org')) === `${org.name} (org:admin)`, { message: 'the active organization shown' });
  // The server sees it too, from the token of the reloaded page.
  await waitFor(async () => new RegExp(`<dd id="active-org">${org.id}</dd>`).test(await (await ctx.request.get(home)).text()), {
    message: 'the server-rendered active organization',
  });
});
