// Second factors through @clerk/backend: an import's totpSecret and backupCodes, the user's MFA
// fields, verifyTOTP (codes computed here, RFC 6238 over node:crypto), and the MFA deletions.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, test } from 'node:test';
import { apiError, clerkFor, startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher);
});
after(() => usher?.stop());

const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DP';

function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of text) bits += alphabet.indexOf(c).toString(2).padStart(5, '0');
  return Buffer.from(bits.match(/.{8}/g).map(b => parseInt(b, 2)));
}

/** The 6-digit code of the current 30-second step. */
function totpNow(secret) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30_000)));
  const mac = createHmac('sha1', base32(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, '0');
}

test('an imported totpSecret and backupCodes show on the user and verify once', async () => {
  const user = await clerk.users.createUser({
    emailAddress: ['mfa@example.com'], password: 'violet-Kestrel-4417-orbit', totpSecret: SECRET,
    backupCodes: ['abcd1234', 'efgh5678'],
  });
  assert.deepEqual([user.totpEnabled, user.backupCodeEnabled, user.twoFactorEnabled], [true, true, true]);
  const code = totpNow(SECRET);
  const ok = await clerk.users.verifyTOTP({ userId: user.id, code });
  assert.equal(ok.verified, true);
  assert.equal(ok.codeType ?? ok.code_type, 'totp');
  await assert.rejects(clerk.users.verifyTOTP({ userId: user.id, code }), apiError(422), 'a step works once');
  const backup = await clerk.users.verifyTOTP({ userId: user.id, code: 'abcd1234' });
  assert.equal(backup.codeType ?? backup.code_type, 'backup_code');
  await assert.rejects(clerk.users.verifyTOTP({ userId: user.id, code: 'abcd1234' }), apiError(422));

  const deleted = await clerk.users.deleteUserBackupCodes(user.id);
  assert.equal(deleted.userId ?? deleted.user_id, user.id);
  let now = await clerk.users.getUser(user.id);
  assert.deepEqual([now.totpEnabled, now.backupCodeEnabled], [true, false]);
  await clerk.users.deleteUserTOTP(user.id);
  now = await clerk.users.getUser(user.id);
  assert.deepEqual([now.totpEnabled, now.twoFactorEnabled], [false, false]);
  await assert.rejects(clerk.users.verifyTOTP({ userId: user.id, code: '123456' }), apiError(400));
});

test('disableUserMFA removes every second factor', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['mfa2@example.com'], totpSecret: SECRET, backupCodes: ['zzzz9999'] });
  const answer = await clerk.users.disableUserMFA(user.id);
  assert.equal(answer.userId ?? answer.user_id, user.id);
  const now = await clerk.users.getUser(user.id);
  assert.deepEqual([now.totpEnabled, now.backupCodeEnabled, now.twoFactorEnabled], [false, false, false]);
  await assert.rejects(clerk.users.disableUserMFA('user_doesnotexist'), apiError(404));
});
