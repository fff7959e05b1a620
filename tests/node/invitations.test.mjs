// clerkClient.organizations' invitation calls, organizationRoles and organizationPermissions
// against a real usher.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiError, clerkFor, startUsher } from './server.mjs';

let usher;
let clerk;
let ada;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher, { publishableKey: usher.publishableKey });
  ada = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada' });
});
after(() => usher?.stop());

test('invitations: create, bulk, list by status, get, revoke; users.getOrganizationInvitationList', async () => {
  const org = await clerk.organizations.createOrganization({ name: 'Invites', createdBy: ada.id });
  const inv = await clerk.organizations.createOrganizationInvitation({
    organizationId: org.id,
    emailAddress: 'new@example.com',
    role: 'org:member',
    inviterUserId: ada.id,
    publicMetadata: { team: 'red' },
  });
  assert.match(inv.id, /^orginv_/);
  assert.equal(inv.emailAddress, 'new@example.com');
  assert.equal(inv.status, 'pending');
  assert.equal(inv.organizationId, org.id);
  assert.deepEqual(inv.publicMetadata, { team: 'red' });
  assert.match(inv.url, /__clerk_ticket=/);

  const bulk = await clerk.organizations.createOrganizationInvitationBulk(org.id, [
    { emailAddress: 'b1@example.com', role: 'org:member' },
    { emailAddress: 'b2@example.com', role: 'org:admin' },
  ]);
  assert.deepEqual(bulk.map(i => i.emailAddress), ['b1@example.com', 'b2@example.com']);

  const revoked = await clerk.organizations.revokeOrganizationInvitation({
    organizationId: org.id,
    invitationId: bulk[0].id,
    requestingUserId: ada.id,
  });
  assert.equal(revoked.status, 'revoked');
  const pending = await clerk.organizations.getOrganizationInvitationList({ organizationId: org.id, status: ['pending'] });
  assert.equal(pending.totalCount, 2);
  const got = await clerk.organizations.getOrganizationInvitation({ organizationId: org.id, invitationId: inv.id });
  assert.equal(got.emailAddress, 'new@example.com');
  await assert.rejects(
    clerk.organizations.createOrganizationInvitation({ organizationId: org.id, emailAddress: 'ada@example.com', role: 'org:member' }),
    apiError(422, 'already_a_member_in_organization'),
  );

  const b2 = await clerk.users.createUser({ emailAddress: ['b2@example.com'] });
  const mine = await clerk.users.getOrganizationInvitationList({ userId: b2.id });
  assert.deepEqual(mine.data.map(i => i.id), [bulk[1].id]);
});

test('organizationPermissions and organizationRoles: CRUD and assigning permissions', async () => {
  const perm = await clerk.organizationPermissions.createOrganizationPermission({
    name: 'Create invoices',
    key: 'org:invoices:create',
    description: 'May create invoices',
  });
  assert.equal(perm.key, 'org:invoices:create');
  const list = await clerk.organizationPermissions.getOrganizationPermissionList();
  assert.ok(list.data.some(p => p.key === 'org:sys_memberships:manage'));
  assert.ok(list.data.some(p => p.id === perm.id));

  const role = await clerk.organizationRoles.createOrganizationRole({ name: 'Billing', key: 'org:billing', permissions: [] });
  assert.equal(role.key, 'org:billing');
  const withPerm = await clerk.organizationRoles.assignPermissionToOrganizationRole({
    organizationRoleId: role.id,
    permissionId: perm.id,
  });
  assert.deepEqual(withPerm.permissions.map(p => p.key), ['org:invoices:create']);
  const renamed = await clerk.organizationRoles.updateOrganizationRole({ organizationRoleId: role.id, name: 'Accounts' });
  assert.equal(renamed.name, 'Accounts');
  const roles = await clerk.organizationRoles.getOrganizationRoleList();
  assert.deepEqual(roles.data.map(r => r.key).sort(), ['org:admin', 'org:billing', 'org:member']);

  const org = await clerk.organizations.createOrganization({ name: 'Billing Co', createdBy: ada.id });
  const bea = await clerk.users.createUser({ emailAddress: ['bea@example.com'] });
  const m = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bea.id, role: 'org:billing' });
  assert.deepEqual(m.permissions, ['org:invoices:create']);
  await assert.rejects(clerk.organizationRoles.deleteOrganizationRole(role.id), apiError(400, 'organization_role_in_use'));
  await clerk.organizations.deleteOrganizationMembership({ organizationId: org.id, userId: bea.id });

  const without = await clerk.organizationRoles.removePermissionFromOrganizationRole({
    organizationRoleId: role.id,
    permissionId: perm.id,
  });
  assert.deepEqual(without.permissions, []);
  await clerk.organizationRoles.deleteOrganizationRole(role.id);
  await clerk.organizationPermissions.deleteOrganizationPermission(perm.id);
  await assert.rejects(clerk.organizationPermissions.getOrganizationPermission(perm.id), apiError(404, 'resource_not_found'));
});
