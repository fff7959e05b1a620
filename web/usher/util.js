// Small helpers shared by the modules. No DOM access: importable in Node.

export const noop = () => {};

/** Calls a listener; one faulty page callback must not break the others or our own state. */
export function safely(fn, ...args) {
  try {
    fn(...args);
  } catch (e) {
    console.error(e);
  }
}

export const enc = encodeURIComponent;
export const sleep = ms => new Promise(r => setTimeout(r, ms));
export const toDate = v => (typeof v === 'number' ? new Date(v) : v ? new Date(v) : null);
const snakeKey = k => k.replace(/[A-Z]/g, c => '_' + c.toLowerCase());
const camelKey = k => k.replace(/_([a-z])/g, (_, c) => c.toUpperCase());

/** Plain data from the server in camelCase (for nested objects such as factors and verifications). */
export function camel(v) {
  if (Array.isArray(v)) return v.map(camel);
  if (!v || typeof v !== 'object') return v;
  const out = {};
  for (const [k, x] of Object.entries(v)) out[camelKey(k)] = k.endsWith('_metadata') ? x : camel(x);
  return out;
}

/** Method parameters in the snake_case the Frontend API expects; null/undefined dropped. */
export function snake(p) {
  const out = {};
  for (const [k, v] of Object.entries(p || {})) if (v !== undefined && v !== null) out[snakeKey(k)] = v;
  return out;
}

/** The JWT payload, or null. Only read for `exp`/`iat` and sessionClaims: never trusted for security. */
export function decodeJwt(jwt) {
  try {
    const part = jwt.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(part + '='.repeat((4 - (part.length % 4)) % 4));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(bin, c => c.charCodeAt(0))));
  } catch (e) {
    return null; // not a JWT: no claims
  }
}
