//! A real usher server in this process (the server crate's `testing` helper), and a way to sign
//! arbitrary tokens with its key.

use std::ops::Deref;

use aws_lc_rs::{
    rand::SystemRandom,
    signature::{self, RsaEncoding, RsaKeyPair},
};
use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use usher::{Usher, UsherConfig};
use usher_server::config::Config;

/// The server's own test server, with the SDK-side helpers below.
pub struct TestServer(usher_server::testing::TestServer);

impl Deref for TestServer {
    type Target = usher_server::testing::TestServer;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

pub async fn start(adjust: impl FnOnce(&mut Config)) -> TestServer {
    TestServer(usher_server::testing::start(adjust).await)
}

impl TestServer {
    pub fn usher(&self, adjust: impl FnOnce(&mut UsherConfig)) -> Usher {
        let mut config = UsherConfig::new(&self.secret, &self.publishable, &self.url).unwrap();
        adjust(&mut config);
        Usher::new(config).unwrap()
    }

    /// A user with an active session: (user id, session id, session token).
    pub async fn signed_in(&self, usher: &Usher, email: &str) -> (String, String, String) {
        let params = usher::types::requests::CreateUser { email_address: vec![email.into()], ..Default::default() };
        let user = usher.client().users().create(&params).await.unwrap();
        let session = usher.client().sessions().create(&user.id).await.unwrap();
        let token = usher.client().sessions().token(&session.id, None).await.unwrap();
        (user.id, session.id, token)
    }

    /// The instance's current private key and kid, to forge tokens it would really sign.
    pub async fn instance_key(&self) -> (RsaKeyPair, String) {
        let record = self.state.store.signing_keys().await.unwrap().remove(0);
        // Stored sealed under the secret key, as the server keeps every private key.
        let sealer = usher_server::seal::Sealer::new(&self.secret, usher_server::tokens::keys::SEAL_PURPOSE);
        let der = sealer.open(&record.private_der).expect("the key opens with the instance secret key");
        (RsaKeyPair::from_pkcs8(&der).unwrap(), record.kid)
    }
}

pub fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

/// `header.claims.signature` signed with `key` under `encoding`.
pub fn sign(key: &RsaKeyPair, encoding: &'static dyn RsaEncoding, header: &Value, claims: &Value) -> String {
    let signed = format!("{}.{}", b64(header), b64(claims));
    let mut sig = vec![0; key.public_modulus_len()];
    key.sign(encoding, &SystemRandom::new(), signed.as_bytes(), &mut sig).unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(sig))
}

pub fn rs256(key: &RsaKeyPair, header: &Value, claims: &Value) -> String {
    sign(key, &signature::RSA_PKCS1_SHA256, header, claims)
}

/// The `kid` in a token's header.
pub fn kid_of(token: &str) -> String {
    let header: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').next().unwrap()).unwrap()).unwrap();
    header["kid"].as_str().unwrap().to_owned()
}
