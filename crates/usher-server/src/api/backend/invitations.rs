//! `/v1/organizations/{id}/invitations…`, `/v1/organization_invitations` and
//! `/v1/users/{id}/organization_invitations`.

use axum::{
    Json, Router,
    body::Bytes,
    extract::State,
    response::Response,
    routing::{get, post},
};
use serde::Deserialize;
use usher_types::{
    ClerkError, OrganizationInvitation,
    organization::PublicOrganizationData,
    requests::{InvitationParams, RevokeInvitationParams},
};

use super::{list_response, organizations::load_organization, users};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        audit::Actor,
        invitations::{self, NewInvitation},
    },
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    store::{InvitationFilter, InvitationRecord, InvitationStatus, InvitationView, OrganizationRecord},
    validate::Paging,
};

/// At most this many invitations in one bulk request.
const MAX_BULK: usize = 100;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/organizations/{id}/invitations", get(list_org_invitations).post(create_invitation))
        .route("/organizations/{id}/invitations/bulk", post(create_bulk))
        .route("/organizations/{id}/invitations/pending", get(list_pending))
        .route("/organizations/{id}/invitations/{inv}", get(get_invitation))
        .route("/organizations/{id}/invitations/{inv}/revoke", post(revoke_invitation))
        .route("/organization_invitations", get(list_all_invitations))
        .route("/users/{id}/organization_invitations", get(list_user_invitations))
}

/// The wire invitation; `url` only in the answer that created it.
pub(crate) async fn invitation(
    state: &AppState,
    i: &InvitationRecord,
    org: Option<&OrganizationRecord>,
    url: Option<String>,
) -> ApiResult<OrganizationInvitation> {
    let loaded;
    let org = match org {
        Some(o) => Some(o),
        None => {
            loaded = state.store.get_organization(&i.organization_id).await?;
            loaded.as_ref()
        }
    };
    let role_name = state.store.get_role_by_key(&i.role).await?.map(|r| r.name).unwrap_or_else(|| i.role.clone());
    Ok(invitation_wire(i, org, role_name, state.now(), url))
}

/// An invitation as a webhook's `data`.
pub(crate) fn invitation_event(v: &InvitationView, now: i64) -> serde_json::Value {
    serde_json::to_value(invitation_wire(&v.invitation, v.organization.as_ref(), v.role_name.clone(), now, None))
        .unwrap_or_default()
}

fn invitation_wire(
    i: &InvitationRecord,
    org: Option<&OrganizationRecord>,
    role_name: String,
    now: i64,
    url: Option<String>,
) -> OrganizationInvitation {
    // A pending invitation past its end reads as expired, as Clerk shows it.
    let status =
        if i.status == InvitationStatus::Pending && i.expires_at <= now { InvitationStatus::Expired } else { i.status };
    OrganizationInvitation {
        object: "organization_invitation".into(),
        id: i.id.clone(),
        email_address: i.email_address.clone(),
        role: i.role.clone(),
        role_name,
        organization_id: i.organization_id.clone(),
        public_organization_data: org.map(|o| PublicOrganizationData {
            id: o.id.clone(),
            name: o.name.clone(),
            slug: o.slug.clone(),
            image_url: o.image_url.clone().unwrap_or_default(),
            has_image: o.image_url.is_some(),
        }),
        inviter_user_id: i.inviter_user_id.clone(),
        status,
        url,
        public_metadata: i.public_metadata.clone(),
        private_metadata: i.private_metadata.clone(),
        expires_at: i.expires_at,
        created_at: i.created_at,
        updated_at: i.updated_at,
    }
}

fn new_invitation(b: InvitationParams) -> NewInvitation {
    NewInvitation {
        email_address: b.email_address,
        role: b.role,
        inviter_user_id: b.inviter_user_id,
        redirect_url: b.redirect_url,
        expires_in_days: b.expires_in_days,
        public_metadata: b.public_metadata,
        private_metadata: b.private_metadata,
    }
}

async fn create_invitation(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<InvitationParams>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let org = load_organization(&state, &id).await?;
    let (inv, url) = invitations::invite_as(&state, &Actor::secret_key(), &org, new_invitation(b)).await?;
    Ok(Json(invitation(&state, &inv, Some(&org), Some(url)).await?))
}

/// `@clerk/backend` sends the bulk request as a JSON array of invitation objects.
async fn create_bulk(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Vec<OrganizationInvitation>>> {
    let items: Vec<InvitationParams> = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(ClerkError::new(
            "malformed_request",
            "Request body is not a JSON array of invitations",
            format!("The request body must be a JSON array of invitation objects: {e}"),
        ))
    })?;
    if items.is_empty() || items.len() > MAX_BULK {
        return Err(ApiError::format("body", format!("Send between 1 and {MAX_BULK} invitations.")));
    }
    let org = load_organization(&state, &id).await?;
    let mut out = Vec::with_capacity(items.len());
    for b in items {
        let (inv, url) = invitations::invite_as(&state, &Actor::secret_key(), &org, new_invitation(b)).await?;
        out.push(invitation(&state, &inv, Some(&org), Some(url)).await?);
    }
    Ok(Json(out))
}

#[derive(Debug, Deserialize)]
struct ListInvitations {
    status: Option<String>,
    email_address: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

fn status(raw: Option<&str>) -> ApiResult<Option<InvitationStatus>> {
    match raw.filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => InvitationStatus::parse(s).map(Some).ok_or_else(|| {
            ApiError::invalid(
                "form_param_value_invalid",
                "status",
                "status must be pending, accepted, revoked or expired.",
            )
        }),
    }
}

async fn list_with(state: &AppState, filter: InvitationFilter, q: &ListInvitations) -> ApiResult<Response> {
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    let (list, total) = state.store.list_invitations(&filter, page).await?;
    let mut data = Vec::with_capacity(list.len());
    for i in &list {
        data.push(invitation(state, i, None, None).await?);
    }
    Ok(list_response(data, total, true))
}

async fn list_org_invitations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListInvitations>,
) -> ApiResult<Response> {
    let org = load_organization(&state, &id).await?;
    let filter = InvitationFilter {
        organization_id: Some(org.id),
        email_address: q.email_address.as_deref().map(str::to_lowercase),
        status: status(q.status.as_deref())?,
    };
    list_with(&state, filter, &q).await
}

async fn list_pending(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListInvitations>,
) -> ApiResult<Response> {
    let org = load_organization(&state, &id).await?;
    let filter = InvitationFilter {
        organization_id: Some(org.id),
        email_address: None,
        status: Some(InvitationStatus::Pending),
    };
    list_with(&state, filter, &q).await
}

async fn list_all_invitations(State(state): State<AppState>, Query(q): Query<ListInvitations>) -> ApiResult<Response> {
    let filter = InvitationFilter {
        organization_id: None,
        email_address: q.email_address.as_deref().map(str::to_lowercase),
        status: status(q.status.as_deref())?,
    };
    list_with(&state, filter, &q).await
}

/// Invitations sent to any of the user's email addresses.
async fn list_user_invitations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ListInvitations>,
) -> ApiResult<Response> {
    let user = users::load(&state, &id).await?;
    let status = status(q.status.as_deref())?;
    let page = Paging { limit: q.limit, offset: q.offset }.page()?;
    // Users have few addresses: list each one's invitations and page the union here.
    let mut all = Vec::new();
    for e in &user.emails {
        let filter = InvitationFilter { organization_id: None, email_address: Some(e.value.to_lowercase()), status };
        let (list, _) = state.store.list_invitations(&filter, crate::store::Page { limit: 500, offset: 0 }).await?;
        all.extend(list);
    }
    all.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
    let total = i64::try_from(all.len()).unwrap_or(i64::MAX);
    let mut data = Vec::new();
    for i in all.iter().skip(usize::try_from(page.offset).unwrap_or(0)).take(usize::try_from(page.limit).unwrap_or(0)) {
        data.push(invitation(&state, i, None, None).await?);
    }
    Ok(list_response(data, total, true))
}

async fn load_invitation(state: &AppState, org: &OrganizationRecord, inv: &str) -> ApiResult<InvitationRecord> {
    match state.store.get_invitation(inv).await? {
        Some(i) if i.organization_id == org.id => Ok(i),
        _ => Err(ApiError::NotFound("organization invitation")),
    }
}

async fn get_invitation(
    State(state): State<AppState>,
    Path((id, inv)): Path<(String, String)>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let org = load_organization(&state, &id).await?;
    let i = load_invitation(&state, &org, &inv).await?;
    Ok(Json(invitation(&state, &i, Some(&org), None).await?))
}

async fn revoke_invitation(
    State(state): State<AppState>,
    Path((id, inv)): Path<(String, String)>,
    JsonBody(_b): JsonBody<RevokeInvitationParams>,
) -> ApiResult<Json<OrganizationInvitation>> {
    let org = load_organization(&state, &id).await?;
    let settled = invitations::revoke(&state, &Actor::secret_key(), &org, &inv).await?;
    Ok(Json(invitation(&state, &settled, Some(&org), None).await?))
}
