// Starts examples/astro (built by `npm run build` there) against a `usher dev` started with
// `--live-keys` and the pinned Clerk bundles (`scripts/clerk-js-assets target/clerk-js`), and a
// browser context that fails the test if the page ever asks a host other than 127.0.0.1.
// Not a test file itself.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { repo, startUsher, launch, launchProfile, newContext, watchContext, waitFor } from './harness.mjs';

const appDir = join(repo, 'examples', 'astro');
export const clerkJsDir = process.env.USHER_CLERK_JS_DIR ?? join(repo, 'target', 'clerk-js');

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/**
 * `usher dev --live-keys true --clerk-js-dir …` (+ `args`), the Astro app on a free port, Chromium.
 * `liveKeys: false` keeps usher dev's default `pk_test_` keys (a development instance).
 * `direct: { cert, key }` (PEM files): usher serves HTTPS with them and the app has no proxy
 * (clerk-js and @clerk/backend reach `https://<key host>` themselves); the app is opened as
 * `http://localhost:PORT`, another site than usher's `https://127.0.0.1:PORT`.
 */
export async function astroStack({ args = [], liveKeys = true, direct } = {}) {
  const entry = join(appDir, 'dist', 'server', 'entry.mjs');
  if (!existsSync(entry)) throw new Error(`build the example first: cd examples/astro && npm ci && npm run build`);
  if (!existsSync(join(clerkJsDir, 'clerk-js', 'clerk.browser.js')) || !existsSync(join(clerkJsDir, 'ui', 'ui.browser.js'))) {
    throw new Error(`fetch the pinned bundles first: scripts/clerk-js-assets ${clerkJsDir}`);
  }
  const tlsArgs = direct ? ['--tls-cert', direct.cert, '--tls-key', direct.key] : [];
  const usher = await startUsher({ args: ['--live-keys', String(liveKeys), '--clerk-js-dir', clerkJsDir, ...tlsArgs, ...args] });
  const port = await freePort();
  const url = `http://${direct ? 'localhost' : '127.0.0.1'}:${port}`;
  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    PORT: String(port),
    CLERK_SECRET_KEY: usher.secretKey,
    PUBLIC_CLERK_PUBLISHABLE_KEY: usher.publishableKey,
    CLERK_API_URL: usher.apiUrl,
    CLERK_FAPI_URL: usher.url,
    PUBLIC_CLERK_PROXY_URL: '/clerk',
    PUBLIC_CLERK_SIGN_IN_URL: '/sign-in',
    PUBLIC_CLERK_SIGN_UP_URL: '/sign-up',
    PUBLIC_CLERK_TELEMETRY_DISABLED: '1',
    CLERK_TELEMETRY_DISABLED: '1',
  };
  if (direct) {
    // No proxy: the Frontend API is wherever the publishable key says, over https.
    delete env.CLERK_FAPI_URL;
    delete env.PUBLIC_CLERK_PROXY_URL;
    // @clerk/backend fetches the JWKS and the handshake payload from usher: trust its certificate.
    env.NODE_EXTRA_CA_CERTS = direct.cert;
  }
  const app = spawn(process.execPath, [entry], { env, cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let appLog = '';
  app.stdout.on('data', c => { appLog = (appLog + c).slice(-20_000); });
  app.stderr.on('data', c => { appLog = (appLog + c).slice(-20_000); });
  let browser;
  // Direct mode: each context is a browser with a profile directory of its own.
  const profiles = [];
  const stop = async () => {
    await browser?.close().catch(() => {});
    for (const p of profiles.filter(p => typeof p !== 'string')) await p.close().catch(() => {});
    for (const p of profiles.filter(p => typeof p === 'string')) rmSync(p, { recursive: true, force: true });
    if (app.exitCode === null && app.signalCode === null) {
      const exited = new Promise(r => app.once('exit', r));
      app.kill('SIGTERM');
      await exited;
    }
    await usher.stop();
  };
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/api/route`)).status === 401, { timeout: 30_000, message: `the Astro app on ${url}\n${appLog}` });
    if (!direct) browser = await launch();
  } catch (e) {
    await stop();
    throw e;
  }
  const foreign = [];
  /** A context whose requests to any host but 127.0.0.1 are aborted and recorded in `foreign`. */
  const context = async () => {
    let ctx;
    if (direct) {
      // A regular profile: the incognito-like contexts of `newContext` block third-party
      // cookies, which the cross-site `__client` cookie is (see docs/clerk-js.md).
      const dir = mkdtempSync(join(tmpdir(), 'usher-profile-'));
      profiles.push(dir);
      // This Chromium blocks third-party cookies by default; the profile allows them, as
      // Chrome's own default does (cookie_controls_mode 0: allow).
      mkdirSync(join(dir, 'Default'));
      writeFileSync(join(dir, 'Default', 'Preferences'), JSON.stringify({ profile: { cookie_controls_mode: 0, block_third_party_cookies: false } }));
      ctx = watchContext(await launchProfile(dir, ['--ignore-certificate-errors']));
      profiles.push(ctx);
    } else {
      ctx = await newContext(browser);
    }
    await ctx.route(u => u.hostname !== '127.0.0.1' && u.hostname !== 'localhost', route => {
      foreign.push(route.request().url());
      return route.abort();
    });
    return ctx;
  };
  return { usher, url, browser, context, foreign, stop, appLog: () => appLog };
}

/** `<SignIn/>` with a password: identifier, Continue, password, Continue. */
export async function signInWithPassword(p, url, { email, password }) {
  await p.goto(`${url}/sign-in`);
  await p.locator('input[name=identifier]').fill(email);
  await p.getByRole('button', { name: 'Continue', exact: true }).click();
  await p.locator('input[name=password]').fill(password);
  await p.getByRole('button', { name: 'Continue', exact: true }).click();
  await p.waitForURL(`${url}/`);
}

/** What the home page says about the user: the server-rendered id and the client store's. */
export async function whoAmI(p) {
  await p.waitForFunction(() => document.getElementById('client-user')?.textContent !== 'loading');
  return { server: await p.textContent('#server-user'), client: await p.textContent('#client-user') };
}
