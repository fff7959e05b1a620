// clerkClient.sessions and signInTokens against a real usher.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiError, clerkFor, decodeJwt, is4xx, startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher);
});
after(() => usher?.stop());

const newUser = email => clerk.users.createUser({ emailAddress: [email], firstName: 'Ada' });

test('createSession and getSession', async () => {
  const user = await newUser('s1@example.com');
  const session = await clerk.sessions.createSession({ userId: user.id });
  assert.match(session.id, /^sess_/);
  assert.equal(session.status, 'active');
  assert.equal(session.userId, user.id);
  assert.equal(typeof session.clientId, 'string');
  assert.equal(typeof session.createdAt, 'number');
  assert.ok(session.expireAt > session.createdAt);

  const read = await clerk.sessions.getSession(session.id);
  assert.equal(read.id, session.id);
  assert.equal(read.userId, user.id);
  assert.equal(read.status, 'active');
});

test('createSession for an unknown user is a 4xx', async () => {
  await assert.rejects(clerk.sessions.createSession({ userId: 'user_doesnotexist' }), apiError(is4xx));
});

test('getSessionList by user and by status', async () => {
  const user = await newUser('s2@example.com');
  const other = await newUser('s2-other@example.com');
  const first = await clerk.sessions.createSession({ userId: user.id });
  const second = await clerk.sessions.createSession({ userId: user.id });
  await clerk.sessions.createSession({ userId: other.id });
  await clerk.sessions.revokeSession(first.id);

  const all = await clerk.sessions.getSessionList({ userId: user.id });
  assert.equal(all.totalCount, 2);
  assert.deepEqual(all.data.map(s => s.id).sort(), [first.id, second.id].sort());
  assert.ok(all.data.every(s => s.userId === user.id));

  const active = await clerk.sessions.getSessionList({ userId: user.id, status: 'active' });
  assert.equal(active.totalCount, 1);
  assert.deepEqual(active.data.map(s => s.id), [second.id]);
  const revoked = await clerk.sessions.getSessionList({ userId: user.id, status: 'revoked' });
  assert.deepEqual(revoked.data.map(s => s.id), [first.id]);
});

test('getToken mints a v2 RS256 session token', async () => {
  const user = await newUser('s3@example.com');
  const session = await clerk.sessions.createSession({ userId: user.id });
  const token = await clerk.sessions.getToken(session.id);
  assert.equal(typeof token.jwt, 'string');
  const { header, payload } = decodeJwt(token.jwt);
  assert.equal(header.alg, 'RS256');
  assert.equal(typeof header.kid, 'string');
  const { keys } = await clerk.jwks.getJwks();
  assert.ok(keys.some(k => k.kid === header.kid), 'the kid is in the JWKS');
  assert.notEqual(header.typ, 'at+jwt');
  assert.equal(payload.sub, user.id);
  assert.equal(payload.sid, session.id);
  assert.equal(payload.v, 2);
  assert.equal(payload.exp - payload.iat, 60);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 600, 'iat is in seconds');
});

test('revokeSession, then getToken is refused', async () => {
  const user = await newUser('s4@example.com');
  const session = await clerk.sessions.createSession({ userId: user.id });
  const revoked = await clerk.sessions.revokeSession(session.id);
  assert.equal(revoked.id, session.id);
  assert.equal(revoked.status, 'revoked');
  assert.equal((await clerk.sessions.getSession(session.id)).status, 'revoked');
  await assert.rejects(clerk.sessions.getToken(session.id), apiError(is4xx));
});

test('signInTokens: create and revoke', async () => {
  const user = await newUser('s5@example.com');
  const token = await clerk.signInTokens.createSignInToken({ userId: user.id, expiresInSeconds: 600 });
  assert.equal(typeof token.id, 'string');
  assert.equal(token.status, 'pending');
  assert.equal(token.userId, user.id);
  assert.equal(typeof token.token, 'string');
  assert.ok(token.token.length > 0);
  assert.equal(typeof token.url, 'string');
  assert.ok(new URL(token.url), 'url is a URL');
  const revoked = await clerk.signInTokens.revokeSignInToken(token.id);
  assert.equal(revoked.id, token.id);
  assert.equal(revoked.status, 'revoked');
});
