//! The SDK's cost: a protected route against the same route bare, the same check by Clerk's
//! `@clerk/backend` (`authenticateRequest`, Node, one core) and by `clerk-rs` 0.5's `ClerkLayer`,
//! all in one run against one usher server and its real tokens.

use std::{net::SocketAddr, time::Duration};

use axum::{Json, Router, routing::get};
use clerk_rs::{
    clerk::Clerk,
    validators::{axum::ClerkLayer, jwks::MemoryCacheJwksProvider},
};
use serde_json::{Value, json};
use usher::{RequireAuth, Usher, UsherConfig};
use usher_bench::{Summary, load, ms, start_usher};

const PHASE: Duration = Duration::from_secs(8);
/// More than the verifier's cache holds (10,000), so cycling through them keeps every one cold.
const TOKENS: usize = 12_000;

/// The apps under test run on one thread of their own (a current-thread runtime), pinned to
/// the last core while the load generator keeps to the others; its CPU time is read from
/// `/proc/self/task/<tid>/schedstat` (nanoseconds on the CPU), so a request's server cost is
/// measured apart from the client's.
struct ServerThread {
    tid: String,
    handle: tokio::runtime::Handle,
}

impl ServerThread {
    fn start() -> Self {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
            let tid = link.file_name().expect("tid").to_string_lossy().into_owned();
            tx.send((tid, rt.handle().clone())).expect("send");
            rt.block_on(std::future::pending::<()>());
        });
        let (tid, handle) = rx.recv().expect("server thread");
        let last = std::thread::available_parallelism().map_or(1, usize::from) - 1;
        pin(&tid, &last.to_string());
        if last > 0 {
            pin(&std::process::id().to_string(), &format!("0-{}", last - 1));
        }
        Self { tid, handle }
    }

    fn cpu(&self) -> Duration {
        let text = std::fs::read_to_string(format!("/proc/self/task/{}/schedstat", self.tid)).expect("schedstat");
        Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("cpu ns"))
    }

    async fn serve(&self, app: Router) -> SocketAddr {
        self.handle
            .spawn(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
                let addr = listener.local_addr().expect("addr");
                tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
                addr
            })
            .await
            .expect("serve")
    }
}

/// `taskset -p`: the only threads pinned are this process's, by their ids.
fn pin(id: &str, cpus: &str) {
    let status =
        std::process::Command::new("taskset").args(["-p", "-c", cpus, id]).stdout(std::process::Stdio::null()).status();
    assert!(status.is_ok_and(|s| s.success()), "taskset -p -c {cpus} {id}");
}

/// One row: throughput and the server thread's CPU per request, both of one timed run.
struct Row {
    summary: Summary,
    cpu_per_request: Duration,
}

/// A warm-up, then two timed runs; the second is reported (both are printed to stderr).
async fn hammer(server: &ServerThread, addr: SocketAddr, tokens: &[String], cookie: bool) -> Row {
    let client = reqwest::Client::new();
    let url = format!("http://{addr}/api/route");
    let tokens: std::sync::Arc<Vec<String>> = std::sync::Arc::new(tokens.to_vec());
    let next = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let request = move || {
        let (client, url, tokens, next) = (client.clone(), url.clone(), tokens.clone(), next.clone());
        async move {
            let token = &tokens[next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % tokens.len()];
            let request = if cookie {
                client.get(&url).header("cookie", format!("__client_uat=1; __session={token}"))
            } else {
                client.get(&url).header("authorization", format!("Bearer {token}"))
            };
            // Only a signed-in answer counts: the protected route answers 401 otherwise.
            request.send().await.is_ok_and(|r| r.status().is_success())
        }
    };
    load(8, Duration::from_secs(1), usize::MAX, request.clone()).await;
    let mut last = None;
    for run in 1..=2 {
        let cpu = server.cpu();
        let summary = load(8, PHASE, usize::MAX, request.clone()).await;
        let used = server.cpu() - cpu;
        let done = (summary.done as u32).max(1);
        eprintln!(
            "  run {run}: {:.0}/s, {:.1} µs server CPU per request, {} errors",
            summary.per_second,
            (used / done).as_secs_f64() * 1e6,
            summary.errors
        );
        last = Some(Row { summary, cpu_per_request: used / done });
    }
    last.expect("two runs")
}

/// CPU time of `f` run `n` times on the server's thread, per run.
async fn on_server_per_op(server: &ServerThread, n: u32, f: impl Fn(u32) + Send + 'static) -> Duration {
    let tid = server.tid.clone();
    server
        .handle
        .spawn(async move {
            let read = || {
                let text = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).expect("schedstat");
                text.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).expect("ns")
            };
            let before = read();
            for i in 0..n {
                f(i);
            }
            Duration::from_nanos(read() - before) / n
        })
        .await
        .expect("measure")
}

/// Polls a future that never waits (a verification with keys already loaded) to completion.
fn now_or_never<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    match f.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(out) => out,
        std::task::Poll::Pending => panic!("the verification waited"),
    }
}

fn main() {
    // Before the load generator's runtime exists, so that its threads inherit the pinning.
    let server_thread = ServerThread::start();
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime").block_on(run(server_thread));
}

async fn run(st: ServerThread) {
    let server = start_usher(&[("USHER_BACKEND_RATE_LIMIT", "0")]);
    let http = reqwest::Client::new();
    let post = |path: String, body: Value| {
        http.post(format!("{}{path}", server.url)).bearer_auth(&server.secret).json(&body).send()
    };
    let mint_path = format!("/v1/sessions/{}/tokens", server.session(&http).await);
    let mut tokens = Vec::with_capacity(TOKENS);
    for _ in 0..TOKENS {
        let token: Value =
            post(mint_path.clone(), json!({"expires_in_seconds": 900})).await.unwrap().json().await.unwrap();
        tokens.push(token["jwt"].as_str().unwrap().to_owned());
    }
    // The usher server is not needed for what follows (the keys are fetched once); stop its
    // CPU use from mixing in by leaving it idle.
    let publishable = server.publishable.clone();
    let config = UsherConfig::new(&server.secret, &publishable, &server.url).unwrap();
    let usher = Usher::new(config.clone()).unwrap();
    usher.verifier().verify(&tokens[0]).await.unwrap();

    // In-process limits, on the server's core: the raw RSA verify of a token's signature, and
    // the SDK's verifier on distinct tokens (every one cold).
    let jwks: Value = http
        .get(format!("{}/v1/jwks", server.url))
        .bearer_auth(&server.secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let b64 = |v: &Value| {
        base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, v.as_str().unwrap()).unwrap()
    };
    let der = aws_lc_rs::encoding::AsDer::<aws_lc_rs::encoding::PublicKeyX509Der<'_>>::as_der(
        &aws_lc_rs::rsa::PublicKeyComponents { n: b64(&jwks["keys"][0]["n"]), e: b64(&jwks["keys"][0]["e"]) },
    )
    .unwrap();
    let key =
        aws_lc_rs::signature::ParsedPublicKey::new(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256, der.as_ref())
            .unwrap();
    let (signed, signature) = tokens[1].rsplit_once('.').unwrap();
    let (signed, signature) = (signed.as_bytes().to_vec(), b64(&Value::String(signature.into())));
    let raw_verify = on_server_per_op(&st, 20_000, move |_| key.verify_sig(&signed, &signature).unwrap()).await;
    let fresh = Usher::new(config).unwrap();
    fresh.verifier().verify(&tokens[0]).await.unwrap(); // fetches the JWKS
    let cold_tokens = tokens.clone();
    let in_process_cold = on_server_per_op(&st, (TOKENS - 2) as u32, move |i| {
        now_or_never(fresh.verifier().verify(&cold_tokens[1 + i as usize])).unwrap();
    })
    .await;

    let tokens_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tokens_file.path(), tokens.join("\n")).unwrap();
    // Node on one core (the load generator's), the same tokens, every one cold.
    let node = std::process::Command::new("taskset")
        .args(["-c", "0", "node", concat!(env!("CARGO_MANIFEST_DIR"), "/node/authenticate.mjs")])
        .env("CLERK_API_URL", &server.url)
        .env("CLERK_SECRET_KEY", &server.secret)
        .env("PUBLIC_CLERK_PUBLISHABLE_KEY", &publishable)
        .env("TOKENS_FILE", tokens_file.path())
        .env("CLERK_TELEMETRY_DISABLED", "1")
        .output()
        .expect("node (run `npm ci` in bench/node first)");
    let stdout = String::from_utf8_lossy(&node.stdout);
    let node_out: Value = serde_json::from_str(stdout.lines().last().unwrap_or_default()).unwrap_or_else(|_| {
        panic!("node: {} {}", String::from_utf8_lossy(&node.stdout), String::from_utf8_lossy(&node.stderr))
    });
    let node_per_second = node_out["perSecond"].as_f64().unwrap();

    let handler = || async { Json(json!({"ok": true})) };
    let bare = st.serve(Router::new().route("/api/route", get(handler))).await;
    let protected = st
        .serve(
            Router::new()
                .route(
                    "/api/route",
                    get(|RequireAuth(auth): RequireAuth| async move { Json(json!({"userId": auth.user_id})) }),
                )
                .layer(usher.layer()),
        )
        .await;
    let clerk = Clerk::new(
        clerk_rs::apis::configuration::Configuration::new(server.secret.clone())
            .with_base_path(format!("{}/v1", server.url)),
    );
    let clerk_rs_app = st
        .serve(Router::new().route("/api/route", get(handler)).layer(ClerkLayer::new(
            MemoryCacheJwksProvider::new(clerk),
            None,
            true,
        )))
        .await;
    let one = &tokens[1..2];
    let cold = &tokens[1..];
    let rows = [
        ("bare route, one token in the header", hammer(&st, bare, one, false).await),
        ("usher `UsherLayer` + `RequireAuth`, token seen before, header", hammer(&st, protected, one, false).await),
        ("usher, token seen before, `__session` cookie", hammer(&st, protected, one, true).await),
        ("bare route, 12,000 distinct tokens", hammer(&st, bare, cold, false).await),
        ("usher, 12,000 distinct tokens (cold), header", hammer(&st, protected, cold, false).await),
        ("clerk-rs 0.5 `ClerkLayer`, token seen before", hammer(&st, clerk_rs_app, one, false).await),
    ];
    let us = |d: Duration| format!("{:.1}", d.as_secs_f64() * 1e6);

    println!("Server on its own core (one thread), load generator and Node on the other; a shared machine.");
    println!();
    println!("| check | per second | server CPU µs/request | p50 ms | p99 ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    println!(
        "| raw RSA-2048 verify (aws-lc-rs, in-process, server core) | {:.0} | {} | | | |",
        1.0 / raw_verify.as_secs_f64(),
        us(raw_verify)
    );
    println!(
        "| usher `Verifier::verify`, distinct tokens, in-process | {:.0} | {} | | | |",
        1.0 / in_process_cold.as_secs_f64(),
        us(in_process_cold)
    );
    println!(
        "| `@clerk/backend` `authenticateRequest`, distinct tokens, Node (1 core) | {node_per_second:.0} | {:.1} | | | |",
        1e6 / node_per_second
    );
    for (label, r) in &rows {
        let s = &r.summary;
        // A row with failures shows them, not a rate: refused requests are not fast answers.
        let rate = if s.errors > 0 || s.done == 0 {
            format!("FAILED ({} errors, {} answered)", s.errors, s.done)
        } else {
            format!("{:.0}", s.per_second)
        };
        println!(
            "| {label}, 8 connections | {rate} | {} | {} | {} | {} |",
            us(r.cpu_per_request),
            ms(s.p50),
            ms(s.p99),
            s.errors
        );
    }
    let (bare1, warm, warm_cookie, bare_cold, usher_cold, clerk_rs) =
        (&rows[0].1, &rows[1].1, &rows[2].1, &rows[3].1, &rows[4].1, &rows[5].1);
    let cold_budget = bare_cold.cpu_per_request + raw_verify.mul_f64(1.3);
    println!();
    if rows.iter().any(|(_, r)| r.summary.errors > 0 || r.summary.done == 0) {
        println!("A row failed: no ratio is computed from this run.");
        return;
    }
    println!(
        "protected ÷ bare req/s, token seen before: header {:.2}, cookie {:.2} (goal ≥ 0.90)",
        warm.summary.per_second / bare1.summary.per_second,
        warm_cookie.summary.per_second / bare1.summary.per_second
    );
    println!(
        "cold: server CPU per request {} µs vs bare {} µs + 1.3 × raw verify {} µs = {} µs: (usher − bare) ÷ raw verify = {:.2} (goal ≤ 1.3)",
        us(usher_cold.cpu_per_request),
        us(bare_cold.cpu_per_request),
        us(raw_verify),
        us(cold_budget),
        (usher_cold.cpu_per_request.as_secs_f64() - bare_cold.cpu_per_request.as_secs_f64()) / raw_verify.as_secs_f64()
    );
    println!(
        "usher cold over HTTP ÷ @clerk/backend authenticateRequest, per core (server CPU per request) = {:.1} (goal ≥ 10)",
        (1e6 / node_per_second) / (usher_cold.cpu_per_request.as_secs_f64() * 1e6)
    );
    println!("clerk-rs ÷ bare req/s = {:.2}", clerk_rs.summary.per_second / bare1.summary.per_second);
}
