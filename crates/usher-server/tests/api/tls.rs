//! HTTPS on usher's own listener (`tls_cert`/`tls_key`) with certificates made at test time, and
//! the cookies of the direct, cross-site Frontend API it enables: `__client` is
//! `SameSite=None; Secure` only for a cross-site page reaching an https usher directly, and such a
//! cookie still cannot write from an origin that is not allowed.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use reqwest::{StatusCode, header};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt as _, AsyncWriteExt as _},
    net::TcpStream,
    time::timeout,
};
use usher_server::{
    App,
    config::{Config, Secret},
    tls::TlsFiles,
};

use crate::{
    frontend::{ORIGIN, PASSWORD},
    helpers::{Db, TestApp, TestDb, spawn_app_with},
};

const GUARD: Duration = Duration::from_secs(20);
const EVIL: &str = "https://evil.example";

/// A self-signed certificate for 127.0.0.1 and localhost in a temporary directory.
struct Certificate {
    dir: tempfile::TempDir,
    pem: String,
}

impl Certificate {
    fn new() -> Self {
        let key = rcgen::KeyPair::generate().unwrap();
        let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()]).unwrap();
        let cert = params.self_signed(&key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.path().join("key.pem"), key.serialize_pem()).unwrap();
        Self { dir, pem: cert.pem() }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn files(&self) -> TlsFiles {
        TlsFiles { cert: self.path("cert.pem"), key: self.path("key.pem") }
    }

    /// A client that trusts this certificate (and nothing else of the test's making).
    fn client(&self) -> reqwest::Client {
        reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap()
    }
}

/// A server on https, its `url` and `http` pointing at it.
async fn https_app(cert: &Certificate, adjust: impl FnOnce(&mut Config)) -> TestApp {
    let files = cert.files();
    let mut app = spawn_app_with(Db::Sqlite, |c| {
        c.tls = Some(files);
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
        adjust(c);
    })
    .await;
    app.url = app.state.issuer.clone();
    app.http = cert.client();
    app
}

fn set_cookies(response: &reqwest::Response) -> Vec<String> {
    response.headers().get_all(header::SET_COOKIE).iter().map(|v| v.to_str().unwrap().to_owned()).collect()
}

fn client_cookie(response: &reqwest::Response) -> String {
    set_cookies(response).into_iter().find(|c| c.starts_with("__client=")).expect("a __client cookie")
}

/// The `name=value` part of a `Set-Cookie`.
fn pair(cookie: &str) -> &str {
    cookie.split(';').next().unwrap()
}

/// A password sign-in from `origin` with the given `Sec-Fetch-Site`.
async fn sign_in(app: &TestApp, email: &str, origin: &str, fetch_site: &str) -> reqwest::Response {
    app.http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, origin)
        .header("sec-fetch-site", fetch_site)
        .form(&[("identifier", email), ("password", PASSWORD)])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn https_is_served_with_the_certificate_and_the_keys_and_urls_say_https() {
    let cert = Certificate::new();
    let app = https_app(&cert, |_| {}).await;
    let port = app.state.issuer.rsplit(':').next().unwrap().to_owned();
    assert_eq!(app.state.issuer, format!("https://127.0.0.1:{port}"));
    let pk = app.state.publishable_key.strip_prefix("pk_test_").unwrap();
    use base64::Engine as _;
    let host = base64::engine::general_purpose::STANDARD_NO_PAD.decode(pk).unwrap();
    assert_eq!(String::from_utf8(host).unwrap(), format!("127.0.0.1:{port}$"), "clerk-js builds https://<this>");
    let env = app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap();
    assert_eq!(env.status(), StatusCode::OK);
    assert!(env.headers().contains_key(header::STRICT_TRANSPORT_SECURITY), "https answers carry HSTS");
    let env: Value = env.json().await.unwrap();
    assert_eq!(env["display_config"]["sign_in_url"].as_str().map(|u| u.starts_with("https://")), Some(true), "{env}");
    // The same port does not speak plain HTTP.
    let plain = reqwest::Client::new().get(format!("http://127.0.0.1:{port}/healthz")).send().await;
    assert!(plain.is_err(), "plain HTTP got an answer: {plain:?}");
    // A client that does not trust the certificate refuses the connection.
    assert!(reqwest::Client::new().get(format!("{}/healthz", app.url)).send().await.is_err());
}

#[tokio::test]
async fn a_stalled_handshake_is_closed_and_others_are_still_served() {
    let cert = Certificate::new();
    let app = https_app(&cert, |c| c.header_read_timeout = Duration::from_secs(1)).await;
    let addr = app.url.trim_start_matches("https://").to_owned();
    // A TLS record header promising a ClientHello that never comes.
    let mut socket = TcpStream::connect(&addr).await.unwrap();
    socket.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
    let closed = timeout(GUARD, async {
        let mut buf = [0u8; 1024];
        while !matches!(socket.read(&mut buf).await, Ok(0) | Err(_)) {}
    })
    .await;
    assert!(closed.is_ok(), "a handshake that never finishes keeps its connection");
    let status = app.http.get(format!("{}/healthz", app.url)).send().await.unwrap().status();
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn shutdown_lets_an_https_server_finish() {
    let cert = Certificate::new();
    let db = TestDb::new(Db::Sqlite).await;
    let secret = Secret::new(format!("sk_test_{}", usher_server::ids::random_base62(40)));
    let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), secret);
    config.tls = Some(cert.files());
    let app = App::build(config).await.unwrap();
    assert!(app.is_tls());
    let url = app.state().issuer.clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(app.run(async move {
        let _ = stopped.await;
    }));
    let http = cert.client();
    assert_eq!(http.get(format!("{url}/healthz")).send().await.unwrap().status(), StatusCode::OK);
    stop.send(()).unwrap();
    let finished = timeout(GUARD, running).await.expect("the server stops").unwrap();
    assert!(finished.is_ok(), "{finished:?}");
    assert!(http.get(format!("{url}/healthz")).send().await.is_err(), "nothing listens after shutdown");
}

#[tokio::test]
async fn unusable_certificate_files_stop_the_start_with_the_file_named() {
    let cert = Certificate::new();
    let other = Certificate::new();
    let db = TestDb::new(Db::Sqlite).await;
    let secret = Secret::new(format!("sk_test_{}", usher_server::ids::random_base62(40)));
    let build = async |files: TlsFiles| {
        let mut config = Config::new(SocketAddr::from(([127, 0, 0, 1], 0)), db.database(), secret.clone());
        config.tls = Some(files);
        format!("{:#}", App::build(config).await.err().expect("refused"))
    };
    let missing = build(TlsFiles { cert: cert.path("nope.pem"), key: cert.path("key.pem") }).await;
    assert!(missing.contains("nope.pem"), "{missing}");
    let swapped = build(TlsFiles { cert: cert.path("key.pem"), key: cert.path("cert.pem") }).await;
    assert!(swapped.contains("key.pem") && swapped.contains("CERTIFICATE"), "{swapped}");
    let mismatched = build(TlsFiles { cert: cert.path("cert.pem"), key: other.path("key.pem") }).await;
    assert!(mismatched.contains("does not go with the certificate"), "{mismatched}");
}

#[tokio::test]
async fn the_client_cookie_is_same_site_none_only_for_a_cross_site_page_on_https() {
    let cert = Certificate::new();
    let app = https_app(&cert, |_| {}).await;
    app.create_user("cross@example.com").await;
    // clerk-js on another site calling usher directly.
    let cross = client_cookie(&sign_in(&app, "cross@example.com", ORIGIN, "cross-site").await);
    for attribute in ["; HttpOnly", "; SameSite=None", "; Secure"] {
        assert!(cross.contains(attribute), "{cross}");
    }
    assert!(!cross.contains("Lax"), "{cross}");
    // A same-site page (the hosted pages, usher.js on a sibling subdomain) keeps Lax.
    let same = client_cookie(&sign_in(&app, "cross@example.com", &app.url, "same-site").await);
    assert!(same.contains("; SameSite=Lax") && same.contains("; Secure"), "{same}");
    // Through the app's proxy the cookie lands on the app's origin: Lax, whatever the header says.
    let proxied = app
        .http
        .post(format!("{}/v1/client/sign_ins", app.url))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .header("clerk-proxy-url", format!("{ORIGIN}/clerk"))
        .header("clerk-secret-key", &app.secret)
        .form(&[("identifier", "cross@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(proxied.status(), StatusCode::OK);
    let proxied = client_cookie(&proxied);
    assert!(proxied.contains("; SameSite=Lax") && !proxied.contains("None"), "{proxied}");

    // Plain http cannot carry a SameSite=None cookie (browsers want Secure): Lax stays.
    let plain = crate::frontend::app().await;
    plain.create_user("plain@example.com").await;
    let response = plain
        .http
        .post(format!("{}/v1/client/sign_ins", plain.url))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .form(&[("identifier", "plain@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    let plain_cookie = client_cookie(&response);
    assert!(plain_cookie.contains("; SameSite=Lax") && !plain_cookie.contains("Secure"), "{plain_cookie}");
}

#[tokio::test]
async fn a_cross_site_cookie_cannot_write_or_mint_tokens_from_an_origin_that_is_not_allowed() {
    let cert = Certificate::new();
    let app = https_app(&cert, |_| {}).await;
    app.create_user("victim@example.com").await;
    let signed_in = sign_in(&app, "victim@example.com", ORIGIN, "cross-site").await;
    let cookie = pair(&client_cookie(&signed_in)).to_owned();
    let body: Value = signed_in.json().await.unwrap();
    let session = body["client"]["last_active_session_id"].as_str().unwrap().to_owned();
    // What another site's page can make the browser send: the cookie (SameSite=None), its own
    // Origin (or `null` from a sandboxed frame), form bodies.
    let attacks = [
        ("/v1/me?_method=PATCH".to_owned(), vec![("last_name", "Pwned")]),
        (format!("/v1/client/sessions/{session}/tokens"), vec![]),
        (format!("/v1/client/sessions/{session}/end"), vec![]),
        ("/v1/me/change_password".to_owned(), vec![("current_password", PASSWORD), ("new_password", "owned by evil")]),
        ("/v1/client/sign_ins".to_owned(), vec![("identifier", "victim@example.com"), ("password", PASSWORD)]),
    ];
    for origin in [EVIL, "null", "http://localhost.evil.example"] {
        for (path, form) in &attacks {
            let response = app
                .http
                .post(format!("{}{path}", app.url))
                .header(header::ORIGIN, origin)
                .header("sec-fetch-site", "cross-site")
                .header(header::COOKIE, &cookie)
                .form(form)
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), StatusCode::FORBIDDEN, "{origin} {path}");
            assert!(response.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{origin} {path}");
            assert!(set_cookies(&response).is_empty(), "{origin} {path}: no cookies for a refused write");
            let body: Value = response.json().await.unwrap();
            assert_eq!(body["errors"][0]["code"], "origin_invalid", "{origin} {path}: {body}");
        }
        // A read carries the cookie too, but the browser shows the answer to no foreign page.
        let read = app
            .http
            .get(format!("{}/v1/client", app.url))
            .header(header::ORIGIN, origin)
            .header(header::COOKIE, &cookie)
            .send()
            .await
            .unwrap();
        assert!(read.headers().get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(), "{origin}");
        let preflight = app
            .http
            .request(reqwest::Method::OPTIONS, format!("{}/v1/me", app.url))
            .header(header::ORIGIN, origin)
            .header("access-control-request-method", "PATCH")
            .send()
            .await
            .unwrap();
        assert_eq!(preflight.status(), StatusCode::FORBIDDEN, "{origin}");
    }
    // Nothing happened: the allowed origin still sees the session and the old name.
    let me = app
        .http
        .get(format!("{}/v1/me", app.url))
        .header(header::ORIGIN, ORIGIN)
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(me.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], ORIGIN);
    assert_eq!(me.headers()[header::ACCESS_CONTROL_ALLOW_CREDENTIALS], "true");
    let me: Value = me.json().await.unwrap();
    assert_ne!(me["response"]["last_name"], "Pwned", "{me}");
    let token = app
        .http
        .post(format!("{}/v1/client/sessions/{session}/tokens", app.url))
        .header(header::ORIGIN, ORIGIN)
        .header("sec-fetch-site", "cross-site")
        .header(header::COOKIE, &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(token.status(), StatusCode::OK, "the session was not ended");
}
