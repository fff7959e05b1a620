// The Frontend API: one fetch per call, Clerk's `{response, client}` envelope, and Clerk's error
// bodies turned into UsherError. No DOM access: importable in Node (fetch is passed in).

export class UsherError extends Error {
  constructor(message, { errors = [], status = 0, retryAfter, clerkTraceId } = {}) {
    super(message);
    // clerkError: what Clerk's isClerkAPIResponseError() looks for.
    Object.assign(this, { name: 'UsherError', errors, status, retryAfter, clerkTraceId, clerkError: true });
  }
}

/** Clerk's error entries carry camelCase twins (longMessage, meta.paramName) in clerk-js. */
export function normError(e) {
  const meta = Object.assign({}, e.meta || {});
  if (meta.param_name && !meta.paramName) meta.paramName = meta.param_name;
  return Object.assign({}, e, { longMessage: e.long_message || e.longMessage, meta });
}

/** x-www-form-urlencoded; arrays as repeated fields, objects (metadata) as JSON, null/undefined dropped. */
export function encodeForm(params) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {})) {
    if (Array.isArray(v)) for (const item of v) body.append(k, String(item));
    else if (v != null) body.append(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  return body;
}

/**
 * Returns `fapi(method, path, params, {raw})` for the Frontend API at `frontendApi`.
 * Clerk's conventions: form bodies, methods other than GET/POST tunnelled as POST with `_method`
 * (no CORS preflight, which also keeps Safari happy), cookies included. The envelope's `client`
 * goes to `onClient(client | null)`, so callers only deal with the `response`;
 * `{raw: true}` returns the whole body instead. Every 401 is reported to `onUnauthorized(path)`.
 * `t` supplies the (localized) network error message.
 */
export function createFapi({ frontendApi, fetch, t, onClient, onUnauthorized }) {
  return async function fapi(method, path, params, opts = {}) {
    const url = new URL(frontendApi + '/v1' + path);
    if (method !== 'GET' && method !== 'POST') url.searchParams.set('_method', method);
    const init = { method: method === 'GET' ? 'GET' : 'POST', credentials: 'include' };
    if (init.method === 'POST') init.body = encodeForm(params);
    let res;
    try {
      res = await fetch(url.href, init);
    } catch (e) {
      const msg = t('unstable__errors.network_error');
      const longMessage = String(e && e.message);
      throw new UsherError(msg, { errors: [{ code: 'network_error', message: msg, longMessage, meta: {} }] });
    }
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (e) {
      /* not JSON (a proxy's error page): handled as an error without details below */
    }
    if (!res.ok) {
      const errors = (json && Array.isArray(json.errors) ? json.errors : []).map(normError);
      if (!errors.length) {
        const code = res.status === 429 ? 'too_many_requests' : 'unexpected';
        errors.push({ code, message: `HTTP ${res.status}`, meta: {} });
      }
      const ra = parseInt(res.headers.get('Retry-After') || '', 10);
      const err = new UsherError(errors[0].longMessage || errors[0].message, {
        errors, status: res.status, retryAfter: Number.isFinite(ra) ? ra : undefined,
        clerkTraceId: json && json.clerk_trace_id,
      });
      if (res.status === 401) onUnauthorized(path);
      throw err;
    }
    if (opts.raw) return json;
    if (json && typeof json === 'object' && !Array.isArray(json) && 'response' in json) {
      // A null client only means "signed out" on /client paths; elsewhere it may just be omitted.
      if (json.client) onClient(json.client);
      else if ('client' in json && json.client === null && path.startsWith('/client')) onClient(null);
      return json.response;
    }
    return json;
  };
}
