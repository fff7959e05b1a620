// Bad input through @clerk/backend: Clerk's error shape, the right status and code.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClerkClient } from '@clerk/backend';
import { startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = createClerkClient({ secretKey: usher.secretKey, apiUrl: usher.apiUrl, telemetry: { disabled: true } });
  await clerk.users.createUser({ emailAddress: ['taken@example.com'], username: 'taken_name', externalId: 'taken-ext' });
});
after(() => usher.stop());

function rejectsWith(status, codePattern) {
  return err => {
    assert.equal(err.status, status, JSON.stringify(err.errors));
    assert.match(err.errors[0].code, codePattern);
    assert.equal(typeof err.errors[0].message, 'string');
    assert.equal(typeof err.clerkTraceId, 'string');
    return true;
  };
}

test('duplicate identifiers are form_identifier_exists', async () => {
  await assert.rejects(clerk.users.createUser({ emailAddress: ['TAKEN@example.com'] }), rejectsWith(422, /^form_identifier_exists$/));
  await assert.rejects(clerk.users.createUser({ emailAddress: ['a@example.com'], username: 'TAKEN_NAME' }), rejectsWith(422, /^form_identifier_exists$/));
  await assert.rejects(clerk.users.createUser({ emailAddress: ['b@example.com'], externalId: 'taken-ext' }), rejectsWith(422, /^form_identifier_exists$/));
});

test('invalid values are 422 with a specific code', async () => {
  await assert.rejects(clerk.users.createUser({ emailAddress: ['not-an-email'] }), rejectsWith(422, /^form_param_format_invalid$/));
  await assert.rejects(clerk.users.createUser({ emailAddress: ['c@example.com'], password: 'short12' }), rejectsWith(422, /^form_password/));
  assert.equal(await clerk.users.getCount({ emailAddress: ['c@example.com'] }), 0, 'nothing half-written');
});

test('a wrong secret key is 401 and an unknown id is 404', async () => {
  const wrong = createClerkClient({ secretKey: 'sk_test_wrong', apiUrl: usher.apiUrl, telemetry: { disabled: true } });
  await assert.rejects(wrong.users.getUserList(), rejectsWith(401, /^clerk_key_invalid$/));
  await assert.rejects(clerk.users.getUser('user_missing'), rejectsWith(404, /^resource_not_found$/));
});

test('responses are exactly application/json and malformed bodies get the error shape', async () => {
  const headers = { Authorization: `Bearer ${usher.secretKey}`, 'Content-Type': 'application/json' };
  const ok = await fetch(`${usher.apiUrl}/v1/users`, { headers });
  assert.equal(ok.headers.get('content-type'), 'application/json');
  const bad = await fetch(`${usher.apiUrl}/v1/users`, { method: 'POST', headers, body: '{"email_address": [' });
  assert.equal(bad.status, 400);
  assert.equal(bad.headers.get('content-type'), 'application/json');
  const body = await bad.json();
  assert.equal(typeof body.errors[0].message, 'string');
  assert.equal(typeof body.errors[0].long_message, 'string');
  assert.equal(typeof body.errors[0].code, 'string');
  assert.equal(typeof body.clerk_trace_id, 'string');
  assert.equal((await fetch(`${usher.apiUrl}/healthz`)).status, 200);
});
