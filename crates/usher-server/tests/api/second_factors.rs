//! Second factors through the Frontend and Backend APIs: turning on an authenticator app,
//! signing in with it and with backup codes, replays refused, imports, lockout, `fva`.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_server::flows::second_factor::{STEP_MS, code_at, decode_secret};

use crate::{
    frontend::{Browser, PASSWORD},
    helpers::{Db, TestApp, assert_error, decode, spawn_app_with},
};

impl Browser<'_> {
    async fn second_factor(&mut self, id: &str, strategy: &str, code: &str) -> (StatusCode, Value) {
        self.post(&format!("/v1/client/sign_ins/{id}/attempt_second_factor"), &[("strategy", strategy), ("code", code)])
            .await
    }
}

async fn app_with(lockout_attempts: i64) -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = lockout_attempts;
    })
    .await
}

/// The code an authenticator app with `secret` shows now.
fn code_now(app: &TestApp, secret: &str) -> String {
    code_at(&decode_secret(secret).expect("a base32 secret"), app.state.now() / STEP_MS)
}

/// Signs up `email` through the Backend API and signs in; turns on an authenticator app from
/// the browser. Returns the secret and the backup codes.
async fn enable_totp(app: &TestApp, browser: &mut Browser<'_>, email: &str) -> (String, Vec<String>) {
    app.create_user(email).await;
    let (status, body) = browser.sign_in(email, PASSWORD).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let (status, body) = browser.post("/v1/me/totp", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let totp = &body["response"];
    assert_eq!((totp["object"].as_str(), totp["verified"].as_bool()), (Some("totp"), Some(false)));
    let secret = totp["secret"].as_str().unwrap().to_owned();
    let uri = totp["uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/") && uri.contains(&format!("secret={secret}")), "{uri}");
    assert!(uri.contains(&url_encoded(email)), "the account is named: {uri}");
    let user = &body["client"]["sessions"][0]["user"];
    assert_eq!(user["totp_enabled"], false, "not on before its first code");

    let wrong = browser.post("/v1/me/totp/attempt_verification", &[("code", "000000x")]).await;
    assert_error(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    let (status, body) = browser.post("/v1/me/totp/attempt_verification", &[("code", &code_now(app, &secret))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["verified"], true);
    assert!(body["response"]["secret"].is_null(), "the secret is shown once");
    let codes: Vec<String> =
        body["response"]["backup_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
    assert_eq!(codes.len(), 10);
    let user = &body["client"]["sessions"][0]["user"];
    assert_eq!(
        (&user["totp_enabled"], &user["backup_code_enabled"], &user["two_factor_enabled"]),
        (&json!(true), &json!(true), &json!(true))
    );
    (secret, codes)
}

fn url_encoded(text: &str) -> String {
    text.replace('@', "%40")
}

/// Signs out and starts a password sign-in, which stops at the second factor; its id.
async fn first_factor(browser: &mut Browser<'_>, email: &str) -> String {
    browser.send(reqwest::Method::DELETE, "/v1/client/sessions", &[]).await;
    let (status, body) = browser.sign_in(email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let attempt = &body["response"];
    assert_eq!(attempt["status"], "needs_second_factor", "{body}");
    assert_eq!(attempt["created_session_id"], Value::Null);
    assert_eq!(attempt["supported_second_factors"], json!([{"strategy": "totp"}, {"strategy": "backup_code"}]));
    assert_eq!(body["client"]["sessions"], json!([]), "no session before the second factor");
    attempt["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn totp_and_backup_codes_sign_in_once_each_and_fva_counts_both_factors() {
    let app = app_with(100).await;
    let mut browser = Browser::new(&app);
    let (secret, codes) = enable_totp(&app, &mut browser, "two@example.com").await;

    // TOTP: the code signs in once; the same code again is refused even on a new attempt.
    let id = first_factor(&mut browser, "two@example.com").await;
    app.clock.advance_ms(STEP_MS);
    let code = code_now(&app, &secret);
    let (status, body) = browser.second_factor(&id, "totp", &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["response"]["second_factor_verification"]["status"], "verified");
    let token = body["client"]["sessions"][0]["last_active_token"]["jwt"].as_str().unwrap();
    assert_eq!(decode(token).1["fva"], json!([0, 0]), "both factors just now");
    app.clock.advance_ms(5 * 60_000);
    let (_, refreshed) = browser
        .post(
            &format!("/v1/client/sessions/{}/tokens", body["client"]["last_active_session_id"].as_str().unwrap()),
            &[],
        )
        .await;
    assert_eq!(decode(refreshed["jwt"].as_str().unwrap()).1["fva"], json!([5, 5]));

    let id = first_factor(&mut browser, "two@example.com").await;
    let replay = browser.second_factor(&id, "totp", &code).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    assert_eq!(replay.1["errors"][0]["meta"]["param_name"], "code");

    // A backup code signs in once; used again, it is refused.
    let (status, body) = browser.second_factor(&id, "backup_code", &codes[0]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let id = first_factor(&mut browser, "two@example.com").await;
    let replay = browser.second_factor(&id, "backup_code", &codes[0]).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");

    // Regenerating kills the old codes.
    let (status, _) = browser.second_factor(&id, "backup_code", &codes[1]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = browser.post("/v1/me/backup_codes", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["object"], "backup_code");
    let fresh = body["response"]["codes"][0].as_str().unwrap().to_owned();
    let id = first_factor(&mut browser, "two@example.com").await;
    let old = browser.second_factor(&id, "backup_code", &codes[2]).await;
    assert_error(&old, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    let (status, body) = browser.second_factor(&id, "backup_code", &fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");

    // A sign-in without a second factor has `fva[1] = -1`; removing TOTP goes back to that.
    let (status, body) = browser.send(reqwest::Method::DELETE, "/v1/me/totp", &[]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["deleted"], true);
    assert_eq!(body["client"]["sessions"][0]["user"]["two_factor_enabled"], false);
    browser.send(reqwest::Method::DELETE, "/v1/client/sessions", &[]).await;
    let (_, body) = browser.sign_in("two@example.com", PASSWORD).await;
    assert_eq!(body["response"]["status"], "complete");
    let token = body["client"]["sessions"][0]["last_active_token"]["jwt"].as_str().unwrap();
    assert_eq!(decode(token).1["fva"], json!([0, -1]));
}

#[tokio::test]
async fn second_factor_failures_count_toward_the_lockout() {
    let app = app_with(3).await;
    let mut browser = Browser::new(&app);
    let (secret, _) = enable_totp(&app, &mut browser, "lock2@example.com").await;
    let id = first_factor(&mut browser, "lock2@example.com").await;
    for _ in 0..3 {
        let wrong = browser.second_factor(&id, "totp", "000000x").await;
        assert_error(&wrong, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    }
    // Locked now: the right code does not sign in, and is not used up.
    app.clock.advance_ms(STEP_MS);
    let right = browser.second_factor(&id, "totp", &code_now(&app, &secret)).await;
    assert_ne!(right.0, StatusCode::OK, "{:?}", right.1);
    let (_, user) = app.get("/v1/users?email_address=lock2@example.com").await;
    assert_eq!(user[0]["locked"], true, "{user}");
}

#[tokio::test]
async fn the_backend_api_imports_verifies_and_removes_second_factors() {
    let app = app_with(100).await;
    // A Clerk export's secret and codes.
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DP";
    let (status, user) = app
        .post(
            "/v1/users",
            json!({"email_address": ["imp@example.com"], "password": PASSWORD, "totp_secret": secret,
                "backup_codes": ["abcd1234", "efgh5678"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(
        (&user["totp_enabled"], &user["backup_code_enabled"], &user["two_factor_enabled"]),
        (&json!(true), &json!(true), &json!(true))
    );
    let id = user["id"].as_str().unwrap();
    let bad = app.post("/v1/users", json!({"email_address": ["bad@example.com"], "totp_secret": "not base32!"})).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
    let (_, none) = app.get("/v1/users?email_address=bad@example.com").await;
    assert_eq!(none, json!([]), "a refused import creates no user");

    // The imported secret signs in, computed here as an app would.
    let mut browser = Browser::new(&app);
    let attempt = first_factor(&mut browser, "imp@example.com").await;
    let (status, body) = browser.second_factor(&attempt, "totp", &code_now(&app, secret)).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");

    // verify_totp: a TOTP code (once per step), then a backup code (used up).
    app.clock.advance_ms(STEP_MS);
    let code = code_now(&app, secret);
    let (status, body) = app.post(&format!("/v1/users/{id}/verify_totp"), json!({"code": code})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"verified": true, "code_type": "totp"}));
    let replay = app.post(&format!("/v1/users/{id}/verify_totp"), json!({"code": code})).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    let (_, body) = app.post(&format!("/v1/users/{id}/verify_totp"), json!({"code": "abcd1234"})).await;
    assert_eq!(body, json!({"verified": true, "code_type": "backup_code"}));
    let used = app.post(&format!("/v1/users/{id}/verify_totp"), json!({"code": "abcd1234"})).await;
    assert_error(&used, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");

    // Removal, one factor at a time, then everything.
    let (status, body) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{id}/backup_code"), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"user_id": id})));
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!((&user["totp_enabled"], &user["backup_code_enabled"]), (&json!(true), &json!(false)));
    let (status, _) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{id}/totp"), None).await;
    assert_eq!(status, StatusCode::OK);
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(user["two_factor_enabled"], false);
    let none = app.post(&format!("/v1/users/{id}/verify_totp"), json!({"code": "123456"})).await;
    assert_error(&none, StatusCode::BAD_REQUEST, "totp_not_enabled");
    let (status, body) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{id}/mfa"), None).await;
    assert_eq!((status, body), (StatusCode::OK, json!({"user_id": id})));
    let missing = app.call(reqwest::Method::DELETE, "/v1/users/user_nobody/mfa", None).await;
    assert_eq!(missing.0, StatusCode::NOT_FOUND);

    // Without second factors the password alone signs in again.
    browser.send(reqwest::Method::DELETE, "/v1/client/sessions", &[]).await;
    let (_, body) = browser.sign_in("imp@example.com", PASSWORD).await;
    assert_eq!(body["response"]["status"], "complete");
}

#[tokio::test]
async fn with_a_second_factor_required_the_session_stays_pending_until_one_is_set_up() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.second_factor_required = true;
    })
    .await;
    let env: Value = app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(env["user_settings"]["sign_in"]["second_factor"]["required"], true);
    app.create_user("req@example.com").await;
    let mut browser = Browser::new(&app);
    let (status, body) = browser.sign_in("req@example.com", PASSWORD).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let session = &body["client"]["sessions"][0];
    assert_eq!((session["status"].as_str(), &session["tasks"]), (Some("pending"), &json!([{"key": "setup-mfa"}])));
    let token = session["last_active_token"]["jwt"].as_str().unwrap();
    assert_eq!(decode(token).1["sts"], "pending", "no active session before the setup");

    let (_, body) = browser.post("/v1/me/totp", &[]).await;
    let secret = body["response"]["secret"].as_str().unwrap().to_owned();
    let (status, body) = browser.post("/v1/me/totp/attempt_verification", &[("code", &code_now(&app, &secret))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let session = &body["client"]["sessions"][0];
    assert_eq!((session["status"].as_str(), &session["tasks"]), (Some("active"), &Value::Null), "{body}");
    assert_eq!(decode(session["last_active_token"]["jwt"].as_str().unwrap()).1["sts"], "active");
}

#[tokio::test]
async fn the_totp_secret_is_sealed_and_backup_codes_hashed_at_rest() {
    let app = app_with(100).await;
    let mut browser = Browser::new(&app);
    let (secret, codes) = enable_totp(&app, &mut browser, "rest@example.com").await;
    let user = app.get("/v1/users?email_address=rest@example.com").await.1;
    let totp = app.state.store.get_totp(user[0]["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert!(!totp.secret_sealed.contains(&secret) && totp.verified);
    // The code is refused by the other second-factor strategy, and a strategy the account lacks is refused.
    let id = first_factor(&mut browser, "rest@example.com").await;
    let cross = browser.second_factor(&id, "totp", &codes[0]).await;
    assert_error(&cross, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    let odd = browser.second_factor(&id, "phone_code", "123456").await;
    assert_error(&odd, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
}

#[tokio::test]
async fn a_password_reset_of_an_account_with_a_second_factor_still_asks_for_it() {
    let app = app_with(100).await;
    let mut browser = Browser::new(&app);
    let email = "reset-two@example.com";
    let (secret, _codes) = enable_totp(&app, &mut browser, email).await;
    browser.send(reqwest::Method::DELETE, "/v1/client/sessions", &[]).await;

    let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", email)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let (status, body) = browser
        .post(&format!("/v1/client/sign_ins/{id}/prepare_first_factor"), &[("strategy", "reset_password_email_code")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mailbox = app.state.dev_mailbox.clone().expect("the dev mailbox");
    let mut code = None;
    for _ in 0..100 {
        code = mailbox.messages().into_iter().find(|m| m.to == email).and_then(|m| m.code);
        if code.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code = code.expect("a reset code by mail");
    let (status, body) = browser
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_first_factor"),
            &[("strategy", "reset_password_email_code"), ("code", &code)],
        )
        .await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("needs_new_password")), "{body}");

    // The new password is set, but the reset is a first factor only: the app is still asked for.
    let (status, body) = browser
        .post(&format!("/v1/client/sign_ins/{id}/reset_password"), &[("password", "a brand new passphrase")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "needs_second_factor", "{body}");
    assert_eq!(body["client"]["sessions"], json!([]), "no session before the second factor");
    app.clock.advance_ms(STEP_MS); // the step that turned the app on is spent
    let (status, body) = browser.second_factor(&id, "totp", &code_now(&app, &secret)).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
}

#[tokio::test]
async fn with_a_second_factor_required_a_new_sign_up_is_pending_until_one_is_set_up() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.second_factor_required = true;
    })
    .await;
    let mut browser = Browser::new(&app);
    let (_, body) =
        browser.post("/v1/client/sign_ups", &[("email_address", "new@example.com"), ("password", PASSWORD)]).await;
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    browser.post(&format!("/v1/client/sign_ups/{id}/prepare_verification"), &[("strategy", "email_code")]).await;
    let code = crate::frontend::code_for(&app, "new@example.com").await;
    let (status, body) =
        browser.post(&format!("/v1/client/sign_ups/{id}/attempt_verification"), &[("code", &code)]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let session = &body["client"]["sessions"][0];
    assert_eq!((session["status"].as_str(), &session["tasks"]), (Some("pending"), &json!([{"key": "setup-mfa"}])));
    assert_eq!(decode(session["last_active_token"]["jwt"].as_str().unwrap()).1["sts"], "pending");

    let (_, body) = browser.post("/v1/me/totp", &[]).await;
    let secret = body["response"]["secret"].as_str().unwrap().to_owned();
    let (status, body) = browser.post("/v1/me/totp/attempt_verification", &[("code", &code_now(&app, &secret))]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["client"]["sessions"][0]["status"], "active", "{body}");
}

#[tokio::test]
async fn wrong_codes_while_setting_up_an_authenticator_app_count_toward_the_lockout() {
    let app = app_with(3).await;
    app.create_user("guess@example.com").await;
    let mut browser = Browser::new(&app);
    browser.sign_in("guess@example.com", PASSWORD).await;
    let (_, body) = browser.post("/v1/me/totp", &[]).await;
    let secret = body["response"]["secret"].as_str().unwrap().to_owned();
    let right = code_now(&app, &secret);
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..3 {
        let answer = browser.post("/v1/me/totp/attempt_verification", &[("code", wrong)]).await;
        assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
    }
    let (_, users) = app.get("/v1/users?email_address=guess@example.com").await;
    assert_eq!(users[0]["locked"], true, "{users}");
    // Locked: the right code is not even tried.
    let answer = browser.post("/v1/me/totp/attempt_verification", &[("code", &right)]).await;
    assert_error(&answer, StatusCode::UNPROCESSABLE_ENTITY, "form_code_incorrect");
}
