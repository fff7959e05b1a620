// Test helpers: start a real `usher dev` on a fresh data directory and port 0, a Clerk client for it,
// and small JWT/error utilities. Not a test file itself (no `.test.` in the name).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import { createClerkClient } from '@clerk/backend';
import { isClerkAPIResponseError } from '@clerk/backend/errors';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const START_TIMEOUT_MS = 60_000;

/**
 * Spawns `$USHER_BIN dev --data-dir <tmp> --listen 127.0.0.1:0` and waits for its `listening on` line.
 * Returns `{ apiUrl, secretKey, publishableKey, stop() }`.
 */
export async function startUsher(extraEnv = {}) {
  const bin = process.env.USHER_BIN ?? join(repo, 'target', 'debug', 'usher');
  const dataDir = mkdtempSync(join(tmpdir(), 'usher-node-'));
  const env = { ...process.env, RUST_LOG: 'warn', ...extraEnv };
  // Settings from the developer's shell must not leak into the test server.
  delete env.USHER_SECRET_KEY;
  delete env.USHER_DATABASE_URL;
  const child = spawn(bin, ['dev', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', chunk => (stderr += chunk));

  let values;
  try {
    values = await new Promise((resolve, reject) => {
      const found = {};
      let buffer = '';
      const timer = setTimeout(
        () => reject(new Error(`usher (${bin}) printed no "listening on" line within ${START_TIMEOUT_MS} ms\nstderr:\n${stderr}`)),
        START_TIMEOUT_MS,
      );
      child.once('error', err => {
        clearTimeout(timer);
        reject(new Error(`could not start ${bin}: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`usher exited early (code ${code}, signal ${signal})\nstderr:\n${stderr}`));
      });
      child.stdout.on('data', chunk => {
        buffer += chunk;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          const match = /^([A-Z_]+)=(.*)$/.exec(line);
          if (match) found[match[1]] = match[2];
          if (line.includes('listening on http://')) {
            clearTimeout(timer);
            resolve(found);
          }
        }
      });
    });
  } catch (err) {
    child.kill('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  for (const key of ['CLERK_API_URL', 'CLERK_SECRET_KEY', 'PUBLIC_CLERK_PUBLISHABLE_KEY']) {
    assert.ok(values[key], `usher did not print ${key}=…`);
  }

  return {
    apiUrl: values.CLERK_API_URL,
    secretKey: values.CLERK_SECRET_KEY,
    publishableKey: values.PUBLIC_CLERK_PUBLISHABLE_KEY,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve));
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The official client pointed at a started usher. */
export function clerkFor(usher, options = {}) {
  return createClerkClient({
    secretKey: usher.secretKey,
    apiUrl: usher.apiUrl,
    telemetry: { disabled: true },
    ...options,
  });
}

/** Plain `fetch` against the Backend API with the secret key, as @clerk/backend would send it. */
export function bapi(usher, path, init = {}) {
  return fetch(`${usher.apiUrl}/v1${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${usher.secretKey}`, 'Content-Type': 'application/json', ...init.headers },
  });
}

/** Decodes a compact JWT without verifying it. */
export function decodeJwt(jwt) {
  const parts = jwt.split('.');
  assert.equal(parts.length, 3, 'a compact JWS has three parts');
  const [header, payload] = parts.slice(0, 2).map(part => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/**
 * An `assert.rejects` validator for a `ClerkAPIResponseError` with the given status and error code.
 * `status` may be a number or a predicate; `code` a string or RegExp. Every error must carry a message and a trace id.
 */
export function apiError(status, code) {
  return err => {
    const detail = `${err}: status ${err?.status} ${JSON.stringify(err?.errors)}`;
    assert.ok(isClerkAPIResponseError(err), `not a ClerkAPIResponseError: ${detail}`);
    if (typeof status === 'function') assert.ok(status(err.status), detail);
    else assert.equal(err.status, status, detail);
    assert.ok(Array.isArray(err.errors) && err.errors.length > 0, `errors[] is empty: ${detail}`);
    if (code instanceof RegExp) assert.match(err.errors[0].code, code, detail);
    else if (code !== undefined) assert.equal(err.errors[0].code, code, detail);
    assert.equal(typeof err.errors[0].message, 'string', detail);
    assert.ok(err.errors[0].message.length > 0, detail);
    assert.equal(typeof err.clerkTraceId, 'string', detail);
    assert.ok(err.clerkTraceId.length > 0, `clerk_trace_id is missing: ${detail}`);
    return true;
  };
}

export const is4xx = status => status >= 400 && status < 500;

/** Waits until the millisecond clock has moved on, so consecutive creations get distinct `created_at`. */
export async function nextMillisecond() {
  const start = Date.now();
  while (Date.now() <= start + 1) await new Promise(resolve => setTimeout(resolve, 2));
}
