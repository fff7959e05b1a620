// Second factors in Chromium: turn on an authenticator app on the hosted /user page (the secret
// read from the page, codes computed with the `otpauth` library as a phone app would), sign out,
// sign in with password + TOTP, then with a backup code; the same with the usher.js components.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { stack, newContext, hostedSignIn, waitForLoaded, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

/** The authenticator app for `secret` (base32), as a phone would set it up. */
const app = secret => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' });

/** A code for a step no earlier code used (each step signs in once): waits for the next step if needed. */
async function freshCode(totp, used) {
  let code;
  await waitFor(async () => {
    code = totp.generate();
    return !used.has(code);
  }, { timeout: 35_000, interval: 250, message: 'a new TOTP step' });
  used.add(code);
  return code;
}

test('hosted pages: set up TOTP on /user, then sign in with TOTP and with a backup code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in?redirect_url=%2Fuser`);
  await hostedSignIn(p, user);
  await p.waitForURL(`${s.usher.url}/user`);

  await p.getByRole('button', { name: 'Set up authenticator app' }).click();
  await p.waitForURL(/\/user#totp$/);
  const qr = p.getByRole('img', { name: 'QR code for your authenticator app' });
  assert.ok(await qr.locator('svg').isVisible(), 'the QR code is drawn inline');
  const secret = (await p.locator('#totp-secret').textContent()).trim();
  assert.match(secret, /^[A-Z2-7]{32}$/);
  const totp = app(secret);
  const used = new Set();
  await p.getByRole('textbox', { name: 'Code' }).fill('000000x');
  await p.getByRole('button', { name: 'Turn on' }).click();
  await p.getByRole('alert').filter({ hasText: 'Incorrect code' }).waitFor();
  await p.getByRole('textbox', { name: 'Code' }).fill(await freshCode(totp, used));
  await p.getByRole('button', { name: 'Turn on' }).click();
  await p.locator('#totp-on').waitFor();
  const codes = (await p.locator('#backup-codes li').allTextContents()).map(c => c.trim());
  assert.equal(codes.length, 10);
  const stored = await s.usher.bapi('GET', `/v1/users/${user.id}`);
  assert.deepEqual([stored.totp_enabled, stored.backup_code_enabled, stored.two_factor_enabled], [true, true, true]);

  // Sign out; the password alone now leads to the second step.
  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.waitForURL(/\/sign-in/);
  await p.goto(`${s.usher.url}/sign-in?redirect_url=%2Fuser`);
  await hostedSignIn(p, user);
  await p.getByRole('heading', { name: /Sign in to/ }).waitFor();
  await p.getByText('Enter the code your authenticator app shows.').waitFor();
  assert.equal(await sessionCount(), 0, 'no session before the second factor');
  await p.locator('#totp-form').getByLabel('Code').fill(await freshCode(totp, used));
  await p.locator('#totp-form').getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.usher.url}/user`);
  await p.locator('#totp-on').waitFor();

  // Then with a backup code, which works once.
  for (const attempt of ['first', 'replay']) {
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.waitForURL(/\/sign-in/);
    await p.goto(`${s.usher.url}/sign-in?redirect_url=%2Fuser`);
    await hostedSignIn(p, user);
    await p.getByText('Use a backup code instead').click();
    await p.getByLabel('Backup code').fill(codes[0]);
    await p.locator('#backup-code-form').getByRole('button', { name: 'Continue' }).click();
    if (attempt === 'first') {
      await p.waitForURL(`${s.usher.url}/user`);
    } else {
      await p.getByRole('alert').filter({ hasText: 'Incorrect code' }).waitFor();
    }
  }

  async function sessionCount() {
    return (await s.usher.bapi('GET', `/v1/sessions?user_id=${user.id}&status=active`)).length;
  }
});

test('components: <usher-user-profile> turns on TOTP, <usher-sign-in> asks for the code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  const signIn = p.locator('usher-sign-in');
  const first = async () => {
    await p.goto(`${s.pages.url}/sign-in`);
    await signIn.getByLabel('Email address').fill(user.email);
    await signIn.getByLabel('Password', { exact: true }).fill(user.password);
    await signIn.getByRole('button', { name: 'Continue' }).click();
  };
  await first();
  await p.waitForURL(`${s.pages.url}/after`);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  await profile.getByRole('button', { name: 'Set up authenticator app' }).click();
  const secret = (await profile.locator('[data-totp-secret]').textContent()).trim();
  assert.match(await profile.getByRole('link', { name: 'Open in authenticator app' }).getAttribute('href'), /^otpauth:\/\/totp\//);
  const totp = app(secret);
  const used = new Set();
  await profile.getByLabel('Authenticator code').fill(await freshCode(totp, used));
  await profile.getByRole('button', { name: 'Turn on' }).click();
  await profile.locator('[data-backup-codes] li').first().waitFor();
  const codes = (await profile.locator('[data-backup-codes] li').allTextContents()).map(c => c.trim());
  assert.equal(codes.length, 10);
  assert.equal(await p.evaluate(() => usher.$userStore.get().totpEnabled), true);

  // New backup codes: the old ones stop working.
  await profile.getByRole('button', { name: 'New backup codes' }).click();
  await waitFor(async () => {
    const now = (await profile.locator('[data-backup-codes] li').allTextContents()).map(c => c.trim());
    return now.length === 10 && now[0] !== codes[0];
  }, { message: 'new backup codes shown' });
  const fresh = (await profile.locator('[data-backup-codes] li').allTextContents()).map(c => c.trim());

  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  await first();
  await signIn.getByLabel('Authenticator code').fill(await freshCode(totp, used));
  await signIn.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), user.id);

  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  await first();
  await signIn.getByRole('button', { name: 'Use a backup code' }).click();
  await signIn.getByLabel('Backup code').fill(codes[1]);
  await signIn.getByRole('button', { name: 'Continue' }).click();
  await signIn.getByRole('alert').filter({ hasText: /incorrect/i }).waitFor();
  await signIn.getByLabel('Backup code').fill(fresh[0]);
  await signIn.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);

  // Turning it off: the password alone signs in again.
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  await profile.getByRole('button', { name: 'Remove authenticator app' }).click();
  await waitFor(async () => (await p.evaluate(() => usher.$userStore.get().twoFactorEnabled)) === false, { message: 'TOTP off' });
});
