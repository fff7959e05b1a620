// @clerk/backend's authenticateRequest on a list of distinct session tokens, one process (one
// core), for the same tokens the Rust benchmark verifies. Prints verifications per second.
import { readFileSync } from 'node:fs';
import { createClerkClient } from '@clerk/backend';

const { CLERK_API_URL: apiUrl, CLERK_SECRET_KEY: secretKey, PUBLIC_CLERK_PUBLISHABLE_KEY: publishableKey, TOKENS_FILE } = process.env;
const tokens = readFileSync(TOKENS_FILE, 'utf8').trim().split('\n');
const clerk = createClerkClient({ apiUrl, secretKey, publishableKey, telemetry: { disabled: true } });
const check = async token => {
  const state = await clerk.authenticateRequest(new Request('http://localhost:4321/api/route', { headers: { Authorization: `Bearer ${token}` } }));
  if (!state.isAuthenticated) throw new Error(`not authenticated: ${state.reason}`);
};
await check(tokens[0]); // fetches and caches the JWKS
const started = performance.now();
for (const token of tokens) await check(token);
const seconds = (performance.now() - started) / 1000;
console.log(JSON.stringify({ perSecond: tokens.length / seconds }));
