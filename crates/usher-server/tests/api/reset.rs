//! Password reset (`reset_password_email_code`) and email links (`email_link`) through the
//! Frontend API and the link page, as clerk-js drives them.

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

use crate::{
    frontend::{Browser, ORIGIN, PASSWORD, app},
    helpers::{TestApp, assert_error},
};

const NEW_PASSWORD: &str = "a brand new passphrase";

/// Waits for the newest message to `to` whose subject contains `subject`.
async fn mail_to(app: &TestApp, to: &str, subject: &str) -> usher_server::mail::dev::DevMessage {
    let mailbox = app.state.dev_mailbox.clone().expect("the dev mailbox");
    for _ in 0..100 {
        if let Some(m) = mailbox.messages().into_iter().find(|m| m.to == to && m.subject.contains(subject)) {
            return m;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to} about {subject}");
}

/// Waits until `to` has received `n` codes and returns the newest.
async fn nth_code(app: &TestApp, to: &str, n: usize) -> String {
    let mailbox = app.state.dev_mailbox.clone().expect("the dev mailbox");
    for _ in 0..100 {
        let codes: Vec<String> = mailbox
            .messages()
            .into_iter()
            .filter(|m| m.to == to && m.subject.contains("code"))
            .filter_map(|m| m.code)
            .collect();
        if codes.len() >= n {
            return codes[0].clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no code number {n} to {to}");
}

/// Gives the outbox time to deliver anything queued, then counts the messages to `to`.
async fn mails_to(app: &TestApp, to: &str) -> usize {
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.state.dev_mailbox.clone().unwrap().messages().iter().filter(|m| m.to == to).count()
}

fn link_path(message: &usher_server::mail::dev::DevMessage) -> String {
    let start = message.text.find("/v1/verify?token=").expect("a link in the mail");
    message.text[start..].split_whitespace().next().unwrap().to_owned()
}

async fn start(browser: &mut Browser<'_>, email: &str) -> Value {
    let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", email)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["response"].clone()
}

async fn prepare_reset(browser: &mut Browser<'_>, id: &str) -> (StatusCode, Value) {
    browser
        .post(&format!("/v1/client/sign_ins/{id}/prepare_first_factor"), &[("strategy", "reset_password_email_code")])
        .await
}

async fn attempt_reset(browser: &mut Browser<'_>, id: &str, code: &str) -> (StatusCode, Value) {
    browser
        .post(
            &format!("/v1/client/sign_ins/{id}/attempt_first_factor"),
            &[("strategy", "reset_password_email_code"), ("code", code)],
        )
        .await
}

fn wrong(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_through_the_frontend_api() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut laptop = Browser::new(&app);
    let (status, _) = laptop.sign_in("ada@example.com", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    // Created with the strategy (clerk-js's forgot-password flow), the code is mailed at once.
    let mut phone = Browser::new(&app);
    let (status, body) = phone
        .post("/v1/client/sign_ins", &[("identifier", "ada@example.com"), ("strategy", "reset_password_email_code")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sign_in = body["response"].clone();
    assert_eq!(sign_in["first_factor_verification"]["strategy"], "reset_password_email_code");
    let id = sign_in["id"].as_str().unwrap().to_owned();
    let factor = sign_in["supported_first_factors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["strategy"] == "reset_password_email_code")
        .expect("a reset factor")
        .clone();
    assert_eq!(factor["safe_identifier"], "ada@example.com");
    assert!(factor["email_address_id"].as_str().unwrap().starts_with("idn_"));

    let verification = &sign_in["first_factor_verification"];
    assert_eq!(
        (verification["status"].as_str(), verification["strategy"].as_str()),
        (Some("unverified"), Some("reset_password_email_code"))
    );
    let code = mail_to(&app, "ada@example.com", "verification code").await.code.unwrap();

    // The reset route is closed until the code is checked.
    let early = phone.post(&format!("/v1/client/sign_ins/{id}/reset_password"), &[("password", NEW_PASSWORD)]).await;
    assert_error(&early, StatusCode::UNPROCESSABLE_ENTITY, "sign_in_status_invalid");
    let (status, body) = attempt_reset(&mut phone, &id, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "needs_new_password");
    assert_eq!(body["response"]["first_factor_verification"]["status"], "verified");

    // Checked like a sign-up's password.
    let short = phone.post(&format!("/v1/client/sign_ins/{id}/reset_password"), &[("password", "short")]).await;
    assert_eq!(short.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", short.1);
    let (status, body) = phone
        .post(
            &format!("/v1/client/sign_ins/{id}/reset_password"),
            &[("password", NEW_PASSWORD), ("sign_out_of_other_sessions", "true")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["response"]["created_session_id"], body["client"]["last_active_session_id"]);
    let (status, _) = phone.get("/v1/me").await;
    assert_eq!(status, StatusCode::OK);

    // The other session ended; the owner was told; only the new password works.
    assert_error(&laptop.get("/v1/me").await, StatusCode::UNAUTHORIZED, "signed_out");
    mail_to(&app, "ada@example.com", "password was changed").await;
    let mut third = Browser::new(&app);
    assert_error(
        &third.sign_in("ada@example.com", PASSWORD).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_password_incorrect",
    );
    let (status, body) = third.sign_in("ada@example.com", NEW_PASSWORD).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")));
}

#[tokio::test]
async fn five_wrong_codes_kill_a_reset_code() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    let id = start(&mut browser, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    prepare_reset(&mut browser, &id).await;
    let code = mail_to(&app, "ada@example.com", "verification code").await.code.unwrap();
    for _ in 0..5 {
        assert_error(
            &attempt_reset(&mut browser, &id, wrong(&code)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_code_incorrect",
        );
    }
    assert_error(
        &attempt_reset(&mut browser, &id, &code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_failed",
    );
    // And after ten minutes a fresh code is expired, too.
    prepare_reset(&mut browser, &id).await;
    let code = nth_code(&app, "ada@example.com", 2).await;
    app.clock.advance_ms(10 * 60 * 1000 + 1);
    assert_error(
        &attempt_reset(&mut browser, &id, &code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_expired",
    );
}

#[tokio::test]
async fn a_reset_revokes_outstanding_codes_and_keeps_other_sessions_unless_asked() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut laptop = Browser::new(&app);
    laptop.sign_in("ada@example.com", PASSWORD).await;

    let mut first = Browser::new(&app);
    let first_id = start(&mut first, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    prepare_reset(&mut first, &first_id).await;
    let first_code = mail_to(&app, "ada@example.com", "verification code").await.code.unwrap();
    let (status, _) = attempt_reset(&mut first, &first_id, &first_code).await;
    assert_eq!(status, StatusCode::OK);

    // A second reset asked for meanwhile (say, by someone else).
    let mut second = Browser::new(&app);
    let second_id = start(&mut second, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    prepare_reset(&mut second, &second_id).await;
    let second_code = nth_code(&app, "ada@example.com", 2).await;
    let (status, body) = attempt_reset(&mut second, &second_id, &second_code).await;
    assert_eq!(body["response"]["status"], "needs_new_password", "{status} {body}");
    // And a third, not yet checked.
    let mut third = Browser::new(&app);
    let third_id = start(&mut third, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    prepare_reset(&mut third, &third_id).await;
    let third_code = nth_code(&app, "ada@example.com", 3).await;

    let (status, body) =
        first.post(&format!("/v1/client/sign_ins/{first_id}/reset_password"), &[("password", NEW_PASSWORD)]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    // Not asked to: the laptop stays signed in.
    assert_eq!(laptop.get("/v1/me").await.0, StatusCode::OK);
    // The outstanding code died with the reset, and the checked one can no longer set a password.
    assert_error(
        &attempt_reset(&mut third, &third_id, &third_code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "verification_failed",
    );
    let stale = second
        .post(&format!("/v1/client/sign_ins/{second_id}/reset_password"), &[("password", "yet another passphrase")])
        .await;
    assert_error(&stale, StatusCode::UNPROCESSABLE_ENTITY, "verification_failed");
    let mut check = Browser::new(&app);
    assert_eq!(check.sign_in("ada@example.com", NEW_PASSWORD).await.1["response"]["status"], "complete");
}

/// Ids, which differ between any two attempts, replaced by their prefix.
fn normalized(mut body: Value) -> String {
    body["clerk_trace_id"] = Value::Null;
    let text = body.to_string();
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(i) = ["sia_", "idn_", "client_"].iter().filter_map(|p| rest.find(p)).min() {
        out.push_str(&rest[..i]);
        let id_end = rest[i..].find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).map_or(rest.len(), |e| i + e);
        out.push_str(&rest[i..i + rest[i..].find('_').unwrap()]);
        out.push_str("_ID");
        rest = &rest[id_end..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn an_unknown_address_gets_byte_identical_reset_answers_and_no_mail() {
    let app = app().await;
    app.create_user("known@example.com").await;
    let mut transcripts = Vec::new();
    for email in ["nobody@example.com", "known@example.com"] {
        let mut browser = Browser::new(&app);
        let mut transcript = Vec::new();
        let (status, body) = browser.post("/v1/client/sign_ins", &[("identifier", email)]).await;
        let id = body["response"]["id"].as_str().unwrap().to_owned();
        transcript.push((status, normalized(body).replace(email, "EMAIL")));
        let (status, body) = prepare_reset(&mut browser, &id).await;
        transcript.push((status, normalized(body).replace(email, "EMAIL")));
        for _ in 0..6 {
            let (status, body) = attempt_reset(&mut browser, &id, "123456").await;
            transcript.push((status, normalized(body).replace(email, "EMAIL")));
        }
        let (status, body) =
            browser.post(&format!("/v1/client/sign_ins/{id}/reset_password"), &[("password", NEW_PASSWORD)]).await;
        transcript.push((status, normalized(body).replace(email, "EMAIL")));
        transcripts.push(transcript);
    }
    assert_eq!(transcripts[0], transcripts[1]);
    assert_eq!(mails_to(&app, "nobody@example.com").await, 0);
    assert_eq!(mails_to(&app, "known@example.com").await, 1);
}

#[tokio::test]
async fn an_email_link_signs_in_the_browser_that_asked_once() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    let sign_in = start(&mut browser, "ada@example.com").await;
    let id = sign_in["id"].as_str().unwrap().to_owned();
    assert!(sign_in["supported_first_factors"].as_array().unwrap().iter().any(|f| f["strategy"] == "email_link"));

    let prepare = format!("/v1/client/sign_ins/{id}/prepare_first_factor");
    let foreign =
        browser.post(&prepare, &[("strategy", "email_link"), ("redirect_url", "https://evil.example/x")]).await;
    assert_error(&foreign, StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid");
    let missing = browser.post(&prepare, &[("strategy", "email_link")]).await;
    assert_error(&missing, StatusCode::UNPROCESSABLE_ENTITY, "form_param_missing");
    let redirect = format!("{ORIGIN}/done");
    let (status, body) = browser.post(&prepare, &[("strategy", "email_link"), ("redirect_url", &redirect)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["first_factor_verification"]["strategy"], "email_link");
    assert_eq!(body["response"]["first_factor_verification"]["status"], "unverified");
    let link = link_path(&mail_to(&app, "ada@example.com", "sign-in link").await);
    assert!(!link.contains(&redirect), "the target is not in the link");

    let (status, _) = browser.get(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = browser.location.clone().unwrap();
    assert!(
        location.starts_with(&format!("{redirect}?__clerk_status=verified&__clerk_created_session=sess_")),
        "{location}"
    );
    let (status, body) = browser.get(&format!("/v1/client/sign_ins/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response"]["status"], "complete");
    let verification = &body["response"]["first_factor_verification"];
    assert_eq!(verification["status"], "verified");
    assert_eq!(verification["verified_at_client"], body["client"]["id"]);
    assert_eq!(browser.get("/v1/me").await.0, StatusCode::OK);

    // Works once.
    let (status, page) = browser.get(&link).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(page.as_str().unwrap().contains("not valid or was already used"));
}

#[tokio::test]
async fn an_expired_email_link_is_refused() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    let id = start(&mut browser, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    let prepare = format!("/v1/client/sign_ins/{id}/prepare_first_factor");
    browser.post(&prepare, &[("strategy", "email_link"), ("redirect_url", "/user")]).await;
    let link = link_path(&mail_to(&app, "ada@example.com", "sign-in link").await);
    app.clock.advance_ms(10 * 60 * 1000 + 1);
    let (status, _) = browser.get(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(browser.location.as_deref(), Some("/user?__clerk_status=expired"));
    let (_, body) = browser.get(&format!("/v1/client/sign_ins/{id}")).await;
    assert_eq!(body["response"]["status"], "needs_first_factor");
    assert_eq!(body["response"]["first_factor_verification"]["status"], "expired");
    assert_error(&browser.get("/v1/me").await, StatusCode::UNAUTHORIZED, "signed_out");
}

#[tokio::test]
async fn an_email_link_opened_elsewhere_needs_confirming_and_signs_in_the_original_browser() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut laptop = Browser::new(&app);
    let id = start(&mut laptop, "ada@example.com").await["id"].as_str().unwrap().to_owned();
    let prepare = format!("/v1/client/sign_ins/{id}/prepare_first_factor");
    laptop.post(&prepare, &[("strategy", "email_link"), ("redirect_url", "/user")]).await;
    let link = link_path(&mail_to(&app, "ada@example.com", "sign-in link").await);
    let token = link.split("token=").nth(1).unwrap().to_owned();

    // Opening it elsewhere (or a mail scanner fetching it) does nothing by itself.
    let mut phone = Browser::new(&app);
    for _ in 0..2 {
        let (status, page) = phone.get(&link).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.as_str().unwrap().contains("Yes, it was me"));
    }
    let (_, body) = laptop.get(&format!("/v1/client/sign_ins/{id}")).await;
    assert_eq!(body["response"]["first_factor_verification"]["status"], "unverified");

    let (status, page) = phone.post("/v1/verify", &[("token", &token)]).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.as_str().unwrap().contains("Return to your original tab"));
    assert_error(&phone.get("/v1/me").await, StatusCode::UNAUTHORIZED, "signed_out");
    // The laptop's poll finishes the sign-in there.
    let (status, body) = laptop.get(&format!("/v1/client/sign_ins/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response"]["status"], "complete", "{body}");
    assert_eq!(laptop.get("/v1/me").await.0, StatusCode::OK);
    // Confirming again is refused.
    assert_eq!(phone.post("/v1/verify", &[("token", &token)]).await.0, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn an_unknown_address_gets_the_same_email_link_answers_and_no_mail() {
    let app = app().await;
    app.create_user("known@example.com").await;
    let mut transcripts = Vec::new();
    for email in ["nobody@example.com", "known@example.com"] {
        let mut browser = Browser::new(&app);
        let id = start(&mut browser, email).await["id"].as_str().unwrap().to_owned();
        let (status, body) = browser
            .post(
                &format!("/v1/client/sign_ins/{id}/prepare_first_factor"),
                &[("strategy", "email_link"), ("redirect_url", "/user")],
            )
            .await;
        let (bad_status, bad) = browser.get(&format!("/v1/verify?token={id}.wrongwrongwrong")).await;
        transcripts.push(((status, normalized(body).replace(email, "EMAIL")), (bad_status, bad)));
    }
    assert_eq!(transcripts[0], transcripts[1]);
    assert_eq!(mails_to(&app, "nobody@example.com").await, 0);
    assert_eq!(mails_to(&app, "known@example.com").await, 1);
}

#[tokio::test]
async fn an_email_link_verifies_a_sign_up() {
    let app = app().await;
    let mut browser = Browser::new(&app);
    let (status, body) =
        browser.post("/v1/client/sign_ups", &[("email_address", "new@example.com"), ("password", PASSWORD)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let prepare = format!("/v1/client/sign_ups/{id}/prepare_verification");
    let foreign = browser.post(&prepare, &[("strategy", "email_link"), ("redirect_url", "http://evil.example")]).await;
    assert_error(&foreign, StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid");
    let redirect = format!("{ORIGIN}/welcome");
    let (status, body) = browser.post(&prepare, &[("strategy", "email_link"), ("redirect_url", &redirect)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["verifications"]["email_address"]["strategy"], "email_link");
    let link = link_path(&mail_to(&app, "new@example.com", "sign-up link").await);
    let (status, _) = browser.get(&link).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        browser
            .location
            .as_deref()
            .unwrap()
            .starts_with(&format!("{redirect}?__clerk_status=verified&__clerk_created_session=sess_"))
    );
    let (_, body) = browser.get(&format!("/v1/client/sign_ups/{id}")).await;
    assert_eq!(body["response"]["status"], "complete");
    assert_eq!(body["response"]["verifications"]["email_address"]["status"], "verified");
    let (status, me) = browser.get("/v1/me").await;
    assert_eq!(
        (status, me["response"]["email_addresses"][0]["email_address"].as_str()),
        (StatusCode::OK, Some("new@example.com"))
    );
    assert_eq!(browser.get(&link).await.0, StatusCode::BAD_REQUEST, "works once");
}

#[tokio::test]
async fn wrong_reset_codes_count_toward_the_lockout() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = 3;
    })
    .await;
    app.create_user("ada@example.com").await;
    let mut browser = Browser::new(&app);
    let (_, body) = browser
        .post("/v1/client/sign_ins", &[("identifier", "ada@example.com"), ("strategy", "reset_password_email_code")])
        .await;
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let code = mail_to(&app, "ada@example.com", "verification code").await.code.unwrap();
    for _ in 0..3 {
        assert_error(
            &attempt_reset(&mut browser, &id, wrong(&code)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "form_code_incorrect",
        );
    }
    // Locked: even the right code (and the right password) answer like wrong ones.
    assert_error(
        &attempt_reset(&mut browser, &id, &code).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_code_incorrect",
    );
    let (_, user) = app.get("/v1/users?email_address=ada@example.com").await;
    assert_eq!(user[0]["locked"], true, "{user}");
}

/// Two `reset_password` calls racing on one verified attempt: the freshness check and the write
/// are one conditional write, so exactly one wins and only its password works.
#[tokio::test]
async fn concurrent_resets_of_one_attempt_let_only_one_win() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Db::Postgres, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await;
    app.create_user("ada@example.com").await;
    let mut first = Browser::new(&app);
    let (_, body) = first
        .post("/v1/client/sign_ins", &[("identifier", "ada@example.com"), ("strategy", "reset_password_email_code")])
        .await;
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let code = mail_to(&app, "ada@example.com", "verification code").await.code.unwrap();
    let (status, body) = attempt_reset(&mut first, &id, &code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // The same browser twice (one cookie jar), two requests in flight at once.
    let mut second = Browser::new(&app);
    second.cookies = first.cookies.clone();
    let path = format!("/v1/client/sign_ins/{id}/reset_password");
    let (a, b) = tokio::join!(
        first.post(&path, &[("password", "first new passphrase")]),
        second.post(&path, &[("password", "second new passphrase")]),
    );
    let winners: Vec<&str> = [(&a, "first new passphrase"), (&b, "second new passphrase")]
        .into_iter()
        .filter(|(answer, _)| answer.0 == StatusCode::OK)
        .map(|(_, password)| password)
        .collect();
    assert_eq!(winners.len(), 1, "{a:?} {b:?}");
    let loser = if a.0 == StatusCode::OK { &b } else { &a };
    assert_eq!(loser.0, StatusCode::UNPROCESSABLE_ENTITY, "{loser:?}");
    let losing_password =
        if winners[0] == "first new passphrase" { "second new passphrase" } else { "first new passphrase" };
    let mut third = Browser::new(&app);
    assert_error(
        &third.sign_in("ada@example.com", losing_password).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_password_incorrect",
    );
    let (status, _) = third.sign_in("ada@example.com", winners[0]).await;
    assert_eq!(status, StatusCode::OK);
}
