// A real OpenID Connect provider for the browser tests: panva's certified `oidc-provider`, on
// 127.0.0.1 (port 0), with one confidential client for usher and a few test accounts. Its login
// and consent pages are its own interaction pages (below), which check the account's password.
//
// Protocol with the test that starts it (`node provider.mjs`):
//   stdout: `OIDC_ISSUER=http://127.0.0.1:<port>` then `listening on http://127.0.0.1:<port>`
//   stdin:  one line `REDIRECT_URI=<usher's /v1/oauth_callback>` once usher is up (usher needs the
//           issuer to start, the client needs usher's address): until then every request is 503.
// Test accounts: ACCOUNTS below (also printed as `OIDC_ACCOUNTS=<json>`).
import { createServer } from 'node:http';
import { createInterface } from 'node:readline';
import { randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

export const CLIENT_ID = 'usher';
export const CLIENT_SECRET = process.env.OIDC_CLIENT_SECRET ?? 'usher-test-client-secret';

/** login → account; `email_verified` differs so linking by verified address can be tested. */
const ACCOUNTS = {
  verified: {
    password: 'provider-pass-verified-1',
    claims: { email: 'verified@oidc.test', email_verified: true, given_name: 'Vera', family_name: 'Fied' },
  },
  unverified: {
    password: 'provider-pass-unverified-1',
    claims: { email: 'unverified@oidc.test', email_verified: false, given_name: 'Una', family_name: 'Verified' },
  },
  newcomer: {
    password: 'provider-pass-newcomer-1',
    claims: { email: 'newcomer@oidc.test', email_verified: true, given_name: 'Nell', family_name: 'Comer' },
  },
  component: {
    password: 'provider-pass-component-1',
    claims: { email: 'component@oidc.test', email_verified: true, given_name: 'Cora', family_name: 'Ponent' },
  },
};
for (const [login, a] of Object.entries(ACCOUNTS)) {
  const over = process.env[`OIDC_EMAIL_${login.toUpperCase()}`];
  if (over) a.claims.email = over;
}

const escape = s => String(s).replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('form too large');
  }
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

/** The provider's login and consent pages, on the interaction API. */
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Error', '<p>Unknown interaction.</p>'));
  const { prompt, params } = details;
  const loginForm = error => page('Sign in to the test provider', `
    ${error ? `<p role="alert">${escape(error)}</p>` : ''}
    <p>Signing in to <b>${escape(params.client_id)}</b></p>
    <form method="post" action="/interaction/${escape(uid)}/login">
      <label>Login <input name="login" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>`);
  if (req.method === 'GET' && !action) {
    if (prompt.name === 'login') return send(res, 200, loginForm());
    const scopes = (prompt.details.missingOIDCScope ?? []).filter(s => s !== 'openid');
    return send(res, 200, page('Authorize usher', `
      <p><b>${escape(params.client_id)}</b> asks for: ${scopes.map(escape).join(', ') || 'your account'}</p>
      <form method="post" action="/interaction/${escape(uid)}/confirm"><button type="submit">Allow</button></form>
      <form method="post" action="/interaction/${escape(uid)}/abort"><button type="submit">Deny</button></form>`));
  }
  if (req.method !== 'POST') return send(res, 405, page('Error', '<p>Method not allowed.</p>'));
  const form = await readForm(req);
  if (action === 'login') {
    const login = form.get('login') ?? '';
    const account = Object.hasOwn(ACCOUNTS, login) ? ACCOUNTS[login] : null;
    if (!account || account.password !== form.get('password')) {
      return send(res, 200, loginForm('Wrong login or password.'));
    }
    return provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  }
  if (action === 'confirm') {
    const accountId = details.session?.accountId;
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId, clientId: params.client_id });
    if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
    if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
    const grantId = await grant.save();
    return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }
  if (action === 'abort') {
    return provider.interactionFinished(req, res, {
      error: 'access_denied', error_description: 'The person denied the request.',
    }, { mergeWithLastSubmission: false });
  }
  return send(res, 404, page('Error', '<p>Not found.</p>'));
}

let provider = null;
const server = createServer(async (req, res) => {
  try {
    if (!provider) return send(res, 503, page('Starting', '<p>Not configured yet.</p>'));
    const m = /^\/interaction\/([\w-]+)(?:\/(login|confirm|abort))?$/.exec(new URL(req.url, 'http://x').pathname);
    if (m) return await interaction(provider, req, res, m[1], m[2]);
    return provider.callback()(req, res);
  } catch (e) {
    console.error(e);
    if (!res.headersSent) send(res, 500, page('Error', '<p>Internal error.</p>'));
  }
});

await new Promise(r => server.listen(0, '127.0.0.1', r));
const issuer = `http://127.0.0.1:${server.address().port}`;

function configure(redirectUri) {
  provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      redirect_uris: [redirectUri],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    }],
    // The ID token carries the email and profile claims (as Google's does), not only userinfo.
    conformIdTokenClaims: false,
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['given_name', 'family_name', 'name'],
    },
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    async findAccount(_ctx, sub) {
      if (!Object.hasOwn(ACCOUNTS, sub)) return undefined;
      const { claims } = ACCOUNTS[sub];
      return {
        accountId: sub,
        claims: async () => ({ sub, ...claims, name: `${claims.given_name} ${claims.family_name}` }),
      };
    },
  });
  // Plain http on loopback: tell koa it is not behind a TLS proxy (cookies without `secure`).
  provider.proxy = false;
}

process.stdout.write(`OIDC_ISSUER=${issuer}\n`);
process.stdout.write(`OIDC_ACCOUNTS=${JSON.stringify(Object.fromEntries(
  Object.entries(ACCOUNTS).map(([login, a]) => [login, { password: a.password, ...a.claims }])))}\n`);
process.stdout.write(`listening on ${issuer}\n`);

const lines = createInterface({ input: process.stdin });
lines.on('line', line => {
  const m = /^REDIRECT_URI=(\S+)$/.exec(line.trim());
  if (m && !provider) {
    configure(m[1]);
    process.stdout.write('CONFIGURED=1\n');
  }
});
lines.on('close', () => server.close());
process.on('SIGTERM', () => process.exit(0));
