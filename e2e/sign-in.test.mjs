// Sign-in: password and email code with <usher-sign-in>, the hosted /sign-in page, wrong passwords,
// and the hosted page refusing an open redirect.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, hostedSignIn, sessionCookie, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

const authOf = p => p.evaluate(() => ({ userId: usher.$authStore.get().userId, loaded: usher.$isLoadedStore.get() }));

test('<usher-sign-in> with a password; a wrong one is shown in role=alert', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill(user.email);
  await form.getByLabel('Password', { exact: true }).fill('not the password 123');
  await form.getByRole('button', { name: 'Continue' }).click();
  const alert = form.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /password|incorrect/i);
  const focused = await p.evaluate(() => document.activeElement?.getAttribute('name') ?? document.activeElement?.getAttribute('role'));
  assert.ok(['password', 'identifier', 'alert'].includes(focused), `focus moved to the error (got ${focused})`);
  assert.equal((await authOf(p)).userId, null);

  await form.getByLabel('Password', { exact: true }).fill(user.password);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal((await authOf(p)).userId, user.id);
  assert.ok(await sessionCookie(ctx, s.pages.url), '__session is set on the page host');
  // It survives a reload: the state comes back from GET /v1/client (HttpOnly __client cookie).
  await p.reload();
  await waitForLoaded(p);
  assert.equal((await authOf(p)).userId, user.id);
});

test('<usher-sign-in> with an email code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill(user.email);
  const before = await s.usher.mailCount(user.email);
  await form.getByRole('button', { name: 'Use an email code instead' }).click();
  // The typed address survives the switch.
  assert.equal(await form.getByLabel('Email address').inputValue(), user.email);
  await form.getByRole('button', { name: 'Send code' }).click();
  const code = await s.usher.waitForCode(user.email, before);
  await form.getByLabel('Verification code').fill(code);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal((await authOf(p)).userId, user.id);
});

test('<usher-sign-in> follows an allowed redirect_url and ignores a foreign one', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const evil = [];
  await ctx.route(u => u.hostname.endsWith('evil.example'), route => {
    evil.push(route.request().url());
    return route.abort();
  });
  await p.goto(`${s.pages.url}/sign-in?redirect_url=${encodeURIComponent('https://evil.example/x')}`);
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill(user.email);
  await form.getByLabel('Password', { exact: true }).fill(user.password);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`); // afterSignInUrl instead
  assert.deepEqual(evil, []);
  await waitForLoaded(p);

  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  await p.goto(`${s.pages.url}/sign-in?redirect_url=${encodeURIComponent(`${s.pages.url}/?from=sign-in`)}`);
  await form.getByLabel('Email address').fill(user.email);
  await form.getByLabel('Password', { exact: true }).fill(user.password);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/?from=sign-in`);
});

test('<usher-sign-in> shows a 429 with its Retry-After', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p);
  await ctx.route('**/v1/client/sign_ins**', route => route.fulfill({
    status: 429,
    headers: {
      'content-type': 'application/json', 'retry-after': '7',
      'access-control-allow-origin': s.pages.url, 'access-control-allow-credentials': 'true',
      'access-control-expose-headers': 'Retry-After',
    },
    body: JSON.stringify({ errors: [{ code: 'too_many_requests', message: 'Too many requests', long_message: 'Too many requests', meta: {} }] }),
  }));
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill('someone@example.com');
  await form.getByLabel('Password', { exact: true }).fill('whatever-password-1');
  await form.getByRole('button', { name: 'Continue' }).click();
  await form.getByRole('alert').waitFor();
  assert.match(await form.getByRole('alert').textContent(), /7 seconds/);
});

test('hosted /sign-in: wrong password in role=alert, then signed in and sent to redirect_url', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in?redirect_url=${encodeURIComponent(`${s.pages.url}/after`)}`);
  await hostedSignIn(p, { email: user.email, password: 'wrong password 99' });
  const alert = p.getByRole('alert');
  await alert.waitFor();
  assert.match(await alert.textContent(), /password/i);
  await hostedSignIn(p, user);
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal((await authOf(p)).userId, user.id);
});

test('hosted /sign-in refuses an open redirect', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const evil = [];
  await ctx.route(u => u.hostname.endsWith('evil.example'), route => {
    evil.push(route.request().url());
    return route.abort();
  });
  const target = 'https://evil.example/';
  const res = await p.goto(`${s.usher.url}/sign-in?redirect_url=${encodeURIComponent(target)}`);
  if (res.status() === 400) {
    assert.deepEqual(evil, []);
    return; // refused outright
  }
  assert.equal(res.status(), 200);
  const landed = p.waitForResponse(r => r.request().isNavigationRequest() && r.request().method() === 'POST');
  await hostedSignIn(p, user);
  const answer = await landed;
  await p.waitForLoadState('load');
  assert.ok(answer.status() < 500, `sign-in POST answered ${answer.status()}`);
  const location = answer.headers()['location'] ?? '';
  assert.ok(!location.includes('evil.example'), `redirected to ${location}`);
  assert.ok(!p.url().includes('evil.example'), `navigated to ${p.url()}`);
  assert.deepEqual(evil, []);
  if (answer.status() === 400) return; // refused when submitted
  // Otherwise the target was ignored, not the credentials: the browser is signed in.
  await p.goto(`${s.pages.url}/`);
  await waitForLoaded(p);
  assert.equal((await authOf(p)).userId, user.id);
});
