// Sign-up with an emailed code: the <usher-sign-up> component and the hosted /sign-up page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, uniqueEmail, PASSWORD, newContext, waitForLoaded, sessionCookie, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

test('<usher-sign-up>: details, a wrong code, the mailed code, then signed in', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const email = uniqueEmail('signup');
  await p.goto(`${s.pages.url}/sign-up`);
  const form = p.locator('usher-sign-up');
  await form.getByLabel('First name').fill('Grace');
  await form.getByLabel('Last name').fill('Hopper');
  await form.getByLabel('Email address').fill(email);
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Continue' }).click();

  const code = await s.usher.waitForCode(email);
  assert.match(code, /^\d{6}$/);
  const codeInput = form.getByLabel('Verification code');
  await codeInput.waitFor();
  // A wrong code first: the error is announced and the code field is focused and marked invalid.
  await codeInput.fill(code === '000000' ? '111111' : '000000');
  await form.getByRole('button', { name: 'Continue' }).click();
  const alert = form.getByRole('alert');
  await alert.waitFor();
  assert.notEqual((await alert.textContent()).trim(), '');
  assert.equal(await codeInput.getAttribute('aria-invalid'), 'true');
  assert.ok(await codeInput.evaluate(el => el === document.activeElement), 'focus moves to the field in error');

  await codeInput.fill(code);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  const auth = await p.evaluate(() => {
    const a = usher.$authStore.get();
    const u = usher.$userStore.get();
    return { userId: a.userId, sessionId: a.sessionId, first: u.firstName, last: u.lastName, email: u.primaryEmailAddress.emailAddress };
  });
  assert.match(auth.userId, /^user_/);
  assert.match(auth.sessionId, /^sess_/);
  assert.deepEqual([auth.first, auth.last, auth.email], ['Grace', 'Hopper', email]);
  const jwt = await sessionCookie(ctx, s.pages.url);
  assert.equal(jwt?.split('.').length, 3, '__session holds a JWT');
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'));
  assert.equal(claims.sub, auth.userId);
  // The Backend API knows the new user, with the email verified.
  const user = await s.usher.bapi('GET', `/v1/users/${auth.userId}`);
  assert.equal(user.email_addresses[0].email_address, email);
  assert.equal(user.email_addresses[0].verification.status, 'verified');
});

test('hosted /sign-up page: the mailed code signs the browser in', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const email = uniqueEmail('hosted-signup');
  await p.goto(`${s.usher.url}/sign-up?redirect_url=${encodeURIComponent(`${s.pages.url}/after`)}`);
  await p.getByLabel('Email address').fill(email);
  await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.getByRole('button', { name: 'Continue' }).click();
  const code = await s.usher.waitForCode(email);
  await p.getByLabel(/code/i).fill(code);
  await p.getByRole('button', { name: /continue|verify/i }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  const userId = await waitFor(() => p.evaluate(() => usher.$authStore.get().userId), { message: 'signed in' });
  assert.match(userId, /^user_/);
});
