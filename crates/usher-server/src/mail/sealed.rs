//! Queued messages carry live codes, and a queue row outlives its delivery in database pages
//! and write-ahead logs. So bodies are queued sealed (AES-256-GCM under a key derived from the
//! instance secret key) and opened only on their way out: a database dump holds no code.

use std::sync::Arc;

use async_trait::async_trait;
use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};

use super::{Mail, MailError, Mailer};

/// Seals and opens queued message bodies.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// The sealer for an instance secret key.
    pub fn new(secret_key: &str) -> Self {
        let material = crate::ids::sha256(format!("usher outbox v1\0{secret_key}").as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, &material).expect("a 32-byte key");
        Self { key: LessSafeKey::new(key) }
    }

    /// `v1.<base64 of nonce and ciphertext>`.
    pub fn seal(&self, text: &str) -> String {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the operating system's random source failed");
        let mut data = text.as_bytes().to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut data)
            .expect("sealing cannot fail for in-memory data");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&data);
        format!("v1.{}", STANDARD_NO_PAD.encode(out))
    }

    /// The text of a sealed body; `None` if it was not sealed with this key.
    pub fn open(&self, sealed: &str) -> Option<String> {
        let bytes = STANDARD_NO_PAD.decode(sealed.strip_prefix("v1.")?).ok()?;
        if bytes.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = bytes.split_at(NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let text = self.key.open_in_place(nonce, Aad::empty(), &mut data).ok()?;
        String::from_utf8(text.to_vec()).ok()
    }
}

/// A [`Mailer`] that opens sealed bodies and hands the message to the real one.
pub struct OpeningMailer {
    /// Where messages go.
    pub inner: Arc<dyn Mailer>,
    /// The key they were sealed with.
    pub sealer: Arc<Sealer>,
}

#[async_trait]
impl Mailer for OpeningMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let Some(text) = self.sealer.open(&mail.text) else {
            // Sealed under another secret key (it was rotated): this can never be delivered.
            return Err(MailError::Permanent("the queued body cannot be opened with this secret key".into()));
        };
        self.inner.send(&Mail { text, ..mail.clone() }).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_bodies_open_only_with_their_key_and_hide_their_text() {
        let sealer = Sealer::new("sk_test_one");
        let sealed = sealer.seal("your code is 123456");
        assert!(!sealed.contains("123456"));
        assert_ne!(sealed, sealer.seal("your code is 123456"), "a fresh nonce each time");
        assert_eq!(sealer.open(&sealed).as_deref(), Some("your code is 123456"));
        assert_eq!(Sealer::new("sk_test_two").open(&sealed), None);
        assert_eq!(sealer.open("v1.AAAA"), None);
        assert_eq!(sealer.open("plain text"), None);
    }
}
