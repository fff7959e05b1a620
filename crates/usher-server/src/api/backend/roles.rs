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
    ClerkError, Permission, Role,
    requests::{PermissionParams, RoleParams},
};

use super::list_response;
use crate::{
    error::{ApiError, ApiResult},
    http::extract::{JsonBody, Path, Query},
    ids,
    state::AppState,
    store::{ADMIN_ROLE, MEMBER_ROLE, PermissionRecord, RoleRecord, RoleView, SYSTEM_PERMISSION_PREFIX},
    validate::{self, Paging},
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

fn segment_ok(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
}

/// `org:<name>`.
fn role_key(raw: &str) -> ApiResult<String> {
    let k = raw.trim();
    match k.strip_prefix("org:") {
        Some(rest) if segment_ok(rest) => Ok(k.to_owned()),
        _ => Err(ApiError::format("key", "key must look like org:<name> (lowercase letters, digits, '_' or '-').")),
    }
}

/// `org:<feature>:<permission>`, never in the system's namespace.
fn permission_key(raw: &str) -> ApiResult<String> {
    let k = raw.trim();
    if k.starts_with(SYSTEM_PERMISSION_PREFIX) {
        return Err(ApiError::format("key", "Keys starting with org:sys_ are reserved for system permissions."));
    }
    let parts: Vec<&str> = k.split(':').collect();
    if parts.len() != 3 || parts[0] != "org" || !segment_ok(parts[1]) || !segment_ok(parts[2]) {
        return Err(ApiError::format("key", "key must look like org:<feature>:<permission>."));
    }
    Ok(k.to_owned())
}

fn display_name(raw: &str) -> ApiResult<String> {
    let n = validate::text("name", raw)?;
    if n.trim().is_empty() || n.chars().count() > 256 {
        return Err(ApiError::format("name", "name must be 1 to 256 characters."));
    }
    Ok(n)
}

fn description(raw: &str) -> ApiResult<String> {
    let d = validate::text("description", raw)?;
    if d.chars().count() > 1024 {
        return Err(ApiError::format("description", "description must be at most 1024 characters."));
    }
    Ok(d)
}

fn missing(param: &str) -> ApiError {
    ApiError::invalid("form_param_missing", param, format!("{param} must be included."))
}

fn refused(code: &str, message: &str, long: String) -> ApiError {
    ApiError::BadRequest(ClerkError::new(code, message, long))
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

async fn load_role(state: &AppState, id: &str) -> ApiResult<RoleRecord> {
    state.store.get_role(id).await?.ok_or(ApiError::NotFound("role"))
}

async fn load_permission(state: &AppState, id: &str) -> ApiResult<PermissionRecord> {
    state.store.get_permission(id).await?.ok_or(ApiError::NotFound("permission"))
}

async fn create_role(State(state): State<AppState>, JsonBody(b): JsonBody<RoleParams>) -> ApiResult<Json<Role>> {
    let key = role_key(b.key.as_deref().ok_or_else(|| missing("key"))?)?;
    let name = display_name(b.name.as_deref().ok_or_else(|| missing("name"))?)?;
    let description = description(b.description.as_deref().unwrap_or(""))?;
    let permission_ids = b.permissions.unwrap_or_default();
    for id in &permission_ids {
        if state.store.get_permission(id).await?.is_none() {
            return Err(ApiError::invalid("resource_not_found", "permissions", format!("No permission {id} exists.")));
        }
    }
    let now = state.now();
    let r = RoleRecord { id: ids::new_id("role"), key, name, description, created_at: now, updated_at: now };
    state.store.create_role(&r, &permission_ids).await?;
    Ok(Json(role(&state, &r).await?))
}

async fn get_role(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Role>> {
    Ok(Json(role(&state, &load_role(&state, &id).await?).await?))
}

async fn update_role(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<RoleParams>,
) -> ApiResult<Json<Role>> {
    let mut r = load_role(&state, &id).await?;
    if let Some(k) = b.key.as_deref() {
        let key = role_key(k)?;
        if key != r.key {
            // Memberships and tokens name roles by key: renaming one in use would strand them.
            if [ADMIN_ROLE, MEMBER_ROLE].contains(&r.key.as_str()) || state.store.count_role_members(&r.key).await? > 0
            {
                return Err(refused(
                    "organization_role_in_use",
                    "Role is in use",
                    format!("The key of {} cannot change while it is a default role or has members.", r.key),
                ));
            }
            r.key = key;
        }
    }
    if let Some(n) = b.name.as_deref() {
        r.name = display_name(n)?;
    }
    if let Some(d) = b.description.as_deref() {
        r.description = description(d)?;
    }
    r.updated_at = state.now();
    if !state.store.update_role(&r).await? {
        return Err(ApiError::NotFound("role"));
    }
    Ok(Json(role(&state, &r).await?))
}

async fn delete_role(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let r = load_role(&state, &id).await?;
    if [ADMIN_ROLE, MEMBER_ROLE].contains(&r.key.as_str()) {
        return Err(refused(
            "organization_role_is_default",
            "Default roles cannot be deleted",
            format!("{} is the creator's or the default role and cannot be deleted.", r.key),
        ));
    }
    if state.store.count_role_members(&r.key).await? > 0 {
        return Err(refused(
            "organization_role_in_use",
            "Role is in use",
            format!("{} is assigned to members; change their role before deleting it.", r.key),
        ));
    }
    if !state.store.delete_role(&r.id).await? {
        return Err(ApiError::NotFound("role"));
    }
    Ok(Json(json!({"object": "role", "id": r.id, "deleted": true})))
}

async fn add_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let r = load_role(&state, &id).await?;
    load_permission(&state, &permission_id).await?;
    if !state.store.add_role_permission(&r.id, &permission_id).await? {
        return Err(ApiError::NotFound("permission"));
    }
    Ok(Json(role(&state, &r).await?))
}

async fn remove_permission(
    State(state): State<AppState>,
    Path((id, permission_id)): Path<(String, String)>,
) -> ApiResult<Json<Role>> {
    let r = load_role(&state, &id).await?;
    let p = load_permission(&state, &permission_id).await?;
    // The admin keeps every system permission: without them nobody could manage the members.
    if r.key == ADMIN_ROLE && p.system {
        return Err(refused(
            "organization_role_permission_required",
            "The admin role keeps its system permissions",
            format!("{} cannot be taken from {ADMIN_ROLE}.", p.key),
        ));
    }
    if !state.store.remove_role_permission(&r.id, &p.id).await? {
        return Err(ApiError::NotFound("role permission"));
    }
    Ok(Json(role(&state, &r).await?))
}

async fn list_permissions(State(state): State<AppState>, Query(q): Query<Paged>) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_permissions(page).await?;
    Ok(list_response(list.iter().map(permission).collect(), total, true))
}

async fn create_permission(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<PermissionParams>,
) -> ApiResult<Json<Permission>> {
    let key = permission_key(b.key.as_deref().ok_or_else(|| missing("key"))?)?;
    let name = display_name(b.name.as_deref().ok_or_else(|| missing("name"))?)?;
    let description = description(b.description.as_deref().unwrap_or(""))?;
    let now = state.now();
    let p = PermissionRecord {
        id: ids::new_id("perm"),
        key,
        name,
        description,
        system: false,
        created_at: now,
        updated_at: now,
    };
    state.store.create_permission(&p).await?;
    Ok(Json(permission(&p)))
}

async fn get_permission(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Permission>> {
    Ok(Json(permission(&load_permission(&state, &id).await?)))
}

fn system_refused(p: &PermissionRecord) -> ApiError {
    refused(
        "system_permission_immutable",
        "System permissions cannot be changed",
        format!("{} is a system permission; it cannot be changed or deleted.", p.key),
    )
}

async fn update_permission(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<PermissionParams>,
) -> ApiResult<Json<Permission>> {
    let mut p = load_permission(&state, &id).await?;
    if p.system {
        return Err(system_refused(&p));
    }
    if let Some(k) = b.key.as_deref() {
        p.key = permission_key(k)?;
    }
    if let Some(n) = b.name.as_deref() {
        p.name = display_name(n)?;
    }
    if let Some(d) = b.description.as_deref() {
        p.description = description(d)?;
    }
    p.updated_at = state.now();
    if !state.store.update_permission(&p).await? {
        return Err(ApiError::NotFound("permission"));
    }
    Ok(Json(permission(&p)))
}

async fn delete_permission(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let p = load_permission(&state, &id).await?;
    if p.system {
        return Err(system_refused(&p));
    }
    if !state.store.delete_permission(&p.id).await? {
        return Err(ApiError::NotFound("permission"));
    }
    Ok(Json(json!({"object": "permission", "id": p.id, "deleted": true})))
}
