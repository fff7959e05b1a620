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
pub(crate) struct Received {
    pub(crate) id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

impl Received {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

#[derive(Default)]
pub(crate) struct Receiver {
    pub(crate) got: Mutex<Vec<Received>>,
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

pub(crate) async fn receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    let app = Router::new().route("/hook", post(receive)).route("/elsewhere", post(receive)).with_state(r.clone());
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0))).await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, url)
}

impl Receiver {
    /// Waits (up to a minute) until `done` holds for what arrived.
    pub(crate) async fn wait_for(&self, what: &str, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
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
pub(crate) fn valid_signatures(received: &Received, secret: &str) -> usize {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &key);
    let mut signed = format!("{}.{}.", received.id, received.timestamp).into_bytes();
    signed.extend_from_slice(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(aws_lc_rs::hmac::sign(&key, &signed).as_ref()));
    received.signature.split(' ').filter(|s| *s == expected).count()
}

pub(crate) fn fast(config: &mut Config) {
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

/// The `data` of the first event of `event_type` whose data satisfies `matches`.
async fn event_data(r: &Receiver, event_type: &str, matches: impl Fn(&Value) -> bool) -> Value {
    let found = |got: &[Received]| {
        got.iter()
            .map(Received::json)
            .find(|e| e["type"] == event_type && matches(&e["data"]))
            .map(|e| e["data"].clone())
    };
    let got = r.wait_for(event_type, |got| found(got).is_some()).await;
    found(&got).unwrap()
}

#[tokio::test]
async fn membership_invitation_role_and_permission_events_carry_the_backend_api_shape() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    add_endpoint(&app, &url, &[]).await;
    let admin = app.create_user("org-admin@example.com").await;
    let member = app.create_user("org-member@example.com").await;
    let (admin_id, member_id) = (admin["id"].as_str().unwrap(), member["id"].as_str().unwrap());
    let (_, org) = app.post("/v1/organizations", json!({"name": "Hooks Inc", "created_by": admin_id})).await;
    let org_id = org["id"].as_str().unwrap();

    // The creator's membership comes with the organization.
    let creator =
        event_data(&r, "organizationMembership.created", |d| d["public_user_data"]["user_id"] == admin_id).await;
    assert_eq!((creator["role"].as_str(), creator["organization"]["id"].as_str()), (Some("org:admin"), Some(org_id)));
    assert_eq!(creator["public_user_data"]["identifier"], "org-admin@example.com");
    assert_eq!(creator["permissions"].as_array().unwrap().len(), 6, "every system permission of the admin role");

    let path = format!("/v1/organizations/{org_id}/memberships");
    let (status, created) = app.post(&path, json!({"user_id": member_id, "role": "org:member"})).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let data =
        event_data(&r, "organizationMembership.created", |d| d["public_user_data"]["user_id"] == member_id).await;
    assert_eq!(data, created, "the membership exactly as the Backend API answers it");

    let (_, updated) = app.patch(&format!("{path}/{member_id}"), json!({"role": "org:admin"})).await;
    let data = event_data(&r, "organizationMembership.updated", |d| d["role"] == "org:admin").await;
    assert_eq!(data, updated);
    let (_, with_metadata) =
        app.patch(&format!("{path}/{member_id}/metadata"), json!({"public_metadata": {"desk": 4}})).await;
    let data = event_data(&r, "organizationMembership.updated", |d| d["public_metadata"]["desk"] == 4).await;
    assert_eq!(data, with_metadata);
    let (status, removed) = app.call(reqwest::Method::DELETE, &format!("{path}/{member_id}"), None).await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_eq!(event_data(&r, "organizationMembership.deleted", |_| true).await, removed);

    // Invitations: created, revoked; accepted comes through the Frontend API test in Node.
    let (status, mut invited) = app
        .post(
            &format!("/v1/organizations/{org_id}/invitations"),
            json!({"email_address": "org-member@example.com", "role": "org:member", "inviter_user_id": admin_id}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{invited}");
    let inv_id = invited["id"].as_str().unwrap().to_owned();
    // The link is shown only in the answer that created it, never in an event.
    invited["url"] = Value::Null;
    assert_eq!(event_data(&r, "organizationInvitation.created", |_| true).await, invited);
    let (_, revoked) = app
        .post(
            &format!("/v1/organizations/{org_id}/invitations/{inv_id}/revoke"),
            json!({"requesting_user_id": admin_id}),
        )
        .await;
    let data = event_data(&r, "organizationInvitation.revoked", |_| true).await;
    assert_eq!(data["status"], "revoked");
    assert_eq!(data, revoked);
    // The invitation mail (to the former member, who has an account) names Clerk's template and
    // the address record it goes to.
    let mail = event_data(&r, "email.created", |d| d["to_email_address"] == "org-member@example.com").await;
    assert_eq!(mail["slug"], "organization_invitation");
    assert!(mail["data"]["action_url"].as_str().unwrap().contains("__clerk_ticket="));
    assert_eq!(mail["email_address_id"], member["email_addresses"][0]["id"], "{mail}");
    assert_eq!((mail["user_id"].as_str(), mail["status"].as_str()), (Some(member_id), Some("queued")));

    // Roles and permissions.
    let (status, permission) = app
        .post("/v1/organization_permissions", json!({"key": "org:invoices:create", "name": "Create invoices"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{permission}");
    assert_eq!(event_data(&r, "permission.created", |_| true).await, permission);
    let perm_id = permission["id"].as_str().unwrap();
    let (_, renamed) =
        app.patch(&format!("/v1/organization_permissions/{perm_id}"), json!({"name": "Issue invoices"})).await;
    assert_eq!(event_data(&r, "permission.updated", |_| true).await, renamed);
    let (status, role) = app
        .post("/v1/organization_roles", json!({"key": "org:billing", "name": "Billing", "description": "Money"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    assert_eq!(event_data(&r, "role.created", |_| true).await, role);
    let role_id = role["id"].as_str().unwrap();
    let (status, granted) =
        app.post(&format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    let data = event_data(&r, "role.updated", |d| d["permissions"].as_array().is_some_and(|p| !p.is_empty())).await;
    assert_eq!(data, granted);
    app.call(reqwest::Method::DELETE, &format!("/v1/organization_roles/{role_id}"), None).await;
    assert_eq!(
        event_data(&r, "role.deleted", |_| true).await,
        json!({"id": role_id, "object": "role", "deleted": true})
    );
    app.call(reqwest::Method::DELETE, &format!("/v1/organization_permissions/{perm_id}"), None).await;
    let deleted = event_data(&r, "permission.deleted", |_| true).await;
    assert_eq!(deleted, json!({"id": perm_id, "object": "permission", "deleted": true}));
}

#[tokio::test]
async fn a_sign_in_and_a_lockout_send_user_updated() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        fast(c);
        c.lockout_attempts = 2;
    })
    .await;
    let (r, url) = receiver().await;
    add_endpoint(&app, &url, &["user.updated"]).await;
    let user = app.create_user("sign-in-hook@example.com").await;
    assert_eq!(user["last_sign_in_at"], Value::Null);
    let sign_in = |password: &'static str| {
        app.http
            .post(format!("{}/v1/client/sign_ins", app.url))
            .header("origin", "http://localhost:3000")
            .form(&[("identifier", "sign-in-hook@example.com"), ("password", password)])
            .send()
    };
    assert_eq!(sign_in("correct horse battery").await.unwrap().status(), StatusCode::OK);
    let signed_in = event_data(&r, "user.updated", |d| d["last_sign_in_at"].is_i64()).await;
    assert_eq!(signed_in["id"], user["id"]);
    assert_eq!(signed_in["locked"], false);

    for _ in 0..2 {
        assert_ne!(sign_in("wrong password entirely").await.unwrap().status(), StatusCode::OK);
    }
    let locked = event_data(&r, "user.updated", |d| d["locked"] == true).await;
    assert_eq!(locked["id"], user["id"]);
    assert!(locked["lockout_expires_in_seconds"].as_i64().unwrap() > 0, "{locked}");
}

/// Renders every change as an event named by its variant and remembers the ids it handed out.
/// For the variant in `poison` it hands out the id of the first event it rendered, so writing
/// that event fails inside the change's transaction — the database's own refusal, after the
/// change's statements ran.
#[derive(Default)]
struct Recorder {
    rendered: Mutex<Vec<(String, String)>>,
    poison: Mutex<Option<&'static str>>,
}

impl usher_server::store::EventRenderer for Recorder {
    fn render(&self, change: &usher_server::store::Change<'_>) -> Option<usher_server::store::NewEvent> {
        let debug = format!("{change:?}");
        let kind = debug.split('(').next().unwrap_or_default().to_owned();
        let mut rendered = self.rendered.lock().unwrap();
        let id = match (*self.poison.lock().unwrap(), rendered.first()) {
            (Some(p), Some((first, _))) if p == kind => first.clone(),
            _ => usher_server::ids::new_id("msg"),
        };
        rendered.push((id.clone(), kind.clone()));
        Some(usher_server::store::NewEvent { id, event_type: kind, payload: b"{}".to_vec(), created_at: 1 })
    }
}

async fn rolled_back_membership_changes_write_no_event(db: Db) {
    use usher_server::store::{
        MembershipRecord, OrganizationRecord, OrganizationStore as _, SqlStore, UserStore as _, WebhookStore as _,
    };
    let test_db = TestDb::new(db).await;
    let recorder = Arc::new(Recorder::default());
    let store = SqlStore::open(&test_db.url).await.unwrap().with_events(recorder.clone());
    store.create_user(&crate::contract::user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&crate::contract::user("user_b", "b@example.com", 1)).await.unwrap();
    let org = OrganizationRecord { id: "org_1".into(), name: "Org".into(), slug: "org".into(), ..Default::default() };
    let membership = |user: &str, role: &str| MembershipRecord {
        id: format!("orgmem_{user}"),
        organization_id: "org_1".into(),
        user_id: user.into(),
        role: role.into(),
        ..Default::default()
    };
    store.create_organization(&org, Some(&membership("user_a", "org:admin"))).await.unwrap();
    let kinds = |r: &Recorder| r.rendered.lock().unwrap().iter().map(|(_, k)| k.clone()).collect::<Vec<_>>();
    assert_eq!(kinds(&recorder), ["UserCreated", "UserCreated", "OrganizationCreated", "MembershipCreated"]);
    let committed = recorder.rendered.lock().unwrap().clone();
    for (id, _) in committed {
        assert!(store.get_message(&id).await.unwrap().is_some(), "committed changes keep their events");
    }
    let first = recorder.rendered.lock().unwrap()[0].0.clone();
    let original = store.get_message(&first).await.unwrap().unwrap();

    *recorder.poison.lock().unwrap() = Some("MembershipCreated");
    assert!(store.create_membership(&membership("user_b", "org:member")).await.is_err());
    assert_eq!(store.get_membership("org_1", "user_b").await.unwrap(), None, "the membership was rolled back");

    *recorder.poison.lock().unwrap() = None;
    store.create_membership(&membership("user_b", "org:member")).await.unwrap();
    let before = recorder.rendered.lock().unwrap().len();

    *recorder.poison.lock().unwrap() = Some("MembershipUpdated");
    assert!(store.update_membership_role("org_1", "user_b", "org:admin", 5).await.is_err());
    assert_eq!(store.get_membership("org_1", "user_b").await.unwrap().unwrap().role, "org:member");
    *recorder.poison.lock().unwrap() = Some("MembershipDeleted");
    assert!(store.delete_membership("org_1", "user_b").await.is_err());
    assert!(store.get_membership("org_1", "user_b").await.unwrap().is_some(), "the removal was rolled back");

    // Each refused change rendered its event, and none of them was stored: the one message
    // under the reused id is still the first, untouched.
    let after = recorder.rendered.lock().unwrap().clone();
    assert_eq!(
        after[before..].iter().map(|(_, k)| k.as_str()).collect::<Vec<_>>(),
        ["MembershipUpdated", "MembershipDeleted"]
    );
    assert!(after[before..].iter().all(|(id, _)| *id == first));
    assert_eq!(store.get_message(&first).await.unwrap(), Some(original));
    // A refusal by the rules (the last admin) renders nothing at all.
    *recorder.poison.lock().unwrap() = None;
    let before = recorder.rendered.lock().unwrap().len();
    assert_eq!(
        store.delete_membership("org_1", "user_a").await.unwrap(),
        usher_server::store::MembershipChange::LastAdmin
    );
    assert_eq!(recorder.rendered.lock().unwrap().len(), before);
}

#[tokio::test]
async fn a_rolled_back_membership_change_emits_nothing_on_sqlite() {
    rolled_back_membership_changes_write_no_event(Db::Sqlite).await;
}

#[tokio::test]
async fn a_rolled_back_membership_change_emits_nothing_on_postgres() {
    if skip_postgres() {
        return;
    }
    rolled_back_membership_changes_write_no_event(Db::Postgres).await;
}
