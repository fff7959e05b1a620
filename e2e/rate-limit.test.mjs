// The Frontend API's per-IP limit on creating sign-ins (5 per 10 s), seen from usher.js and
// from a plain HTTP client: the 6th gets 429 with Retry-After. A server with the default limits.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { stack, newContext, waitForLoaded } from './harness.mjs';

let s;
before(async () => {
  s = await stack({ usherOptions: { rateLimits: true } });
});
after(async () => {
  await s?.stop();
});

test('the 6th sign-in create within 10 s gets 429 with Retry-After', async t => {
  const ctx = await newContext(s.browser);
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  await p.goto(`${s.pages.url}/sign-in`);
  await waitForLoaded(p);
  const results = await p.evaluate(async () => {
    const out = [];
    for (let i = 0; i < 6; i++) {
      try {
        const si = await usher.clerk.signIn.create({ identifier: `nobody${i}@example.com` });
        out.push({ ok: si.status });
      } catch (e) {
        out.push({ status: e.status, code: e.errors?.[0]?.code, retryAfter: e.retryAfter });
      }
    }
    return out;
  });
  for (const r of results.slice(0, 5)) assert.notEqual(r.status, 429, JSON.stringify(results));
  const sixth = results[5];
  assert.equal(sixth.status, 429, JSON.stringify(results));
  assert.equal(sixth.code, 'too_many_requests');
  assert.ok(sixth.retryAfter >= 1 && sixth.retryAfter <= 10, `retryAfter visible to the page: ${sixth.retryAfter}`);

  // Still limited for a plain client from the same address; the header is there.
  const res = await fetch(`${s.usher.url}/v1/client/sign_ins`, {
    method: 'POST',
    headers: { origin: s.pages.url, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'identifier=nobody%40example.com',
  });
  assert.equal(res.status, 429);
  const retry = Number(res.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 10, `Retry-After: ${res.headers.get('retry-after')}`);
  assert.equal((await res.json()).errors[0].code, 'too_many_requests');
});
