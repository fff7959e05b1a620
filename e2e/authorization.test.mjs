// Authorization by organization permission in a real browser, as Clerk's docs show it: the
// example app's GET /api/invoices answers 403 until the member's role carries
// `org:invoices:create`, and <usher-protect permission=…> shows its fallback, then its content.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded, hostedSignIn, waitFor } from './harness.mjs';

let s;
before(async () => {
  s = await stack({ example: true });
});
after(async () => {
  await s?.stop();
});

test('a custom permission: /api/invoices answers 403, then 200 once the admin grants the role; <usher-protect> follows', async t => {
  const permission = await s.usher.bapi('POST', '/v1/organization_permissions', {
    key: 'org:invoices:create',
    name: 'Create invoices',
    description: 'May create invoices',
  });
  const billing = `org:billing${Date.now()}`;
  await s.usher.bapi('POST', '/v1/organization_roles', {
    key: billing,
    name: 'Billing',
    description: 'Manages invoices',
    permissions: [permission.id],
  });
  const admin = await s.usher.createUser();
  const org = await s.usher.bapi('POST', '/v1/organizations', { name: `Invoices ${Date.now()}`, created_by: admin.id });
  const member = await s.usher.createUser();
  await s.usher.bapi('POST', `/v1/organizations/${org.id}/memberships`, { user_id: member.id, role: 'org:member' });

  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const home = `${s.example.url}/`;
  await p.goto(`${s.usher.url}/sign-in?redirect_url=${encodeURIComponent(home)}`);
  await hostedSignIn(p, member);
  await p.waitForURL(home);
  await waitForLoaded(p);

  await p.evaluate(slug => Usher.setActive({ organization: slug }), org.slug);
  await waitFor(async () => (await p.evaluate(() => usher.$organizationStore.get()?.id)) === org.id, {
    message: 'the organization is active',
  });

  const protect = () =>
    p.evaluate(() => {
      const el = document.createElement('usher-protect');
      el.setAttribute('permission', 'org:invoices:create');
      el.innerHTML = '<p id="invoices">Invoices</p><p slot="fallback" id="no-invoices">No access to invoices</p>';
      document.querySelector('main').append(el);
    });
  const invoices = () =>
    p.evaluate(async () => {
      const jwt = await Usher.getToken({ skipCache: true });
      const r = await fetch('/api/invoices', { headers: { Authorization: `Bearer ${jwt}` } });
      return [r.status, await r.text()];
    });

  // A member: the fallback, and 403 from the server (which reads the token, not the page).
  await protect();
  await p.locator('#no-invoices').waitFor({ state: 'visible' });
  assert.equal(await p.locator('#invoices').isVisible(), false);
  assert.equal(await p.evaluate(() => usher.$authStore.get().orgRole), 'org:member');
  assert.equal(await p.evaluate(() => usher.$authStore.get().has({ permission: 'org:invoices:create' })), false);
  const [denied] = await invoices();
  assert.equal(denied, 403);

  // The admin grants the billing role through the Backend API.
  await s.usher.bapi('PATCH', `/v1/organizations/${org.id}/memberships/${member.id}`, { role: billing });

  // The next token carries the permission: 200 with the organization's id.
  await waitFor(async () => (await invoices())[0] === 200, { message: '200 from /api/invoices' });
  const [, body] = await invoices();
  assert.deepEqual(JSON.parse(body), { orgId: org.id, invoices: [] });

  // The page, loaded again, shows the protected content and no fallback.
  await p.reload();
  await waitForLoaded(p);
  await waitFor(async () => (await p.evaluate(() => usher.$organizationStore.get()?.id)) === org.id, {
    message: 'still active after a reload',
  });
  await protect();
  await p.locator('#invoices').waitFor({ state: 'visible' });
  assert.equal(await p.locator('#no-invoices').isVisible(), false);
  assert.equal(await p.evaluate(() => usher.$authStore.get().orgRole), billing);
  assert.equal(await p.evaluate(() => usher.$authStore.get().has({ permission: 'org:invoices:create' })), true);
  assert.ok(await p.evaluate(() => usher.$authStore.get().orgPermissions.includes('org:invoices:create')));
});
