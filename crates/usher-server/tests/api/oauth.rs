//! Social / OpenID Connect sign-in: configuration, the environment's `user_settings.social`.

use std::process::Command;

use usher_server::config::{
    Secret,
    oauth::{FileProvider, validate_all},
};

use crate::helpers::{Db, spawn_app_with};

fn provider(spec: &str) -> usher_server::config::oauth::OAuthProvider {
    let mut entry = FileProvider::parse_spec(spec).unwrap();
    entry.client_secret = Some(Secret::new("test-client-secret"));
    validate_all(vec![entry], true).unwrap().remove(0)
}

#[tokio::test]
async fn the_environment_lists_the_enabled_providers_as_clerk_does() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.oauth_providers = vec![
            provider("strategy=oauth_github,client_id=gh"),
            provider("strategy=oauth_custom_corp,client_id=c,issuer=http://127.0.0.1:9,name=Corp ID"),
        ];
    })
    .await;
    let env: serde_json::Value =
        app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap().json().await.unwrap();
    let social = &env["user_settings"]["social"];
    assert_eq!(social["oauth_github"]["strategy"], "oauth_github");
    assert_eq!(social["oauth_github"]["name"], "GitHub");
    assert_eq!(social["oauth_github"]["enabled"], true);
    assert_eq!(social["oauth_github"]["authenticatable"], true);
    assert_eq!(social["oauth_custom_corp"]["name"], "Corp ID");
    assert_eq!(social.as_object().unwrap().len(), 2);
    assert!(!env.to_string().contains("test-client-secret"));
}

#[test]
fn dev_refuses_an_unknown_strategy_a_missing_secret_and_a_remote_http_issuer() {
    let run = |spec: &str, secret: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_usher"));
        command.args(["dev", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).args(["--oauth-provider", spec]);
        command.env_remove("USHER_SECRET_KEY").env_remove("USHER_DATABASE_URL").env_remove("USHER_OAUTH_PROVIDERS");
        command.env_remove("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET");
        if let Some(s) = secret {
            command.env("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET", s);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(run("strategy=oauth_myspace,client_id=x", None).contains("unknown strategy"));
    assert!(
        run("strategy=oauth_custom_t,client_id=x,issuer=http://127.0.0.1:9", None)
            .contains("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET")
    );
    let remote = run("strategy=oauth_custom_t,client_id=x,issuer=http://id.example.com", Some("shh-value"));
    assert!(remote.contains("https") && !remote.contains("shh-value"), "{remote}");
}

// ---- the flow, against the in-test OpenID Connect stand-in (`oidc_standin.rs`) ----

use std::collections::BTreeMap;

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::{
    helpers::TestApp,
    oidc_standin::{Account, CLIENT_ID, CLIENT_SECRET, Quirks, StandIn},
};

const ORIGIN: &str = "http://localhost:3000";
const STRATEGY: &str = "oauth_custom_standin";

/// A browser that does not follow redirects: a cookie jar, and the `Location` it was sent to.
struct Browser<'a> {
    app: &'a TestApp,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

struct Answer {
    status: StatusCode,
    location: Option<String>,
    body: Value,
}

impl<'a> Browser<'a> {
    fn new(app: &'a TestApp) -> Self {
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { app, http, cookies: BTreeMap::new() }
    }

    async fn send(&mut self, method: reqwest::Method, url: &str, form: &[(&str, &str)]) -> Answer {
        let url = if url.starts_with("http") { url.to_owned() } else { format!("{}{url}", self.app.url) };
        let ours = url.starts_with(&self.app.url);
        let mut request = self.http.request(method, &url);
        if ours {
            let cookie: Vec<String> = self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header(header::ORIGIN, ORIGIN).header(header::COOKIE, cookie.join("; "));
        }
        if !form.is_empty() {
            request = request.form(form);
        }
        let response = request.send().await.expect("request");
        if ours {
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
        }
        let status = response.status();
        let location = response.headers().get(header::LOCATION).map(|l| l.to_str().unwrap().to_owned());
        let text = response.text().await.unwrap();
        Answer { status, location, body: serde_json::from_str(&text).unwrap_or(Value::String(text)) }
    }

    /// Starts a sign-in at the provider; the authorize URL.
    async fn start(&mut self) -> String {
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v1/client/sign_ins",
                &[
                    ("strategy", STRATEGY),
                    ("redirect_url", "http://localhost:3000/sso-callback"),
                    ("action_complete_redirect_url", "http://localhost:3000/done"),
                ],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let factor = &answer.body["response"]["first_factor_verification"];
        assert_eq!(factor["status"], "unverified");
        assert_eq!(factor["strategy"], STRATEGY);
        factor["external_verification_redirect_url"].as_str().unwrap().to_owned()
    }

    /// The provider's answer: where it sends the browser back.
    async fn at_provider(&mut self, authorize: &str) -> String {
        let answer = self.send(reqwest::Method::GET, authorize, &[]).await;
        assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.body);
        answer.location.unwrap()
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.send(reqwest::Method::GET, path, &[]).await
    }

    async fn signed_in_user(&mut self) -> Option<String> {
        let client = self.get("/v1/client").await.body;
        client["response"]["sessions"][0]["user"]["id"].as_str().map(str::to_owned)
    }
}

fn account(sub: &str, email: &str, verified: bool) -> Account {
    Account { sub: sub.into(), email: email.into(), email_verified: verified, given_name: "Grace".into() }
}

async fn app_with(standin: &StandIn) -> TestApp {
    let spec = format!("strategy={STRATEGY},client_id={CLIENT_ID},issuer={},name=Stand-in ID", standin.issuer);
    spawn_app_with(Db::Sqlite, |c| {
        let mut entry = FileProvider::parse_spec(&spec).unwrap();
        entry.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.oauth_providers = validate_all(vec![entry], true).unwrap();
        c.allow_localhost_origins = true;
        c.frontend_rate_limits = false;
    })
    .await
}

fn query(url: &str) -> BTreeMap<String, String> {
    url::Url::parse(url).unwrap().query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
}

#[tokio::test]
async fn a_verified_address_links_the_existing_user_and_the_next_sign_in_reuses_the_account() {
    let standin = StandIn::start(account("sub-grace", "grace@example.com", true)).await;
    let app = app_with(&standin).await;
    let (status, user) = app
        .post("/v1/users", json!({"email_address": ["grace@example.com"], "password": "correct horse battery"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");

    for round in 0..2 {
        let mut browser = Browser::new(&app);
        let authorize = browser.start().await;
        let q = query(&authorize);
        assert_eq!(q["code_challenge_method"], "S256");
        assert!(q.contains_key("nonce") && q.contains_key("state"), "{authorize}");
        assert_eq!(q["redirect_uri"], format!("{}/v1/oauth_callback", app.url));
        let back = browser.at_provider(&authorize).await;
        let done = browser.get(&back).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "round {round}: {}", done.body);
        assert_eq!(done.location.as_deref(), Some("http://localhost:3000/done"));
        assert_eq!(browser.signed_in_user().await.as_deref(), user["id"].as_str(), "round {round}");
        // The state was single use: the same callback again is refused and signs nobody in.
        let mut replay = Browser::new(&app);
        let again = replay.get(&back).await;
        assert_eq!(again.status, StatusCode::BAD_REQUEST);
        assert!(again.body.as_str().unwrap().contains("oauth_state_invalid"));
        assert_eq!(replay.signed_in_user().await, None);
    }
    let accounts = app.state.store.external_accounts_of_user(user["id"].as_str().unwrap()).await.unwrap();
    assert_eq!(accounts.len(), 1, "the second sign-in reused the external account");
    assert_eq!(accounts[0].provider_user_id, "sub-grace");
    let sealed = accounts[0].access_token_sealed.as_deref().unwrap();
    assert!(!sealed.contains("standin-access"), "the provider's token is stored sealed");

    // The Backend API: the user's external accounts, the provider's token, disconnecting.
    let id = user["id"].as_str().unwrap();
    let (_, shown) = app.get(&format!("/v1/users/{id}")).await;
    let external = &shown["external_accounts"][0];
    assert_eq!(
        (external["object"].as_str(), external["provider"].as_str()),
        (Some("external_account"), Some(STRATEGY))
    );
    assert_eq!(external["provider_user_id"], "sub-grace");
    assert_eq!(external["email_address"], "grace@example.com");
    assert_eq!(external["verification"]["status"], "verified");
    let (status, tokens) = app.get(&format!("/v1/users/{id}/oauth_access_tokens/{STRATEGY}")).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    assert!(tokens[0]["token"].as_str().unwrap().starts_with("standin-access-"), "{tokens}");
    assert_eq!(tokens[0]["external_account_id"], accounts[0].id.as_str());
    let path = format!("/v1/users/{id}/external_accounts/{}", accounts[0].id);
    let (status, deleted) = app.call(reqwest::Method::DELETE, &path, None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{deleted}");
    assert_eq!(app.call(reqwest::Method::DELETE, &path, None).await.0, StatusCode::NOT_FOUND);
    let (_, tokens) = app.get(&format!("/v1/users/{id}/oauth_access_tokens/{STRATEGY}")).await;
    assert_eq!(tokens, json!([]));
}

#[tokio::test]
async fn an_unverified_address_never_links_and_the_sign_in_becomes_transferable() {
    let standin = StandIn::start(account("sub-mallory", "grace@example.com", false)).await;
    let app = app_with(&standin).await;
    let (_, user) = app.post("/v1/users", json!({"email_address": ["grace@example.com"]})).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER);
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/sso-callback"));
    assert_eq!(browser.signed_in_user().await, None);
    let client = browser.get("/v1/client").await.body;
    let factor = &client["response"]["sign_in"]["first_factor_verification"];
    assert_eq!(factor["status"], "transferable", "{client}");
    assert_eq!(factor["error"]["code"], "external_account_not_found");
    assert!(app.state.store.external_accounts_of_user(user["id"].as_str().unwrap()).await.unwrap().is_empty());
}

/// Runs one sign-in whose callback must fail with `code`: an error page, no session, no 5xx.
async fn refused(app: &TestApp, standin: &mut StandIn, quirks: Quirks, tamper: impl Fn(&str) -> String, code: &str) {
    standin.set_quirks(quirks);
    let mut browser = Browser::new(app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    let answer = browser.get(&tamper(&back)).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{code}: {}", answer.body);
    let page = answer.body.as_str().unwrap_or_default();
    assert!(page.contains(code), "{code} not in: {page}");
    assert_eq!(browser.signed_in_user().await, None, "{code}: nobody is signed in");
}

#[tokio::test]
async fn tampered_replayed_and_forged_callbacks_are_refused_clearly() {
    let mut standin = StandIn::start(account("sub-ada", "ada@example.com", true)).await;
    let app = app_with(&standin).await;
    app.post("/v1/users", json!({"email_address": ["ada@example.com"]})).await;
    let same = |url: &str| url.to_owned();
    let tampered = |url: &str| url.replace("state=", "state=x");
    refused(&app, &mut standin, Quirks::default(), tampered, "oauth_state_invalid").await;
    let nonce = Quirks { nonce: Some("another-nonce".into()), ..Quirks::default() };
    refused(&app, &mut standin, nonce, same, "oauth_token_invalid").await;
    refused(&app, &mut standin, Quirks { foreign_key: true, ..Quirks::default() }, same, "oauth_token_invalid").await;
    let aud = Quirks { aud: Some("someone-else".into()), ..Quirks::default() };
    refused(&app, &mut standin, aud, same, "oauth_token_invalid").await;
    refused(&app, &mut standin, Quirks { codes_expired: true, ..Quirks::default() }, same, "oauth_token_invalid").await;
    let provider_error = |url: &str| {
        let state = query(url)["state"].clone();
        format!("/v1/oauth_callback?error=access_denied&error_description=no&state={state}")
    };
    refused(&app, &mut standin, Quirks::default(), provider_error, "oauth_access_denied").await;

    // A callback from another browser (its cookie does not match the state's client).
    standin.set_quirks(Quirks::default());
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    let mut other = Browser::new(&app);
    let answer = other.get(&back).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(other.signed_in_user().await, None);
    assert_eq!(browser.get(&back).await.status, StatusCode::BAD_REQUEST, "the state was spent by the other try");

    // Expired: ten minutes pass at the provider.
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    app.clock.advance_ms(601_000);
    let answer = browser.get(&back).await;
    assert!(answer.body.as_str().unwrap().contains("oauth_state_expired"));
    assert_eq!(browser.signed_in_user().await, None);

    // The provider goes down between the redirect and the callback.
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    standin.stop();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let answer = browser.get(&back).await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.body);
    assert_eq!(browser.signed_in_user().await, None);
    // And a new sign-in, with nothing cached from the provider, is refused with a clear error,
    // not a 5xx.
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    let start = browser
        .send(reqwest::Method::POST, "/v1/client/sign_ins", &[("strategy", STRATEGY), ("redirect_url", "/")])
        .await;
    assert_eq!(start.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", start.body);
    assert_eq!(start.body["errors"][0]["code"], "oauth_provider_unreachable");
}

#[tokio::test]
async fn unknown_strategies_and_foreign_redirects_are_refused() {
    let standin = StandIn::start(account("s", "s@example.com", true)).await;
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    let unknown = browser
        .send(reqwest::Method::POST, "/v1/client/sign_ins", &[("strategy", "oauth_google"), ("redirect_url", "/")])
        .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unknown.body);
    let foreign = browser
        .send(
            reqwest::Method::POST,
            "/v1/client/sign_ins",
            &[("strategy", STRATEGY), ("redirect_url", "https://evil.example/steal")],
        )
        .await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", foreign.body);
    let no_state = browser.get("/v1/oauth_callback?code=x").await;
    assert_eq!(no_state.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn a_new_person_is_transferred_to_a_sign_up_and_signs_in_directly_next_time() {
    let standin = StandIn::start(account("sub-new", "newcomer@example.com", true)).await;
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    assert_eq!(browser.get(&back).await.location.as_deref(), Some("http://localhost:3000/sso-callback"));
    assert_eq!(browser.signed_in_user().await, None);
    let sign_up = browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("transfer", "true")]).await;
    assert_eq!(sign_up.status, StatusCode::OK, "{}", sign_up.body);
    assert_eq!(sign_up.body["response"]["status"], "complete");
    let user_id = browser.signed_in_user().await.expect("signed up and in");
    let again = browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("transfer", "true")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a transfer happens once: {}", again.body);

    let mut later = Browser::new(&app);
    let authorize = later.start().await;
    let back = later.at_provider(&authorize).await;
    assert_eq!(later.get(&back).await.location.as_deref(), Some("http://localhost:3000/done"));
    assert_eq!(later.signed_in_user().await.as_deref(), Some(user_id.as_str()));
    let (_, user) = app.get(&format!("/v1/users/{user_id}")).await;
    assert_eq!(user["email_addresses"][0]["email_address"], "newcomer@example.com");
    assert_eq!(user["first_name"], "Grace");
}

/// The provider is one factor: an account with an authenticator app still needs its code, as
/// after a password (Clerk's `needs_second_factor`), and no session exists before it.
#[tokio::test]
async fn an_account_with_a_second_factor_needs_it_after_the_provider() {
    use usher_server::flows::second_factor::{STEP_MS, code_at, decode_secret};
    let standin = StandIn::start(account("sub-ada", "ada@example.com", true)).await;
    let app = app_with(&standin).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DP";
    let (status, user) = app
        .post(
            "/v1/users",
            json!({"email_address": ["ada@example.com"], "password": "correct horse battery", "totp_secret": secret}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    let done = browser.get(&back).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/sso-callback"), "not done yet");
    assert_eq!(browser.signed_in_user().await, None, "no session before the second factor");
    let client = browser.get("/v1/client").await.body;
    let sign_in = &client["response"]["sign_in"];
    assert_eq!(sign_in["status"], "needs_second_factor", "{client}");
    assert_eq!(sign_in["first_factor_verification"]["status"], "verified");
    assert_eq!(sign_in["supported_second_factors"][0]["strategy"], "totp");
    let id = user["id"].as_str().unwrap();
    assert_eq!(app.state.store.external_accounts_of_user(id).await.unwrap().len(), 1, "linked");

    let code = code_at(&decode_secret(secret).unwrap(), app.state.now() / STEP_MS);
    let path = format!("/v1/client/sign_ins/{}/attempt_second_factor", sign_in["id"].as_str().unwrap());
    let answer = browser.send(reqwest::Method::POST, &path, &[("strategy", "totp"), ("code", &code)]).await;
    assert_eq!(answer.status, StatusCode::OK, "{path} {} {client}", answer.body);
    assert_eq!(answer.body["response"]["status"], "complete");
    assert_eq!(browser.signed_in_user().await.as_deref(), Some(id));
}

/// The hosted pages' button for an account with an authenticator app: the provider's callback
/// leads to the second-factor form (its `strategy` field passes the strict form check),
/// and its code signs in.
#[tokio::test]
async fn the_hosted_pages_ask_for_the_second_factor_after_the_provider() {
    use usher_server::flows::second_factor::{STEP_MS, code_at, decode_secret};
    let standin = StandIn::start(account("sub-lin", "lin@example.com", true)).await;
    let app = app_with(&standin).await;
    let secret = "JBSWY3DPEHPK3PXPJBSWY3DP";
    let (status, user) =
        app.post("/v1/users", json!({"email_address": ["lin@example.com"], "totp_secret": secret})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let mut browser = Browser::new(&app);
    let started = browser
        .send(reqwest::Method::POST, "/sign-in/oauth", &[("strategy", STRATEGY), ("redirect_url", "/user")])
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let back = browser.at_provider(&started.location.unwrap()).await;
    let resume = browser.get(&back).await.location.unwrap();
    assert!(resume.starts_with("/sign-in/oauth/continue"), "{resume}");
    let page = browser.get(&resume).await;
    let html = page.body.as_str().unwrap().to_owned();
    assert_eq!(page.status, StatusCode::OK, "{html}");
    assert!(html.contains(r#"action="/sign-in/second-factor""#), "{html}");
    assert_eq!(browser.signed_in_user().await, None);
    let client = browser.get("/v1/client").await.body;
    let sign_in_id = client["response"]["sign_in"]["id"].as_str().unwrap().to_owned();
    let code = code_at(&decode_secret(secret).unwrap(), app.state.now() / STEP_MS);
    let fields =
        [("sign_in_id", sign_in_id.as_str()), ("redirect_url", "/user"), ("strategy", "totp"), ("code", &code)];
    let done = browser.send(reqwest::Method::POST, "/sign-in/second-factor", &fields).await;
    assert_eq!((done.status, done.location.as_deref()), (StatusCode::SEE_OTHER, Some("/user")), "{}", done.body);
    assert_eq!(browser.signed_in_user().await.as_deref(), user["id"].as_str());
}

// ---- GitHub (plain OAuth 2.0 and its REST API), against the GitHub stand-in ----

async fn github_app(github: &crate::github_standin::GithubStandIn) -> TestApp {
    let (id, url) = (crate::github_standin::CLIENT_ID, &github.url);
    let spec = format!(
        "strategy=oauth_github,client_id={id},authorization_url={url}/login/oauth/authorize,\
         token_url={url}/login/oauth/access_token,api_url={url}"
    );
    spawn_app_with(Db::Sqlite, |c| {
        let mut entry = FileProvider::parse_spec(&spec).unwrap();
        entry.client_secret = Some(Secret::new(crate::github_standin::CLIENT_SECRET));
        c.oauth_providers = validate_all(vec![entry], true).unwrap();
        c.allow_localhost_origins = true;
        c.frontend_rate_limits = false;
    })
    .await
}

async fn github_sign_in(browser: &mut Browser<'_>) -> Answer {
    let started = browser
        .send(
            reqwest::Method::POST,
            "/v1/client/sign_ins",
            &[("strategy", "oauth_github"), ("redirect_url", "http://localhost:3000/sso-callback")],
        )
        .await;
    let authorize = started.body["response"]["first_factor_verification"]["external_verification_redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(query(&authorize)["code_challenge_method"], "S256");
    let back = browser.at_provider(&authorize).await;
    browser.get(&back).await
}

#[tokio::test]
async fn github_links_on_its_verified_primary_email_only() {
    let emails = json!([
        {"email": "octo@example.com", "primary": true, "verified": true, "visibility": "public"},
        {"email": "other@example.com", "primary": false, "verified": true, "visibility": null},
    ]);
    let github = crate::github_standin::GithubStandIn::start(emails).await;
    let app = github_app(&github).await;
    let (_, user) = app.post("/v1/users", json!({"email_address": ["octo@example.com"]})).await;
    let mut browser = Browser::new(&app);
    let done = github_sign_in(&mut browser).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(browser.signed_in_user().await.as_deref(), user["id"].as_str());
    let accounts = app.state.store.external_accounts_of_user(user["id"].as_str().unwrap()).await.unwrap();
    assert_eq!((accounts[0].provider_user_id.as_str(), accounts[0].username.as_deref()), ("583231", Some("octocat")));
    assert_eq!(accounts[0].approved_scopes, "read:user user:email");

    // An unverified primary address links nobody, even when a verified secondary one matches.
    let emails = json!([
        {"email": "octo@example.com", "primary": true, "verified": false, "visibility": "public"},
        {"email": "second@example.com", "primary": false, "verified": true, "visibility": null},
    ]);
    let github = crate::github_standin::GithubStandIn::start(emails).await;
    let app = github_app(&github).await;
    app.post("/v1/users", json!({"email_address": ["octo@example.com"]})).await;
    app.post("/v1/users", json!({"email_address": ["second@example.com"]})).await;
    let mut browser = Browser::new(&app);
    let done = github_sign_in(&mut browser).await;
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/sso-callback"));
    assert_eq!(browser.signed_in_user().await, None);
}

#[tokio::test]
async fn the_hosted_pages_continue_with_the_provider_and_sign_up_a_new_person_directly() {
    let standin = StandIn::start(account("sub-hosted", "hosted@example.com", true)).await;
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    for page in ["/sign-in", "/sign-up"] {
        let html = browser.get(page).await.body.as_str().unwrap().to_owned();
        assert!(html.contains(r#"name="strategy" value="oauth_custom_standin""#), "{html}");
        assert!(html.contains("<span>Continue with Stand-in ID</span>") && html.contains(r#"aria-hidden="true""#));
        assert!(!html.contains("src=\"http"), "no external assets");
    }
    let csp = app.http.get(format!("{}/sign-in", app.url)).send().await.unwrap();
    let csp = csp.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains(&standin.issuer), "form-action allows the provider's redirect: {csp}");

    let started = browser
        .send(
            reqwest::Method::POST,
            "/sign-in/oauth",
            &[("strategy", STRATEGY), ("redirect_url", "http://localhost:3000/welcome")],
        )
        .await;
    assert_eq!(started.status, StatusCode::SEE_OTHER, "{}", started.body);
    let authorize = started.location.unwrap();
    assert!(authorize.starts_with(&standin.issuer), "{authorize}");
    let back = browser.at_provider(&authorize).await;
    let resumed = browser.get(&back).await;
    assert_eq!(resumed.status, StatusCode::SEE_OTHER);
    let resume = resumed.location.unwrap();
    assert!(resume.starts_with("/sign-in/oauth/continue"), "{resume}");
    let done = browser.get(&resume).await;
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/welcome"), "{}", done.body);
    let user_id = browser.signed_in_user().await.expect("signed up on the hosted page");

    // Next time the same button signs the same user straight in.
    let mut later = Browser::new(&app);
    let started =
        later.send(reqwest::Method::POST, "/sign-in/oauth", &[("strategy", STRATEGY), ("redirect_url", "/user")]).await;
    let back = later.at_provider(&started.location.unwrap()).await;
    assert_eq!(later.get(&back).await.location.as_deref(), Some("/user"));
    assert_eq!(later.signed_in_user().await, Some(user_id));
}

// ---- sign-ups with `strategy=oauth_*`, and `/v1/me/external_accounts` ----

impl Browser<'_> {
    /// Signs in with a password (no provider).
    async fn password_sign_in(&mut self, email: &str, password: &str) {
        let answer = self
            .send(
                reqwest::Method::POST,
                "/v1/client/sign_ins",
                &[("identifier", email), ("strategy", "password"), ("password", password)],
            )
            .await;
        assert_eq!(answer.body["response"]["status"], "complete", "{}", answer.body);
    }

    /// The signed-in user's `external_accounts`, as `GET /v1/me` shows them.
    async fn my_accounts(&mut self) -> Vec<Value> {
        let me = self.get("/v1/me").await;
        assert_eq!(me.status, StatusCode::OK, "{}", me.body);
        me.body["response"]["external_accounts"].as_array().unwrap().clone()
    }
}

#[tokio::test]
async fn a_sign_up_with_an_oauth_strategy_creates_the_user_on_the_callback() {
    let standin = StandIn::start(account("sub-signup", "signup@example.com", true)).await;
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    let form = [
        ("strategy", STRATEGY),
        ("redirect_url", "http://localhost:3000/sso-callback"),
        ("action_complete_redirect_url", "http://localhost:3000/done"),
    ];
    let started = browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &form).await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    let sign_up = &started.body["response"];
    assert_eq!(sign_up["status"], "missing_requirements");
    let ext = &sign_up["verifications"]["external_account"];
    assert_eq!((ext["status"].as_str(), ext["strategy"].as_str()), (Some("unverified"), Some(STRATEGY)), "{ext}");
    let authorize = ext["external_verification_redirect_url"].as_str().unwrap().to_owned();
    let q = query(&authorize);
    assert_eq!(q["code_challenge_method"], "S256");
    let back = browser.at_provider(&authorize).await;
    let done = browser.get(&back).await;
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/done"), "{}", done.body);
    let user_id = browser.signed_in_user().await.expect("signed up and in");
    let client = browser.get("/v1/client").await.body;
    assert_eq!(client["response"]["sign_up"]["status"], "complete", "{client}");
    assert_eq!(client["response"]["sign_up"]["created_user_id"], user_id.as_str());
    let accounts = browser.my_accounts().await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(
        (accounts[0]["provider"].as_str(), accounts[0]["provider_user_id"].as_str()),
        (Some(STRATEGY), Some("sub-signup"))
    );

    // The same person signing up again is signed in to the user they have.
    let mut again = Browser::new(&app);
    let started = again.send(reqwest::Method::POST, "/v1/client/sign_ups", &form).await;
    let authorize = started.body["response"]["verifications"]["external_account"]["external_verification_redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = again.at_provider(&authorize).await;
    assert_eq!(again.get(&back).await.location.as_deref(), Some("http://localhost:3000/done"));
    assert_eq!(again.signed_in_user().await.as_deref(), Some(user_id.as_str()));

    // An unverified address: no user, the verification failed with the reason.
    standin.set_account(account("sub-unverified", "unverified@example.com", false));
    let mut third = Browser::new(&app);
    let started = third.send(reqwest::Method::POST, "/v1/client/sign_ups", &form).await;
    let authorize = started.body["response"]["verifications"]["external_account"]["external_verification_redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let back = third.at_provider(&authorize).await;
    assert_eq!(third.get(&back).await.location.as_deref(), Some("http://localhost:3000/sso-callback"));
    assert_eq!(third.signed_in_user().await, None);
    let client = third.get("/v1/client").await.body;
    let ext = &client["response"]["sign_up"]["verifications"]["external_account"];
    assert_eq!(ext["status"], "failed", "{client}");
    assert_eq!(ext["error"]["code"], "oauth_email_unverified");
    let (_, found) = app.get("/v1/users?email_address=unverified@example.com").await;
    assert_eq!(found, json!([]));

    // A strategy that is not configured, or not a strategy at all: a clear 422.
    let mut fourth = Browser::new(&app);
    let bad = [("strategy", "oauth_custom_nope"), ("redirect_url", "http://localhost:3000/x")];
    let answer = fourth.send(reqwest::Method::POST, "/v1/client/sign_ups", &bad).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    let answer = fourth.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("strategy", "carrier_pigeon")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
}

#[tokio::test]
async fn a_signed_in_user_connects_reauthorizes_and_disconnects_a_provider_account() {
    let standin = StandIn::start(account("sub-connect", "other-address@example.com", true)).await;
    let app = app_with(&standin).await;
    let password = "correct horse battery";
    let (_, user) = app.post("/v1/users", json!({"email_address": ["conn@example.com"], "password": password})).await;
    let user_id = user["id"].as_str().unwrap();

    // Signed out: refused.
    let mut stranger = Browser::new(&app);
    let form = [("strategy", STRATEGY), ("redirect_url", "http://localhost:3000/user")];
    let answer = stranger.send(reqwest::Method::POST, "/v1/me/external_accounts", &form).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.body);

    let mut browser = Browser::new(&app);
    browser.password_sign_in("conn@example.com", password).await;
    let answer = browser.send(reqwest::Method::POST, "/v1/me/external_accounts", &form).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let pending = &answer.body["response"];
    assert_eq!(pending["object"], "external_account");
    assert_eq!(pending["verification"]["status"], "unverified");
    let eac = pending["id"].as_str().unwrap().to_owned();
    let authorize = pending["verification"]["external_verification_redirect_url"].as_str().unwrap().to_owned();
    let back = browser.at_provider(&authorize).await;
    let done = browser.get(&back).await;
    assert_eq!(done.location.as_deref(), Some("http://localhost:3000/user"), "{}", done.body);
    let accounts = browser.my_accounts().await;
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["id"], eac.as_str(), "the account keeps the id the connect answered");
    assert_eq!(accounts[0]["provider_user_id"], "sub-connect");
    assert_eq!(accounts[0]["email_address"], "other-address@example.com");
    assert_eq!(browser.signed_in_user().await.as_deref(), Some(user_id));

    // Reauthorize: the same provider account, refreshed.
    standin.set_account(Account {
        given_name: "Renamed".into(),
        ..account("sub-connect", "other-address@example.com", true)
    });
    let path = format!("/v1/me/external_accounts/{eac}/reauthorize");
    let answer = browser.send(reqwest::Method::PATCH, &path, &[("redirect_url", "http://localhost:3000/user")]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let authorize =
        answer.body["response"]["verification"]["external_verification_redirect_url"].as_str().unwrap().to_owned();
    let back = browser.at_provider(&authorize).await;
    assert_eq!(browser.get(&back).await.location.as_deref(), Some("http://localhost:3000/user"));
    let accounts = browser.my_accounts().await;
    assert_eq!((accounts.len(), accounts[0]["first_name"].as_str()), (1, Some("Renamed")));

    // Reauthorizing with a different provider account is refused and changes nothing.
    standin.set_account(account("sub-someone-else", "x@example.com", true));
    let answer = browser.send(reqwest::Method::PATCH, &path, &[("redirect_url", "http://localhost:3000/user")]).await;
    let authorize =
        answer.body["response"]["verification"]["external_verification_redirect_url"].as_str().unwrap().to_owned();
    let back = browser.at_provider(&authorize).await;
    let refused = browser.get(&back).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(refused.body.as_str().unwrap().contains("external_account_mismatch"), "{}", refused.body);
    assert_eq!(browser.my_accounts().await[0]["provider_user_id"], "sub-connect");

    // Another user cannot connect the provider account this one holds.
    standin.set_account(account("sub-connect", "other-address@example.com", true));
    app.post("/v1/users", json!({"email_address": ["second@example.com"], "password": password})).await;
    let mut second = Browser::new(&app);
    second.password_sign_in("second@example.com", password).await;
    let answer = second.send(reqwest::Method::POST, "/v1/me/external_accounts", &form).await;
    let authorize =
        answer.body["response"]["verification"]["external_verification_redirect_url"].as_str().unwrap().to_owned();
    let back = second.at_provider(&authorize).await;
    let refused = second.get(&back).await;
    assert!(refused.body.as_str().unwrap().contains("external_account_exists"), "{}", refused.body);
    assert!(second.my_accounts().await.is_empty());

    // Disconnect (the user has a password, so it is not their last way in), then it is gone.
    let path = format!("/v1/me/external_accounts/{eac}");
    let answer = browser.send(reqwest::Method::DELETE, &path, &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["response"]["deleted"], true);
    assert!(browser.my_accounts().await.is_empty());
    assert_eq!(browser.send(reqwest::Method::DELETE, &path, &[]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn disconnecting_the_last_way_to_sign_in_is_refused() {
    let standin = StandIn::start(account("sub-only", "only@example.com", true)).await;
    let app = app_with(&standin).await;
    let mut browser = Browser::new(&app);
    let authorize = browser.start().await;
    let back = browser.at_provider(&authorize).await;
    browser.get(&back).await;
    browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("transfer", "true")]).await;
    let user_id = browser.signed_in_user().await.expect("signed up");
    let eac = browser.my_accounts().await[0]["id"].as_str().unwrap().to_owned();
    // No password; and the address is no way in once it is not verified (e.g. imported so).
    let user = app.state.store.get_user(&user_id).await.unwrap().unwrap();
    assert!(user.password_hash.is_none());
    let email = user.emails[0].clone();
    assert!(app.state.store.delete_email_address(&user_id, &email.id).await.unwrap());
    let unverified = usher_server::store::IdentifierRecord { verified: false, ..email };
    app.state.store.add_email_address(&user_id, &unverified).await.unwrap();

    let path = format!("/v1/me/external_accounts/{eac}");
    let answer = browser.send(reqwest::Method::DELETE, &path, &[]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", answer.body);
    assert_eq!(answer.body["errors"][0]["code"], "external_account_last_identification");
    assert_eq!(browser.my_accounts().await.len(), 1);
}

#[tokio::test]
async fn discovery_and_keys_are_cached_and_fetched_again_when_the_provider_rotates_its_key() {
    let standin = StandIn::start(account("sub-cache", "cache@example.com", true)).await;
    let app = app_with(&standin).await;
    let sign_in = async || {
        let mut browser = Browser::new(&app);
        let authorize = browser.start().await;
        let back = browser.at_provider(&authorize).await;
        let done = browser.get(&back).await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("transfer", "true")]).await;
        browser.signed_in_user().await
    };
    let first = sign_in().await.expect("signed up");
    assert_eq!(sign_in().await.as_deref(), Some(first.as_str()));
    assert_eq!(standin.hits(), (1, 1), "two sign-ins, one discovery and one JWKS fetch");

    // A new key (a kid the cached JWKS lacks): fetched again once, and the sign-in works.
    standin.rotate_key();
    app.clock.advance_ms(61_000);
    assert_eq!(sign_in().await.as_deref(), Some(first.as_str()));
    assert_eq!(standin.hits(), (2, 2));
}

async fn tenant_app(standin: &StandIn) -> TestApp {
    // Microsoft's preset with the stand-in as its (multi-tenant) issuer.
    let spec = format!("strategy=oauth_microsoft,client_id={CLIENT_ID},issuer={}/common/v2.0", standin.issuer);
    spawn_app_with(Db::Sqlite, |c| {
        let mut entry = FileProvider::parse_spec(&spec).unwrap();
        entry.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.oauth_providers = validate_all(vec![entry], true).unwrap();
        c.allow_localhost_origins = true;
        c.frontend_rate_limits = false;
    })
    .await
}

#[tokio::test]
async fn a_multi_tenant_issuer_checks_iss_against_the_tokens_tenant() {
    let standin = StandIn::start(account("sub-ms", "ms@example.com", true)).await;
    let tenant = "9188040d-6c67-4c5b-b112-36a304b66dad";
    standin.set_quirks(Quirks { tenant: Some((tenant.into(), tenant.into())), ..Quirks::default() });
    let app = tenant_app(&standin).await;
    let run = async |expect: StatusCode| {
        let mut browser = Browser::new(&app);
        let answer = browser
            .send(
                reqwest::Method::POST,
                "/v1/client/sign_ins",
                &[("strategy", "oauth_microsoft"), ("redirect_url", "http://localhost:3000/cb")],
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
        let authorize = answer.body["response"]["first_factor_verification"]["external_verification_redirect_url"]
            .as_str()
            .unwrap()
            .to_owned();
        let back = browser.at_provider(&authorize).await;
        let done = browser.get(&back).await;
        assert_eq!(done.status, expect, "{}", done.body);
        done
    };
    // The token's iss names its own tenant: accepted (transferable: nobody has the account yet).
    run(StatusCode::SEE_OTHER).await;
    // An iss of another tenant than its tid: refused.
    standin.set_quirks(Quirks { tenant: Some((tenant.into(), "another-tenant".into())), ..Quirks::default() });
    let refused = run(StatusCode::BAD_REQUEST).await;
    assert!(refused.body.as_str().unwrap().contains("oauth_token_invalid"), "{}", refused.body);
}

#[tokio::test]
async fn apples_form_post_gives_the_name_on_the_first_sign_in() {
    let standin = StandIn::start(account("sub-apple", "apple-user@example.com", true)).await;
    // Apple's preset with the stand-in as its issuer; Apple answers by form post.
    let spec = format!("strategy=oauth_apple,client_id={CLIENT_ID},issuer={}", standin.issuer);
    let app = spawn_app_with(Db::Sqlite, |c| {
        let mut entry = FileProvider::parse_spec(&spec).unwrap();
        entry.client_secret = Some(Secret::new(CLIENT_SECRET));
        c.oauth_providers = validate_all(vec![entry], true).unwrap();
        c.allow_localhost_origins = true;
        c.frontend_rate_limits = false;
    })
    .await;
    let mut browser = Browser::new(&app);
    let answer = browser
        .send(
            reqwest::Method::POST,
            "/v1/client/sign_ins",
            &[("strategy", "oauth_apple"), ("redirect_url", "http://localhost:3000/cb")],
        )
        .await;
    let authorize = answer.body["response"]["first_factor_verification"]["external_verification_redirect_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(query(&authorize)["response_mode"], "form_post");
    let back = browser.at_provider(&authorize).await;
    let q = query(&back);
    // What Apple posts: the code, the state and, the first time only, the person's name.
    let user = r#"{"name":{"firstName":"Ada","lastName":"Lovelace"},"email":"ignored@example.com"}"#;
    let form = [("code", q["code"].as_str()), ("state", q["state"].as_str()), ("user", user)];
    let posted = browser.send(reqwest::Method::POST, "/v1/oauth_callback", &form).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER);
    let get = posted.location.unwrap();
    assert!(get.starts_with("/v1/oauth_callback?"), "{get}");
    let done = browser.get(&get).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let sign_up = browser.send(reqwest::Method::POST, "/v1/client/sign_ups", &[("transfer", "true")]).await;
    assert_eq!(sign_up.body["response"]["status"], "complete", "{}", sign_up.body);
    let user_id = browser.signed_in_user().await.unwrap();
    let (_, user) = app.get(&format!("/v1/users/{user_id}")).await;
    assert_eq!((user["first_name"].as_str(), user["last_name"].as_str()), (Some("Ada"), Some("Lovelace")));
    // The address is the ID token's, never the unsigned form's.
    assert_eq!(user["email_addresses"][0]["email_address"], "apple-user@example.com");
}
