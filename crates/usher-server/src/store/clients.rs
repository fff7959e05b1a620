//! Clients: browsers, each known by the secret in its `__client` cookie.

use async_trait::async_trait;

use super::StoreResult;

/// A browser (Clerk's "client"). The `__client` cookie carries its id and a secret whose hash is
/// kept here.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientRecord {
    /// `client_…`.
    pub id: String,
    /// Keyed hash of the cookie secret, hex; replaced on every sign-in and sign-out.
    pub token_hash: String,
    /// The sign-in in progress.
    pub sign_in_id: Option<String>,
    /// The sign-up in progress.
    pub sign_up_id: Option<String>,
    /// The session the browser uses.
    pub last_active_session_id: Option<String>,
    /// When the cookie expires.
    pub expire_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// Clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// Inserts a client.
    async fn create_client(&self, client: &ClientRecord) -> StoreResult<()>;
    /// A client.
    async fn get_client(&self, id: &str) -> StoreResult<Option<ClientRecord>>;
    /// Replaces a client's fields; false if there is no such client.
    async fn save_client(&self, client: &ClientRecord) -> StoreResult<bool>;
}
