// clerkClient.sessions, jwtTemplates and signInTokens against usher.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createClerkClient } from '@clerk/backend';
import { decodeJwt, startUsher } from './server.mjs';

const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
let usher;
let clerk;
let user;
before(async () => {
  usher = await startUsher();
  clerk = createClerkClient({ secretKey: usher.secretKey, apiUrl: usher.apiUrl, telemetry: { disabled: true } });
  user = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada', publicMetadata: { plan: 'pro' } });
});
after(() => usher.stop());

test('sessions are created, read, listed, revoked, and mint v2 session tokens', async () => {
  const session = await clerk.sessions.createSession({ userId: user.id });
  assert.equal(session.status, 'active');
  assert.equal(session.userId, user.id);
  assert.match(session.id, /^sess_/);
  assert.equal((await clerk.sessions.getSession(session.id)).id, session.id);

  const { jwt } = await clerk.sessions.getToken(session.id);
  const { header, payload } = decodeJwt(jwt);
  assert.equal(header.alg, 'RS256');
  assert.match(header.kid, /^ins_/);
  assert.equal(payload.sub, user.id);
  assert.equal(payload.sid, session.id);
  assert.equal(payload.v, 2);
  assert.equal(payload.exp - payload.iat, 60);

  const second = await clerk.sessions.createSession({ userId: user.id });
  const revoked = await clerk.sessions.revokeSession(session.id);
  assert.equal(revoked.status, 'revoked');
  await assert.rejects(clerk.sessions.getToken(session.id), err => err.status === 422);

  const list = await clerk.sessions.getSessionList({ userId: user.id });
  assert.equal(list.totalCount, 2);
  assert.equal(list.data.length, 2);
  const active = await clerk.sessions.getSessionList({ userId: user.id, status: 'active' });
  assert.deepEqual(active.data.map(s => s.id), [second.id]);
});

test('jwtTemplates CRUD, and a supabase template mints HS256 tokens with rendered claims', async () => {
  const template = await clerk.jwtTemplates.create({
    name: 'supabase',
    claims: { aud: 'authenticated', role: 'authenticated', email: '{{user.primary_email_address}}', plan: "{{user.public_metadata.plan || 'free'}}" },
    lifetime: 3600,
    customSigningKey: true,
    signingAlgorithm: 'HS256',
    signingKey: SUPABASE_SECRET,
  });
  assert.equal(template.name, 'supabase');
  assert.equal(template.signingKey, undefined, 'the signing key is never returned');
  assert.equal((await clerk.jwtTemplates.get(template.id)).name, 'supabase');
  const listed = await clerk.jwtTemplates.list();
  assert.equal(listed.totalCount, 1);
  assert.equal(listed.data[0].id, template.id);
  await assert.rejects(clerk.jwtTemplates.create({ name: 'supabase', claims: {} }), err => err.status === 422);

  const session = await clerk.sessions.createSession({ userId: user.id });
  const { jwt } = await clerk.sessions.getToken(session.id, 'supabase');
  const [h, p, s] = jwt.split('.');
  const expected = createHmac('sha256', SUPABASE_SECRET).update(`${h}.${p}`).digest('base64url');
  assert.equal(s, expected, 'HS256 with the project secret');
  const { header, payload } = decodeJwt(jwt);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.sub, user.id);
  assert.equal(payload.email, 'ada@example.com');
  assert.equal(payload.aud, 'authenticated');
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.plan, 'pro');
  assert.equal(payload.exp - payload.iat, 3600);

  const updated = await clerk.jwtTemplates.update({ templateId: template.id, name: 'supabase', claims: { role: 'authenticated' }, lifetime: 120 });
  assert.equal(updated.lifetime, 120);
  const deleted = await clerk.jwtTemplates.delete(template.id);
  assert.equal(deleted.deleted, true);
  await assert.rejects(clerk.sessions.getToken(session.id, 'supabase'), err => err.status === 404);
});

test('signInTokens are created and revoked', async () => {
  const token = await clerk.signInTokens.createSignInToken({ userId: user.id, expiresInSeconds: 600 });
  assert.equal(token.status, 'pending');
  assert.equal(token.userId, user.id);
  assert.equal(typeof token.token, 'string');
  assert.ok(token.token.length >= 32);
  assert.match(token.url, /^http/);
  const revoked = await clerk.signInTokens.revokeSignInToken(token.id);
  assert.equal(revoked.status, 'revoked');
});
