//! Passkeys through the Frontend API, as clerk-js drives them, with a software authenticator
//! (a P-256 key made here, attestation `none`, CBOR written by hand): registration, sign-in
//! with and without an identifier, another origin refused, replayed assertions and counters,
//! lockout, rename and delete (Frontend and Backend API).

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::{
    frontend::{Browser, ORIGIN, PASSWORD},
    helpers::{Db, TestApp, assert_error, spawn_app_with},
};

/// An authenticator holding one resident credential for `rp_id`.
struct SoftKey {
    key: EcdsaKeyPair,
    credential_id: Vec<u8>,
    rp_id: String,
    /// The user handle it stored at registration.
    user_handle: Vec<u8>,
    counter: u32,
}

/// Minimal CBOR (RFC 8949) for the few shapes an attestation needs.
fn cbor_head(major: u8, n: usize, out: &mut Vec<u8>) {
    let m = major << 5;
    match n {
        0..=23 => out.push(m | n as u8),
        24..=255 => out.extend([m | 24, n as u8]),
        _ => {
            out.push(m | 25);
            out.extend((n as u16).to_be_bytes());
        }
    }
}

fn cbor_int(v: i64, out: &mut Vec<u8>) {
    if v >= 0 { cbor_head(0, v as usize, out) } else { cbor_head(1, (-1 - v) as usize, out) }
}

fn cbor_bytes(b: &[u8], out: &mut Vec<u8>) {
    cbor_head(2, b.len(), out);
    out.extend_from_slice(b);
}

fn cbor_text(t: &str, out: &mut Vec<u8>) {
    cbor_head(3, t.len(), out);
    out.extend_from_slice(t.as_bytes());
}

impl SoftKey {
    fn new(rp_id: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref()).unwrap();
        let mut credential_id = vec![0u8; 32];
        aws_lc_rs::rand::fill(&mut credential_id).unwrap();
        Self { key, credential_id, rp_id: rp_id.to_owned(), user_handle: Vec::new(), counter: 0 }
    }

    /// The COSE_Key of the public key (EC2, ES256).
    fn cose_key(&self) -> Vec<u8> {
        let point = self.key.public_key().as_ref();
        assert_eq!(point[0], 4, "an uncompressed point");
        let mut out = Vec::new();
        cbor_head(5, 5, &mut out);
        cbor_int(1, &mut out);
        cbor_int(2, &mut out);
        cbor_int(3, &mut out);
        cbor_int(-7, &mut out);
        cbor_int(-1, &mut out);
        cbor_int(1, &mut out);
        cbor_int(-2, &mut out);
        cbor_bytes(&point[1..33], &mut out);
        cbor_int(-3, &mut out);
        cbor_bytes(&point[33..65], &mut out);
        out
    }

    fn auth_data(&self, flags: u8, attested: bool) -> Vec<u8> {
        let mut data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        data.push(flags);
        data.extend(self.counter.to_be_bytes());
        if attested {
            data.extend([0u8; 16]);
            data.extend((self.credential_id.len() as u16).to_be_bytes());
            data.extend(&self.credential_id);
            data.extend(self.cose_key());
        }
        data
    }

    fn client_data(kind: &str, challenge: &str, origin: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false}).to_string().into_bytes()
    }

    /// `navigator.credentials.create()`'s answer to `options` (the passkey's `nonce`), as the
    /// JSON clerk-js sends.
    fn register(&mut self, options: &Value, origin: &str) -> String {
        assert_eq!(options["rp"]["id"], self.rp_id.as_str());
        assert_eq!(options["authenticatorSelection"]["residentKey"], "required", "{options}");
        self.user_handle = B64.decode(options["user"]["id"].as_str().unwrap()).unwrap();
        let client_data = Self::client_data("webauthn.create", options["challenge"].as_str().unwrap(), origin);
        // User present, user verified, attested credential data.
        let auth_data = self.auth_data(0x45, true);
        let mut attestation = Vec::new();
        cbor_head(5, 3, &mut attestation);
        cbor_text("fmt", &mut attestation);
        cbor_text("none", &mut attestation);
        cbor_text("attStmt", &mut attestation);
        cbor_head(5, 0, &mut attestation);
        cbor_text("authData", &mut attestation);
        cbor_bytes(&auth_data, &mut attestation);
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {"clientDataJSON": B64.encode(client_data), "attestationObject": B64.encode(attestation),
                "transports": ["internal"]},
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
        .to_string()
    }

    /// `navigator.credentials.get()`'s answer to `options` (the sign-in's `nonce`).
    fn assert(&mut self, options: &Value, origin: &str) -> String {
        self.counter += 1;
        let client_data = Self::client_data("webauthn.get", options["challenge"].as_str().unwrap(), origin);
        let auth_data = self.auth_data(0x05, false);
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature = self.key.sign(&SystemRandom::new(), &signed).unwrap();
        let id = B64.encode(&self.credential_id);
        json!({
            "id": id, "rawId": id, "type": "public-key",
            "response": {"clientDataJSON": B64.encode(client_data), "authenticatorData": B64.encode(auth_data),
                "signature": B64.encode(signature.as_ref()), "userHandle": B64.encode(&self.user_handle)},
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
        })
        .to_string()
    }
}

async fn app() -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = 3;
    })
    .await
}

/// Registers a passkey for the signed-in browser; returns its id.
async fn register(browser: &mut Browser<'_>, key: &mut SoftKey, origin: &str) -> (StatusCode, Value, String) {
    let (status, body) = browser.post("/v1/me/passkeys", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let passkey = &body["response"];
    assert_eq!(
        (passkey["object"].as_str(), passkey["verification"]["status"].as_str()),
        (Some("passkey"), Some("unverified"))
    );
    let id = passkey["id"].as_str().unwrap().to_owned();
    let options: Value = serde_json::from_str(passkey["verification"]["nonce"].as_str().unwrap()).unwrap();
    let credential = key.register(&options, origin);
    let (status, body) = browser
        .post(
            &format!("/v1/me/passkeys/{id}/attempt_verification"),
            &[("strategy", "passkey"), ("public_key_credential", &credential)],
        )
        .await;
    (status, body, id)
}

fn nonce(sign_in: &Value) -> Value {
    let text = sign_in["first_factor_verification"]["nonce"].as_str().expect("a passkey challenge");
    serde_json::from_str(text).unwrap()
}

async fn attempt(browser: &mut Browser<'_>, id: &str, credential: &str) -> (StatusCode, Value) {
    browser
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_first_factor"),
            &[("strategy", "passkey"), ("public_key_credential", credential)],
        )
        .await
}

/// Signs up ada, signs her in, and registers `key`.
async fn ada_with_passkey(app: &TestApp, key: &mut SoftKey) -> String {
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(app);
    let (status, _) = browser.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body, id) = register(&mut browser, key, ORIGIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    id
}

#[tokio::test]
async fn a_passkey_is_registered_and_signs_in_without_an_identifier() {
    let app = app().await;
    let env: Value = app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(env["user_settings"]["attributes"]["passkey"]["enabled"], true);
    assert!(env["user_settings"]["passkey_settings"].is_object());

    let mut key = SoftKey::new("localhost");
    app.create_user("ada@example.com").await;
    let mut laptop = Browser::new(&app);
    laptop.sign_in("ada@example.com", PASSWORD).await;
    let (status, body, id) = register(&mut laptop, &mut key, ORIGIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["verification"]["status"], "verified");
    assert_eq!(body["response"]["credential_id"], B64.encode(&key.credential_id));
    let user = &body["client"]["sessions"][0]["user"];
    assert_eq!(user["passkeys"].as_array().map(Vec::len), Some(1), "{user}");
    assert_eq!(user["passkeys"][0]["id"], id.as_str());

    // clerk-js's discoverable flow: created with the strategy, no identifier.
    let mut phone = Browser::new(&app);
    let (status, body) = phone.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sign_in = &body["response"];
    assert_eq!(sign_in["status"], "needs_first_factor");
    let options = nonce(sign_in);
    assert_eq!(options["rpId"], "localhost");
    assert!(options.get("allowCredentials").is_none_or(|c| c.as_array().is_some_and(Vec::is_empty)), "{options}");
    let sia = sign_in["id"].as_str().unwrap().to_owned();
    let assertion = key.assert(&options, ORIGIN);
    let (status, body) = attempt(&mut phone, &sia, &assertion).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    let (status, me) = phone.get("/v1/me").await;
    assert_eq!((status, me["response"]["id"].as_str()), (StatusCode::OK, user["id"].as_str()));
    assert!(me["response"]["passkeys"][0]["last_used_at"].is_i64(), "{me}");

    // The same assertion again: the attempt is done, and a new attempt's challenge differs.
    let replay = attempt(&mut phone, &sia, &assertion).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "sign_in_status_invalid");
    let mut other = Browser::new(&app);
    let (_, body) = other.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let replay = attempt(&mut other, &sia, &assertion).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "passkey_verification_failed");
    // That attempt's challenge is used up by the failure, too.
    let fresh = key.assert(&nonce(&body["response"]), ORIGIN);
    let (status, body) = attempt(&mut other, &sia, &fresh).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}

#[tokio::test]
async fn a_passkey_signs_in_after_an_identifier_and_only_for_that_account() {
    let app = app().await;
    let mut key = SoftKey::new("localhost");
    ada_with_passkey(&app, &mut key).await;
    app.create_user("bob@example.com").await;

    // No one is offered the passkey factor after an identifier, with a passkey or not, known or
    // not: the list tells nothing, and clerk-js does not start every sign-in with a passkey.
    for identifier in ["ada@example.com", "bob@example.com", "nobody@example.com"] {
        let mut browser = Browser::new(&app);
        let (_, body) = browser.post("/v1/client/sign_ins", &[("identifier", identifier)]).await;
        let factors = body["response"]["supported_first_factors"].as_array().unwrap().clone();
        assert!(!factors.is_empty() && factors.iter().all(|f| f["strategy"] != "passkey"), "{identifier}: {factors:?}");
    }

    let mut browser = Browser::new(&app);
    let (_, body) = browser.post("/v1/client/sign_ins", &[("identifier", "bob@example.com")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let (status, body) =
        browser.post(&format!("/v1/client/sign_ins/{sia}/prepare_first_factor"), &[("strategy", "passkey")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Ada's passkey does not sign in as bob.
    let wrong = attempt(&mut browser, &sia, &key.assert(&nonce(&body["response"]), ORIGIN)).await;
    assert_error(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "passkey_verification_failed");

    let (_, body) = browser.post("/v1/client/sign_ins", &[("identifier", "ada@example.com")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let (_, body) =
        browser.post(&format!("/v1/client/sign_ins/{sia}/prepare_first_factor"), &[("strategy", "passkey")]).await;
    let (status, body) = attempt(&mut browser, &sia, &key.assert(&nonce(&body["response"]), ORIGIN)).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
}

#[tokio::test]
async fn credentials_made_for_another_origin_are_refused() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.com", PASSWORD).await;
    let mut key = SoftKey::new("localhost");
    let (status, body, _) = register(&mut browser, &mut key, "https://evil.example").await;
    assert_error(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "passkey_registration_failed");
    let (_, me) = browser.get("/v1/me").await;
    assert_eq!(me["response"]["passkeys"], json!([]));

    // Registered properly, then asserted for another site: refused.
    let (status, body, _) = register(&mut browser, &mut key, ORIGIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut phone = Browser::new(&app);
    let (_, body) = phone.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let phished = key.assert(&nonce(&body["response"]), "https://evil.example");
    assert_error(
        &attempt(&mut phone, &sia, &phished).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_verification_failed",
    );
    // And a credential for another relying party id (the hash in the authenticator data).
    let mut foreign = SoftKey::new("evil.example");
    foreign.credential_id = key.credential_id.clone();
    foreign.user_handle = key.user_handle.clone();
    foreign.key = key.key;
    let (_, body) = phone.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let other_rp = foreign.assert(&nonce(&body["response"]), ORIGIN);
    assert_error(
        &attempt(&mut phone, &sia, &other_rp).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_verification_failed",
    );
}

#[tokio::test]
async fn a_counter_that_does_not_go_up_is_refused_and_failures_lock_the_account() {
    let app = app().await;
    let mut key = SoftKey::new("localhost");
    ada_with_passkey(&app, &mut key).await;
    let mut browser = Browser::new(&app);
    let (_, body) = browser.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    key.counter = 9;
    let (status, body) = attempt(&mut browser, &sia, &key.assert(&nonce(&body["response"]), ORIGIN)).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A clone of the authenticator, behind on its counter, is refused even with a right signature.
    for _ in 0..3 {
        let mut browser = Browser::new(&app);
        let (_, body) = browser.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
        let sia = body["response"]["id"].as_str().unwrap().to_owned();
        key.counter = 4;
        let cloned = key.assert(&nonce(&body["response"]), ORIGIN);
        assert_error(
            &attempt(&mut browser, &sia, &cloned).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "passkey_verification_failed",
        );
    }
    // Three failures lock the account (lockout_attempts = 3): now even a right assertion fails.
    let (_, users) = app.get("/v1/users?email_address=ada@example.com").await;
    assert_eq!(users[0]["locked"], true, "{users}");
    let mut browser = Browser::new(&app);
    let (_, body) = browser.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    key.counter = 20;
    let right = key.assert(&nonce(&body["response"]), ORIGIN);
    assert_error(
        &attempt(&mut browser, &sia, &right).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_verification_failed",
    );
}

#[tokio::test]
async fn passkeys_are_renamed_and_deleted_through_both_apis() {
    let app = app().await;
    let mut key = SoftKey::new("localhost");
    let id = ada_with_passkey(&app, &mut key).await;
    let mut browser = Browser::new(&app);
    browser.sign_in("ada@example.com", PASSWORD).await;
    let (status, body) =
        browser.send(reqwest::Method::PATCH, &format!("/v1/me/passkeys/{id}"), &[("name", "Work laptop")]).await;
    assert_eq!((status, body["response"]["name"].as_str()), (StatusCode::OK, Some("Work laptop")), "{body}");
    let empty = browser.send(reqwest::Method::PATCH, &format!("/v1/me/passkeys/{id}"), &[("name", " ")]).await;
    assert_error(&empty, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");

    let (_, users) = app.get("/v1/users?email_address=ada@example.com").await;
    let user_id = users[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(users[0]["passkeys"][0]["name"], "Work laptop", "{users}");
    let (status, _) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{user_id}/passkeys/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{user_id}/passkeys/{id}"), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Gone: it signs nobody in.
    let mut phone = Browser::new(&app);
    let (_, body) = phone.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let gone = key.assert(&nonce(&body["response"]), ORIGIN);
    assert_error(
        &attempt(&mut phone, &sia, &gone).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "passkey_verification_failed",
    );

    // Registered again and deleted by its owner.
    let (status, body, id) = register(&mut browser, &mut key, ORIGIN).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = browser.send(reqwest::Method::DELETE, &format!("/v1/me/passkeys/{id}"), &[]).await;
    assert_eq!((status, body["response"]["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{body}");
    assert_eq!(body["client"]["sessions"][0]["user"]["passkeys"], json!([]));
}

#[tokio::test]
async fn a_sign_in_challenge_and_a_registration_expire() {
    let app = app().await;
    let mut key = SoftKey::new("localhost");
    ada_with_passkey(&app, &mut key).await;
    let mut browser = Browser::new(&app);
    let (_, body) = browser.post("/v1/client/sign_ins", &[("strategy", "passkey")]).await;
    let sia = body["response"]["id"].as_str().unwrap().to_owned();
    let late = key.assert(&nonce(&body["response"]), ORIGIN);
    app.clock.advance_ms(5 * 60 * 1000 + 1);
    assert_error(&attempt(&mut browser, &sia, &late).await, StatusCode::UNPROCESSABLE_ENTITY, "verification_expired");

    let mut laptop = Browser::new(&app);
    laptop.sign_in("ada@example.com", PASSWORD).await;
    let (_, body) = laptop.post("/v1/me/passkeys", &[]).await;
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let options: Value = serde_json::from_str(body["response"]["verification"]["nonce"].as_str().unwrap()).unwrap();
    let credential = SoftKey::new("localhost").register(&options, ORIGIN);
    app.clock.advance_ms(10 * 60 * 1000 + 1);
    let path = format!("/v1/me/passkeys/{id}/attempt_verification");
    let answer = laptop.post(&path, &[("strategy", "passkey"), ("public_key_credential", &credential)]).await;
    assert_eq!(answer.0, StatusCode::NOT_FOUND, "{}", answer.1);
}
