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
    let new = app.state.keys.rotate(store, app.state.now(), 30_000).await.unwrap();
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
    app.state.keys.rotate(store, app.state.now(), 0).await.unwrap();
    app.clock.advance_ms(2 * 3600 * 1000);
    app.state.keys.reload(store, app.state.now()).await.unwrap();
    assert!(verify_rs256(&long, &app.jwks().await).is_some(), "still within the day-long token's life");
}

#[tokio::test]
async fn private_keys_are_stored_sealed_and_earlier_plaintext_keys_get_sealed() {
    use usher_server::{seal::Sealer, store::SigningKeyRecord};
    let app = spawn_app(Db::Sqlite).await;
    let store = app.state.store.as_ref();
    for record in store.signing_keys().await.unwrap() {
        assert!(Sealer::is_sealed(&record.private_der), "the database holds ciphertext");
        assert!(aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&record.private_der).is_err());
    }

    // A database from before sealing: its key in the clear is sealed on the next start, and
    // still signs. Another secret key cannot open it.
    let db = crate::helpers::TestDb::new(Db::Sqlite).await;
    let old = db.store().await;
    let pair = aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).unwrap();
    let der: aws_lc_rs::encoding::Pkcs8V1Der<'_> = aws_lc_rs::encoding::AsDer::as_der(&pair).unwrap();
    let record = SigningKeyRecord {
        kid: "ins_legacy".into(),
        private_der: der.as_ref().to_vec(),
        max_lifetime: 60,
        ..SigningKeyRecord::default()
    };
    old.insert_first_signing_key(&record).await.unwrap();
    let sealer = || Sealer::new("sk_test_legacy", keys::SEAL_PURPOSE);
    let ring = keys::KeyRing::load(old.as_ref(), 1, sealer()).await.unwrap();
    assert_eq!(ring.signer().kid, "ins_legacy");
    let stored = old.signing_keys().await.unwrap().remove(0);
    assert!(Sealer::is_sealed(&stored.private_der));
    assert!(keys::KeyRing::load(old.as_ref(), 1, sealer()).await.is_ok(), "reopens");
    let wrong = Sealer::new("sk_test_other", keys::SEAL_PURPOSE);
    let error = keys::KeyRing::load(old.as_ref(), 1, wrong).await.err().expect("refused");
    assert!(error.to_string().contains("another secret key"), "{error}");
}
