//! The instance's signing keys.

use async_trait::async_trait;

use super::StoreResult;

/// An instance signing key (RSA-2048, e=65537).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SigningKeyRecord {
    /// Key id, `ins_…`-style, shown as `kid`.
    pub kid: String,
    /// PKCS#8 DER of the private key.
    pub private_der: Vec<u8>,
    /// Creation time.
    pub created_at: i64,
    /// From when it signs (it is published before that).
    pub activates_at: i64,
    /// When a newer key replaced it.
    pub retired_at: Option<i64>,
    /// Until when its public half stays in the JWKS.
    pub publish_until: Option<i64>,
    /// The longest lifetime, in seconds, of any token it signed.
    pub max_lifetime: i64,
}

/// Signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// All signing keys, newest first.
    async fn signing_keys(&self) -> StoreResult<Vec<SigningKeyRecord>>;
    /// Inserts `key` only if there is no signing key yet (first start).
    async fn insert_first_signing_key(&self, key: &SigningKeyRecord) -> StoreResult<()>;
    /// Retires every current key at `key.activates_at`, keeping each published for
    /// `publish_margin_ms` past its longest token lifetime, and adds `key`; atomically.
    async fn rotate_signing_key(&self, key: &SigningKeyRecord, publish_margin_ms: i64) -> StoreResult<()>;
    /// Replaces a key's stored private key with its sealed form.
    async fn seal_signing_key(&self, kid: &str, sealed: &[u8]) -> StoreResult<()>;
    /// Raises a key's recorded longest token lifetime to `seconds` if that is longer.
    async fn record_key_lifetime(&self, kid: &str, seconds: i64) -> StoreResult<()>;
}
