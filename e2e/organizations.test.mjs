// Organizations in a real browser: an invited person opens the mailed link, signs up on the
// hosted page and lands as a member; setActive({ organization }) moves $organizationStore and
// the token's `o` claim.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, uniqueEmail, PASSWORD, newContext, waitForLoaded, waitFor, componentSignIn } from './harness.mjs';

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

test('the organization components: create, invite by email, the invitee joins through the mailed link; a member sees no admin controls', async t => {
  const admin = await s.usher.createUser({ email: uniqueEmail('creator') });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await componentSignIn(p, s.pages.url, admin);
  const mount = (page, tag) => page.evaluate(name => document.querySelector('main').append(document.createElement(name)), tag);

  // Create: the new organization becomes the active one.
  await mount(p, 'usher-create-organization');
  const create = p.locator('usher-create-organization');
  const name = `Widgets ${Date.now()}`;
  await create.getByLabel('Name').fill(name);
  await create.getByRole('button', { name: 'Create organization' }).click();
  const active = await waitFor(() => p.evaluate(() => usher.$organizationStore.get()), { message: 'the created organization' });
  assert.equal(active.name, name);
  assert.equal(await p.evaluate(() => usher.$authStore.get().has({ permission: 'org:sys_memberships:manage' })), true);

  // The profile shows the admin every section, and invites by email.
  await mount(p, 'usher-organization-profile');
  const profile = p.locator('usher-organization-profile');
  await profile.locator(`[data-member="${admin.email}"]`).waitFor();
  for (const section of ['general', 'members', 'invitations', 'roles', 'danger']) {
    assert.equal(await profile.locator(`[data-section="${section}"]`).count(), 1, `the admin sees ${section}`);
  }
  const invitee = uniqueEmail('joiner');
  await profile.getByLabel('Email address to invite').fill(invitee);
  await profile.getByRole('button', { name: 'Invite' }).click();
  await profile.locator(`[data-invitation="${invitee}"]`).waitFor();
  assert.match(await profile.getByRole('status').innerText(), /Invitation sent/);

  // The invitee opens the mailed link, signs up on the hosted page and is a member.
  const mail = await waitFor(async () => (await s.usher.mailbox()).find(m => m.to === invitee), { message: 'the invitation mail' });
  const link = mail.text.match(/https?:\/\/\S*__clerk_ticket=\S+/)[0];
  const ctx2 = await newContext(s.browser);
  t.after(() => ctx2.close());
  const q = await ctx2.newPage();
  await q.goto(link);
  assert.equal(await q.getByLabel('Email address').inputValue(), invitee);
  await q.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await q.getByRole('button', { name: 'Continue' }).click();
  const orgId = active.id;
  await waitFor(async () => {
    const list = await s.usher.bapi('GET', `/v1/organizations/${orgId}/memberships`);
    return list.data.some(m => m.public_user_data.identifier === invitee && m.role === 'org:member');
  }, { message: 'the invitee a member' });

  // On the app: the list shows the organization; selecting it makes it active.
  await q.goto(`${s.pages.url}/after`);
  await waitForLoaded(q);
  await mount(q, 'usher-organization-list');
  const list = q.locator('usher-organization-list');
  await list.locator(`[data-organization="${orgId}"]`).waitFor();
  await list.locator(`[data-organization="${orgId}"]`).getByRole('button', { name: 'Select' }).click();
  await waitFor(async () => (await q.evaluate(() => usher.$organizationStore.get()?.id)) === orgId, { message: 'selected' });
  const auth = await q.evaluate(() => {
    const a = usher.$authStore.get();
    return { role: a.orgRole, read: a.has({ permission: 'org:sys_memberships:read' }), manage: a.has({ permission: 'org:sys_memberships:manage' }) };
  });
  assert.deepEqual(auth, { role: 'org:member', read: true, manage: false });

  // A member's profile: the members (read), none of the admin controls.
  await mount(q, 'usher-organization-profile');
  const memberView = q.locator('usher-organization-profile');
  await memberView.locator(`[data-member="${admin.email}"]`).waitFor();
  for (const section of ['general', 'invitations']) {
    assert.equal(await memberView.locator(`[data-section="${section}"]`).count(), 0, `no ${section} for a member`);
  }
  assert.equal(await memberView.locator('select').count(), 0, 'no role changes');
  assert.equal(await memberView.getByRole('button', { name: 'Remove' }).count(), 0, 'no removals');
  assert.equal(await memberView.getByRole('button', { name: 'Delete organization' }).count(), 0);
  // And the server refuses the admin action if the member calls it anyway.
  const refused = await q.evaluate(() =>
    Usher.organization.inviteMember({ emailAddress: 'sneaky@example.com', role: 'org:member' }).then(
      () => null, e => [e.status, e.errors[0].code]));
  assert.deepEqual(refused, [403, 'not_allowed_access']);

  // Back on the admin's page: the new member is listed, and promoting them works.
  await p.reload();
  await waitForLoaded(p);
  await mount(p, 'usher-organization-profile');
  const row = p.locator('usher-organization-profile').locator(`[data-member="${invitee}"]`);
  await row.waitFor();
  await row.locator('select').selectOption('org:admin');
  await waitFor(async () => {
    const list = await s.usher.bapi('GET', `/v1/organizations/${orgId}/memberships`);
    return list.data.some(m => m.public_user_data.identifier === invitee && m.role === 'org:admin');
  }, { message: 'promoted' });
});

test('hosted organization pages: create, invite, the invitee joins and switches; a member gets no admin controls and is refused on the server', async t => {
  const { hostedSignIn } = await import('./harness.mjs');
  const admin = await s.usher.createUser({ email: uniqueEmail('hosted-admin') });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/sign-in?redirect_url=${encodeURIComponent('/organizations')}`);
  await hostedSignIn(p, admin);
  await p.waitForURL(u => u.pathname === '/organizations');
  const name = `Hosted ${Date.now()}`;
  await p.getByLabel('Organization name').fill(name);
  await p.getByRole('button', { name: 'Create organization' }).click();
  await p.getByRole('status').filter({ hasText: 'Organization created' }).waitFor();
  await p.locator(`[data-member="${admin.email}"]`).waitFor();
  const invitee = uniqueEmail('hosted-joiner');
  await p.getByLabel('Email address to invite').fill(invitee);
  await p.getByRole('button', { name: 'Invite' }).click();
  await p.getByRole('status').filter({ hasText: 'Invitation sent' }).waitFor();
  await p.locator(`[data-invitation="${invitee}"]`).waitFor();

  const mail = await waitFor(async () => (await s.usher.mailbox()).find(m => m.to === invitee), { message: 'the invitation mail' });
  const link = mail.text.match(/https?:\/\/\S*__clerk_ticket=\S+/)[0];
  const ctx2 = await newContext(s.browser);
  t.after(() => ctx2.close());
  const q = await ctx2.newPage();
  await q.goto(link);
  await q.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await q.getByRole('button', { name: 'Continue' }).click();
  await q.waitForURL(u => !u.pathname.startsWith('/sign-up'));
  await q.goto(`${s.usher.url}/organizations`);
  const row = q.locator('li[data-organization]').filter({ hasText: name });
  await row.getByRole('button', { name: `Switch to ${name}` }).click();
  await q.getByRole('status').filter({ hasText: 'Active organization changed' }).waitFor();
  await q.locator(`[data-member="${admin.email}"]`).waitFor();
  assert.equal(await q.getByRole('button', { name: 'Change role' }).count(), 0, 'a member changes no roles');
  assert.equal(await q.getByRole('button', { name: /^Remove/ }).count(), 0, 'nor removes anyone');
  assert.equal(await q.getByLabel('Email address to invite').count(), 0, 'nor invites');
  // Posting the admin form anyway (the page's own origin, as a crafted form would): refused by the server.
  const [response] = await Promise.all([
    q.waitForNavigation(),
    q.evaluate(() => {
      const form = document.createElement('form');
      form.method = 'post';
      form.action = '/organizations/invite';
      const input = document.createElement('input');
      input.name = 'email_address';
      input.value = 'sneaky@example.com';
      form.append(input);
      document.body.append(form);
      form.submit();
    }),
  ]);
  assert.equal(response.status(), 403);
  assert.match(await q.locator("[role=alert]").first().innerText(), /org:sys_memberships:manage/);
  assert.equal((await s.usher.mailbox()).some(m => m.to === 'sneaky@example.com'), false, 'nothing was sent');

  // The admin promotes the new member from the page.
  await p.reload();
  const member = p.locator(`[data-member="${invitee}"]`);
  await member.getByLabel(`Role of ${invitee}`).selectOption('org:admin');
  await member.getByRole('button', { name: 'Change role' }).click();
  await p.getByRole('status').filter({ hasText: 'Role changed' }).waitFor();
  await q.reload();
  await q.getByRole('button', { name: 'Change role' }).first().waitFor();
});
