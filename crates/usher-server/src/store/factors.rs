//! Second factors of a user: an authenticator app (TOTP) and backup codes.
//!
//! The TOTP secret is stored sealed ([`crate::seal`]) and backup codes hashed; this layer only
//! keeps what it is given. Single use is enforced here, in one statement each: a TOTP step is
//! accepted only if it is newer than the last one accepted, and a backup code is deleted by its use.

use async_trait::async_trait;

use super::StoreResult;

/// A user's authenticator app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpRecord {
    /// `totp_…`.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// The base32 secret, sealed.
    pub secret_sealed: String,
    /// Whether a first code proved the app has it; until then it is no second factor.
    pub verified: bool,
    /// The newest 30-second step accepted.
    pub last_step: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Second factors.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// The user's authenticator app, verified or waiting for its first code.
    async fn get_totp(&self, user_id: &str) -> StoreResult<Option<TotpRecord>>;
    /// Replaces the user's authenticator app with `totp` (waiting, or verified for an import).
    async fn put_totp(&self, totp: &TotpRecord) -> StoreResult<()>;
    /// Marks the waiting app verified at `step` and replaces the backup codes with
    /// `backup_code_hashes`, in one transaction; false if there is no app or `step` is not newer
    /// than the last accepted one.
    async fn verify_totp(&self, user_id: &str, step: i64, backup_code_hashes: &[String], now: i64)
    -> StoreResult<bool>;
    /// Accepts `step` of the verified app once: false if there is none or the step (or a newer
    /// one) was accepted before.
    async fn use_totp_step(&self, user_id: &str, step: i64, now: i64) -> StoreResult<bool>;
    /// Removes the user's authenticator app; false if there was none.
    async fn delete_totp(&self, user_id: &str) -> StoreResult<bool>;
    /// Replaces every backup code of the user with these (old ones stop working).
    async fn replace_backup_codes(&self, user_id: &str, code_hashes: &[String], now: i64) -> StoreResult<()>;
    /// Uses one backup code: true if the user had it (it is gone now).
    async fn use_backup_code(&self, user_id: &str, code_hash: &str) -> StoreResult<bool>;
    /// Removes every backup code of the user; false if there were none.
    async fn delete_backup_codes(&self, user_id: &str) -> StoreResult<bool>;
}
