// Starts a real `usher dev` on a fresh data directory and port 0, and stops it again.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function startUsher() {
  const bin = process.env.USHER_BIN ?? join(repo, 'target', 'debug', 'usher');
  const dataDir = mkdtempSync(join(tmpdir(), 'usher-node-'));
  const env = { ...process.env, RUST_LOG: 'warn' };
  delete env.USHER_SECRET_KEY;
  delete env.USHER_DATABASE_URL;
  const child = spawn(bin, ['dev', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', chunk => (stderr += chunk));
  const values = await new Promise((resolve, reject) => {
    const found = {};
    let buffer = '';
    const timer = setTimeout(() => reject(new Error(`usher did not start in 30 s: ${stderr}`)), 30_000);
    child.on('exit', code => reject(new Error(`usher exited with ${code}: ${stderr}`)));
    child.stdout.on('data', chunk => {
      buffer += chunk;
      let newline;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const [key, ...rest] = line.split('=');
        if (rest.length) found[key] = rest.join('=');
        if (line.includes('listening on http://')) {
          clearTimeout(timer);
          resolve(found);
        }
      }
    });
  });
  return {
    apiUrl: values.CLERK_API_URL,
    secretKey: values.CLERK_SECRET_KEY,
    publishableKey: values.PUBLIC_CLERK_PUBLISHABLE_KEY,
    async stop() {
      child.removeAllListeners('exit');
      child.kill('SIGTERM');
      await new Promise(resolve => (child.exitCode !== null ? resolve() : child.once('exit', resolve)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Decodes a compact JWT without verifying it. */
export function decodeJwt(jwt) {
  const [header, payload] = jwt.split('.').slice(0, 2).map(part => JSON.parse(Buffer.from(part, 'base64url').toString()));
  return { header, payload };
}
