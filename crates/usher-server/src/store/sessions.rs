//! Sessions: one signed-in user on one client.

use async_trait::async_trait;
use serde_json::Value;
pub use usher_types::SessionStatus;

use super::{Page, StoreResult};

/// A session.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SessionRecord {
    /// `sess_…`.
    pub id: String,
    /// The signed-in user.
    pub user_id: String,
    /// The client the session lives on.
    pub client_id: String,
    /// Where the session is in its life cycle.
    pub status: SessionStatus,
    /// The impersonator, as JSON.
    pub actor: Option<Value>,
    /// The organization last made active.
    pub last_active_organization_id: Option<String>,
    /// Last activity.
    pub last_active_at: i64,
    /// End of the session's maximum lifetime.
    pub expire_at: i64,
    /// End of the session if it stays inactive.
    pub abandon_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// When the sign-in that made the session verified its first factor (`None`: made
    /// without a sign-in, counted from `created_at`).
    pub first_factor_at: Option<i64>,
    /// When it verified a second factor, if it did.
    pub second_factor_at: Option<i64>,
}

impl SessionRecord {
    /// Clerk's `fva` at `now`: minutes since the first factor and since the second (-1: none).
    pub fn factor_verification_age(&self, now: i64) -> [i64; 2] {
        [
            (now - self.first_factor_at.unwrap_or(self.created_at)).max(0) / 60_000,
            self.second_factor_at.map_or(-1, |at| (now - at).max(0) / 60_000),
        ]
    }

    /// Whether the session can mint tokens at `now`: live, and within both of its lifetimes.
    pub fn is_live(&self, now: i64) -> bool {
        self.status.is_live() && now < self.expire_at && now < self.abandon_at
    }
}

/// Filters of the session list. `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFilter {
    /// Sessions of this user.
    pub user_id: Option<String>,
    /// Sessions on this client.
    pub client_id: Option<String>,
    /// Sessions in this status.
    pub status: Option<SessionStatus>,
}

/// Sessions.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts a session.
    async fn create_session(&self, session: &SessionRecord) -> StoreResult<()>;
    /// A session.
    async fn get_session(&self, id: &str) -> StoreResult<Option<SessionRecord>>;
    /// A page of sessions, newest first, and how many match in all.
    async fn list_sessions(&self, filter: &SessionFilter, page: Page) -> StoreResult<(Vec<SessionRecord>, i64)>;
    /// The active and pending sessions on a client, newest first (at most 100), without a count:
    /// what every Frontend API answer shows.
    async fn client_sessions(&self, client_id: &str) -> StoreResult<Vec<SessionRecord>>;
    /// Records activity on a live session: `last_active_at = now`, `abandon_at`; the session after.
    async fn touch_session(&self, id: &str, now: i64, abandon_at: i64) -> StoreResult<Option<SessionRecord>>;
    /// Sets a live session's active organization (`None`: the personal account); the session
    /// after, `None` if there is no live session with this id.
    async fn set_session_organization(
        &self,
        id: &str,
        organization_id: Option<&str>,
        now: i64,
    ) -> StoreResult<Option<SessionRecord>>;
    /// Ends a live (active or pending) session with `status`; `None` if there is no such session.
    /// A session that already ended is returned unchanged.
    async fn end_session(&self, id: &str, status: SessionStatus, now: i64) -> StoreResult<Option<SessionRecord>>;
    /// Makes every pending session of a user active (its second factor was just set up);
    /// returns how many.
    async fn activate_user_sessions(&self, user_id: &str, now: i64) -> StoreResult<u64>;
    /// Ends every live session of a user with `status`; returns how many.
    async fn end_user_sessions(&self, user_id: &str, status: SessionStatus, now: i64) -> StoreResult<u64>;
    /// Ends every live session on a client with `status`; returns how many.
    async fn end_client_sessions(&self, client_id: &str, status: SessionStatus, now: i64) -> StoreResult<u64>;
}
