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
use usher::{Auth, Usher, UsherConfig};
use usher_bench::{Summary, load, ms, start_usher};

const PHASE: Duration = Duration::from_secs(8);
const TOKENS: usize = 3000;

async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    addr
}

async fn hammer(addr: SocketAddr, token: &str) -> Summary {
    let (client, url, auth) = (reqwest::Client::new(), format!("http://{addr}/api/route"), format!("Bearer {token}"));
    let request = move || {
        let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
        async move { client.get(&url).header("authorization", auth).send().await.is_ok_and(|r| r.status().is_success()) }
    };
    load(8, Duration::from_secs(1), usize::MAX, request.clone()).await;
    load(8, PHASE, usize::MAX, request).await
}

#[tokio::main]
async fn main() {
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
    let publishable = server.publishable.clone();
    let config = UsherConfig::new(&server.secret, &publishable, &server.url).unwrap();
    let usher = Usher::new(config.clone()).unwrap();

    // One core: distinct tokens, so every verification does the full work.
    let fresh = Usher::new(config).unwrap();
    fresh.verifier().verify(&tokens[0]).await.unwrap();
    let started = std::time::Instant::now();
    for token in &tokens[1..] {
        fresh.verifier().verify(token).await.unwrap();
    }
    let rust_per_second = (tokens.len() - 1) as f64 / started.elapsed().as_secs_f64();

    let tokens_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(tokens_file.path(), tokens.join("\n")).unwrap();
    let node = std::process::Command::new("node")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/node/authenticate.mjs"))
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
    let bare = serve(Router::new().route("/api/route", get(handler))).await;
    let protected = serve(
        Router::new()
            .route("/api/route", get(|auth: Auth| async move { Json(json!({"userId": auth.user_id})) }))
            .layer(usher.layer()),
    )
    .await;
    let clerk = Clerk::new(
        clerk_rs::apis::configuration::Configuration::new(server.secret.clone())
            .with_base_path(format!("{}/v1", server.url)),
    );
    let clerk_rs_app = serve(Router::new().route("/api/route", get(handler)).layer(ClerkLayer::new(
        MemoryCacheJwksProvider::new(clerk),
        None,
        true,
    )))
    .await;
    let token = &tokens[1];
    let (b, p, c) = (hammer(bare, token).await, hammer(protected, token).await, hammer(clerk_rs_app, token).await);

    println!("| check | per second | p50 ms | p99 ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    println!("| usher `Verifier::verify`, distinct tokens, 1 core | {rust_per_second:.0} | | | |");
    println!("| `@clerk/backend` `authenticateRequest`, distinct tokens, Node (1 core) | {node_per_second:.0} | | | |");
    for (label, s) in
        [("bare route over HTTP", &b), ("usher `UsherLayer` + `Auth`", &p), ("clerk-rs 0.5 `ClerkLayer`", &c)]
    {
        println!("| {label}, 8 connections | {:.0} | {} | {} | {} |", s.per_second, ms(s.p50), ms(s.p99), s.errors);
    }
    println!();
    println!("usher verify / @clerk/backend authenticateRequest, per core = {:.1}", rust_per_second / node_per_second);
    println!(
        "protected / bare throughput = {:.2}; clerk-rs / bare = {:.2}",
        p.per_second / b.per_second,
        c.per_second / b.per_second
    );
}
