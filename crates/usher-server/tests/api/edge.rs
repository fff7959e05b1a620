//! The connection edge: slow clients cannot hold the server, oversized bodies are refused
//! before they are read, and the client address behind a trusted proxy (issue 11, items 6, 7).
//!
//! The timeouts below are guards so that a server without the limit fails the test instead
//! of hanging it; none of them is a performance threshold.

use std::time::Duration;

use reqwest::StatusCode;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    time::timeout,
};
use usher_server::proxies::TrustedProxies;

use crate::helpers::{Db, TestApp, spawn_app_with};

const GUARD: Duration = Duration::from_secs(20);

fn addr(app: &TestApp) -> String {
    app.url.trim_start_matches("http://").to_owned()
}

/// A socket that sent the start of a request head and then nothing.
async fn stalled(app: &TestApp) -> TcpStream {
    let mut socket = TcpStream::connect(addr(app)).await.unwrap();
    socket.write_all(b"GET /healthz HTTP/1.1\r\nHost: usher\r\n").await.unwrap();
    socket
}

/// Reads until the server closes; `None` when it is still open at the guard.
async fn read_to_close(socket: &mut TcpStream) -> Option<Vec<u8>> {
    let mut seen = Vec::new();
    let read = timeout(GUARD, async {
        let mut buf = [0u8; 4096];
        loop {
            match socket.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| seen)
}

async fn healthz(app: &TestApp) -> StatusCode {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
    client.get(format!("{}/healthz", app.url)).send().await.unwrap().status()
}

#[tokio::test]
async fn stalled_connections_are_closed_and_a_normal_request_still_gets_through() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.header_read_timeout = Duration::from_secs(1);
        c.max_connections = 32;
        c.max_connections_per_ip = 10_000;
    })
    .await;
    // Twice the connection cap: the later ones wait in the backlog until the head deadline
    // frees slots.
    let mut sockets = stalled_many(&app, 64).await;
    assert_eq!(healthz(&app).await, StatusCode::OK);
    for (i, socket) in sockets.iter_mut().enumerate() {
        let answer = read_to_close(socket).await;
        assert!(answer.is_some(), "stalled connection {i} is still open");
    }
    assert_eq!(healthz(&app).await, StatusCode::OK);
}

#[tokio::test]
async fn connections_over_one_address_share_are_closed_at_once() {
    let app = spawn_app_with(Db::Sqlite, |c| c.max_connections_per_ip = 4).await;
    let held: Vec<TcpStream> = stalled_many(&app, 4).await;
    let mut extra = TcpStream::connect(addr(&app)).await.unwrap();
    // The write may already fail: the server closes the socket without reading it.
    let _ = extra.write_all(b"GET /healthz HTTP/1.1\r\nHost: usher\r\n\r\n").await;
    let answer = read_to_close(&mut extra).await.expect("the fifth connection is closed");
    assert!(answer.is_empty(), "no answer on a connection over the share: {:?}", String::from_utf8_lossy(&answer));
    drop(held);
    // The slots come back once the server sees the closes.
    let mut status = None;
    for _ in 0..200 {
        let client = reqwest::Client::new();
        if let Ok(r) = client.get(format!("{}/healthz", app.url)).send().await {
            status = Some(r.status());
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(status, Some(StatusCode::OK));
}

async fn stalled_many(app: &TestApp, n: usize) -> Vec<TcpStream> {
    let mut sockets = Vec::new();
    for _ in 0..n {
        sockets.push(stalled(app).await);
    }
    sockets
}

#[tokio::test]
async fn an_announced_oversized_body_is_refused_before_it_is_read() {
    let app = spawn_app_with(Db::Sqlite, |_| {}).await;
    let mut socket = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nHost: usher\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 999999999\r\n\r\n",
        app.secret
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut socket).await.expect("answered and closed without the body");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"errors\""), "Clerk's error body: {text}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_refused() {
    let app = spawn_app_with(Db::Sqlite, |c| c.body_read_timeout = Duration::from_secs(1)).await;
    let mut socket = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/users HTTP/1.1\r\nHost: usher\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\n\
         Content-Length: 100\r\n\r\n{{\"email",
        app.secret
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let answer = read_to_close(&mut socket).await.expect("the stalled body ends the request");
    let text = String::from_utf8_lossy(&answer);
    assert!(text.starts_with("HTTP/1.1 4"), "a client error, not the 30 s 503: {text}");
}

/// Five sign-ins from `forwarded_for`, then the sixth: 429 when they share one bucket.
async fn sixth_sign_in(app: &TestApp, first_five: &[&str], sixth: &str) -> StatusCode {
    let send = |xff: String| {
        app.http
            .post(format!("{}/v1/client/sign_ins", app.url))
            .header("x-forwarded-for", xff)
            .form(&[("identifier", "someone@example.com")])
            .send()
    };
    for xff in first_five {
        assert_eq!(send((*xff).to_owned()).await.unwrap().status(), StatusCode::OK);
    }
    send(sixth.to_owned()).await.unwrap().status()
}

#[tokio::test]
async fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.trusted_proxies = TrustedProxies::parse(&["10.0.0.0/8"]).unwrap();
    })
    .await;
    let spoofed = ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4", "198.51.100.5"];
    assert_eq!(sixth_sign_in(&app, &spoofed, "198.51.100.6").await, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_has_its_own_bucket() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.trusted_proxies = TrustedProxies::parse(&["127.0.0.0/8"]).unwrap();
    })
    .await;
    // What the client wrote left of its real address is forged and does not count.
    let five = ["1.1.1.1, 203.0.113.7", "2.2.2.2, 203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7"];
    assert_eq!(sixth_sign_in(&app, &five, "203.0.113.8").await, StatusCode::OK, "another client is not limited");
    let limited = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header("forwarded", "for=203.0.113.7")
        .form(&[("identifier", "someone@example.com")])
        .send()
        .await
        .unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "the same client through Forwarded");
}
