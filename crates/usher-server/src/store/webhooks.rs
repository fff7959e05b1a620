//! Outbound webhooks: endpoints, the event outbox, deliveries and the attempt log.
//!
//! Events are written by the store itself, inside the transaction of the change they describe
//! (so an acknowledged change always has its event and a rolled-back one never does). The store
//! does not know Clerk's wire shapes: it hands each [`Change`] to the [`EventRenderer`] it was
//! given ([`crate::store::SqlStore::with_events`]), which returns the finished bytes. Without a
//! renderer (the CLI, contract tests) no events are written.

use std::sync::Arc;

use async_trait::async_trait;

use super::{MailRecord, Page, SessionRecord, StoreResult, UserRecord};
use crate::store::{InvitationView, MembershipView, OrganizationRecord, PermissionRecord, RoleView};

/// A change a webhook event describes, as the store sees it. Add a variant here (and an arm in
/// the renderer) to emit an event from a new write.
#[derive(Debug, Clone, Copy)]
pub enum Change<'a> {
    /// A user was created (the record as inserted, with its identifiers).
    UserCreated(&'a UserRecord),
    /// A user changed (the record after the change).
    UserUpdated(&'a UserRecord),
    /// A user was deleted.
    UserDeleted(&'a str),
    /// A session was created.
    SessionCreated(&'a SessionRecord),
    /// A session ended, was removed or revoked (the record after, its status says which).
    SessionEnded(&'a SessionRecord),
    /// A mail was queued (its body as queued, possibly sealed), with the address it goes to.
    EmailCreated(&'a EmailView),
    /// An organization was created.
    OrganizationCreated(&'a OrganizationRecord),
    /// An organization changed.
    OrganizationUpdated(&'a OrganizationRecord),
    /// An organization was deleted.
    OrganizationDeleted(&'a str),
    /// A membership was created.
    MembershipCreated(&'a MembershipView),
    /// A membership changed (role or metadata).
    MembershipUpdated(&'a MembershipView),
    /// A membership was deleted (as it was).
    MembershipDeleted(&'a MembershipView),
    /// An invitation was created.
    InvitationCreated(&'a InvitationView),
    /// An invitation was accepted.
    InvitationAccepted(&'a InvitationView),
    /// An invitation was revoked.
    InvitationRevoked(&'a InvitationView),
    /// A role was created.
    RoleCreated(&'a RoleView),
    /// A role changed (its fields or its permissions).
    RoleUpdated(&'a RoleView),
    /// A role was deleted.
    RoleDeleted(&'a str),
    /// A permission was created.
    PermissionCreated(&'a PermissionRecord),
    /// A permission changed.
    PermissionUpdated(&'a PermissionRecord),
    /// A permission was deleted.
    PermissionDeleted(&'a str),
}

/// A queued mail with the address record it goes to, for `email.created`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailView {
    /// The mail.
    pub mail: MailRecord,
    /// `idn_…` of the recipient's address, when it belongs to a user.
    pub email_address_id: Option<String>,
    /// That user.
    pub user_id: Option<String>,
}

/// A rendered event, ready for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEvent {
    /// `msg_…`: the `svix-id`, stable across retries.
    pub id: String,
    /// `user.created`, …
    pub event_type: String,
    /// The exact bytes signed and sent.
    pub payload: Vec<u8>,
    /// When it happened (ms).
    pub created_at: i64,
}

/// Turns a [`Change`] into an event (implemented above the store, where the wire shapes are).
pub trait EventRenderer: Send + Sync {
    /// The event for `change`, or `None` when nobody could want it.
    fn render(&self, change: &Change<'_>) -> Option<NewEvent>;
    /// Called after events were written (the delivery loop may want waking); the transaction
    /// may still be open.
    fn written(&self) {}
}

/// The renderer a store holds, if any.
pub type Renderer = Option<Arc<dyn EventRenderer>>;

/// Who made the request that caused a change (`event_attributes.http_request`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestOrigin {
    /// The client's address.
    pub client_ip: String,
    /// Its `User-Agent`.
    pub user_agent: String,
}

tokio::task_local! {
    /// The request being served, set by the HTTP layer around each request so that events
    /// written while serving it carry its origin.
    pub static REQUEST_ORIGIN: RequestOrigin;
}

/// The origin of the request being served, blank outside one.
pub fn request_origin() -> RequestOrigin {
    REQUEST_ORIGIN.try_with(Clone::clone).unwrap_or_default()
}

/// An endpoint events are sent to.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EndpointRecord {
    /// `ep_…`.
    pub id: String,
    /// Where to POST.
    pub url: String,
    /// Free text.
    pub description: String,
    /// Subscribed event types; empty for all.
    pub event_types: Vec<String>,
    /// Disabled endpoints get no new deliveries and nothing is sent to them.
    pub enabled: bool,
    /// The signing secret (as stored: sealed by the caller).
    pub secret: String,
    /// The secret before the last rotation, still used until `previous_secret_until`.
    pub previous_secret: Option<String>,
    /// End of the rotation window.
    pub previous_secret_until: Option<i64>,
    /// Start of the current run of failures.
    pub failing_since: Option<i64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

impl EndpointRecord {
    /// Whether the endpoint subscribes to `event_type`.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }
}

/// A message of the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageRecord {
    /// `msg_…`.
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The signed bytes.
    pub payload: Vec<u8>,
    /// When it was written.
    pub created_at: i64,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered; retried when due.
    Pending,
    /// Delivered (a 2xx answer).
    Succeeded,
    /// Gave up after the last retry (or the endpoint was disabled).
    Failed,
}

impl DeliveryStatus {
    /// The name in SQL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
        }
    }

    /// Parses [`DeliveryStatus::as_str`].
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Succeeded, Self::Failed].into_iter().find(|s| s.as_str() == text)
    }
}

/// One message to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryRecord {
    /// The endpoint.
    pub endpoint_id: String,
    /// The message.
    pub message_id: String,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts so far.
    pub attempts: i64,
    /// Not before (or, while claimed, the end of the claim).
    pub next_attempt_at: i64,
    /// The message's time, for ordering.
    pub message_created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// One try at a delivery, as logged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookAttemptRecord {
    /// `whatt_…`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The message.
    pub message_id: String,
    /// A 2xx answer.
    pub succeeded: bool,
    /// The answer's status, if there was one.
    pub status_code: Option<i64>,
    /// How long it took.
    pub latency_ms: i64,
    /// Why it failed (a non-2xx status, a timeout, a refused address, …).
    pub error: Option<String>,
    /// When it was made.
    pub created_at: i64,
}

/// What became of a try, recorded by [`WebhookStore::record_webhook_attempt`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The attempt to log.
    pub attempt: WebhookAttemptRecord,
    /// The delivery's status after.
    pub status: DeliveryStatus,
    /// When to try again (pending only).
    pub next_attempt_at: i64,
}

/// Queue figures for monitoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct WebhookStats {
    /// Messages not yet fanned out to endpoints.
    pub unrouted_messages: i64,
    /// Deliveries waiting (queue depth).
    pub pending_deliveries: i64,
    /// Deliveries given up on.
    pub failed_deliveries: i64,
    /// Failed attempts logged.
    pub failed_attempts: i64,
}

/// Webhook endpoints, the outbox and deliveries.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Inserts an endpoint.
    async fn create_endpoint(&self, endpoint: &EndpointRecord) -> StoreResult<()>;
    /// An endpoint.
    async fn get_endpoint(&self, id: &str) -> StoreResult<Option<EndpointRecord>>;
    /// A page of endpoints, oldest first, and how many there are.
    async fn list_endpoints(&self, page: Page) -> StoreResult<(Vec<EndpointRecord>, i64)>;
    /// Replaces an endpoint's fields; false if there is none.
    async fn update_endpoint(&self, endpoint: &EndpointRecord) -> StoreResult<bool>;
    /// Deletes an endpoint with its deliveries and attempts; false if there is none.
    async fn delete_endpoint(&self, id: &str) -> StoreResult<bool>;
    /// Writes events on their own (changes made through the store write theirs themselves).
    async fn enqueue_events(&self, events: &[NewEvent]) -> StoreResult<()>;
    /// A message.
    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>>;
    /// Creates the deliveries of up to `limit` new messages for the enabled endpoints subscribed
    /// to them, oldest first; each message is routed once even with several nodes. Returns how
    /// many messages were routed.
    async fn route_messages(&self, now: i64, limit: i64) -> StoreResult<usize>;
    /// Up to `limit` pending deliveries due at `now`, in event order.
    async fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<DeliveryRecord>>;
    /// Takes a delivery (as read by [`WebhookStore::due_deliveries`]) until `until`; false if
    /// another node took it first.
    async fn claim_delivery(&self, delivery: &DeliveryRecord, until: i64) -> StoreResult<bool>;
    /// Logs an attempt and moves its delivery on, in one transaction; a success clears the
    /// endpoint's `failing_since`, a failure starts it if unset.
    async fn record_webhook_attempt(&self, outcome: &AttemptOutcome) -> StoreResult<()>;
    /// The deliveries of an endpoint, newest first, and how many.
    async fn list_deliveries(&self, endpoint_id: &str, page: Page) -> StoreResult<(Vec<DeliveryRecord>, i64)>;
    /// The attempts at an endpoint, newest first, and how many.
    async fn list_webhook_attempts(
        &self,
        endpoint_id: &str,
        page: Page,
    ) -> StoreResult<(Vec<WebhookAttemptRecord>, i64)>;
    /// Sends a message again: its deliveries (to `endpoint_id` only, if given) become pending and
    /// due at `now`, and endpoints given that have none get one. Returns how many.
    async fn replay_message(&self, message_id: &str, endpoint_id: Option<&str>, now: i64) -> StoreResult<u64>;
    /// Disables enabled endpoints failing since before `before` and fails their pending
    /// deliveries; returns the ids disabled.
    async fn disable_failing_endpoints(&self, before: i64, now: i64) -> StoreResult<Vec<String>>;
    /// Queue figures.
    async fn webhook_stats(&self) -> StoreResult<WebhookStats>;
}
