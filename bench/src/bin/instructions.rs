//! Instruction counts per request of the hot paths, for `valgrind --tool=callgrind`: unlike
//! req/s or CPU time they do not move when other processes share the machine, so a change's
//! before and after can be compared on a loaded machine. Not a benchmark of its own: it runs
//! each path `n` times inside a function that `bench/instructions.sh` tells callgrind to count
//! (`--toggle-collect=*measured_*`), or drives a real `usher` process started under callgrind
//! with its instrumentation off until the measured requests (`callgrind_control -i on`).
//!
//! ```sh
//! ./bench/instructions.sh            # every row, as a Markdown table
//! ```
//!
//! Modes (the script runs them): `tokens DIR` writes a key and 12,000 distinct session tokens
//! like the server's (natively: signing under valgrind is slow); `raw-verify DIR n`,
//! `raw-sign DIR n`, `verify DIR n` (cold, after filling the verifier's cache so every insert
//! evicts), `bare DIR n` / `layer-cold DIR n` / `layer-cached DIR n` (a whole request through
//! the axum app in-process); `server refresh|mint n [database url]` (over HTTP against `$USHER_BIN`, which the
//! script points at a wrapper that starts `usher` under callgrind).

use std::{path::Path, time::Duration};

use aws_lc_rs::{
    encoding::{AsDer, Pkcs8V1Der},
    rand::SystemRandom,
    rsa::{KeyPair, KeySize},
    signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256, UnparsedPublicKey},
};
use axum::{
    Json, Router,
    body::Body,
    http::{Request, StatusCode},
    routing::get,
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;
use tower::ServiceExt as _;
use usher::{RequireAuth, Usher, UsherConfig, Verifier};

/// Distinct tokens written by `tokens`: more than the verifier's cache holds (10,000).
const TOKENS: usize = 12_000;
/// Tokens verified before the measured ones, so that the cache is full and every measured
/// insert also evicts (the steady state under a working set larger than the cache).
const FILL: usize = 10_000;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or_else(|| usage());
    let n = || arg(2).parse::<usize>().unwrap_or_else(|_| usage());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    match arg(0) {
        "tokens" => write_tokens(Path::new(arg(1))),
        "server" => {
            rt.block_on(server(arg(1), arg(2).parse().unwrap_or_else(|_| usage()), args.get(3).map(String::as_str)))
        }
        mode => {
            let set = Fixture::read(Path::new(arg(1)));
            let n = n();
            assert!(FILL + n <= set.tokens.len(), "at most {} measured", set.tokens.len() - FILL);
            match mode {
                "raw-verify" => raw_verify(&set, n),
                "raw-sign" => raw_sign(&set, n),
                "verify" => {
                    let verifier = Verifier::from_pem(&set.pem).unwrap().authorized_parties(vec![AZP.into()]);
                    for t in &set.tokens[..FILL] {
                        rt.block_on(verifier.verify(t)).unwrap();
                    }
                    measured_verify(&rt, &verifier, &set.tokens[FILL..FILL + n]);
                }
                "bare" | "layer-cold" | "layer-cached" => {
                    let app = if mode == "bare" { bare_app() } else { protected_app(&set.pem) };
                    // Fill the cache (and the apps' first-use work) outside the count.
                    for t in &set.tokens[..FILL] {
                        rt.block_on(request(&app, t));
                    }
                    let measured = &set.tokens[FILL..FILL + n];
                    if mode == "layer-cached" {
                        for t in measured {
                            rt.block_on(request(&app, t));
                        }
                    }
                    measured_requests(&rt, &app, measured);
                }
                _ => usage(),
            }
        }
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: instructions tokens DIR | (raw-verify|raw-sign|verify|bare|layer-cold|layer-cached) DIR n | server (refresh|mint) n [database url]"
    );
    std::process::exit(2)
}

const AZP: &str = "http://localhost:3000";

struct Fixture {
    pem: String,
    key: KeyPair,
    tokens: Vec<String>,
}

impl Fixture {
    fn read(dir: &Path) -> Self {
        let read =
            |name: &str| std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e} (run `tokens` first)"));
        let key = KeyPair::from_pkcs8(&read("key.pk8")).expect("key.pk8");
        let pem = String::from_utf8(read("public.pem")).expect("public.pem");
        let tokens = String::from_utf8(read("tokens")).expect("tokens").lines().map(str::to_owned).collect();
        Self { pem, key, tokens }
    }
}

/// A session token with every claim the server sets, signed with `key`.
fn token(key: &KeyPair, n: usize, now: u64) -> String {
    let header = json!({"alg": "RS256", "kid": "ins_key_1", "typ": "JWT", "cat": usher_types::token::CATEGORY_SESSION});
    let claims = json!({
        "azp": AZP, "exp": now + 86_400, "fva": [0, -1], "iat": now, "iss": "http://127.0.0.1:8787",
        "jti": format!("{n:020x}"), "nbf": now - 10, "sid": "sess_2dEfGhIjKlMnOpQrStUvWxYz", "sts": "active",
        "sub": "user_2abCdEfGhIjKlMnOpQrStUv", "v": 2,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature).unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn write_tokens(dir: &Path) {
    std::fs::create_dir_all(dir).expect("dir");
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let pk8: Pkcs8V1Der<'_> = key.as_der().unwrap();
    let der = key.public_key().as_der().unwrap();
    let pem_text = pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()));
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let tokens: Vec<String> = (0..TOKENS).map(|n| token(&key, n, now)).collect();
    std::fs::write(dir.join("key.pk8"), pk8.as_ref()).unwrap();
    std::fs::write(dir.join("public.pem"), pem_text).unwrap();
    std::fs::write(dir.join("tokens"), tokens.join("\n")).unwrap();
}

/// Prepares the inputs outside the counted frame, `measured_raw_verify`.
fn raw_verify(set: &Fixture, n: usize) {
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, set.key.public_key().as_ref().to_vec());
    let public = public.parse().expect("public key");
    let pieces: Vec<(Vec<u8>, Vec<u8>)> = set.tokens[FILL..FILL + n]
        .iter()
        .map(|t| {
            let (signed, s) = t.rsplit_once('.').unwrap();
            (signed.as_bytes().to_vec(), URL_SAFE_NO_PAD.decode(s).unwrap())
        })
        .collect();
    public.verify_sig(&pieces[0].0, &pieces[0].1).unwrap(); // first-use work, as in a running server
    measured_raw_verify(&public, &pieces);
}

#[inline(never)]
fn measured_raw_verify(public: &aws_lc_rs::signature::ParsedPublicKey, pieces: &[(Vec<u8>, Vec<u8>)]) {
    for (signed, signature) in pieces {
        public.verify_sig(signed, signature).unwrap();
    }
}

/// Signs once outside the counted frame: aws-lc's first signature with a key does one-time
/// work (about 60 signatures' worth of instructions) that a running server has long done.
fn raw_sign(set: &Fixture, n: usize) {
    let inputs: Vec<&[u8]> =
        set.tokens[FILL..FILL + n].iter().map(|t| t.rsplit_once('.').unwrap().0.as_bytes()).collect();
    let rng = SystemRandom::new();
    let mut signature = vec![0; set.key.public_modulus_len()];
    set.key.sign(&RSA_PKCS1_SHA256, &rng, inputs[0], &mut signature).unwrap();
    measured_raw_sign(&set.key, &rng, &inputs, &mut signature);
}

#[inline(never)]
fn measured_raw_sign(key: &KeyPair, rng: &SystemRandom, inputs: &[&[u8]], signature: &mut [u8]) {
    for signed in inputs {
        key.sign(&RSA_PKCS1_SHA256, rng, signed, signature).unwrap();
    }
}

#[inline(never)]
fn measured_verify(rt: &tokio::runtime::Runtime, verifier: &Verifier, tokens: &[String]) {
    for t in tokens {
        let claims = rt.block_on(verifier.verify(t)).unwrap();
        assert_eq!(claims.user_id, "user_2abCdEfGhIjKlMnOpQrStUv");
    }
}

#[inline(never)]
fn measured_requests(rt: &tokio::runtime::Runtime, app: &Router, tokens: &[String]) {
    for t in tokens {
        rt.block_on(request(app, t));
    }
}

async fn request(app: &Router, token: &str) {
    let request = Request::get("/api/route").header("authorization", format!("Bearer {token}")).body(Body::empty());
    let response = app.clone().oneshot(request.unwrap()).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
    assert!(!body.is_empty());
}

/// The `sdk` bench's two apps: the same JSON route bare and behind `UsherLayer` + `RequireAuth`.
fn bare_app() -> Router {
    Router::new().route("/api/route", get(|| async { Json(json!({"ok": true})) }))
}

fn protected_app(pem: &str) -> Router {
    let mut config = UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787").unwrap();
    config.jwt_key = Some(pem.to_owned());
    config.authorized_parties = vec![AZP.into()];
    let usher = Usher::new(config).unwrap();
    Router::new()
        .route("/api/route", get(|RequireAuth(auth): RequireAuth| async move { Json(json!({"userId": auth.user_id})) }))
        .layer(usher.layer())
}

/// Drives a real server (started by `$USHER_BIN`, under callgrind with instrumentation off):
/// sets up a session, warms the path up, then turns callgrind's instrumentation on for `n`
/// sequential requests and dumps the counts (`callgrind_control`); the script divides by `n`.
async fn server(path: &str, n: usize, database_url: Option<&str>) {
    let mut env = vec![("USHER_BACKEND_RATE_LIMIT", "0"), ("USHER_FAPI_RATE_LIMIT", "false")];
    if let Some(url) = database_url {
        env.push(("USHER_DATABASE_URL", url));
    }
    let usher = usher_bench::start_usher(&env);
    let http = reqwest::Client::builder().timeout(Duration::from_secs(600)).build().unwrap();
    let request: Box<dyn Fn() -> reqwest::RequestBuilder> = match path {
        "mint" => {
            let url = format!("{}/v1/sessions/{}/tokens", usher.url, usher.session(&http).await);
            let (http, secret) = (http.clone(), usher.secret.clone());
            Box::new(move || http.post(&url).bearer_auth(&secret))
        }
        "refresh" => {
            let (cookie, session) = usher.browser_session(&http).await;
            let url = format!("{}/v1/client/sessions/{session}/tokens", usher.url);
            let http = http.clone();
            Box::new(move || http.post(&url).header("cookie", &cookie).header("origin", AZP))
        }
        _ => usage(),
    };
    let send = async || {
        let response = request().send().await.expect("request");
        assert!(response.status().is_success(), "{}", response.status());
        response.bytes().await.expect("body");
    };
    for _ in 0..20 {
        send().await;
    }
    callgrind_control("-i", "on", usher.pid);
    for _ in 0..n {
        send().await;
    }
    callgrind_control("-d", "measured", usher.pid);
    callgrind_control("-i", "off", usher.pid);
}

fn callgrind_control(flag: &str, value: &str, pid: u32) {
    let status = std::process::Command::new("callgrind_control")
        .args([flag, value, &pid.to_string()])
        .stdout(std::process::Stdio::null())
        .status()
        .expect("callgrind_control (valgrind installed?)");
    assert!(status.success(), "callgrind_control {flag} {value} {pid}");
}
