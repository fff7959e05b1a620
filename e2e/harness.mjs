// Test harness for the browser tests: starts a real `usher dev` (fresh data directory, port 0), the
// example app, and a tiny page server that hosts usher.js components on a third origin, and launches
// Debian's Chromium through playwright-core. Not a test file itself (no `.test.` in the name).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac, randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';

export const repo = join(dirname(fileURLToPath(import.meta.url)), '..');
const START_TIMEOUT_MS = 60_000;
export const PASSWORD = 'violet-Kestrel-4417-orbit';

/** Spawns a process and resolves once a stdout line matches `ready`; collects `KEY=value` lines. */
function spawnUntil(bin, args, env, ready, what) {
  const child = spawn(bin, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', c => {
    stderr += c;
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  return new Promise((resolve, reject) => {
    const found = {};
    let buffer = '';
    const fail = msg => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${what}: ${msg}\nstderr:\n${stderr}`));
    };
    const timer = setTimeout(() => fail(`no ready line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', err => fail(`could not start ${bin}: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
    child.stdout.on('data', chunk => {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).trim();
        buffer = buffer.slice(nl + 1);
        const kv = /^([A-Z_]+)=(.*)$/.exec(line);
        if (kv) found[kv[1]] = kv[2];
        const m = ready.exec(line);
        if (m) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          child.removeAllListeners('error');
          child.stdout.resume();
          resolve({ child, found, match: m, stderr: () => stderr });
        }
      }
    });
  });
}

function stopper(child, cleanup) {
  let stopped = null;
  return () => {
    if (stopped) return stopped;
    stopped = new Promise(resolve => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const t = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      child.kill('SIGTERM');
    }).then(() => cleanup && cleanup());
    return stopped;
  };
}

/**
 * `usher dev --listen 127.0.0.1:0 --data-dir <tmp>`; per-IP FAPI limits off unless `rateLimits`.
 * Returns `{ url, secretKey, publishableKey, bapi(), mailbox(), waitForCode(), createUser(), stop() }`.
 */
export async function startUsher({ args = [], env: extra = {}, rateLimits = false } = {}) {
  const bin = process.env.USHER_BIN ?? join(repo, 'target', 'debug', 'usher');
  const dataDir = mkdtempSync(join(tmpdir(), 'usher-e2e-'));
  const env = { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn', ...extra };
  delete env.USHER_SECRET_KEY;
  delete env.USHER_DATABASE_URL;
  if (!rateLimits) env.USHER_FAPI_RATE_LIMIT = '0';
  else delete env.USHER_FAPI_RATE_LIMIT;
  let started;
  try {
    started = await spawnUntil(bin, ['dev', '--listen', '127.0.0.1:0', '--data-dir', dataDir, ...args], env,
      /listening on (https?:\/\/\S+)/, 'usher');
  } catch (e) {
    rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  const { child, found, match } = started;
  for (const k of ['CLERK_API_URL', 'CLERK_SECRET_KEY', 'PUBLIC_CLERK_PUBLISHABLE_KEY']) {
    if (!found[k]) throw new Error(`usher did not print ${k}=…`);
  }
  const url = match[1].replace(/\/$/, '');
  const secretKey = found.CLERK_SECRET_KEY;
  const usher = {
    url,
    apiUrl: found.CLERK_API_URL,
    secretKey,
    publishableKey: found.PUBLIC_CLERK_PUBLISHABLE_KEY,
    stderr: started.stderr,
    stop: stopper(child, () => rmSync(dataDir, { recursive: true, force: true })),
    /** A Backend API call with the secret key; throws on a non-2xx answer. */
    async bapi(method, path, body) {
      const res = await fetch(`${url}${path}`, {
        method,
        headers: { authorization: `Bearer ${secretKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`BAPI ${method} ${path}: ${res.status} ${text}`);
      return text ? JSON.parse(text) : null;
    },
    /** The dev mailbox, newest first: `[{to, subject, text, code}]`. */
    async mailbox() {
      const res = await fetch(`${url}/dev/mailbox.json`);
      if (!res.ok) throw new Error(`GET /dev/mailbox.json: ${res.status}`);
      return res.json();
    },
    /** How many messages `to` has received so far (pass to waitForCode as `after`). */
    async mailCount(to) {
      return (await usher.mailbox()).filter(m => m.to === to).length;
    },
    /** Waits for message number `after + 1` to `to` and returns its code. */
    async waitForCode(to, after = 0) {
      let code;
      await waitFor(async () => {
        const mine = (await usher.mailbox()).filter(m => m.to === to);
        if (mine.length > after && mine[0].code) code = mine[0].code;
        return !!code;
      }, { message: `no code mailed to ${to}` });
      return code;
    },
    async createUser({ email = uniqueEmail(), password = PASSWORD, firstName } = {}) {
      const user = await usher.bapi('POST', '/v1/users', { email_address: [email], password, first_name: firstName });
      return { id: user.id, email, password };
    },
  };
  return usher;
}

/** The example app (`usher-example-endpoints --listen 127.0.0.1:0`) pointed at `usher`. */
export async function startExample(usher) {
  const bin = process.env.USHER_EXAMPLE_BIN ?? join(repo, 'target', 'debug', 'usher-example-endpoints');
  const env = {
    ...process.env,
    RUST_LOG: 'warn',
    CLERK_API_URL: usher.apiUrl,
    CLERK_SECRET_KEY: usher.secretKey,
    PUBLIC_CLERK_PUBLISHABLE_KEY: usher.publishableKey,
  };
  delete env.CLERK_JWT_KEY;
  delete env.PUBLIC_CLERK_SIGN_IN_URL;
  const { child, match } = await spawnUntil(bin, ['--listen', '127.0.0.1:0'], env, /listening on (https?:\/\/\S+)/, 'example app');
  return { url: match[1].replace(/\/$/, ''), stop: stopper(child) };
}

const json = v => JSON.stringify(v).replace(/</g, '\\u003c');

/** The bodies of the pages the page server hosts (all of them load usher.js). */
const PAGES = {
  '/': `<h1>Home</h1>
    <p>auth: <span id="auth-state"></span></p>
    <usher-signed-in><p id="signed-in-text">You are signed in</p></usher-signed-in>
    <usher-signed-out><p id="signed-out-text">You are signed out</p></usher-signed-out>
    <usher-protect id="protect-plain"><p id="protected">secret</p><p slot="fallback" id="protect-fallback">please sign in</p></usher-protect>
    <usher-protect id="protect-admin" role="org:admin"><p id="admin-only">admins</p><p slot="fallback" id="admin-fallback">not an admin</p></usher-protect>
    <script>
      addEventListener('DOMContentLoaded', () => usher.$authStore.subscribe(a => {
        document.getElementById('auth-state').textContent = a.userId || '';
      }));
    </script>`,
  '/sign-in': '<usher-sign-in></usher-sign-in>',
  '/sign-up': '<usher-sign-up></usher-sign-up>',
  '/user': '<usher-user-profile></usher-user-profile>',
  '/after': '<h1 id="after">After sign-in</h1><p id="after-user"></p>',
};

/** `/usher.js` and `/usher/<module>.js` as files of web/ (nothing outside web/usher/). */
function scriptFile(path) {
  if (path === '/usher.js') return join(repo, 'web', 'usher.js');
  if (!/^\/usher\/[\w/-]+\.js$/.test(path) || path.includes('//')) return null;
  const file = join(repo, 'web', path);
  return existsSync(file) ? file : null;
}

const SIGNED_OUT = { userId: null, sessionId: null, orgId: null, orgRole: null, orgSlug: null, orgPermissions: null };

/** `?state=signed-out` adds a server-side initial state (`__USHER_STATE__`) to the page. */
function page(body, options, query) {
  const initial = query.get('state') === 'signed-out'
    ? `<script id="__USHER_STATE__" type="application/json">${json(SIGNED_OUT)}</script>` : '';
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>usher e2e</title>
<script id="__USHER_OPTIONS__" type="application/json">${json(options)}</script>${initial}</head>
<body><header style="display:flex;justify-content:flex-end;gap:1rem;padding:.5rem">
<usher-signed-in><usher-user-button></usher-user-button><usher-sign-out-button></usher-sign-out-button></usher-signed-in>
<usher-signed-out><usher-sign-in-button></usher-sign-in-button><usher-sign-up-button></usher-sign-up-button></usher-signed-out>
</header><main>${body}</main><script type="module" src="/usher.js"></script></body></html>`;
}

/**
 * A third origin hosting pages that use the components, served with the current web/usher.js and
 * the modules under web/usher/ (so the tests exercise this checkout's files, not the copies
 * compiled into the binary).
 */
export async function startPages(usher, extraOptions = {}, { host = '127.0.0.1' } = {}) {
  let base;
  const options = () => ({
    frontendApi: usher.url,
    publishableKey: usher.publishableKey,
    signInUrl: `${base}/sign-in`,
    signUpUrl: `${base}/sign-up`,
    userProfileUrl: `${base}/user`,
    afterSignInUrl: `${base}/after`,
    afterSignUpUrl: `${base}/after`,
    afterSignOutUrl: `${base}/`,
    ...extraOptions,
  });
  const server = createServer((req, res) => {
    const { pathname: path, searchParams } = new URL(req.url, 'http://x');
    const script = scriptFile(path);
    if (script) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(readFileSync(script));
    }
    if (PAGES[path] !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(page(PAGES[path], options(), searchParams));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise(r => server.listen(0, '127.0.0.1', r));
  // `host: 'localhost'` opens the pages by name (WebAuthn refuses IP addresses).
  base = `http://${host}:${server.address().port}`;
  return {
    url: base,
    stop: () => new Promise(r => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}

const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run', '--disable-quic'];

/** Debian's Chromium with the flags of DEVELOPERS.md, plus `extraArgs`. */
export async function launch(extraArgs = []) {
  return chromium.launch({ executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium', args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/**
 * Chromium with a profile of its own in `userDataDir` (the same flags plus `extraArgs`): a
 * regular profile, as a person's browser is, where `browser.newContext()` gives an incognito-like
 * one (which blocks third-party cookies). Its one context is returned; closing it ends the browser.
 */
export async function launchProfile(userDataDir, extraArgs = []) {
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

/** A browser context whose console errors and page errors are collected (and printed on failure). */
export async function newContext(browser, opts = {}) {
  return watchContext(await browser.newContext(opts));
}
/** `context` with console errors and page errors collected into `context.logs`. */
export function watchContext(context) {
  context.setDefaultTimeout(15_000);
  context.logs = [];
  context.on('page', p => watch(p, context.logs));
  return context;
}
function watch(p, logs) {
  p.on('console', m => {
    if (m.type() === 'error' || m.type() === 'warning') logs.push(`[${m.type()}] ${m.text()}`);
  });
  p.on('pageerror', e => logs.push(`[pageerror] ${e.message}`));
}

/** Polls `fn` until it returns a truthy value (no fixed sleeps in the tests). */
export async function waitFor(fn, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${message}${last ? `: ${last.message}` : ''}`);
    await new Promise(r => setTimeout(r, interval));
  }
}

export function uniqueEmail(prefix = 'user') {
  return `${prefix}-${randomBytes(4).toString('hex')}@example.com`;
}

/** The page's `__session` cookie value (or undefined). */
export async function sessionCookie(context, url) {
  return (await context.cookies(url)).find(c => c.name === '__session')?.value;
}

/** usher + page server + browser for one test file; `stop()` tears everything down. */
export async function stack({ usherOptions, pageOptions, example = false, byName = false } = {}) {
  const started = await startUsher(usherOptions);
  // `byName`: usher and the pages as http://localhost:PORT (what WebAuthn needs), one site for cookies.
  const usher = byName ? { ...started, url: started.url.replace('//127.0.0.1:', '//localhost:') } : started;
  const parts = { usher, browser: null, pages: null, example: null };
  try {
    parts.pages = await startPages(usher, pageOptions, { host: byName ? 'localhost' : '127.0.0.1' });
    if (example) parts.example = await startExample(usher);
    parts.browser = await launch();
  } catch (e) {
    await teardown(parts);
    throw e;
  }
  parts.stop = () => teardown(parts);
  return parts;
}
async function teardown({ usher, browser, pages, example }) {
  await Promise.allSettled([browser?.close(), pages?.stop(), example?.stop()]);
  await usher.stop();
}

/** Fills the hosted sign-in page (server-rendered: "Email address", "Password", "Continue"). */
export async function hostedSignIn(p, { email, password }) {
  await p.getByLabel('Email address').fill(email);
  await p.getByLabel('Password', { exact: true }).fill(password);
  await p.getByRole('button', { name: 'Continue' }).click();
}

/** Signs in through the <usher-sign-in> component on the page server. */
export async function componentSignIn(p, pagesUrl, { email, password }) {
  await p.goto(`${pagesUrl}/sign-in`);
  const form = p.locator('usher-sign-in');
  await form.getByLabel('Email address').fill(email);
  await form.getByLabel('Password', { exact: true }).fill(password);
  await form.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${pagesUrl}/after`);
  await waitForLoaded(p);
}

export async function waitForLoaded(p) {
  await p.waitForFunction(() => window.usher && window.usher.$isLoadedStore.get() === true);
}

// ---- A real OpenID Connect provider (tests/oidc/provider.mjs: panva's oidc-provider) ----

/** The strategy usher is configured with for the test provider, and the button's name. */
export const OIDC_STRATEGY = 'oauth_custom_testid';
export const OIDC_NAME = 'Test ID';

/**
 * Starts tests/oidc/provider.mjs on 127.0.0.1 (port 0). `configure(redirectUri)` registers usher's
 * callback as the client's redirect URI once usher is up. `accounts` are its test accounts:
 * `{ verified, unverified, newcomer }`, each `{ password, email, email_verified, … }`.
 */
export async function startOidcProvider({ env: extra = {} } = {}) {
  const script = join(repo, 'tests', 'oidc', 'provider.mjs');
  const secret = randomBytes(18).toString('hex');
  const env = { ...process.env, OIDC_CLIENT_SECRET: secret, ...extra };
  const child = spawn(process.execPath, [script], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', c => { stderr = (stderr + c).slice(-10_000); });
  const lines = [];
  let buffer = '';
  child.stdout.on('data', chunk => {
    buffer += chunk;
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      lines.push(buffer.slice(0, nl).trim());
      buffer = buffer.slice(nl + 1);
    }
  });
  const line = re => waitFor(() => lines.map(l => re.exec(l)).find(Boolean),
    { timeout: START_TIMEOUT_MS, message: `oidc provider line ${re}: ${stderr}` });
  const issuer = (await line(/^OIDC_ISSUER=(\S+)$/))[1];
  const accounts = JSON.parse((await line(/^OIDC_ACCOUNTS=(.*)$/))[1]);
  return {
    issuer,
    accounts,
    clientId: 'usher',
    secret,
    async configure(redirectUri) {
      child.stdin.write(`REDIRECT_URI=${redirectUri}\n`);
      await line(/^CONFIGURED=1$/);
    },
    stderr: () => stderr,
    stop: stopper(child),
  };
}

/** usher's arguments and environment for the test provider. */
export function oidcUsherOptions(oidc) {
  return {
    args: ['--oauth-provider',
      `strategy=${OIDC_STRATEGY},client_id=${oidc.clientId},issuer=${oidc.issuer},name=${OIDC_NAME}`],
    env: { [`USHER_${OIDC_STRATEGY.toUpperCase()}_CLIENT_SECRET`]: oidc.secret },
  };
}

/** `stack()` with the test provider configured in usher; `s.oidc` is the provider. */
export async function oidcStack(options = {}) {
  const oidc = await startOidcProvider();
  let s;
  try {
    s = await stack({ ...options, usherOptions: oidcUsherOptions(oidc) });
    await oidc.configure(`${s.usher.url}/v1/oauth_callback`);
  } catch (e) {
    await s?.stop();
    await oidc.stop();
    throw e;
  }
  s.oidc = oidc;
  const stop = s.stop;
  s.stop = async () => {
    await stop();
    await oidc.stop();
  };
  return s;
}

/** Signs in on the provider's own login and consent pages as `account` (`{ login, password }`). */
export async function providerSignIn(p, oidc, login) {
  await p.waitForURL(u => u.origin === oidc.issuer);
  await p.getByLabel('Login').fill(login);
  await p.getByLabel('Password').fill(oidc.accounts[login].password);
  await p.getByRole('button', { name: 'Sign in' }).click();
  await p.getByRole('button', { name: 'Allow' }).click();
}

/** A webhook receiver on 127.0.0.1 port 0 that answers 200 and keeps every delivery
 *  (`{headers, body}`) in `received`; `url` is its `/hook` address. */
export async function webhookReceiver() {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end();
    });
  });
  await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
  return { received, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => server.close() };
}

/** Whether a delivery carries a Svix `v1` signature made with the endpoint's `whsec_` secret. */
export function signedBy(secret, { headers, body }) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key)
    .update(`${headers['svix-id']}.${headers['svix-timestamp']}.${body}`)
    .digest('base64');
  return headers['svix-signature'].split(' ').includes(`v1,${expected}`);
}
