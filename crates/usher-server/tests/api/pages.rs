//! The hosted pages (`/sign-in`, `/sign-up`, `/user`, `/sign-out`) driven like a browser
//! without scripts: form posts, a cookie jar, redirects followed by hand.

use std::{collections::BTreeMap, sync::Mutex, time::Duration};

use reqwest::{StatusCode, header::HeaderMap};
use serde_json::{Value, json};

use crate::helpers::{Db, TestApp, spawn_app_with};

pub(crate) const PASSWORD: &str = "correct horse battery";

/// A browser: a cookie jar, no automatic redirects, `Origin` on posts like a real form.
pub(crate) struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    jar: Mutex<BTreeMap<String, String>>,
}

pub(crate) struct Answer {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: String,
}

impl Answer {
    pub(crate) fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or_default()
    }

    /// The value of the hidden (or other) input `name`.
    pub(crate) fn input(&self, name: &str) -> Option<String> {
        let at = self.body.find(&format!(r#"name="{name}""#))?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let value = tag.split(r#"value=""#).nth(1)?;
        Some(value.split('"').next()?.to_owned())
    }
}

impl<'a> Browser<'a> {
    pub(crate) fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, http, jar: Mutex::new(BTreeMap::new()) }
    }

    fn cookie_header(&self) -> String {
        let jar = self.jar.lock().unwrap();
        jar.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")
    }

    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.jar.lock().unwrap().get(name).cloned()
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Answer {
        let response = request.header("cookie", self.cookie_header()).send().await.expect("request");
        let status = response.status();
        let headers = response.headers().clone();
        for set in headers.get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, attrs) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            let mut jar = self.jar.lock().unwrap();
            if value.is_empty() || attrs.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_owned(), value.to_owned());
            }
        }
        let body = response.text().await.unwrap();
        Answer { status, headers, body }
    }

    pub(crate) async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}{path}", self.app.url))).await
    }

    pub(crate) async fn post(&self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.post_from(path, form, &self.app.url).await
    }

    pub(crate) async fn post_from(&self, path: &str, form: &[(&str, &str)], origin: &str) -> Answer {
        self.send(self.http.post(format!("{}{path}", self.app.url)).header("origin", origin).form(form)).await
    }

    pub(crate) async fn sign_in(&self, email: &str, redirect_url: Option<&str>) -> Answer {
        let mut form = vec![("identifier", email), ("password", PASSWORD)];
        form.extend(redirect_url.map(|r| ("redirect_url", r)));
        self.post("/sign-in", &form).await
    }
}

pub(crate) async fn app() -> TestApp {
    spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.application_name = "Acme <Portal>".into();
    })
    .await
}

/// The newest code mailed to `to` (the outbox delivers in the background).
async fn code_for(app: &TestApp, to: &str) -> String {
    for _ in 0..100 {
        let list: Value = app
            .http
            .get(format!("{}/dev/mailbox.json", app.url))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap_or_default();
        let found = list.as_array().and_then(|l| l.iter().find(|m| m["to"] == to && m["code"].is_string()));
        if let Some(message) = found {
            return message["code"].as_str().unwrap().to_owned();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no code was mailed to {to}");
}

fn assert_page(answer: &Answer, status: StatusCode) {
    assert_eq!(answer.status, status, "{}", answer.body);
    let header = |name: &str| answer.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    assert!(header("content-type").starts_with("text/html"), "{}", header("content-type"));
    assert_eq!(header("cache-control"), "no-store");
    assert_eq!(header("x-frame-options"), "DENY");
    let csp = header("content-security-policy");
    assert!(csp.contains("default-src 'none'") && csp.contains("form-action 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_script_policy(&csp);
    assert!(answer.body.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(answer.body.contains("<main>"));
    // The application name is escaped in the title and heading.
    assert!(answer.body.contains("Acme &lt;Portal&gt;") && !answer.body.contains("<Portal>"));
    assert!(!answer.body.contains("<script"));
}

/// Scripts: usher's own files only (the passkey pages' one), never inline, never from elsewhere,
/// and nothing else opened up for them (no `connect-src`: the script posts its form).
fn assert_script_policy(csp: &str) {
    let directives: Vec<&str> = csp.split(';').map(str::trim).collect();
    assert!(directives.contains(&"script-src 'self'"), "{csp}");
    assert!(directives.contains(&"default-src 'none'"), "{csp}");
    assert!(
        !directives
            .iter()
            .any(|d| d.starts_with("connect-src") || d.starts_with("script-src-") || d.contains("unsafe-eval")),
        "{csp}"
    );
    let script = directives.iter().find(|d| d.starts_with("script-src")).unwrap();
    assert!(!script.contains("unsafe-inline") && !script.contains("http"), "{csp}");
}

#[tokio::test]
async fn the_passkey_pages_load_only_usher_s_own_script() {
    let app = app().await;
    let b = Browser::new(&app);
    let sign_in = b.get("/sign-in").await;
    assert!(sign_in.body.contains(r#"action="/sign-in/passkey""#), "the sign-in page offers passkeys");
    let page = b.post("/sign-in/passkey", &[]).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csp = page.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert_script_policy(&csp);
    assert!(page.body.contains(r#"<script src="/pages/passkey.js" defer></script>"#), "{}", page.body);
    assert_eq!(page.body.matches("<script").count(), 1, "no inline script");
    assert!(
        page.body.contains(r#"data-passkey="get""#) && page.body.contains("&quot;challenge&quot;"),
        "{}",
        page.body
    );
    assert!(page.input("sign_in_id").is_some_and(|id| id.starts_with("sia_")));
    let script = b.get("/pages/passkey.js").await;
    assert_eq!(script.status, StatusCode::OK);
    assert!(script.headers["content-type"].to_str().unwrap().starts_with("text/javascript"));
    assert!(script.body.contains("navigator.credentials.get"));
    // Without the script (no credential), the post is a clear error on the sign-in form.
    let id = page.input("sign_in_id").unwrap();
    let bare = b.post("/sign-in/passkey/verify", &[("sign_in_id", &id), ("public_key_credential", "")]).await;
    assert_eq!(bare.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bare.body);
    assert!(bare.body.contains("public_key_credential is required"), "{}", bare.body);
}

#[tokio::test]
async fn sign_up_verify_edit_profile_and_sign_out() {
    let app = app().await;
    let b = Browser::new(&app);

    let page = b.get("/sign-up").await;
    assert_page(&page, StatusCode::OK);
    for label in ["Email address", "Password", "First name", "Last name"] {
        assert!(page.body.contains(&format!(">{label}</label>")), "{label}");
    }
    assert!(page.body.contains(r#"autocomplete="new-password""#));
    assert!(page.body.contains(">Continue</button>"));

    let email = "new.person@example.com";
    let sent = b
        .post("/sign-up", &[("email_address", email), ("password", PASSWORD), ("first_name", "Ada"), ("last_name", "")])
        .await;
    assert_page(&sent, StatusCode::OK);
    assert!(sent.body.contains("Check your email") && sent.body.contains(email));
    assert!(sent.body.contains(r#"autocomplete="one-time-code""#) && sent.body.contains(r#"inputmode="numeric""#));
    let id = sent.input("sign_up_id").expect("sign_up_id");
    assert!(b.cookie("__client").is_some(), "the new client's cookie is set");

    // A wrong code re-renders the form with the error on the code field.
    let wrong = b.post("/sign-up/verify", &[("sign_up_id", &id), ("code", "000000")]).await;
    assert_page(&wrong, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(r#"role="alert""#) && wrong.body.contains("Incorrect code"), "{}", wrong.body);
    assert!(wrong.body.contains(r#"aria-invalid="true" aria-describedby="error""#));

    let code = code_for(&app, email).await;
    let done = b.post("/sign-up/verify", &[("sign_up_id", &id), ("code", &code)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/user");
    assert!(b.cookie("__session").is_some(), "signed in");
    assert_ne!(b.cookie("__client_uat").as_deref(), Some("0"));

    let user = b.get("/user").await;
    assert_page(&user, StatusCode::OK);
    assert!(user.body.contains(email) && user.body.contains("Primary") && user.body.contains("Verified"));
    assert!(user.body.contains("This device") && user.body.contains(r#"value="Ada""#));

    // Profile edit persists (post/redirect/get with a status message).
    let saved = b.post("/user/profile", &[("first_name", "Grace"), ("last_name", "Hopper")]).await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(saved.location(), "/user?done=profile");
    let user = b.get("/user?done=profile").await;
    assert!(user.body.contains(r#"role="status""#) && user.body.contains("Profile saved"));
    assert!(user.body.contains(r#"value="Grace""#) && user.body.contains(r#"value="Hopper""#));
    let (_, users) = app.get(&format!("/v1/users?email_address={email}")).await;
    assert_eq!(users[0]["first_name"], "Grace");

    // Signed in, /sign-up and /sign-in go straight on.
    assert_eq!(b.get("/sign-up").await.location(), "/user");
    assert_eq!(b.get("/sign-in?redirect_url=%2Fdashboard").await.location(), "/dashboard");

    // Sign out clears the session; /user then sends to sign in.
    let out = b.post("/sign-out", &[]).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    assert_eq!(out.location(), "/sign-in");
    assert_eq!(b.cookie("__session"), None);
    assert_eq!(b.cookie("__client_uat").as_deref(), Some("0"));
    let gone = b.get("/user").await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER);
    assert_eq!(gone.location(), "/sign-in?redirect_url=%2Fuser");
}

#[tokio::test]
async fn password_sign_in_and_its_errors() {
    let app = app().await;
    let email = "pw.user@example.com";
    app.create_user(email).await;
    let b = Browser::new(&app);

    let page = b.get("/sign-in").await;
    assert_page(&page, StatusCode::OK);
    assert!(page.body.contains(r#"<label for="identifier">Email address</label>"#));
    assert!(page.body.contains(r#"<label for="password">Password</label>"#));
    assert!(page.body.contains(r#"autocomplete="current-password""#) && page.body.contains(r#"autocomplete="email""#));
    assert!(page.body.contains("Email me a code instead") && page.body.contains(r#"href="/sign-up""#));

    let wrong = b.post("/sign-in", &[("identifier", email), ("password", "not the password")]).await;
    assert_page(&wrong, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains(r#"role="alert""#) && wrong.body.contains("Password is incorrect. Try again."));
    assert!(wrong.body.contains(r#"name="password" type="password" autocomplete="current-password" required aria-invalid="true" aria-describedby="error" autofocus"#), "{}", wrong.body);
    assert!(wrong.body.contains(&format!(r#"value="{email}""#)), "the email is kept");
    assert!(!wrong.body.contains("not the password"), "a password is never echoed");

    let missing = b.post("/sign-in", &[("identifier", email)]).await;
    assert_page(&missing, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.body.contains("Enter your password."));

    let ok = b.sign_in(email, None).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER, "{}", ok.body);
    assert_eq!(ok.location(), "/user");
    assert_eq!(ok.headers.get("cache-control").unwrap(), "no-store");
    let user = b.get("/user").await;
    assert_page(&user, StatusCode::OK);
    assert!(user.body.contains(email));

    // Interpolated input is escaped.
    let hostile = Browser::new(&app);
    let xss = r#""><script>alert(1)</script>@example.com"#;
    let answer = hostile.post("/sign-in", &[("identifier", xss), ("password", "whatever-password")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!answer.body.contains("<script>alert(1)"), "{}", answer.body);
    assert!(answer.body.contains("&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;@example.com"));
}

#[tokio::test]
async fn redirect_url_is_checked_and_refused_targets_are_dropped() {
    let app = app().await;
    let email = "redirect.user@example.com";
    app.create_user(email).await;

    let evil = "https://evil.example/";
    let b = Browser::new(&app);
    let page = b.get("/sign-in?redirect_url=https%3A%2F%2Fevil.example%2F").await;
    assert_page(&page, StatusCode::OK);
    assert!(!page.body.contains("evil.example"), "{}", page.body);
    let wrong =
        b.post("/sign-in", &[("identifier", email), ("password", "nope nope nope"), ("redirect_url", evil)]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!wrong.body.contains("evil.example"));
    let ok = b.sign_in(email, Some(evil)).await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert_eq!(ok.location(), "/user");

    for bad in ["//evil.example", "/\\evil.example", "javascript:alert(1)", "https://evil.example#@127.0.0.1"] {
        let b = Browser::new(&app);
        let ok = b.sign_in(email, Some(bad)).await;
        assert_eq!(ok.location(), "/user", "{bad}");
    }

    // A relative target is honoured, and kept through the page and its links.
    let b = Browser::new(&app);
    let page = b.get("/sign-in?redirect_url=%2Fdashboard%3Fa%3D1%26b%3D2").await;
    assert!(page.body.contains(r#"name="redirect_url" value="/dashboard?a=1&amp;b=2""#), "{}", page.body);
    assert!(page.body.contains(r#"href="/sign-up?redirect_url=%2Fdashboard%3Fa%3D1%26b%3D2""#));
    let ok = b.sign_in(email, Some("/dashboard")).await;
    assert_eq!(ok.location(), "/dashboard");

    // usher's own origin is allowed as an absolute target.
    let own = format!("{}/after", app.url);
    let ok = Browser::new(&app).sign_in(email, Some(&own)).await;
    assert_eq!(ok.location(), own);

    // Signing out follows a safe target only.
    let out = b.post("/sign-out", &[("redirect_url", evil)]).await;
    assert_eq!(out.location(), "/sign-in");
}

#[tokio::test]
async fn posts_from_a_foreign_origin_are_refused() {
    let app = app().await;
    let email = "origin.user@example.com";
    app.create_user(email).await;
    let b = Browser::new(&app);
    let answer =
        b.post_from("/sign-in", &[("identifier", email), ("password", PASSWORD)], "https://evil.example").await;
    assert_page(&answer, StatusCode::FORBIDDEN);
    assert!(answer.body.contains(r#"role="alert""#) && answer.body.contains("origin"));
    assert_eq!(b.cookie("__session"), None);
}

#[tokio::test]
async fn account_pages_need_a_session() {
    let app = app().await;
    let b = Browser::new(&app);
    let answer = b.get("/user").await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/sign-in?redirect_url=%2Fuser");
    let answer = b.post("/user/profile", &[("first_name", "X")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(answer.location(), "/sign-in?redirect_url=%2Fuser");
}

#[tokio::test]
async fn email_code_sign_in() {
    let app = app().await;
    let email = "code.user@example.com";
    app.create_user(email).await;
    let b = Browser::new(&app);
    let sent = b.post("/sign-in/code", &[("identifier", email), ("redirect_url", "/dashboard")]).await;
    assert_page(&sent, StatusCode::OK);
    assert!(sent.body.contains(r#"<label for="code">Code</label>"#));
    let id = sent.input("sign_in_id").expect("sign_in_id");
    assert_eq!(sent.input("redirect_url").as_deref(), Some("/dashboard"));

    // An unknown address gets the same page (no account enumeration).
    let unknown = Browser::new(&app).post("/sign-in/code", &[("identifier", "nobody@example.com")]).await;
    assert_page(&unknown, StatusCode::OK);
    assert!(unknown.input("sign_in_id").is_some());

    let code = code_for(&app, email).await;
    let done =
        b.post("/sign-in/code/verify", &[("sign_in_id", &id), ("code", &code), ("redirect_url", "/dashboard")]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "/dashboard");
    assert!(b.cookie("__session").is_some());
}

#[tokio::test]
async fn sign_in_with_a_ticket() {
    let app = app().await;
    let user = app.create_user("ticket.user@example.com").await;
    let (status, token) = app.post("/v1/sign_in_tokens", json!({"user_id": user["id"]})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let url = token["url"].as_str().unwrap();
    let path = &url[url.find("/sign-in").unwrap()..];
    let b = Browser::new(&app);
    let answer = redeem(&b, path).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/user");
    assert!(b.cookie("__session").is_some());
    // Used once.
    let again = redeem(&Browser::new(&app), path).await;
    assert_page(&again, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(again.body.contains(r#"role="alert""#) && again.body.contains("invalid"));
}

/// Opens a sign-in link and presses its button, as a person does.
pub(crate) async fn redeem(b: &Browser<'_>, path: &str) -> Answer {
    let page = b.get(path).await;
    assert_page(&page, StatusCode::OK);
    assert!(page.body.contains(r#"action="/sign-in/ticket""#), "{}", page.body);
    let ticket = page.input("__clerk_ticket").expect("the ticket in the form");
    let mut form = vec![("__clerk_ticket", ticket)];
    form.extend(page.input("redirect_url").map(|r| ("redirect_url", r)));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    b.post("/sign-in/ticket", &form).await
}

/// Issue 11 item 10: opening a sign-in link changes nothing (link scanners and prefetchers
/// cannot use the ticket up, and no session starts from a GET); a link another site sent the
/// browser to is refused; the ticket works once it is posted from usher's own page.
#[tokio::test]
async fn a_sign_in_link_signs_in_only_through_a_post() {
    let app = app().await;
    let user = app.create_user("link.user@example.com").await;
    let (_, token) = app.post("/v1/sign_in_tokens", json!({"user_id": user["id"]})).await;
    let ticket = token["token"].as_str().unwrap();
    let path = format!("/sign-in?__clerk_ticket={ticket}");
    let b = Browser::new(&app);
    for _ in 0..2 {
        let page = b.get(&path).await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        assert!(b.cookie("__session").is_none(), "a GET starts no session");
    }
    let cross = b.send(b.http.get(format!("{}{path}", app.url)).header("sec-fetch-site", "cross-site")).await;
    assert_page(&cross, StatusCode::FORBIDDEN);
    assert!(!cross.body.contains(ticket) && b.cookie("__session").is_none());
    let foreign = b.post_from("/sign-in/ticket", &[("__clerk_ticket", ticket)], "https://evil.example").await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(b.cookie("__session").is_none());
    let done = redeem(&b, &path).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert!(b.cookie("__session").is_some());
}

#[tokio::test]
async fn account_page_manages_password_emails_and_sessions() {
    let app = app().await;
    let email = "manage.user@example.com";
    app.create_user(email).await;
    let b = Browser::new(&app);
    b.sign_in(email, None).await;
    let other = Browser::new(&app);
    other.sign_in(email, None).await;

    let user = b.get("/user").await;
    for label in ["Current password", "New password", "First name", "Last name", "Sign out of all other devices"] {
        assert!(user.body.contains(&format!("{label}</label>")), "{label}");
    }
    assert_eq!(user.body.matches(">Revoke</button>").count(), 1, "the other device can be revoked");

    // A wrong current password: the page again, with the error on that field.
    let wrong =
        b.post("/user/password", &[("current_password", "nope nope"), ("new_password", "another long one 1")]).await;
    assert_page(&wrong, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("Your current password is incorrect."));
    assert!(wrong.body.contains(
        r#"name="current_password" type="password" autocomplete="current-password" required aria-invalid="true""#
    ));

    let changed = b
        .post(
            "/user/password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "another long one 1"),
                ("sign_out_of_other_sessions", "true"),
            ],
        )
        .await;
    assert_eq!(changed.location(), "/user?done=password");
    assert!(b.get("/user?done=password").await.body.contains("Password updated"));
    assert_eq!(other.get("/user").await.status, StatusCode::SEE_OTHER, "the other device was signed out");

    // Add an address, verify it with the mailed code, remove it.
    let added = b.post("/user/email", &[("email_address", "second@example.com")]).await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let location = added.location().to_owned();
    assert!(location.starts_with("/user?verify=idn_"), "{location}");
    let page = b.get(&location).await;
    assert!(page.body.contains("second@example.com") && page.body.contains("Unverified"));
    let email_id = page.input("email_id").expect("verify form");
    let bad = b.post("/user/email/verify", &[("email_id", &email_id), ("code", "000000")]).await;
    assert_page(&bad, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.body.contains("Incorrect code") && bad.body.contains(r#"name="email_id""#));
    let code = code_for(&app, "second@example.com").await;
    let verified = b.post("/user/email/verify", &[("email_id", &email_id), ("code", &code)]).await;
    assert_eq!(verified.location(), "/user?done=email_verified");
    let removed = b.post(&format!("/user/email/{email_id}/remove"), &[]).await;
    assert_eq!(removed.location(), "/user?done=email_removed");
    assert!(!b.get("/user").await.body.contains("second@example.com"));

    // The primary address cannot be removed: the page says why.
    let page = b.get("/user").await;
    assert!(!page.body.contains("/remove"), "no remove button for the primary address");
}

#[tokio::test]
async fn rate_limited_posts_keep_retry_after() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let b = Browser::new(&app);
    let mut last = None;
    for _ in 0..8 {
        let answer =
            b.post("/sign-in", &[("identifier", "someone@example.com"), ("password", "whatever-password")]).await;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            last = Some(answer);
            break;
        }
    }
    let answer = last.expect("a 429 within 8 attempts");
    assert!(answer.headers.get("retry-after").is_some());
    assert!(answer.body.contains(r#"role="alert""#) && answer.body.contains("Too many attempts"), "{}", answer.body);
    assert!(answer.body.contains("<form"), "the form is shown again");
}

/// Issue 11 item 17: a relative target with non-ASCII characters goes out percent-encoded.
#[tokio::test]
async fn non_ascii_redirect_targets_are_percent_encoded() {
    let app = app().await;
    let user = app.create_user("encoded.user@example.com").await;
    let (_, token) = app.post("/v1/sign_in_tokens", json!({"user_id": user["id"]})).await;
    let ticket = token["token"].as_str().unwrap();
    let b = Browser::new(&app);
    let answer = redeem(&b, &format!("/sign-in?__clerk_ticket={ticket}&redirect_url=%2Fcaf%C3%A9%20menu")).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
    assert_eq!(answer.location(), "/caf%C3%A9%20menu");
}

/// Issue 11 item 11: a page post carries only the fields of usher's own forms, each once; an
/// unknown or repeated field is refused before anything is done.
#[tokio::test]
async fn page_posts_refuse_unknown_and_repeated_fields() {
    let app = app().await;
    app.create_user("strict.user@example.com").await;
    let b = Browser::new(&app);
    let unknown =
        b.post("/sign-in", &[("identifier", "strict.user@example.com"), ("password", PASSWORD), ("admin", "1")]).await;
    assert_page(&unknown, StatusCode::BAD_REQUEST);
    assert!(unknown.body.contains("admin") && b.cookie("__session").is_none(), "{}", unknown.body);
    let repeated = b
        .post(
            "/sign-in",
            &[("identifier", "strict.user@example.com"), ("identifier", "other@example.com"), ("password", PASSWORD)],
        )
        .await;
    assert_page(&repeated, StatusCode::BAD_REQUEST);
    assert!(b.cookie("__session").is_none());
    let fine = b.sign_in("strict.user@example.com", None).await;
    assert_eq!(fine.status, StatusCode::SEE_OTHER, "{}", fine.body);
}
