//! A **stand-in** for the GitHub endpoints usher's `oauth_github` flow uses, as GitHub documents
//! them (github.com cannot be reached from the tests): `GET /login/oauth/authorize` (approves
//! at once), `POST /login/oauth/access_token` (JSON with `Accept: application/json`, PKCE
//! checked), `GET /user` and `GET /user/emails` (Bearer token). Not GitHub itself.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::{Value, json};
use usher_server::ids;

pub const CLIENT_ID: &str = "Iv1.standin";
pub const CLIENT_SECRET: &str = "github-standin-secret";

#[derive(Default)]
struct Inner {
    /// code → (PKCE challenge, redirect_uri).
    codes: Mutex<HashMap<String, (String, String)>>,
    tokens: Mutex<Vec<String>>,
    emails: Value,
}

pub struct GithubStandIn {
    pub url: String,
}

impl GithubStandIn {
    /// `emails` is what `/user/emails` answers.
    pub async fn start(emails: Value) -> Self {
        let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let inner = Arc::new(Inner { emails, ..Inner::default() });
        let app = Router::new()
            .route("/login/oauth/authorize", get(authorize))
            .route("/login/oauth/access_token", post(access_token))
            .route("/user", get(user))
            .route("/user/emails", get(emails_route))
            .with_state(inner);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { url }
    }
}

async fn authorize(State(s): State<Arc<Inner>>, Query(q): Query<HashMap<String, String>>) -> Response {
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        return (StatusCode::NOT_FOUND, "unknown client").into_response();
    }
    let code = ids::random_base62(20);
    let redirect = q["redirect_uri"].clone();
    s.codes
        .lock()
        .unwrap()
        .insert(code.clone(), (q.get("code_challenge").cloned().unwrap_or_default(), redirect.clone()));
    let mut url = url::Url::parse(&redirect).unwrap();
    url.query_pairs_mut().append_pair("code", &code).append_pair("state", q.get("state").map_or("", String::as_str));
    Redirect::to(url.as_str()).into_response()
}

async fn access_token(
    State(s): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    // GitHub answers form-encoded unless asked for JSON; usher must ask.
    if headers.get("accept").and_then(|v| v.to_str().ok()) != Some("application/json") {
        return (StatusCode::OK, "access_token=form-encoded&token_type=bearer").into_response();
    }
    // GitHub reports a bad code with 200 and an error body.
    let bad = |error: &str| {
        Json(json!({"error": error, "error_description": "The code passed is incorrect or expired."})).into_response()
    };
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID)
        || f.get("client_secret").map(String::as_str) != Some(CLIENT_SECRET)
    {
        return bad("incorrect_client_credentials");
    }
    let Some((challenge, redirect)) = s.codes.lock().unwrap().remove(f.get("code").map_or("", String::as_str)) else {
        return bad("bad_verification_code");
    };
    let verifier = f.get("code_verifier").cloned().unwrap_or_default();
    if URL_SAFE_NO_PAD.encode(ids::sha256(verifier.as_bytes())) != challenge || f.get("redirect_uri") != Some(&redirect)
    {
        return bad("bad_verification_code");
    }
    let token = format!("gho_{}", ids::random_base62(36));
    s.tokens.lock().unwrap().push(token.clone());
    Json(json!({"access_token": token, "token_type": "bearer", "scope": "read:user,user:email"})).into_response()
}

fn authorized(s: &Inner, headers: &HeaderMap) -> bool {
    let token = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let agent = headers.get("user-agent").is_some(); // GitHub refuses requests without one
    agent && token.is_some_and(|t| s.tokens.lock().unwrap().iter().any(|k| k == t))
}

async fn user(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !authorized(&s, &headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response();
    }
    Json(json!({"login": "octocat", "id": 583231, "name": "Mona Lisa Octocat", "avatar_url": "https://avatars.example/u/583231"}))
        .into_response()
}

async fn emails_route(State(s): State<Arc<Inner>>, headers: HeaderMap) -> Response {
    if !authorized(&s, &headers) {
        return (StatusCode::UNAUTHORIZED, Json(json!({"message": "Bad credentials"}))).into_response();
    }
    Json(s.emails.clone()).into_response()
}
