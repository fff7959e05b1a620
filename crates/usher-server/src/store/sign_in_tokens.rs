//! Backend API sign-in tokens ("tickets"), accepted once by the Frontend API.

use async_trait::async_trait;
use serde_json::Value;
pub use usher_types::SignInTokenStatus;

use super::StoreResult;

/// A Backend API sign-in token. Only a hash of the secret is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInTokenRecord {
    /// `sit_…`.
    pub id: String,
    /// The user it signs in.
    pub user_id: String,
    /// SHA-256 of the secret, hex.
    pub token_hash: String,
    /// Whether it can still be used.
    pub status: SignInTokenStatus,
    /// When it stops working.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// For an actor token (impersonation): the impersonator, Clerk's `actor` (`{"sub": …}`),
    /// which the session it starts carries as its `act` claim.
    pub actor: Option<Value>,
    /// For an actor token: the longest the session it starts may last, in seconds.
    pub session_max_duration: Option<i64>,
}

/// Sign-in tokens.
#[async_trait]
pub trait SignInTokenStore: Send + Sync {
    /// Inserts a sign-in token.
    async fn create_sign_in_token(&self, token: &SignInTokenRecord) -> StoreResult<()>;
    /// Accepts the pending, unexpired sign-in token with this hash; `None` unless this call
    /// accepted it (so a ticket signs in once).
    async fn accept_sign_in_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>>;
    /// Revokes a pending sign-in token; `None` if there is no such token. A token that is no
    /// longer pending is returned unchanged.
    async fn revoke_sign_in_token(&self, id: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>>;
    /// Revokes every pending sign-in token of a user (when it is banned); how many.
    async fn revoke_user_sign_in_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64>;
}
