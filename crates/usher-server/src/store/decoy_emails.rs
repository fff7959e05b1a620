//! Decoy email addresses: what a user added that another account already has, shown to that
//! user as an unverified address of theirs and never verifiable (see the 0009 migration).
//! The store lists them among the user's emails, unverified; only these methods tell them apart.

use async_trait::async_trait;

use super::{IdentifierRecord, StoreResult};

/// Decoy email addresses.
#[async_trait]
pub trait DecoyEmailStore: Send + Sync {
    /// Records `email` as a decoy address of `user_id` (its `verified` is ignored: never).
    async fn add_decoy_email_address(&self, user_id: &str, email: &IdentifierRecord) -> StoreResult<()>;
    /// Whether the address `id` of `user_id` is a decoy.
    async fn is_decoy_email_address(&self, user_id: &str, id: &str) -> StoreResult<bool>;
}
