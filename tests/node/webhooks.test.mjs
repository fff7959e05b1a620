// Outbound webhooks against the receivers Clerk apps use: `verifyWebhook` from
// `@clerk/backend/webhooks` and the `svix` package's `Webhook.verify` must both accept every event
// a scripted series of Backend API and Frontend API changes produces, and refuse a tampered body
// and an old timestamp.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { after, before, test } from 'node:test';
import { verifyWebhook } from '@clerk/backend/webhooks';
import { Webhook } from 'svix';
import { bapi, clerkFor, startUsher } from './server.mjs';

let usher;
let clerk;
let receiver;
let secret;
const received = [];

before(async () => {
  usher = await startUsher({ USHER_FAPI_RATE_LIMIT: 'false' });
  clerk = clerkFor(usher);
  receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(204).end();
    });
  });
  await new Promise(resolve => receiver.listen(0, '127.0.0.1', resolve));
  const response = await bapi(usher, '/webhooks/endpoints', {
    method: 'POST',
    body: JSON.stringify({ url: `http://127.0.0.1:${receiver.address().port}/hook`, description: 'node test' }),
  });
  assert.equal(response.status, 200);
  const endpoint = await response.json();
  assert.match(endpoint.secret, /^whsec_/);
  secret = endpoint.secret;
});

after(async () => {
  await usher?.stop();
  receiver?.close();
});

/** Waits until an event matching `match` arrived and returns it. */
async function waitFor(match, what) {
  for (let i = 0; i < 600; i++) {
    const found = received.find(r => match(JSON.parse(r.body)));
    if (found) return found;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  throw new Error(`${what} never arrived; got ${received.map(r => JSON.parse(r.body).type).join(', ')}`);
}

function asRequest({ headers, body }) {
  return new Request('http://127.0.0.1/hook', {
    method: 'POST',
    headers: {
      'svix-id': headers['svix-id'],
      'svix-timestamp': headers['svix-timestamp'],
      'svix-signature': headers['svix-signature'],
      'content-type': headers['content-type'],
    },
    body,
  });
}

/** Both official verifiers accept it; returns the event. */
async function verifyBoth(delivery) {
  const event = await verifyWebhook(asRequest(delivery), { signingSecret: secret });
  const svixEvent = new Webhook(secret).verify(delivery.body, {
    'svix-id': delivery.headers['svix-id'],
    'svix-timestamp': delivery.headers['svix-timestamp'],
    'svix-signature': delivery.headers['svix-signature'],
  });
  assert.deepEqual(svixEvent, event);
  assert.deepEqual(event, JSON.parse(delivery.body));
  return event;
}

/** A browser on the Frontend API: a cookie jar over fetch. */
function browser() {
  const jar = new Map();
  return async (method, path, form) => {
    const response = await fetch(`${usher.apiUrl}${path}`, {
      method,
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
        'user-agent': 'node-webhook-test',
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const [name, value] = pair.split('=');
      if (/Max-Age=0/i.test(cookie)) jar.delete(name);
      else jar.set(name, value);
    }
    return { status: response.status, body: await response.json() };
  };
}

test('every event of a scripted series of Backend and Frontend API changes verifies with both libraries', async () => {
  // Backend API.
  const user = await clerk.users.createUser({
    emailAddress: ['hooks@example.com'],
    password: 'correct horse battery',
    firstName: 'Ada',
  });
  const created = await verifyBoth(await waitFor(e => e.type === 'user.created' && e.data.id === user.id, 'user.created'));
  assert.equal(created.object, 'event');
  assert.equal(created.data.first_name, 'Ada');
  assert.equal(created.data.email_addresses[0].email_address, 'hooks@example.com');
  assert.match(created.instance_id, /^ins_/);

  await clerk.users.updateUser(user.id, { lastName: 'Lovelace' });
  const updated = await verifyBoth(
    await waitFor(e => e.type === 'user.updated' && e.data.last_name === 'Lovelace', 'user.updated (name)'),
  );
  assert.equal(updated.data.id, user.id);
  await clerk.users.updateUserMetadata(user.id, { publicMetadata: { plan: 'pro' } });
  await verifyBoth(await waitFor(e => e.type === 'user.updated' && e.data.public_metadata?.plan === 'pro', 'metadata'));
  await clerk.users.banUser(user.id);
  await verifyBoth(await waitFor(e => e.type === 'user.updated' && e.data.banned === true, 'ban'));
  await clerk.users.unbanUser(user.id);
  await verifyBoth(
    await waitFor(e => e.type === 'user.updated' && e.data.banned === false && e.data.public_metadata?.plan, 'unban'),
  );

  // Frontend API: a password sign-in, then sign-out.
  const send = browser();
  await send('POST', '/v1/client');
  const signIn = await send('POST', '/v1/client/sign_ins', {
    identifier: 'hooks@example.com',
    password: 'correct horse battery',
  });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  const sessionId = signIn.body.client.last_active_session_id;
  const session = await verifyBoth(await waitFor(e => e.type === 'session.created' && e.data.id === sessionId, 'session'));
  assert.equal(session.data.user_id, user.id);
  assert.equal(session.event_attributes.http_request.user_agent, 'node-webhook-test');
  assert.equal(session.event_attributes.http_request.client_ip, '127.0.0.1');
  await send('POST', `/v1/client/sessions/${sessionId}/end`);
  const ended = await verifyBoth(await waitFor(e => e.type === 'session.ended' && e.data.id === sessionId, 'ended'));
  assert.equal(ended.data.status, 'ended');

  // A code by mail: email.created carries the subject, body and code.
  const codeIn = await send('POST', '/v1/client/sign_ins', { identifier: 'hooks@example.com' });
  const factor = codeIn.body.response.supported_first_factors.find(f => f.strategy === 'email_code');
  await send('POST', `/v1/client/sign_ins/${codeIn.body.response.id}/prepare_first_factor`, {
    strategy: 'email_code',
    email_address_id: factor.email_address_id,
  });
  const email = await verifyBoth(await waitFor(e => e.type === 'email.created', 'email.created'));
  assert.equal(email.data.to_email_address, 'hooks@example.com');
  assert.match(email.data.data.otp_code, /^\d{6}$/);
  assert.ok(email.data.body.includes(email.data.data.otp_code));
  assert.ok(email.data.subject.length > 0);

  // A Backend API revoke, then the deletion.
  const again = await send('POST', '/v1/client/sign_ins', {
    identifier: 'hooks@example.com',
    password: 'correct horse battery',
  });
  const second = again.body.client.last_active_session_id;
  await clerk.sessions.revokeSession(second);
  await verifyBoth(await waitFor(e => e.type === 'session.revoked' && e.data.id === second, 'revoked'));
  await clerk.users.deleteUser(user.id);
  const deleted = await verifyBoth(await waitFor(e => e.type === 'user.deleted', 'user.deleted'));
  assert.deepEqual(deleted.data, { id: user.id, object: 'user', deleted: true });

  for (const delivery of received) await verifyBoth(delivery);
});

test('a tampered body and an old timestamp are refused by both libraries', async () => {
  const delivery = await waitFor(e => e.type === 'user.created', 'an event');
  const tampered = { ...delivery, body: delivery.body.replace('"user.created"', '"user.deleted"') };
  await assert.rejects(verifyWebhook(asRequest(tampered), { signingSecret: secret }));
  assert.throws(() => new Webhook(secret).verify(tampered.body, tampered.headers));

  // Correctly signed, but ten minutes old.
  const old = String(Math.floor(Date.now() / 1000) - 600);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const id = delivery.headers['svix-id'];
  const signature = createHmac('sha256', key).update(`${id}.${old}.${delivery.body}`).digest('base64');
  const stale = { body: delivery.body, headers: { ...delivery.headers, 'svix-timestamp': old, 'svix-signature': `v1,${signature}` } };
  await assert.rejects(verifyWebhook(asRequest(stale), { signingSecret: secret }));
  assert.throws(() => new Webhook(secret).verify(stale.body, stale.headers), /timestamp/i);
  // The same signature with the current timestamp formula verifies, so only the age was refused.
  const now = String(Math.floor(Date.now() / 1000));
  const fresh = createHmac('sha256', key).update(`${id}.${now}.${delivery.body}`).digest('base64');
  await verifyBoth({ body: delivery.body, headers: { ...delivery.headers, 'svix-timestamp': now, 'svix-signature': `v1,${fresh}` } });
});

test('organization, membership, invitation, role and permission events verify and carry the Backend API shape', async () => {
  const admin = await clerk.users.createUser({ emailAddress: ['org-admin@example.com'], password: 'correct horse battery' });
  const member = await clerk.users.createUser({ emailAddress: ['org-member@example.com'], password: 'correct horse battery' });
  const org = await clerk.organizations.createOrganization({ name: 'Hooks Org', createdBy: admin.id });
  await verifyBoth(await waitFor(e => e.type === 'organization.created' && e.data.id === org.id, 'organization.created'));
  const creator = await verifyBoth(
    await waitFor(e => e.type === 'organizationMembership.created' && e.data.public_user_data.user_id === admin.id, 'creator'),
  );
  assert.equal(creator.data.role, 'org:admin');
  assert.equal(creator.data.organization.id, org.id);
  assert.ok(creator.data.permissions.includes('org:sys_memberships:manage'));

  await clerk.organizations.createOrganizationMembership({ organizationId: org.id, userId: member.id, role: 'org:member' });
  const joined = await verifyBoth(
    await waitFor(e => e.type === 'organizationMembership.created' && e.data.public_user_data.user_id === member.id, 'joined'),
  );
  assert.equal(joined.data.object, 'organization_membership');
  assert.equal(joined.data.public_user_data.identifier, 'org-member@example.com');
  assert.deepEqual(joined.data.permissions, ['org:sys_memberships:read']);
  await clerk.organizations.updateOrganizationMembership({ organizationId: org.id, userId: member.id, role: 'org:admin' });
  await verifyBoth(await waitFor(e => e.type === 'organizationMembership.updated' && e.data.role === 'org:admin', 'promoted'));
  await clerk.organizations.updateOrganizationMembershipMetadata({
    organizationId: org.id,
    userId: member.id,
    publicMetadata: { desk: 7 },
  });
  await verifyBoth(await waitFor(e => e.type === 'organizationMembership.updated' && e.data.public_metadata?.desk === 7, 'meta'));
  await clerk.organizations.deleteOrganizationMembership({ organizationId: org.id, userId: member.id });
  const left = await verifyBoth(await waitFor(e => e.type === 'organizationMembership.deleted', 'membership deleted'));
  assert.equal(left.data.public_user_data.user_id, member.id);

  // Two invitations: one revoked through the Backend API, one accepted by the invitee through the
  // Frontend API (signed in, from their invitation list).
  const revokedInv = await clerk.organizations.createOrganizationInvitation({
    organizationId: org.id,
    inviterUserId: admin.id,
    emailAddress: 'nobody-yet@example.com',
    role: 'org:member',
  });
  const invCreated = await verifyBoth(
    await waitFor(e => e.type === 'organizationInvitation.created' && e.data.id === revokedInv.id, 'invitation.created'),
  );
  assert.equal(invCreated.data.status, 'pending');
  assert.equal(invCreated.data.public_organization_data.id, org.id);
  await clerk.organizations.revokeOrganizationInvitation({
    organizationId: org.id,
    invitationId: revokedInv.id,
    requestingUserId: admin.id,
  });
  const revoked = await verifyBoth(await waitFor(e => e.type === 'organizationInvitation.revoked', 'revoked'));
  assert.equal(revoked.data.status, 'revoked');
  const mail = await verifyBoth(
    await waitFor(e => e.type === 'email.created' && e.data.to_email_address === 'nobody-yet@example.com', 'invitation mail'),
  );
  assert.equal(mail.data.slug, 'organization_invitation');
  assert.match(mail.data.data.action_url, /__clerk_ticket=/);
  assert.equal(mail.data.email_address_id, null, 'the address belongs to nobody yet');

  const inv = await clerk.organizations.createOrganizationInvitation({
    organizationId: org.id,
    inviterUserId: admin.id,
    emailAddress: 'org-member@example.com',
    role: 'org:member',
  });
  const toMember = await verifyBoth(
    await waitFor(e => e.type === 'email.created' && e.data.to_email_address === 'org-member@example.com', 'member mail'),
  );
  assert.equal(toMember.data.email_address_id, member.emailAddresses[0].id);
  assert.equal(toMember.data.user_id, member.id);
  const send = browser();
  await send('POST', '/v1/client');
  const signIn = await send('POST', '/v1/client/sign_ins', {
    identifier: 'org-member@example.com',
    password: 'correct horse battery',
  });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  // The sign-in itself: user.updated with the new last_sign_in_at.
  const signedIn = await verifyBoth(
    await waitFor(e => e.type === 'user.updated' && e.data.id === member.id && e.data.last_sign_in_at, 'sign-in update'),
  );
  assert.ok(signedIn.data.last_sign_in_at > 0);
  const accepted = await send('POST', `/v1/me/organization_invitations/${inv.id}/accept`);
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  const acceptedEvent = await verifyBoth(
    await waitFor(e => e.type === 'organizationInvitation.accepted' && e.data.id === inv.id, 'accepted'),
  );
  assert.equal(acceptedEvent.data.status, 'accepted');
  await verifyBoth(
    await waitFor(
      e => e.type === 'organizationMembership.created' && e.data.public_user_data.user_id === member.id && e.data.id !== joined.data.id,
      'membership of the accepted invitation',
    ),
  );

  // Roles and permissions (the Backend API routes @clerk/backend does not wrap in this version).
  const json = async response => {
    assert.equal(response.status, 200, await response.clone().text());
    return response.json();
  };
  const permission = await json(
    await bapi(usher, '/organization_permissions', {
      method: 'POST',
      body: JSON.stringify({ key: 'org:invoices:create', name: 'Create invoices' }),
    }),
  );
  assert.deepEqual((await verifyBoth(await waitFor(e => e.type === 'permission.created', 'permission.created'))).data, permission);
  const renamed = await json(
    await bapi(usher, `/organization_permissions/${permission.id}`, { method: 'PATCH', body: JSON.stringify({ name: 'Issue' }) }),
  );
  assert.deepEqual((await verifyBoth(await waitFor(e => e.type === 'permission.updated', 'permission.updated'))).data, renamed);
  const role = await json(
    await bapi(usher, '/organization_roles', {
      method: 'POST',
      body: JSON.stringify({ key: 'org:billing', name: 'Billing', description: 'Money' }),
    }),
  );
  assert.deepEqual((await verifyBoth(await waitFor(e => e.type === 'role.created', 'role.created'))).data, role);
  const granted = await json(
    await bapi(usher, `/organization_roles/${role.id}/permissions/${permission.id}`, { method: 'POST', body: '{}' }),
  );
  const roleUpdated = await verifyBoth(await waitFor(e => e.type === 'role.updated', 'role.updated'));
  assert.deepEqual(roleUpdated.data, granted);
  assert.deepEqual(roleUpdated.data.permissions.map(p => p.key), ['org:invoices:create']);
  await json(await bapi(usher, `/organization_roles/${role.id}`, { method: 'DELETE' }));
  const roleDeleted = await verifyBoth(await waitFor(e => e.type === 'role.deleted', 'role.deleted'));
  assert.deepEqual(roleDeleted.data, { id: role.id, object: 'role', deleted: true });
  await json(await bapi(usher, `/organization_permissions/${permission.id}`, { method: 'DELETE' }));
  const permDeleted = await verifyBoth(await waitFor(e => e.type === 'permission.deleted', 'permission.deleted'));
  assert.deepEqual(permDeleted.data, { id: permission.id, object: 'permission', deleted: true });

  await clerk.organizations.deleteOrganization(org.id);
  await verifyBoth(await waitFor(e => e.type === 'organization.deleted' && e.data.id === org.id, 'organization.deleted'));
});
