// Impersonation: clerkClient.actorTokens against a real usher, the ticket redeemed through the
// Frontend API, and @clerk/backend reading the session token's `act` claim as `auth.actor`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { clerkFor, decodeJwt, is4xx, startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher({ USHER_FAPI_RATE_LIMIT: 'false' });
  clerk = clerkFor(usher, { publishableKey: usher.publishableKey });
});
after(() => usher?.stop());

/** A cookie-keeping Frontend API caller, like a browser without scripts. */
function browser() {
  const jar = new Map();
  return async (method, path, form) => {
    const response = await fetch(`${usher.apiUrl}${path}`, {
      method,
      headers: {
        cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; '),
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

const bearer = token => new Request('http://localhost/', { headers: { Authorization: `Bearer ${token}` } });

test('an actor token signs in as the user and @clerk/backend sees the actor', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['acted.on@example.com'] });
  const support = await clerk.users.createUser({ emailAddress: ['support@example.com'] });
  const token = await clerk.actorTokens.create({
    userId: user.id,
    actor: { sub: support.id },
    expiresInSeconds: 600,
    sessionMaxDurationInSeconds: 900,
  });
  assert.equal(token.status, 'pending');
  assert.equal(token.userId, user.id);
  assert.deepEqual(token.actor, { sub: support.id });
  assert.equal(typeof token.token, 'string');
  assert.ok(new URL(token.url).searchParams.get('__clerk_ticket'), 'the url carries the ticket');

  const send = browser();
  await send('POST', '/v1/client');
  const signIn = await send('POST', '/v1/client/sign_ins', { strategy: 'ticket', ticket: token.token });
  assert.equal(signIn.status, 200, JSON.stringify(signIn.body));
  assert.equal(signIn.body.response.status, 'complete');
  const sessionId = signIn.body.client.last_active_session_id;
  const session = signIn.body.client.sessions.find(s => s.id === sessionId);
  assert.deepEqual(session.actor, { sub: support.id }, 'the Frontend API shows the actor too');
  const minted = await send('POST', `/v1/client/sessions/${sessionId}/tokens`);
  assert.equal(minted.status, 200, JSON.stringify(minted.body));
  assert.deepEqual(decodeJwt(minted.body.jwt).payload.act, { sub: support.id });

  const state = await clerk.authenticateRequest(bearer(minted.body.jwt), { authorizedParties: [] });
  assert.equal(state.isAuthenticated, true, `${state.reason}: ${state.message}`);
  const auth = state.toAuth();
  assert.equal(auth.userId, user.id);
  assert.deepEqual(auth.actor, { sub: support.id });

  // A plain session has no actor.
  const plain = await clerk.sessions.createSession({ userId: user.id });
  const { jwt } = await clerk.sessions.getToken(plain.id);
  const plainAuth = (await clerk.authenticateRequest(bearer(jwt), { authorizedParties: [] })).toAuth();
  assert.equal(plainAuth.actor ?? null, null);

  // Used once.
  const again = browser();
  await again('POST', '/v1/client');
  const reused = await again('POST', '/v1/client/sign_ins', { strategy: 'ticket', ticket: token.token });
  assert.ok(is4xx(reused.status), `${reused.status}`);
});

test('a revoked actor token signs nobody in', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['revoked.actor@example.com'] });
  const token = await clerk.actorTokens.create({ userId: user.id, actor: { sub: 'user_support' } });
  const revoked = await clerk.actorTokens.revoke(token.id);
  assert.equal(revoked.id, token.id);
  assert.equal(revoked.status, 'revoked');
  const send = browser();
  await send('POST', '/v1/client');
  const signIn = await send('POST', '/v1/client/sign_ins', { strategy: 'ticket', ticket: token.token });
  assert.ok(is4xx(signIn.status), `${signIn.status}`);
  assert.equal(signIn.body.errors[0].code, 'ticket_invalid');
});
