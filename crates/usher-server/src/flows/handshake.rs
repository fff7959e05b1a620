//! Clerk's handshake: how `@clerk/backend` on an app's server learns the browser's session when
//! the app's own `__session` cookie is missing or expired. The app redirects the page load to
//! the Frontend API's `/v1/client/handshake`; usher reads `__client`, writes the cookies the
//! app should set ("directives", `Set-Cookie` values for the app's own domain) and sends the
//! browser back with them, either signed (`__clerk_handshake`, a JWT the SDK verifies with the
//! JWKS) or sealed behind a nonce (`__clerk_handshake_nonce`, which the SDK exchanges through
//! the Backend API's `GET /v1/clients/handshake_payload`).
//!
//! The nonce is the sealed directives themselves (AES-GCM under the secret key, with an expiry),
//! not a key into a table: any node can open it, nothing has to be stored or cleaned up, and
//! only a holder of the secret key learns what it carries.

use aws_lc_rs::digest;
use base64::{
    Engine as _,
    engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::{seal::Sealer, tokens::jwt};

/// The seal purpose of handshake nonces (no other sealed value opens as one).
pub const SEAL_PURPOSE: &str = "handshake-nonce";
/// How long a nonce or handshake token may be redeemed: the redirect back is immediate.
pub const LIFETIME_SECS: i64 = 60;
/// The cookie the nonce travels in when the Frontend API is first-party (behind a proxy).
pub const NONCE_COOKIE: &str = "__clerk_handshake_nonce";
/// The cookie (or query parameter) the signed form travels in.
pub const TOKEN_COOKIE: &str = "__clerk_handshake";
/// The dev-browser cookie (and query parameter) of development instances.
pub const DEV_BROWSER_COOKIE: &str = "__clerk_db_jwt";
/// The seal purpose of dev-browser tokens.
pub const DEV_BROWSER_PURPOSE: &str = "dev-browser";
/// The prefix of a dev-browser token (Clerk's `dvb_` id form).
const DEV_BROWSER_PREFIX: &str = "dvb_";
/// How long the app keeps `__clerk_db_jwt` (a year, as clerk-js writes it).
const DEV_BROWSER_MAX_AGE_SECS: u64 = 365 * 24 * 3600;

/// What the app's cookies should say about this browser.
#[derive(Debug, Clone)]
pub struct SessionCookies<'a> {
    /// The active session's token, or `None` when signed out.
    pub session_token: Option<&'a str>,
    /// `__client_uat`: seconds of the client's last change (0 when signed out).
    pub client_uat: i64,
    /// The token lifetime, the `Max-Age` of `__session`.
    pub token_lifetime_secs: u64,
    /// Whether the app's page is on https (then the cookies are `Secure`).
    pub secure: bool,
    /// `Some(suffix)` when the app reads suffixed cookies (`__session_<suffix>`) too.
    pub suffix: Option<String>,
    /// Development instances only: the dev-browser token the app keeps as `__clerk_db_jwt`.
    pub dev_browser: Option<&'a str>,
}

/// Clerk's cookie suffix: the first 8 characters of URL-safe base64(SHA-1(publishable key)),
/// as `@clerk/shared`'s `getCookieSuffix` computes it (SHA-1 names a cookie; it protects nothing).
pub fn cookie_suffix(publishable_key: &str) -> String {
    let hash = digest::digest(&digest::SHA1_FOR_LEGACY_USE_ONLY, publishable_key.as_bytes());
    let b64 = STANDARD.encode(hash.as_ref()).replace('+', "-").replace('/', "_");
    b64.chars().take(8).collect()
}

/// The `Set-Cookie` directives for the app's domain.
pub fn directives(c: &SessionCookies<'_>) -> Vec<String> {
    let secure = if c.secure { "; Secure" } else { "" };
    let mut names = vec![(String::from("__session"), String::from("__client_uat"))];
    if let Some(suffix) = &c.suffix {
        names.push((format!("__session_{suffix}"), format!("__client_uat_{suffix}")));
    }
    let mut out = Vec::new();
    // `@clerk/backend` sends every page load of a development instance that lacks this cookie
    // to the handshake (`dev-browser-missing`); setting it here is what settles that.
    if let Some(token) = c.dev_browser {
        let mut db = vec![String::from(DEV_BROWSER_COOKIE)];
        if let Some(suffix) = &c.suffix {
            db.push(format!("{DEV_BROWSER_COOKIE}_{suffix}"));
        }
        for name in db {
            out.push(format!("{name}={token}; Path=/; Max-Age={DEV_BROWSER_MAX_AGE_SECS}; SameSite=Lax{secure}"));
        }
    }
    for (session, uat) in names {
        match c.session_token {
            Some(jwt) => {
                out.push(format!("{session}={jwt}; Path=/; Max-Age={}; SameSite=Lax{secure}", c.token_lifetime_secs));
                out.push(format!("{uat}={}; Path=/; Max-Age=315360000; SameSite=Lax{secure}", c.client_uat));
            }
            None => {
                out.push(format!("{session}=; Path=/; Max-Age=0; SameSite=Lax{secure}"));
                out.push(format!("{uat}=0; Path=/; Max-Age=315360000; SameSite=Lax{secure}"));
            }
        }
    }
    // The handshake carriers are spent once read; clearing them keeps a stale one from being
    // redeemed again on the next page load.
    out.push(format!("{NONCE_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}"));
    out.push(format!("{TOKEN_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}"));
    out
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    exp: i64,
    directives: Vec<String>,
}

/// A nonce carrying `directives` until `now_secs + LIFETIME_SECS`.
pub fn seal_nonce(sealer: &Sealer, directives: &[String], now_secs: i64) -> String {
    let body = Sealed { exp: now_secs + LIFETIME_SECS, directives: directives.to_vec() };
    let bytes = serde_json::to_vec(&body).expect("strings always serialise");
    URL_SAFE_NO_PAD.encode(sealer.seal(&bytes))
}

/// The directives of a nonce still valid at `now_secs`; `None` for anything else (tampered,
/// expired, sealed for another purpose or instance, not base64).
pub fn open_nonce(sealer: &Sealer, nonce: &str, now_secs: i64) -> Option<Vec<String>> {
    let sealed = URL_SAFE_NO_PAD.decode(nonce.trim()).ok()?;
    let body: Sealed = serde_json::from_slice(&sealer.open(&sealed)?).ok()?;
    (body.exp >= now_secs).then_some(body.directives)
}

/// The signed form: a JWT `{handshake: [directives]}` under the instance key (kid in the header,
/// so the SDK finds it in the JWKS).
pub fn sign_token(kid: &str, signer: &jwt::Signer, directives: &[String], now_secs: i64) -> String {
    let header = jwt::b64_json(&json!({"alg": "RS256", "kid": kid, "typ": "JWT"}));
    let claims =
        json!({"handshake": directives, "iat": now_secs, "nbf": now_secs - 5, "exp": now_secs + LIFETIME_SECS});
    jwt::encode(&header, &claims, signer)
}

/// A new dev-browser token: `dvb_` + a sealed random id. It names a browser and nothing more:
/// usher never identifies a client by it (clerk-js sends it only to Clerk's own hosts, see
/// docs/clerk-js.md), so leaking it from the app's non-HttpOnly cookie grants nothing. Sealed so
/// that usher can tell its own tokens from made-up ones without storing any.
pub fn issue_dev_browser(sealer: &Sealer) -> String {
    let id = crate::ids::random_base62(24);
    format!("{DEV_BROWSER_PREFIX}{}", URL_SAFE_NO_PAD.encode(sealer.seal(id.as_bytes())))
}

/// Whether `token` is a dev-browser token this instance issued.
pub fn is_dev_browser(sealer: &Sealer, token: &str) -> bool {
    token
        .strip_prefix(DEV_BROWSER_PREFIX)
        .and_then(|t| URL_SAFE_NO_PAD.decode(t).ok())
        .and_then(|sealed| sealer.open(&sealed))
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffix_matches_clerk_shared() {
        // Computed with @clerk/shared 4.41.0 getCookieSuffix("pk_live_MTI3LjAuMC4xOjg3ODck").
        assert_eq!(cookie_suffix("pk_live_MTI3LjAuMC4xOjg3ODck"), EXPECTED_SUFFIX);
    }
    const EXPECTED_SUFFIX: &str = "YwxRrm43";

    #[test]
    fn nonces_open_only_unexpired_and_untampered() {
        let sealer = Sealer::new("sk_test_x", SEAL_PURPOSE);
        let d = vec!["__session=a; Path=/".to_owned()];
        let nonce = seal_nonce(&sealer, &d, 1000);
        assert_eq!(open_nonce(&sealer, &nonce, 1000 + LIFETIME_SECS), Some(d));
        assert_eq!(open_nonce(&sealer, &nonce, 1001 + LIFETIME_SECS), None);
        assert_eq!(open_nonce(&Sealer::new("sk_test_y", SEAL_PURPOSE), &nonce, 1000), None);
        assert_eq!(open_nonce(&Sealer::new("sk_test_x", "outbox"), &nonce, 1000), None);
        let mut bad = nonce.clone().into_bytes();
        bad[20] = if bad[20] == b'A' { b'B' } else { b'A' };
        assert_eq!(open_nonce(&sealer, std::str::from_utf8(&bad).unwrap(), 1000), None);
    }

    #[test]
    fn signed_out_directives_clear_the_session_and_zero_the_uat() {
        let c = SessionCookies {
            session_token: None,
            client_uat: 5,
            token_lifetime_secs: 60,
            secure: true,
            suffix: Some("abcdefgh".into()),
            dev_browser: None,
        };
        let d = directives(&c);
        assert!(d.contains(&"__session=; Path=/; Max-Age=0; SameSite=Lax; Secure".to_owned()));
        assert!(d.contains(&"__client_uat_abcdefgh=0; Path=/; Max-Age=315360000; SameSite=Lax; Secure".to_owned()));
        assert!(!d.iter().any(|c| c.starts_with(DEV_BROWSER_COOKIE)), "no dev browser unless asked");
    }

    #[test]
    fn dev_browser_tokens_are_recognised_only_when_issued_here() {
        let sealer = Sealer::new("sk_test_x", DEV_BROWSER_PURPOSE);
        let token = issue_dev_browser(&sealer);
        assert!(token.starts_with("dvb_"));
        assert!(is_dev_browser(&sealer, &token));
        assert_ne!(token, issue_dev_browser(&sealer), "each one is new");
        assert!(!is_dev_browser(&Sealer::new("sk_test_y", DEV_BROWSER_PURPOSE), &token));
        assert!(!is_dev_browser(&Sealer::new("sk_test_x", SEAL_PURPOSE), &token));
        assert!(!is_dev_browser(&sealer, "dvb_made-up"));
        assert!(!is_dev_browser(&sealer, token.trim_start_matches("dvb_")));
    }
}
