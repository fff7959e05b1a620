//! `/v1/jwt_templates` and template tokens.

use aws_lc_rs::hmac;
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Db, assert_error, decode, spawn_app, verify_rs256};

const SUPABASE_SECRET: &str = "super-secret-jwt-token-with-at-least-32-characters-long";

#[tokio::test]
async fn a_supabase_template_mints_hs256_tokens_with_rendered_claims() {
    let app = spawn_app(Db::Sqlite).await;
    let (user_id, session_id) = app.user_with_session("ada@example.com").await;
    app.patch(
        &format!("/v1/users/{user_id}"),
        json!({"first_name": "Ada", "last_name": "Lovelace", "public_metadata": {"age": 36}}),
    )
    .await;
    let (status, template) = app
        .post(
            "/v1/jwt_templates",
            json!({"name": "supabase", "lifetime": 3600, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": SUPABASE_SECRET,
                   "claims": {"aud": "authenticated", "role": "authenticated", "email": "{{user.primary_email_address}}",
                              "age": "{{user.public_metadata.age || 30}}", "tier": "{{user.public_metadata.tier || 'free'}}",
                              "name": "{{user.last_name}}, {{user.first_name}}", "missing": "{{user.i_dont_exist}}", "app_metadata": {}}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{template}");
    assert_eq!(
        (template["object"].as_str(), template["lifetime"].as_i64(), template["allowed_clock_skew"].as_i64()),
        (Some("jwt_template"), Some(3600), Some(5))
    );
    assert!(template.get("signing_key").is_none(), "the signing key is write-only");

    let (status, token) = app.post(&format!("/v1/sessions/{session_id}/tokens/supabase"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let jwt = token["jwt"].as_str().unwrap();
    let (signed, signature) = jwt.rsplit_once('.').unwrap();
    let key = hmac::Key::new(hmac::HMAC_SHA256, SUPABASE_SECRET.as_bytes());
    hmac::verify(&key, signed.as_bytes(), &URL_SAFE_NO_PAD.decode(signature).unwrap())
        .expect("HS256 signature verifies with the project's secret");
    let (header, claims) = decode(jwt);
    assert_eq!(header["alg"], "HS256");
    assert_eq!(claims["sub"], user_id.as_str());
    assert_eq!((claims["aud"].as_str(), claims["role"].as_str()), (Some("authenticated"), Some("authenticated")));
    assert_eq!(claims["email"], "ada@example.com");
    assert_eq!(claims["age"], 36);
    assert_eq!(claims["tier"], "free");
    assert_eq!(claims["name"], "Lovelace, Ada");
    assert!(claims["missing"].is_null());
    assert_eq!(claims["app_metadata"], json!({}));
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 3600);
    assert_eq!(claims["iat"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(), 5);
    assert!(claims.get("sid").is_none(), "template tokens are not session tokens");
}

#[tokio::test]
async fn a_default_template_is_signed_by_the_instance_key_in_the_template_category() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, session_id) = app.user_with_session("a@example.com").await;
    let (_, template) = app.post("/v1/jwt_templates", json!({"name": "plain", "claims": {"kind": "plain"}})).await;
    assert_eq!(
        (template["signing_algorithm"].as_str(), template["custom_signing_key"].as_bool()),
        (Some("RS256"), Some(false))
    );
    let (_, token) = app.post(&format!("/v1/sessions/{session_id}/tokens/plain"), json!({})).await;
    let jwt = token["jwt"].as_str().unwrap();
    assert_eq!(decode(jwt).0["cat"], "cl_B7d4PD222AAA");
    assert_eq!(verify_rs256(jwt, &app.jwks().await).expect("verifies")["kind"], "plain");
    assert_error(
        &app.post(&format!("/v1/sessions/{session_id}/tokens/nope"), json!({})).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
}

#[tokio::test]
async fn templates_are_listed_updated_and_deleted() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, t) = app.post("/v1/jwt_templates", json!({"name": "one", "claims": {"a": 1}})).await;
    let id = t["id"].as_str().unwrap();
    assert!(id.starts_with("jtmp_"));
    assert_eq!(app.get("/v1/jwt_templates").await.1.as_array().unwrap().len(), 1);
    assert_eq!(app.get("/v1/jwt_templates?paginated=true").await.1["total_count"], 1);
    let (_, updated) = app.patch(&format!("/v1/jwt_templates/{id}"), json!({"name": "renamed", "lifetime": 120})).await;
    assert_eq!(
        (updated["name"].as_str(), updated["lifetime"].as_i64(), &updated["claims"]),
        (Some("renamed"), Some(120), &json!({"a": 1}))
    );
    assert_eq!(app.get(&format!("/v1/jwt_templates/{id}")).await.1, updated);
    let (_, deleted) = app.call(Method::DELETE, &format!("/v1/jwt_templates/{id}"), None).await;
    assert_eq!(deleted, json!({"object": "jwt_template", "id": id, "deleted": true}));
    assert_error(&app.get(&format!("/v1/jwt_templates/{id}")).await, StatusCode::NOT_FOUND, "resource_not_found");
}

#[tokio::test]
async fn invalid_templates_are_refused() {
    let app = spawn_app(Db::Sqlite).await;
    app.post("/v1/jwt_templates", json!({"name": "taken", "claims": {}})).await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (json!({"name": "taken", "claims": {}}), "duplicate_record"),
        (json!({"claims": {}}), "form_param_missing"),
        (json!({"name": "x", "claims": [1]}), "form_param_format_invalid"),
        (json!({"name": "x", "claims": {"sub": "someone-else"}}), "form_param_value_invalid"),
        (json!({"name": "x", "claims": {"a": "{{user.id"}}), "form_param_format_invalid"),
        (json!({"name": "x", "claims": {}, "lifetime": 5}), "form_param_value_invalid"),
        (json!({"name": "x", "claims": {}, "allowed_clock_skew": 301}), "form_param_value_invalid"),
        (
            json!({"name": "x", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256"}),
            "form_param_missing",
        ),
        (
            json!({"name": "x", "claims": {}, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "short"}),
            "form_param_value_invalid",
        ),
        (
            json!({"name": "x", "claims": {}, "custom_signing_key": true, "signing_algorithm": "none", "signing_key": SUPABASE_SECRET}),
            "form_param_value_invalid",
        ),
        (
            json!({"name": "x", "claims": {}, "custom_signing_key": true, "signing_algorithm": "RS256", "signing_key": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----"}),
            "form_param_value_invalid",
        ),
        (json!({"name": "a/b", "claims": {}}), "form_param_format_invalid"),
    ];
    for (body, code) in cases {
        let answer = app.post("/v1/jwt_templates", body.clone()).await;
        assert_error(&answer, unprocessable, code);
    }
    assert_eq!(app.get("/v1/jwt_templates?paginated=true").await.1["total_count"], 1);
}
