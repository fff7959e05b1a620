//! The Frontend API as a browser uses it: form bodies, cookies, envelopes, and the security
//! rules (enumeration-safe answers, lockout, one-time codes, cookie rotation, session lifetimes,
//! origins, per-IP limits).

use std::{collections::BTreeMap, time::Duration};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, assert_error, decode, spawn_app_with};

pub(crate) const ORIGIN: &str = "http://localhost:3000";
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A browser: a cookie jar and an `Origin`.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    pub(crate) cookies: BTreeMap<String, String>,
    /// Redirects are not followed, so tests see them (and their cookies).
    http: reqwest::Client,
    /// The `Location` of the last answer.
    pub(crate) location: Option<String>,
    /// `X-Forwarded-For` to send (for servers that trust the loopback proxy).
    forwarded_for: Option<String>,
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, cookies: BTreeMap::new(), http, location: None, forwarded_for: None }
    }

    pub(crate) async fn send(
        &mut self,
        method: reqwest::Method,
        path: &str,
        form: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.app.url))
            .header(header::ORIGIN, ORIGIN)
            .header(header::COOKIE, cookie.join("; "));
        if let Some(ip) = &self.forwarded_for {
            request = request.header("x-forwarded-for", ip);
        }
        if !form.is_empty() {
            request = request.form(form);
        }
        let response = request.send().await.expect("request");
        for set in response.headers().get_all(header::SET_COOKIE) {
            let text = set.to_str().unwrap();
            let (pair, attributes) = text.split_once(';').unwrap_or((text, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if attributes.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status();
        self.location = response.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::String(text)))
    }

    pub(crate) async fn get(&mut self, path: &str) -> (StatusCode, Value) {
        self.send(reqwest::Method::GET, path, &[]).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> (StatusCode, Value) {
        self.send(reqwest::Method::POST, path, form).await
    }

    pub(crate) async fn sign_in(&mut self, email: &str, password: &str) -> (StatusCode, Value) {
        self.post("/v1/client/sign_ins", &[("identifier", email), ("password", password)]).await
    }

    pub(crate) fn session_id(body: &Value) -> String {
        body["client"]["last_active_session_id"].as_str().expect("a signed-in client").to_owned()
    }
}

/// Waits for the outbox to deliver the newest message to `to` and returns its code.
pub(crate) async fn code_for(app: &TestApp, to: &str) -> String {
    let mailbox = app.state.dev_mailbox.clone().expect("the dev mailbox");
    for _ in 0..100 {
        if let Some(m) = mailbox.messages().into_iter().find(|m| m.to == to) {
            return m.code.expect("a code in the message");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

pub(crate) async fn app() -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await
}

#[tokio::test]
async fn sign_up_with_an_emailed_code_then_sign_in_and_out() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let (status, body) = browser
        .post(
            "/v1/client/sign_ups",
            &[("email_address", "ada@example.com"), ("password", PASSWORD), ("first_name", "Ada")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "missing_requirements");
    assert_eq!(body["response"]["unverified_fields"], json!(["email_address"]));
    assert!(body["response"].get("password_hash").is_none(), "the hash never leaves the server");
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let (status, _) =
        browser.post(&format!("/v1/client/sign_ups/{id}/prepare_verification"), &[("strategy", "email_code")]).await;
    assert_eq!(status, StatusCode::OK);
    let code = code_for(&app, "ada@example.com").await;

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let answer = browser.post(&format!("/v1/client/sign_ups/{id}/attempt_verification"), &[("code", wrong)]).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    let (status, body) =
        browser.post(&format!("/v1/client/sign_ups/{id}/attempt_verification"), &[("code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    let user_id = body["response"]["created_user_id"].as_str().unwrap().to_owned();
    let session_id = Browser::session_id(&body);
    let session = &body["client"]["sessions"][0];
    assert_eq!(session["user"]["first_name"], "Ada");
    assert!(session["user"].get("private_metadata").is_none());
    let (_, claims) = decode(session["last_active_token"]["jwt"].as_str().unwrap());
    assert_eq!((claims["sub"].as_str(), claims["sid"].as_str()), (Some(user_id.as_str()), Some(session_id.as_str())));
    assert_eq!(claims["azp"], ORIGIN);
    assert!(browser.cookies.contains_key("__session") && browser.cookies["__client_uat"] != "0");

    // The code worked once.
    let reused = browser.post(&format!("/v1/client/sign_ups/{id}/attempt_verification"), &[("code", &code)]).await;
    assert_eq!(reused.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", reused.1);

    let (status, me) = browser.get("/v1/me").await;
    assert_eq!((status, me["response"]["id"].as_str()), (StatusCode::OK, Some(user_id.as_str())));
    let (status, token) = browser.post(&format!("/v1/client/sessions/{session_id}/tokens"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!(token["object"], "token");

    let (status, body) = browser.send(reqwest::Method::DELETE, "/v1/client/sessions", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client"]["sessions"], json!([]));
    assert_eq!(browser.cookies["__client_uat"], "0");
    assert!(!browser.cookies.contains_key("__session"));
    assert_error(&browser.get("/v1/me").await, StatusCode::UNAUTHORIZED, "signed_out");

    let (status, body) = browser.sign_in("ADA@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
}

#[tokio::test]
async fn unknown_accounts_wrong_passwords_answer_alike_and_the_database_keeps_no_code() {
    let app = app().await;
    app.create_user("known@example.com").await;
    let mut browser = Browser::new(&app);
    let strip = |(status, mut body): (StatusCode, Value)| {
        body["clerk_trace_id"] = Value::Null;
        (status, body)
    };
    let unknown = browser.sign_in("nobody@example.com", "wrong password!").await;
    assert_error(&unknown, StatusCode::UNPROCESSABLE_ENTITY, "form_password_incorrect");
    let wrong = browser.sign_in("known@example.com", "wrong password!").await;
    assert_eq!(strip(unknown), strip(wrong));

    // Email-code sign-in: same factors and answers; only the real account gets mail.
    let mut shapes = Vec::new();
    for email in ["nobody@example.com", "known@example.com"] {
        let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", email)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let factor = &body["response"]["supported_first_factors"][1];
        assert!(factor["email_address_id"].as_str().unwrap().starts_with("idn_"));
        let id = body["response"]["id"].as_str().unwrap().to_owned();
        let (status, prepared) = browser
            .post(&format!("/v1/client/sign_ins/{id}/prepare_first_factor"), &[("strategy", "email_code")])
            .await;
        assert_eq!(status, StatusCode::OK, "{prepared}");
        shapes.push(prepared["response"]["first_factor_verification"]["status"].clone());
    }
    assert_eq!(shapes[0], shapes[1]);
    let code = code_for(&app, "known@example.com").await;
    let mailbox = app.state.dev_mailbox.clone().unwrap();
    assert!(mailbox.messages().iter().all(|m| m.to != "nobody@example.com"));

    // Give the outbox a moment to mark the message sent (which blanks its body), then look for
    // the code in every database file.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = std::path::Path::new(
        app.state.config.database.url().trim_start_matches("sqlite://").split('?').next().unwrap(),
    )
    .parent()
    .unwrap()
    .to_owned();
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(6).any(|w| w == code.as_bytes()), "the code is stored in clear");
    }
}

#[tokio::test]
async fn a_hundred_failures_lock_the_account_for_an_hour_and_unlock_works() {
    // Clerk's answers (`user_locked`) are given with enumeration protection off; with it on a
    // locked account answers like a wrong password (see `locked_accounts_answer_like_wrong_passwords`).
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.enumeration_protection = false;
    })
    .await;
    let user = app.create_user("lock@example.com").await;
    let user_id = user["id"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    for _ in 0..100 {
        assert_eq!(browser.sign_in("lock@example.com", "wrong password!").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let locked = browser.sign_in("lock@example.com", PASSWORD).await;
    assert_error(&locked, StatusCode::FORBIDDEN, "user_locked");
    assert_eq!(locked.1["errors"][0]["meta"]["lockout_expires_in_seconds"], 3600);
    app.clock.advance_ms(3_601_000);
    assert_eq!(browser.sign_in("lock@example.com", PASSWORD).await.0, StatusCode::OK);

    // Failures must be consecutive: a success resets the count.
    for _ in 0..99 {
        browser.sign_in("lock@example.com", "wrong password!").await;
    }
    assert_eq!(browser.sign_in("lock@example.com", PASSWORD).await.0, StatusCode::OK);
    for _ in 0..99 {
        browser.sign_in("lock@example.com", "wrong password!").await;
    }
    assert_eq!(browser.sign_in("lock@example.com", PASSWORD).await.0, StatusCode::OK);

    for _ in 0..100 {
        browser.sign_in("lock@example.com", "wrong password!").await;
    }
    assert_eq!(browser.sign_in("lock@example.com", PASSWORD).await.0, StatusCode::FORBIDDEN);
    let (status, _) = app.post(&format!("/v1/users/{user_id}/unlock"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(browser.sign_in("lock@example.com", PASSWORD).await.0, StatusCode::OK);
}

#[tokio::test]
async fn codes_expire_after_ten_minutes_and_belong_to_their_attempt() {
    let app = app().await;
    app.create_user("codes@example.com").await;
    let mut browser = Browser::new(&app);
    let mut attempts = Vec::new();
    for _ in 0..2 {
        let (_, body) = browser.post("/v1/client/sign_ins", &[("identifier", "codes@example.com")]).await;
        attempts.push(body["response"]["id"].as_str().unwrap().to_owned());
    }
    let (a, b) = (&attempts[0], &attempts[1]);
    browser.post(&format!("/v1/client/sign_ins/{a}/prepare_first_factor"), &[("strategy", "email_code")]).await;
    let code_a = code_for(&app, "codes@example.com").await;
    let attempt = |id: &str| format!("/v1/client/sign_ins/{id}/attempt_first_factor");
    // A's code does not open B.
    let answer = browser.post(&attempt(b), &[("strategy", "email_code"), ("code", &code_a)]).await;
    assert_eq!(answer.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.1);
    // 10 min + 1 s later A's code has expired.
    app.clock.advance_ms(601_000);
    let answer = browser.post(&attempt(a), &[("strategy", "email_code"), ("code", &code_a)]).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "verification_expired");

    // A fresh code at 9 min 59 s still works.
    let (_, body) = browser.post("/v1/client/sign_ins", &[("identifier", "codes@example.com")]).await;
    let c = body["response"]["id"].as_str().unwrap().to_owned();
    let before = app.state.dev_mailbox.clone().unwrap().messages().len();
    browser.post(&format!("/v1/client/sign_ins/{c}/prepare_first_factor"), &[("strategy", "email_code")]).await;
    let code_c = loop {
        let messages = app.state.dev_mailbox.clone().unwrap().messages();
        if messages.len() > before {
            break messages[0].code.clone().unwrap();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    app.clock.advance_ms(599_000);
    let (status, body) = browser.post(&attempt(&c), &[("strategy", "email_code"), ("code", &code_c)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
}

#[tokio::test]
async fn signing_in_rotates_the_client_cookie_and_sessions_end_on_time() {
    let app = app().await;
    app.create_user("rotate@example.com").await;
    let mut browser = Browser::new(&app);
    browser.post("/v1/client", &[]).await;
    let before = browser.cookies["__client"].clone();
    let (_, body) = browser.sign_in("rotate@example.com", PASSWORD).await;
    let session_id = Browser::session_id(&body);
    assert_ne!(browser.cookies["__client"], before, "the cookie rotates on sign-in");
    let tokens = format!("/v1/client/sessions/{session_id}/tokens");

    let mut replay = Browser::new(&app);
    replay.cookies.insert("__client".into(), before);
    assert_error(&replay.post(&tokens, &[]).await, StatusCode::UNAUTHORIZED, "signed_out");

    // Activity keeps the session alive; idleness beyond 7 days ends it.
    app.clock.advance_ms((6 * 24 * 3600) * 1000);
    assert_eq!(browser.post(&tokens, &[]).await.0, StatusCode::OK);
    app.clock.advance_ms((7 * 24 * 3600 + 1) * 1000);
    assert_error(&browser.post(&tokens, &[]).await, StatusCode::UNAUTHORIZED, "signed_out");

    // A session refreshed all the time still ends 7 days after it began.
    let mut busy = Browser::new(&app);
    let (_, body) = busy.sign_in("rotate@example.com", PASSWORD).await;
    let tokens = format!("/v1/client/sessions/{}/tokens", Browser::session_id(&body));
    for _ in 0..7 {
        app.clock.advance_ms((24 * 3600 - 10) * 1000);
        assert_eq!(busy.post(&tokens, &[]).await.0, StatusCode::OK);
    }
    app.clock.advance_ms(71_000);
    assert_eq!(busy.post(&tokens, &[]).await.0, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoking_through_the_backend_api_stops_token_refresh_at_once() {
    let app = app().await;
    app.create_user("revoke@example.com").await;
    let mut browser = Browser::new(&app);
    let (_, body) = browser.sign_in("revoke@example.com", PASSWORD).await;
    let session_id = Browser::session_id(&body);
    let (status, _) = app.post(&format!("/v1/sessions/{session_id}/revoke"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let answer = browser.post(&format!("/v1/client/sessions/{session_id}/tokens"), &[]).await;
    assert_error(&answer, StatusCode::UNAUTHORIZED, "signed_out");
}

#[tokio::test]
async fn a_ticket_signs_in_once() {
    let app = app().await;
    let user = app.create_user("ticket@example.com").await;
    let (status, token) = app.post("/v1/sign_in_tokens", json!({"user_id": user["id"]})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let ticket = token["token"].as_str().unwrap();
    let mut browser = Browser::new(&app);
    let (status, body) = browser.post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", ticket)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    let again = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", ticket)]).await;
    assert_error(&again, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
}

#[tokio::test]
async fn origins_are_checked_and_cors_is_only_for_allowed_ones() {
    let app = app().await;
    let post = |origin: &'static str| {
        app.http
            .post(format!("{}/v1/client/sign_ins", app.url))
            .header(header::ORIGIN, origin)
            .form(&[("identifier", "x@example.com")])
            .send()
    };
    let evil = post("https://evil.example").await.unwrap();
    assert_eq!(evil.status(), StatusCode::FORBIDDEN);
    assert!(evil.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    let local = post(ORIGIN).await.unwrap();
    assert_eq!(local.status(), StatusCode::OK);
    assert_eq!(local.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert_eq!(local.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, "https://evil.example")
        .header("access-control-request-method", "POST")
        .send()
        .await
        .unwrap();
    assert!(preflight.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none());
    // `_method` stands in for PATCH, as clerk-js sends it.
    let mut browser = Browser::new(&app);
    app.create_user("method@example.com").await;
    browser.sign_in("method@example.com", PASSWORD).await;
    let (status, body) = browser.post("/v1/me?_method=PATCH", &[("last_name", "Lovelace")]).await;
    assert_eq!((status, body["response"]["last_name"].as_str()), (StatusCode::OK, Some("Lovelace")));
}

#[tokio::test]
async fn the_sixth_sign_in_within_ten_seconds_from_one_address_gets_429() {
    let app = spawn_app_with(Db::Sqlite, |c| c.allow_localhost_origins = true).await;
    let mut browser = Browser::new(&app);
    for _ in 0..5 {
        let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", "x@example.com")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let limited = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .form(&[("identifier", "x@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = limited.headers()[header::RETRY_AFTER].to_str().unwrap().parse().unwrap();
    assert!(wait >= 1);
    tokio::time::sleep(Duration::from_secs(wait)).await;
    assert_eq!(browser.post("/v1/client/sign_ins", &[("identifier", "x@example.com")]).await.0, StatusCode::OK);
}

#[tokio::test]
async fn password_change_needs_the_current_password_and_can_end_other_sessions() {
    let app = app().await;
    app.create_user("change@example.com").await;
    let mut laptop = Browser::new(&app);
    let mut phone = Browser::new(&app);
    laptop.sign_in("change@example.com", PASSWORD).await;
    let (_, body) = phone.sign_in("change@example.com", PASSWORD).await;
    let phone_session = Browser::session_id(&body);
    let change = |current: &'static str| {
        [
            ("current_password", current),
            ("new_password", "a new long passphrase"),
            ("sign_out_of_other_sessions", "true"),
        ]
    };
    assert_error(
        &laptop.post("/v1/me/change_password", &change("not it at all")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_password_incorrect",
    );
    let (status, body) = laptop.post("/v1/me/change_password", &change(PASSWORD)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let answer = phone.post(&format!("/v1/client/sessions/{phone_session}/tokens"), &[]).await;
    assert_eq!(answer.0, StatusCode::UNAUTHORIZED, "the other session ended");
    assert_eq!(laptop.get("/v1/me").await.0, StatusCode::OK, "this session stays");
    assert_eq!(Browser::new(&app).sign_in("change@example.com", "a new long passphrase").await.0, StatusCode::OK);
}

#[tokio::test]
async fn cookies_carry_the_attributes_browsers_need() {
    let app = app().await;
    app.create_user("cookies@example.com").await;
    let response = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, ORIGIN)
        .form(&[("identifier", "cookies@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> =
        response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let find = |name: &str| cookies.iter().find(|c| c.starts_with(&format!("{name}="))).cloned().unwrap();
    let client = find("__client");
    // A week: the session's maximum lifetime.
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"] {
        assert!(client.contains(attribute), "{client}");
    }
    let session = find("__session");
    assert!(session.contains("Max-Age=60") && session.contains("SameSite=Lax"), "{session}");
    assert!(!session.contains("HttpOnly") && !session.contains("Domain"), "scripts read it; host-only: {session}");
    let uat = find("__client_uat");
    assert!(uat.contains("SameSite=Strict") && !uat.starts_with("__client_uat=0;"), "{uat}");
    assert!(cookies.iter().all(|c| !c.contains("Secure")), "plain http here; Secure comes with an https issuer");
}

/// `verification_attempts_remaining` counts down from the configured threshold and is 0 while
/// the user is locked (it used to count from a fixed 100 and show 100 during a lock).
#[tokio::test]
async fn attempts_remaining_follow_the_configured_lockout() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = 5;
    })
    .await;
    let user = app.create_user("few@example.com").await;
    let path = format!("/v1/users/{}", user["id"].as_str().unwrap());
    assert_eq!(user["verification_attempts_remaining"], 5);
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        browser.sign_in("few@example.com", "wrong password!").await;
    }
    assert_eq!(app.get(&path).await.1["verification_attempts_remaining"], 2);
    for _ in 0..2 {
        browser.sign_in("few@example.com", "wrong password!").await;
    }
    let locked = app.get(&path).await.1;
    assert_eq!((locked["locked"].clone(), locked["verification_attempts_remaining"].clone()), (json!(true), json!(0)));
}

/// `?_method=` is clerk-js's tunnel for the Frontend API only: a Backend API POST means POST.
#[tokio::test]
async fn method_tunnelling_is_for_the_frontend_api_only() {
    let app = app().await;
    let response = app
        .http
        .post(format!("{}/v1/users?_method=DELETE", app.url))
        .bearer_auth(&app.secret)
        .json(&json!({"email_address": ["tunnel@example.com"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "the user is created, not a DELETE of /v1/users");
    let mut browser = Browser::new(&app);
    browser.post("/v1/client", &[]).await;
    let (status, body) = browser.post("/v1/client?_method=DELETE", &[]).await;
    assert_eq!((status, body["client"].clone()), (StatusCode::OK, Value::Null), "DELETE /v1/client through POST");
}

/// Starts a sign-in for `identifier` (optionally preparing an email code); returns its id.
async fn code_sign_in(browser: &mut Browser<'_>, identifier: &str, prepare: bool) -> String {
    let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", identifier)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    if prepare {
        let path = format!("/v1/client/sign_ins/{id}/prepare_first_factor");
        assert_eq!(browser.post(&path, &[("strategy", "email_code")]).await.0, StatusCode::OK);
    }
    id
}

/// [`assert_error`] for an answer whose trace id was blanked.
fn assert_stripped(answer: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(answer.0, status, "{}", answer.1);
    assert_eq!(answer.1["errors"][0]["code"], code, "{}", answer.1);
}

fn without_trace((status, mut body): (StatusCode, Value)) -> (StatusCode, Value) {
    body["clerk_trace_id"] = Value::Null;
    (status, body)
}

/// Issue 11 item 1: code guesses for an unknown identifier (or a taken sign-up address) meet the
/// same code states as a real account's: none sent, counted, used up after five.
#[tokio::test]
async fn code_answers_do_not_tell_whether_an_account_exists() {
    let app = app().await;
    app.create_user("known@example.com").await;
    let mut browser = Browser::new(&app);
    let guess = |id: &str| (format!("/v1/client/sign_ins/{id}/attempt_first_factor"), id.to_owned());

    // No code prepared.
    let mut answers = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let id = code_sign_in(&mut browser, email, false).await;
        let (path, _) = guess(&id);
        answers.push(without_trace(browser.post(&path, &[("strategy", "email_code"), ("code", "123456")]).await));
    }
    assert_eq!(answers[0], answers[1]);
    assert_stripped(&answers[0], StatusCode::UNPROCESSABLE_ENTITY, "verification_failed");

    // Prepared: five wrong guesses, then the sixth.
    let mut runs = Vec::new();
    for email in ["known@example.com", "nobody@example.com"] {
        let id = code_sign_in(&mut browser, email, true).await;
        let (path, _) = guess(&id);
        let mut seen = Vec::new();
        for _ in 0..6 {
            let answer = browser.post(&path, &[("strategy", "email_code"), ("code", "000000")]).await;
            seen.push(without_trace(answer));
        }
        runs.push(seen);
    }
    assert_eq!(runs[0], runs[1]);
    assert_stripped(&runs[0][4], StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    assert_stripped(&runs[0][5], StatusCode::UNPROCESSABLE_ENTITY, "verification_failed");

    // Sign-up, the mirror image: a taken address and a new one.
    let mut answers = Vec::new();
    for (email, prepare) in [
        ("known@example.com", false),
        ("new@example.com", false),
        ("known@example.com", true),
        ("new2@example.com", true),
    ] {
        let (status, body) =
            browser.post("/v1/client/sign_ups", &[("email_address", email), ("password", PASSWORD)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["response"]["id"].as_str().unwrap().to_owned();
        if prepare {
            let path = format!("/v1/client/sign_ups/{id}/prepare_verification");
            assert_eq!(browser.post(&path, &[("strategy", "email_code")]).await.0, StatusCode::OK);
        }
        let path = format!("/v1/client/sign_ups/{id}/attempt_verification");
        let mut seen = Vec::new();
        for _ in 0..6 {
            let mut answer =
                without_trace(browser.post(&path, &[("strategy", "email_code"), ("code", "000000")]).await);
            // The attempt itself (ids, address) differs; the error is what must not.
            answer.1["client"] = Value::Null;
            seen.push(answer);
        }
        answers.push(seen);
    }
    assert_eq!(answers[0], answers[1], "no code sent");
    assert_eq!(answers[2], answers[3], "five wrong, then the sixth");
    assert_stripped(&answers[0][0], StatusCode::UNPROCESSABLE_ENTITY, "verification_failed");
    assert_stripped(&answers[2][0], StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    assert_stripped(&answers[2][5], StatusCode::UNPROCESSABLE_ENTITY, "verification_failed");
}

/// Issue 11 item 9: concurrent guesses never evaluate more than five wrong codes, and the right
/// code does not work after them.
#[tokio::test]
async fn concurrent_code_guesses_stay_within_the_cap() {
    let app = spawn_app_with(Db::Postgres, |c| c.frontend_rate_limits = false).await;
    usher_server::flows::codes::issue(&app.state, "sia_race", "race@example.com", "sign in").await.unwrap();
    let code = code_for(&app, "race@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guesses = (0..40).map(|_| {
        let state = app.state.clone();
        tokio::spawn(async move { usher_server::flows::codes::check(&state, "sia_race", wrong).await.unwrap() })
    });
    let mut incorrect = 0;
    for guess in guesses.collect::<Vec<_>>() {
        if guess.await.unwrap() == usher_server::flows::codes::CodeCheck::Incorrect {
            incorrect += 1;
        }
    }
    assert_eq!(incorrect, 5, "wrong guesses evaluated");
    let right = usher_server::flows::codes::check(&app.state, "sia_race", &code).await.unwrap();
    assert_eq!(right, usher_server::flows::codes::CodeCheck::Missing);
}

/// Issue 11 item 8: with enumeration protection a locked account answers like a wrong password
/// (an unknown identifier could never say `user_locked`).
#[tokio::test]
async fn locked_accounts_answer_like_wrong_passwords() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = 3;
    })
    .await;
    app.create_user("locked@example.com").await;
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        browser.sign_in("locked@example.com", "wrong password!").await;
    }
    let locked = without_trace(browser.sign_in("locked@example.com", PASSWORD).await);
    let unknown = without_trace(browser.sign_in("nobody@example.com", PASSWORD).await);
    assert_stripped(&locked, StatusCode::UNPROCESSABLE_ENTITY, "form_password_incorrect");
    assert_eq!(locked, unknown);
}

/// Issue 11 item 4: a ban cannot be side-stepped with a sign-in token.
#[tokio::test]
async fn banned_users_get_no_session_from_a_ticket() {
    let app = app().await;
    let user = app.create_user("banned@example.com").await;
    let id = user["id"].as_str().unwrap();
    let (status, token) = app.post("/v1/sign_in_tokens", json!({"user_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let ticket = token["token"].as_str().unwrap();
    assert_eq!(app.post(&format!("/v1/users/{id}/ban"), json!({})).await.0, StatusCode::OK);
    let refused = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", ticket)]).await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
    let minted = app.post("/v1/sign_in_tokens", json!({"user_id": id})).await;
    assert_error(&minted, StatusCode::UNPROCESSABLE_ENTITY, "user_banned");
    // The ban revoked the token: unbanning does not bring it back.
    assert_eq!(app.post(&format!("/v1/users/{id}/unban"), json!({})).await.0, StatusCode::OK);
    let later = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", ticket)]).await;
    assert_error(&later, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");

    // A ban between accepting a ticket and starting the session: the one place sessions start
    // refuses it (the store's ban flag is set directly, as a concurrent ban would).
    let (_, token) = app.post("/v1/sign_in_tokens", json!({"user_id": id})).await;
    let ticket = token["token"].as_str().unwrap().to_owned();
    app.state
        .store
        .update_user(id, &mut |u| {
            u.banned = true;
            Ok(())
        })
        .await
        .unwrap();
    let refused = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", &ticket)]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "user_banned");
}

/// Issue 11 item 13: an over-long password is wrong without any Argon2 run, known account or not.
#[tokio::test]
async fn over_long_passwords_are_refused_without_hashing() {
    let app = app().await;
    app.create_user("long@example.com").await;
    let mut browser = Browser::new(&app);
    for length in [129, 4096] {
        let long = "a".repeat(length);
        let before = app.state.passwords.runs();
        let known = without_trace(browser.sign_in("long@example.com", &long).await);
        let unknown = without_trace(browser.sign_in("nobody@example.com", &long).await);
        // 128 characters after NFKC: a ligature counts as the two letters it stands for.
        let ligatures = without_trace(browser.sign_in("long@example.com", &"\u{FB01}".repeat(65)).await);
        let checked =
            app.post(&format!("/v1/users/{}/verify_password", user_id(&app).await), json!({"password": long})).await;
        assert_eq!(app.state.passwords.runs(), before, "no hashing for {length} characters");
        assert_stripped(&known, StatusCode::UNPROCESSABLE_ENTITY, "form_password_incorrect");
        assert_eq!(known, unknown);
        assert_eq!(known, ligatures);
        assert_error(&checked, StatusCode::UNPROCESSABLE_ENTITY, "form_password_incorrect");
    }
}

async fn user_id(app: &TestApp) -> String {
    let (_, list) = app.get("/v1/users?email_address=long@example.com").await;
    list[0]["id"].as_str().unwrap().to_owned()
}

/// Counts the SQL statements sqlx runs (it logs each at DEBUG under `sqlx::query`) while the
/// future it is attached to is polled.
struct CountStatements(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl tracing::Subscriber for CountStatements {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        metadata.target() == "sqlx::query"
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        if event.metadata().target() == "sqlx::query" {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Issue 11 item 3: a wrong password costs the same statements whether the account exists or
/// not (PostgreSQL: its driver runs statements in the calling task, where the counter listens).
#[tokio::test]
async fn password_failures_run_the_same_statements_for_known_and_unknown_accounts() {
    use tracing::instrument::WithSubscriber as _;
    use usher_server::flows::{Browser as Flow, sign_in};
    if crate::helpers::skip_postgres() {
        return;
    }
    let app = spawn_app_with(Db::Postgres, |c| c.frontend_rate_limits = false).await;
    app.create_user("counted@example.com").await;
    let count = |identifier: &'static str| {
        let state = app.state.clone();
        async move {
            let counter = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
            let input = sign_in::CreateSignIn {
                identifier: Some(identifier.into()),
                password: Some("wrong password!".into()),
                ..Default::default()
            };
            let answer = sign_in::create(&state, &mut Flow::default(), input)
                .with_subscriber(tracing::Dispatch::new(CountStatements(counter.clone())))
                .await;
            assert!(answer.is_err());
            counter.load(std::sync::atomic::Ordering::SeqCst)
        }
    };
    // Once each first, so both measured runs find warm connections.
    count("counted@example.com").await;
    count("nobody@example.com").await;
    let known = count("counted@example.com").await;
    let unknown = count("nobody@example.com").await;
    assert!(known > 0, "statements are counted");
    assert_eq!(known, unknown);
}

/// Issue 11 items 5 and 15: every call that hashes or checks a password spends the attempt
/// bucket (3 per 10 s): a sign-in created with a password, and a sign-up's password change.
#[tokio::test]
async fn password_hashing_calls_spend_the_attempt_bucket() {
    let app = spawn_app_with(Db::Sqlite, |c| c.allow_localhost_origins = true).await;
    let mut browser = Browser::new(&app);
    for _ in 0..3 {
        assert_eq!(browser.sign_in("x@example.com", "wrong password!").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    }
    let limited = browser.sign_in("x@example.com", "wrong password!").await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");

    let app = spawn_app_with(Db::Sqlite, |c| c.allow_localhost_origins = true).await;
    let mut browser = Browser::new(&app);
    let (status, body) = browser.post("/v1/client/sign_ups", &[("email_address", "p@example.com")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let path = format!("/v1/client/sign_ups/{}", body["response"]["id"].as_str().unwrap());
    for _ in 0..3 {
        assert_eq!(browser.send(reqwest::Method::PATCH, &path, &[("password", PASSWORD)]).await.0, StatusCode::OK);
    }
    let limited = browser.send(reqwest::Method::PATCH, &path, &[("password", PASSWORD)]).await;
    assert_eq!(limited.0, StatusCode::TOO_MANY_REQUESTS, "{}", limited.1);
}

/// Issue 11 item 14: JSON answers say `nosniff`, an https public URL brings HSTS, and the
/// development mailbox gets the pages' script-free policy.
#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let app = spawn_app_with(Db::Sqlite, |c| c.public_url = Some("https://auth.example.com".into())).await;
    let json = app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap();
    assert_eq!(json.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(json.headers()[header::STRICT_TRANSPORT_SECURITY].to_str().unwrap().starts_with("max-age="));
    let mailbox = app.http.get(format!("{}/dev/mailbox", app.url)).send().await.unwrap();
    assert_eq!(mailbox.status(), StatusCode::OK);
    assert!(mailbox.headers()[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("default-src 'none'"));
    assert_eq!(mailbox.headers()[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(mailbox.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

    let plain = app_without_https().await;
    let json = plain.http.get(format!("{}/v1/environment", plain.url)).send().await.unwrap();
    assert!(json.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none());
}

async fn app_without_https() -> TestApp {
    app().await
}

/// Issue 11 item 2: adding addresses spends the per-IP create bucket (sign-in took one of 5).
#[tokio::test]
async fn adding_email_addresses_is_rate_limited() {
    let app = spawn_app_with(Db::Sqlite, |c| c.allow_localhost_origins = true).await;
    app.create_user("adder@example.com").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("adder@example.com", PASSWORD).await.0, StatusCode::OK);
    for n in 0..4 {
        let (status, body) =
            browser.post("/v1/me/email_addresses", &[("email_address", &format!("extra{n}@example.com"))]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    let limited = browser.post("/v1/me/email_addresses", &[("email_address", "extra9@example.com")]).await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

/// Issue 11 item 2: an address another account has is accepted like a new one (listed,
/// prepared and guessed at with the same answers); its code goes to nobody, the owner gets a
/// notice, and it never verifies.
#[tokio::test]
async fn adding_a_taken_address_answers_like_a_new_one() {
    let app = app().await;
    app.create_user("owner@example.com").await;
    app.create_user("adder@example.com").await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("adder@example.com", PASSWORD).await.0, StatusCode::OK);
    let mut runs = Vec::new();
    let mut ids = Vec::new();
    for email in ["owner@example.com", "fresh@example.com"] {
        let (status, body) = browser.post("/v1/me/email_addresses", &[("email_address", email)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["response"]["id"].as_str().unwrap().to_owned();
        let mask = |mut v: Value| {
            for key in ["created_at", "updated_at"] {
                if let Some(map) = v.as_object_mut() {
                    map.remove(key);
                }
            }
            v.to_string().replace(email, "EMAIL").replace(&id, "ID")
        };
        let mut seen = vec![(status, mask(body["response"].clone()))];
        let (status, me) = browser.get("/v1/me").await;
        let listed = me["response"]["email_addresses"].as_array().unwrap().iter().find(|e| e["id"] == id.as_str());
        seen.push((status, mask(listed.expect("listed among the user's addresses").clone())));
        let prepare = format!("/v1/me/email_addresses/{id}/prepare_verification");
        let (status, body) = browser.post(&prepare, &[("strategy", "email_code")]).await;
        seen.push((status, mask(body["response"].clone())));
        let attempt = format!("/v1/me/email_addresses/{id}/attempt_verification");
        for _ in 0..6 {
            let (status, body) = browser.post(&attempt, &[("code", "000000")]).await;
            seen.push((status, mask(body["errors"].clone())));
        }
        runs.push(seen);
        ids.push(id);
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0][3].0, StatusCode::UNPROCESSABLE_ENTITY);

    let mailbox = app.state.dev_mailbox.clone().unwrap();
    let fresh_code = code_for(&app, "fresh@example.com").await;
    assert!(fresh_code.len() == 6);
    let to_owner: Vec<_> = mailbox.messages().into_iter().filter(|m| m.to == "owner@example.com").collect();
    assert_eq!(to_owner.len(), 1, "the owner is told once");
    assert_eq!(to_owner[0].code, None, "and given no code");

    // A fresh prepare and the right code verify the new address; the decoy's code reached
    // nobody, and its address stays unverified and unusable as primary.
    for id in &ids {
        let prepare = format!("/v1/me/email_addresses/{id}/prepare_verification");
        assert_eq!(browser.post(&prepare, &[("strategy", "email_code")]).await.0, StatusCode::OK);
    }
    let fresh_code = {
        let mut code = None;
        for _ in 0..100 {
            let codes: Vec<String> =
                mailbox.messages().into_iter().filter(|m| m.to == "fresh@example.com").filter_map(|m| m.code).collect();
            if codes.len() == 2 {
                code = codes.into_iter().find(|c| *c != fresh_code);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        code.expect("a second code for the new address")
    };
    let verify = |id: &str| format!("/v1/me/email_addresses/{id}/attempt_verification");
    let (status, body) = browser.post(&verify(&ids[1]), &[("code", &fresh_code)]).await;
    assert_eq!((status, body["response"]["verification"]["status"].as_str()), (StatusCode::OK, Some("verified")));
    let (status, _) = browser.post(&verify(&ids[0]), &[("code", &fresh_code)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = browser.send(reqwest::Method::PATCH, "/v1/me", &[("primary_email_address_id", &ids[0])]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "a decoy is never a verified address");
    // The owner's account is untouched, and the decoy can be removed like any address.
    let (_, owner) = app.get("/v1/users?email_address=owner@example.com").await;
    assert_eq!(owner.as_array().map(Vec::len), Some(1));
    let (status, _) = browser.send(reqwest::Method::DELETE, &format!("/v1/me/email_addresses/{}", ids[0]), &[]).await;
    assert_eq!(status, StatusCode::OK);
}

/// Issue 11 item 15: sign-up code guesses are capped per address, whatever address they come
/// from and however many sign-ups and codes are started for it.
#[tokio::test]
async fn sign_up_code_guesses_are_capped_per_address() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.allow_localhost_origins = true;
        c.trusted_proxies = usher_server::proxies::TrustedProxies::parse(&["127.0.0.0/8"]).unwrap();
    })
    .await;
    let mut browser = Browser::new(&app);
    let mut n = 0u32;
    let mut next_ip = |b: &mut Browser| {
        n += 1;
        b.forwarded_for = Some(format!("198.51.100.{n}"));
    };
    let mut guesses = Vec::new();
    for _ in 0..3 {
        next_ip(&mut browser);
        let form = [("email_address", "brand.new@example.com"), ("password", PASSWORD)];
        let (status, body) = browser.post("/v1/client/sign_ups", &form).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let id = body["response"]["id"].as_str().unwrap().to_owned();
        next_ip(&mut browser);
        let prepare = format!("/v1/client/sign_ups/{id}/prepare_verification");
        assert_eq!(browser.post(&prepare, &[("strategy", "email_code")]).await.0, StatusCode::OK);
        for _ in 0..4 {
            next_ip(&mut browser);
            let attempt = format!("/v1/client/sign_ups/{id}/attempt_verification");
            let answer = browser.post(&attempt, &[("strategy", "email_code"), ("code", "000000")]).await;
            guesses.push(answer);
        }
    }
    for answer in &guesses[..usher_server::limits::ADDRESS_GUESSES_PER_HOUR as usize] {
        assert_stripped(answer, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    }
    assert_error(&guesses[10], StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
}

/// Issue 11 item 12: addresses are stored NFKC-normalised, and a sign-in identifier is read the
/// same way, so the full-width spelling of an address names that account.
#[tokio::test]
async fn a_full_width_identifier_finds_the_account_it_spells() {
    let app = app().await;
    app.create_user("ada.fw@example.com").await;
    let mut browser = Browser::new(&app);
    let full_width = "\u{FF41}\u{FF44}\u{FF41}.\u{FF46}\u{FF57}@\u{FF45}xample.com";
    let (status, body) = browser.sign_in(full_width, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete", "{body}");
}
