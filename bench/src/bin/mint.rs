//! Token minting through `POST /v1/sessions/{id}/tokens` (Backend API) and through the browser's
//! refresh, `POST /v1/client/sessions/{id}/tokens` with a `__client` cookie (Frontend API), next
//! to the raw RSA-2048 signing rate of the same library (aws-lc-rs) measured in the same run.
//! The ratios say how close minting a token over HTTP comes to the cost of the one signature it
//! needs.

use std::time::{Duration, Instant};

use aws_lc_rs::{
    rand::SystemRandom,
    rsa::KeySize,
    signature::{self, RsaKeyPair},
};
use usher_bench::{load, ms, start_usher};

const PHASE: Duration = Duration::from_secs(10);

/// Signatures per second over `threads` threads for `PHASE`.
fn raw_sign_rate(threads: usize) -> f64 {
    let key = std::sync::Arc::new(RsaKeyPair::generate(KeySize::Rsa2048).expect("key"));
    let message = vec![b'x'; 400];
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (key, message) = (key.clone(), message.clone());
            std::thread::spawn(move || {
                let mut sig = vec![0; key.public_modulus_len()];
                let mut n = 0u64;
                while started.elapsed() < PHASE {
                    key.sign(&signature::RSA_PKCS1_SHA256, &SystemRandom::new(), &message, &mut sig).expect("sign");
                    n += 1;
                }
                n
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let one = raw_sign_rate(1);
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let all = raw_sign_rate(cores);

    let usher = start_usher(&[("USHER_BACKEND_RATE_LIMIT", "0"), ("USHER_FAPI_RATE_LIMIT", "0")]);
    let http = reqwest::Client::new();
    let url = format!("{}/v1/sessions/{}/tokens", usher.url, usher.session(&http).await);
    let (client, secret) = (http.clone(), usher.secret.clone());
    let mint = move || {
        let (client, url, secret) = (client.clone(), url.clone(), secret.clone());
        async move { client.post(&url).bearer_auth(&secret).send().await.is_ok_and(|r| r.status().is_success()) }
    };
    load(8, Duration::from_secs(2), usize::MAX, mint.clone()).await; // warm-up
    let minted = load(8, PHASE, usize::MAX, mint).await;

    let (cookie, session) = usher.browser_session(&http).await;
    let url = format!("{}/v1/client/sessions/{session}/tokens", usher.url);
    let client = http.clone();
    let refresh = move || {
        let (client, url, cookie) = (client.clone(), url.clone(), cookie.clone());
        async move {
            let request = client.post(&url).header("cookie", cookie).header("origin", "http://localhost:3000");
            request.send().await.is_ok_and(|r| r.status().is_success())
        }
    };
    load(8, Duration::from_secs(2), usize::MAX, refresh.clone()).await; // warm-up
    let refreshed = load(8, PHASE, usize::MAX, refresh).await;

    println!("| measure | per second | p50 ms | p99 ms |");
    println!("| --- | ---: | ---: | ---: |");
    println!("| raw RSA-2048 sign, 1 thread | {one:.0} | | |");
    println!("| raw RSA-2048 sign, {cores} threads | {all:.0} | | |");
    println!(
        "| `POST /v1/sessions/{{id}}/tokens`, 8 connections ({} errors) | {:.0} | {} | {} |",
        minted.errors,
        minted.per_second,
        ms(minted.p50),
        ms(minted.p99)
    );
    println!(
        "| browser refresh `POST /v1/client/sessions/{{id}}/tokens`, 8 connections ({} errors) | {:.0} | {} | {} |",
        refreshed.errors,
        refreshed.per_second,
        ms(refreshed.p50),
        ms(refreshed.p99)
    );
    println!();
    println!("minting over HTTP / raw signing on {cores} threads = {:.2}", minted.per_second / all);
    println!("browser refresh / raw signing on {cores} threads = {:.2}", refreshed.per_second / all);
    println!("(the load generator shares the {cores} cores with the server)");
}
