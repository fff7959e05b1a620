// Clerk's own frontend without a proxy: examples/astro unmodified, configured with no
// PUBLIC_CLERK_PROXY_URL, against `usher dev` serving HTTPS with a certificate made for this run.
// clerk-js then calls `https://<publishable key host>/v1/…` itself, cross-site (the app is
// http://localhost:PORT, usher https://127.0.0.1:PORT), with the `__client` cookie usher sets
// `SameSite=None; Secure`; @clerk/backend sends page loads to usher's handshake directly. No host
// but 127.0.0.1/localhost is ever asked (`foreign`).
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { astroStack, signInWithPassword, whoAmI } from './astro-app.mjs';
import { PASSWORD, uniqueEmail, waitFor } from './harness.mjs';

const CLOCK_SKEW_MS = 5_000;

// This process talks to usher (the Backend API, the dev mailbox) with Node's fetch, which offers
// no per-request CA in Node 20; the app and Chromium are given the certificate instead. Only
// loopback servers this file starts are contacted.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

/** A self-signed certificate for 127.0.0.1 and localhost, made with the openssl CLI. */
function certificate() {
  const dir = mkdtempSync(join(tmpdir(), 'usher-tls-'));
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { dir, cert, key };
}

function jwtPayload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

/** Records the page's navigations (origin + path) from now on. */
function navigations(p) {
  const hops = [];
  p.on('request', r => {
    if (r.isNavigationRequest() && r.frame() === p.mainFrame()) {
      const u = new URL(r.url());
      hops.push(`${u.origin}${u.pathname}`);
    }
  });
  return hops;
}

/** Every request the page makes to usher's origin. */
function usherRequests(p, usherUrl) {
  const seen = [];
  p.on('request', r => { if (r.url().startsWith(usherUrl)) seen.push(new URL(r.url()).pathname); });
  return seen;
}

describe('Clerk components on usher over HTTPS, no proxy (2 s tokens)', () => {
  let s;
  let tls;
  before(async () => {
    tls = certificate();
    s = await astroStack({ direct: tls, args: ['--session-token-lifetime', '2'] });
  });
  after(async () => {
    await s?.stop();
    if (tls) rmSync(tls.dir, { recursive: true, force: true });
    assert.deepEqual(s?.foreign ?? [], [], 'the browser asked a host other than 127.0.0.1/localhost');
  });

  test('the keys and URLs usher dev prints are https', () => {
    assert.match(s.usher.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(s.usher.apiUrl, s.usher.url);
    const host = Buffer.from(s.usher.publishableKey.replace(/^pk_live_/, ''), 'base64').toString();
    assert.equal(`https://${host.replace(/\$$/, '')}`, s.usher.url, 'the publishable key names usher');
  });

  test('<SignUp/> with the emailed code, reload, sign-out through <UserButton/>, sign-in with a password', async () => {
    const ctx = await s.context();
    const p = await ctx.newPage();
    const direct = usherRequests(p, s.usher.url);
    const email = uniqueEmail('direct-signup');
    await p.goto(`${s.url}/sign-up`);
    await p.locator('input[name=emailAddress]').fill(email);
    await p.locator('input[name=password]').fill(PASSWORD);
    await p.getByRole('button', { name: 'Continue', exact: true }).click();
    const code = await s.usher.waitForCode(email);
    await p.locator('input[autocomplete="one-time-code"]').first().pressSequentially(code);
    await p.waitForURL(`${s.url}/`);
    const [user] = await s.usher.bapi('GET', `/v1/users?email_address=${encodeURIComponent(email)}`);
    assert.ok(user?.id, 'the sign-up created a user');
    assert.ok(direct.includes('/v1/client/sign_ups'), `clerk-js called usher directly: ${direct.join(' ')}`);

    // The Frontend API's client cookie, as the browser holds it: on usher's host, cross-site.
    const client = (await ctx.cookies(s.usher.url)).find(c => c.name === '__client');
    assert.equal(client?.sameSite, 'None');
    assert.equal(client?.secure, true);
    assert.equal(client?.httpOnly, true);

    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });

    await p.locator('.cl-userButtonTrigger').click();
    await p.getByRole('button', { name: 'Sign out' }).click();
    await waitFor(async () => (await p.textContent('#client-user')) === 'signed-out', { message: 'signed out on the client' });
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: 'signed-out', client: 'signed-out' });

    await signInWithPassword(p, s.url, { email, password: PASSWORD });
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    await p.reload();
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    await ctx.close();
  });

  test('an expired page load goes through usher\'s handshake once', async () => {
    const user = await s.usher.createUser();
    const ctx = await s.context();
    const p = await ctx.newPage();
    await signInWithPassword(p, s.url, user);
    assert.deepEqual(await whoAmI(p), { server: user.id, client: user.id });
    const session = async () => (await ctx.cookies(s.url)).find(c => c.name === '__session')?.value;
    await waitFor(session, { message: '__session on the app' });
    // No page open: nothing refreshes, so the cookie's token expires (past @clerk/backend's
    // clock-skew allowance of 5 s).
    await p.close();
    await waitFor(async () => {
      const t = await session();
      return !t || jwtPayload(t).exp * 1000 + CLOCK_SKEW_MS < Date.now();
    }, { timeout: 30_000, message: 'the session token expired' });
    const q = await ctx.newPage();
    const hops = navigations(q);
    await q.goto(`${s.url}/`);
    assert.deepEqual(await whoAmI(q), { server: user.id, client: user.id });
    assert.deepEqual(hops, [`${s.url}/`, `${s.usher.url}/v1/client/handshake`, `${s.url}/`],
      'one trip through usher\'s own handshake, no loop');
    await ctx.close();
  });
});
