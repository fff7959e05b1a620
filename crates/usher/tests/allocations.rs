//! A regression guard for the SDK's hot path that does not time anything: it counts the heap
//! allocations of one verification, cold (a token never seen) and cached, with a counting
//! global allocator (`dhat`'s, hence a test binary of its own), and fails if they grow beyond today's.

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::{KeyPair, KeySize},
    signature::{KeyPair as _, RSA_PKCS1_SHA256},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::json;

#[global_allocator]
static GLOBAL: dhat::Alloc = dhat::Alloc;

/// Heap blocks allocated so far, on every thread (the test runs on one).
fn allocations() -> u64 {
    dhat::HeapStats::get().total_blocks
}

/// A session token like the server's, every claim set, signed with `key`.
fn token(key: &KeyPair, n: u32, now: i64) -> String {
    let header = json!({"alg": "RS256", "kid": "ins_key_1", "typ": "JWT", "cat": usher_types::token::CATEGORY_SESSION});
    let claims = json!({
        "azp": "http://localhost:3000", "exp": now + 600, "fva": [0, -1], "iat": now, "iss": "http://127.0.0.1:8787",
        "jti": format!("jti_{n}"), "nbf": now - 10, "sid": "sess_2dEfGhIjKlMnOpQrStUvWxYz", "sts": "active",
        "sub": "user_2abCdEfGhIjKlMnOpQrStUv", "v": 2,
    });
    let signing_input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; key.public_modulus_len()];
    key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), signing_input.as_bytes(), &mut signature).unwrap();
    format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test(flavor = "current_thread")]
async fn a_verification_allocates_no_more_than_today() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let key = KeyPair::generate(KeySize::Rsa2048).unwrap();
    let der = key.public_key().as_der().unwrap();
    let pem_text = pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()));
    let verifier =
        usher::Verifier::from_pem(&pem_text).unwrap().authorized_parties(vec!["http://localhost:3000".into()]);
    let now = usher::verify::now_secs_for_tests();
    let tokens: Vec<String> = (0..3).map(|n| token(&key, n, now)).collect();
    verifier.verify_at(&tokens[0], now).await.unwrap(); // first-use work (the cache's table)

    let before = allocations();
    let claims = verifier.verify_at(&tokens[1], now).await.unwrap();
    let cold = allocations() - before;
    assert_eq!(claims.user_id, "user_2abCdEfGhIjKlMnOpQrStUv");

    let before = allocations();
    verifier.verify_at(&tokens[1], now).await.unwrap();
    let cached = allocations() - before;

    // Today's figures (34 cold before the stack decoding); lower them when the path gets leaner.
    println!("allocations: cold {cold}, cached {cached}");
    assert!(cold <= COLD_MAX, "a cold verification now allocates {cold} times (was at most {COLD_MAX})");
    assert_eq!(cached, 0, "a cached verification now allocates {cached} times (it did not)");
}

const COLD_MAX: u64 = 31;
