//! Managing endpoints, shared by the Backend API and the CLI: validation, secrets (sealed at
//! rest), rotation.

use crate::{
    seal::Sealer,
    store::{EndpointRecord, Store, StoreError},
};

use super::{deliver::check_url, sign};

/// Every event type usher sends; endpoints subscribe to a subset (or all, with none named).
pub const EVENT_TYPES: &[&str] = &[
    "user.created",
    "user.updated",
    "user.deleted",
    "session.created",
    "session.ended",
    "session.removed",
    "session.revoked",
    "email.created",
    "organization.created",
    "organization.updated",
    "organization.deleted",
    "organizationMembership.created",
    "organizationMembership.updated",
    "organizationMembership.deleted",
    "organizationInvitation.created",
    "organizationInvitation.accepted",
    "organizationInvitation.revoked",
    "role.created",
    "role.updated",
    "role.deleted",
    "permission.created",
    "permission.updated",
    "permission.deleted",
];

/// How long the secret a rotation replaced still signs (Svix: 24 hours), so receivers can
/// switch without missing a message.
pub const ROTATION_WINDOW_MS: i64 = 24 * 3600 * 1000;

/// Why a change to an endpoint was refused: the parameter and what is wrong.
#[derive(Debug)]
pub enum EndpointError {
    /// A parameter is invalid.
    Invalid(&'static str, String),
    /// Storage failed.
    Store(StoreError),
}

impl From<StoreError> for EndpointError {
    fn from(e: StoreError) -> Self {
        Self::Store(e)
    }
}

/// What an endpoint is set to; `None` leaves a field as it is.
#[derive(Debug, Default, Clone)]
pub struct EndpointChange {
    /// Where to POST.
    pub url: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// Subscribed event types (empty: all).
    pub event_types: Option<Vec<String>>,
    /// Enabled.
    pub enabled: Option<bool>,
}

fn apply(e: &mut EndpointRecord, c: EndpointChange, allow_private: bool) -> Result<(), EndpointError> {
    if let Some(url) = c.url {
        if url.len() > 2048 {
            return Err(EndpointError::Invalid("url", "url must be at most 2048 characters.".into()));
        }
        check_url(&url, allow_private).map_err(|why| EndpointError::Invalid("url", format!("url: {why}.")))?;
        e.url = url;
    }
    if let Some(d) = c.description {
        if d.chars().count() > 512 {
            return Err(EndpointError::Invalid("description", "description must be at most 512 characters.".into()));
        }
        e.description = d;
    }
    if let Some(mut types) = c.event_types {
        if let Some(bad) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
            return Err(EndpointError::Invalid(
                "event_types",
                format!("{bad:?} is not an event type; known: {}.", EVENT_TYPES.join(", ")),
            ));
        }
        types.sort();
        types.dedup();
        e.event_types = types;
    }
    if let Some(enabled) = c.enabled {
        if enabled && !e.enabled {
            // A re-enabled endpoint starts with a clean record, or it is disabled again at once.
            e.failing_since = None;
        }
        e.enabled = enabled;
    }
    Ok(())
}

/// Creates the endpoint `id` (`ep_…`, made by the caller so its audit entry can name it);
/// returns it and its secret (`whsec_…`, shown once).
pub async fn create(
    store: &dyn Store,
    id: String,
    sealer: &Sealer,
    change: EndpointChange,
    allow_private: bool,
    now: i64,
) -> Result<(EndpointRecord, String), EndpointError> {
    if change.url.is_none() {
        return Err(EndpointError::Invalid("url", "url must be included.".into()));
    }
    let secret = sign::new_secret();
    let mut e = EndpointRecord {
        id,
        enabled: true,
        secret: sealer.seal_text(&secret),
        created_at: now,
        updated_at: now,
        ..EndpointRecord::default()
    };
    apply(&mut e, change, allow_private)?;
    store.create_endpoint(&e).await?;
    Ok((e, secret))
}

/// Changes an endpoint; `None` if there is none.
pub async fn update(
    store: &dyn Store,
    id: &str,
    change: EndpointChange,
    allow_private: bool,
    now: i64,
) -> Result<Option<EndpointRecord>, EndpointError> {
    let Some(mut e) = store.get_endpoint(id).await? else { return Ok(None) };
    apply(&mut e, change, allow_private)?;
    e.updated_at = now;
    Ok(store.update_endpoint(&e).await?.then_some(e))
}

/// Gives an endpoint a new secret; the old one keeps signing (a second signature) for
/// [`ROTATION_WINDOW_MS`]. Returns the endpoint and the new secret; `None` if there is none.
pub async fn rotate_secret(
    store: &dyn Store,
    sealer: &Sealer,
    id: &str,
    now: i64,
) -> Result<Option<(EndpointRecord, String)>, EndpointError> {
    let Some(mut e) = store.get_endpoint(id).await? else { return Ok(None) };
    let secret = sign::new_secret();
    e.previous_secret = Some(std::mem::replace(&mut e.secret, sealer.seal_text(&secret)));
    e.previous_secret_until = Some(now.saturating_add(ROTATION_WINDOW_MS));
    e.updated_at = now;
    Ok(store.update_endpoint(&e).await?.then_some((e, secret)))
}

/// The endpoint's current secret, opened.
pub fn secret(sealer: &Sealer, e: &EndpointRecord) -> Option<String> {
    sealer.open_text(&e.secret)
}
