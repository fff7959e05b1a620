// Control components, stores and runtime options: <usher-signed-in>/<usher-signed-out>,
// <usher-protect>, the buttons, updateOptions(), and the script served by usher itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stack, repo, newContext, waitForLoaded, componentSignIn } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

test('signed-out and signed-in rendering, protect and its fallback, stores', async t => {
  const user = await s.usher.createUser({ firstName: 'Linus' });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/`);
  await waitForLoaded(p);
  const visible = sel => p.locator(sel).isVisible();
  assert.equal(await visible('#signed-out-text'), true);
  assert.equal(await visible('#signed-in-text'), false);
  assert.equal(await visible('#protected'), false);
  assert.equal(await visible('#protect-fallback'), true);
  assert.equal(await visible('usher-sign-in-button button'), true);
  const out = await p.evaluate(() => ({
    auth: usher.$authStore.get(), user: usher.$userStore.get(), clerk: usher.$clerkStore.get() !== null,
    client: usher.$clientStore.get() === undefined ? 'undefined' : 'set', org: usher.$organizationStore.get(),
  }));
  assert.equal(out.auth.userId, null);
  assert.equal(out.user, null);
  assert.equal(out.clerk, true);
  assert.equal(out.org, null);

  // The sign-in button goes to signInUrl with redirect_url = this page.
  await p.locator('usher-sign-in-button button').click();
  await p.waitForURL(u => u.pathname === '/sign-in');
  assert.equal(new URL(p.url()).searchParams.get('redirect_url'), `${s.pages.url}/`);

  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/`);
  await waitForLoaded(p);
  assert.equal(await visible('#signed-in-text'), true);
  assert.equal(await visible('#signed-out-text'), false);
  assert.equal(await visible('#protected'), true);
  assert.equal(await visible('#protect-fallback'), false);
  assert.equal(await visible('#admin-only'), false, 'no organization role');
  assert.equal(await visible('#admin-fallback'), true);
  // subscribe() calls back at once, listen() only on changes.
  const calls = await p.evaluate(() => {
    const seen = [];
    const off1 = usher.$authStore.subscribe(a => seen.push(['subscribe', a.userId]));
    const off2 = usher.$authStore.listen(a => seen.push(['listen', a.userId]));
    off1();
    off2();
    return seen;
  });
  assert.deepEqual(calls, [['subscribe', user.id]]);

  // The user button's menu: manage account and sign out.
  await p.locator('usher-user-button button').click();
  const menu = p.getByRole('menu');
  await menu.waitFor();
  assert.match(await menu.textContent(), new RegExp(user.email));
  assert.equal(await menu.getByRole('menuitem', { name: 'Manage account' }).getAttribute('href'), `${s.pages.url}/user`);
  await p.keyboard.press('Escape');
  await menu.waitFor({ state: 'detached' });
  await p.locator('usher-user-button button').click();
  const navigated = p.waitForEvent('framenavigated');
  await p.getByRole('menuitem', { name: 'Sign out' }).click();
  await navigated;
  assert.equal(p.url(), `${s.pages.url}/`); // afterSignOutUrl
  await waitForLoaded(p);
  assert.equal(await visible('#signed-out-text'), true);
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), null);
});

test('before load: hidden without server state, painted from __USHER_STATE__ with it', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  // Hold GET /v1/client so that the page stays "not loaded" while we look at it.
  let release;
  const held = new Promise(r => (release = r));
  await ctx.route('**/v1/client', async route => {
    await held;
    await route.continue();
  });
  const hidden = sel => p.locator(sel).evaluate(e => e.hidden);
  await p.goto(`${s.pages.url}/`);
  const before = await p.evaluate(() => ({ loaded: usher.$isLoadedStore.get(), clerk: usher.$clerkStore.get(), userId: usher.$authStore.get().userId }));
  assert.deepEqual(before, { loaded: false, clerk: null, userId: undefined });
  assert.equal(await hidden('main usher-signed-in'), true);
  assert.equal(await hidden('main usher-signed-out'), true);

  await p.goto(`${s.pages.url}/?state=signed-out`);
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), null);
  assert.equal(await p.evaluate(() => usher.$isLoadedStore.get()), false);
  assert.equal(await hidden('main usher-signed-out'), false);
  assert.equal(await hidden('main usher-signed-in'), true);
  release();
  await waitForLoaded(p);
  assert.equal(await hidden('main usher-signed-out'), false);
});

test('updateOptions() changes labels and colours live, keeping what was typed', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p);
  const button = p.locator('usher-sign-in-button button');
  assert.equal(await button.textContent(), 'Sign in');
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill('typed@example.com');
  await form.getByLabel('Email address').focus();
  await p.evaluate(() => usher.updateOptions({
    localization: { signInButton: 'Log in now', formButtonPrimary: 'Go', signIn: { start: { title: 'Welcome back' } } },
    appearance: { variables: { colorPrimary: 'rgb(200, 0, 100)' } },
  }));
  assert.equal(await button.textContent(), 'Log in now');
  assert.equal(await form.getByRole('heading').textContent(), 'Welcome back');
  assert.equal(await form.getByRole('button', { name: 'Go', exact: true }).count(), 1);
  assert.equal(await form.getByLabel('Email address').inputValue(), 'typed@example.com');
  assert.equal(await p.evaluate(() => document.activeElement.name), 'identifier', 'focus kept');
  const bg = await form.getByRole('button', { name: 'Go', exact: true }).evaluate(e => getComputedStyle(e).backgroundColor);
  assert.equal(bg, 'rgb(200, 0, 100)');
  // Merged, not replaced.
  await p.evaluate(() => usher.updateOptions({ localization: { formButtonPrimary: 'Next' } }));
  assert.equal(await button.textContent(), 'Log in now');
  assert.equal(await form.getByRole('button', { name: 'Next', exact: true }).count(), 1);
});

test('usher serves this usher.js at /npm/usher.js', async () => {
  const res = await fetch(`${s.usher.url}/npm/usher.js`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /javascript/);
  const served = await res.text();
  const local = readFileSync(join(repo, 'web', 'usher.js'), 'utf8');
  assert.ok(served === local, 'the binary serves a different usher.js (rebuild it after editing web/usher.js)');
});
