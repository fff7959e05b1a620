// Forgotten passwords and email links, in Chromium: on the hosted /sign-in page (no script) and
// with <usher-sign-in>, reading codes and links from the dev mailbox.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, hostedSignIn, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

const NEW_PASSWORD = 'amber-Falcon-9021-drift';
const authOf = p => p.evaluate(() => usher.$authStore.get().userId);

/** Waits for message number `after + 1` to `to` and returns the link in it. */
async function waitForLink(to, after) {
  let link;
  await waitFor(async () => {
    const mine = (await s.usher.mailbox()).filter(m => m.to === to);
    const match = mine.length > after && /(http\S+\/v1\/verify\?token=\S+)/.exec(mine[0].text);
    if (match) link = match[1];
    return !!link;
  }, { message: `no link mailed to ${to}` });
  return link;
}

test('hosted /sign-in: "Forgot password?" resets it with the mailed code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in`);
  await p.getByRole('link', { name: 'Forgot password?' }).click();
  await p.getByLabel('Email address').fill(user.email);
  const before = await s.usher.mailCount(user.email);
  await p.getByRole('button', { name: 'Send code' }).click();
  const code = await s.usher.waitForCode(user.email, before);
  await p.getByLabel('Code').fill(code);
  await p.getByLabel('New password').fill(NEW_PASSWORD);
  await p.getByRole('button', { name: 'Reset password' }).click();
  await p.waitForURL(`${s.usher.url}/user`);
  await waitFor(async () => (await s.usher.mailbox()).some(m => m.to === user.email && /password was changed/.test(m.subject)),
    { message: 'the password-changed notice' });

  // Signed out, the old password fails and the new one works.
  const other = await newContext(s.browser);
  t.after(() => other.close());
  const q = await other.newPage();
  await q.goto(`${s.usher.url}/sign-in`);
  await hostedSignIn(q, user);
  await q.getByRole('alert').waitFor();
  await hostedSignIn(q, { email: user.email, password: NEW_PASSWORD });
  await q.waitForURL(`${s.usher.url}/user`);
});

test('hosted /sign-in: an email link signs in the tab that asked', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in`);
  await p.getByLabel('Email address').fill(user.email);
  const before = await s.usher.mailCount(user.email);
  await p.getByRole('button', { name: 'Email me a sign-in link' }).click();
  await p.getByRole('heading', { name: 'Check your email' }).waitFor();
  const link = await waitForLink(user.email, before);
  // Opened in another tab of the same browser: that tab is signed in and sent on...
  const tab = await ctx.newPage();
  await tab.goto(link);
  await tab.waitForURL(/\/user/);
  // ...and the tab that asked continues by itself.
  await p.waitForURL(`${s.usher.url}/user`, { timeout: 15_000 });
});

test('<usher-sign-in>: forgot password with the mailed code', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill(user.email);
  await form.getByRole('button', { name: 'Forgot password?' }).click();
  let before = await s.usher.mailCount(user.email);
  await form.getByRole('button', { name: 'Send reset code' }).click();
  const code = await s.usher.waitForCode(user.email, before);
  await form.getByLabel('Verification code').fill(code);
  await form.getByLabel('New password').fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Reset password' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal(await authOf(p), user.id);

});

test('<usher-sign-in>: an email link opened in another tab', async t => {
  const user = await s.usher.createUser();
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  const form = p.locator('usher-sign-in');
  let before;
  await form.getByLabel('Email address').fill(user.email);
  await form.getByRole('button', { name: 'Email me a sign-in link' }).click();
  before = await s.usher.mailCount(user.email);
  await form.getByRole('button', { name: 'Send link' }).click();
  await form.getByRole('heading', { name: 'Check your email' }).waitFor();
  const link = await waitForLink(user.email, before);
  const tab = await ctx.newPage();
  await tab.goto(link);
  await tab.waitForURL(/__clerk_status=verified/);
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);
  assert.equal(await authOf(p), user.id);
});

test('hosted /sign-up and <usher-sign-up>: verified with an email link instead of a code', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  // Hosted page.
  const email = `link-${Date.now()}@example.com`;
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-up`);
  await p.getByLabel('Email address').fill(email);
  await p.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByRole('heading', { name: 'Check your email' }).waitFor();
  let before = await s.usher.mailCount(email);
  await p.getByRole('button', { name: 'Email me a link instead' }).click();
  let link = await waitForLink(email, before);
  const tab = await ctx.newPage();
  await tab.goto(link);
  await tab.waitForURL(/\/user/);
  await p.waitForURL(`${s.usher.url}/user`);

  // Component, in a browser of its own.
  const other = await newContext(s.browser);
  t.after(() => other.close());
  const email2 = `link2-${Date.now()}@example.com`;
  const q = await other.newPage();
  await q.goto(`${s.pages.url}/sign-up`);
  const form = q.locator('usher-sign-up');
  await form.getByLabel('Email address').fill(email2);
  await form.getByLabel('Password', { exact: true }).fill(NEW_PASSWORD);
  await form.getByRole('button', { name: 'Continue' }).click();
  await form.getByLabel('Verification code').waitFor();
  before = await s.usher.mailCount(email2);
  await form.getByRole('button', { name: 'Email me a link instead' }).click();
  link = await waitForLink(email2, before);
  const tab2 = await other.newPage();
  await tab2.goto(link);
  await tab2.waitForURL(/__clerk_status=verified/);
  await q.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(q);
  assert.ok(await authOf(q));
});
