// Social sign-in in usher.js: the providers the environment enables, authenticateWithRedirect,
// and handleRedirectCallback after usher's /v1/oauth_callback, against scripted Frontend API calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createClerk } from '../usher/clerk.js';
import { enabledProviders, markOf } from '../usher/providers.js';
import { createResources } from '../usher/resources.js';
import { createStores } from '../usher/stores.js';

function scripted(answers) {
  const calls = [];
  const fapi = async (method, path, body) => {
    calls.push([method, path, body]);
    const next = answers.shift();
    if (!next) throw new Error(`unexpected ${method} ${path}`);
    return next;
  };
  return { calls, fapi };
}

test('enabledProviders: enabled and authenticatable entries, built-in ones first, custom by name', () => {
  const env = { user_settings: { social: {
    oauth_custom_zeta: { strategy: 'oauth_custom_zeta', name: 'Zeta ID', enabled: true, authenticatable: true },
    oauth_github: { strategy: 'oauth_github', name: 'GitHub', enabled: true, authenticatable: true },
    oauth_custom_alpha: { strategy: 'oauth_custom_alpha', name: 'Alpha', enabled: true, authenticatable: true },
    oauth_google: { strategy: 'oauth_google', name: 'Google', enabled: false, authenticatable: true },
    bogus: { strategy: 'password', name: 'Nope', enabled: true },
  } } };
  assert.deepEqual(enabledProviders(env).map(p => p.strategy),
    ['oauth_github', 'oauth_custom_alpha', 'oauth_custom_zeta']);
  assert.deepEqual(enabledProviders(null), []);
  assert.deepEqual(enabledProviders({ user_settings: {} }), []);
  assert.equal(markOf('oauth_github').paths.length, 1);
  assert.deepEqual(markOf('oauth_custom_zeta'), markOf('oauth_custom_other'));
});

test('signIn.authenticateWithRedirect creates the attempt with the provider and goes there', async () => {
  const authorize = 'https://id.example/authorize?state=s';
  const { calls, fapi } = scripted([{
    id: 'sia_1', status: 'needs_first_factor',
    first_factor_verification: { status: 'unverified', strategy: 'oauth_github', external_verification_redirect_url: authorize },
  }]);
  const went = [];
  const { toSignIn } = createResources({ fapi, meCall: fapi, state: {}, navigate: u => went.push(u) });
  const si = await toSignIn(null).authenticateWithRedirect({
    strategy: 'oauth_github', redirectUrl: 'https://app.example/sso-callback', redirectUrlComplete: 'https://app.example/',
  });
  assert.equal(si.firstFactorVerification.status, 'unverified');
  assert.deepEqual(calls, [['POST', '/client/sign_ins', {
    strategy: 'oauth_github', redirect_url: 'https://app.example/sso-callback',
    action_complete_redirect_url: 'https://app.example/',
  }]]);
  assert.deepEqual(went, [authorize]);
  await assert.rejects(toSignIn(null).authenticateWithRedirect({ strategy: 'password' }), /oauth_/);
});

test('signUp.authenticateWithRedirect reads verifications.external_account', async () => {
  const authorize = 'https://id.example/authorize?state=u';
  const { calls, fapi } = scripted([{
    id: 'sua_1', status: 'missing_requirements',
    verifications: { external_account: { status: 'unverified', external_verification_redirect_url: authorize } },
  }]);
  const went = [];
  const { toSignUp } = createResources({ fapi, meCall: fapi, state: {}, navigate: u => went.push(u) });
  await toSignUp(null).authenticateWithRedirect({ strategy: 'oauth_custom_corp', redirectUrl: 'https://app.example/cb' });
  assert.equal(calls[0][1], '/client/sign_ups');
  assert.equal(calls[0][2].action_complete_redirect_url, 'https://app.example/cb');
  assert.deepEqual(went, [authorize]);
});

/** createClerk over a session whose client is `raw` (reloading keeps it) and scripted calls. */
function clerkWith(raw, answers) {
  const { calls, fapi } = scripted(answers);
  const state = { env: null, client: null, session: null };
  const resources = createResources({ fapi, meCall: fapi, state, navigate: () => {} });
  state.client = resources.toClient(raw);
  const session = { state, fapi, resources, getSessionToken: async () => null, reloadClient: async () => {} };
  const assigned = [];
  const win = Object.assign(new EventTarget(), {
    location: { href: 'https://app.example/sign-in?usher_oauth_callback=1', origin: 'https://app.example',
      search: '?usher_oauth_callback=1', assign: u => assigned.push(u) },
    CustomEvent,
  });
  const { clerk } = createClerk({ version: 't', frontendApi: 'https://auth.example', options: {}, session,
    stores: createStores(undefined), win });
  return { clerk, calls, assigned };
}

test('handleRedirectCallback: a transferable sign-in becomes a sign-up with transfer, then active', async () => {
  const raw = { id: 'client_1', sessions: [], sign_in: { id: 'sia_1', status: 'needs_identifier',
    first_factor_verification: { status: 'transferable', strategy: 'oauth_github',
      error: { code: 'external_account_not_found' } } } };
  const { clerk, calls, assigned } = clerkWith(raw, [
    { id: 'sua_1', status: 'complete', created_session_id: 'sess_1' },
    { id: 'sess_1', status: 'active' },
  ]);
  await clerk.handleRedirectCallback({ redirectUrl: 'https://app.example/after' });
  assert.deepEqual(calls.map(c => c.slice(0, 2)), [['POST', '/client/sign_ups'], ['POST', '/client/sessions/sess_1/touch']]);
  assert.deepEqual(calls[0][2], { transfer: true });
  assert.deepEqual(assigned, ['https://app.example/after']);
});

test('handleRedirectCallback: needs_second_factor goes to the second-factor page; a failure throws', async () => {
  const second = { id: 'c', sessions: [], sign_in: { id: 'sia_2', status: 'needs_second_factor',
    first_factor_verification: { status: 'verified', strategy: 'oauth_github' } } };
  const a = clerkWith(second, []);
  await a.clerk.handleRedirectCallback({ secondFactorUrl: '/sign-in/factor-two' });
  assert.deepEqual(a.assigned, ['https://app.example/sign-in/factor-two']);
  assert.deepEqual(a.calls, []);

  const failed = { id: 'c', sessions: [], sign_up: { id: 'sua_3', status: 'missing_requirements', verifications: {
    external_account: { status: 'failed', error: { code: 'oauth_email_unverified', message: 'no verified address',
      long_message: 'GitHub gave no verified email address' } } } } };
  const b = clerkWith(failed, []);
  await assert.rejects(b.clerk.handleRedirectCallback(), e => e.errors[0].code === 'oauth_email_unverified');
  assert.deepEqual(b.assigned, []);
});
