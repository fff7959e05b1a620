// The admin console's roles and organizations screens in Chromium, without scripts of its own:
// an instance admin creates a custom permission and a role holding it, creates an organization
// with a first admin, adds a member, gives them the custom role, invites and revokes; a session
// token minted for that member in that organization carries the permission; the audit log page
// lists the actions.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stack, newContext, hostedSignIn } from './harness.mjs';

let s;
before(async () => {
  s = await stack();
});
after(async () => {
  await s?.stop();
});

/** The claims of a JWT, unverified (the Backend API minted it). */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

test('an admin builds a custom role and an organization whose member holds it', async t => {
  const admin = await s.usher.createUser();
  await s.usher.bapi('POST', '/v1/instance_admins', { user_id: admin.id });
  const owner = await s.usher.createUser();
  const member = await s.usher.createUser();
  const tag = randomBytes(3).toString('hex');

  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/admin/roles`);
  await p.waitForURL(u => u.pathname === '/sign-in');
  await hostedSignIn(p, admin);
  await p.waitForURL(u => u.pathname === '/admin/users');
  await p.getByRole('link', { name: 'Roles' }).click();
  await p.waitForURL(u => u.pathname === '/admin/roles');

  // A custom permission; a bad key first, refused beside the field.
  await p.locator('#permission-key').fill('reports:read');
  await p.locator('#permission-name').fill('Read reports');
  await p.getByRole('button', { name: 'Create permission' }).click();
  assert.match(await p.locator('#permission-key-error').textContent(), /org:<feature>:<permission>/);
  assert.equal(await p.locator('#permission-key').getAttribute('aria-invalid'), 'true');
  await p.locator('#permission-key').fill('org:reports:read');
  await p.getByRole('button', { name: 'Create permission' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'permission_created');

  // A role holding it.
  const roleForm = p.locator('form[action="/admin/roles"]');
  await p.locator('#role-key').fill(`org:analyst_${tag}`);
  await p.locator('#role-name').fill('Analyst');
  await p.locator('#role-description').fill('Reads the reports');
  await roleForm.getByLabel(/org:reports:read/).check();
  await p.getByRole('button', { name: 'Create role' }).click();
  await p.waitForURL(u => u.pathname.startsWith('/admin/roles/role_') && u.searchParams.get('done') === 'role_created');
  assert.equal(await p.getByRole('heading', { level: 1 }).textContent(), 'Analyst');
  assert.equal(await p.getByLabel(/org:reports:read/).isChecked(), true);
  const roleId = new URL(p.url()).pathname.split('/').pop();

  // An organization with a first admin; a member added, then given the custom role.
  await p.getByRole('link', { name: 'Organizations' }).click();
  await p.locator('#name').fill(`Acme ${tag}`);
  await p.getByLabel('First admin (email or user id)').fill(owner.email);
  await p.getByRole('button', { name: 'Create organization' }).click();
  await p.waitForURL(u => u.pathname.startsWith('/admin/organizations/org_') && u.searchParams.get('done') === 'created');
  const orgId = new URL(p.url()).pathname.split('/').pop();
  await p.locator('#member-user').fill(member.email);
  await p.getByRole('button', { name: 'Add member' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'member_added');
  const row = p.getByRole('row').filter({ hasText: member.email });
  await row.getByLabel('Role').selectOption(`org:analyst_${tag}`);
  await row.getByRole('button', { name: 'Change role' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'role_changed');
  assert.match(await p.getByRole('row').filter({ hasText: member.email }).textContent(), new RegExp(`org:analyst_${tag}`));

  // Invite someone, then revoke it.
  const invitee = `invitee-${tag}@example.com`;
  await p.locator('#invite-email').fill(invitee);
  await p.getByRole('button', { name: 'Send invitation' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'invited');
  const invitation = p.getByRole('row').filter({ hasText: invitee });
  await invitation.getByRole('button', { name: 'Revoke' }).click();
  await p.waitForURL(u => u.searchParams.get('done') === 'revoked');
  assert.equal(await p.getByRole('row').filter({ hasText: invitee }).count(), 0);
  const invitations = await s.usher.bapi('GET', `/v1/organizations/${orgId}/invitations`);
  assert.deepEqual(invitations.data.map(i => [i.email_address, i.status]), [[invitee, 'revoked']]);

  // The member's session token in that organization carries the custom permission.
  const session = await s.usher.bapi('POST', '/v1/sessions', { user_id: member.id, active_organization_id: orgId });
  const { jwt } = await s.usher.bapi('POST', `/v1/sessions/${session.id}/tokens`, {});
  const c = claims(jwt);
  assert.equal(c.o.id, orgId);
  assert.equal(c.o.rol, `analyst_${tag}`);
  assert.equal(c.o.per, 'read');
  assert.equal(c.fea, 'o:reports');

  // The role held by a member is not deleted, with the reason said.
  await p.goto(`${s.usher.url}/admin/roles/${roleId}`);
  await p.getByRole('button', { name: 'Delete role' }).click();
  assert.match(await p.getByRole('alert').textContent(), /assigned to 1 member/);

  // The audit log page lists the actions, by this admin.
  await p.goto(`${s.usher.url}/admin/audit?actor_id=${admin.id}`);
  const log = await p.locator('table').textContent();
  for (const action of [
    'permission.created',
    'role.created',
    'organization.created',
    'organization_membership.created',
    'organization_membership.updated',
    'organization_invitation.created',
    'organization_invitation.revoked',
  ]) {
    assert.ok(log.includes(action), `${action} in the audit log`);
  }
});
