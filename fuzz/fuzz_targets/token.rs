//! The SDK's session-token decode path (`Verifier::verify_at`): arbitrary bytes as a token, and
//! arbitrary header and payload JSON signed with the verifier's own key, so claim parsing past
//! the signature check is reached too. Any outcome but a panic is fine.
#![no_main]

use std::sync::LazyLock;

use aws_lc_rs::{
    encoding::AsDer,
    rand::SystemRandom,
    rsa::KeySize,
    signature::{KeyPair, RSA_PKCS1_SHA256, RsaKeyPair},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD as B64};
use libfuzzer_sys::fuzz_target;
use usher::Verifier;

struct Fixture {
    key: RsaKeyPair,
    verifier: Verifier,
    runtime: tokio::runtime::Runtime,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let key = RsaKeyPair::generate(KeySize::Rsa2048).expect("key");
    let der = key.public_key().as_der().expect("spki");
    let pem = pem::encode(&pem::Pem::new("PUBLIC KEY", der.as_ref().to_vec()));
    let verifier = Verifier::from_pem(&pem).expect("verifier").authorized_parties(vec!["https://app.test".into()]);
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    Fixture { key, verifier, runtime }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;
    let token = match data.split_first() {
        // Signed: header and payload split at the first 0xff byte.
        Some((0, rest)) => {
            let (header, payload) = match rest.iter().position(|&b| b == 0xff) {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (&b"{\"alg\":\"RS256\",\"typ\":\"JWT\"}"[..], rest),
            };
            let input = format!("{}.{}", B64.encode(header), B64.encode(payload));
            let mut signature = vec![0; f.key.public_modulus_len()];
            f.key.sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), input.as_bytes(), &mut signature).expect("sign");
            format!("{input}.{}", B64.encode(signature))
        }
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let _ = f.runtime.block_on(f.verifier.verify_at(&token, 1_700_000_000));
});
