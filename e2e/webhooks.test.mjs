// A sign-up in the browser produces user.created and session.created at a webhook receiver,
// signed with the endpoint's secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, uniqueEmail, PASSWORD, newContext, waitFor, webhookReceiver, signedBy } from './harness.mjs';

let s;
let receiver;
before(async () => {
  s = await stack();
  receiver = await webhookReceiver();
});
after(async () => {
  receiver?.close();
  await s?.stop();
});

test('a browser sign-up sends user.created and session.created', async t => {
  const endpoint = await s.usher.bapi('POST', '/v1/webhooks/endpoints', {
    url: receiver.url,
    event_types: ['user.created', 'session.created'],
  });
  assert.match(endpoint.secret, /^whsec_/);

  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const email = uniqueEmail('webhook');
  await p.goto(`${s.pages.url}/sign-up`);
  const form = p.locator('usher-sign-up');
  await form.getByLabel('First name').fill('Grace');
  await form.getByLabel('Last name').fill('Hopper');
  await form.getByLabel('Email address').fill(email);
  await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
  await form.getByRole('button', { name: 'Continue' }).click();
  const code = await s.usher.waitForCode(email);
  await form.getByLabel('Verification code').fill(code);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${s.pages.url}/after`);

  const events = () => receiver.received.map(r => ({ ...r, event: JSON.parse(r.body) }));
  await waitFor(() => events().some(e => e.event.type === 'session.created'), { message: 'session.created' });
  const user = events().find(e => e.event.type === 'user.created');
  const session = events().find(e => e.event.type === 'session.created');
  assert.ok(user, 'user.created arrived');
  assert.equal(user.event.data.email_addresses[0].email_address, email);
  assert.equal(user.event.data.first_name, 'Grace');
  assert.equal(session.event.data.user_id, user.event.data.id);
  assert.match(user.event.event_attributes.http_request.user_agent, /Chrome/);
  for (const r of [user, session]) assert.ok(signedBy(endpoint.secret, r), `${r.event.type} is signed`);
  assert.ok(
    events().findIndex(e => e.event.type === 'user.created') < events().findIndex(e => e.event.type === 'session.created'),
    'user.created comes first',
  );
});
