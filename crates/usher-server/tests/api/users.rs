//! `/v1/users` over HTTP: shapes, filters, updates, and every kind of bad input.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Db, assert_error, spawn_app};

#[tokio::test]
async fn a_user_is_created_read_listed_counted_and_deleted() {
    let app = spawn_app(Db::Sqlite).await;
    let (status, user) = app
        .post(
            "/v1/users",
            json!({"email_address": ["Ada@Example.com"], "phone_number": ["+15555550100"], "username": "ada_l", "password": "correct horse battery",
                   "first_name": "Ada", "last_name": "Lovelace", "external_id": "ext-1", "public_metadata": {"plan": "pro"},
                   "private_metadata": {"ssn": "x"}, "unsafe_metadata": {"theme": "dark"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let id = user["id"].as_str().unwrap();
    assert!(id.starts_with("user_"));
    assert_eq!(user["object"], "user");
    assert_eq!(user["email_addresses"][0]["email_address"], "Ada@Example.com");
    assert_eq!(user["primary_email_address_id"], user["email_addresses"][0]["id"]);
    assert_eq!(user["email_addresses"][0]["linked_to"], json!([]));
    assert_eq!(user["email_addresses"][0]["verification"]["status"], "verified");
    assert_eq!(user["primary_phone_number_id"], user["phone_numbers"][0]["id"]);
    assert_eq!(user["password_enabled"], true);
    assert_eq!(user["public_metadata"]["plan"], "pro");
    for key in ["web3_wallets", "passkeys", "external_accounts", "saml_accounts", "enterprise_accounts"] {
        assert_eq!(user[key], json!([]), "{key}");
    }
    assert_eq!(app.get(&format!("/v1/users/{id}")).await.1, user);

    let (status, list) = app.get("/v1/users?email_address=ada@example.com&email_address=nobody@example.com").await;
    assert_eq!((status, list.as_array().unwrap().len()), (StatusCode::OK, 1));
    assert_eq!(app.get("/v1/users/count?query=lovel").await.1, json!({"object": "total_count", "total_count": 1}));
    assert_eq!(app.get("/v1/users/count?username=nobody").await.1["total_count"], 0);

    let (status, deleted) = app.call(Method::DELETE, &format!("/v1/users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted, json!({"object": "user", "id": id, "deleted": true, "external_id": "ext-1"}));
    assert_error(&app.get(&format!("/v1/users/{id}")).await, StatusCode::NOT_FOUND, "resource_not_found");
}

#[tokio::test]
async fn lists_are_ordered_and_paged() {
    let app = spawn_app(Db::Sqlite).await;
    for (i, name) in ["carol", "alice", "bob"].iter().enumerate() {
        app.clock.advance_ms(10);
        let (status, _) = app.post("/v1/users", json!({"email_address": [format!("{name}@example.com")], "first_name": name, "username": format!("user_{i}_x")})).await;
        assert_eq!(status, StatusCode::OK);
    }
    let names = |v: serde_json::Value| {
        v.as_array().unwrap().iter().map(|u| u["first_name"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(names(app.get("/v1/users").await.1), ["bob", "alice", "carol"], "newest first by default");
    assert_eq!(names(app.get("/v1/users?order_by=%2Bfirst_name").await.1), ["alice", "bob", "carol"]);
    assert_eq!(names(app.get("/v1/users?order_by=-email_address&limit=2&offset=1").await.1), ["bob", "alice"]);
    assert_error(
        &app.get("/v1/users?order_by=password").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    assert_error(
        &app.get("/v1/users?limit=100000").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    assert_error(&app.get("/v1/users?offset=-1").await, StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid");
    assert_error(&app.get("/v1/users?limit=ten").await, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
}

#[tokio::test]
async fn updates_change_fields_and_metadata_merges_deeply() {
    let app = spawn_app(Db::Sqlite).await;
    let user = app.create_user("ada@example.com").await;
    let id = user["id"].as_str().unwrap();
    let (status, updated) = app.patch(&format!("/v1/users/{id}"), json!({"first_name": "Ada", "last_name": "Byron", "username": "countess", "public_metadata": {"a": {"b": 1, "c": 2}}})).await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!((updated["first_name"].as_str(), updated["username"].as_str()), (Some("Ada"), Some("countess")));
    assert!(updated["updated_at"].as_i64() >= user["updated_at"].as_i64());

    let (_, merged) = app
        .patch(
            &format!("/v1/users/{id}/metadata"),
            json!({"public_metadata": {"a": {"b": null, "d": 3}}, "private_metadata": {"k": "v"}}),
        )
        .await;
    assert_eq!(merged["public_metadata"], json!({"a": {"c": 2, "d": 3}}));
    assert_eq!(merged["private_metadata"], json!({"k": "v"}));
    let (_, replaced) =
        app.call(Method::PUT, &format!("/v1/users/{id}/metadata"), Some(json!({"public_metadata": {"z": 1}}))).await;
    assert_eq!((&replaced["public_metadata"], &replaced["private_metadata"]), (&json!({"z": 1}), &json!({"k": "v"})));

    let (_, cleared) = app.patch(&format!("/v1/users/{id}"), json!({"last_name": null})).await;
    assert_eq!((cleared["last_name"].is_null(), cleared["first_name"].as_str()), (true, Some("Ada")));
    let big = "x".repeat(9000);
    assert_error(
        &app.patch(&format!("/v1/users/{id}/metadata"), json!({"public_metadata": {"big": big}})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_exceeds_allowed_size",
    );
    assert_eq!(
        app.get(&format!("/v1/users/{id}")).await.1["public_metadata"],
        json!({"z": 1}),
        "a refused merge writes nothing"
    );
}

#[tokio::test]
async fn passwords_verify_whole_and_normalized_and_can_be_imported() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, user) =
        app.post("/v1/users", json!({"email_address": ["a@example.com"], "password": "caf\u{e9} au lait!"})).await;
    let path = format!("/v1/users/{}/verify_password", user["id"].as_str().unwrap());
    assert_eq!(
        app.post(&path, json!({"password": "cafe\u{301} au lait!"})).await,
        (StatusCode::OK, json!({"verified": true}))
    );
    assert_error(
        &app.post(&path, json!({"password": "caf\u{e9} au lait"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_password_incorrect",
    );

    let digest = bcrypt::hash("imported secret", 4).unwrap();
    let (status, imported) = app
        .post(
            "/v1/users",
            json!({"email_address": ["b@example.com"], "password_digest": digest, "password_hasher": "bcrypt"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{imported}");
    let path = format!("/v1/users/{}/verify_password", imported["id"].as_str().unwrap());
    assert_eq!(app.post(&path, json!({"password": "imported secret"})).await.0, StatusCode::OK);
    assert_error(
        &app.post(
            "/v1/users",
            json!({"email_address": ["c@example.com"], "password_digest": "nope", "password_hasher": "bcrypt"}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_format_invalid",
    );
}

#[tokio::test]
async fn ban_lock_and_their_reversal() {
    let app = spawn_app(Db::Sqlite).await;
    let (user_id, session_id) = app.user_with_session("a@example.com").await;
    let (_, banned) = app.post(&format!("/v1/users/{user_id}/ban"), json!({})).await;
    assert_eq!(banned["banned"], true);
    assert_eq!(
        app.get(&format!("/v1/sessions/{session_id}")).await.1["status"],
        "revoked",
        "a ban ends the user's sessions"
    );
    assert_error(
        &app.post("/v1/sessions", json!({"user_id": user_id})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "user_banned",
    );
    assert_eq!(app.post(&format!("/v1/users/{user_id}/unban"), json!({})).await.1["banned"], false);
    let (_, locked) = app.post(&format!("/v1/users/{user_id}/lock"), json!({})).await;
    assert_eq!((locked["locked"].as_bool(), locked["lockout_expires_in_seconds"].is_null()), (Some(true), true));
    assert_eq!(app.post(&format!("/v1/users/{user_id}/unlock"), json!({})).await.1["locked"], false);
}

#[tokio::test]
async fn bad_input_gets_clerk_errors_and_writes_nothing() {
    let app = spawn_app(Db::Sqlite).await;
    app.create_user("taken@example.com").await;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let cases = [
        (json!({"email_address": ["TAKEN@example.com"]}), "form_identifier_exists"),
        (json!({"email_address": ["not-an-email"]}), "form_param_format_invalid"),
        (json!({"email_address": ["a@example.com", "A@example.com"]}), "form_identifier_exists"),
        (json!({"email_address": "a@example.com"}), "form_param_format_invalid"),
        (json!({"phone_number": ["555"]}), "form_param_format_invalid"),
        (json!({"username": "ab"}), "form_username_invalid_length"),
        (json!({"username": "has space"}), "form_username_invalid_character"),
        (json!({"password": "short12"}), "form_password_length_too_short"),
        (json!({"password": "x".repeat(129)}), "form_password_length_too_long"),
        (json!({"first_name": "x".repeat(257)}), "form_param_exceeds_allowed_size"),
        (json!({"first_name": 5}), "form_param_format_invalid"),
        (json!({"public_metadata": [1]}), "form_param_format_invalid"),
        (
            json!({"password": "long enough", "password_digest": "x", "password_hasher": "bcrypt"}),
            "form_param_value_invalid",
        ),
    ];
    for (body, code) in cases {
        let answer = app.post("/v1/users", body.clone()).await;
        assert_error(&answer, unprocessable, code);
        assert!(answer.1["errors"][0]["meta"]["param_name"].is_string(), "{body} → {}", answer.1);
    }
    assert_eq!(app.get("/v1/users/count").await.1["total_count"], 1, "nothing was written");

    let raw =
        |body: &'static str| app.http.post(format!("{}/v1/users", app.url)).bearer_auth(&app.secret).body(body).send();
    let response = raw("{\"email_address\": [").await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()["content-type"], "application/json");
    let huge = app.post("/v1/users", json!({"first_name": "x".repeat(400_000)})).await;
    // Issue 11 item 11: no user without an identifier, however the body says nothing.
    for body in ["", "{}", "{\"first_name\": \"Nameless\"}", "{\"email_address\": [], \"username\": null}"] {
        let response = raw(body).await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["errors"][0]["code"], "form_data_missing", "{body:?}: {error}");
        assert_eq!(error["errors"][0]["meta"]["param_name"], "email_address");
    }
    assert_eq!(raw("[]").await.unwrap().status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.get("/v1/users/count").await.1["total_count"], 1, "no nameless user was written");
    let (status, body) = app.post("/v1/users", json!({"username": "only_a_username"})).await;
    assert_eq!(status, StatusCode::OK, "a username is an identifier: {body}");
    assert_error(&huge, StatusCode::PAYLOAD_TOO_LARGE, "request_body_too_large");
    assert_error(&app.get("/v1/users/user_nope").await, StatusCode::NOT_FOUND, "resource_not_found");
    assert_error(&app.get("/v1/nothing/here").await, StatusCode::NOT_FOUND, "resource_not_found");
    assert_error(&app.get("/v1/users/%FF%FE").await, StatusCode::BAD_REQUEST, "malformed_request");
}

#[tokio::test]
async fn the_secret_key_is_required_and_checked() {
    let app = spawn_app(Db::Sqlite).await;
    let url = format!("{}/v1/users", app.url);
    for auth in [None, Some("Bearer sk_test_wrong"), Some("Basic abc"), Some(&*format!("Bearer {}x", app.secret))] {
        let mut request = app.http.get(&url);
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["errors"][0]["code"], "clerk_key_invalid");
    }
    assert_eq!(app.get("/v1/users").await.0, StatusCode::OK);
    for path in ["/healthz", "/readyz", "/.well-known/jwks.json"] {
        assert_eq!(app.http.get(format!("{}{path}", app.url)).send().await.unwrap().status(), StatusCode::OK, "{path}");
    }
}

#[tokio::test]
async fn the_api_works_the_same_on_postgres() {
    if crate::helpers::skip_postgres() {
        return;
    }
    let app = spawn_app(Db::Postgres).await;
    let (user_id, session_id) = app.user_with_session("pg@example.com").await;
    assert_error(
        &app.post("/v1/users", json!({"email_address": ["PG@example.com"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_identifier_exists",
    );
    let list = app.get("/v1/users?query=pg%40").await.1;
    assert_eq!(list[0]["id"], user_id.as_str());
    let (status, token) = app.post(&format!("/v1/sessions/{session_id}/tokens"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let claims = crate::helpers::verify_rs256(token["jwt"].as_str().unwrap(), &app.jwks().await).expect("verifies");
    assert_eq!(claims["sub"], user_id.as_str());
}

#[tokio::test]
async fn the_backend_api_is_rate_limited_with_retry_after_but_not_the_jwks() {
    let app = crate::helpers::spawn_app_with(Db::Sqlite, |c| c.backend_requests_per_10s = 5).await;
    for _ in 0..5 {
        assert_eq!(app.get("/v1/users").await.0, StatusCode::OK);
    }
    let response = app.http.get(format!("{}/v1/users", app.url)).bearer_auth(&app.secret).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=10).contains(&retry_after), "{retry_after}");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["errors"][0]["code"], "too_many_requests");
    for _ in 0..20 {
        assert_eq!(app.get("/v1/jwks").await.0, StatusCode::OK);
    }
}
