//! Secrets at rest: AES-256-GCM under a key derived from the instance secret key (which lives
//! in the configuration, never in the database). A database dump alone then yields neither the
//! signing keys nor the codes waiting in the mail outbox.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};

/// Marks sealed bytes (a DER key never starts with it: DER starts with 0x30).
const MAGIC: &[u8] = b"usher-sealed-v1:";

/// Seals and opens data for one purpose; each purpose has its own key.
pub struct Sealer {
    key: LessSafeKey,
}

impl Sealer {
    /// The sealer for `purpose` (`"outbox"`, `"signing keys"`) under an instance secret key.
    pub fn new(secret_key: &str, purpose: &str) -> Self {
        let material = crate::ids::sha256(format!("usher {purpose} v1\0{secret_key}").as_bytes());
        let key = UnboundKey::new(&AES_256_GCM, &material).expect("a 32-byte key");
        Self { key: LessSafeKey::new(key) }
    }

    /// `MAGIC`, a fresh nonce, the ciphertext and its tag.
    pub fn seal(&self, data: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        aws_lc_rs::rand::fill(&mut nonce).expect("the operating system's random source failed");
        let mut sealed = data.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::empty(), &mut sealed)
            .expect("sealing cannot fail for in-memory data");
        [MAGIC, &nonce, &sealed].concat()
    }

    /// The data of [`Sealer::seal`]'s output; `None` if it is not sealed, or not with this key.
    pub fn open(&self, sealed: &[u8]) -> Option<Vec<u8>> {
        let rest = sealed.strip_prefix(MAGIC)?;
        if rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, data) = rest.split_at(NONCE_LEN);
        let mut data = data.to_vec();
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        Some(self.key.open_in_place(nonce, Aad::empty(), &mut data).ok()?.to_vec())
    }

    /// Whether `data` is sealed (by some key).
    pub fn is_sealed(data: &[u8]) -> bool {
        data.starts_with(MAGIC)
    }

    /// [`Sealer::seal`] for text columns: base64 of the sealed bytes.
    pub fn seal_text(&self, text: &str) -> String {
        STANDARD_NO_PAD.encode(self.seal(text.as_bytes()))
    }

    /// The text of [`Sealer::seal_text`]'s output.
    pub fn open_text(&self, sealed: &str) -> Option<String> {
        String::from_utf8(self.open(&STANDARD_NO_PAD.decode(sealed).ok()?)?).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_data_opens_only_with_its_key_and_purpose_and_hides_its_text() {
        let sealer = Sealer::new("sk_test_one", "outbox");
        let sealed = sealer.seal_text("your code is 123456");
        assert!(!sealed.contains("123456"));
        assert_ne!(sealed, sealer.seal_text("your code is 123456"), "a fresh nonce each time");
        assert_eq!(sealer.open_text(&sealed).as_deref(), Some("your code is 123456"));
        assert_eq!(Sealer::new("sk_test_two", "outbox").open_text(&sealed), None);
        assert_eq!(Sealer::new("sk_test_one", "signing keys").open_text(&sealed), None);
        assert_eq!(sealer.open_text("AAAA"), None);
        assert_eq!(sealer.open(b"\x30\x82 plain DER"), None);
        assert!(Sealer::is_sealed(&sealer.seal(b"x")) && !Sealer::is_sealed(b"\x30\x82"));
    }
}
