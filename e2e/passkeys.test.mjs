// Passkeys in Chromium with the DevTools virtual authenticator (a platform authenticator that
// keeps resident credentials and verifies its user): register a passkey on the hosted /user
// page and sign in with it on the hosted sign-in page without typing an email address; the same
// with the usher.js components (<usher-user-profile>, <usher-sign-in>).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, hostedSignIn, componentSignIn, waitForLoaded, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack({ byName: true });
});
after(async () => {
  await s?.stop();
});

/** Adds a virtual authenticator to the page's browser context; returns the CDP session and its id. */
async function authenticator(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true, isUserVerified: true },
  });
  return {
    credentials: async () => (await cdp.send('WebAuthn.getCredentials', { authenticatorId })).credentials,
  };
}

test('hosted pages: register a passkey on /user, then sign in with it and no email address', async t => {
  assert.match(s.usher.url, /^http:\/\/localhost:\d+$/, 'usher opened by name');
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const key = await authenticator(p);
  await p.goto(`${s.usher.url}/sign-in?redirect_url=%2Fuser`);
  await hostedSignIn(p, user);
  await p.waitForURL(`${s.usher.url}/user`);

  await p.getByRole('button', { name: 'Add a passkey' }).click();
  await p.getByRole('heading', { name: 'Add a passkey' }).waitFor();
  await p.getByRole('button', { name: 'Create passkey' }).click();
  await p.waitForURL(/\/user\?done=passkey_added#passkeys$/);
  await p.getByText('Passkey added').waitFor();
  assert.equal(await p.locator('#passkey-list li').count(), 1);
  const creds = await key.credentials();
  assert.equal(creds.length, 1);
  assert.equal(creds[0].isResidentCredential, true, 'a discoverable credential');
  assert.equal(creds[0].rpId, 'localhost');
  const stored = await s.usher.bapi('GET', `/v1/users/${user.id}`);
  assert.equal(stored.passkeys.length, 1);

  await p.getByRole('button', { name: 'Sign out' }).click();
  await p.waitForURL(/\/sign-in/);
  await p.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await p.getByRole('button', { name: 'Use a passkey' }).click();
  await p.waitForURL(`${s.usher.url}/user`);
  await p.getByRole('heading', { name: /account/ }).waitFor();
  assert.equal((await key.credentials())[0].signCount, 2, 'one assertion made (after the registration)');
  const signedIn = await s.usher.bapi('GET', `/v1/users/${user.id}`);
  assert.ok(signedIn.passkeys[0].last_used_at, 'the sign-in used the passkey');
  assert.deepEqual(ctx.logs.filter(l => /Content Security Policy/.test(l)), [], 'the CSP lets the pages\' script run');
});

test('usher.js components: <usher-user-profile> registers a passkey, <usher-sign-in> signs in with it', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const key = await authenticator(p);
  await componentSignIn(p, s.pages.url, user);
  await p.goto(`${s.pages.url}/user`);
  await waitForLoaded(p);
  const profile = p.locator('usher-user-profile');
  await profile.getByRole('button', { name: 'Add a passkey' }).click();
  await profile.getByText('Passkey added').waitFor();
  await profile.locator('[data-passkey-id]').first().waitFor();
  assert.equal((await key.credentials()).length, 1);
  const passkeys = await p.evaluate(() => usher.$userStore.get().passkeys.map(k => k.id));
  assert.equal(passkeys.length, 1);

  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  await p.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p);
  await p.locator('usher-sign-in').getByRole('button', { name: 'Sign in with a passkey' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal(await p.evaluate(() => usher.$authStore.get().userId), user.id);

  // signIn.authenticateWithPasskey() and user's passkey.delete() as an app calls them.
  await p.evaluate(() => usher.clerk.signOut({ redirectUrl: null }));
  const status = await p.evaluate(async () => (await usher.clerk.signIn.authenticateWithPasskey({ flow: 'discoverable' })).status);
  assert.equal(status, 'complete');
  await waitFor(async () => (await p.evaluate(() => usher.$authStore.get().userId)) === user.id, { message: 'signed in' });
  await p.evaluate(async () => usher.$userStore.get().passkeys[0].delete());
  await waitFor(async () => (await p.evaluate(() => usher.$userStore.get().passkeys.length)) === 0, { message: 'passkey gone' });
  const stored = await s.usher.bapi('GET', `/v1/users/${user.id}`);
  assert.deepEqual(stored.passkeys, []);
});
