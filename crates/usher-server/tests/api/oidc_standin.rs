//! A small in-test **stand-in** for an OpenID Connect provider, for the error paths the Rust
//! tests drive (a wrong nonce, a foreign signing key, a wrong audience, a refused code, a
//! provider that went away). It is not a real provider: the end-to-end tests use panva's
//! certified `oidc-provider`. Discovery, JWKS, an authorize endpoint that approves the
//! configured account at once, and a token endpoint that checks the code, the client and PKCE.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{KeyPair as _, RSA_PKCS1_SHA256, RsaKeyPair},
};
use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use tokio::sync::oneshot;
use usher_server::ids;

pub const CLIENT_ID: &str = "usher-test";
pub const CLIENT_SECRET: &str = "stand-in-secret";

/// How the stand-in misbehaves, for one test.
#[derive(Debug, Clone, Default)]
pub struct Quirks {
    /// Put this nonce in the ID token instead of the one asked for.
    pub nonce: Option<String>,
    /// Sign ID tokens with a key the JWKS does not publish.
    pub foreign_key: bool,
    /// Put this `aud` in the ID token.
    pub aud: Option<String>,
    /// Refuse every code as expired (`invalid_grant`).
    pub codes_expired: bool,
    /// Act as a multi-tenant issuer (Microsoft's `common`): discovery names
    /// `<issuer>/{tenantid}/v2.0`, tokens carry this `tid` and `iss` `<issuer>/<iss_tenant>/v2.0`.
    pub tenant: Option<(String, String)>,
}

/// Who signs in at the stand-in.
#[derive(Debug, Clone)]
pub struct Account {
    pub sub: String,
    pub email: String,
    pub email_verified: bool,
    pub given_name: String,
}

struct Grant {
    sub: Account,
    nonce: Option<String>,
    challenge: String,
    redirect_uri: String,
}

struct Inner {
    issuer: String,
    key: RsaKeyPair,
    other_key: RsaKeyPair,
    account: Mutex<Account>,
    quirks: Mutex<Quirks>,
    codes: Mutex<HashMap<String, Grant>>,
    /// The keys were rotated: the JWKS publishes `other_key` (kid `standin-2`), which signs.
    rotated: std::sync::atomic::AtomicBool,
    /// How often discovery and the JWKS were fetched.
    discovery_hits: std::sync::atomic::AtomicUsize,
    jwks_hits: std::sync::atomic::AtomicUsize,
}

/// A running stand-in; dropping it stops it.
pub struct StandIn {
    pub issuer: String,
    inner: Arc<Inner>,
    stop: Option<oneshot::Sender<()>>,
}

impl Drop for StandIn {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl StandIn {
    pub async fn start(account: Account) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner {
            issuer: issuer.clone(),
            key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
            other_key: RsaKeyPair::generate(KeySize::Rsa2048).unwrap(),
            account: Mutex::new(account),
            quirks: Mutex::new(Quirks::default()),
            codes: Mutex::new(HashMap::new()),
            rotated: Default::default(),
            discovery_hits: Default::default(),
            jwks_hits: Default::default(),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            // Microsoft's multi-tenant discovery lives under its tenant alias.
            .route("/common/v2.0/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(inner.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Self { issuer, inner, stop: Some(stop) }
    }

    pub fn set_quirks(&self, quirks: Quirks) {
        *self.inner.quirks.lock().unwrap() = quirks;
    }

    /// Rotates the signing key: the JWKS publishes only the new one, which signs from now on.
    pub fn rotate_key(&self) {
        self.inner.rotated.store(true, std::sync::atomic::Ordering::SeqCst);
    }

    /// How many times discovery and the JWKS were fetched.
    pub fn hits(&self) -> (usize, usize) {
        let o = std::sync::atomic::Ordering::SeqCst;
        (self.inner.discovery_hits.load(o), self.inner.jwks_hits.load(o))
    }

    /// Who signs in from now on.
    pub fn set_account(&self, account: Account) {
        *self.inner.account.lock().unwrap() = account;
    }

    /// Stops answering (the provider is down).
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn discovery(State(s): State<Arc<Inner>>) -> Json<Value> {
    s.discovery_hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let i = &s.issuer;
    let named = match s.quirks.lock().unwrap().tenant {
        Some(_) => format!("{i}/{{tenantid}}/v2.0"),
        None => i.clone(),
    };
    Json(json!({
        "issuer": named,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks(State(s): State<Arc<Inner>>) -> Json<Value> {
    s.jwks_hits.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let rotated = s.rotated.load(std::sync::atomic::Ordering::SeqCst);
    let (public, kid) =
        if rotated { (s.other_key.public_key(), "standin-2") } else { (s.key.public_key(), "standin-1") };
    Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": kid,
        "n": URL_SAFE_NO_PAD.encode(public.modulus().big_endian_without_leading_zero()),
        "e": URL_SAFE_NO_PAD.encode(public.exponent().big_endian_without_leading_zero()),
    }]}))
}

/// Approves the configured account at once and sends the browser back with a code.
async fn authorize(State(s): State<Arc<Inner>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || q.get("code_challenge_method").map(String::as_str) != Some("S256")
        || q.get("response_type").map(String::as_str) != Some("code")
    {
        return (StatusCode::BAD_REQUEST, "bad authorize request").into_response();
    }
    let code = ids::random_base62(32);
    let redirect_uri = q["redirect_uri"].clone();
    let grant = Grant {
        sub: s.account.lock().unwrap().clone(),
        nonce: q.get("nonce").cloned(),
        challenge: q.get("code_challenge").cloned().unwrap_or_default(),
        redirect_uri: redirect_uri.clone(),
    };
    s.codes.lock().unwrap().insert(code.clone(), grant);
    let state = q.get("state").cloned().unwrap_or_default();
    let mut url = url::Url::parse(&redirect_uri).unwrap();
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", &state);
    Redirect::to(url.as_str()).into_response()
}

async fn token(
    State(s): State<Arc<Inner>>,
    headers: axum::http::HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let refuse = |error: &str| (StatusCode::BAD_REQUEST, Json(json!({"error": error}))).into_response();
    // client_secret_basic (what openidconnect sends by default) or client_secret_post.
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok());
    let post = format!(
        "{}:{}",
        f.get("client_id").cloned().unwrap_or_default(),
        f.get("client_secret").cloned().unwrap_or_default()
    );
    if basic.as_deref() != Some(&format!("{CLIENT_ID}:{CLIENT_SECRET}"))
        && post != format!("{CLIENT_ID}:{CLIENT_SECRET}")
    {
        return refuse("invalid_client");
    }
    let quirks = s.quirks.lock().unwrap().clone();
    let Some(grant) = s.codes.lock().unwrap().remove(f.get("code").map_or("", String::as_str)) else {
        return refuse("invalid_grant");
    };
    if quirks.codes_expired {
        return refuse("invalid_grant");
    }
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(ids::sha256(verifier.as_bytes())) != grant.challenge
        || f.get("redirect_uri") != Some(&grant.redirect_uri)
    {
        return refuse("invalid_grant");
    }
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let (iss, tid) = match &quirks.tenant {
        Some((tid, iss_tenant)) => (format!("{}/{iss_tenant}/v2.0", s.issuer), Some(tid.clone())),
        None => (s.issuer.clone(), None),
    };
    let claims = json!({
        "iss": iss,
        "tid": tid,
        "sub": grant.sub.sub,
        "aud": quirks.aud.unwrap_or_else(|| CLIENT_ID.to_owned()),
        "iat": now,
        "exp": now + 300,
        "nonce": quirks.nonce.or(grant.nonce),
        "email": grant.sub.email,
        "email_verified": grant.sub.email_verified,
        "given_name": grant.sub.given_name,
    });
    let rotated = s.rotated.load(std::sync::atomic::Ordering::SeqCst);
    let key = if quirks.foreign_key || rotated { &s.other_key } else { &s.key };
    let kid = if rotated { "standin-2" } else { "standin-1" };
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": "RS256", "kid": kid, "typ": "JWT"}).to_string());
    let body = URL_SAFE_NO_PAD.encode(claims.to_string());
    let input = format!("{header}.{body}");
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).unwrap();
    let id_token = format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature));
    Json(json!({
        "access_token": format!("standin-access-{}", ids::random_base62(16)),
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "openid email profile",
        "id_token": id_token,
    }))
    .into_response()
}
