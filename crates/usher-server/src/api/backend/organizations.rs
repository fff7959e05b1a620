//! `/v1/organizations` and their memberships, `/v1/organization_memberships` and
//! `/v1/users/{id}/organization_memberships`.

use std::collections::HashMap;

use axum::{
    Json, Router,
    extract::State,
    response::Response,
    routing::{get, patch},
};
use serde::Deserialize;
use serde_json::{Map, Value};
use usher_types::{
    ClerkError, Organization, OrganizationMembership, PublicUserData,
    requests::{MembershipParams, OrganizationMetadataParams, OrganizationParams},
};

use super::list_response;
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        audit::Actor,
        organizations::{self as orgs, NewMembership, NewOrganization},
    },
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    store::{
        MembershipFilter, MembershipRecord, MembershipView, OrganizationOrder, OrganizationQuery, OrganizationRecord,
        UserRecord,
    },
    validate::{self, Paging},
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations", get(list_organizations).post(create_organization))
        .route("/organizations/{id}", get(get_organization).patch(update_organization).delete(delete_organization))
        .route("/organizations/{id}/metadata", patch(merge_metadata).put(replace_metadata))
        .route("/organizations/{id}/logo", axum::routing::put(logo_unsupported).delete(logo_unsupported))
        .route("/organizations/{id}/memberships", get(list_org_memberships).post(create_membership))
        .route("/organizations/{id}/memberships/{user_id}", patch(update_membership).delete(delete_membership))
        .route("/organizations/{id}/memberships/{user_id}/metadata", patch(membership_metadata))
        .route("/organization_memberships", get(list_all_memberships))
        .route("/users/{id}/organization_memberships", get(list_user_memberships))
}

/// An organization as a webhook's `data` (no members count, as Clerk sends it).
pub(crate) fn organization_event(o: &OrganizationRecord) -> serde_json::Value {
    serde_json::to_value(organization(o, None)).unwrap_or_default()
}

/// The wire organization.
pub(crate) fn organization(o: &OrganizationRecord, members_count: Option<i64>) -> Organization {
    Organization {
        object: "organization".into(),
        id: o.id.clone(),
        name: o.name.clone(),
        slug: o.slug.clone(),
        image_url: o.image_url.clone().unwrap_or_default(),
        has_image: o.image_url.is_some(),
        members_count,
        max_allowed_memberships: o.max_allowed_memberships,
        admin_delete_enabled: o.admin_delete_enabled,
        public_metadata: o.public_metadata.clone(),
        private_metadata: o.private_metadata.clone(),
        created_by: o.created_by.clone(),
        created_at: o.created_at,
        updated_at: o.updated_at,
    }
}

pub(crate) use crate::flows::organizations::{last_admin, name, slug, slug_from};

pub(super) async fn load_organization(state: &AppState, id_or_slug: &str) -> ApiResult<OrganizationRecord> {
    load(state, id_or_slug).await
}

async fn load(state: &AppState, id_or_slug: &str) -> ApiResult<OrganizationRecord> {
    state.store.get_organization(id_or_slug).await?.ok_or(ApiError::NotFound("organization"))
}

async fn create_organization(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<OrganizationParams>,
) -> ApiResult<Json<Organization>> {
    let new = NewOrganization {
        name: b.name,
        slug: b.slug,
        created_by: b.created_by,
        max_allowed_memberships: b.max_allowed_memberships,
        admin_delete_enabled: b.admin_delete_enabled,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
    };
    let (org, with_creator) = orgs::create(&state, &Actor::secret_key(), new).await?;
    Ok(Json(organization(&org, Some(i64::from(with_creator)))))
}

#[derive(Debug, Deserialize)]
struct ListOrganizations {
    query: Option<String>,
    order_by: Option<String>,
    #[serde(default, deserialize_with = "validate::bool_or_text")]
    include_members_count: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_organizations(State(state): State<AppState>, Query(q): Query<ListOrganizations>) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    // Clerk's default is newest first.
    let raw = q.order_by.as_deref().unwrap_or("-created_at");
    let (descending, field) = match raw.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, raw.strip_prefix('+').unwrap_or(raw)),
    };
    let order = match field {
        "created_at" => OrganizationOrder::CreatedAt,
        "name" => OrganizationOrder::Name,
        "members_count" => OrganizationOrder::MembersCount,
        _ => {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "order_by",
                "order_by must be created_at, name or members_count, optionally prefixed by + or -.",
            ));
        }
    };
    let query = OrganizationQuery { query: q.query.clone(), order, descending };
    let (orgs, total) = state.store.list_organizations(&query, page).await?;
    let counts = q.include_members_count.unwrap_or(false);
    let data = orgs.iter().map(|(o, n)| organization(o, counts.then_some(*n))).collect();
    Ok(list_response(data, total, true))
}

async fn get_organization(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Organization>> {
    Ok(Json(organization(&load(&state, &id).await?, None)))
}

async fn update_organization(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<OrganizationParams>,
) -> ApiResult<Json<Organization>> {
    let mut org = load(&state, &id).await?;
    if let Some(n) = b.name.as_deref() {
        org.name = name(n)?;
    }
    if let Some(s) = b.slug.as_deref() {
        org.slug = slug("slug", s)?;
    }
    if let Some(max) = b.max_allowed_memberships {
        if max < 0 {
            return Err(ApiError::format("max_allowed_memberships", "max_allowed_memberships must be 0 or more."));
        }
        org.max_allowed_memberships = max;
    }
    if let Some(v) = b.admin_delete_enabled {
        org.admin_delete_enabled = v;
    }
    if let Some(m) = b.public_metadata {
        org.public_metadata = validate::metadata("public_metadata", m)?;
    }
    if let Some(m) = b.private_metadata {
        org.private_metadata = validate::metadata("private_metadata", m)?;
    }
    org.updated_at = state.now();
    if !state.store.update_organization(&org).await? {
        return Err(ApiError::NotFound("organization"));
    }
    Ok(Json(organization(&org, None)))
}

/// Applies each given object: merged deeply (`null` removes a key), or replacing.
fn apply_metadata(
    targets: [&mut Map<String, Value>; 2],
    b: OrganizationMetadataParams,
    replace: bool,
) -> ApiResult<()> {
    for ((param, patch), target) in
        [("public_metadata", b.public_metadata), ("private_metadata", b.private_metadata)].into_iter().zip(targets)
    {
        match patch {
            Some(p) if replace => *target = p,
            Some(p) => validate::merge(target, p),
            None => continue,
        }
        *target = validate::metadata(param, std::mem::take(target))?;
    }
    Ok(())
}

async fn metadata(
    state: AppState,
    id: String,
    b: OrganizationMetadataParams,
    replace: bool,
) -> ApiResult<Json<Organization>> {
    let mut org = load(&state, &id).await?;
    apply_metadata([&mut org.public_metadata, &mut org.private_metadata], b, replace)?;
    org.updated_at = state.now();
    if !state.store.update_organization(&org).await? {
        return Err(ApiError::NotFound("organization"));
    }
    Ok(Json(organization(&org, None)))
}

async fn merge_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<OrganizationMetadataParams>,
) -> ApiResult<Json<Organization>> {
    metadata(state, id, b, false).await
}

async fn replace_metadata(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<OrganizationMetadataParams>,
) -> ApiResult<Json<Organization>> {
    metadata(state, id, b, true).await
}

async fn delete_organization(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<Value>> {
    let org = orgs::delete(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(serde_json::json!({"object": "organization", "id": org.id, "slug": org.slug, "deleted": true})))
}

/// Logos need file storage, which usher does not have: a clear refusal rather than a 404 that
/// would read as "no such organization".
async fn logo_unsupported() -> ApiError {
    ApiError::BadRequest(ClerkError::new(
        "feature_not_supported",
        "Organization logos are not supported",
        "This server does not store uploaded images; organization logos cannot be set or removed.",
    ))
}

fn public_user_data(u: Option<&UserRecord>, user_id: &str) -> PublicUserData {
    let identifier = u
        .and_then(|u| {
            u.emails
                .iter()
                .find(|e| Some(&e.id) == u.primary_email_address_id.as_ref())
                .map(|e| e.value.clone())
                .or_else(|| u.username.clone())
        })
        .unwrap_or_default();
    PublicUserData {
        user_id: user_id.into(),
        first_name: u.and_then(|u| u.first_name.clone()),
        last_name: u.and_then(|u| u.last_name.clone()),
        image_url: String::new(),
        has_image: false,
        identifier,
        username: u.and_then(|u| u.username.clone()),
    }
}

/// Memberships on the wire, with each role's name and permissions (looked up once per role).
pub(crate) async fn memberships(
    state: &AppState,
    list: &[(MembershipRecord, OrganizationRecord)],
) -> ApiResult<Vec<OrganizationMembership>> {
    let mut roles: HashMap<String, (String, Vec<String>)> = HashMap::new();
    let mut out = Vec::with_capacity(list.len());
    for (m, o) in list {
        if !roles.contains_key(&m.role) {
            let name = state.store.get_role_by_key(&m.role).await?.map(|r| r.name).unwrap_or_else(|| m.role.clone());
            let perms = state.store.role_permissions(&m.role).await?.into_iter().map(|p| p.key).collect();
            roles.insert(m.role.clone(), (name, perms));
        }
        let (role_name, permissions) = roles[&m.role].clone();
        let user = state.store.get_user(&m.user_id).await?;
        out.push(membership_wire(m, o, role_name, permissions, user.as_ref()));
    }
    Ok(out)
}

/// A membership as a webhook's `data`.
pub(crate) fn membership_event(v: &MembershipView) -> Value {
    let wire =
        membership_wire(&v.membership, &v.organization, v.role_name.clone(), v.permissions.clone(), v.user.as_ref());
    serde_json::to_value(wire).unwrap_or_default()
}

fn membership_wire(
    m: &MembershipRecord,
    o: &OrganizationRecord,
    role_name: String,
    permissions: Vec<String>,
    user: Option<&UserRecord>,
) -> OrganizationMembership {
    OrganizationMembership {
        object: "organization_membership".into(),
        id: m.id.clone(),
        role: m.role.clone(),
        role_name,
        permissions,
        public_metadata: m.public_metadata.clone(),
        private_metadata: m.private_metadata.clone(),
        organization: organization(o, None),
        public_user_data: public_user_data(user, &m.user_id),
        created_at: m.created_at,
        updated_at: m.updated_at,
    }
}

async fn one_membership(
    state: &AppState,
    m: MembershipRecord,
    o: OrganizationRecord,
) -> ApiResult<Json<OrganizationMembership>> {
    let mut list = memberships(state, &[(m, o)]).await?;
    Ok(Json(list.remove(0)))
}

async fn create_membership(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<MembershipParams>,
) -> ApiResult<Json<OrganizationMembership>> {
    let org = load(&state, &id).await?;
    let new = NewMembership {
        user_id: b.user_id,
        role: b.role,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
    };
    let m = orgs::add_member(&state, &Actor::secret_key(), &org, new).await?;
    one_membership(&state, m, org).await
}

async fn update_membership(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<MembershipParams>,
) -> ApiResult<Json<OrganizationMembership>> {
    let org = load(&state, &id).await?;
    let m = orgs::change_role(&state, &Actor::secret_key(), &org, &user_id, b.role.as_deref()).await?;
    one_membership(&state, m, org).await
}

async fn membership_metadata(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    JsonBody(b): JsonBody<OrganizationMetadataParams>,
) -> ApiResult<Json<OrganizationMembership>> {
    let org = load(&state, &id).await?;
    let mut m =
        state.store.get_membership(&org.id, &user_id).await?.ok_or(ApiError::NotFound("organization membership"))?;
    apply_metadata([&mut m.public_metadata, &mut m.private_metadata], b, false)?;
    m.updated_at = state.now();
    if !state.store.update_membership_metadata(&m).await? {
        return Err(ApiError::NotFound("organization membership"));
    }
    one_membership(&state, m, org).await
}

async fn delete_membership(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationMembership>> {
    let org = load(&state, &id).await?;
    let m = orgs::remove_member(&state, &Actor::secret_key(), &org, &user_id).await?;
    one_membership(&state, m, org).await
}

#[derive(Debug, Deserialize)]
struct ListMemberships {
    /// Repeated `role=` parameters.
    #[serde(default)]
    role: Vec<String>,
    #[serde(default)]
    user_id: Vec<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_with(state: &AppState, filter: MembershipFilter, q: &ListMemberships) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_memberships(&filter, page).await?;
    Ok(list_response(memberships(state, &list).await?, total, true))
}

async fn list_org_memberships(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListMemberships>,
) -> ApiResult<Response> {
    let org = load(&state, &id).await?;
    let filter = MembershipFilter { organization_id: Some(org.id), user_ids: q.user_id.clone(), roles: q.role.clone() };
    list_with(&state, filter, &q).await
}

async fn list_all_memberships(State(state): State<AppState>, Query(q): Query<ListMemberships>) -> ApiResult<Response> {
    let filter = MembershipFilter { organization_id: None, user_ids: q.user_id.clone(), roles: q.role.clone() };
    list_with(&state, filter, &q).await
}

async fn list_user_memberships(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListMemberships>,
) -> ApiResult<Response> {
    let filter = MembershipFilter { organization_id: None, user_ids: vec![id], roles: vec![] };
    list_with(&state, filter, &q).await
}
