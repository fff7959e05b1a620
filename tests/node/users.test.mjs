// clerkClient.users against usher: every call, with real values checked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClerkClient } from '@clerk/backend';
import { startUsher } from './server.mjs';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = createClerkClient({ secretKey: usher.secretKey, apiUrl: usher.apiUrl, telemetry: { disabled: true } });
});
after(() => usher.stop());

test('createUser and getUser round-trip every field', async () => {
  const created = await clerk.users.createUser({
    emailAddress: ['Ada@Example.com'],
    phoneNumber: ['+15555550100'],
    username: 'ada_l',
    password: 'correct horse battery',
    firstName: 'Ada',
    lastName: 'Lovelace',
    externalId: 'ext-ada',
    publicMetadata: { plan: 'pro', nested: { camelCase: 1 } },
    privateMetadata: { secret: true },
    unsafeMetadata: { theme: 'dark' },
  });
  const user = await clerk.users.getUser(created.id);
  assert.equal(user.id, created.id);
  assert.match(user.id, /^user_/);
  assert.equal(user.emailAddresses[0].emailAddress, 'Ada@Example.com');
  assert.equal(user.primaryEmailAddressId, user.emailAddresses[0].id);
  assert.deepEqual(user.emailAddresses[0].linkedTo, []);
  assert.equal(user.emailAddresses[0].verification.status, 'verified');
  assert.equal(user.primaryEmailAddress.emailAddress, 'Ada@Example.com');
  assert.equal(user.phoneNumbers[0].phoneNumber, '+15555550100');
  assert.equal(user.username, 'ada_l');
  assert.equal(user.fullName, 'Ada Lovelace');
  assert.equal(user.externalId, 'ext-ada');
  assert.deepEqual(user.publicMetadata, { plan: 'pro', nested: { camelCase: 1 } }, 'metadata keys are not re-cased');
  assert.deepEqual(user.privateMetadata, { secret: true });
  assert.deepEqual(user.unsafeMetadata, { theme: 'dark' });
  assert.equal(user.passwordEnabled, true);
  assert.equal(typeof user.createdAt, 'number');
  assert.ok(user.createdAt > 1_600_000_000_000, 'milliseconds');
});

test('getUserList filters, orders, pages and counts', async () => {
  for (const [name, email] of [['Carol', 'carol@x.io'], ['Bob', 'bob@y.io'], ['Alice', 'alice@x.io']]) {
    await clerk.users.createUser({ emailAddress: [email], firstName: name, username: `${name.toLowerCase()}_u`, externalId: `ext-${name}` });
  }
  const all = await clerk.users.getUserList({ limit: 100 });
  assert.ok(all.totalCount >= 3);
  assert.equal(all.data.length, all.totalCount);
  const newestFirst = await clerk.users.getUserList({ orderBy: '-created_at', limit: 1 });
  assert.equal(newestFirst.data[0].firstName, 'Alice');
  assert.equal(newestFirst.data.length, 1);
  const oldestFirst = await clerk.users.getUserList({ orderBy: '+created_at', limit: 100 });
  assert.deepEqual(oldestFirst.data.map(u => u.id), [...all.data].reverse().map(u => u.id));
  const paged = await clerk.users.getUserList({ orderBy: '+first_name', limit: 1, offset: 1 });
  assert.equal(paged.data[0].firstName, 'Alice', 'Ada, Alice, Bob, Carol: the second');

  const byEmail = await clerk.users.getUserList({ emailAddress: ['BOB@y.io', 'carol@x.io'] });
  assert.deepEqual(byEmail.data.map(u => u.firstName).sort(), ['Bob', 'Carol']);
  assert.equal(byEmail.totalCount, 2);
  const byId = await clerk.users.getUserList({ userId: [byEmail.data[0].id] });
  assert.equal(byId.data.length, 1);
  assert.equal((await clerk.users.getUserList({ externalId: ['ext-Bob'] })).data[0].firstName, 'Bob');
  assert.equal((await clerk.users.getUserList({ username: ['carol_u'] })).data[0].firstName, 'Carol');
  assert.equal((await clerk.users.getUserList({ phoneNumber: ['+15555550100'] })).data[0].firstName, 'Ada');
  const query = await clerk.users.getUserList({ query: 'x.io' });
  assert.deepEqual(query.data.map(u => u.firstName).sort(), ['Alice', 'Carol']);
  assert.equal(await clerk.users.getCount({ query: 'x.io' }), 2);
  assert.equal(await clerk.users.getCount({ emailAddress: ['nobody@nowhere.io'] }), 0);
});

test('updateUser, metadata merge, ban, lock and delete', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['grace@example.com'], password: 'first password' });
  const updated = await clerk.users.updateUser(user.id, { firstName: 'Grace', lastName: 'Hopper', username: 'grace_h', externalId: 'g-1', password: 'second password' });
  assert.equal(updated.fullName, 'Grace Hopper');
  assert.equal(updated.username, 'grace_h');
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'second password' })).verified, true);

  // Passing metadata to updateUser makes the SDK PUT /users/{id}/metadata.
  const withMeta = await clerk.users.updateUser(user.id, { publicMetadata: { a: { b: 1, c: 2 } } });
  assert.deepEqual(withMeta.publicMetadata, { a: { b: 1, c: 2 } });
  const merged = await clerk.users.updateUserMetadata(user.id, { publicMetadata: { a: { b: null, d: 3 } }, privateMetadata: { k: 'v' } });
  assert.deepEqual(merged.publicMetadata, { a: { c: 2, d: 3 } });
  assert.deepEqual(merged.privateMetadata, { k: 'v' });

  assert.equal((await clerk.users.banUser(user.id)).banned, true);
  assert.equal((await clerk.users.unbanUser(user.id)).banned, false);
  assert.equal((await clerk.users.lockUser(user.id)).locked, true);
  assert.equal((await clerk.users.unlockUser(user.id)).locked, false);

  const deleted = await clerk.users.deleteUser(user.id);
  assert.equal(deleted.id, user.id);
  assert.equal(deleted.deleted, true);
  await assert.rejects(clerk.users.getUser(user.id), err => err.status === 404 && err.errors[0].code === 'resource_not_found');
});

test('verifyPassword refuses a wrong password', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['pw@example.com'], password: 'correct horse battery' });
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'correct horse battery' })).verified, true);
  await assert.rejects(clerk.users.verifyPassword({ userId: user.id, password: 'wrong horse battery' }), err => err.status === 422);
});
