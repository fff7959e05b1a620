// clerkClient.users against a real usher: every call, with real values checked.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { apiError, clerkFor, is4xx, nextMillisecond, startUsher } from './server.mjs';

// bcrypt (cost 10) of 'migrated password 1', made with libxcrypt; the salt is the one of the
// Openwall test vector `$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW` ('U*U').
const BCRYPT_DIGEST = '$2b$10$CCCCCCCCCCCCCCCCCCCCC.OmQwo2KMHDDc50z7JbBrwbkrU7H0KjK';

let usher;
let clerk;
before(async () => {
  usher = await startUsher();
  clerk = clerkFor(usher);
});
after(() => usher?.stop());

/** A deserialized `User` resource, not a raw JSON object. */
function assertUserResource(user) {
  assert.equal(typeof user, 'object');
  assert.notEqual(Object.getPrototypeOf(user), Object.prototype, 'a User instance, not plain JSON');
  assert.equal(user.raw?.object, 'user');
  assert.ok('primaryEmailAddress' in user && 'fullName' in user, 'User getters are present');
}

test('createUser and getUser round-trip every field', async () => {
  const created = await clerk.users.createUser({
    emailAddress: ['ada@example.com'],
    phoneNumber: ['+15555550100'],
    username: 'ada_l',
    password: 'correct horse battery',
    firstName: 'Ada',
    lastName: 'Lovelace',
    externalId: 'ext-ada',
    publicMetadata: { plan: 'pro', nested: { camelCase: 1, list: [1, 'two'] } },
    privateMetadata: { secret: true },
    unsafeMetadata: { theme: 'dark' },
  });
  assertUserResource(created);
  assert.match(created.id, /^user_/);

  const user = await clerk.users.getUser(created.id);
  assertUserResource(user);
  assert.equal(user.id, created.id);
  assert.equal(user.emailAddresses.length, 1);
  assert.equal(user.emailAddresses[0].emailAddress, 'ada@example.com');
  assert.equal(typeof user.emailAddresses[0].id, 'string');
  assert.equal(user.primaryEmailAddressId, user.emailAddresses[0].id);
  assert.ok(Array.isArray(user.emailAddresses[0].linkedTo), 'linked_to is an array');
  assert.equal(user.emailAddresses[0].verification?.status, 'verified');
  assert.equal(user.primaryEmailAddress?.emailAddress, 'ada@example.com');
  assert.equal(user.phoneNumbers.length, 1);
  assert.equal(user.phoneNumbers[0].phoneNumber, '+15555550100');
  assert.equal(user.primaryPhoneNumberId, user.phoneNumbers[0].id);
  assert.ok(Array.isArray(user.phoneNumbers[0].linkedTo));
  assert.equal(user.username, 'ada_l');
  assert.equal(user.firstName, 'Ada');
  assert.equal(user.lastName, 'Lovelace');
  assert.equal(user.fullName, 'Ada Lovelace');
  assert.equal(user.externalId, 'ext-ada');
  assert.deepEqual(user.publicMetadata, { plan: 'pro', nested: { camelCase: 1, list: [1, 'two'] } }, 'metadata keys keep their case');
  assert.deepEqual(user.privateMetadata, { secret: true });
  assert.deepEqual(user.unsafeMetadata, { theme: 'dark' });
  assert.equal(user.passwordEnabled, true);
  assert.equal(user.banned, false);
  assert.equal(user.locked, false);
  assert.equal(typeof user.createdAt, 'number');
  assert.ok(user.createdAt > 1_600_000_000_000 && user.createdAt < 10_000_000_000_000, `createdAt ${user.createdAt} is in ms`);
  assert.equal(typeof user.updatedAt, 'number');
  assert.equal(user.createdAt, created.createdAt);

  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'correct horse battery' })).verified, true);
});

test('a user without a password has passwordEnabled false', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['nopass@example.com'] });
  assert.equal(user.passwordEnabled, false);
  assert.equal(user.username, null);
  assert.deepEqual(user.publicMetadata, {});
});

test('skipPasswordChecks accepts a password that would otherwise be refused', async () => {
  await assert.rejects(
    clerk.users.createUser({ emailAddress: ['weak@example.com'], password: 'abc1234' }),
    apiError(422, /^form_password/),
  );
  const user = await clerk.users.createUser({ emailAddress: ['weak@example.com'], password: 'abc1234', skipPasswordChecks: true });
  assert.equal(user.passwordEnabled, true);
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'abc1234' })).verified, true);
});

test('createUser with a bcrypt passwordDigest, then verifyPassword', async () => {
  const user = await clerk.users.createUser({
    emailAddress: ['migrated@example.com'],
    passwordDigest: BCRYPT_DIGEST,
    passwordHasher: 'bcrypt',
  });
  assert.equal(user.passwordEnabled, true);
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'migrated password 1' })).verified, true);
  await assert.rejects(clerk.users.verifyPassword({ userId: user.id, password: 'migrated password 2' }), apiError(is4xx));
});

test('getUserList and getCount: paging, ordering and every filter', async () => {
  const fresh = await startUsher();
  try {
    const c = clerkFor(fresh);
    const people = [
      { firstName: 'Carol', lastName: 'Whitmore', emailAddress: ['carol@xq.io'], username: 'carol_u', externalId: 'ext-carol', phoneNumber: ['+15555550101'] },
      { firstName: 'Bob', emailAddress: ['bob@yq.io'], username: 'bob_u', externalId: 'ext-bob', phoneNumber: ['+15555550102'] },
      { firstName: 'Alice', emailAddress: ['alice@xq.io'], username: 'alice_u', externalId: 'ext-alice', phoneNumber: ['+15555550103'] },
      { firstName: 'Dave', emailAddress: ['dave@zq.io'], username: 'dave_u', externalId: 'ext-dave', phoneNumber: ['+15555550104'] },
    ];
    const ids = {};
    for (const person of people) {
      ids[person.firstName] = (await c.users.createUser(person)).id;
      await nextMillisecond();
    }
    const names = list => list.data.map(u => u.firstName);

    const all = await c.users.getUserList();
    assert.equal(all.totalCount, 4);
    all.data.forEach(assertUserResource);
    assert.deepEqual(names(all), ['Dave', 'Alice', 'Bob', 'Carol'], 'the default order is newest first');
    assert.equal(await c.users.getCount(), 4);

    assert.deepEqual(names(await c.users.getUserList({ orderBy: '-created_at' })), ['Dave', 'Alice', 'Bob', 'Carol']);
    assert.deepEqual(names(await c.users.getUserList({ orderBy: '+created_at' })), ['Carol', 'Bob', 'Alice', 'Dave']);
    assert.deepEqual(names(await c.users.getUserList({ orderBy: '+first_name' })), ['Alice', 'Bob', 'Carol', 'Dave']);

    const page = await c.users.getUserList({ orderBy: '+created_at', limit: 2, offset: 1 });
    assert.deepEqual(names(page), ['Bob', 'Alice']);
    assert.equal(page.totalCount, 4, 'totalCount ignores limit and offset');
    assert.deepEqual(names(await c.users.getUserList({ orderBy: '+created_at', limit: 1 })), ['Carol']);
    assert.deepEqual(names(await c.users.getUserList({ orderBy: '+created_at', limit: 10, offset: 3 })), ['Dave']);
    assert.deepEqual(names(await c.users.getUserList({ limit: 10, offset: 4 })), []);

    // `query` also matches user ids, so no partial here can turn up inside a random id.
    const filters = [
      [{ emailAddress: ['bob@yq.io', 'carol@xq.io'] }, ['Bob', 'Carol']],
      [{ emailAddress: ['nobody@nowhere.io'] }, []],
      [{ userId: [ids.Alice, ids.Dave] }, ['Alice', 'Dave']],
      [{ externalId: ['ext-bob'] }, ['Bob']],
      [{ username: ['carol_u', 'dave_u'] }, ['Carol', 'Dave']],
      [{ phoneNumber: ['+15555550103'] }, ['Alice']],
      [{ query: 'xq.io' }, ['Alice', 'Carol']],
      [{ query: 'arol@' }, ['Carol']],
      [{ query: 'hitmor' }, ['Carol']],
      [{ query: 'dave_' }, ['Dave']],
      [{ emailAddress: ['bob@yq.io'], username: ['bob_u'] }, ['Bob']],
    ];
    for (const [params, expected] of filters) {
      const label = JSON.stringify(params);
      const list = await c.users.getUserList(params);
      assert.deepEqual(names(list).sort(), expected, `getUserList ${label}`);
      assert.equal(list.totalCount, expected.length, `totalCount ${label}`);
      assert.equal(await c.users.getCount(params), expected.length, `getCount ${label}`);
    }
  } finally {
    await fresh.stop();
  }
});

test('updateUser changes names, username, externalId and password', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['grace@example.com'], password: 'first password' });
  const updated = await clerk.users.updateUser(user.id, {
    firstName: 'Grace',
    lastName: 'Hopper',
    username: 'grace_h',
    externalId: 'g-1',
    password: 'second password',
  });
  assertUserResource(updated);
  assert.equal(updated.firstName, 'Grace');
  assert.equal(updated.lastName, 'Hopper');
  assert.equal(updated.username, 'grace_h');
  assert.equal(updated.externalId, 'g-1');
  assert.ok(updated.updatedAt >= user.updatedAt);
  const reread = await clerk.users.getUser(user.id);
  assert.equal(reread.fullName, 'Grace Hopper');
  assert.equal(reread.externalId, 'g-1');
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'second password' })).verified, true);
  await assert.rejects(clerk.users.verifyPassword({ userId: user.id, password: 'first password' }), apiError(is4xx));
});

test('metadata: updateUser replaces (PUT), updateUserMetadata deep-merges and null removes a key', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['meta@example.com'], publicMetadata: { old: true } });
  // Passing metadata to updateUser makes the SDK PATCH /users/{id} and then PUT /users/{id}/metadata.
  const replaced = await clerk.users.updateUser(user.id, { firstName: 'Meta', publicMetadata: { a: { b: 1, c: 2 }, keep: 'x' } });
  assert.equal(replaced.firstName, 'Meta');
  assert.deepEqual(replaced.publicMetadata, { a: { b: 1, c: 2 }, keep: 'x' }, 'PUT replaces: "old" is gone');

  const merged = await clerk.users.updateUserMetadata(user.id, {
    publicMetadata: { a: { b: null, d: 3 }, keep: null, added: [1, 2] },
    privateMetadata: { k: 'v' },
  });
  assert.deepEqual(merged.publicMetadata, { a: { c: 2, d: 3 }, added: [1, 2] });
  assert.deepEqual(merged.privateMetadata, { k: 'v' });
  const reread = await clerk.users.getUser(user.id);
  assert.deepEqual(reread.publicMetadata, { a: { c: 2, d: 3 }, added: [1, 2] });
  assert.deepEqual(reread.privateMetadata, { k: 'v' });
  assert.equal(reread.firstName, 'Meta');
});

test('ban/unban and lock/unlock flip the flags', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['flags@example.com'] });
  const banned = await clerk.users.banUser(user.id);
  assertUserResource(banned);
  assert.equal(banned.banned, true);
  assert.equal((await clerk.users.getUser(user.id)).banned, true);
  assert.equal((await clerk.users.unbanUser(user.id)).banned, false);
  assert.equal((await clerk.users.lockUser(user.id)).locked, true);
  assert.equal((await clerk.users.getUser(user.id)).locked, true);
  assert.equal((await clerk.users.unlockUser(user.id)).locked, false);
});

test('deleteUser returns a DeletedObject and the user is gone', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['gone@example.com'] });
  const deleted = await clerk.users.deleteUser(user.id);
  assert.equal(deleted.id, user.id);
  assert.equal(deleted.deleted, true);
  assert.equal(deleted.object, 'user');
  await assert.rejects(clerk.users.getUser(user.id), apiError(404, 'resource_not_found'));
  assert.equal(await clerk.users.getCount({ emailAddress: ['gone@example.com'] }), 0);
  // The address is free again.
  const again = await clerk.users.createUser({ emailAddress: ['gone@example.com'] });
  assert.notEqual(again.id, user.id);
});

test('verifyPassword: true for the right password, a 4xx error for a wrong one', async () => {
  const user = await clerk.users.createUser({ emailAddress: ['pw@example.com'], password: 'correct horse battery' });
  assert.equal((await clerk.users.verifyPassword({ userId: user.id, password: 'correct horse battery' })).verified, true);
  await assert.rejects(clerk.users.verifyPassword({ userId: user.id, password: 'wrong horse battery' }), apiError(is4xx));
});
