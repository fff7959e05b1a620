// The JWKS and token verification with @clerk/backend's own verifier.
import assert from 'node:assert/strict';
import { createPublicKey } from 'node:crypto';
import { after, before, test } from 'node:test';
import { createClerkClient, verifyToken } from '@clerk/backend';
import { startUsher } from './server.mjs';

let usher;
let clerk;
let sessionId;
before(async () => {
  usher = await startUsher();
  clerk = createClerkClient({ secretKey: usher.secretKey, apiUrl: usher.apiUrl, publishableKey: usher.publishableKey, telemetry: { disabled: true } });
  const user = await clerk.users.createUser({ emailAddress: ['ada@example.com'] });
  sessionId = (await clerk.sessions.createSession({ userId: user.id })).id;
});
after(() => usher.stop());

test('getJwks and the public jwks.json list the same public RSA keys', async () => {
  const jwks = await clerk.jwks.getJwks();
  assert.equal(jwks.keys.length, 1);
  const [key] = jwks.keys;
  assert.match(key.kid, /^ins_/);
  assert.equal(key.alg, 'RS256');
  assert.equal(key.use, 'sig');
  assert.equal(key.kty, 'RSA');
  assert.equal(key.e, 'AQAB');
  for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi']) assert.equal(key[member], undefined, member);
  const open = await (await fetch(`${usher.apiUrl}/.well-known/jwks.json`)).json();
  assert.deepEqual(open.keys, jwks.keys);
});

test('verifyToken accepts session tokens with the remote JWKS and with jwtKey', async () => {
  const { jwt } = await clerk.sessions.getToken(sessionId);
  const remote = await verifyToken(jwt, { secretKey: usher.secretKey, apiUrl: usher.apiUrl });
  assert.equal(remote.sid, sessionId);
  const jwks = await clerk.jwks.getJwks();
  const jwtKey = createPublicKey({ key: jwks.keys[0], format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const local = await verifyToken(jwt, { jwtKey });
  assert.equal(local.sid, sessionId);
  const tampered = jwt.slice(0, -4) + (jwt.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  await assert.rejects(verifyToken(tampered, { jwtKey }));
});

test('authenticateRequest signs in with a session token and refuses a template token', async () => {
  await clerk.jwtTemplates.create({ name: 'plain', claims: { kind: 'plain' } });
  const { jwt: sessionToken } = await clerk.sessions.getToken(sessionId);
  const { jwt: templateToken } = await clerk.sessions.getToken(sessionId, 'plain');
  const request = token => new Request('http://localhost:4321/', { headers: { Authorization: `Bearer ${token}` } });

  const signedIn = await clerk.authenticateRequest(request(sessionToken));
  assert.equal(signedIn.isAuthenticated, true, signedIn.reason);
  assert.equal(signedIn.toAuth().sessionId, sessionId);

  const refused = await clerk.authenticateRequest(request(templateToken));
  assert.equal(refused.isAuthenticated, false);
});
