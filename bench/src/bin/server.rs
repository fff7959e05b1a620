//! The server's hot paths against their physical limits, all in one run: password sign-in
//! against Argon2id verification, token refresh (Frontend API) and minting (Backend API) against
//! raw RSA-2048 signing, minting with an active organization against without, a refresh's p99
//! during a sign-in storm against idle, the footprint, and Better Auth's email-and-password
//! sign-in and session check on the same PostgreSQL next to usher's.
//!
//! The server under test runs on the last core (`taskset`), the load generator on the others.
//! The limits are measured by this binary on the server's core with the same crates the server
//! uses (aws-lc-rs, argon2), Argon2id with as many threads as the server runs hashes at once
//! (one per core it may use). Each row is a warm-up, then two timed runs; the server's CPU time
//! per request (from `/proc/<pid>/stat`) stands next to each throughput. A request counts only
//! when it was answered as expected; a row with failures prints them instead of numbers.

use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, RsaKeyPair},
};
use serde_json::{Value, json};
use sqlx::{Connection as _, PgConnection};
use usher_bench::{
    Summary, load, ms, pin_this_thread, process_cpu, resident_bytes, split_cores, start_usher_on, thread_cpu, usher_bin,
};

const WARM_UP: Duration = Duration::from_secs(2);
const PHASE: Duration = Duration::from_secs(8);
const CONNECTIONS: usize = 8;
const PASSWORD: &str = "bench password 1";
/// The server gets one core; the load generator, PostgreSQL and Node's tools the others.
const SERVER_CORES: usize = 1;

/// One measured row: both timed runs with the server's CPU per answered request.
struct Row {
    label: String,
    runs: Vec<(Summary, Duration)>,
}

impl Row {
    fn last(&self) -> &(Summary, Duration) {
        self.runs.last().expect("two runs")
    }

    fn failed(&self) -> bool {
        self.runs.iter().any(|(s, _)| s.errors > 0 || s.done == 0)
    }

    fn per_second(&self) -> Option<f64> {
        (!self.failed()).then(|| self.last().0.per_second)
    }

    fn cpu(&self) -> Option<Duration> {
        (!self.failed()).then(|| self.last().1)
    }

    fn p99(&self) -> Option<Duration> {
        (!self.failed()).then(|| self.last().0.p99)
    }

    fn print(&self) {
        let runs: Vec<String> = self
            .runs
            .iter()
            .map(|(s, _)| {
                if s.errors > 0 || s.done == 0 {
                    format!("FAILED ({} errors, {} answered)", s.errors, s.done)
                } else {
                    format!("{:.0}", s.per_second)
                }
            })
            .collect();
        let (s, cpu) = self.last();
        println!(
            "| {} | {} | {:.1} | {} | {} | {} |",
            self.label,
            runs.join(" / "),
            cpu.as_secs_f64() * 1e6,
            ms(s.p50),
            ms(s.p99),
            self.runs.iter().map(|(s, _)| s.errors).sum::<usize>()
        );
    }
}

/// A warm-up, then two timed runs of `request` from `connections` loops against the server
/// process `pid`.
async fn measure<F, Fut>(label: &str, pid: u32, connections: usize, request: F) -> Row
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    load(connections, WARM_UP, usize::MAX, request.clone()).await;
    let mut runs = Vec::new();
    for run in 1..=2 {
        let before = process_cpu(pid);
        let summary = load(connections, PHASE, usize::MAX, request.clone()).await;
        let cpu = (process_cpu(pid) - before) / summary.done.max(1) as u32;
        eprintln!(
            "  {label}, run {run}: {:.0}/s, {:.1} µs server CPU per request, p99 {} ms, {} errors",
            summary.per_second,
            cpu.as_secs_f64() * 1e6,
            ms(summary.p99),
            summary.errors
        );
        runs.push((summary, cpu));
    }
    Row { label: label.to_owned(), runs }
}

/// Operations per second and CPU per operation of `op` on `threads` threads pinned to `cpus`,
/// twice for `PHASE` after a warm-up; the second run counts.
fn on_server_cores(cpus: &str, threads: usize, op: impl Fn() + Send + Sync + 'static) -> (f64, Duration) {
    let op = Arc::new(op);
    let mut result = (0.0, Duration::ZERO);
    for phase in [WARM_UP, PHASE, PHASE] {
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (op, cpus) = (op.clone(), cpus.to_owned());
                std::thread::spawn(move || {
                    pin_this_thread(&cpus);
                    let cpu = thread_cpu();
                    let mut n = 0u64;
                    while started.elapsed() < phase {
                        op();
                        n += 1;
                    }
                    (n, thread_cpu() - cpu)
                })
            })
            .collect();
        let (mut n, mut cpu) = (0, Duration::ZERO);
        for h in handles {
            let (k, c) = h.join().expect("thread");
            n += k;
            cpu += c;
        }
        result = (n as f64 / started.elapsed().as_secs_f64(), cpu / n.max(1) as u32);
    }
    result
}

fn main() {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let (server_cpus, load_cpus) = split_cores(SERVER_CORES);
    // Before the runtime starts, so that its threads inherit it.
    pin_this_thread(&load_cpus);
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime").block_on(run(
        server_cpus,
        load_cpus,
        cores,
    ));
}

/// A fresh PostgreSQL database, dropped again by [`Database::drop_now`].
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    async fn create(suffix: &str) -> Self {
        let admin = std::env::var("USHER_BENCH_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
        let name = format!("usher_bench_{suffix}_{}", std::process::id());
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
        let url = format!("{base}/{name}");
        let mut conn = PgConnection::connect(&admin).await.expect("PostgreSQL");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
        Self { admin, name, url }
    }

    async fn drop_now(self) {
        let mut conn = PgConnection::connect(&self.admin).await.expect("PostgreSQL");
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut conn)
            .await
            .expect("drop database");
    }
}

/// What one usher server measured.
struct UsherRows {
    sign_in: Row,
    refresh: Row,
    mint: Row,
    mint_org: Option<Row>,
    refresh_idle: Option<Row>,
    refresh_storm: Option<Row>,
    idle_rss: Option<u64>,
}

async fn run(server_cpus: String, load_cpus: String, cores: usize) {
    println!(
        "Server on core {server_cpus}, load generator on {load_cpus} ({cores} cores in all); PostgreSQL and Node's \
         helpers are not pinned. Each row: a 2 s warm-up, then two timed runs of 8 s (req/s of both shown; CPU, \
         p50 and p99 of the second). {CONNECTIONS} connections unless said."
    );
    println!();
    // The limits, on the server's core, by this binary's aws-lc-rs and argon2.
    let key = Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).expect("key"));
    let message = vec![b'x'; 520]; // a session token's signing input is about this long
    let (sign_per_second, sign_cpu) = on_server_cores(&server_cpus, SERVER_CORES, move || {
        let mut sig = vec![0; key.public_modulus_len()];
        key.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), &message, &mut sig).expect("sign");
    });
    let hash = {
        use argon2::{PasswordHasher as _, password_hash::SaltString};
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        argon2::Argon2::default().hash_password(PASSWORD.as_bytes(), &salt).expect("hash").to_string()
    };
    // As many at once as the server runs: one per core it may use.
    let (argon_per_second, argon_cpu) = on_server_cores(&server_cpus, SERVER_CORES, move || {
        use argon2::{PasswordHash, PasswordVerifier as _};
        let parsed = PasswordHash::new(&hash).expect("phc");
        argon2::Argon2::default().verify_password(PASSWORD.as_bytes(), &parsed).expect("verify");
    });

    let sqlite = usher_rows(&server_cpus, None).await;
    let db = Database::create("usher").await;
    let postgres = usher_rows(&server_cpus, Some(&db.url)).await;
    db.drop_now().await;
    let ba_db = Database::create("better_auth").await;
    let better_auth = better_auth_rows(&server_cpus, &ba_db.url).await;
    ba_db.drop_now().await;

    let stripped = stripped_binary_bytes();

    println!("| measure | per second (run 1 / run 2) | server CPU µs per request | p50 ms | p99 ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| raw RSA-2048 sign (aws-lc-rs, in-process, server core) | {sign_per_second:.0} | {:.1} | | | |",
        sign_cpu.as_secs_f64() * 1e6
    );
    println!(
        "| Argon2id verify (m=19456, t=2, p=1; in-process, {SERVER_CORES} at once on the server core) | {argon_per_second:.0} | {:.1} | | | |",
        argon_cpu.as_secs_f64() * 1e6
    );
    for (store, rows) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        for row in [&rows.sign_in, &rows.refresh, &rows.mint] {
            print_prefixed(store, row);
        }
        for row in [&rows.mint_org, &rows.refresh_idle, &rows.refresh_storm].into_iter().flatten() {
            print_prefixed(store, row);
        }
    }
    if let Some((sign_in, check)) = &better_auth {
        sign_in.print();
        check.print();
    }

    println!();
    let ratio = |n: Option<f64>, d: Option<f64>| match (n, d) {
        (Some(n), Some(d)) if d > 0.0 => format!("{:.2}", n / d),
        _ => "not measured (a row failed)".to_owned(),
    };
    // The same ratios by CPU time (the limit's CPU per operation ÷ the server's CPU per
    // request): on a machine shared with other work, req/s follows whatever else runs on the
    // server's core, CPU time per request much less.
    let by_cpu = |row: &Row, limit: Duration| match row.cpu() {
        Some(cpu) if cpu > Duration::ZERO => format!("{:.2}", limit.as_secs_f64() / cpu.as_secs_f64()),
        _ => "not measured (a row failed)".to_owned(),
    };
    for (store, rows) in [("SQLite", &sqlite), ("PostgreSQL", &postgres)] {
        println!(
            "- {store}: password sign-in ÷ Argon2id verify = {} by req/s, {} by CPU time (goal ≥ 0.90); \
             refresh ÷ raw sign = {} by req/s, {} by CPU time; mint ÷ raw sign = {} by req/s, {} by CPU time (goal ≥ 0.85)",
            ratio(rows.sign_in.per_second(), Some(argon_per_second)),
            by_cpu(&rows.sign_in, argon_cpu),
            ratio(rows.refresh.per_second(), Some(sign_per_second)),
            by_cpu(&rows.refresh, sign_cpu),
            ratio(rows.mint.per_second(), Some(sign_per_second)),
            by_cpu(&rows.mint, sign_cpu),
        );
    }
    if let (Some(org), Some(idle), Some(storm)) = (&sqlite.mint_org, &sqlite.refresh_idle, &sqlite.refresh_storm) {
        println!(
            "- SQLite: mint with an active organization ÷ without = {} by req/s, {} by CPU time (goal ≥ 0.90)",
            ratio(org.per_second(), sqlite.mint.per_second()),
            ratio(sqlite.mint.cpu().map(|d| d.as_secs_f64()), org.cpu().map(|d| d.as_secs_f64())),
        );
        println!(
            "- SQLite: refresh p99 during a sign-in storm ÷ idle p99 = {} (goal ≤ 2; {} ms ÷ {} ms)",
            ratio(storm.p99().map(|d| d.as_secs_f64()), idle.p99().map(|d| d.as_secs_f64())),
            storm.p99().map_or("-".into(), ms),
            idle.p99().map_or("-".into(), ms),
        );
    }
    if let Some(rss) = sqlite.idle_rss {
        println!(
            "- footprint: idle RSS {:.1} MB (SQLite, after start), stripped binary {:.1} MB (goal < 30 MB each)",
            rss as f64 / 1e6,
            stripped as f64 / 1e6
        );
    }
    if let Some((sign_in, check)) = &better_auth {
        let per_cpu = |ba: &Row, us: &Row| match (ba.cpu(), us.cpu()) {
            (Some(b), Some(u)) if u > Duration::ZERO => format!("{:.1}", b.as_secs_f64() / u.as_secs_f64()),
            _ => "not measured (a row failed)".to_owned(),
        };
        println!(
            "- usher ÷ Better Auth on the same PostgreSQL: password sign-in req/s {} (per core of server CPU {}); \
             usher's token refresh ÷ Better Auth's session check req/s {} (per core of server CPU {})",
            ratio(postgres.sign_in.per_second(), sign_in.per_second()),
            per_cpu(sign_in, &postgres.sign_in),
            ratio(postgres.refresh.per_second(), check.per_second()),
            per_cpu(check, &postgres.refresh),
        );
    }
}

fn print_prefixed(store: &str, row: &Row) {
    Row { label: format!("usher, {store}: {}", row.label), runs: row.runs.clone() }.print();
}

/// The release binary stripped of its symbols, in bytes (a copy is stripped, not the binary).
fn stripped_binary_bytes() -> u64 {
    let copy = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::copy(usher_bin(), copy.path()).expect("copy the binary");
    let status = Command::new("strip").arg(copy.path()).status().expect("strip");
    assert!(status.success(), "strip failed");
    std::fs::metadata(copy.path()).expect("size").len()
}

async fn usher_rows(server_cpus: &str, postgres: Option<&str>) -> UsherRows {
    let mut env = vec![("USHER_BACKEND_RATE_LIMIT", "0"), ("USHER_FAPI_RATE_LIMIT", "false")];
    if let Some(url) = postgres {
        env.push(("USHER_DATABASE_URL", url));
    }
    let usher = start_usher_on(Some(server_cpus), &env);
    std::thread::sleep(Duration::from_secs(1));
    let idle_rss = postgres.is_none().then(|| resident_bytes(usher.pid));
    let pid = usher.pid;
    let http = reqwest::Client::new();
    let bapi = |path: String, body: Value| {
        http.post(format!("{}{path}", usher.url)).bearer_auth(&usher.secret).json(&body).send()
    };

    // Minting without an organization (Backend API).
    let mint_url = format!("{}/v1/sessions/{}/tokens", usher.url, usher.session(&http).await);
    let (client, secret) = (http.clone(), usher.secret.clone());
    let mint_request = move |url: String| {
        let (client, secret) = (client.clone(), secret.clone());
        move || {
            let (client, url, secret) = (client.clone(), url.clone(), secret.clone());
            async move { client.post(&url).bearer_auth(&secret).send().await.is_ok_and(|r| r.status().is_success()) }
        }
    };
    let mint = measure("mint `POST /v1/sessions/{id}/tokens`", pid, CONNECTIONS, mint_request(mint_url)).await;

    // A browser's session for refreshes (signed in through the Frontend API, no organization).
    let (cookie, session) = usher.browser_session(&http).await;
    let refresh_url = format!("{}/v1/client/sessions/{session}/tokens", usher.url);
    let client = http.clone();
    let refresh_request = move || {
        let (client, url, cookie) = (client.clone(), refresh_url.clone(), cookie.clone());
        async move {
            let request = client.post(&url).header("cookie", cookie).header("origin", "http://localhost:3000");
            request.send().await.is_ok_and(|r| r.status().is_success())
        }
    };
    let refresh =
        measure("browser refresh `POST /v1/client/sessions/{id}/tokens`", pid, CONNECTIONS, refresh_request.clone())
            .await;

    // Password sign-ins of the same user, each from a new browser (no client yet).
    let (client, url) = (http.clone(), format!("{}/v1/client/sign_ins", usher.url));
    let sign_in_request = move || {
        let (client, url) = (client.clone(), url.clone());
        async move {
            let form = [("identifier", "browser@example.com"), ("password", PASSWORD), ("strategy", "password")];
            let Ok(response) = client.post(&url).form(&form).send().await else { return false };
            // Signed in: a 200 whose client has an active session.
            response.status().is_success()
                && response.json::<Value>().await.is_ok_and(|b| b["client"]["last_active_session_id"].is_string())
        }
    };
    let sign_in =
        measure("password sign-in `POST /v1/client/sign_ins`", pid, CONNECTIONS, sign_in_request.clone()).await;

    let (mut mint_org, mut refresh_idle, mut refresh_storm) = (None, None, None);
    if postgres.is_none() {
        // Minting with an active organization: a member's session made active in it.
        let (cookie, session) = usher.browser_session(&http).await;
        let s: Value = http
            .get(format!("{}/v1/sessions/{session}", usher.url))
            .bearer_auth(&usher.secret)
            .send()
            .await
            .expect("session")
            .json()
            .await
            .expect("session body");
        let org: Value = bapi("/v1/organizations".into(), json!({"name": "Bench Inc", "created_by": s["user_id"]}))
            .await
            .expect("organization")
            .json()
            .await
            .expect("organization body");
        let touched = http
            .post(format!("{}/v1/client/sessions/{session}/touch", usher.url))
            .header("cookie", &cookie)
            .header("origin", "http://localhost:3000")
            .form(&[("active_organization_id", org["id"].as_str().expect("org id"))])
            .send()
            .await
            .expect("touch");
        assert!(touched.status().is_success(), "touch with the organization: {}", touched.status());
        let url = format!("{}/v1/sessions/{session}/tokens", usher.url);
        let token: Value = http.post(&url).bearer_auth(&usher.secret).send().await.unwrap().json().await.unwrap();
        let payload = token["jwt"].as_str().and_then(|t| t.split('.').nth(1)).expect("a token");
        let claims: Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload).expect("b64"),
        )
        .expect("claims");
        assert!(claims["o"]["id"] == org["id"], "the token names the active organization: {claims}");
        mint_org = Some(measure("mint, active organization", pid, CONNECTIONS, mint_request(url)).await);

        // A refresh's latency alone and while sign-ins keep the hash pool busy.
        refresh_idle = Some(measure("refresh p99, idle (1 connection)", pid, 1, refresh_request.clone()).await);
        let storm = tokio::spawn(async move {
            load(CONNECTIONS, WARM_UP + PHASE * 2 + Duration::from_secs(1), usize::MAX, sign_in_request).await
        });
        refresh_storm =
            Some(measure("refresh p99 during a sign-in storm (1 connection)", pid, 1, refresh_request).await);
        let storm = storm.await.expect("storm");
        eprintln!("  sign-in storm: {:.0}/s, {} errors", storm.per_second, storm.errors);
    }
    UsherRows { sign_in, refresh, mint, mint_org, refresh_idle, refresh_storm, idle_rss }
}

/// Better Auth on `db`, on the server's core: email-and-password sign-in and a session check
/// (`GET /api/auth/get-session` with the session cookie). `None` (with a note) when Node or its
/// packages are missing.
async fn better_auth_rows(server_cpus: &str, db: &str) -> Option<(Row, Row)> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/node/better-auth.mjs");
    let spawned = Command::new("taskset")
        .args(["-c", server_cpus, "node", script])
        .env("DATABASE_URL", db)
        .env("BETTER_AUTH_SECRET", "bench-secret-0123456789abcdef0123456789")
        .env("BETTER_AUTH_TELEMETRY", "0")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn();
    let Ok(child) = spawned else {
        println!("Better Auth: node could not start (run `npm ci` in bench/node)");
        return None;
    };
    let mut node = NodeServer(child);
    let url = {
        use std::io::BufRead as _;
        let stdout = node.0.stdout.take().expect("stdout");
        let line = std::io::BufReader::new(stdout).lines().next()?.ok()?;
        line.strip_prefix("listening on ")?.to_owned()
    };
    let pid = node.0.id();
    let http = reqwest::Client::new();
    let origin = url.clone();
    let signed_up = http
        .post(format!("{url}/api/auth/sign-up/email"))
        .header("origin", &origin)
        .json(&json!({"email": "bench@example.com", "password": PASSWORD, "name": "Bench"}))
        .send()
        .await
        .ok()?;
    if !signed_up.status().is_success() {
        println!("Better Auth: sign-up failed with {}", signed_up.status());
        return None;
    }
    let (client, sign_in_url, o) = (http.clone(), format!("{url}/api/auth/sign-in/email"), origin.clone());
    let sign_in = move || {
        let (client, url, origin) = (client.clone(), sign_in_url.clone(), o.clone());
        async move {
            let body = json!({"email": "bench@example.com", "password": PASSWORD});
            let Ok(response) = client.post(&url).header("origin", origin).json(&body).send().await else {
                return false;
            };
            response.status().is_success()
                && response
                    .headers()
                    .get_all("set-cookie")
                    .iter()
                    .any(|c| c.as_bytes().starts_with(b"better-auth.session_token="))
        }
    };
    let signed_in = http
        .post(format!("{url}/api/auth/sign-in/email"))
        .header("origin", &origin)
        .json(&json!({"email": "bench@example.com", "password": PASSWORD}))
        .send()
        .await
        .ok()?;
    let cookie = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("better-auth.session_token="))
        .and_then(|v| v.split(';').next())?
        .to_owned();
    let sign_in_row = measure(
        "Better Auth 1.7.25, PostgreSQL: email sign-in `POST /api/auth/sign-in/email`",
        pid,
        CONNECTIONS,
        sign_in,
    )
    .await;
    let (client, check_url) = (http.clone(), format!("{url}/api/auth/get-session"));
    let check = move || {
        let (client, url, cookie) = (client.clone(), check_url.clone(), cookie.clone());
        async move {
            let Ok(response) = client.get(&url).header("cookie", cookie).send().await else { return false };
            response.status().is_success()
                && response.json::<Value>().await.is_ok_and(|b| b["session"]["id"].is_string())
        }
    };
    let check_row =
        measure("Better Auth 1.7.25, PostgreSQL: session check `GET /api/auth/get-session`", pid, CONNECTIONS, check)
            .await;
    Some((sign_in_row, check_row))
}

/// Node's server process, stopped on drop.
struct NodeServer(Child);

impl Drop for NodeServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
