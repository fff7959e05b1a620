// Screenshots of the hosted pages at a phone-sized viewport. They go to a temporary directory;
// with USHER_UPDATE_SCREENSHOTS=1 they replace the ones in docs/screenshots (for the README).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stack, repo, newContext } from './harness.mjs';

const dir =
  process.env.USHER_UPDATE_SCREENSHOTS === '1'
    ? join(repo, 'docs', 'screenshots')
    : mkdtempSync(join(tmpdir(), 'usher-screenshots-'));
let s;
before(async () => {
  s = await stack();
  mkdirSync(dir, { recursive: true });
});
after(async () => {
  await s?.stop();
});

test('hosted /sign-in, /sign-up and /user at 390x844', async t => {
  const user = await s.usher.createUser({ firstName: 'Ada' });
  const ctx = await newContext(s.browser, { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 });
  t.after(() => ctx.close());
  const p = await ctx.newPage();
  const shot = async name => {
    const path = join(dir, `${name}.png`);
    await p.screenshot({ path });
    assert.ok(statSync(path).size > 1000);
    // Nothing is wider than the viewport (readable without horizontal scrolling).
    const width = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `${name}: page is ${width}px wide`);
  };
  await p.goto(`${s.usher.url}/sign-up`);
  await p.getByLabel('Email address').waitFor();
  await shot('sign-up');
  await p.goto(`${s.usher.url}/sign-in`);
  await p.getByLabel('Email address').waitFor();
  await shot('sign-in');
  // Signed in through the Frontend API with this context's cookie jar (the form is tested elsewhere).
  const res = await ctx.request.post(`${s.usher.url}/v1/client/sign_ins`, {
    headers: { origin: s.usher.url },
    form: { strategy: 'password', identifier: user.email, password: user.password },
  });
  const status = res.status();
  assert.equal(status, 200);
  await p.goto(`${s.usher.url}/user`);
  await p.getByText(user.email).first().waitFor();
  await shot('user');
});
