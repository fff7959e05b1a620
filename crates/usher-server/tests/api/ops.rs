//! Operating usher: `/metrics` after real requests, JSON logs of the real binary, and
//! `usher users import|export` of Clerk's CSV export.

use std::{
    io::{BufRead as _, BufReader},
    net::SocketAddr,
    process::{Command, Stdio},
    sync::Arc,
};

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, Version, password_hash::SaltString};
use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_server::{
    App,
    clock::ManualClock,
    config::{Config, Secret},
};

use crate::{
    frontend::{Browser, PASSWORD},
    helpers::{Db, TestApp, TestDb, skip_postgres, spawn_app_with},
};

/// The value of the series `name{labels}` in a scrape (0 when absent).
fn series(text: &str, name_and_labels: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name_and_labels).and_then(|rest| rest.trim().parse::<f64>().ok()))
        .unwrap_or(0.0)
}

async fn scrape(app: &TestApp, token: Option<&str>) -> (StatusCode, String) {
    let mut request = app.http.get(format!("{}/metrics", app.url));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    (response.status(), response.text().await.unwrap())
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_sign_ins_lockouts_and_429s() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.metrics.open_on_main_listener = true;
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        c.lockout_attempts = 2;
        c.backend_requests_per_10s = 6;
    })
    .await;
    let (_, before) = scrape(&app, None).await;
    assert_eq!(series(&before, "usher_sign_ins_total{outcome=\"succeeded\"}"), 0.0);
    let (status, user) =
        app.post("/v1/users", json!({"email_address": ["metrics@example.com"], "password": PASSWORD})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    let id = user["id"].as_str().unwrap();
    assert_eq!(app.get(&format!("/v1/users/{id}")).await.0, StatusCode::OK);
    assert_eq!(app.get("/v1/users/user_nobody").await.0, StatusCode::NOT_FOUND);

    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("metrics@example.com", PASSWORD).await.0, StatusCode::OK);
    let mut other = Browser::new(&app);
    for _ in 0..2 {
        other.sign_in("metrics@example.com", "wrong password!").await;
    }
    // Locked now: the next attempt is refused whatever the password.
    other.sign_in("metrics@example.com", PASSWORD).await;
    // Spend the Backend API's budget (6 per 10 s) until a request is refused.
    let mut refused = 0;
    for _ in 0..50 {
        if app.get("/v1/users").await.0 == StatusCode::TOO_MANY_REQUESTS {
            refused = 1;
            break;
        }
    }
    assert_eq!(refused, 1, "the limit was never reached");

    let (status, text) = scrape(&app, None).await;
    assert_eq!(status, StatusCode::OK);
    let by = |labels: &str| series(&text, &format!("usher_http_requests_total{{{labels}}}"));
    assert_eq!(by(r#"method="GET",route="/v1/users/{id}",status="200""#), 1.0, "{text}");
    assert_eq!(by(r#"method="GET",route="/v1/users/{id}",status="404""#), 1.0);
    assert_eq!(by(r#"method="POST",route="/v1/users",status="200""#), 1.0);
    assert_eq!(by(r#"method="GET",route="/v1/users",status="429""#), f64::from(refused));
    assert!(!text.contains(id) && !text.contains("user_nobody"), "raw paths are never labels");
    let histogram = r#"usher_http_request_duration_seconds_count{method="GET",route="/v1/users/{id}"}"#;
    assert_eq!(series(&text, histogram), 2.0);
    assert_eq!(series(&text, "usher_sign_ins_total{outcome=\"succeeded\"}"), 1.0);
    assert_eq!(series(&text, "usher_sign_ins_total{outcome=\"incorrect\"}"), 2.0);
    assert_eq!(series(&text, "usher_sign_ins_total{outcome=\"locked\"}"), 1.0);
    assert_eq!(series(&text, "usher_lockouts_total"), 1.0);
    assert_eq!(series(&text, "usher_rate_limited_requests_total"), f64::from(refused));
    assert_eq!(series(&text, "usher_password_hash_slots"), 4.0);
    assert_eq!(series(&text, "usher_password_hash_in_use"), 0.0);
    assert!(series(&text, "usher_db_pool_connections") >= 1.0);
    assert!(text.contains("usher_signing_key_age_seconds "), "{text}");
    assert!(text.contains("usher_mail_outbox_queued ") && text.contains("usher_webhook_deliveries_pending "));
}

#[tokio::test]
async fn a_sign_up_and_its_wrong_code_are_counted() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.metrics.open_on_main_listener = true;
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await;
    let mut browser = Browser::new(&app);
    let (_, body) =
        browser.post("/v1/client/sign_ups", &[("email_address", "new@example.com"), ("password", PASSWORD)]).await;
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    browser.post(&format!("/v1/client/sign_ups/{id}/prepare_verification"), &[("strategy", "email_code")]).await;
    let code = crate::frontend::code_for(&app, "new@example.com").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let attempt = format!("/v1/client/sign_ups/{id}/attempt_verification");
    browser.post(&attempt, &[("strategy", "email_code"), ("code", wrong)]).await;
    let (status, body) = browser.post(&attempt, &[("strategy", "email_code"), ("code", &code)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, text) = scrape(&app, None).await;
    assert_eq!(series(&text, "usher_sign_ups_total{outcome=\"code_incorrect\"}"), 1.0, "{text}");
    assert_eq!(series(&text, "usher_sign_ups_total{outcome=\"completed\"}"), 1.0);
    // The dev mailbox delivered the code: nothing is left queued.
    assert_eq!(series(&text, "usher_mail_outbox_failing"), 0.0);
}

#[tokio::test]
async fn metrics_need_the_token_or_their_own_listener_outside_dev() {
    const TOKEN: &str = "metrics-token-0123456789abcdefghijklmnop";
    let app = spawn_app_with(Db::Sqlite, |c| c.metrics.token = Some(Secret::new(TOKEN))).await;
    assert_eq!(scrape(&app, None).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(scrape(&app, Some("metrics-token-0123456789abcdefghijklmnoq")).await.0, StatusCode::UNAUTHORIZED);
    let (status, text) = scrape(&app, Some(TOKEN)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.contains("usher_http_requests_total"), "{text}");

    // Neither: not served at all.
    let closed = spawn_app_with(Db::Sqlite, |_| {}).await;
    assert_eq!(scrape(&closed, None).await.0, StatusCode::NOT_FOUND);

    // An address of its own: served there, not on the API's listener.
    let db = TestDb::new(Db::Sqlite).await;
    let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), Secret::new("sk_test_ops"));
    config.metrics.listen = Some(SocketAddr::from(([127, 0, 0, 1], 0)));
    let app = App::build_with_clock(config, Arc::new(ManualClock::new())).await.unwrap();
    let (api, metrics) = (app.local_addr(), app.metrics_addr().expect("a metrics address"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    assert_eq!(reqwest::get(format!("http://{api}/healthz")).await.unwrap().status(), 200);
    assert_eq!(reqwest::get(format!("http://{api}/metrics")).await.unwrap().status(), 404);
    let scraped = reqwest::get(format!("http://{metrics}/metrics")).await.unwrap();
    assert_eq!(scraped.status(), 200);
    let text = scraped.text().await.unwrap();
    assert_eq!(series(&text, r#"usher_http_requests_total{method="GET",route="/healthz",status="200"}"#), 1.0);
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

fn usher() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_usher"));
    for var in ["USHER_SECRET_KEY", "USHER_DATABASE_URL", "USHER_LISTEN", "USHER_PUBLIC_URL", "RUST_LOG"] {
        command.env_remove(var);
    }
    command
}

/// `USHER_LOG_FORMAT=json`: every line is a JSON object, and the lines of a request carry its
/// request id (echoed in `X-Request-Id`) and the trace id its error body names.
#[tokio::test]
async fn json_logs_carry_the_request_and_trace_ids_of_error_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = usher()
        .args(["dev", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("USHER_LOG_FORMAT", "json")
        .env("RUST_LOG", "usher_server=debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = None;
    for line in stdout.lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("usher dev: listening on ") {
            url = Some(rest.trim().to_owned());
            break;
        }
    }
    let url = url.expect("the listening line");
    let secret = std::fs::read_to_string(dir.path().join("secret_key")).unwrap().trim().to_owned();
    let response = reqwest::Client::new()
        .get(format!("{url}/v1/users/user_missing"))
        .bearer_auth(&secret)
        .header("x-request-id", "req-from-the-proxy-1")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    assert_eq!(response.headers()["x-request-id"], "req-from-the-proxy-1");
    let body: Value = response.json().await.unwrap();
    let trace_id = body["clerk_trace_id"].as_str().unwrap().to_owned();
    child.kill().unwrap();
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect();
    assert!(!lines.is_empty());
    let of_request: Vec<&Value> = lines
        .iter()
        .filter(|l| l["spans"].as_array().is_some_and(|s| s.iter().any(|s| s["request_id"] == "req-from-the-proxy-1")))
        .collect();
    let refusal = of_request
        .iter()
        .find(|l| l["fields"]["message"] == "request refused")
        .unwrap_or_else(|| panic!("no refusal line for the request in:\n{stderr}"));
    assert_eq!(refusal["fields"]["trace_id"], trace_id.as_str());
    assert!(refusal["spans"].as_array().unwrap().iter().any(|s| s["trace_id"] == trace_id.as_str()));
    assert!(refusal["level"] == "DEBUG" && refusal["timestamp"].is_string(), "{refusal}");
}

// ---- usher users import / export ----

/// A Clerk dashboard export's header.
const HEADER: &str = "id,first_name,last_name,username,primary_email_address,primary_phone_number,\
    verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,\
    totp_secret,password_digest,password_hasher";

fn argon2_digest(algorithm: Algorithm, password: &str) -> String {
    let argon = Argon2::new(algorithm, Version::V0x13, Params::new(8192, 2, 1, None).unwrap());
    let salt = SaltString::encode_b64(b"sixteen byte slt").unwrap();
    argon.hash_password(password.as_bytes(), &salt).unwrap().to_string()
}

/// Rows with bcrypt, argon2id and argon2i digests, a TOTP secret, and four malformed rows.
fn clerk_csv() -> String {
    let bcrypt = bcrypt::hash("bcrypt old password", 4).unwrap();
    let argon2id = argon2_digest(Algorithm::Argon2id, "argon2id old password");
    let argon2i = argon2_digest(Algorithm::Argon2i, "argon2i old password");
    // PHC strings hold commas (`m=8192,t=2,p=1`), so those cells are quoted as in a real export.
    let rows = [
        format!(
            "user_2bcrypt,Bea,Crypt,bea_c,bea@example.com,+15555550101,\"bea@example.com,bea2@example.com\",old@example.com,+15555550101,,,{bcrypt},bcrypt"
        ),
        format!("user_2argonid,Ari,Gon,,ari@example.com,,ari@example.com,,,,,\"{argon2id}\",argon2id"),
        format!("user_2argoni,Ira,Gon,,ira@example.com,,ira@example.com,,,,,\"{argon2i}\",argon2i"),
        format!("user_2totp,Tom,Otp,,tom@example.com,,tom@example.com,,,,JBSWY3DPEHPK3PXPJBSWY3DP,{bcrypt},bcrypt"),
        "user_2nopass,No,Pass,,nopass@example.com,,nopass@example.com,,,,,,".to_owned(),
        // Malformed: a bad address, a digest that is not bcrypt, an unknown hasher, no id.
        format!("user_2bademail,Bad,Email,,not-an-address,,,,,,,{bcrypt},bcrypt"),
        "user_2baddigest,Bad,Digest,,bd@example.com,,bd@example.com,,,,,$2b$10$tooshort,bcrypt".to_owned(),
        "user_2md5,Md,Five,,md5@example.com,,md5@example.com,,,,,5f4dcc3b5aa765d61d8327deb882cf99,md5".to_owned(),
        ",No,Id,,noid@example.com,,noid@example.com,,,,,,".to_owned(),
        // The same address as an earlier row: rejected by the database, the rest goes on.
        "user_2dupe,Du,Pe,,BEA@example.com,,bea@example.com,,,,,,".to_owned(),
    ];
    format!("{HEADER}\n{}\n", rows.join("\n"))
}

/// Runs `usher users …` against `app`'s database and secret key; (success, stdout, stderr).
/// The server keeps running meanwhile (its runtime is not blocked), as in production.
async fn users_cli(app: &TestApp, db_url: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = usher();
    command.arg("users").args(["--database-url", db_url]).args(args).env("USHER_SECRET_KEY", &app.secret);
    let output = tokio::task::spawn_blocking(move || command.output().unwrap()).await.unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

async fn import_then_sign_in_with_old_passwords(db: Db) {
    if db == Db::Postgres && skip_postgres() {
        return;
    }
    let app = spawn_app_with(db, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await;
    let db_url = app.state.config.database.url();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, clerk_csv()).unwrap();
    let file = file.to_str().unwrap();

    let (ok, out, err) = users_cli(&app, &db_url, &["import", file, "--keep-ids", "--dry-run", "--quiet"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("10 rows: 5 would be created, 0 would be updated, 0 unchanged, 5 rejected"), "{out}\n{err}");
    assert_eq!(app.get("/v1/users/count").await.1["total_count"], 0, "a dry run writes nothing");

    let (ok, out, err) = users_cli(&app, &db_url, &["import", file, "--keep-ids", "--quiet"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("10 rows: 5 created, 0 updated, 0 unchanged, 5 rejected"), "{out}\n{err}");
    for (line, reason) in [
        (7, "email"),
        (8, "not a valid bcrypt digest"),
        (9, "\"md5\" is not supported"),
        (10, "`id` is empty"),
        (11, "email address of this row belongs to another user"),
    ] {
        assert!(
            err.lines().any(|l| l.starts_with(&format!("line {line}: rejected:")) && l.contains(reason)),
            "line {line} ({reason}) not reported in:\n{err}"
        );
    }

    // Clerk's ids are kept; identifiers, names and verification come across.
    let (status, bea) = app.get("/v1/users/user_2bcrypt").await;
    assert_eq!(status, StatusCode::OK, "{bea}");
    assert_eq!(bea["username"], "bea_c");
    let emails: Vec<(String, String)> = bea["email_addresses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (e["email_address"].as_str().unwrap().to_owned(), e["verification"]["status"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(
        emails,
        [("bea@example.com", "verified"), ("bea2@example.com", "verified"), ("old@example.com", "unverified")]
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
    );
    assert_eq!(bea["phone_numbers"][0]["phone_number"], "+15555550101");
    assert_eq!(bea["password_enabled"], true);

    // The old passwords work through the Frontend API, digests verified as imported.
    for (email, password) in [
        ("bea@example.com", "bcrypt old password"),
        ("ari@example.com", "argon2id old password"),
        ("ira@example.com", "argon2i old password"),
    ] {
        let mut browser = Browser::new(&app);
        let (status, body) = browser.sign_in(email, password).await;
        assert_eq!(status, StatusCode::OK, "{email}: {body}");
        assert_eq!(body["response"]["status"], "complete", "{email}: {body}");
        let (status, _) = Browser::new(&app).sign_in(email, "not the old password").await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // The TOTP secret came too: the password is only the first factor.
    let (status, body) = Browser::new(&app).sign_in("tom@example.com", "bcrypt old password").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "needs_second_factor", "{body}");

    // Again: nothing changes.
    let (_, before, _) = users_cli(&app, &db_url, &["export"]).await;
    let (_, users_before) = app.get("/v1/users?limit=100").await;
    let (ok, out, err) = users_cli(&app, &db_url, &["import", file, "--keep-ids", "--quiet"]).await;
    assert!(ok, "{err}");
    assert!(out.contains("10 rows: 0 created, 0 updated, 5 unchanged, 5 rejected"), "{out}");
    let (_, after, _) = users_cli(&app, &db_url, &["export"]).await;
    assert_eq!(before, after);
    assert_eq!(app.get("/v1/users?limit=100").await.1, users_before, "not even updated_at moved");

    // The export is the same format: it imports into another instance unchanged.
    assert!(before.starts_with(HEADER), "{before}");
    let other = spawn_app_with(db, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await;
    let other_url = other.state.config.database.url();
    let exported = dir.path().join("export.csv");
    std::fs::write(&exported, &before).unwrap();
    let (ok, out, err) =
        users_cli(&other, &other_url, &["import", exported.to_str().unwrap(), "--keep-ids", "--quiet"]).await;
    assert!(ok && out.contains("5 rows: 5 created"), "{out}\n{err}");
    let (_, again, _) = users_cli(&other, &other_url, &["export"]).await;
    assert_eq!(again, before);
    let (status, body) = Browser::new(&other).sign_in("ira@example.com", "argon2i old password").await;
    assert_eq!((status, &body["response"]["status"]), (StatusCode::OK, &json!("complete")), "{body}");
}

#[tokio::test]
async fn clerk_csv_import_on_sqlite() {
    import_then_sign_in_with_old_passwords(Db::Sqlite).await;
}

#[tokio::test]
async fn clerk_csv_import_on_postgres() {
    import_then_sign_in_with_old_passwords(Db::Postgres).await;
}

/// Without `--keep-ids` users get new ids, Clerk's id goes into `external_id`, and a second run
/// finds them by it.
#[tokio::test]
async fn without_keep_ids_users_are_matched_by_external_id() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let db_url = app.state.config.database.url();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("users.csv");
    std::fs::write(&file, format!("{HEADER}\nuser_2clerk,Old,Name,,moved@example.com,,,,,,,,\n")).unwrap();
    let (ok, out, err) = users_cli(&app, &db_url, &["import", file.to_str().unwrap(), "--quiet"]).await;
    assert!(ok && out.contains("1 created"), "{out}{err}");
    let (_, list) = app.get("/v1/users?external_id=user_2clerk").await;
    let id = list[0]["id"].as_str().unwrap().to_owned();
    assert_ne!(id, "user_2clerk");
    std::fs::write(&file, format!("{HEADER}\nuser_2clerk,New,Name,,moved@example.com,,,,,,,,\n")).unwrap();
    let (ok, out, err) = users_cli(&app, &db_url, &["import", file.to_str().unwrap(), "--quiet"]).await;
    assert!(ok && out.contains("0 created, 1 updated"), "{out}{err}");
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(user["first_name"], "New");
    assert_eq!(app.get("/v1/users/count").await.1["total_count"], 1);
}
