// The Frontend API client: requests in Clerk's conventions, the {response, client} envelope, and
// Clerk's error bodies (and 429 with Retry-After) as UsherError.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsherError, createFapi, encodeForm } from '../usher/fapi.js';

/** A fapi() whose fetch answers with `answer(url, init)`: {status, body, headers} or a thrown error. */
function setup(answer) {
  const calls = { fetch: [], client: [], unauthorized: [] };
  const fetch = async (url, init) => {
    calls.fetch.push({ url: new URL(url), init });
    const { status = 200, body = '', headers = {} } = await answer(url, init);
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    return { ok: status >= 200 && status < 300, status, headers: new Headers(headers), text: async () => text };
  };
  const fapi = createFapi({
    frontendApi: 'https://auth.example', fetch,
    t: key => `text of ${key}`,
    onClient: c => calls.client.push(c),
    onUnauthorized: path => calls.unauthorized.push(path),
  });
  return { fapi, calls };
}

test('GET and POST go to /v1 with cookies; other methods are tunnelled as POST with _method', async () => {
  const { fapi, calls } = setup(() => ({ body: { response: { ok: true } } }));
  await fapi('GET', '/client/sign_ins/sia_1');
  await fapi('PATCH', '/me', { first_name: 'Ada', unsafe_metadata: { a: 1 }, last_name: null });
  const [get, patch] = calls.fetch;
  assert.equal(get.url.href, 'https://auth.example/v1/client/sign_ins/sia_1');
  assert.deepEqual([get.init.method, get.init.credentials, get.init.body], ['GET', 'include', undefined]);
  assert.equal(patch.url.pathname, '/v1/me');
  assert.equal(patch.url.searchParams.get('_method'), 'PATCH');
  assert.equal(patch.init.method, 'POST');
  assert.equal(String(patch.init.body), 'first_name=Ada&unsafe_metadata=%7B%22a%22%3A1%7D',
    'null dropped, objects as JSON');
  assert.equal(String(encodeForm({ n: 0, b: false })), 'n=0&b=false');
});

test('the envelope: the response is returned, the client handed over', async () => {
  const client = { id: 'client_1', sessions: [] };
  const { fapi, calls } = setup(() => ({ body: { response: { id: 'sia_1' }, client } }));
  assert.deepEqual(await fapi('POST', '/client/sign_ins', { identifier: 'a@b.c' }), { id: 'sia_1' });
  assert.deepEqual(calls.client, [client]);
});

test('a null client means signed out on /client paths only; raw answers are left alone', async () => {
  const { fapi, calls } = setup(() => ({ body: { response: { object: 'user' }, client: null } }));
  await fapi('PATCH', '/me', {});
  assert.deepEqual(calls.client, [], 'omitted on /me: not a sign-out');
  await fapi('POST', '/client/sessions/sess_1/end');
  assert.deepEqual(calls.client, [null]);
  const raw = await fapi('GET', '/client', null, { raw: true });
  assert.deepEqual(raw, { response: { object: 'user' }, client: null });
  assert.equal(calls.client.length, 1);
  const plain = setup(() => ({ body: [1, 2] }));
  assert.deepEqual(await plain.fapi('GET', '/me/sessions/active'), [1, 2], 'no envelope: the body itself');
});

test("Clerk's errors become an UsherError with camelCase twins, the status and the trace id", async () => {
  const { fapi, calls } = setup(() => ({
    status: 422,
    body: {
      errors: [{
        code: 'form_password_incorrect', message: 'is incorrect', long_message: 'Password is incorrect.',
        meta: { param_name: 'password' },
      }],
      clerk_trace_id: 'trace_1',
    },
  }));
  const err = await fapi('POST', '/client/sign_ins', {}).catch(e => e);
  assert.ok(err instanceof UsherError && err instanceof Error);
  assert.equal(err.name, 'UsherError');
  assert.equal(err.message, 'Password is incorrect.');
  assert.deepEqual([err.status, err.clerkTraceId, err.retryAfter, err.clerkError], [422, 'trace_1', undefined, true]);
  assert.equal(err.errors[0].longMessage, 'Password is incorrect.');
  assert.equal(err.errors[0].meta.paramName, 'password');
  assert.equal(err.errors[0].meta.param_name, 'password');
  assert.deepEqual(calls.client, []);
});

test('429: retryAfter from Retry-After, too_many_requests without a body', async () => {
  const bare = setup(() => ({ status: 429, headers: { 'Retry-After': '7' } }));
  const err = await bare.fapi('POST', '/client/sign_ins', {}).catch(e => e);
  assert.deepEqual([err.status, err.retryAfter, err.errors[0].code, err.message],
    [429, 7, 'too_many_requests', 'HTTP 429']);

  const clerk = setup(() => ({
    status: 429, headers: { 'retry-after': '3' },
    body: { errors: [{ code: 'too_many_requests', message: 'Too many requests', long_message: 'Slow down.' }] },
  }));
  const e2 = await clerk.fapi('POST', '/client/sign_ins', {}).catch(e => e);
  assert.deepEqual([e2.retryAfter, e2.message], [3, 'Slow down.']);

  const odd = setup(() => ({ status: 429, headers: { 'Retry-After': 'Wed, 21 Oct 2015 07:28:00 GMT' } }));
  assert.equal((await odd.fapi('GET', '/client').catch(e => e)).retryAfter, undefined);
});

test('a non-JSON error page is "unexpected"; a 401 is reported with its path', async () => {
  const { fapi, calls } = setup(url =>
    (url.includes('/me') ? { status: 401, body: '{}' } : { status: 502, body: '<p>' }));
  const err = await fapi('GET', '/environment').catch(e => e);
  assert.deepEqual([err.status, err.errors[0].code, err.message], [502, 'unexpected', 'HTTP 502']);
  assert.deepEqual(calls.unauthorized, []);
  const e401 = await fapi('GET', '/me').catch(e => e);
  assert.equal(e401.status, 401);
  assert.deepEqual(calls.unauthorized, ['/me']);
});

test('an unreachable server is a localized network_error', async () => {
  const { fapi } = setup(() => {
    throw new TypeError('Failed to fetch');
  });
  const err = await fapi('GET', '/client').catch(e => e);
  assert.ok(err instanceof UsherError);
  assert.equal(err.status, 0);
  assert.equal(err.message, 'text of unstable__errors.network_error');
  assert.deepEqual(err.errors, [{
    code: 'network_error', message: 'text of unstable__errors.network_error', longMessage: 'Failed to fetch', meta: {},
  }]);
});
