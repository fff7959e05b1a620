// The admin console at /admin in Chromium: an instance admin signs in, finds a user by part of
// their email, revokes a session (that browser is signed out), bans the user (their sign-in is
// refused), impersonates another (the example app shows the user and the actor), edits
// metadata; a non-admin gets 403; the audit log shows each action.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stack, newContext, waitForLoaded, hostedSignIn, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack({ example: true });
});
after(async () => {
  await s?.stop();
});

async function signedIn(user, target) {
  const ctx = await newContext(s.browser);
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in?redirect_url=${encodeURIComponent(target)}`);
  await hostedSignIn(p, user);
  await p.waitForURL(u => u.href.startsWith(target));
  return { ctx, p };
}

test('an admin runs the console and every action is in the audit log', async t => {
  const home = `${s.example.url}/`;
  const admin = await s.usher.createUser();
  await s.usher.bapi('POST', '/v1/instance_admins', { user_id: admin.id });
  const tag = randomBytes(3).toString('hex');
  const target = await s.usher.createUser({ email: `jane-${tag}@example.com` });
  const other = await s.usher.createUser();
  const plain = await s.usher.createUser();

  // The target is signed in on their own browser.
  const victim = await signedIn(target, home);
  t.after(() => victim.ctx.close());
  await waitForLoaded(victim.p);

  // The admin signs in through usher's own sign-in and lands on the console.
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/admin`);
  await p.waitForURL(u => u.pathname === '/sign-in');
  await hostedSignIn(p, admin);
  await p.waitForURL(u => u.pathname === '/admin/users');

  // Find the user by part of their email.
  await p.getByLabel('Search').fill(`-${tag}@exa`);
  await p.getByRole('button', { name: 'Search' }).click();
  await p.waitForURL(u => u.searchParams.get('q') === `-${tag}@exa`);
  assert.match(await p.getByRole('status').textContent(), /^1 users/);
  await p.getByRole('link', { name: target.id }).click();
  await p.waitForURL(u => u.pathname === `/admin/users/${target.id}`);
  assert.equal(await p.getByRole('heading', { level: 1 }).textContent(), target.email);

  // Revoke the session: that browser is signed out.
  await p.getByRole('button', { name: 'Revoke', exact: true }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'session_revoked');
  await victim.p.goto(`${s.usher.url}/user`);
  await victim.p.waitForURL(u => u.pathname === '/sign-in');

  // Ban: their sign-in is refused.
  await p.getByRole('button', { name: 'Ban', exact: true }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'banned');
  assert.equal(await p.getByRole('button', { name: 'Unban' }).isVisible(), true);
  await hostedSignIn(victim.p, target);
  await waitFor(async () => (await victim.p.getByRole('alert').count()) > 0, { message: 'the refusal' });
  assert.equal(new URL(victim.p.url()).pathname, '/sign-in');

  // Edit another user's metadata, then sign in as them.
  await p.goto(`${s.usher.url}/admin/users/${other.id}`);
  await p.getByLabel('Public metadata').fill('{"plan": "gold"');
  await p.getByRole('button', { name: 'Save metadata' }).click();
  assert.match(await p.getByRole('alert').textContent(), /public_metadata is not valid JSON/);
  await p.goto(`${s.usher.url}/admin/users/${other.id}`);
  await p.getByLabel('Public metadata').fill('{"plan": "gold"}');
  await p.getByRole('button', { name: 'Save metadata' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'metadata');
  assert.deepEqual((await s.usher.bapi('GET', `/v1/users/${other.id}`)).public_metadata, { plan: 'gold' });

  await p.getByRole('button', { name: 'Sign in as this user' }).click();
  const link = await p.locator('#impersonation-link').getAttribute('href');
  const support = await newContext(s.browser);
  t.after(() => support.close());
  const sp = await support.newPage();
  await sp.goto(`${link}&redirect_url=${encodeURIComponent(home)}`);
  await sp.getByRole('button', { name: 'Continue signing in' }).click();
  await sp.waitForURL(home);
  await waitForLoaded(sp);
  await waitFor(async () => (await sp.locator('#auth-state').textContent()).trim() === other.id, {
    message: 'the example app shows the user',
  });
  assert.equal((await sp.locator('#actor').textContent()).trim(), admin.id, 'and the actor');
  await sp.locator('#call-api').click();
  await waitFor(async () => /^200 /.test(await sp.locator('#api-result').textContent()), { message: '200 from /api/route' });
  const answer = JSON.parse((await sp.locator('#api-result').textContent()).slice(4));
  assert.deepEqual(answer, { userId: other.id, actor: { sub: admin.id } }, '/api/route sees the actor');
  await p.goto(`${s.usher.url}/admin/users/${other.id}`);
  assert.equal(await p.getByText(`impersonated by ${admin.id}`).count() > 0, true, 'the session is marked');

  // A non-admin gets 403; so does the impersonation session.
  const nobody = await signedIn(plain, `${s.usher.url}/user`);
  t.after(() => nobody.ctx.close());
  for (const path of ['/admin', '/admin/users', `/admin/users/${target.id}`, '/admin/audit']) {
    const answer = await nobody.p.goto(`${s.usher.url}${path}`);
    assert.equal(answer.status(), 403, path);
  }
  assert.equal((await sp.goto(`${s.usher.url}/admin/users`)).status(), 403);

  // The audit log shows each action.
  await p.goto(`${s.usher.url}/admin/audit`);
  const log = await p.locator('table').textContent();
  for (const action of [
    'session.revoked',
    'user.banned',
    'sign_in.failed',
    'user.metadata_updated',
    'actor_token.created',
    'impersonation.started',
    'admin.denied',
  ]) {
    assert.ok(log.includes(action), `${action} in the audit log`);
  }
  await p.getByLabel('Action').selectOption('sign_in.failed');
  await p.getByLabel('Subject id').fill(target.id);
  await p.getByRole('button', { name: 'Filter' }).click();
  await p.waitForURL(u => u.searchParams.get('action') === 'sign_in.failed');
  assert.match(await p.locator('table tbody').textContent(), /user_banned/);
});
