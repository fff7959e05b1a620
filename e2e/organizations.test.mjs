// Organizations in a real browser: an invited person opens the mailed link, signs up on the
// hosted page and lands as a member; setActive({ organization }) moves $organizationStore and
// the token's `o` claim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, uniqueEmail, PASSWORD, newContext, waitForLoaded, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

test('an invitation link signs the invitee up as a member; the organization becomes active on setActive', async t => {
  const admin = await s.usher.bapi('POST', '/v1/users', { email_address: [uniqueEmail('org-admin')], password: PASSWORD });
  const org = await s.usher.bapi('POST', '/v1/organizations', { name: `Acme ${Date.now()}`, created_by: admin.id });
  const email = uniqueEmail('invitee');
  await s.usher.bapi('POST', `/v1/organizations/${org.id}/invitations`, {
    email_address: email,
    role: 'org:member',
    inviter_user_id: admin.id,
    redirect_url: `${s.pages.url}/after`,
  });
  const mail = await waitFor(async () => (await s.usher.mailbox()).find(m => m.to === email), { message: 'the invitation mail' });
  const link = mail.text.match(/https?:\/\/\S*__clerk_ticket=\S+/)[0];

  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(link);
  assert.equal(await p.getByLabel('Email address').inputValue(), email, 'the invited address fills the form');
  await p.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);
  await waitForLoaded(p);

  const memberships = await waitFor(
    () => p.evaluate(() => Usher.user && Usher.user.organizationMemberships.map(m => [m.organization.id, m.role])),
    { message: 'signed in with memberships' },
  );
  assert.deepEqual(memberships, [[org.id, 'org:member']]);
  assert.equal(await p.evaluate(() => usher.$organizationStore.get()), null, 'the personal account at first');

  const claimsOf = () => p.evaluate(async () => {
    const jwt = await Usher.getToken();
    return JSON.parse(atob(jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
  });
  assert.equal((await claimsOf()).o, undefined);
  await p.evaluate(slug => Usher.setActive({ organization: slug }), org.slug);
  const active = await waitFor(() => p.evaluate(() => usher.$organizationStore.get()), { message: 'an active organization' });
  assert.equal(active.id, org.id);
  assert.equal(await p.evaluate(() => Usher.organization && Usher.organization.id), org.id);
  const claims = await claimsOf();
  assert.deepEqual([claims.o.id, claims.o.rol, claims.o.slg], [org.id, 'member', org.slug]);

  await p.evaluate(() => Usher.setActive({ organization: null }));
  await waitFor(async () => (await p.evaluate(() => usher.$organizationStore.get())) === null, { message: 'personal again' });
  assert.equal((await claimsOf()).o, undefined);

  // The switcher lists the memberships and switches with setActive.
  await p.evaluate(() => document.querySelector('main').append(document.createElement('usher-organization-switcher')));
  const select = p.locator('usher-organization-switcher').getByLabel('Organization');
  assert.equal(await select.inputValue(), '', 'the personal account is selected');
  await select.selectOption(org.id);
  await waitFor(async () => (await p.evaluate(() => usher.$organizationStore.get()?.id)) === org.id, { message: 'switched' });
  // The token follows once setActive has fetched a fresh one.
  await waitFor(async () => (await claimsOf()).o?.id === org.id, { message: "the token's o claim" });

  // The link worked once.
  const replay = await (await s.browser.newContext()).newPage();
  await replay.goto(link);
  assert.match(await replay.content(), /invalid, was already used, or expired/);
});
