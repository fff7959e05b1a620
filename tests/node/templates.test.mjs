// clerkClient.jwtTemplates, and minting template tokens with sessions.getToken(sid, name).
import assert from 'node:assert/strict';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { after, before, test } from 'node:test';
import { apiError, bapi, clerkFor, decodeJwt, is4xx, startUsher } from './server.mjs';

const SUPABASE_SECRET = 'super-secret-jwt-token-with-at-least-32-characters-long';
const SUPABASE_CLAIMS = {
  aud: 'authenticated',
  role: 'authenticated',
  email: '{{user.primary_email_address}}',
  meta: "{{user.public_metadata.plan || 'free'}}",
};

let usher;
let clerk;
let user;
let session;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher);
  user = await clerk.users.createUser({ emailAddress: ['ada@example.com'], firstName: 'Ada', publicMetadata: { plan: 'pro' } });
  session = await clerk.sessions.createSession({ userId: user.id });
});
after(() => usher?.stop());

function assertHs256(jwt, secret) {
  const [h, p, s] = jwt.split('.');
  const expected = createHmac('sha256', secret).update(`${h}.${p}`).digest('base64url');
  assert.equal(s, expected, 'HS256 signature made with the template signing key');
  return decodeJwt(jwt);
}

test('create, get and mint a supabase HS256 template with rendered claims', async () => {
  const template = await clerk.jwtTemplates.create({
    name: 'supabase',
    claims: SUPABASE_CLAIMS,
    lifetime: 3600,
    customSigningKey: true,
    signingAlgorithm: 'HS256',
    signingKey: SUPABASE_SECRET,
  });
  assert.equal(typeof template.id, 'string');
  assert.equal(template.name, 'supabase');
  assert.deepEqual(template.claims, SUPABASE_CLAIMS, 'claims are stored as given, keys not re-cased');
  assert.equal(template.lifetime, 3600);
  assert.equal(template.customSigningKey, true);
  assert.equal(template.signingAlgorithm, 'HS256');
  assert.equal(typeof template.allowedClockSkew, 'number');
  assert.equal(typeof template.createdAt, 'number');

  const read = await clerk.jwtTemplates.get(template.id);
  assert.equal(read.id, template.id);
  assert.equal(read.name, 'supabase');
  assert.deepEqual(read.claims, SUPABASE_CLAIMS);

  const { jwt } = await clerk.sessions.getToken(session.id, 'supabase');
  const { header, payload } = assertHs256(jwt, SUPABASE_SECRET);
  assert.equal(header.alg, 'HS256');
  assert.equal(payload.sub, user.id);
  assert.equal(payload.email, 'ada@example.com');
  assert.equal(payload.aud, 'authenticated');
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.meta, 'pro');
  assert.equal(payload.exp - payload.iat, 3600);

  // The fallback applies for a user without the metadata key.
  const bob = await clerk.users.createUser({ emailAddress: ['bob@example.com'] });
  const bobSession = await clerk.sessions.createSession({ userId: bob.id });
  const bobToken = assertHs256((await clerk.sessions.getToken(bobSession.id, 'supabase')).jwt, SUPABASE_SECRET);
  assert.equal(bobToken.payload.meta, 'free');
  assert.equal(bobToken.payload.email, 'bob@example.com');
  assert.equal(bobToken.payload.sub, bob.id);
});

test('a template without a custom key mints RS256 tokens that verify with the JWKS key', async () => {
  await clerk.jwtTemplates.create({ name: 'default_key', claims: { kind: 'plain', name: '{{user.first_name}}' } });
  const { jwt } = await clerk.sessions.getToken(session.id, 'default_key');
  const { header, payload, signingInput, signature } = decodeJwt(jwt);
  assert.equal(header.alg, 'RS256');
  const { keys } = await clerk.jwks.getJwks();
  const jwk = keys.find(k => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is in the JWKS`);
  const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
  assert.equal(verify('RSA-SHA256', Buffer.from(signingInput), publicKey, signature), true, 'RS256 signature verifies');
  assert.equal(payload.sub, user.id);
  assert.equal(payload.kind, 'plain');
  assert.equal(payload.name, 'Ada');
  assert.equal(payload.exp - payload.iat, 60, 'the default lifetime is 60 s');
  assert.equal(payload.sid, undefined, 'template tokens carry no sid unless asked for');
});

test('a duplicate template name is a 4xx', async () => {
  await assert.rejects(clerk.jwtTemplates.create({ name: 'supabase', claims: { a: 1 } }), apiError(is4xx));
});

test('list returns every template as { data, totalCount }', async () => {
  const listed = await clerk.jwtTemplates.list();
  assert.equal(listed.totalCount, 2);
  assert.deepEqual(listed.data.map(t => t.name).sort(), ['default_key', 'supabase']);
  assert.ok(listed.data.every(t => typeof t.id === 'string' && typeof t.lifetime === 'number'));
});

test('the signing key is never returned', async () => {
  const created = await bapi(usher, '/jwt_templates', {
    method: 'POST',
    body: JSON.stringify({ name: 'raw_check', claims: {}, custom_signing_key: true, signing_algorithm: 'HS256', signing_key: SUPABASE_SECRET }),
  });
  assert.equal(created.status, 200);
  const body = await created.json();
  assert.equal(body.object, 'jwt_template');
  assert.equal(body.custom_signing_key, true);
  assert.ok(!('signing_key' in body), 'POST response has no signing_key');
  assert.ok(!JSON.stringify(body).includes(SUPABASE_SECRET));

  const one = await (await bapi(usher, `/jwt_templates/${body.id}`)).json();
  assert.equal(one.id, body.id);
  assert.ok(!('signing_key' in one), 'GET response has no signing_key');
  const list = await (await bapi(usher, '/jwt_templates?paginated=true')).json();
  assert.ok(Array.isArray(list.data));
  assert.equal(list.total_count, 3);
  assert.ok(!JSON.stringify(list).includes(SUPABASE_SECRET), 'list has no signing key');
  assert.equal((await clerk.jwtTemplates.delete(body.id)).deleted, true);
});

test('update changes the template, and minting follows', async () => {
  const { data } = await clerk.jwtTemplates.list();
  const template = data.find(t => t.name === 'supabase');
  const updated = await clerk.jwtTemplates.update({
    templateId: template.id,
    name: 'supabase',
    claims: { role: 'authenticated', first: '{{user.first_name}}' },
    lifetime: 120,
    customSigningKey: true,
    signingAlgorithm: 'HS256',
    signingKey: SUPABASE_SECRET,
  });
  assert.equal(updated.id, template.id);
  assert.equal(updated.lifetime, 120);
  assert.deepEqual(updated.claims, { role: 'authenticated', first: '{{user.first_name}}' });
  assert.equal((await clerk.jwtTemplates.get(template.id)).lifetime, 120);

  const { payload } = assertHs256((await clerk.sessions.getToken(session.id, 'supabase')).jwt, SUPABASE_SECRET);
  assert.equal(payload.first, 'Ada');
  assert.equal(payload.role, 'authenticated');
  assert.equal(payload.email, undefined, 'the old claims are gone');
  assert.equal(payload.exp - payload.iat, 120);
});

test('delete returns a DeletedObject and the template can no longer mint', async () => {
  const { data } = await clerk.jwtTemplates.list();
  const template = data.find(t => t.name === 'supabase');
  const deleted = await clerk.jwtTemplates.delete(template.id);
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.id, template.id);
  await assert.rejects(clerk.jwtTemplates.get(template.id), apiError(404, 'resource_not_found'));
  await assert.rejects(clerk.sessions.getToken(session.id, 'supabase'), apiError(404));
  assert.equal((await clerk.jwtTemplates.list()).totalCount, 1);
});
