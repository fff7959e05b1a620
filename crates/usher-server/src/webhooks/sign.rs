//! Svix signing: `whsec_…` secrets and the `svix-signature` header.

use aws_lc_rs::hmac;
use base64::{Engine as _, engine::general_purpose::STANDARD};

/// Random bytes in a new secret (Svix accepts 24 to 64).
const SECRET_BYTES: usize = 32;

/// A new `whsec_…` secret.
pub fn new_secret() -> String {
    let mut key = [0u8; SECRET_BYTES];
    aws_lc_rs::rand::fill(&mut key).expect("the system random source works");
    format!("whsec_{}", STANDARD.encode(key))
}

/// The HMAC key of a `whsec_…` secret; `None` if it is not one.
pub fn key(secret: &str) -> Option<Vec<u8>> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    (24..=64).contains(&key.len()).then_some(key)
}

/// `v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>`.
pub fn signature(key: &[u8], id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    let key = hmac::Key::new(hmac::HMAC_SHA256, key);
    let mut ctx = hmac::Context::with_key(&key);
    ctx.update(id.as_bytes());
    ctx.update(b".");
    ctx.update(timestamp_secs.to_string().as_bytes());
    ctx.update(b".");
    ctx.update(body);
    format!("v1,{}", STANDARD.encode(ctx.sign().as_ref()))
}

/// The `svix-signature` header: one signature per key, space-separated (two during a rotation).
pub fn header(keys: &[Vec<u8>], id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    keys.iter().map(|k| signature(k, id, timestamp_secs, body)).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification.
    #[test]
    fn matches_the_standard_webhooks_example() {
        let key = key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        assert_eq!(
            signature(&key, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn new_secrets_are_valid_and_differ() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert_eq!(key(&a).unwrap().len(), SECRET_BYTES);
        assert_eq!(key("whsec_c2hvcnQ="), None, "too short");
        assert_eq!(key("secret"), None);
    }
}
