//! `/v1/sessions` and session tokens.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{Db, assert_error, decode, spawn_app, verify_rs256};

#[tokio::test]
async fn a_session_token_carries_clerks_v2_claims_and_verifies_against_the_jwks() {
    let app = spawn_app(Db::Sqlite).await;
    let (user_id, session_id) = app.user_with_session("a@example.com").await;
    let (status, token) = app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["object"], "token");
    let jwt = token["jwt"].as_str().unwrap();
    let (header, _) = decode(jwt);
    assert_eq!(
        (header["alg"].as_str(), header["typ"].as_str(), header["cat"].as_str()),
        (Some("RS256"), Some("JWT"), Some("cl_B7d4PD111AAA"))
    );
    let claims = verify_rs256(jwt, &app.jwks().await).expect("signature verifies with the published key");
    assert_eq!((claims["sub"].as_str(), claims["sid"].as_str()), (Some(user_id.as_str()), Some(session_id.as_str())));
    assert_eq!(claims["iss"], app.url.as_str());
    assert_eq!(claims["v"], 2);
    assert_eq!(claims["sts"], "active");
    assert_eq!(claims["fva"], json!([0, -1]));
    let iat = claims["iat"].as_i64().unwrap();
    assert_eq!(claims["exp"].as_i64().unwrap() - iat, 60);
    assert!(claims["nbf"].as_i64().unwrap() <= iat);
    assert!(claims["jti"].is_string());

    let (_, custom) = app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({"expires_in_seconds": 600})).await;
    let (_, claims) = decode(custom["jwt"].as_str().unwrap());
    assert_eq!(claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(), 600);
    assert_error(
        &app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({"expires_in_seconds": 1})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
}

#[tokio::test]
async fn sessions_are_listed_plain_or_paginated() {
    let app = spawn_app(Db::Sqlite).await;
    let (user_id, first) = app.user_with_session("a@example.com").await;
    let (_, second) = app.post("/v1/sessions", json!({"user_id": user_id})).await;
    app.post(&format!("/v1/sessions/{first}/revoke"), json!({})).await;
    let (_, plain) = app.get(&format!("/v1/sessions?user_id={user_id}")).await;
    assert_eq!(plain.as_array().unwrap().len(), 2);
    let (_, page) = app.get(&format!("/v1/sessions?user_id={user_id}&status=active&paginated=true")).await;
    assert_eq!(page["total_count"], 1);
    assert_eq!(page["data"][0]["id"], second["id"]);
    assert_error(
        &app.get("/v1/sessions?status=sleeping").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    assert_error(
        &app.post("/v1/sessions", json!({"user_id": "user_nope"})).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
    assert_error(&app.post("/v1/sessions", json!({})).await, StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing");
}

#[tokio::test]
async fn revoked_and_expired_sessions_get_no_tokens() {
    let app = spawn_app(Db::Sqlite).await;
    let (user_id, session_id) = app.user_with_session("a@example.com").await;
    let (status, revoked) = app.post(&format!("/v1/sessions/{session_id}/revoke"), json!({})).await;
    assert_eq!((status, revoked["status"].as_str()), (StatusCode::OK, Some("revoked")));
    assert_error(
        &app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "session_not_active",
    );

    let (_, live) = app.post("/v1/sessions", json!({"user_id": user_id})).await;
    let live = live["id"].as_str().unwrap();
    app.clock.advance_ms(7 * 24 * 3600 * 1000 + 1000);
    assert_error(
        &app.post(&format!("/v1/sessions/{live}/tokens"), json!({})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "session_not_active",
    );
    assert_error(
        &app.post("/v1/sessions/sess_nope/tokens", json!({})).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
}
