// clerkClient.organizations.* and users.getOrganizationMembershipList against a real usher.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiError, clerkFor, startUsher } from './server.mjs';

let usher;
let clerk;
let ada;
let bob;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher, { publishableKey: usher.publishableKey });
  ada = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada' });
  bob = await clerk.users.createUser({ emailAddress: ['bob@example.com'], firstName: 'Bob' });
});
after(() => usher?.stop());

test('organizations: create, get by id and slug, list, update, metadata, delete', async () => {
  const org = await clerk.organizations.createOrganization({
    name: 'Acme',
    slug: 'acme',
    createdBy: ada.id,
    publicMetadata: { plan: 'pro', seats: 3 },
    maxAllowedMemberships: 10,
  });
  assert.match(org.id, /^org_/);
  assert.equal(org.slug, 'acme');
  assert.equal(org.createdBy, ada.id);
  assert.equal(org.maxAllowedMemberships, 10);
  assert.equal((await clerk.organizations.getOrganization({ slug: 'acme' })).id, org.id);
  assert.equal((await clerk.organizations.getOrganization({ organizationId: org.id })).name, 'Acme');

  await assert.rejects(
    clerk.organizations.createOrganization({ name: 'Again', slug: 'acme' }),
    apiError(422, 'form_identifier_exists'),
  );
  await clerk.organizations.createOrganization({ name: 'Beta' });
  const list = await clerk.organizations.getOrganizationList({ orderBy: 'name', includeMembersCount: true });
  assert.equal(list.totalCount, 2);
  assert.deepEqual(list.data.map(o => [o.name, o.membersCount]), [['Acme', 1], ['Beta', 0]]);
  assert.equal((await clerk.organizations.getOrganizationList({ query: 'bet' })).data[0].slug, 'beta');

  const renamed = await clerk.organizations.updateOrganization(org.id, { name: 'Acme Inc' });
  assert.equal(renamed.name, 'Acme Inc');
  const merged = await clerk.organizations.updateOrganizationMetadata(org.id, {
    publicMetadata: { seats: null, color: 'red' },
    privateMetadata: { secret: 1 },
  });
  assert.deepEqual(merged.publicMetadata, { plan: 'pro', color: 'red' });
  assert.deepEqual(merged.privateMetadata, { secret: 1 });
  await assert.rejects(clerk.organizations.deleteOrganizationLogo(org.id), apiError(400, 'feature_not_supported'));

  await clerk.organizations.deleteOrganization(org.id);
  await assert.rejects(clerk.organizations.getOrganization({ organizationId: org.id }), apiError(404, 'resource_not_found'));
});

test('memberships: create, list, update role and metadata, delete; users.getOrganizationMembershipList', async () => {
  const org = await clerk.organizations.createOrganization({ name: 'Gamma', createdBy: ada.id });
  const m = await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:member' });
  assert.equal(m.role, 'org:member');
  assert.equal(m.organization.id, org.id);
  assert.equal(m.publicUserData.userId, bob.id);
  assert.equal(m.publicUserData.identifier, 'bob@example.com');
  assert.deepEqual(m.permissions, ['org:sys_memberships:read']);
  await assert.rejects(
    clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:member' }),
    apiError(422, 'already_a_member_in_organization'),
  );

  const members = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id, limit: 10 });
  assert.equal(members.totalCount, 2);
  const admins = await clerk.organizations.getOrganizationMembershipList({ organizationId: org.id, role: ['org:admin'] });
  assert.deepEqual(admins.data.map(x => x.publicUserData.userId), [ada.id]);
  const all = await clerk.organizations.getInstanceOrganizationMembershipList({ limit: 100 });
  assert.ok(all.totalCount >= 2);

  const bobs = await clerk.users.getOrganizationMembershipList({ userId: bob.id });
  assert.equal(bobs.totalCount, 1);
  assert.equal(bobs.data[0].organization.slug, 'gamma');

  await assert.rejects(
    clerk.organizations.updateOrganizationMembership({ organizationId: org.id, userId: ada.id, role: 'org:member' }),
    apiError(403, 'organization_minimum_permissions_needed'),
  );
  const promoted = await clerk.organizations.updateOrganizationMembership({ organizationId: org.id, userId: bob.id, role: 'org:admin' });
  assert.equal(promoted.role, 'org:admin');
  const meta = await clerk.organizations.updateOrganizationMembershipMetadata({
    organizationId: org.id,
    userId: bob.id,
    publicMetadata: { team: 'red' },
  });
  assert.deepEqual(meta.publicMetadata, { team: 'red' });
  const removed = await clerk.organizations.deleteOrganizationMembership({ organizationId: org.id, userId: ada.id });
  assert.equal(removed.publicUserData.userId, ada.id);
  assert.equal((await clerk.users.getOrganizationMembershipList({ userId: ada.id })).totalCount, 0);
});

const bearer = token => new Request('http://localhost/', { headers: { Authorization: `Bearer ${token}` } });

test('authenticateRequest().toAuth() reads the active organization from a usher token', async () => {
  const org = await clerk.organizations.createOrganization({ name: 'Delta', slug: 'delta', createdBy: ada.id });
  const session = await clerk.sessions.createSession({ userId: ada.id, activeOrganizationId: org.id });
  const { jwt } = await clerk.sessions.getToken(session.id);
  const state = await clerk.authenticateRequest(bearer(jwt), { authorizedParties: [] });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  const auth = state.toAuth();
  assert.equal(auth.orgId, org.id);
  assert.equal(auth.orgRole, 'org:admin');
  assert.equal(auth.orgSlug, 'delta');
  assert.deepEqual(auth.orgPermissions, [], 'system permissions are not in tokens');
  assert.equal(auth.has({ role: 'org:admin' }), true);
  assert.equal(auth.has({ role: 'org:member' }), false);
  assert.equal(auth.has({ permission: 'org:invoices:create' }), false);

  await clerk.organizations.deleteOrganization(org.id);
  const after = await clerk.authenticateRequest(bearer((await clerk.sessions.getToken(session.id)).jwt), { authorizedParties: [] });
  assert.equal(after.toAuth().orgId, undefined, 'the next token after deletion has no organization');
});
