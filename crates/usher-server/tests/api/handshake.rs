//! Clerk's handshake (`/v1/client/handshake`, `/v1/clients/handshake_payload`), the Frontend API
//! proxy headers, `/v1/client/touch`, the `PATCH` environment, and the pinned Clerk bundles.

use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::Value;

use crate::{
    frontend::{Browser, PASSWORD, app},
    helpers::{Db, TestApp, assert_error, decode, spawn_app_with, verify_rs256},
};

const APP: &str = "http://localhost:4321";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

/// A signed-in browser (cookies) on `app`.
async fn signed_in(app: &TestApp) -> (Browser<'_>, String) {
    let email = format!("hs-{}@example.com", usher_server::ids::random_base62(6).to_lowercase());
    app.create_user(&email).await;
    let mut b = Browser::new(app);
    let (status, body) = b.sign_in(&email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let user = body["client"]["sessions"][0]["user"]["id"].as_str().unwrap().to_owned();
    (b, user)
}

fn cookie_header(b: &Browser<'_>) -> String {
    b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
}

fn handshake_path(redirect: &str, suffixed: bool) -> String {
    let redirect: String = url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect();
    format!(
        "/v1/client/handshake?redirect_url={redirect}&format=nonce&suffixed_cookies={suffixed}&__clerk_hs_reason=session-token-expired"
    )
}

fn directive<'a>(directives: &'a [String], name: &str) -> Option<&'a str> {
    directives.iter().find_map(|d| d.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap()))
}

#[tokio::test]
async fn a_direct_handshake_returns_a_signed_token_with_the_session_cookies() {
    let app = app().await;
    let (b, user) = signed_in(&app).await;
    let res = no_redirects()
        .get(format!("{}{}", app.url, handshake_path(&format!("{APP}/page?x=1"), true)))
        .header(header::COOKIE, cookie_header(&b))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    assert_eq!(location.origin().ascii_serialization(), APP);
    assert_eq!(location.path(), "/page");
    let token = location.query_pairs().find(|(k, _)| k == "__clerk_handshake").map(|(_, v)| v.into_owned()).unwrap();
    let claims = verify_rs256(&token, &app.jwks().await).expect("signed by the instance key");
    let directives: Vec<String> = serde_json::from_value(claims["handshake"].clone()).unwrap();
    let session = directive(&directives, "__session").expect("__session");
    assert_eq!(decode(session).1["sub"], user);
    let suffix = usher_server::flows::handshake::cookie_suffix(&app.state.publishable_key);
    assert_eq!(directive(&directives, &format!("__session_{suffix}")), Some(session));
    let uat: i64 = directive(&directives, "__client_uat").unwrap().parse().unwrap();
    assert!(uat > 0);
    assert_eq!(directive(&directives, &format!("__client_uat_{suffix}")), Some(uat.to_string().as_str()));
}

#[tokio::test]
async fn a_signed_out_handshake_clears_the_session_and_zeroes_client_uat() {
    let app = app().await;
    let res = no_redirects().get(format!("{}{}", app.url, handshake_path(APP, false))).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    let token = location.query_pairs().find(|(k, _)| k == "__clerk_handshake").map(|(_, v)| v.into_owned()).unwrap();
    let directives: Vec<String> =
        serde_json::from_value(verify_rs256(&token, &app.jwks().await).unwrap()["handshake"].clone()).unwrap();
    assert_eq!(directive(&directives, "__session"), Some(""));
    assert_eq!(directive(&directives, "__client_uat"), Some("0"));
}

#[tokio::test]
async fn the_handshake_returns_only_to_allowed_origins() {
    let app = app().await;
    let http = no_redirects();
    for target in ["https://evil.example/", "/relative", "javascript:alert(1)", "http://user@localhost:4321/"] {
        let res = http.get(format!("{}{}", app.url, handshake_path(target, false))).send().await.unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert_error(&(status, body), StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
    }
    let res = http.get(format!("{}/v1/client/handshake", app.url)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn behind_a_proxy_the_nonce_is_redeemed_once_through_the_backend_api_until_it_expires() {
    let app = app().await;
    let (b, user) = signed_in(&app).await;
    let proxy = "https://app.example/__clerk";
    let res = no_redirects()
        .get(format!("{}{}", app.url, handshake_path("https://app.example/dash", false)))
        .header(header::COOKIE, cookie_header(&b))
        .header("clerk-proxy-url", proxy)
        .header("clerk-secret-key", &app.secret)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT, "the proxy's origin is allowed");
    assert_eq!(res.headers()[header::LOCATION], "https://app.example/dash");
    let set =
        res.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect::<Vec<_>>();
    let nonce_cookie = set.iter().find(|c| c.starts_with("__clerk_handshake_nonce=")).expect("the nonce cookie");
    assert!(nonce_cookie.contains("HttpOnly") && nonce_cookie.contains("Secure"), "{nonce_cookie}");
    let nonce = nonce_cookie.split(';').next().unwrap().trim_start_matches("__clerk_handshake_nonce=").to_owned();

    let (status, body) = app.get(&format!("/v1/clients/handshake_payload?nonce={nonce}")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let directives: Vec<String> = serde_json::from_value(body["directives"].clone()).unwrap();
    assert_eq!(decode(directive(&directives, "__session").unwrap()).1["sub"], user);
    assert!(directives.iter().any(|d| d.starts_with("__session=") && d.contains("Secure")), "https app: Secure");
    assert!(directives.iter().any(|d| d.starts_with("__clerk_handshake_nonce=;") && d.contains("Max-Age=0")));

    // Only with the secret key.
    let anonymous = reqwest::get(format!("{}/v1/clients/handshake_payload?nonce={nonce}", app.url)).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    // Tampered or made up: not found.
    let mut tampered = nonce.clone().into_bytes();
    tampered[30] = if tampered[30] == b'A' { b'B' } else { b'A' };
    let (status, _) =
        app.get(&format!("/v1/clients/handshake_payload?nonce={}", String::from_utf8(tampered).unwrap())).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Expired after a minute.
    app.clock.advance_ms(61_000);
    let (status, _) = app.get(&format!("/v1/clients/handshake_payload?nonce={nonce}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn proxy_headers_are_believed_only_with_this_instances_secret_key() {
    let app = app().await;
    let http = no_redirects();
    let target = handshake_path("https://app.example/dash", false);
    // A wrong key: refused outright.
    let res = http
        .get(format!("{}{target}", app.url))
        .header("clerk-proxy-url", "https://app.example/__clerk")
        .header("clerk-secret-key", "sk_test_wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    // No key: the claimed proxy is ignored, so its origin is as foreign as any other.
    let res = http
        .get(format!("{}{target}", app.url))
        .header("clerk-proxy-url", "https://app.example/__clerk")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A foreign state change through a claimed proxy without the key is refused as before.
    let res = http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, "https://app.example")
        .header("clerk-proxy-url", "https://app.example/__clerk")
        .form(&[("identifier", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // With the key, the proxy's origin may change state.
    let res = http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, "https://app.example")
        .header("clerk-proxy-url", "https://app.example/__clerk")
        .header("clerk-secret-key", &app.secret)
        .form(&[("identifier", "a@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
}

#[tokio::test]
async fn touch_returns_the_browser_and_the_environment_accepts_clerk_js_patch() {
    let app = app().await;
    let mut b = Browser::new(&app);
    b.get("/v1/client/touch?redirect_url=http%3A%2F%2Flocalhost%3A4321%2Fafter").await;
    assert_eq!(b.location.as_deref(), Some("http://localhost:4321/after"));
    let (status, _) = b.get("/v1/client/touch?redirect_url=https%3A%2F%2Fevil.example%2F").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, body) = b.post("/v1/environment?_method=PATCH&__clerk_api_version=2026-05-12", &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["object"], "environment");
}

#[tokio::test]
async fn the_pinned_clerk_bundles_are_served_from_the_configured_directory_only() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("clerk-js")).unwrap();
    std::fs::create_dir_all(dir.path().join("ui")).unwrap();
    std::fs::write(dir.path().join("clerk-js/clerk.browser.js"), "/* clerk */").unwrap();
    std::fs::write(dir.path().join("ui/12_ui_abc_1.36.0.js"), "/* chunk */").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "no").unwrap();
    let path = dir.path().to_owned();
    let app = spawn_app_with(Db::Sqlite, move |c| c.clerk_js_dir = Some(path)).await;
    let get = |p: &str| reqwest::get(format!("{}{p}", app.url));
    let res = get("/npm/@clerk/clerk-js@6/dist/clerk.browser.js").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(res.text().await.unwrap(), "/* clerk */");
    assert_eq!(get("/npm/@clerk/ui@1.36.0/dist/12_ui_abc_1.36.0.js").await.unwrap().status(), StatusCode::OK);
    for p in [
        "/npm/@clerk/ui@1/dist/..%2Fsecret.txt",
        "/npm/@clerk/backend@3/dist/clerk.browser.js",
        "/npm/@clerk/clerk-js@6/dist/missing.js",
        "/npm/@clerk/clerk-js/dist/clerk.browser.js",
    ] {
        assert_eq!(get(p).await.unwrap().status(), StatusCode::NOT_FOUND, "{p}");
    }
    // Not configured: nothing.
    let plain = app_without_bundles().await;
    assert_eq!(
        reqwest::get(format!("{}/npm/@clerk/clerk-js@6/dist/clerk.browser.js", plain.url)).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}

async fn app_without_bundles() -> TestApp {
    spawn_app_with(Db::Sqlite, |_| {}).await
}

#[tokio::test]
async fn frontend_errors_carry_cors_headers_for_allowed_origins() {
    let app = app().await;
    let http = no_redirects();
    for (method, path) in [
        (reqwest::Method::POST, "/v1/client/no_such_route"),
        (reqwest::Method::PUT, "/v1/environment"),
        (reqwest::Method::GET, "/v1/client/sign_ins/sia_missing"),
    ] {
        let res = http
            .request(method.clone(), format!("{}{path}", app.url))
            .header(header::ORIGIN, APP)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_client_error(), "{method} {path}: {}", res.status());
        assert_eq!(
            res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).map(|v| v.to_str().unwrap()),
            Some(APP),
            "{method} {path}"
        );
        assert_eq!(res.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    }
    // Not for a foreign origin.
    let res = http
        .post(format!("{}/v1/client/no_such_route", app.url))
        .header(header::ORIGIN, "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(res.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
}
