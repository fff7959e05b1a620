// Bad input through @clerk/backend and plain fetch: Clerk's error shape, the right status and code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClerkClient } from '@clerk/backend';
import { apiError, bapi, clerkFor, startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher);
  await clerk.users.createUser({ emailAddress: ['taken@example.com'], username: 'taken_name', externalId: 'taken-ext' });
});
after(() => usher?.stop());

test('a duplicate email (other case), username or externalId is 422 form_identifier_exists', async () => {
  await assert.rejects(clerk.users.createUser({ emailAddress: ['TAKEN@Example.com'] }), apiError(422, 'form_identifier_exists'));
  await assert.rejects(
    clerk.users.createUser({ emailAddress: ['a@example.com'], username: 'taken_name' }),
    apiError(422, 'form_identifier_exists'),
  );
  await assert.rejects(
    clerk.users.createUser({ emailAddress: ['b@example.com'], externalId: 'taken-ext' }),
    apiError(422, 'form_identifier_exists'),
  );
  // Nothing was half-written by the refused calls.
  assert.equal(await clerk.users.getCount({ emailAddress: ['a@example.com', 'b@example.com'] }), 0);
  assert.equal(await clerk.users.getCount(), 1);
});

test('an invalid email address is 422 form_param_format_invalid', async () => {
  await assert.rejects(clerk.users.createUser({ emailAddress: ['not-an-email'] }), apiError(422, /^form_param_format_invalid/));
});

test('a 7-character password is 422 form_password…', async () => {
  await assert.rejects(
    clerk.users.createUser({ emailAddress: ['c@example.com'], password: 'short12' }),
    apiError(422, /^form_password/),
  );
  assert.equal(await clerk.users.getCount({ emailAddress: ['c@example.com'] }), 0, 'nothing half-written');
});

test('a wrong secret key is 401', async () => {
  const wrong = createClerkClient({ secretKey: 'sk_test_wrongwrongwrongwrongwrongwrong', apiUrl: usher.apiUrl, telemetry: { disabled: true } });
  await assert.rejects(wrong.users.getUserList(), apiError(401));
  await assert.rejects(wrong.users.getUser('user_whatever'), apiError(401));
});

test('an unknown id is 404 resource_not_found', async () => {
  await assert.rejects(clerk.users.getUser('user_doesnotexist'), apiError(404, 'resource_not_found'));
  await assert.rejects(clerk.sessions.getSession('sess_doesnotexist'), apiError(404, 'resource_not_found'));
  await assert.rejects(clerk.jwtTemplates.get('jtmp_doesnotexist'), apiError(404, 'resource_not_found'));
});

test('responses are exactly application/json', async () => {
  const ok = await bapi(usher, '/users');
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('content-type'), 'application/json');
  assert.ok(Array.isArray(await ok.json()), 'GET /v1/users is a bare array');
  const notFound = await bapi(usher, '/users/user_doesnotexist');
  assert.equal(notFound.status, 404);
  assert.equal(notFound.headers.get('content-type'), 'application/json');
});

test('a malformed JSON body gets 400/422 with the Clerk error shape', async () => {
  const bad = await bapi(usher, '/users', { method: 'POST', body: '{"email_address": [' });
  assert.ok([400, 422].includes(bad.status), `status ${bad.status}`);
  assert.equal(bad.headers.get('content-type'), 'application/json');
  const body = await bad.json();
  assert.ok(Array.isArray(body.errors) && body.errors.length > 0, JSON.stringify(body));
  assert.equal(typeof body.errors[0].message, 'string');
  assert.equal(typeof body.errors[0].long_message, 'string');
  assert.equal(typeof body.errors[0].code, 'string');
  assert.equal(typeof body.clerk_trace_id, 'string');
});

test('GET /healthz is 200', async () => {
  const res = await fetch(`${usher.apiUrl}/healthz`);
  assert.equal(res.status, 200);
  await res.arrayBuffer();
});
