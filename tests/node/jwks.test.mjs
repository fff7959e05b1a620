// The JWKS, and token verification with @clerk/backend's own verifyToken and authenticateRequest.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, test } from 'node:test';
import { verifyToken } from '@clerk/backend';
import { clerkFor, decodeJwt, startUsher } from './server.mjs';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

let usher;
let clerk;
let user;
let sessionId;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher, { publishableKey: usher.publishableKey });
  user = await clerk.users.createUser({ emailAddress: ['ada@example.com'] });
  sessionId = (await clerk.sessions.createSession({ userId: user.id })).id;
});
after(() => usher?.stop());

async function pemFromJwks() {
  const { keys } = await clerk.jwks.getJwks();
  return createPublicKey({ key: keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
}

const bearer = token => new Request('http://localhost/', { headers: { Authorization: `Bearer ${token}` } });

test('getJwks lists public RSA signing keys only', async () => {
  const jwks = await clerk.jwks.getJwks();
  assert.ok(Array.isArray(jwks.keys) && jwks.keys.length >= 1);
  for (const key of jwks.keys) {
    assert.equal(typeof key.kid, 'string');
    assert.ok(key.kid.length > 0);
    assert.equal(key.alg, 'RS256');
    assert.equal(key.use, 'sig');
    assert.equal(key.kty, 'RSA');
    assert.equal(key.e, 'AQAB');
    assert.equal(typeof key.n, 'string');
    assert.equal(Buffer.from(key.n, 'base64url').length, 256, 'RSA-2048 (jwtKey needs it)');
    for (const member of PRIVATE_MEMBERS) assert.equal(key[member], undefined, `no private member ${member}`);
  }
});

test('GET /.well-known/jwks.json is public and lists the same keys', async () => {
  const res = await fetch(`${usher.apiUrl}/.well-known/jwks.json`);
  assert.equal(res.status, 200);
  const open = await res.json();
  const jwks = await clerk.jwks.getJwks();
  assert.deepEqual(open.keys, jwks.keys);
});

test('verifyToken accepts a session token with the remote JWKS', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  const payload = await verifyToken(jwt, { secretKey: usher.secretKey, apiUrl: usher.apiUrl, skipJwksCache: true });
  assert.equal(payload.sub, user.id);
  assert.equal(payload.sid, sessionId);
});

test('verifyToken accepts a session token with a networkless jwtKey PEM', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  const jwtKey = await pemFromJwks();
  const payload = await verifyToken(jwt, { jwtKey });
  assert.equal(payload.sub, user.id);
  assert.equal(payload.sid, sessionId);
});

test('verifyToken refuses a tampered token', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  const jwtKey = await pemFromJwks();
  const [h, p, s] = jwt.split('.');
  // A different subject under the original signature.
  const forged = Buffer.from(JSON.stringify({ ...decodeJwt(jwt).payload, sub: 'user_someoneelse' })).toString('base64url');
  await assert.rejects(verifyToken(`${h}.${forged}.${s}`, { jwtKey }), /signature/i);
  await assert.rejects(verifyToken(`${h}.${forged}.${s}`, { secretKey: usher.secretKey, apiUrl: usher.apiUrl }), /signature/i);
  // A flipped signature byte.
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 0xff;
  await assert.rejects(verifyToken(`${h}.${p}.${sig.toString('base64url')}`, { jwtKey }), /signature/i);
});

test('verifyToken with a wrong secret key fails with secret-key-invalid', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  await assert.rejects(
    verifyToken(jwt, { secretKey: 'sk_test_wrongwrongwrongwrongwrongwrong', apiUrl: usher.apiUrl, skipJwksCache: true }),
    err => {
      assert.equal(err.reason, 'secret-key-invalid', `${err.reason}: ${err.message}`);
      return true;
    },
  );
});

test('authenticateRequest signs in with a session token', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  const state = await clerk.authenticateRequest(bearer(jwt), { authorizedParties: [] });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  const auth = state.toAuth();
  assert.equal(auth.userId, user.id);
  assert.equal(auth.sessionId, sessionId);
});

test('authenticateRequest refuses a JWT-template token as a session token', async () => {
  await clerk.jwtTemplates.create({ name: 'plain', claims: { kind: 'plain' } });
  const { jwt } = await clerk.sessions.getToken(sessionId, 'plain');
  assert.equal(decodeJwt(jwt).header.alg, 'RS256', 'signed with the instance key, so only the category can refuse it');
  const state = await clerk.authenticateRequest(bearer(jwt), { authorizedParties: [] });
  assert.equal(state.isAuthenticated, false);
  assert.equal(state.reason, 'token-type-mismatch', 'refused for its category header, not for a bad signature');
  assert.equal(state.toAuth().userId, null);
});
