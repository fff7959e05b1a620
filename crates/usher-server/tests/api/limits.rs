//! Rate limits shared by several nodes through a real Redis (`USHER_TEST_REDIS_URL`, default
//! `redis://127.0.0.1:6379`; `USHER_SKIP_REDIS=1` skips on purpose).

use reqwest::{StatusCode, header};
use serde_json::Value;
use usher_server::{config::Secret, ids};

use crate::helpers::{Db, TestApp, spawn_app_with};

fn redis_url() -> Option<String> {
    if std::env::var("USHER_SKIP_REDIS").is_ok_and(|v| v == "1") {
        return None;
    }
    Some(std::env::var("USHER_TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into()))
}

/// Two servers (own databases) sharing one Redis under a fresh key prefix.
async fn two_nodes(url: &str, backend_per_10s: u32) -> (TestApp, TestApp) {
    let prefix = format!("usher-test-{}", ids::random_base62(12));
    let node = || {
        let (url, prefix) = (url.to_owned(), prefix.clone());
        spawn_app_with(Db::Sqlite, move |c| {
            c.redis_url = Some(Secret::new(url));
            c.redis_prefix = prefix;
            c.backend_requests_per_10s = backend_per_10s;
        })
    };
    (node().await, node().await)
}

async fn create_sign_in(app: &TestApp) -> (StatusCode, Option<String>) {
    let response = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .form(&[("identifier", "someone@example.com")])
        .send()
        .await
        .unwrap();
    let retry = response.headers().get(header::RETRY_AFTER).map(|v| v.to_str().unwrap().to_owned());
    (response.status(), retry)
}

#[tokio::test]
async fn nodes_share_the_per_ip_limit() {
    let Some(url) = redis_url() else { return };
    let (a, b) = two_nodes(&url, 1000).await;
    for app in [&a, &b, &a, &b, &a] {
        assert_eq!(create_sign_in(app).await.0, StatusCode::OK);
    }
    let (status, retry) = create_sign_in(&b).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the sixth in 10 s, counted across both nodes");
    assert!(retry.unwrap().parse::<u64>().unwrap() >= 1);
}

#[tokio::test]
async fn nodes_share_the_backend_limit() {
    let Some(url) = redis_url() else { return };
    let (a, b) = two_nodes(&url, 4).await;
    for app in [&a, &b, &a, &b] {
        assert_eq!(app.get("/v1/users").await.0, StatusCode::OK);
    }
    let (status, body): (StatusCode, Value) = b.get("/v1/users").await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    // The JWKS stays unlimited.
    assert_eq!(a.get("/v1/jwks").await.0, StatusCode::OK);
}

#[tokio::test]
async fn when_redis_dies_each_node_keeps_limiting_on_its_own() {
    if redis_url().is_none() {
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut redis = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server must be installed (apt-get install redis-server)");
    let url = format!("redis://127.0.0.1:{port}");
    for _ in 0..100 {
        if redis::Client::open(url.as_str()).unwrap().get_multiplexed_async_connection().await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (a, _b) = two_nodes(&url, 1000).await;
    assert_eq!(create_sign_in(&a).await.0, StatusCode::OK);
    redis.kill().unwrap();
    redis.wait().unwrap();
    // Answers keep coming, and this node's own bucket still stops the sixth.
    for _ in 0..5 {
        assert_eq!(create_sign_in(&a).await.0, StatusCode::OK);
    }
    assert_eq!(create_sign_in(&a).await.0, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn an_unreachable_redis_is_a_clear_startup_error() {
    let db = crate::helpers::TestDb::new(Db::Sqlite).await;
    let secret = Secret::new(format!("sk_test_{}", ids::random_base62(40)));
    let mut config =
        usher_server::config::Config::new(std::net::SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), secret);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    config.redis_url = Some(Secret::new(format!("redis://127.0.0.1:{port}")));
    let error = usher_server::App::build(config).await.err().expect("refused");
    assert!(format!("{error:#}").contains("Redis"), "{error:#}");
}
