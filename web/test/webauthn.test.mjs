// Passkeys in usher.js against a scripted fapi() and a stand-in navigator.credentials: the
// options' base64url fields become bytes for the browser, and its answer goes back as the JSON
// text the Frontend API takes (clerk-js's `public_key_credential`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createResources } from '../usher/resources.js';

const b64 = bytes => Buffer.from(bytes).toString('base64url');
const buf = bytes => Uint8Array.from(bytes).buffer;

function scripted(answers) {
  const calls = [];
  const fapi = async (method, path, body) => {
    calls.push([method, path, body]);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected ${method} ${path}`);
    return next;
  };
  return { calls, ...createResources({ fapi, meCall: fapi, getSessionToken: null, reloadClient: null, state: {} }) };
}

function browser(t, kind, answer) {
  const seen = [];
  const credentials = { [kind]: async options => { seen.push(options.publicKey); return answer; } };
  // A stand-in for the browser's, put back afterwards (Node may have its own `navigator`).
  const before = Object.getOwnPropertyDescriptor(globalThis, 'navigator');
  Object.defineProperty(globalThis, 'navigator', { value: { credentials }, configurable: true, writable: true });
  t.after(() => (before ? Object.defineProperty(globalThis, 'navigator', before) : delete globalThis.navigator));
  return seen;
}

test('signIn.authenticateWithPasskey() creates a discoverable sign-in and posts the assertion', async t => {
  const options = { challenge: b64([1, 2, 3]), rpId: 'localhost', allowCredentials: [], userVerification: 'required' };
  const { calls, toSignIn } = scripted([
    { id: 'sia_1', status: 'needs_first_factor', first_factor_verification: { strategy: 'passkey', nonce: JSON.stringify(options) } },
    { id: 'sia_1', status: 'complete', created_session_id: 'sess_1' },
  ]);
  const seen = browser(t, 'get', {
    id: b64([9, 9]), rawId: buf([9, 9]), type: 'public-key', authenticatorAttachment: 'platform',
    response: { clientDataJSON: buf([7]), authenticatorData: buf([5]), signature: buf([4]), userHandle: buf([3]) },
    getClientExtensionResults: () => ({}),
  });
  const done = await toSignIn(null).authenticateWithPasskey({ flow: 'discoverable' });
  assert.equal(done.status, 'complete');
  assert.deepEqual([...new Uint8Array(seen[0].challenge)], [1, 2, 3]);
  assert.deepEqual(calls[0], ['POST', '/client/sign_ins', { strategy: 'passkey' }]);
  const [method, path, body] = calls[1];
  assert.deepEqual([method, path, body.strategy], ['POST', '/client/sign_ins/sia_1/attempt_first_factor', 'passkey']);
  assert.deepEqual(JSON.parse(body.public_key_credential), {
    id: b64([9, 9]), rawId: b64([9, 9]), type: 'public-key', authenticatorAttachment: 'platform',
    response: { clientDataJSON: b64([7]), authenticatorData: b64([5]), signature: b64([4]), userHandle: b64([3]) },
    clientExtensionResults: {},
  });
});

test('user.createPasskey() asks the browser with the creation options and verifies the answer', async t => {
  const options = {
    challenge: b64([1]), rp: { id: 'localhost', name: 'usher' }, user: { id: b64([2, 2]), name: 'a', displayName: 'A' },
    pubKeyCredParams: [{ type: 'public-key', alg: -7 }], excludeCredentials: [{ type: 'public-key', id: b64([8]) }],
  };
  const { calls, toUser } = scripted([
    { object: 'passkey', id: 'pk_1', verification: { status: 'unverified', nonce: JSON.stringify(options) } },
    { object: 'passkey', id: 'pk_1', name: 'Passkey', verification: { status: 'verified' }, created_at: 1 },
  ]);
  const seen = browser(t, 'create', {
    id: b64([6]), rawId: buf([6]), type: 'public-key',
    response: { clientDataJSON: buf([7]), attestationObject: buf([5]), getTransports: () => ['internal'] },
  });
  const passkey = await toUser({ id: 'user_1', passkeys: [] }).createPasskey();
  assert.equal(passkey.verification.status, 'verified');
  assert.deepEqual([...new Uint8Array(seen[0].user.id)], [2, 2]);
  assert.deepEqual([...new Uint8Array(seen[0].excludeCredentials[0].id)], [8]);
  const [, path, body] = calls[1];
  assert.equal(path, '/me/passkeys/pk_1/attempt_verification');
  const sent = JSON.parse(body.public_key_credential);
  assert.deepEqual(sent.response, { clientDataJSON: b64([7]), attestationObject: b64([5]), transports: ['internal'] });
});
