//! The real `usher` binary: acknowledged writes survive `kill -9`, and dev state persists.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Command, Stdio},
    time::Duration,
};

use reqwest::StatusCode;
use serde_json::{Value, json};

/// A running `usher dev` process.
struct Server {
    child: Child,
    url: String,
    secret: String,
}

fn start(data_dir: &Path) -> Server {
    start_with(data_dir, &[])
}

fn start_with(data_dir: &Path, env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_usher"))
        .envs(env.iter().copied())
        .args(["dev", "--data-dir"])
        .arg(data_dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .env_remove("USHER_SECRET_KEY")
        .env_remove("USHER_DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start usher");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut url, mut secret, mut publishable) = (String::new(), String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.expect("stdout");
        if let Some(v) = line.strip_prefix("CLERK_API_URL=") {
            url = v.into();
        } else if let Some(v) = line.strip_prefix("CLERK_SECRET_KEY=") {
            secret = v.into();
        } else if let Some(v) = line.strip_prefix("PUBLIC_CLERK_PUBLISHABLE_KEY=") {
            publishable = v.into();
        } else if line.contains("listening on http://") {
            break;
        }
    }
    assert!(
        url.starts_with("http://127.0.0.1:") && secret.starts_with("sk_test_") && publishable.starts_with("pk_test_"),
        "{url} {publishable}"
    );
    Server { child, url, secret }
}

impl Server {
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reap");
    }
}

async fn create(http: &reqwest::Client, server: &Server, email: String) -> Option<String> {
    let response = http
        .post(format!("{}/v1/users", server.url))
        .bearer_auth(&server.secret)
        .json(&json!({"email_address": [email]}))
        .send()
        .await
        .ok()?;
    if response.status() != StatusCode::OK {
        return None;
    }
    let user: Value = response.json().await.ok()?;
    user["id"].as_str().map(str::to_owned)
}

#[tokio::test]
async fn acknowledged_users_survive_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let mut acknowledged = Vec::new();
    let mut secret = None;
    for round in 0..3 {
        let server = start(dir.path());
        assert_eq!(*secret.get_or_insert_with(|| server.secret.clone()), server.secret, "the dev secret key persists");
        // Every user acknowledged before any earlier crash is there.
        for id in &acknowledged {
            let response =
                http.get(format!("{}/v1/users/{id}", server.url)).bearer_auth(&server.secret).send().await.unwrap();
            assert_eq!(response.status(), StatusCode::OK, "acknowledged user {id} lost after kill -9");
        }
        // Writers run flat out; the server is killed in the middle of their writes.
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let (http, url, secret) = (http.clone(), server.url.clone(), server.secret.clone());
                tokio::spawn(async move {
                    let server = Server { child: Command::new("true").spawn().unwrap(), url, secret };
                    let mut ids = Vec::new();
                    for i in 0.. {
                        match create(&http, &server, format!("r{round}w{w}n{i}@example.com")).await {
                            Some(id) => ids.push(id),
                            None => break,
                        }
                    }
                    ids
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(400)).await;
        server.kill9();
        for writer in writers {
            acknowledged.extend(writer.await.unwrap());
        }
    }
    assert!(acknowledged.len() > 10, "the writers made progress: {}", acknowledged.len());
    let server = start(dir.path());
    let count: Value = http
        .get(format!("{}/v1/users/count", server.url))
        .bearer_auth(&server.secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(count["total_count"].as_u64().unwrap() >= acknowledged.len() as u64);
    server.kill9();
}

#[tokio::test]
async fn a_revocation_survives_kill_9_and_keys_persist() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let server = start(dir.path());
    let call = |server: &Server, path: &str, body: Value| {
        http.post(format!("{}{path}", server.url)).bearer_auth(&server.secret).json(&body).send()
    };
    let user: Value =
        call(&server, "/v1/users", json!({"email_address": ["a@example.com"]})).await.unwrap().json().await.unwrap();
    let session: Value =
        call(&server, "/v1/sessions", json!({"user_id": user["id"]})).await.unwrap().json().await.unwrap();
    let sid = session["id"].as_str().unwrap();
    let jwks_before: Value =
        http.get(format!("{}/.well-known/jwks.json", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(call(&server, &format!("/v1/sessions/{sid}/revoke"), json!({})).await.unwrap().status(), StatusCode::OK);
    server.kill9();

    let server = start(dir.path());
    let response = call(&server, &format!("/v1/sessions/{sid}/tokens"), json!({})).await.unwrap();
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "a revoked session stays revoked");
    let jwks_after: Value =
        http.get(format!("{}/.well-known/jwks.json", server.url)).send().await.unwrap().json().await.unwrap();
    assert_eq!(jwks_before, jwks_after, "the signing key persists");
    server.kill9();
}

/// Signs up through the Frontend API of `server` (code from the dev mailbox); the user id once
/// the sign-up is acknowledged as complete.
async fn sign_up(http: &reqwest::Client, server: &Server, email: &str) -> String {
    let post = |path: String, form: Vec<(&'static str, String)>, cookie: String| {
        http.post(format!("{}{path}", server.url)).header("cookie", cookie).form(&form).send()
    };
    let created = post(
        "/v1/client/sign_ups".into(),
        vec![("email_address", email.to_owned()), ("password", "correct horse battery".into())],
        String::new(),
    )
    .await
    .unwrap();
    let cookie = created.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_owned();
    let body: Value = created.json().await.unwrap();
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    post(format!("/v1/client/sign_ups/{id}/prepare_verification"), vec![], cookie.clone()).await.unwrap();
    let mut code = None;
    for _ in 0..100 {
        let mail: Value =
            http.get(format!("{}/dev/mailbox.json", server.url)).send().await.unwrap().json().await.unwrap();
        code = mail[0]["code"].as_str().map(str::to_owned);
        if code.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done = post(
        format!("/v1/client/sign_ups/{id}/attempt_verification"),
        vec![("code", code.expect("a code in the dev mailbox"))],
        cookie,
    )
    .await
    .unwrap();
    let body: Value = done.json().await.unwrap();
    assert_eq!(body["response"]["status"], "complete", "{body}");
    body["response"]["created_user_id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn an_acknowledged_sign_up_survives_kill_9_and_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let server = start(dir.path());
    let user_id = sign_up(&http, &server, "durable@example.com").await;
    server.kill9();

    let server = start(dir.path());
    let signed_in = http
        .post(format!("{}/v1/client/sign_ins", server.url))
        .form(&[("identifier", "durable@example.com"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    let body: Value = signed_in.json().await.unwrap();
    assert_eq!(body["response"]["status"], "complete", "{body}");
    assert_eq!(body["client"]["sessions"][0]["user"]["id"], user_id.as_str());
    server.kill9();
}

/// A webhook receiver that refuses (503) until told to accept, recording what it accepted.
struct Hook {
    accept: std::sync::atomic::AtomicBool,
    accepted: std::sync::Mutex<Vec<Value>>,
}

async fn hook(
    axum::extract::State(h): axum::extract::State<std::sync::Arc<Hook>>,
    body: axum::body::Bytes,
) -> StatusCode {
    if !h.accept.load(std::sync::atomic::Ordering::SeqCst) {
        return StatusCode::SERVICE_UNAVAILABLE;
    }
    h.accepted.lock().unwrap().push(serde_json::from_slice(&body).unwrap());
    StatusCode::NO_CONTENT
}

#[tokio::test]
async fn an_acknowledged_change_has_its_webhook_delivered_after_kill_9() {
    let h = std::sync::Arc::new(Hook { accept: false.into(), accepted: Default::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", axum::routing::post(hook)).with_state(h.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let dir = tempfile::tempdir().unwrap();
    // Retries every 200 ms, for longer than the test waits.
    let schedule = std::iter::once("0").chain(std::iter::repeat_n("200", 500)).collect::<Vec<_>>().join(",");
    let env = [("USHER_WEBHOOK_RETRY_SCHEDULE_MS", schedule.as_str()), ("USHER_WEBHOOK_TIMEOUT_MS", "1000")];
    let http = reqwest::Client::new();
    let server = start_with(dir.path(), &env);
    let endpoint = http
        .post(format!("{}/v1/webhooks/endpoints", server.url))
        .bearer_auth(&server.secret)
        .json(&json!({"url": hook_url, "event_types": ["user.created"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(endpoint.status(), StatusCode::OK);
    let user = create(&http, &server, "durable-hook@example.com".into()).await.expect("acknowledged");
    // Acknowledged, not delivered (the receiver refuses everything so far): crash now.
    server.kill9();
    assert!(h.accepted.lock().unwrap().is_empty());

    h.accept.store(true, std::sync::atomic::Ordering::SeqCst);
    let server = start_with(dir.path(), &env);
    let mut arrived = false;
    for _ in 0..1200 {
        if h.accepted.lock().unwrap().iter().any(|e| e["type"] == "user.created" && e["data"]["id"] == user) {
            arrived = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill9();
    assert!(arrived, "the event of an acknowledged change arrives after kill -9 and a restart");
}
