//! usher's own administration routes beside Clerk's: actor tokens (Clerk's impersonation,
//! `/v1/actor_tokens`), instance admins (`/v1/instance_admins`) and the audit log
//! (`/v1/audit_log`, with a JSON-lines export). Also the layer that records every Backend API
//! write in the audit log.

use axum::{
    Json, Router,
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{HeaderValue, Method, header},
    middleware::Next,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use usher_types::{DeletedObject, Paginated};

use crate::{
    error::{ApiError, ApiResult},
    flows::{
        admin,
        audit::{self, Actor, Event},
    },
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    store::{ActorType, AuditAction, AuditFilter, Outcome, Page, SignInTokenRecord},
    wire,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/actor_tokens", post(create_actor_token))
        .route("/actor_tokens/{id}/revoke", post(revoke_actor_token))
        .route("/instance_admins", get(list_admins).post(add_admin))
        .route("/instance_admins/{user_id}", axum::routing::delete(remove_admin))
        .route("/audit_log", get(list_audit))
        .route("/audit_log/export", get(export_audit))
}

/// `POST /v1/actor_tokens`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct CreateActorToken {
    /// The user to sign in as.
    pub user_id: String,
    /// The impersonator: an object with at least `sub`.
    pub actor: Value,
    /// How long the token can be redeemed (default 3600 s).
    #[serde(default)]
    pub expires_in_seconds: Option<i64>,
    /// How long the session it starts may last (default 1800 s).
    #[serde(default)]
    pub session_max_duration_in_seconds: Option<i64>,
}

/// Clerk's `ActorToken`.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct ActorToken {
    /// `actor_token`.
    pub object: String,
    /// `act_…`.
    pub id: String,
    /// `pending`, `accepted` or `revoked`.
    pub status: String,
    /// The user it signs in as.
    pub user_id: String,
    /// The impersonator.
    pub actor: Value,
    /// The secret, only in the answer to create.
    pub token: Option<String>,
    /// The sign-in URL redeeming it, only in the answer to create.
    pub url: Option<String>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
}

fn actor_token(r: &SignInTokenRecord, token: Option<String>, url: Option<String>) -> ActorToken {
    ActorToken {
        object: "actor_token".to_owned(),
        id: r.id.clone(),
        status: r.status.as_str().to_owned(),
        user_id: r.user_id.clone(),
        actor: r.actor.clone().unwrap_or(Value::Null),
        token,
        url,
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

async fn create_actor_token(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<CreateActorToken>,
) -> ApiResult<Json<ActorToken>> {
    let issued = admin::create_actor_token(
        &state,
        &Actor::secret_key(),
        &b.user_id,
        b.actor,
        b.expires_in_seconds,
        b.session_max_duration_in_seconds,
    )
    .await?;
    Ok(Json(actor_token(&issued.record, Some(issued.secret), Some(issued.url))))
}

async fn revoke_actor_token(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<ActorToken>> {
    // Sign-in tokens share the table; only actor tokens answer here.
    if !id.starts_with("act_") {
        return Err(ApiError::NotFound("actor token"));
    }
    let record = state.store.revoke_sign_in_token(&id, state.now()).await?.ok_or(ApiError::NotFound("actor token"))?;
    Ok(Json(actor_token(&record, None, None)))
}

/// An instance admin.
#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub(crate) struct InstanceAdmin {
    /// `instance_admin`.
    pub object: String,
    /// The user.
    pub user_id: String,
    /// When the role was granted (ms).
    pub created_at: i64,
}

/// `POST /v1/instance_admins`.
#[derive(Debug, Deserialize, JsonSchema)]
pub(crate) struct AddInstanceAdmin {
    /// The user to make an instance admin.
    pub user_id: String,
}

async fn list_admins(State(state): State<AppState>) -> ApiResult<Json<Vec<InstanceAdmin>>> {
    let admins = state.store.list_admins().await?;
    Ok(Json(admins.into_iter().map(|(user_id, created_at)| instance_admin(user_id, created_at)).collect()))
}

fn instance_admin(user_id: String, created_at: i64) -> InstanceAdmin {
    InstanceAdmin { object: "instance_admin".to_owned(), user_id, created_at }
}

async fn add_admin(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<AddInstanceAdmin>,
) -> ApiResult<Json<InstanceAdmin>> {
    admin::grant_admin(&state, &Actor::secret_key(), &b.user_id).await?;
    let admins = state.store.list_admins().await?;
    let (user_id, at) = admins.into_iter().find(|(id, _)| *id == b.user_id).ok_or(ApiError::NotFound("user"))?;
    Ok(Json(instance_admin(user_id, at)))
}

async fn remove_admin(State(state): State<AppState>, Path(user_id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    if !admin::revoke_admin(&state, &Actor::secret_key(), &user_id).await? {
        return Err(ApiError::NotFound("instance admin"));
    }
    Ok(Json(DeletedObject::new("instance_admin", &user_id)))
}

/// The audit log's filters, as the routes take them.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct AuditQuery {
    actor_id: Option<String>,
    actor_type: Option<String>,
    subject_id: Option<String>,
    action: Vec<String>,
    outcome: Option<String>,
    /// At or after (ms).
    since: Option<i64>,
    /// Before (ms).
    until: Option<i64>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Query parameters of `GET /v1/audit_log` (the export takes all but `limit`/`offset`).
pub(crate) const AUDIT_FILTERS: &[(&str, &str)] = &[
    ("actor_id", "string"),
    ("actor_type", "string"),
    ("subject_id", "string"),
    ("action", "array"),
    ("outcome", "string"),
    ("since", "integer"),
    ("until", "integer"),
    ("limit", "integer"),
    ("offset", "integer"),
];

impl AuditQuery {
    fn filter(&self) -> ApiResult<AuditFilter> {
        let bad = |param: &str, message: String| ApiError::invalid("form_param_value_invalid", param, message);
        let actor_type = match self.actor_type.as_deref() {
            Some(t) => Some(ActorType::parse(t).ok_or_else(|| {
                bad("actor_type", "actor_type must be user, admin, secret_key or system.".to_owned())
            })?),
            None => None,
        };
        let outcome = match self.outcome.as_deref() {
            Some(o) => {
                Some(Outcome::parse(o).ok_or_else(|| bad("outcome", "outcome must be success or failure.".into()))?)
            }
            None => None,
        };
        let actions = self
            .action
            .iter()
            .map(|a| AuditAction::parse(a).ok_or_else(|| bad("action", format!("{a:?} is not an audit action."))))
            .collect::<ApiResult<_>>()?;
        Ok(AuditFilter {
            actor_id: self.actor_id.clone(),
            actor_type,
            subject_id: self.subject_id.clone(),
            involving: None,
            actions,
            outcome,
            since: self.since,
            until: self.until,
        })
    }

    fn page(&self) -> ApiResult<Page> {
        let limit = self.limit.unwrap_or(10);
        let offset = self.offset.unwrap_or(0);
        if !(1..=500).contains(&limit) {
            return Err(ApiError::invalid("form_param_value_invalid", "limit", "limit must be between 1 and 500."));
        }
        if offset < 0 {
            return Err(ApiError::invalid("form_param_value_invalid", "offset", "offset must not be negative."));
        }
        Ok(Page { limit, offset })
    }
}

async fn list_audit(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
) -> ApiResult<Json<Paginated<wire::AuditLogEntry>>> {
    let (entries, total) = state.store.list_audit(&q.filter()?, q.page()?).await?;
    Ok(Json(Paginated { data: entries.iter().map(wire::audit_entry).collect(), total_count: total }))
}

/// `GET /v1/audit_log/export`: every matching entry, oldest first, one JSON object a line.
async fn export_audit(State(state): State<AppState>, Query(q): Query<AuditQuery>) -> ApiResult<Response> {
    let filter = q.filter()?;
    let lines = export_lines(&state, &filter).await?;
    let mut response = Body::from(lines).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson"));
    Ok(response)
}

/// The export's text, walked in pages so no query holds the whole log.
pub(crate) async fn export_lines(state: &AppState, filter: &AuditFilter) -> ApiResult<String> {
    let mut out = String::new();
    let mut after: Option<String> = None;
    loop {
        let batch = state.store.audit_after(filter, after.as_deref(), 500).await?;
        for e in &batch {
            out.push_str(&serde_json::to_string(&wire::audit_entry(e)).map_err(|e| ApiError::Internal(e.into()))?);
            out.push('\n');
        }
        match batch.last() {
            Some(last) if batch.len() == 500 => after = Some(last.id.clone()),
            _ => return Ok(out),
        }
    }
}

/// Records every Backend API write (any method but GET/HEAD) in the audit log, with the secret
/// key as the actor, the route and the answer's status — unless the flow it called recorded a
/// named entry itself (`user.banned`, …). The subject is the route's first path parameter, or
/// the `id` of the created record.
pub(super) async fn audit_writes(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let template = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_default();
    if MINTS.iter().any(|m| template.ends_with(m)) {
        return next.run(request).await;
    }
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let (response, recorded) = audit::noting(next.run(request)).await;
    if recorded {
        return response;
    }
    let status = response.status();
    let mut subject = first_param(&template, &path);
    let (parts, body) = response.into_parts();
    // Answers are small JSON; the created record's id is read from it when the route has none.
    let bytes = if subject.is_none() && status.is_success() {
        match axum::body::to_bytes(body, 1 << 20).await {
            Ok(bytes) => {
                subject = serde_json::from_slice::<Value>(&bytes)
                    .ok()
                    .and_then(|v| v.get("id").and_then(Value::as_str).map(str::to_owned));
                Body::from(bytes)
            }
            Err(_) => return ApiError::Internal(anyhow::anyhow!("reading an answer failed")).into_response(),
        }
    } else {
        body
    };
    let actor = Actor::secret_key();
    let detail = format!("{method} {template}");
    let reason = status.as_u16().to_string();
    let event = if status.is_success() {
        Event::success(&actor, AuditAction::BackendWrite, subject.as_deref())
    } else {
        Event::failure(&actor, AuditAction::BackendWrite, subject.as_deref(), &reason)
    };
    if let Err(e) = audit::record(&state, event.detail(&detail)).await {
        // The write itself is done; failing its answer now would only make the caller retry it.
        tracing::error!(error = %e.body().message, "recording a Backend API write in the audit log failed");
    }
    Response::from_parts(parts, bytes)
}

/// POSTs that store nothing: a session token minted for a session (with or without a template)
/// changes no record, and it is the hottest Backend API path, so it is not a write to record.
const MINTS: [&str; 2] = ["/sessions/{id}/tokens", "/sessions/{id}/tokens/{template}"];

/// The value of the first `{param}` of `template` in `path`.
fn first_param(template: &str, path: &str) -> Option<String> {
    template
        .split('/')
        .zip(path.split('/'))
        .find(|(t, _)| t.starts_with('{'))
        .map(|(_, value)| value.to_owned())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subject_is_the_first_path_parameter() {
        assert_eq!(first_param("/v1/users/{id}/ban", "/v1/users/user_1/ban").as_deref(), Some("user_1"));
        assert_eq!(first_param("/v1/users", "/v1/users"), None);
    }
}
