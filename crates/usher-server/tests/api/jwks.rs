//! The JWKS and signing-key rotation.

use reqwest::StatusCode;
use serde_json::json;
use usher_server::tokens::keys;

use crate::helpers::{Db, decode, spawn_app, verify_rs256};

#[tokio::test]
async fn the_jwks_lists_public_rsa_2048_keys_only() {
    let app = spawn_app(Db::Sqlite).await;
    let public = app.jwks().await;
    assert_eq!(app.get("/v1/jwks").await, (StatusCode::OK, public.clone()));
    let keys = public["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    let key = keys[0].as_object().unwrap();
    assert_eq!(
        (key["kty"].as_str(), key["alg"].as_str(), key["use"].as_str(), key["e"].as_str()),
        (Some("RSA"), Some("RS256"), Some("sig"), Some("AQAB"))
    );
    assert!(key["kid"].as_str().unwrap().starts_with("ins_"));
    let n =
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, key["n"].as_str().unwrap()).unwrap();
    assert_eq!(n.len(), 256, "2048-bit modulus");
    for private in ["d", "p", "q", "dp", "dq", "qi"] {
        assert!(!key.contains_key(private), "{private} must not be published");
    }
}

#[tokio::test]
async fn a_rotated_key_is_published_at_once_and_the_old_one_until_its_tokens_expire() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, session_id) = app.user_with_session("a@example.com").await;
    let path = format!("/v1/sessions/{session_id}/tokens");
    let mint = || app.post(&path, json!({}));
    let old_token = mint().await.1["jwt"].as_str().unwrap().to_owned();
    let old_kid = decode(&old_token).0["kid"].as_str().unwrap().to_owned();

    let store = app.state.store.as_ref();
    let new = keys::rotate(store, app.state.now(), 30_000).await.unwrap();
    app.state.keys.reload(store, app.state.now()).await.unwrap();
    let jwks = app.jwks().await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 2, "the new key is published before it signs");
    assert_eq!(decode(mint().await.1["jwt"].as_str().unwrap()).0["kid"], old_kid.as_str(), "not active yet");

    app.clock.advance_ms(30_000);
    app.state.keys.reload(store, app.state.now()).await.unwrap();
    let new_token = mint().await.1["jwt"].as_str().unwrap().to_owned();
    assert_eq!(decode(&new_token).0["kid"], new.kid.as_str());
    let jwks = app.jwks().await;
    assert!(verify_rs256(&new_token, &jwks).is_some() && verify_rs256(&old_token, &jwks).is_some());

    // Past the old key's last token lifetime plus the cache margin, it is withdrawn.
    app.clock.advance_ms(60_000 + keys::RETIRED_KEY_MARGIN_MS + 1);
    app.state.keys.reload(store, app.state.now()).await.unwrap();
    let jwks = app.jwks().await;
    assert_eq!(jwks["keys"].as_array().unwrap().len(), 1);
    assert_eq!(jwks["keys"][0]["kid"], new.kid.as_str());
}

#[tokio::test]
async fn a_long_lived_token_keeps_its_retired_key_published() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, session_id) = app.user_with_session("a@example.com").await;
    let (_, long) = app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({"expires_in_seconds": 86_400})).await;
    let long = long["jwt"].as_str().unwrap().to_owned();
    let store = app.state.store.as_ref();
    keys::rotate(store, app.state.now(), 0).await.unwrap();
    app.clock.advance_ms(2 * 3600 * 1000);
    app.state.keys.reload(store, app.state.now()).await.unwrap();
    assert!(verify_rs256(&long, &app.jwks().await).is_some(), "still within the day-long token's life");
}
