//! Values for unit tests that hold a real-looking secret key and session token, so `Debug`
//! output can be checked for leaks.

use std::sync::Arc;

use serde_json::json;

use crate::{Auth, Usher, UsherConfig, verify::SessionClaims};

/// A secret key in the format `usher dev` prints.
pub(crate) const SECRET: &str = "sk_test_q3V8xZr2LmT9wK4bN7cY1dF6gH0jP5sA2eU8iO3";
/// A session token's shape: header, payload and signature, base64url.
pub(crate) const TOKEN: &str = "eyJhbGciOiJSUzI1NiIsImNhdCI6ImNsX0I3ZDRQRDExMUFBQSIsImtpZCI6Imluc18yeFl6In0.\
                                eyJzdWIiOiJ1c2VyXzJhYkMiLCJzaWQiOiJzZXNzXzJkRWYiLCJleHAiOjE3MDAwMDAwNjB9.\
                                Zm9yZ2VkLXNpZ25hdHVyZS1ieXRlcy1mb3ItYS1kZWJ1Zy10ZXN0LW9ubHk";

pub(crate) fn usher() -> Usher {
    Usher::new(UsherConfig::new(SECRET, "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787").unwrap()).unwrap()
}

/// A signed-in request whose URL carries the token too, as a handshake query would.
pub(crate) fn signed_in() -> Auth {
    let claims = SessionClaims {
        user_id: "user_2abC".into(),
        session_id: "sess_2dEf".into(),
        expires_at: 1_700_000_060,
        claims: json!({"sub": "user_2abC", "sid": "sess_2dEf"}).as_object().unwrap().clone(),
    };
    let url = format!("http://app.local/dashboard?__clerk_handshake={TOKEN}");
    Auth::signed_in(usher(), url, TOKEN.into(), Arc::new(claims))
}

/// Fails when `debug` shows the secret key or any part of the token.
pub(crate) fn assert_no_secrets(debug: &str) {
    let secret_body = SECRET.trim_start_matches("sk_test_");
    assert!(!debug.contains(secret_body), "the secret key leaks: {debug}");
    for part in TOKEN.split('.') {
        assert!(!debug.contains(part), "the token leaks: {debug}");
    }
}
