//! Passkeys (WebAuthn credentials) of users.
//!
//! This layer keeps what the flow gives it: the ceremony state and the credential are opaque
//! JSON documents of `webauthn-rs`. What must hold under concurrency is enforced here in one
//! statement each: a registration is verified once, and a sign-in raises the signature counter
//! only past the stored one.

use async_trait::async_trait;

use super::StoreResult;

/// A passkey, verified or waiting for the browser's answer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PasskeyRecord {
    /// `pk_…`.
    pub id: String,
    /// The owner.
    pub user_id: String,
    /// Shown to the user; they may rename it.
    pub name: String,
    /// The credential id (base64url) once verified; unique across users.
    pub credential_id: Option<String>,
    /// The verified credential (webauthn-rs `Passkey`, JSON).
    pub credential: Option<String>,
    /// The registration ceremony's state while waiting (webauthn-rs `PasskeyRegistration`, JSON).
    pub registration_state: Option<String>,
    /// The authenticator's signature counter last accepted (0 for authenticators without one).
    pub sign_count: i64,
    /// Last sign-in with it.
    pub last_used_at: Option<i64>,
    /// When an unverified registration dies; `None` once verified.
    pub expire_at: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl PasskeyRecord {
    /// Whether the browser's answer verified it (only those sign in or are listed).
    pub fn verified(&self) -> bool {
        self.credential_id.is_some()
    }
}

/// Passkeys.
#[async_trait]
pub trait PasskeyStore: Send + Sync {
    /// Inserts a passkey waiting for verification, removing the user's registrations that
    /// expired by its creation time.
    async fn create_passkey(&self, passkey: &PasskeyRecord) -> StoreResult<()>;
    /// A passkey of the user by id (verified or not).
    async fn get_passkey(&self, user_id: &str, id: &str) -> StoreResult<Option<PasskeyRecord>>;
    /// The verified passkey with this credential id, whoever owns it.
    async fn find_passkey_by_credential(&self, credential_id: &str) -> StoreResult<Option<PasskeyRecord>>;
    /// The user's verified passkeys, oldest first.
    async fn list_passkeys(&self, user_id: &str) -> StoreResult<Vec<PasskeyRecord>>;
    /// Verifies a waiting, unexpired passkey: sets its credential and clears the ceremony
    /// state, in one conditional statement; false if it was verified meanwhile, expired, or
    /// is gone. A credential id another passkey has is a conflict.
    async fn verify_passkey(
        &self,
        id: &str,
        credential_id: &str,
        credential: &str,
        sign_count: i64,
        now: i64,
    ) -> StoreResult<bool>;
    /// Records a sign-in: the new counter and credential, only if the counter went up (or
    /// both are 0, for authenticators without a counter); false otherwise.
    async fn use_passkey(&self, id: &str, sign_count: i64, credential: &str, now: i64) -> StoreResult<bool>;
    /// Renames a verified passkey of the user; false if there is none.
    async fn rename_passkey(&self, user_id: &str, id: &str, name: &str, now: i64) -> StoreResult<bool>;
    /// Deletes a passkey of the user; false if there was none.
    async fn delete_passkey(&self, user_id: &str, id: &str) -> StoreResult<bool>;
}
