// The sign-in resource's forgot-password and email-link calls, against a scripted fapi().
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMAIL_LINK_POLL_MS, createResources } from '../usher/resources.js';

function scripted(answers) {
  const calls = [];
  const fapi = async (method, path, body) => {
    calls.push([method, path, body]);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected ${method} ${path}`);
    return next;
  };
  const { toSignIn } = createResources({ fapi, meCall: fapi, getSessionToken: null, reloadClient: null, state: {} });
  return { calls, toSignIn };
}

const factor = { strategy: 'email_link', safe_identifier: 'a@example.com', email_address_id: 'idn_1' };
const attempt = (status, verification) => ({
  id: 'sia_1', status, supported_first_factors: [factor], first_factor_verification: verification,
  created_session_id: status === 'complete' ? 'sess_1' : null,
});

test('resetPassword posts the new password in snake case', async () => {
  const { calls, toSignIn } = scripted([attempt('complete', null)]);
  const done = await toSignIn(attempt('needs_new_password', null))
    .resetPassword({ password: 'pw', signOutOfOtherSessions: true });
  assert.equal(done.status, 'complete');
  assert.deepEqual(calls, [['POST', '/client/sign_ins/sia_1/reset_password',
    { password: 'pw', sign_out_of_other_sessions: true }]]);
});

test('an email-link flow prepares, then reads the attempt until it is verified', async t => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const unverified = { status: 'unverified', strategy: 'email_link' };
  const { calls, toSignIn } = scripted([
    attempt('needs_first_factor', unverified),
    attempt('needs_first_factor', unverified),
    attempt('complete', { status: 'verified', strategy: 'email_link' }),
  ]);
  const flow = toSignIn(attempt('needs_first_factor', null)).createEmailLinkFlow();
  const result = flow.startEmailLinkFlow({ redirectUrl: 'https://app.test/x' });
  await new Promise(setImmediate);
  assert.deepEqual(calls[0], ['POST', '/client/sign_ins/sia_1/prepare_first_factor',
    { strategy: 'email_link', redirect_url: 'https://app.test/x', email_address_id: 'idn_1' }]);
  for (let i = 0; i < 2; i++) {
    t.mock.timers.tick(EMAIL_LINK_POLL_MS);
    await new Promise(setImmediate);
  }
  const done = await result;
  assert.equal(done.status, 'complete');
  assert.equal(done.createdSessionId, 'sess_1');
  assert.deepEqual(calls.slice(1).map(c => c[1]), ['/client/sign_ins/sia_1', '/client/sign_ins/sia_1']);
});
