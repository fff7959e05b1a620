//! The example app, as a real process, against a real usher server: every route signed out
//! and signed in, with the token as a bearer header and as the `__session` cookie.

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
};

use reqwest::{StatusCode, redirect::Policy};
use serde_json::{Value, json};
use usher_server::testing::TestServer;

struct Setup {
    api: String,
    secret: String,
    app: String,
    child: Child,
    _server: TestServer,
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn setup() -> Setup {
    let server = usher_server::testing::start(|_| {}).await;
    let (api, secret) = (server.url.clone(), server.secret.clone());
    let mut child = Command::new(env!("CARGO_BIN_EXE_usher-example-endpoints"))
        .args(["--listen", "127.0.0.1:0"])
        .env("CLERK_API_URL", &api)
        .env("CLERK_SECRET_KEY", &secret)
        .env("PUBLIC_CLERK_PUBLISHABLE_KEY", &server.publishable)
        .env_remove("PUBLIC_CLERK_SIGN_IN_URL")
        .env_remove("CLERK_JWT_KEY")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let app = line.split("listening on ").nth(1).expect("listening line").trim().to_owned();
    Setup { api, secret, app, child, _server: server }
}

impl Setup {
    async fn bapi(&self, path: &str, body: Value) -> Value {
        let http = reqwest::Client::new();
        let response =
            http.post(format!("{}{path}", self.api)).bearer_auth(&self.secret).json(&body).send().await.unwrap();
        assert!(response.status().is_success(), "{path}: {}", response.status());
        response.json().await.unwrap()
    }

    /// A user with a session, and a session token for it.
    async fn signed_in(&self) -> (String, String) {
        let user = self.bapi("/v1/users", json!({"email_address": ["ada@example.com"], "first_name": "Ada"})).await;
        let session = self.bapi("/v1/sessions", json!({"user_id": user["id"]})).await;
        let token = self.bapi(&format!("/v1/sessions/{}/tokens", session["id"].as_str().unwrap()), json!({})).await;
        (user["id"].as_str().unwrap().to_owned(), token["jwt"].as_str().unwrap().to_owned())
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

#[tokio::test]
async fn signed_out_requests_get_the_docs_answers() {
    let s = setup().await;
    let http = client();
    let cases = [
        ("GET", "/api/route", "Error: No signed in user"),
        ("GET", "/api/supabase", "Unauthorized"),
        ("GET", "/api/me", "Unauthorized"),
        ("POST", "/api/me", "Unauthorized"),
        ("GET", "/api/users", "Unauthorized"),
    ];
    for (method, path, body) in cases {
        let response = http.request(method.parse().unwrap(), format!("{}{path}", s.app)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{method} {path}");
        assert_eq!(response.text().await.unwrap(), body, "{method} {path}");
    }
    let garbage = http.get(format!("{}/api/route", s.app)).bearer_auth("not.a.token").send().await.unwrap();
    assert_eq!(garbage.status(), StatusCode::UNAUTHORIZED, "a bad token is signed out, not a 500");

    let redirect = http.get(format!("{}/api/user?tab=1", s.app)).send().await.unwrap();
    assert_eq!(redirect.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = redirect.headers()["location"].to_str().unwrap();
    let expected_target = format!("{}/api/user?tab=1", s.app);
    let url = reqwest::Url::parse(location).unwrap();
    assert_eq!(location.split('?').next().unwrap(), format!("{}/sign-in", s.api));
    assert_eq!(url.query_pairs().find(|(k, _)| k == "redirect_url").unwrap().1, expected_target);
}

#[tokio::test]
async fn signed_in_requests_work_with_a_bearer_token_and_with_the_session_cookie() {
    let s = setup().await;
    let (user_id, token) = s.signed_in().await;
    let http = client();
    let bearer = |path: &str| http.get(format!("{}{path}", s.app)).bearer_auth(&token);
    let cookie = |path: &str| http.get(format!("{}{path}", s.app)).header("cookie", format!("__session={token}"));
    for request in [bearer("/api/route"), cookie("/api/route")] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.json::<Value>().await.unwrap(), json!({"userId": user_id}));
    }
    let me: Value = cookie("/api/me").send().await.unwrap().json().await.unwrap();
    assert_eq!((me["user"]["id"].as_str(), me["user"]["object"].as_str()), (Some(user_id.as_str()), Some("user")));
    let user: Value = bearer("/api/user").send().await.unwrap().json().await.unwrap();
    assert_eq!(user["user"]["first_name"], "Ada");
    let updated: Value =
        http.post(format!("{}/api/me", s.app)).bearer_auth(&token).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (updated["user"]["first_name"].as_str(), updated["user"]["last_name"].as_str()),
        (Some("Clerk"), Some("Cookie"))
    );
    let users: Value = bearer("/api/users").send().await.unwrap().json().await.unwrap();
    assert_eq!((users["totalCount"].as_i64(), users["data"][0]["id"].as_str()), (Some(1), Some(user_id.as_str())));

    let missing = bearer("/api/supabase").send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert!(missing.text().await.unwrap().contains("supabase"), "a clear error when the template does not exist");
    s.bapi(
        "/v1/jwt_templates",
        json!({"name": "supabase", "claims": {"role": "authenticated"}, "custom_signing_key": true, "signing_algorithm": "HS256", "signing_key": "a-supabase-jwt-secret-of-32-bytes-or-more"}),
    )
    .await;
    let supabase: Value = bearer("/api/supabase").send().await.unwrap().json().await.unwrap();
    assert_eq!(supabase["supabaseData"], "Hello World");
    let jwt = supabase["token"].as_str().unwrap();
    assert_eq!(jwt.split('.').count(), 3);
}

#[tokio::test]
async fn invoices_need_the_permission_in_the_active_organization() {
    let s = setup().await;
    let (user_id, token) = s.signed_in().await;
    let http = client();
    let invoices = |token: &str| http.get(format!("{}/api/invoices", s.app)).bearer_auth(token.to_owned()).send();
    assert_eq!(http.get(format!("{}/api/invoices", s.app)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Signed in without an active organization: no permission.
    assert_eq!(invoices(&token).await.unwrap().status(), StatusCode::FORBIDDEN);

    let org = s.bapi("/v1/organizations", json!({"name": "Invoicing", "created_by": user_id})).await;
    let org_id = org["id"].as_str().unwrap();
    // An admin holds only the system permissions: still 403.
    let admin_token = org_token(&s, &user_id, org_id).await;
    assert_eq!(invoices(&admin_token).await.unwrap().status(), StatusCode::FORBIDDEN);

    // The permission granted to the admin role: the next token carries it, and the route opens.
    let perm =
        s.bapi("/v1/organization_permissions", json!({"key": "org:invoices:create", "name": "Create invoices"})).await;
    s.bapi(&format!("/v1/organization_roles/role_admin/permissions/{}", perm["id"].as_str().unwrap()), json!({})).await;
    let granted = org_token(&s, &user_id, org_id).await;
    let response = invoices(&granted).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.json::<Value>().await.unwrap()["orgId"], org_id);
}

/// A token of a new session of `user_id` with `org_id` active.
async fn org_token(s: &Setup, user_id: &str, org_id: &str) -> String {
    let session = s.bapi("/v1/sessions", json!({"user_id": user_id, "active_organization_id": org_id})).await;
    let token = s.bapi(&format!("/v1/sessions/{}/tokens", session["id"].as_str().unwrap()), json!({})).await;
    token["jwt"].as_str().unwrap().to_owned()
}
