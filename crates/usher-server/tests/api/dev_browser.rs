//! Development instances' dev browser: `POST /v1/dev_browser` and the `__clerk_db_jwt` the
//! handshake sets on the app's domain (what `@clerk/backend` demands of a `pk_test_` app's page
//! loads); production instances have neither.

use reqwest::{StatusCode, header, redirect::Policy};
use serde_json::Value;

use crate::{
    frontend::{Browser, PASSWORD, app},
    helpers::{Db, TestApp, spawn_app_with, verify_rs256},
};

const APP: &str = "http://localhost:4321";

fn http() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn production() -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.production = true;
    })
    .await
}

/// `POST /v1/dev_browser` as clerk-js sends it (a cross-origin fetch, no body, no cookies).
async fn create(app: &TestApp) -> (StatusCode, Value) {
    let res = http().post(format!("{}/v1/dev_browser", app.url)).header(header::ORIGIN, APP).send().await.unwrap();
    (res.status(), res.json().await.unwrap())
}

/// The handshake's directives (signed form: reached directly), with `extra` query parameters.
async fn directives(app: &TestApp, extra: &str, cookie: Option<&str>) -> Vec<String> {
    let redirect: String = url::form_urlencoded::byte_serialize(format!("{APP}/").as_bytes()).collect();
    let mut req = http().get(format!(
        "{}/v1/client/handshake?redirect_url={redirect}&format=nonce&suffixed_cookies=true&__clerk_hs_reason=dev-browser-missing{extra}",
        app.url
    ));
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = url::Url::parse(res.headers()[header::LOCATION].to_str().unwrap()).unwrap();
    assert!(
        !location.query_pairs().any(|(k, _)| k == "__clerk_db_jwt"),
        "the token travels as a directive, not in the return URL"
    );
    let token = location.query_pairs().find(|(k, _)| k == "__clerk_handshake").map(|(_, v)| v.into_owned()).unwrap();
    serde_json::from_value(verify_rs256(&token, &app.jwks().await).unwrap()["handshake"].clone()).unwrap()
}

fn value<'a>(directives: &'a [String], name: &str) -> Option<&'a str> {
    directives.iter().find_map(|d| d.strip_prefix(&format!("{name}=")).map(|v| v.split(';').next().unwrap()))
}

#[tokio::test]
async fn a_development_instance_issues_a_new_dev_browser_each_time() {
    let app = app().await;
    let (status, a) = create(&app).await;
    assert_eq!(status, StatusCode::OK, "{a}");
    let (_, b) = create(&app).await;
    let id = a["id"].as_str().unwrap();
    assert!(id.starts_with("dvb_"), "{a}");
    assert_ne!(a["id"], b["id"]);
}

#[tokio::test]
async fn a_production_instance_has_no_dev_browser() {
    let app = production().await;
    let (status, body) = create(&app).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body["errors"][0]["code"].is_string(), "Clerk's error body: {body}");
    // Nor does its handshake hand one out, even when asked to keep a (development) token.
    let dev = app_token().await;
    let d = directives(&app, &format!("&__clerk_db_jwt={dev}"), None).await;
    assert!(!d.iter().any(|c| c.starts_with("__clerk_db_jwt")), "{d:?}");
}

async fn app_token() -> String {
    let dev = app().await;
    create(&dev).await.1["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_development_handshake_sets_a_dev_browser_and_keeps_one_of_its_own() {
    let app = app().await;
    let suffix = usher_server::flows::handshake::cookie_suffix(&app.state.publishable_key);
    // dev-browser-missing: a new token, plain and suffixed, long-lived, readable by clerk-js.
    let d = directives(&app, "", None).await;
    let issued = value(&d, "__clerk_db_jwt").expect("__clerk_db_jwt").to_owned();
    assert!(issued.starts_with("dvb_"));
    assert_eq!(value(&d, &format!("__clerk_db_jwt_{suffix}")), Some(issued.as_str()));
    let cookie = d.iter().find(|c| c.starts_with("__clerk_db_jwt=")).unwrap();
    assert!(
        cookie.contains("Max-Age=31536000") && cookie.contains("SameSite=Lax") && !cookie.contains("HttpOnly"),
        "{cookie}"
    );
    assert_eq!(value(&d, "__client_uat"), Some("0"), "signed out: a definite answer, no second trip");

    // The app's token comes back unchanged; one that usher did not issue is replaced.
    let d = directives(&app, &format!("&__clerk_db_jwt={issued}"), None).await;
    assert_eq!(value(&d, "__clerk_db_jwt"), Some(issued.as_str()));
    let (_, other) = create(&app).await;
    let d = directives(&app, &format!("&__clerk_db_jwt={}", other["id"].as_str().unwrap()), None).await;
    assert_eq!(value(&d, "__clerk_db_jwt"), other["id"].as_str());
    for forged in ["dvb_forged", "forged", "", &app_token().await] {
        let d = directives(&app, &format!("&__clerk_db_jwt={forged}"), None).await;
        let got = value(&d, "__clerk_db_jwt").unwrap();
        assert!(got != forged && got.starts_with("dvb_"), "{forged:?} replaced by a new token, got {got:?}");
    }
}

#[tokio::test]
async fn the_dev_browser_token_identifies_no_client() {
    // A signed-in browser's handshake hands its session to the app; the dev-browser token the
    // same handshake sets must not open that client to whoever holds the token.
    let app = app().await;
    app.create_user("dvb@example.com").await;
    let mut b = Browser::new(&app);
    let (status, body) = b.sign_in("dvb@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let cookies = b.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ");
    let d = directives(&app, "", Some(&cookies)).await;
    assert!(value(&d, "__session").is_some_and(|s| !s.is_empty()), "signed in: {d:?}");
    let token = value(&d, "__clerk_db_jwt").unwrap().to_owned();
    for path in ["/v1/client", "/v1/me"] {
        let res = http()
            .get(format!("{}{path}?__clerk_db_jwt={token}", app.url))
            .header(header::ORIGIN, APP)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let body: Value = res.json().await.unwrap();
        assert!(
            body["response"].is_null() || status == StatusCode::UNAUTHORIZED,
            "{path} with only the token: {status} {body}"
        );
    }
    let d = directives(&app, &format!("&__clerk_db_jwt={token}"), None).await;
    assert_eq!(value(&d, "__session"), Some(""), "the token alone is signed out");
}
