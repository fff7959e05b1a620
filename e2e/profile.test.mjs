// <usher-user-profile>: names reach $userStore, password change, sessions and revoking one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, componentSignIn, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

test('profile edits reach $userStore and the user button at once, and persist', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  await profile.getByLabel('First name').fill('Ada');
  await profile.getByLabel('Last name').fill('Lovelace');
  await profile.getByRole('button', { name: 'Save' }).click();
  await profile.getByRole('status').filter({ hasText: 'Profile saved' }).waitFor();
  const names = await p.evaluate(() => [usher.$userStore.get().firstName, usher.$userStore.get().lastName, usher.$authStore.get().user.fullName]);
  assert.deepEqual(names, ['Ada', 'Lovelace', 'Ada Lovelace']);
  assert.equal((await p.locator('usher-user-button .usher-avatar').textContent()).trim(), 'AL');
  const stored = await s.usher.bapi('GET', `/v1/users/${user.id}`);
  assert.deepEqual([stored.first_name, stored.last_name], ['Ada', 'Lovelace']);
  await p.reload();
  await waitForLoaded(p);
  assert.equal(await profile.getByLabel('First name').inputValue(), 'Ada');
});

test('change password, then sign in with the new one', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  // A wrong current password is reported.
  await profile.getByLabel('Current password').fill('not my password 1');
  await profile.getByLabel('New password').fill('a-brand-new-Passphrase-77');
  await profile.getByRole('button', { name: 'Update password' }).click();
  await profile.getByRole('alert').filter({ hasText: /./ }).waitFor();
  await profile.getByLabel('Current password').fill(user.password);
  await profile.getByRole('button', { name: 'Update password' }).click();
  await profile.getByRole('status').filter({ hasText: 'Password updated' }).waitFor();
  assert.equal(await profile.getByLabel('New password').inputValue(), '', 'password fields are cleared');

  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  await componentSignIn(p, s.pages.url, { email: user.email, password: 'a-brand-new-Passphrase-77' });
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), user.id);
});

test('sessions are listed; revoking another device signs that browser out', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  const other = await newContext(s.browser);
  t.after(() => Promise.all([ctx.close(), other.close()]));
  const o = await other.newPage();
  await componentSignIn(o, s.pages.url, user);
  const otherSession = await o.evaluate(() => usher.$authStore.get().sessionId);
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  const rows = profile.locator('[data-session-id]');
  await waitFor(async () => (await rows.count()) === 2, { message: 'two sessions listed' });
  await profile.locator(`[data-session-id="${otherSession}"]`).getByRole('button', { name: 'Sign out of this device' }).click();
  await waitFor(async () => (await rows.count()) === 1, { message: 'one session left' });
  assert.ok(await profile.locator('[data-session-id]').getByText('This device').isVisible());
  // The other browser finds out at its next token refresh (forced here).
  await o.evaluate(() => usher.getToken({ skipCache: true }).catch(() => null));
  await waitFor(() => o.evaluate(() => usher.$authStore.get().userId === null), { message: 'the other browser signed out' });
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), user.id, 'this browser stays signed in');
});

test('add an email address and verify it with the mailed code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  const extra = `second-${user.email}`;
  await profile.getByLabel('Email address', { exact: true }).fill(extra);
  await profile.getByRole('button', { name: 'Add email address' }).click();
  const code = await s.usher.waitForCode(extra);
  await profile.getByLabel('Verification code').fill(code);
  await profile.getByRole('button', { name: 'Verify' }).click();
  await profile.getByRole('status').filter({ hasText: 'Email address verified' }).waitFor();
  const emails = await p.evaluate(() => usher.$userStore.get().emailAddresses.map(e => [e.emailAddress, e.verification.status]));
  assert.deepEqual(emails.sort(), [[user.email, 'verified'], [extra, 'verified']].sort());
});
