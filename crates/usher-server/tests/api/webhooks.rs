//! Outbound webhooks end to end: a real receiver on port 0, real deliveries from a real server.

use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, response::IntoResponse, routing::post};
use base64::{Engine as _, engine::general_purpose::STANDARD};
use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_server::{
    App,
    clock::ManualClock,
    config::{Config, Secret},
};

use crate::helpers::{Db, TestApp, TestDb, skip_postgres, spawn_app_with};

/// What the receiver does with the next request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    Redirect,
    Hang,
}

/// A request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<Received>>,
    script: Mutex<VecDeque<Answer>>,
    otherwise: Mutex<Option<Answer>>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> axum::response::Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    r.got.lock().unwrap().push(Received {
        id: header("svix-id"),
        timestamp: header("svix-timestamp"),
        signature: header("svix-signature"),
        body: body.to_vec(),
    });
    let next = r.script.lock().unwrap().pop_front().or(*r.otherwise.lock().unwrap()).unwrap_or(Answer::Status(204));
    match next {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap().into_response(),
        Answer::Redirect => (StatusCode::FOUND, [("location", "/elsewhere")]).into_response(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            StatusCode::OK.into_response()
        }
    }
}

async fn receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    let app = Router::new().route("/hook", post(receive)).route("/elsewhere", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

impl Receiver {
    /// Waits (up to a minute) until `done` holds for what arrived.
    async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..1200 {
            let got = self.got.lock().unwrap().clone();
            if done(&got) {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "{what} never arrived; got {:?}",
            self.got.lock().unwrap().iter().map(|r| r.json()["type"].clone()).collect::<Vec<_>>()
        );
    }

    async fn wait_for_type(&self, event_type: &str) -> Received {
        let got = self.wait_for(event_type, |got| got.iter().any(|r| r.json()["type"] == event_type)).await;
        got.into_iter().find(|r| r.json()["type"] == event_type).unwrap()
    }
}

/// Every `v1,` signature in the header, checked against `secret` as Svix receivers do.
fn valid_signatures(received: &Received, secret: &str) -> usize {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut signed = format!("{}.{}.", received.id, received.timestamp).into_bytes();
    signed.extend_from_slice(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref()));
    received.signature.split(' ').filter(|s| *s == expected).count()
}

fn fast(config: &mut Config) {
    config.webhooks.allow_private_addresses = true;
    config.webhooks.retry_schedule = vec![Duration::ZERO; 4];
    config.webhooks.timeout = Duration::from_millis(500);
    config.frontend_rate_limits = false;
    config.allow_localhost_origins = true;
}

async fn add_endpoint(app: &TestApp, url: &str, types: &[&str]) -> (String, String) {
    let (status, e) = app.post("/v1/webhooks/endpoints", json!({"url": url, "event_types": types})).await;
    assert_eq!(status, StatusCode::OK, "{e}");
    (e["id"].as_str().unwrap().to_owned(), e["secret"].as_str().unwrap().to_owned())
}

#[tokio::test]
async fn backend_and_frontend_changes_arrive_signed_in_clerks_shape() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (_, secret) = add_endpoint(&app, &url, &[]).await;

    let user = app.create_user("hook@example.com").await;
    let created = r.wait_for_type("user.created").await;
    assert_eq!(valid_signatures(&created, &secret), 1);
    assert!(created.id.starts_with("msg_"));
    let event = created.json();
    assert_eq!((event["object"].clone(), event["data"].clone()), (json!("event"), user.clone()), "the BAPI shape");
    assert!(event["instance_id"].as_str().unwrap().starts_with("ins_"));
    assert!(event["timestamp"].as_i64().unwrap() > 1_000_000_000_000, "milliseconds");
    assert_eq!(event["event_attributes"]["http_request"]["client_ip"], "127.0.0.1");

    let id = user["id"].as_str().unwrap();
    let (_, updated_user) = app.patch(&format!("/v1/users/{id}"), json!({"first_name": "Grace"})).await;
    let updated = r.wait_for_type("user.updated").await;
    assert_eq!(updated.json()["data"], updated_user, "a snapshot of the user after the change");

    // The Frontend API: a password sign-in creates a session.
    let response = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header("origin", "http://localhost:3000")
        .header("user-agent", "webhook-test/1")
        .form(&[("identifier", "hook@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let session = r.wait_for_type("session.created").await.json();
    assert_eq!(session["data"]["user_id"], id);
    assert_eq!(session["event_attributes"]["http_request"]["user_agent"], "webhook-test/1");
    let session_id = session["data"]["id"].as_str().unwrap();
    app.post(&format!("/v1/sessions/{session_id}/revoke"), json!({})).await;
    assert_eq!(r.wait_for_type("session.revoked").await.json()["data"]["status"], "revoked");

    let (status, _) = app.call(reqwest::Method::DELETE, &format!("/v1/users/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    let deleted = r.wait_for_type("user.deleted").await.json();
    assert_eq!(deleted["data"], json!({"id": id, "object": "user", "deleted": true}));

    // Order per endpoint follows event order.
    let types: Vec<Value> = r.got.lock().unwrap().iter().map(|g| g.json()["type"].clone()).collect();
    let position = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(position("user.created") < position("user.updated"));
    assert!(position("session.created") < position("session.revoked"));
    assert!(position("session.revoked") < position("user.deleted"));
}

#[tokio::test]
async fn failures_are_retried_with_the_same_id_and_redirects_and_timeouts_count_as_failures() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (endpoint, secret) = add_endpoint(&app, &url, &["user.created"]).await;
    r.script.lock().unwrap().extend([Answer::Status(500), Answer::Redirect, Answer::Hang, Answer::Status(200)]);
    app.create_user("retry@example.com").await;
    let got = r.wait_for("four attempts", |got| got.len() >= 4).await;
    assert!(got.iter().all(|g| g.id == got[0].id), "one svix-id across retries");
    assert!(got.iter().all(|g| valid_signatures(g, &secret) == 1));
    assert!(got.iter().all(|g| g.body == got[0].body), "byte-identical body");
    // The redirect was not followed: nothing reached /elsewhere.
    let attempts = loop {
        let (_, list) = app.get(&format!("/v1/webhooks/endpoints/{endpoint}/attempts?paginated=true")).await;
        if list["total_count"] == 4 {
            break list["data"].as_array().unwrap().clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // The test's clock stands still, so all four share a time: compare them as a set.
    let mut outcome: Vec<String> =
        attempts.iter().map(|a| format!("{} {} {}", a["succeeded"], a["status_code"], a["error"])).collect();
    outcome.sort();
    assert_eq!(
        outcome,
        ["false 302 \"HTTP 302\"", "false 500 \"HTTP 500\"", "false null \"timed out\"", "true 200 null"]
    );
    let (_, stats) = app.get("/v1/webhooks/stats").await;
    assert_eq!((stats["pending_deliveries"].clone(), stats["failed_attempts"].clone()), (json!(0), json!(3)));
    assert_eq!(r.got.lock().unwrap().len(), 4, "nothing more after the success");
}

#[tokio::test]
async fn after_the_last_retry_the_message_fails_and_replay_sends_it_again() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (endpoint, _) = add_endpoint(&app, &url, &["user.created"]).await;
    *r.otherwise.lock().unwrap() = Some(Answer::Status(503));
    app.create_user("fail@example.com").await;
    let got = r.wait_for("every attempt", |got| got.len() >= 4).await;
    loop {
        let (_, stats) = app.get("/v1/webhooks/stats").await;
        if stats["failed_deliveries"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(r.got.lock().unwrap().len(), 4, "the schedule has four entries");
    *r.otherwise.lock().unwrap() = None;
    let (status, replay) = app.post(&format!("/v1/webhooks/messages/{}/replay", got[0].id), json!({})).await;
    assert_eq!((status, replay["deliveries"].clone()), (StatusCode::OK, json!(1)), "{replay}");
    r.wait_for("the replay", |got| got.len() == 5).await;
    let (status, message) = app.get(&format!("/v1/webhooks/messages/{}", got[0].id)).await;
    assert_eq!((status, message["payload"].clone()), (StatusCode::OK, got[0].json()));
    let (_, e) = app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await;
    assert!(e["secret"].is_null(), "the secret is shown only on create and rotate");
}

#[tokio::test]
async fn disabled_and_unsubscribed_endpoints_receive_nothing() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (off, off_url) = receiver().await;
    let (other, other_url) = receiver().await;
    let (on, on_url) = receiver().await;
    let (off_id, _) = add_endpoint(&app, &off_url, &[]).await;
    let (status, _) = app.patch(&format!("/v1/webhooks/endpoints/{off_id}"), json!({"enabled": false})).await;
    assert_eq!(status, StatusCode::OK);
    add_endpoint(&app, &other_url, &["session.created"]).await;
    add_endpoint(&app, &on_url, &["user.created"]).await;
    app.create_user("quiet@example.com").await;
    on.wait_for_type("user.created").await;
    // Routing is one transaction for all endpoints: when one got it, the others were decided.
    let (_, stats) = app.get("/v1/webhooks/stats").await;
    assert_eq!(stats["pending_deliveries"], 0);
    assert!(off.got.lock().unwrap().is_empty());
    assert!(other.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_rotated_secret_signs_beside_the_old_one() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (endpoint, old) = add_endpoint(&app, &url, &["user.created"]).await;
    let (status, rotated) = app.post(&format!("/v1/webhooks/endpoints/{endpoint}/rotate_secret"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    app.create_user("rotate@example.com").await;
    let got = r.wait_for_type("user.created").await;
    assert_eq!(got.signature.split(' ').count(), 2);
    assert_eq!((valid_signatures(&got, new), valid_signatures(&got, &old)), (1, 1));
    // After the window only the new secret signs.
    app.clock.advance_ms(25 * 3600 * 1000);
    app.create_user("rotate2@example.com").await;
    let got = r.wait_for("the second user", |got| got.len() == 2).await;
    assert_eq!((valid_signatures(&got[1], new), valid_signatures(&got[1], &old)), (1, 0));
}

#[tokio::test]
async fn endpoint_urls_are_checked() {
    let app = spawn_app_with(Db::Sqlite, |c| c.webhooks.allow_private_addresses = false).await;
    for url in ["ftp://example.com/", "http://127.0.0.1:9/", "http://169.254.169.254/", "http://localhost/", "nope"] {
        let (status, body) = app.post("/v1/webhooks/endpoints", json!({"url": url})).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}: {body}");
        assert_eq!(body["errors"][0]["meta"]["param_name"], "url");
    }
    let (status, body) = app
        .post("/v1/webhooks/endpoints", json!({"url": "https://hooks.example.com/x", "event_types": ["nope"]}))
        .await;
    assert_eq!(
        (status, body["errors"][0]["meta"]["param_name"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("event_types"))
    );
    let (status, _) = app.post("/v1/webhooks/endpoints", json!({"url": "https://hooks.example.com/x"})).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn two_nodes_on_one_postgres_deliver_each_message_once() {
    if skip_postgres() {
        return;
    }
    let db = TestDb::new(Db::Postgres).await;
    let secret = format!("sk_test_{}", usher_server::ids::random_base62(40));
    let mut nodes = Vec::new();
    for _ in 0..2 {
        let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), Secret::new(secret.clone()));
        fast(&mut config);
        config.password_hash_slots = 2;
        let app = App::build_with_clock(config, Arc::new(ManualClock::new())).await.unwrap();
        let url = format!("http://{}", app.local_addr());
        tokio::spawn(app.run(std::future::pending()));
        nodes.push(url);
    }
    let (r, hook) = receiver().await;
    let http = reqwest::Client::new();
    let call = |node: usize, path: &str, body: Value| {
        http.post(format!("{}{path}", nodes[node])).bearer_auth(&secret).json(&body).send()
    };
    let endpoint: Value = call(0, "/v1/webhooks/endpoints", json!({"url": hook, "event_types": ["user.created"]}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    const USERS: usize = 30;
    for i in 0..USERS {
        let answer = call(i % 2, "/v1/users", json!({"email_address": [format!("n{i}@example.com")]})).await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
    }
    // Once every delivery is recorded there is nothing left that could be sent again.
    let endpoint_id = endpoint["id"].as_str().unwrap();
    loop {
        let stats: Value = http
            .get(format!("{}/v1/webhooks/stats", nodes[1]))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let attempts: Value = http
            .get(format!("{}/v1/webhooks/endpoints/{endpoint_id}/attempts?paginated=true&limit=1", nodes[0]))
            .bearer_auth(&secret)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if stats["pending_deliveries"] == 0 && stats["unrouted_messages"] == 0 && attempts["total_count"] == USERS {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = r.got.lock().unwrap().clone();
    let mut ids: Vec<&str> = got.iter().map(|g| g.id.as_str()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!((got.len(), ids.len()), (USERS, USERS), "each message exactly once");
}

#[tokio::test]
async fn organization_changes_arrive() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (_, secret) =
        add_endpoint(&app, &url, &["organization.created", "organization.updated", "organization.deleted"]).await;
    let user = app.create_user("org-hooks@example.com").await;
    let (status, org) = app.post("/v1/organizations", json!({"name": "Acme", "created_by": user["id"]})).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    let id = org["id"].as_str().unwrap();
    let created = r.wait_for_type("organization.created").await;
    assert_eq!(valid_signatures(&created, &secret), 1);
    let data = created.json()["data"].clone();
    assert_eq!(
        (data["id"].as_str(), data["name"].as_str(), data["object"].as_str()),
        (Some(id), Some("Acme"), Some("organization"))
    );
    app.patch(&format!("/v1/organizations/{id}"), json!({"name": "Acme 2"})).await;
    assert_eq!(r.wait_for_type("organization.updated").await.json()["data"]["name"], "Acme 2");
    app.call(reqwest::Method::DELETE, &format!("/v1/organizations/{id}"), None).await;
    let deleted = r.wait_for_type("organization.deleted").await.json();
    assert_eq!(deleted["data"], json!({"id": id, "object": "organization", "deleted": true}));
    assert!(r.got.lock().unwrap().iter().all(|g| g.json()["type"].as_str().unwrap().starts_with("organization.")));
}
