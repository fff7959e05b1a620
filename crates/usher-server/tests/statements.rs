//! A regression guard for the hot paths that times nothing: a Frontend API password sign-in and
//! a token refresh, a Backend API mint (with and without an active organization) run no more SQL
//! statements than they do today. sqlx logs every statement under
//! the `sqlx::query` target; this binary's one test installs a global subscriber that counts them
//! (a binary of its own, because a global subscriber sees the SQLite worker threads too and no
//! other test may install one).

use std::{
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
};

use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;
use usher_server::{
    App,
    clock::ManualClock,
    config::{Config, Database, Secret},
    ids,
};

/// Statements of one password sign-in: the client, the user and its identifiers, one
/// transaction (session, sign-in marks, attempt, client, and the `session.created` webhook
/// event and the audit-log entry, written in the same transaction so neither is ever lost; a
/// returning user's `user.updated` event of the new `last_sign_in_at`, built from the user the
/// sign-in read), the client's sessions for the answer, and the user's organization memberships
/// (one statement; clerk-js reads them from the user) and external accounts (one statement; the
/// Frontend API user lists them).
const SIGN_IN_MAX: usize = 17;
/// Statements of one token refresh: the client and the session.
const REFRESH_MAX: usize = 2;
/// Statements of one Backend API mint: the session.
const MINT_MAX: usize = 1;
/// Statements of one mint with an active organization: the session, and the organization with
/// the membership and the role's permissions in one (it was four in all before).
const MINT_ORG_MAX: usize = 2;

#[derive(Clone, Default)]
struct Statements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Statements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != "sqlx::query" {
            return;
        }
        // A new pooled SQLite connection runs its PRAGMAs once (connection setup), and the
        // outbox worker polls on its own clock: neither belongs to the request being counted.
        let mut summary = Summary(String::new());
        event.record(&mut summary);
        // The webhook delivery loop is woken by the event a sign-in writes, and polls; its reads
        // and routing are not the request's either (the event's insert is).
        const WORKERS: [&str; 6] = [
            "PRAGMA",
            "SELECT id, to_address",
            "SELECT id, event_type, created_at",
            "SELECT id, url, description",
            "UPDATE webhook_messages SET fanned_out",
            "SELECT endpoint_id, message_id, status",
        ];
        if !WORKERS.iter().any(|w| summary.0.starts_with(w)) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
}

struct Summary(String);

impl tracing::field::Visit for Summary {
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        if field.name() == "summary" {
            value.clone_into(&mut self.0);
        }
    }

    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "summary" {
            self.0 = format!("{value:?}").trim_matches('"').to_owned();
        }
    }
}

impl Statements {
    fn take(&self) -> usize {
        self.0.swap(0, Ordering::Relaxed)
    }
}

#[tokio::test]
async fn password_sign_in_and_token_refresh_run_no_more_statements_than_today() {
    let statements = Statements::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(statements.clone())).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret = format!("sk_test_{}", ids::random_base62(40));
    let mut config = Config::new(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        Database::Sqlite(dir.path().join("u.db")),
        Secret::new(secret.clone()),
    );
    config.frontend_rate_limits = false;
    config.password_hash_slots = 2;
    let app = App::build_with_clock(config, Arc::new(ManualClock::new())).await.unwrap();
    let url = format!("http://{}", app.local_addr());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{url}/v1/users"))
        .bearer_auth(&secret)
        .json(&json!({"email_address": ["count@example.com"], "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::OK);
    // The browser has a client already (as one that loaded a page has).
    let client = http.post(format!("{url}/v1/client")).send().await.unwrap();
    let cookie: Vec<String> = client
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    // Let the outbox poll and the key bookkeeping settle, then count only the two requests.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;

    statements.take();
    let response = http
        .post(format!("{url}/v1/client/sign_ins"))
        .header(header::COOKIE, cookie.join("; "))
        .form(&[("identifier", "count@example.com"), ("password", "correct horse battery"), ("strategy", "password")])
        .send()
        .await
        .unwrap();
    let sign_in = statements.take();
    let cookie: Vec<String> = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect();
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let session = body["client"]["last_active_session_id"].as_str().expect("signed in").to_owned();

    let refreshed = http
        .post(format!("{url}/v1/client/sessions/{session}/tokens"))
        .header(header::COOKIE, cookie.join("; "))
        .send()
        .await
        .unwrap();
    let refresh = statements.take();
    assert_eq!(refreshed.status(), StatusCode::OK);

    // A Backend API mint for the same session (the first one of this lifetime records it
    // for the key, once; the second is the steady state).
    let mint = || http.post(format!("{url}/v1/sessions/{session}/tokens")).bearer_auth(&secret).send();
    assert_eq!(mint().await.unwrap().status(), StatusCode::OK);
    statements.take();
    assert_eq!(mint().await.unwrap().status(), StatusCode::OK);
    let minted = statements.take();

    // The same with an active organization: its row, the membership and the role's permissions.
    let user = body["client"]["sessions"][0]["user"]["id"].as_str().expect("the session's user").to_owned();
    let org: Value = http
        .post(format!("{url}/v1/organizations"))
        .bearer_auth(&secret)
        .json(&json!({"name": "Counted", "created_by": user}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let touched = http
        .post(format!("{url}/v1/client/sessions/{session}/touch"))
        .header(header::COOKIE, cookie.join("; "))
        .form(&[("active_organization_id", org["id"].as_str().expect("organization"))])
        .send()
        .await
        .unwrap();
    assert_eq!(touched.status(), StatusCode::OK);
    statements.take();
    let response = mint().await.unwrap();
    let minted_org = statements.take();
    assert_eq!(response.status(), StatusCode::OK);
    let jwt = response.json::<Value>().await.unwrap()["jwt"].as_str().unwrap().to_owned();
    let payload = base64::Engine::decode(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
        jwt.split('.').nth(1).expect("a payload"),
    )
    .unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    assert_eq!(claims["o"]["id"], org["id"], "the token is the organization's");

    println!(
        "statements: password sign-in {sign_in}, token refresh {refresh}, mint {minted}, mint with an organization {minted_org}"
    );
    assert!(sign_in > 0 && refresh > 0 && minted > 0, "the counter sees the server's queries");
    assert!(sign_in <= SIGN_IN_MAX, "a password sign-in now runs {sign_in} statements (was {SIGN_IN_MAX})");
    assert!(refresh <= REFRESH_MAX, "a token refresh now runs {refresh} statements (was {REFRESH_MAX})");
    assert!(minted <= MINT_MAX, "a mint now runs {minted} statements (was {MINT_MAX})");
    assert!(
        minted_org <= MINT_ORG_MAX,
        "a mint with an organization now runs {minted_org} statements (was {MINT_ORG_MAX})"
    );
}
