//! `/v1/organization_roles` and `/v1/organization_permissions`: the instance's roles, what they
//! hold, and the custom permissions beside the system ones (`org:sys_*`).

use axum::{
    Json, Router,
    extract::State,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use usher_types::{
    Permission, Role,
    requests::{PermissionParams, RoleParams},
};

use super::list_response;
use crate::{
    error::ApiResult,
    flows::{
        audit::Actor,
        roles::{self, NewRole, PermissionFields, RoleChange},
    },
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    store::{PermissionRecord, RoleRecord, RoleView},
    validate::Paging,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organization_roles", get(list_roles).post(create_role))
        .route("/organization_roles/{id}", get(get_role).patch(update_role).delete(delete_role))
        .route("/organization_roles/{id}/permissions/{permission_id}", post(add_permission).delete(remove_permission))
        .route("/organization_permissions", get(list_permissions).post(create_permission))
        .route("/organization_permissions/{id}", get(get_permission).patch(update_permission).delete(delete_permission))
}

/// The wire permission.
pub(crate) fn permission(p: &PermissionRecord) -> Permission {
    Permission {
        object: "permission".into(),
        id: p.id.clone(),
        key: p.key.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        kind: if p.system { "system" } else { "user" }.into(),
        created_at: p.created_at,
        updated_at: p.updated_at,
    }
}

/// The wire role with its permissions.
pub(crate) async fn role(state: &AppState, r: &RoleRecord) -> ApiResult<Role> {
    let permissions = state.store.role_permissions(&r.key).await?;
    Ok(role_wire(r, &permissions))
}

fn role_wire(r: &RoleRecord, permissions: &[PermissionRecord]) -> Role {
    Role {
        object: "role".into(),
        id: r.id.clone(),
        key: r.key.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        is_creator_eligible: permissions.iter().any(|p| p.key == "org:sys_memberships:manage"),
        permissions: permissions.iter().map(permission).collect(),
        created_at: r.created_at,
        updated_at: r.updated_at,
    }
}

/// A role as a webhook's `data`.
pub(crate) fn role_event(v: &RoleView) -> serde_json::Value {
    serde_json::to_value(role_wire(&v.role, &v.permissions)).unwrap_or_default()
}

/// A permission as a webhook's `data`.
pub(crate) fn permission_event(p: &PermissionRecord) -> serde_json::Value {
    serde_json::to_value(permission(p)).unwrap_or_default()
}

#[derive(Debug, Deserialize)]
struct Paged {
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_roles(State(state): State<AppState>, Query(q): Query<Paged>) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_roles(page).await?;
    let mut data = Vec::with_capacity(list.len());
    for r in &list {
        data.push(role(&state, r).await?);
    }
    Ok(list_response(data, total, true))
}

async fn create_role(State(state): State<AppState>, JsonBody(b): JsonBody<RoleParams>) -> ApiResult<Json<Role>> {
    let new = NewRole {
        key: b.key,
        name: b.name,
        description: b.description,
        permissions: b.permissions.unwrap_or_default(),
    };
    let r = roles::create_role(&state, &Actor::secret_key(), new).await?;
    Ok(Json(role(&state, &r).await?))
}

async fn get_role(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Role>> {
    Ok(Json(role(&state, &roles::load_role(&state, &id).await?).await?))
}

async fn update_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RoleParams>,
) -> ApiResult<Json<Role>> {
    // `permissions` is for creation only: here they change through their own routes.
    let change = RoleChange { key: b.key, name: b.name, description: b.description, permissions: None };
    let r = roles::update_role(&state, &Actor::secret_key(), &id, change).await?;
    Ok(Json(role(&state, &r).await?))
}

async fn delete_role(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = roles::delete_role(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(json!({"object": "role", "id": r.id, "deleted": true})))
}

async fn add_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let r = roles::add_permission(&state, &Actor::secret_key(), &id, &permission_id).await?;
    Ok(Json(role(&state, &r).await?))
}

async fn remove_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let r = roles::remove_permission(&state, &Actor::secret_key(), &id, &permission_id).await?;
    Ok(Json(role(&state, &r).await?))
}

async fn list_permissions(State(state): State<AppState>, Query(q): Query<Paged>) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_permissions(page).await?;
    Ok(list_response(list.iter().map(permission).collect(), total, true))
}

fn permission_fields(b: PermissionParams) -> PermissionFields {
    PermissionFields { key: b.key, name: b.name, description: b.description }
}

async fn create_permission(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<PermissionParams>,
) -> ApiResult<Json<Permission>> {
    Ok(Json(permission(&roles::create_permission(&state, &Actor::secret_key(), permission_fields(b)).await?)))
}

async fn get_permission(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Permission>> {
    Ok(Json(permission(&roles::load_permission(&state, &id).await?)))
}

async fn update_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PermissionParams>,
) -> ApiResult<Json<Permission>> {
    let p = roles::update_permission(&state, &Actor::secret_key(), &id, permission_fields(b)).await?;
    Ok(Json(permission(&p)))
}

async fn delete_permission(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let p = roles::delete_permission(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(json!({"object": "permission", "id": p.id, "deleted": true})))
}
