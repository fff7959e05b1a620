//! `/v1/webhooks/…`: usher's own routes for outbound webhook endpoints, their attempts, message
//! replay and queue figures (Clerk manages these in its dashboard, so the shapes are usher's).

use axum::{
    Json, Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use usher_types::DeletedObject;

use super::list_response;
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        audit::Actor,
        webhooks::{self, NOT_FOUND},
    },
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    store::{EndpointRecord, WebhookAttemptRecord},
    validate::Paging,
    webhooks::endpoints::EndpointChange,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/endpoints", get(list_endpoints).post(create_endpoint))
        .route("/webhooks/endpoints/{endpoint_id}", get(get_endpoint).patch(update_endpoint).delete(delete_endpoint))
        .route("/webhooks/endpoints/{endpoint_id}/rotate_secret", post(rotate_secret))
        .route("/webhooks/endpoints/{endpoint_id}/attempts", get(list_attempts))
        .route("/webhooks/endpoints/{endpoint_id}/messages/{message_id}/replay", post(replay_to_endpoint))
        .route("/webhooks/messages/{message_id}", get(get_message))
        .route("/webhooks/messages/{message_id}/replay", post(replay))
        .route("/webhooks/stats", get(stats))
}

/// A webhook endpoint. `secret` (`whsec_…`) is only in the answers to create and rotate.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct WebhookEndpoint {
    /// `webhook_endpoint`.
    pub object: String,
    /// `ep_…`.
    pub id: String,
    /// Where events are POSTed.
    pub url: String,
    /// Free text.
    pub description: String,
    /// Subscribed event types; empty for all.
    pub event_types: Vec<String>,
    /// Whether events are sent.
    pub enabled: bool,
    /// Start of the current run of failed attempts (ms); 5 days of it disable the endpoint.
    pub failing_since: Option<i64>,
    /// The signing secret, shown once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    /// Until when the previous secret still signs (ms), after a rotation.
    pub previous_secret_expires_at: Option<i64>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

/// Parameters of create (`url` required) and update.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct WebhookEndpointParams {
    /// `http(s)://…`; in `usher serve`, not a loopback, link-local or private address.
    pub url: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Event types to send (`user.created`, …); empty or absent for all.
    pub event_types: Option<Vec<String>>,
    /// Whether to send events (default true).
    pub enabled: Option<bool>,
}

/// One delivery attempt.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct WebhookAttempt {
    /// `webhook_attempt`.
    pub object: String,
    /// `whatt_…`.
    pub id: String,
    /// The endpoint.
    pub endpoint_id: String,
    /// The message (`svix-id`).
    pub message_id: String,
    /// A 2xx answer.
    pub succeeded: bool,
    /// The answer's status, if there was one.
    pub status_code: Option<i64>,
    /// How long the attempt took (ms).
    pub latency_ms: i64,
    /// Why it failed.
    pub error: Option<String>,
    /// When (ms).
    pub created_at: i64,
}

/// A message of the outbox.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct WebhookMessage {
    /// `webhook_message`.
    pub object: String,
    /// `msg_…` (the `svix-id`).
    pub id: String,
    /// The event type.
    pub event_type: String,
    /// The event as sent.
    pub payload: Value,
    /// When it was written (ms).
    pub created_at: i64,
}

/// The answer to a replay.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct WebhookReplay {
    /// `webhook_replay`.
    pub object: String,
    /// The message.
    pub message_id: String,
    /// How many deliveries were queued again.
    pub deliveries: u64,
}

/// Queue figures.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct WebhookStats {
    /// `webhook_stats`.
    pub object: String,
    /// Messages not yet routed to endpoints.
    pub unrouted_messages: i64,
    /// Deliveries waiting to be sent or retried (the queue depth).
    pub pending_deliveries: i64,
    /// Deliveries given up on.
    pub failed_deliveries: i64,
    /// Failed attempts so far.
    pub failed_attempts: i64,
}

fn endpoint(e: &EndpointRecord, secret: Option<String>, now: i64) -> WebhookEndpoint {
    WebhookEndpoint {
        object: "webhook_endpoint".into(),
        id: e.id.clone(),
        url: e.url.clone(),
        description: e.description.clone(),
        event_types: e.event_types.clone(),
        enabled: e.enabled,
        failing_since: e.failing_since,
        secret,
        previous_secret_expires_at: e.previous_secret_until.filter(|until| *until > now),
        created_at: e.created_at,
        updated_at: e.updated_at,
    }
}

fn attempt(a: &WebhookAttemptRecord) -> WebhookAttempt {
    WebhookAttempt {
        object: "webhook_attempt".into(),
        id: a.id.clone(),
        endpoint_id: a.endpoint_id.clone(),
        message_id: a.message_id.clone(),
        succeeded: a.succeeded,
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        error: a.error.clone(),
        created_at: a.created_at,
    }
}

fn change(p: WebhookEndpointParams) -> EndpointChange {
    EndpointChange { url: p.url, description: p.description, event_types: p.event_types, enabled: p.enabled }
}

async fn create_endpoint(
    State(state): State<AppState>,
    JsonBody(p): JsonBody<WebhookEndpointParams>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let (e, secret) = webhooks::create(&state, &Actor::secret_key(), change(p)).await?;
    Ok(Json(endpoint(&e, Some(secret), state.now())))
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    paginated: bool,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_endpoints(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_endpoints(page).await?;
    let now = state.now();
    Ok(list_response(list.iter().map(|e| endpoint(e, None, now)).collect(), total, q.paginated))
}

async fn get_endpoint(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WebhookEndpoint>> {
    let e = state.store.get_endpoint(&id).await?.ok_or(NOT_FOUND)?;
    Ok(Json(endpoint(&e, None, state.now())))
}

async fn update_endpoint(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(p): JsonBody<WebhookEndpointParams>,
) -> ApiResult<Json<WebhookEndpoint>> {
    let e = webhooks::update(&state, &Actor::secret_key(), &id, change(p)).await?;
    Ok(Json(endpoint(&e, None, state.now())))
}

async fn delete_endpoint(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    webhooks::delete(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(DeletedObject::new("webhook_endpoint", &id)))
}

async fn rotate_secret(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WebhookEndpoint>> {
    let (e, secret) = webhooks::rotate_secret(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(endpoint(&e, Some(secret), state.now())))
}

async fn list_attempts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    state.store.get_endpoint(&id).await?.ok_or(NOT_FOUND)?;
    let (list, total) = state.store.list_webhook_attempts(&id, page).await?;
    Ok(list_response(list.iter().map(attempt).collect(), total, q.paginated))
}

async fn get_message(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WebhookMessage>> {
    let m = state.store.get_message(&id).await?.ok_or(ApiError::NotFound("webhook message"))?;
    let payload = state
        .webhook_sealer
        .open(&m.payload)
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored webhook payload {id} does not open")))?;
    Ok(Json(WebhookMessage {
        object: "webhook_message".into(),
        id: m.id,
        event_type: m.event_type,
        payload,
        created_at: m.created_at,
    }))
}

async fn replay(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<WebhookReplay>> {
    let deliveries = webhooks::replay(&state, &Actor::secret_key(), &id, None).await?;
    Ok(Json(WebhookReplay { object: "webhook_replay".into(), message_id: id, deliveries }))
}

async fn replay_to_endpoint(
    State(state): State<AppState>,
    Path((endpoint_id, id)): Path<(String, String)>,
) -> ApiResult<Json<WebhookReplay>> {
    let deliveries = webhooks::replay(&state, &Actor::secret_key(), &id, Some(&endpoint_id)).await?;
    Ok(Json(WebhookReplay { object: "webhook_replay".into(), message_id: id, deliveries }))
}

async fn stats(State(state): State<AppState>) -> ApiResult<Json<WebhookStats>> {
    let s = state.store.webhook_stats().await?;
    Ok(Json(WebhookStats {
        object: "webhook_stats".into(),
        unrouted_messages: s.unrouted_messages,
        pending_deliveries: s.pending_deliveries,
        failed_deliveries: s.failed_deliveries,
        failed_attempts: s.failed_attempts,
    }))
}
