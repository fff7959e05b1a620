//! Managing webhook endpoints and replaying messages, as the Backend API and the admin console
//! both do it: the validation and secrets are [`crate::webhooks::endpoints`]'s, and every change
//! is recorded in the audit log with its actor (never the secret).

use super::audit::{Actor, Audited, Event};
use crate::{
    error::{ApiError, ApiResult},
    state::AppState,
    store::{AuditAction, EndpointRecord},
    webhooks::endpoints::{self, EndpointChange, EndpointError},
};

/// The answer for an endpoint that does not exist.
pub const NOT_FOUND: ApiError = ApiError::NotFound("webhook endpoint");

fn refused(e: EndpointError) -> ApiError {
    match e {
        EndpointError::Invalid(param, message) => ApiError::invalid("form_param_value_invalid", param, message),
        EndpointError::Store(e) => e.into(),
    }
}

/// The endpoint `id`, or `404 webhook endpoint`.
pub async fn load(state: &AppState, id: &str) -> ApiResult<EndpointRecord> {
    state.store.get_endpoint(id).await?.ok_or(NOT_FOUND)
}

/// Creates an endpoint; answers it and its secret (shown once).
pub async fn create(state: &AppState, actor: &Actor, change: EndpointChange) -> ApiResult<(EndpointRecord, String)> {
    let allow = state.config.webhooks.allow_private_addresses;
    let id = crate::ids::new_id("ep");
    let url = change.url.clone().unwrap_or_default();
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::WebhookEndpointCreated, Some(&id)).detail(&url));
    let (e, secret) = endpoints::create(audited.store(), id.clone(), &state.webhook_sealer, change, allow, state.now())
        .await
        .map_err(refused)?;
    audited.done();
    Ok((e, secret))
}

/// Changes an endpoint (its URL, description, event filter, whether it is enabled).
pub async fn update(state: &AppState, actor: &Actor, id: &str, change: EndpointChange) -> ApiResult<EndpointRecord> {
    let allow = state.config.webhooks.allow_private_addresses;
    let toggled = change.enabled.map(|on| if on { "enabled" } else { "disabled" });
    let mut event = Event::success(actor, AuditAction::WebhookEndpointUpdated, Some(id));
    if let Some(t) = toggled {
        event = event.detail(t);
    }
    let audited = Audited::new(state, event);
    let e = endpoints::update(audited.store(), id, change, allow, state.now()).await.map_err(refused)?;
    let e = e.ok_or(NOT_FOUND)?;
    audited.done();
    Ok(e)
}

/// Deletes an endpoint (its queued deliveries with it).
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> ApiResult<()> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::WebhookEndpointDeleted, Some(id)));
    if !audited.store().delete_endpoint(id).await? {
        return Err(NOT_FOUND);
    }
    audited.done();
    Ok(())
}

/// Gives an endpoint a new secret (shown once); the old one still signs for a day.
pub async fn rotate_secret(state: &AppState, actor: &Actor, id: &str) -> ApiResult<(EndpointRecord, String)> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::WebhookSecretRotated, Some(id)));
    let rotated =
        endpoints::rotate_secret(audited.store(), &state.webhook_sealer, id, state.now()).await.map_err(refused)?;
    let (e, secret) = rotated.ok_or(NOT_FOUND)?;
    audited.done();
    Ok((e, secret))
}

/// Queues a message again for every endpoint that wants it, or only for `endpoint_id`; how
/// many deliveries were queued.
pub async fn replay(state: &AppState, actor: &Actor, message_id: &str, endpoint_id: Option<&str>) -> ApiResult<u64> {
    if let Some(endpoint_id) = endpoint_id {
        load(state, endpoint_id).await?;
    }
    state.store.get_message(message_id).await?.ok_or(ApiError::NotFound("webhook message"))?;
    let detail = endpoint_id.map_or_else(|| "every endpoint".to_owned(), |e| format!("to {e}"));
    let event = Event::success(actor, AuditAction::WebhookMessageReplayed, Some(message_id)).detail(&detail);
    let audited = Audited::new(state, event);
    let deliveries = audited.store().replay_message(message_id, endpoint_id, state.now()).await?;
    audited.done();
    state.webhook_wakeup.notify_one();
    Ok(deliveries)
}
