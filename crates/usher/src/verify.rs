//! Networkless verification of session tokens.
//!
//! Keys come from the instance's JWKS (`{api_url}/v1/jwks`, fetched once, cached for an hour,
//! refetched at most once per `refetch_interval` when a token names an unknown `kid`) or from a
//! PEM given as `CLERK_JWT_KEY`, with no network at all. Only RS256 is accepted; `exp`, `nbf`
//! and `iat` are checked with an explicit leeway; template tokens (another `cat`), tokens
//! without `sid`, tokens whose `azp` is not an authorized party, tokens from another issuer
//! (when [`Verifier::issuer_host`] is set) and pending sessions are refused. The claims are read
//! by the names and types of [`usher_types::token::SessionTokenClaims`], the struct the server
//! mints. Nothing here is
//! specific to usher: the same checks accept Clerk's own tokens.

use std::{
    borrow::Cow,
    collections::{HashMap, VecDeque},
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use aws_lc_rs::{
    encoding::{AsDer, PublicKeyX509Der},
    rsa::PublicKeyComponents,
    signature::{self, ParsedPublicKey},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde::Deserialize;
use serde_json::{Map, Value};
use usher_types::{
    Jwks,
    token::{CATEGORY_SESSION, SessionTokenStatus},
};

/// Tokens longer than this are refused before any decoding.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// How many verified tokens are remembered at most.
const CACHE_CAPACITY: usize = 10_000;
/// JWKS entries are trusted this long before a refresh.
const JWKS_TTL: Duration = Duration::from_secs(3600);

/// Why a token was not accepted. Every variant means "signed out".
///
/// ```
/// # async fn f(verifier: usher::Verifier) {
/// assert_eq!(verifier.verify("not-a-token").await.unwrap_err(), usher::VerifyError::Malformed);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// Not a compact JWS, its parts do not decode, or a claim that is checked (`sub`, `sid`,
    /// `exp`, `nbf`, `iat`, `azp`, `iss`, `sts`) has the wrong type.
    #[error("malformed token")]
    Malformed,
    /// The header names an algorithm other than RS256.
    #[error("algorithm not allowed")]
    Algorithm,
    /// Not a session token (another `cat`, a foreign `typ`, or no `sid`: a template token).
    #[error("not a session token")]
    NotSessionToken,
    /// No known key has this `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// The signature does not verify.
    #[error("invalid signature")]
    Signature,
    /// A required claim is missing (`sub`, `exp`, `nbf`, `iat`; `iss` when the issuer is checked).
    #[error("missing or invalid claim {0}")]
    Claim(&'static str),
    /// `exp` has passed.
    #[error("token expired")]
    Expired,
    /// `nbf` or `iat` is in the future.
    #[error("token not yet valid")]
    NotYetValid,
    /// `azp` is not one of the authorized parties.
    #[error("unauthorized party")]
    UnauthorizedParty,
    /// `iss` is not this instance's Frontend API.
    #[error("token from another issuer")]
    Issuer,
    /// The session is pending (it has tasks left), which counts as signed out.
    #[error("session pending")]
    Pending,
    /// The JWKS could not be fetched.
    #[error("could not load the JWKS: {0}")]
    Jwks(String),
}

/// The verified claims of a session token.
///
/// ```no_run
/// # async fn f(verifier: usher::Verifier, token: &str) -> Result<(), usher::VerifyError> {
/// let claims = verifier.verify(token).await?;
/// let azp = claims.claims.get("azp").and_then(|v| v.as_str());
/// println!("{} via {azp:?}", claims.user_id);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct SessionClaims {
    /// `sub`: the user id.
    pub user_id: String,
    /// `sid`: the session id.
    pub session_id: String,
    /// `exp`, seconds since the epoch.
    pub expires_at: i64,
    /// The whole payload.
    pub claims: Map<String, Value>,
}

/// Borrowed from the decoded header where possible: a cold verification allocates little.
#[derive(Deserialize)]
struct Header<'a> {
    #[serde(borrow)]
    alg: Cow<'a, str>,
    #[serde(borrow)]
    kid: Option<Cow<'a, str>>,
    #[serde(borrow)]
    typ: Option<Cow<'a, str>>,
    #[serde(borrow)]
    cat: Option<Cow<'a, str>>,
}

/// Where keys come from.
enum Keys {
    /// A fixed PEM public key, used for any `kid`.
    Pem(Arc<ParsedPublicKey>),
    /// The instance's JWKS over HTTP (boxed: it is much larger than a key handle).
    Remote(Box<RemoteJwks>),
}

type KeyMap = HashMap<String, Arc<ParsedPublicKey>>;

struct RemoteJwks {
    url: String,
    secret_key: String,
    http: reqwest::Client,
    /// The keys by `kid`, and when they were fetched.
    keys: RwLock<(KeyMap, Option<Instant>)>,
    last_fetch: tokio::sync::Mutex<Option<Instant>>,
    refetch_interval: Duration,
    fetches: AtomicU64,
}

/// Verifies session tokens; cheap to share behind an `Arc`. [`Usher`](crate::Usher) makes one
/// from its configuration; use it directly outside axum.
///
/// ```no_run
/// # async fn f(token: &str) {
/// let verifier = usher::Verifier::remote("http://127.0.0.1:8787", "sk_test_x", reqwest::Client::new(), std::time::Duration::from_secs(30));
/// match verifier.verify(token).await {
///     Ok(claims) => println!("user {} in session {}", claims.user_id, claims.session_id),
///     Err(reason) => println!("signed out: {reason}"),
/// }
/// # }
/// ```
pub struct Verifier {
    keys: Keys,
    leeway: Duration,
    authorized_parties: Vec<String>,
    issuer_host: Option<String>,
    cache: Mutex<TokenCache>,
}

/// Verified tokens by their exact text, at most [`CACHE_CAPACITY`] of them. When full, the
/// oldest entry goes (first in, first out): evicting one at a time keeps the hit rate under a
/// working set larger than the cache, where clearing everything made every token cold again.
/// Each hit still re-checks `exp`.
#[derive(Default)]
struct TokenCache {
    entries: HashMap<Arc<str>, Arc<SessionClaims>, TailHash>,
    /// Insertion order, for eviction; holds exactly the keys of `entries`.
    order: VecDeque<Arc<str>>,
}

impl TokenCache {
    fn len(&self) -> usize {
        self.entries.len()
    }

    /// The entry of `token`: its text as the cache holds it (so a caller need not copy it) and
    /// its claims.
    fn get(&self, token: &str) -> Option<(Arc<str>, Arc<SessionClaims>)> {
        self.entries.get_key_value(token).map(|(k, v)| (k.clone(), v.clone()))
    }

    /// Remembers `token`; returns its text as the cache holds it. The token is hashed once
    /// here (this runs for every cold token).
    fn insert(&mut self, token: &str, claims: Arc<SessionClaims>) -> Arc<str> {
        use std::collections::hash_map::Entry;
        let key: Arc<str> = token.into();
        match self.entries.entry(key) {
            // Verified by another request meanwhile.
            Entry::Occupied(entry) => entry.key().clone(),
            Entry::Vacant(slot) => {
                let key = slot.key().clone();
                slot.insert(claims);
                self.order.push_back(key.clone());
                // One over the bound at most, for as long as this takes.
                while self.entries.len() > CACHE_CAPACITY {
                    let Some(oldest) = self.order.pop_front() else { break };
                    self.entries.remove(&oldest);
                }
                key
            }
        }
    }
}

/// How many bytes at the end of a token [`TailHash`] hashes: 64 base64 characters, the last
/// 48 bytes of its signature.
const HASHED_TAIL: usize = 64;

/// The cache's hasher: the process's keyed SipHash (std's `RandomState`) over a key's length
/// and its last [`HASHED_TAIL`] bytes only, instead of the whole token (about a kilobyte,
/// hashed at each lookup, insert and eviction: a cold verification's largest cost after the
/// signature). Equal tokens hash alike and keys are still compared whole, so this changes how
/// entries spread, never which entry a lookup finds. The tail of a token is its signature,
/// which no one can choose for a token the cache holds (only verified tokens go in), and the
/// key is random per process, so collisions cannot be aimed at the table.
#[derive(Clone, Default)]
struct TailHash(std::hash::RandomState);

impl std::hash::BuildHasher for TailHash {
    type Hasher = TailHasher;

    fn build_hasher(&self) -> TailHasher {
        TailHasher(self.0.build_hasher())
    }
}

struct TailHasher(std::hash::DefaultHasher);

impl std::hash::Hasher for TailHasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.write_usize(bytes.len());
        self.0.write(&bytes[bytes.len().saturating_sub(HASHED_TAIL)..]);
    }

    fn finish(&self) -> u64 {
        self.0.finish()
    }
}

/// Shows where keys come from and how many are known; never the secret key that fetches the
/// JWKS, nor the cached tokens (only how many there are).
impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = f.debug_struct("Verifier");
        match &self.keys {
            Keys::Pem(_) => out.field("keys", &"CLERK_JWT_KEY"),
            Keys::Remote(remote) => out.field("keys", remote),
        };
        // `try_lock`: formatting must never wait for (or deadlock on) a verification.
        let cached = self.cache.try_lock().map(|c| c.len()).ok();
        out.field("leeway", &self.leeway)
            .field("authorized_parties", &self.authorized_parties)
            .field("issuer_host", &self.issuer_host)
            .field("cached_tokens", &cached)
            .finish()
    }
}

impl std::fmt::Debug for RemoteJwks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kids: Option<Vec<String>> = self.keys.try_read().ok().map(|k| k.0.keys().cloned().collect());
        f.debug_struct("RemoteJwks")
            .field("url", &self.url)
            .field("kids", &kids)
            .field("refetch_interval", &self.refetch_interval)
            .field("fetches", &self.fetches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// The current time in seconds since the epoch (what [`Verifier::verify`] checks against).
#[doc(hidden)]
pub fn now_secs_for_tests() -> i64 {
    now_secs()
}

fn now_secs() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// Decodes unpadded base64url into `buf`; a part too large for it is malformed.
fn decode_into(part: &str, buf: &mut [u8]) -> Result<usize, VerifyError> {
    URL_SAFE_NO_PAD.decode_slice(part, buf).map_err(|_| VerifyError::Malformed)
}

/// A string claim, `None` when absent or `null`; another type is malformed (what
/// deserialising `SessionTokenClaims` said of the same payload).
fn string_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Result<Option<&'a str>, VerifyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(VerifyError::Malformed),
    }
}

/// An integer claim (seconds), `None` when absent or `null`; a fraction, a string or a number
/// beyond `i64` is malformed.
fn int_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, VerifyError> {
    match claims.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v.as_i64().map(Some).ok_or(VerifyError::Malformed),
    }
}

fn parse_rsa_spki(der: &[u8]) -> Option<ParsedPublicKey> {
    ParsedPublicKey::new(&signature::RSA_PKCS1_2048_8192_SHA256, der).ok()
}

fn parse_jwks(jwks: &Jwks) -> KeyMap {
    jwks.keys
        .iter()
        .filter(|k| k.kty == "RSA" && k.alg == "RS256")
        .filter_map(|k| {
            let n = URL_SAFE_NO_PAD.decode(&k.n).ok()?;
            let e = URL_SAFE_NO_PAD.decode(&k.e).ok()?;
            let der: PublicKeyX509Der<'_> = PublicKeyComponents { n, e }.as_der().ok()?;
            Some((k.kid.clone(), Arc::new(parse_rsa_spki(der.as_ref())?)))
        })
        .collect()
}

impl Verifier {
    /// A verifier that fetches keys from `{api_url}/v1/jwks` with the secret key, refetching
    /// on an unknown `kid` at most once per `refetch_interval`.
    pub fn remote(api_url: &str, secret_key: &str, http: reqwest::Client, refetch_interval: Duration) -> Self {
        Self::with_keys(Keys::Remote(Box::new(RemoteJwks {
            url: format!("{}/v1/jwks", api_url.trim_end_matches('/')),
            secret_key: secret_key.to_owned(),
            http,
            keys: RwLock::new((HashMap::new(), None)),
            last_fetch: tokio::sync::Mutex::new(None),
            refetch_interval,
            fetches: AtomicU64::new(0),
        })))
    }

    /// A verifier with one PEM public key (`CLERK_JWT_KEY`); no network.
    ///
    /// ```
    /// assert!(usher::Verifier::from_pem("not a pem").is_err());
    /// ```
    pub fn from_pem(pem_text: &str) -> Result<Self, String> {
        // `.env` files often carry the PEM on one line with literal `\n`s.
        let text = pem_text.trim().replace("\\n", "\n");
        let pem = pem::parse(&text).map_err(|e| format!("CLERK_JWT_KEY is not PEM: {e}"))?;
        if pem.tag() != "PUBLIC KEY" {
            return Err("CLERK_JWT_KEY must be a PEM \"PUBLIC KEY\"".into());
        }
        let key = parse_rsa_spki(pem.contents()).ok_or("CLERK_JWT_KEY is not an RSA public key")?;
        Ok(Self::with_keys(Keys::Pem(Arc::new(key))))
    }

    fn with_keys(keys: Keys) -> Self {
        Self {
            keys,
            leeway: Duration::from_secs(5),
            authorized_parties: Vec::new(),
            issuer_host: None,
            cache: Mutex::new(TokenCache::default()),
        }
    }

    /// Sets the clock-skew leeway; at most 5 s is allowed.
    pub fn leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.min(Duration::from_secs(5));
        self
    }

    /// Accepts tokens whose `azp` is one of these origins (tokens without `azp` still pass).
    pub fn authorized_parties(mut self, parties: Vec<String>) -> Self {
        self.authorized_parties = parties;
        self
    }

    /// Accepts only tokens whose `iss`, without its scheme, is `host` (the Frontend API host the
    /// publishable key names). A token from another instance is refused even if a key it was
    /// signed with were listed by mistake.
    pub fn issuer_host(mut self, host: impl Into<String>) -> Self {
        self.issuer_host = Some(host.into());
        self
    }

    /// How many times the JWKS was fetched (for tests and metrics).
    pub fn jwks_fetches(&self) -> u64 {
        match &self.keys {
            Keys::Pem(_) => 0,
            Keys::Remote(r) => r.fetches.load(Ordering::Relaxed),
        }
    }

    /// Verifies a session token at the current time.
    pub async fn verify(&self, token: &str) -> Result<Arc<SessionClaims>, VerifyError> {
        self.verify_at(token, now_secs()).await
    }

    /// Verifies a session token as if it were `now` (seconds since the epoch).
    pub async fn verify_at(&self, token: &str, now: i64) -> Result<Arc<SessionClaims>, VerifyError> {
        self.verify_shared_at(token, now).await.map(|(_, claims)| claims)
    }

    /// [`Verifier::verify`], also returning the token's text shared with the cache, so that
    /// [`Auth`](crate::Auth) keeps it without a copy.
    pub(crate) async fn verify_shared(&self, token: &str) -> Result<(Arc<str>, Arc<SessionClaims>), VerifyError> {
        self.verify_shared_at(token, now_secs()).await
    }

    async fn verify_shared_at(&self, token: &str, now: i64) -> Result<(Arc<str>, Arc<SessionClaims>), VerifyError> {
        let leeway = i64::try_from(self.leeway.as_secs()).unwrap_or(5);
        if let Some((text, hit)) = self.cached(token) {
            // The signature and claims were checked before; only time moves.
            return if hit.expires_at + leeway <= now { Err(VerifyError::Expired) } else { Ok((text, hit)) };
        }
        if token.len() > MAX_TOKEN_BYTES {
            return Err(VerifyError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
            return Err(VerifyError::Malformed);
        };
        // Header and signature decode into the stack: no allocation for them.
        let mut header_json = [0u8; 512];
        let n = decode_into(h, &mut header_json)?;
        let header: Header<'_> = serde_json::from_slice(&header_json[..n]).map_err(|_| VerifyError::Malformed)?;
        // The algorithm is pinned by us, never chosen by the token.
        if header.alg != "RS256" {
            return Err(VerifyError::Algorithm);
        }
        if header.typ.as_deref().is_some_and(|t| t != "JWT")
            // A token without a category is accepted: Clerk's older tokens have none.
            || header.cat.as_deref().is_some_and(|c| c != CATEGORY_SESSION)
        {
            return Err(VerifyError::NotSessionToken);
        }
        let key = self.key(header.kid.as_deref()).await?;
        // 1024 bytes hold an RSA-8192 signature, the largest key `parse_rsa_spki` accepts.
        let mut signature = [0u8; 1024];
        let n = decode_into(s, &mut signature)?;
        let signed_len = h.len() + 1 + p.len();
        key.verify_sig(&token.as_bytes()[..signed_len], &signature[..n]).map_err(|_| VerifyError::Signature)?;

        // A session token's payload fits the stack; a larger one (a template token's) does not
        // need to be fast.
        let mut stack = [0u8; 2048];
        let heap;
        let payload: &[u8] = match URL_SAFE_NO_PAD.decode_slice(p, &mut stack) {
            Ok(n) => &stack[..n],
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                heap = URL_SAFE_NO_PAD.decode(p).map_err(|_| VerifyError::Malformed)?;
                &heap
            }
            Err(_) => return Err(VerifyError::Malformed),
        };
        let Ok(claims) = serde_json::from_slice::<Map<String, Value>>(payload) else {
            return Err(VerifyError::Malformed);
        };
        // Read straight from the parsed payload, which is kept whole for
        // `SessionClaims::claims`: only the claims checked here, each borrowed (deserialising
        // all of `SessionTokenClaims` from the map copied the claims nothing here reads).
        let sub = string_claim(&claims, "sub")?.ok_or(VerifyError::Claim("sub"))?.to_owned();
        let sid = string_claim(&claims, "sid")?.ok_or(VerifyError::NotSessionToken)?.to_owned();
        let exp = int_claim(&claims, "exp")?.ok_or(VerifyError::Claim("exp"))?;
        let nbf = int_claim(&claims, "nbf")?.ok_or(VerifyError::Claim("nbf"))?;
        let iat = int_claim(&claims, "iat")?.ok_or(VerifyError::Claim("iat"))?;
        let azp = string_claim(&claims, "azp")?;
        let iss = string_claim(&claims, "iss")?;
        let sts = match claims.get("sts") {
            None | Some(Value::Null) => None,
            Some(v) => Some(SessionTokenStatus::deserialize(v).map_err(|_| VerifyError::Malformed)?),
        };
        if exp + leeway <= now {
            return Err(VerifyError::Expired);
        }
        if nbf - leeway > now || iat - leeway > now {
            return Err(VerifyError::NotYetValid);
        }
        if let Some(azp) = azp
            && !self.authorized_parties.is_empty()
            && !self.authorized_parties.iter().any(|p| p == azp)
        {
            return Err(VerifyError::UnauthorizedParty);
        }
        if let Some(expected) = &self.issuer_host {
            let iss = iss.ok_or(VerifyError::Claim("iss"))?;
            let host = iss.split_once("://").map_or(iss, |(_, rest)| rest).trim_end_matches('/');
            if host != expected {
                return Err(VerifyError::Issuer);
            }
        }
        if sts == Some(SessionTokenStatus::Pending) {
            return Err(VerifyError::Pending);
        }
        let verified = Arc::new(SessionClaims { user_id: sub, session_id: sid, expires_at: exp, claims });
        let text = self.remember(token, &verified, now);
        Ok((text, verified))
    }

    fn cached(&self, token: &str) -> Option<(Arc<str>, Arc<SessionClaims>)> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(token)
    }

    /// Caches a verified token; returns its text, shared with the cache when it was kept.
    fn remember(&self, token: &str, claims: &Arc<SessionClaims>, now: i64) -> Arc<str> {
        // An expired token is never worth a slot (a hit would refuse it anyway).
        if claims.expires_at <= now {
            return token.into();
        }
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(token, claims.clone())
    }

    async fn key(&self, kid: Option<&str>) -> Result<Arc<ParsedPublicKey>, VerifyError> {
        match &self.keys {
            Keys::Pem(key) => Ok(key.clone()),
            Keys::Remote(remote) => {
                let kid = kid.ok_or(VerifyError::UnknownKey)?;
                if let Some(key) = remote.lookup(kid) {
                    return Ok(key);
                }
                remote.refresh().await?;
                remote.lookup(kid).ok_or(VerifyError::UnknownKey)
            }
        }
    }
}

impl RemoteJwks {
    fn lookup(&self, kid: &str) -> Option<Arc<ParsedPublicKey>> {
        let guard = self.keys.read().unwrap_or_else(|e| e.into_inner());
        let fresh = guard.1.is_some_and(|at| at.elapsed() < JWKS_TTL);
        if fresh { guard.0.get(kid).cloned() } else { None }
    }

    /// Refetches the JWKS unless that happened within `refetch_interval` (an unknown `kid`
    /// must not let anyone make us hammer the server).
    async fn refresh(&self) -> Result<(), VerifyError> {
        let mut last = self.last_fetch.lock().await;
        let stale = self.keys.read().unwrap_or_else(|e| e.into_inner()).1.is_none_or(|at| at.elapsed() >= JWKS_TTL);
        if !stale && last.is_some_and(|at| at.elapsed() < self.refetch_interval) {
            return Ok(());
        }
        *last = Some(Instant::now());
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let response = self
            .http
            .get(&self.url)
            .bearer_auth(&self.secret_key)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(|e| VerifyError::Jwks(e.to_string()))?;
        if !response.status().is_success() {
            return Err(VerifyError::Jwks(format!("status {}", response.status())));
        }
        let jwks: Jwks = response.json().await.map_err(|e| VerifyError::Jwks(e.to_string()))?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = (parse_jwks(&jwks), Some(Instant::now()));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn debug_never_shows_the_secret_key_or_a_cached_token() {
        let verifier = Verifier::remote(
            "http://127.0.0.1:8787",
            fixtures::SECRET,
            reqwest::Client::new(),
            Duration::from_secs(30),
        )
        .issuer_host("127.0.0.1:8787");
        let claims = SessionClaims {
            user_id: "user_2abC".into(),
            session_id: "sess_2dEf".into(),
            expires_at: i64::MAX,
            claims: Map::new(),
        };
        verifier.remember(fixtures::TOKEN, &Arc::new(claims), 0);
        let debug = format!("{verifier:?}");
        fixtures::assert_no_secrets(&debug);
        assert!(debug.contains("/v1/jwks") && debug.contains("cached_tokens: Some(1)"), "{debug}");
        assert!(format!("{:?}", Verifier::with_keys(Keys::Pem(verifier_key()))).contains("CLERK_JWT_KEY"));
    }

    #[test]
    fn a_full_cache_evicts_its_oldest_token_and_stays_bounded() {
        let mut cache = TokenCache::default();
        let claims = Arc::new(SessionClaims {
            user_id: "user_2abC".into(),
            session_id: "sess_2dEf".into(),
            expires_at: i64::MAX,
            claims: Map::new(),
        });
        for i in 0..CACHE_CAPACITY + 5 {
            cache.insert(&format!("token-{i}"), claims.clone());
            cache.insert(&format!("token-{i}"), claims.clone());
        }
        assert_eq!(cache.len(), CACHE_CAPACITY);
        assert_eq!(cache.order.len(), CACHE_CAPACITY);
        assert!(cache.get("token-4").is_none(), "the oldest went first");
        assert!(cache.get("token-5").is_some() && cache.get(&format!("token-{}", CACHE_CAPACITY + 4)).is_some());
    }

    #[test]
    fn tokens_alike_but_for_their_middle_are_told_apart() {
        // Same length and same last bytes: the same hash, but separate entries.
        let claims = |sid: &str| {
            Arc::new(SessionClaims {
                user_id: "u".into(),
                session_id: sid.into(),
                expires_at: i64::MAX,
                claims: Map::new(),
            })
        };
        let tail = "s".repeat(HASHED_TAIL);
        let (a, b) = (format!("aaa.{tail}"), format!("bbb.{tail}"));
        let mut cache = TokenCache::default();
        cache.insert(&a, claims("sess_a"));
        cache.insert(&b, claims("sess_b"));
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&a).unwrap().1.session_id, "sess_a");
        assert_eq!(cache.get(&b).unwrap().1.session_id, "sess_b");
        assert!(cache.get(&format!("ccc.{tail}")).is_none());
    }

    #[test]
    fn an_already_expired_token_takes_no_cache_slot() {
        let verifier = Verifier::with_keys(Keys::Pem(verifier_key()));
        let claims = SessionClaims { user_id: "u".into(), session_id: "s".into(), expires_at: 100, claims: Map::new() };
        verifier.remember("a.b.c", &Arc::new(claims), 100);
        assert_eq!(verifier.cache.lock().unwrap().len(), 0);
    }

    fn verifier_key() -> Arc<ParsedPublicKey> {
        let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
        let der: PublicKeyX509Der<'_> = aws_lc_rs::signature::KeyPair::public_key(&pair).as_der().unwrap();
        Arc::new(parse_rsa_spki(der.as_ref()).unwrap())
    }
}
