// Signing in through a real OpenID Connect provider (tests/oidc/provider.mjs: panva's certified
// oidc-provider on 127.0.0.1): its own login and consent pages, usher's callback, and back to the
// app signed in; linking by a provider-verified address only.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  oidcStack, newContext, waitForLoaded, waitFor, providerSignIn, OIDC_NAME, OIDC_STRATEGY, PASSWORD,
} from './harness.mjs';

let s;
before(async () => {
  s = await oidcStack({ example: true });
});
after(async () => {
  await s?.stop();
});

const continueWith = p => p.getByRole('button', { name: `Continue with ${OIDC_NAME}` });

/** The example app's home page, then its sign-in button to usher's hosted sign-in page. */
async function toHostedSignIn(p) {
  await p.goto(`${s.example.url}/`);
  await waitForLoaded(p);
  await p.locator('usher-sign-in-button button').click();
  await p.waitForURL(u => u.pathname === '/sign-in');
}

async function signedInUser(p) {
  await p.waitForURL(`${s.example.url}/`);
  await waitForLoaded(p);
  return waitFor(async () => (await p.locator('#auth-state').textContent()).trim(), { message: 'signed in' });
}

async function externalAccounts(userId) {
  return (await s.usher.bapi('GET', `/v1/users/${userId}`)).external_accounts;
}

async function usersWith(email) {
  return s.usher.bapi('GET', `/v1/users?email_address=${encodeURIComponent(email)}`);
}

test('hosted page: a new person signs up through the provider, and the next sign-in reuses the account', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await toHostedSignIn(p);
  await continueWith(p).click();
  await providerSignIn(p, s.oidc, 'newcomer');
  const userId = await signedInUser(p);
  const user = await s.usher.bapi('GET', `/v1/users/${userId}`);
  assert.equal(user.email_addresses[0].email_address, s.oidc.accounts.newcomer.email);
  assert.equal(user.email_addresses[0].verification.status, 'verified');
  assert.equal(user.first_name, 'Nell');
  const [account] = user.external_accounts;
  assert.equal(account.provider, OIDC_STRATEGY);
  assert.equal(account.provider_user_id, 'newcomer');
  assert.equal(account.email_address, s.oidc.accounts.newcomer.email);

  // Another browser (no session at usher or at the provider): the same user, the same account.
  const ctx2 = await newContext(s.browser);
  t.after(() => ctx2.close());
  const p2 = await ctx2.newPage();
  await toHostedSignIn(p2);
  await continueWith(p2).click();
  await providerSignIn(p2, s.oidc, 'newcomer');
  assert.equal(await signedInUser(p2), userId);
  const accounts = await externalAccounts(userId);
  assert.equal(accounts.length, 1);
  assert.equal(accounts[0].id, account.id);
  assert.equal((await usersWith(s.oidc.accounts.newcomer.email)).length, 1);
});

test('hosted page: a password user with the same provider-verified address is linked', async t => {
  const email = s.oidc.accounts.verified.email;
  const existing = await s.usher.createUser({ email, password: PASSWORD });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await toHostedSignIn(p);
  await continueWith(p).click();
  await providerSignIn(p, s.oidc, 'verified');
  assert.equal(await signedInUser(p), existing.id);
  const accounts = await externalAccounts(existing.id);
  assert.deepEqual(accounts.map(a => [a.provider, a.provider_user_id]), [[OIDC_STRATEGY, 'verified']]);
  assert.equal((await usersWith(email)).length, 1);
});

test('hosted page: an address the provider did not verify never links to the password user', async t => {
  const email = s.oidc.accounts.unverified.email;
  const existing = await s.usher.createUser({ email, password: PASSWORD });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await toHostedSignIn(p);
  await continueWith(p).click();
  await providerSignIn(p, s.oidc, 'unverified');
  // Back on usher's page with the reason; nobody signed in, nothing linked, no second user.
  await p.waitForURL(u => u.origin === s.usher.url);
  await p.getByText('gave no verified email address').waitFor();
  assert.equal((await ctx.cookies(s.usher.url)).some(c => c.name === '__session' && c.value), false);
  assert.deepEqual(await externalAccounts(existing.id), []);
  assert.equal((await usersWith(email)).length, 1);
});

test('<usher-sign-in>: a button per provider, the provider, a transfer to a sign-up, then a sign-in', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p);
  const button = p.locator('usher-sign-in').getByRole('button', { name: `Continue with ${OIDC_NAME}` });
  await button.waitFor();
  // The mark is inline SVG hidden from assistive technology; nothing is loaded from elsewhere.
  assert.equal(await button.locator('svg[aria-hidden="true"]').count(), 1);
  await button.click();
  await providerSignIn(p, s.oidc, 'component');
  // Back on the sign-in page: handleRedirectCallback turns the transferable sign-in into a sign-up.
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  const userId = await waitFor(() => p.evaluate(() => window.usher.$authStore.get().userId), { message: 'signed in' });
  const user = await s.usher.bapi('GET', `/v1/users/${userId}`);
  assert.equal(user.email_addresses[0].email_address, s.oidc.accounts.component.email);
  assert.deepEqual(user.external_accounts.map(a => a.provider), [OIDC_STRATEGY]);
  // The FAPI user carries the account in Clerk's shape, camelCased by usher.js.
  const accounts = await p.evaluate(() => window.usher.$userStore.get().externalAccounts
    .map(a => ({ provider: a.provider, providerUserId: a.providerUserId, emailAddress: a.emailAddress })));
  assert.deepEqual(accounts, [{ provider: 'custom_testid', providerUserId: 'component', emailAddress: s.oidc.accounts.component.email }]);

  // Signed out, then again through the component: the same user, straight to the page after.
  await p.evaluate(() => window.Usher.signOut({ redirectUrl: null }));
  const ctx2 = await newContext(s.browser);
  t.after(() => ctx2.close());
  const p2 = await ctx2.newPage();
  await p2.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p2);
  await p2.locator('usher-sign-in').getByRole('button', { name: `Continue with ${OIDC_NAME}` }).click();
  await providerSignIn(p2, s.oidc, 'component');
  await p2.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p2);
  assert.equal(await waitFor(() => p2.evaluate(() => window.usher.$authStore.get().userId)), userId);
  assert.equal((await s.usher.bapi('GET', `/v1/users/${userId}`)).external_accounts.length, 1);
});

test('hosted /user: connect a provider account through the provider, then disconnect it', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in`);
  await p.getByLabel('Email address').fill(user.email);
  await p.getByLabel('Password', { exact: true }).fill(user.password);
  await p.getByRole('button', { name: 'Continue', exact: true }).click();
  await p.waitForLoadState();
  await p.goto(`${s.usher.url}/user`);
  await p.getByRole('button', { name: `Connect ${OIDC_NAME}` }).click();
  await providerSignIn(p, s.oidc, 'unverified');
  await p.waitForURL(u => u.origin === s.usher.url && u.pathname === '/user');
  await p.getByText('Account connected').waitFor();
  await p.getByText(s.oidc.accounts.unverified.email).waitFor();
  assert.deepEqual((await externalAccounts(user.id)).map(a => a.provider_user_id), ['unverified']);
  await p.getByRole('button', { name: `Disconnect ${OIDC_NAME}` }).click();
  await p.getByText('Account disconnected').waitFor();
  assert.deepEqual(await externalAccounts(user.id), []);
});
