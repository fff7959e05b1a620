// The admin console's screens beyond users, in Chromium (server-rendered, no scripts of their own):
// roles (a custom permission and a role holding it, whose member's session token carries it),
// organizations (created with a first admin, a member added and given the role, an invitation
// sent and revoked), webhooks (an endpoint on a local receiver, a delivered attempt in the log,
// the secret rotated), JWT templates (created, previewed, saved), and the audit log page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { stack, newContext, hostedSignIn, waitFor, webhookReceiver, signedBy } from './harness.mjs';

let s;
let receiver;
before(async () => {
  s = await stack();
  receiver = await webhookReceiver();
});
after(async () => {
  receiver?.close();
  await s?.stop();
});

/** An admin signed in on the console, in a fresh browser context. */
async function consoleAdmin(t) {
  const admin = await s.usher.createUser();
  await s.usher.bapi('POST', '/v1/instance_admins', { user_id: admin.id });
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.usher.url}/admin`);
  await p.waitForURL(u => u.pathname === '/sign-in');
  await hostedSignIn(p, admin);
  await p.waitForURL(u => u.pathname === '/admin/users');
  return { admin, p };
}

/** The claims of a JWT, unverified (the Backend API minted it). */
function claims(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

test('an admin builds a custom role and an organization whose member holds it', async t => {
  const { admin, p } = await consoleAdmin(t);
  const owner = await s.usher.createUser();
  const member = await s.usher.createUser();
  const tag = randomBytes(3).toString('hex');
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

  // At phone width neither screen scrolls sideways (wide tables scroll inside their box).
  await p.setViewportSize({ width: 390, height: 844 });
  for (const path of [`/admin/roles/${roleId}`, '/admin/roles']) {
    await p.goto(`${s.usher.url}${path}`);
    const [scroll, inner] = await p.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
    assert.ok(scroll <= inner, `${path}: ${scroll} px wide at ${inner} px`);
  }
  await p.setViewportSize({ width: 1280, height: 800 });

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

test('an admin adds a webhook endpoint, sees a delivered attempt and rotates the secret', async t => {
  const { admin, p } = await consoleAdmin(t);
  await p.getByRole('link', { name: 'Webhooks' }).click();
  await p.waitForURL(u => u.pathname === '/admin/webhooks');
  await p.getByLabel('URL', { exact: true }).fill(receiver.url);
  await p.getByLabel('Description').fill('Role changes');
  await p.getByLabel('permission.created', { exact: true }).check();
  await p.getByRole('button', { name: 'Add endpoint' }).click();
  const secret = (await p.locator('#webhook-secret').textContent()).trim();
  assert.match(secret, /^whsec_/);
  await p.getByRole('link', { name: 'Go to the endpoint' }).click();
  const endpointUrl = p.url();

  // An event it subscribes to is delivered, signed, and the log shows the attempt.
  const tag = randomBytes(3).toString('hex');
  await s.usher.bapi('POST', '/v1/organization_permissions', { key: `org:hook_${tag}:read`, name: 'Hooked' });
  await waitFor(async () => receiver.received.some(r => r.body.includes(`org:hook_${tag}:read`)), { message: 'the delivery' });
  const delivery = receiver.received.find(r => r.body.includes(`org:hook_${tag}:read`));
  assert.equal(JSON.parse(delivery.body).type, 'permission.created');
  assert.ok(signedBy(secret, delivery), 'signed with the secret shown');
  await waitFor(async () => {
    await p.goto(endpointUrl);
    return (await p.getByRole('row').filter({ hasText: 'permission.created' }).filter({ hasText: 'succeeded' }).count()) > 0;
  }, { message: 'the delivery log shows it delivered' });
  assert.ok((await p.locator('table').last().textContent()).includes('200'), 'the attempt answered 200');

  // Rotate: a new secret, shown once, and the next delivery is signed with it.
  await p.getByRole('button', { name: 'Rotate secret' }).click();
  const rotated = (await p.locator('#webhook-secret').textContent()).trim();
  assert.match(rotated, /^whsec_/);
  assert.notEqual(rotated, secret);
  await s.usher.bapi('POST', '/v1/organization_permissions', { key: `org:hook_${tag}:write`, name: 'Hooked again' });
  await waitFor(async () => receiver.received.some(r => r.body.includes(`org:hook_${tag}:write`)), { message: 'the second delivery' });
  assert.ok(signedBy(rotated, receiver.received.find(r => r.body.includes(`org:hook_${tag}:write`))), 'signed with the new secret');

  await p.goto(`${s.usher.url}/admin/audit?actor_id=${admin.id}`);
  const log = await p.locator('table').textContent();
  for (const action of ['webhook_endpoint.created', 'webhook_endpoint.secret_rotated']) {
    assert.ok(log.includes(action), `${action} in the audit log`);
  }
});

test('an admin creates a JWT template, previews its claims for a user and saves it', async t => {
  const { admin, p } = await consoleAdmin(t);
  const user = await s.usher.createUser();
  const name = `tmpl_${randomBytes(3).toString('hex')}`;
  await p.getByRole('link', { name: 'JWT templates' }).click();
  await p.getByRole('link', { name: 'New template' }).click();
  await p.getByLabel('Name').fill(name);
  await p.getByLabel('Claims (JSON)').fill('{"aud": "reports", "email": "{{user.primary_email_address}}"}');
  await p.getByRole('button', { name: 'Create template' }).click();
  await p.waitForURL(u => u.pathname.startsWith('/admin/templates/') && u.searchParams.get('done') === 'created');
  const templateUrl = new URL(p.url()).pathname;

  // The preview is the claims of the text in the form, for the user, before saving.
  await p.getByLabel('Claims (JSON)').fill('{"aud": "reports", "email": "{{user.primary_email_address}}", "v": 2}');
  await p.getByLabel('User (id or email address)').fill(user.email);
  await p.getByRole('button', { name: 'Preview' }).click();
  const preview = JSON.parse(await p.locator('#preview-claims').textContent());
  assert.equal(preview.email, user.email);
  assert.equal(preview.v, 2);
  assert.equal(preview.sub, user.id);
  const stored = await s.usher.bapi('GET', '/v1/jwt_templates');
  const before = (stored.data ?? stored).find(x => x.name === name);
  assert.equal(before.claims.v, undefined, 'previewing does not save');

  await p.getByRole('button', { name: 'Save template' }).click();
  await p.waitForURL(u => u.pathname === templateUrl && u.searchParams.get('done') === 'saved');
  const saved = (await s.usher.bapi('GET', `/v1/jwt_templates/${before.id}`));
  assert.equal(saved.claims.v, 2);

  await p.goto(`${s.usher.url}/admin/audit?actor_id=${admin.id}`);
  const log = await p.locator('table').textContent();
  for (const action of ['jwt_template.created', 'jwt_template.updated']) {
    assert.ok(log.includes(action), `${action} in the audit log`);
  }
});
