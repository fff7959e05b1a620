//! Bulk import and export of users (`usher users import|export`).

use async_trait::async_trait;

use super::{StoreResult, TotpRecord, UserRecord};

/// One user to import, as the file describes it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImportedUser {
    /// The user with its identifiers; `id` is the id to create it under.
    pub user: UserRecord,
    /// Its verified authenticator app, if the file carried a secret.
    pub totp: Option<TotpRecord>,
    /// Match an existing user by `external_id` instead of by `id`.
    pub match_external_id: bool,
    /// Whether the file had metadata columns (otherwise an update leaves metadata alone).
    pub metadata_given: bool,
}

/// What importing one user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    /// A new user.
    Created,
    /// An existing user whose fields changed.
    Updated,
    /// An existing user that already matched the file.
    Unchanged,
    /// Not imported, for this reason (for example an email address another user has).
    Rejected(String),
}

/// A user with its authenticator app's sealed secret, as exported.
#[derive(Debug, Clone, PartialEq)]
pub struct ExportedUser {
    /// The user and its identifiers.
    pub user: UserRecord,
    /// Its verified authenticator app.
    pub totp: Option<TotpRecord>,
}

/// Users in bulk.
#[async_trait]
pub trait ImportStore: Send + Sync {
    /// Creates or updates each of `users` in one transaction (each row in a savepoint of its
    /// own, so one conflict rejects that row only); with `dry_run` the transaction is rolled
    /// back, so the outcomes say what would happen. Writes no webhook events.
    /// `same_totp(stored, imported)` says whether two sealed secrets are the same secret
    /// (sealing is randomised, so the sealed texts differ).
    async fn import_users(
        &self,
        users: &[ImportedUser],
        same_totp: &(dyn for<'x, 'y> Fn(&'x str, &'y str) -> bool + Sync),
        dry_run: bool,
    ) -> StoreResult<Vec<ImportOutcome>>;
    /// Up to `limit` users created after `after` (`(created_at, id)`), in creation order.
    async fn export_users(&self, after: Option<(i64, String)>, limit: i64) -> StoreResult<Vec<ExportedUser>>;
}
