//! The Frontend API's organization routes, as clerk-js calls them: the signed-in user's
//! memberships and invitations (`/v1/me/organization_…`), and `/v1/organizations…` for
//! creating one and managing it — each action checked against the caller's role.

use axum::{
    Router,
    extract::State,
    response::Response,
    routing::{delete, get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    respond,
    view::{self, Known},
};
use crate::{
    api::backend::{
        invitations::invitation,
        organizations::{last_admin, memberships, name, organization, slug, slug_from},
        roles::role,
    },
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        invitations::{self, NewInvitation},
        organizations::{self as orgs, MEMBERSHIPS_MANAGE, MEMBERSHIPS_READ, PROFILE_DELETE, PROFILE_MANAGE},
    },
    http::{
        extract::{FormOrJson, Path, Query},
        throttle::{self, ClientIp, Limit},
    },
    ids,
    state::AppState,
    store::{
        InvitationFilter, InvitationStatus, MEMBER_ROLE, MembershipChange, MembershipFilter, MembershipRecord, Page,
        UserRecord,
    },
    validate::Paging,
};

pub(super) fn me_router() -> Router<AppState> {
    Router::new()
        .route("/v1/me/organization_memberships", get(my_memberships))
        .route("/v1/me/organization_memberships/{org_id}", delete(leave))
        .route("/v1/me/organization_invitations", get(my_invitations))
        .route("/v1/me/organization_invitations/{id}/accept", post(accept_invitation))
        .route("/v1/me/organization_suggestions", get(no_suggestions))
}

/// Paths the Backend API has too (see [`super::organizations_router`]).
pub(super) fn org_router() -> Router<AppState> {
    Router::new()
        .route("/v1/organizations", post(create_organization))
        .route("/v1/organizations/{id}", get(get_organization).patch(update_organization).delete(delete_organization))
        .route("/v1/organizations/{id}/memberships", get(list_members).post(add_member))
        .route("/v1/organizations/{id}/memberships/{user_id}", axum::routing::patch(change_role).delete(remove_member))
        .route("/v1/organizations/{id}/invitations", get(list_invitations).post(invite))
        .route("/v1/organizations/{id}/invitations/bulk", post(invite_bulk))
        .route("/v1/organizations/{id}/invitations/pending", get(list_pending))
        .route("/v1/organizations/{id}/invitations/{inv}/revoke", post(revoke))
        .route("/v1/organizations/{id}/roles", get(list_roles))
}

/// Drops what only the Backend API may see.
fn public(mut v: Value) -> Value {
    if let Some(map) = v.as_object_mut() {
        map.remove("private_metadata");
        if let Some(org) = map.get_mut("organization").and_then(Value::as_object_mut) {
            org.remove("private_metadata");
        }
    }
    v
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    public(serde_json::to_value(t).unwrap_or(Value::Null))
}

fn paginated(data: Vec<Value>, total: i64) -> Value {
    json!({"data": data, "total_count": total})
}

#[derive(Debug, Deserialize)]
struct Paged {
    limit: Option<i64>,
    offset: Option<i64>,
    #[serde(default)]
    role: Vec<String>,
    status: Option<String>,
}

impl Paged {
    fn page(&self) -> ApiResult<Page> {
        Paging { limit: self.limit, offset: self.offset }.page()
    }
}

async fn answer(state: &AppState, browser: &Browser, user: &UserRecord, response: Value) -> ApiResult<Response> {
    respond(state, browser, response, Known { user: Some(user), ..Known::default() }).await
}

/// The user's memberships as clerk-js embeds them in its `User` (every permission, system ones
/// included, and no private metadata).
pub async fn user_memberships(state: &AppState, user_id: &str) -> ApiResult<Vec<Value>> {
    let list = state.store.user_memberships(user_id).await?;
    Ok(memberships(state, &list).await?.iter().map(to_value).collect())
}

/// `user` as the browser sees it, with its memberships.
pub async fn user_with_memberships(state: &AppState, user: &UserRecord) -> ApiResult<Value> {
    let mut v = view::user(state, user);
    if let Some(map) = v.as_object_mut() {
        map.insert("organization_memberships".into(), Value::Array(user_memberships(state, &user.id).await?));
        map.insert("external_accounts".into(), view::external_accounts(state, &user.id).await?);
    }
    Ok(v)
}

async fn my_memberships(
    State(state): State<AppState>,
    browser: Browser,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let filter = MembershipFilter { user_ids: vec![user.id.clone()], ..MembershipFilter::default() };
    let (list, total) = state.store.list_memberships(&filter, q.page()?).await?;
    let data = memberships(&state, &list).await?.iter().map(to_value).collect();
    answer(&state, &browser, &user, paginated(data, total)).await
}

async fn leave(State(state): State<AppState>, browser: Browser, Path(org_id): Path<String>) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let standing = orgs::standing(&state, &org_id, &user.id).await?;
    match state.store.delete_membership(&standing.organization.id, &user.id).await? {
        MembershipChange::Done(m) => {
            let list = memberships(&state, &[(m, standing.organization)]).await?;
            answer(&state, &browser, &user, to_value(&list[0])).await
        }
        MembershipChange::NotFound => Err(ApiError::NotFound("organization")),
        MembershipChange::LastAdmin => Err(last_admin()),
    }
}

async fn my_invitations(
    State(state): State<AppState>,
    browser: Browser,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let page = q.page()?;
    let all = invitations::pending_for(&state, &user).await?;
    let mut data = Vec::new();
    for i in all.iter().skip(usize::try_from(page.offset).unwrap_or(0)).take(usize::try_from(page.limit).unwrap_or(0)) {
        let mut v = to_value(&invitation(&state, i, None, None).await?);
        if let Some(map) = v.as_object_mut() {
            // clerk-js names the user's own invitations so.
            map.insert("object".into(), json!("user_organization_invitation"));
        }
        data.push(v);
    }
    answer(&state, &browser, &user, paginated(data, all.len() as i64)).await
}

async fn accept_invitation(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let Some(i) = invitations::pending_for(&state, &user).await?.into_iter().find(|i| i.id == id) else {
        return Err(ApiError::NotFound("organization invitation"));
    };
    invitations::accept(&state, &i, &user.id).await?;
    let settled = state.store.get_invitation(&i.id).await?.unwrap_or(i);
    let mut v = to_value(&invitation(&state, &settled, None, None).await?);
    if let Some(map) = v.as_object_mut() {
        map.insert("object".into(), json!("user_organization_invitation"));
    }
    answer(&state, &browser, &user, v).await
}

/// Suggestions come from verified domains, which usher does not have: always none.
async fn no_suggestions(State(state): State<AppState>, browser: Browser) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    answer(&state, &browser, &user, paginated(vec![], 0)).await
}

#[derive(Debug, Default, Deserialize)]
struct OrganizationForm {
    name: Option<String>,
    slug: Option<String>,
}

async fn create_organization(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    browser: Browser,
    FormOrJson(b): FormOrJson<OrganizationForm>,
) -> ApiResult<Response> {
    // Creating is writing: the per-IP creation limit, like sign-ups and sent codes.
    throttle::take(&state, Limit::Create, ip).await?;
    let (_, user) = browser.signed_in(&state).await?;
    let settings = orgs::settings(&state).await?;
    orgs::ensure_enabled(&settings)?;
    if !user.create_organization_enabled {
        return Err(ApiError::Forbidden(usher_types::ClerkError::new(
            "organization_creation_not_allowed",
            "You may not create organizations",
            "Creating organizations is switched off for this account.",
        )));
    }
    let Some(raw) = b.name.as_deref() else {
        return Err(ApiError::invalid("form_param_missing", "name", "name must be included."));
    };
    let n = name(raw)?;
    let s = match b.slug.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => slug("slug", s)?,
        None => slug_from(&n),
    };
    let (org, creator) = orgs::new_organization(&state, &settings, n, s, &user.id);
    state.store.create_organization(&org, Some(&creator)).await?;
    answer(&state, &browser, &user, to_value(&organization(&org, Some(1)))).await
}

async fn get_organization(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let standing = orgs::standing(&state, &id, &user.id).await?;
    answer(&state, &browser, &user, to_value(&organization(&standing.organization, None))).await
}

async fn update_organization(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(b): FormOrJson<OrganizationForm>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, PROFILE_MANAGE).await?;
    let mut org = standing.organization;
    if let Some(n) = b.name.as_deref() {
        org.name = name(n)?;
    }
    if let Some(s) = b.slug.as_deref() {
        org.slug = slug("slug", s)?;
    }
    org.updated_at = state.now();
    if !state.store.update_organization(&org).await? {
        return Err(ApiError::NotFound("organization"));
    }
    answer(&state, &browser, &user, to_value(&organization(&org, None))).await
}

async fn delete_organization(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, PROFILE_DELETE).await?;
    if !standing.organization.admin_delete_enabled {
        return Err(ApiError::Forbidden(usher_types::ClerkError::new(
            "organization_admin_delete_not_enabled",
            "Deleting this organization is not allowed",
            "Deleting this organization is switched off.",
        )));
    }
    let org = standing.organization;
    state.store.delete_organization(&org.id).await?;
    answer(&state, &browser, &user, json!({"object": "organization", "id": org.id, "deleted": true})).await
}

async fn list_members(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_READ).await?;
    let filter = MembershipFilter {
        organization_id: Some(standing.organization.id.clone()),
        user_ids: vec![],
        roles: q.role.clone(),
    };
    let (list, total) = state.store.list_memberships(&filter, q.page()?).await?;
    let data = memberships(&state, &list).await?.iter().map(to_value).collect();
    answer(&state, &browser, &user, paginated(data, total)).await
}

#[derive(Debug, Default, Deserialize)]
struct MemberForm {
    user_id: Option<String>,
    role: Option<String>,
}

async fn add_member(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(b): FormOrJson<MemberForm>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    let Some(user_id) = b.user_id else {
        return Err(ApiError::invalid("form_param_missing", "user_id", "user_id must be included."));
    };
    let role = b.role.unwrap_or_else(|| MEMBER_ROLE.into());
    invitations::known_role(&state, &role).await?;
    standing.may_grant(&role)?;
    if state.store.get_user(&user_id).await?.is_none() {
        return Err(ApiError::invalid("resource_not_found", "user_id", "No user was found with that user_id."));
    }
    if state.store.get_membership(&standing.organization.id, &user_id).await?.is_some() {
        return Err(crate::store::StoreError::Conflict(crate::store::UniqueField::Membership).into());
    }
    let now = state.now();
    let m = MembershipRecord {
        id: ids::new_id("orgmem"),
        organization_id: standing.organization.id.clone(),
        user_id,
        role,
        created_at: now,
        updated_at: now,
        ..MembershipRecord::default()
    };
    if !state.store.create_membership(&m).await? {
        return Err(invitations::quota_exceeded());
    }
    let list = memberships(&state, &[(m, standing.organization)]).await?;
    answer(&state, &browser, &user, to_value(&list[0])).await
}

async fn change_role(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, member)): Path<(String, String)>,
    FormOrJson(b): FormOrJson<MemberForm>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    let standing = orgs::standing(&state, &id, &user.id).await?;
    // A member cannot promote themselves: changing any role needs the manage permission.
    standing.require(MEMBERSHIPS_MANAGE)?;
    let Some(role) = b.role else {
        return Err(ApiError::invalid("form_param_missing", "role", "role must be included."));
    };
    invitations::known_role(&state, &role).await?;
    standing.may_grant(&role)?;
    match state.store.update_membership_role(&standing.organization.id, &member, &role, state.now()).await? {
        MembershipChange::Done(m) => {
            let list = memberships(&state, &[(m, standing.organization)]).await?;
            answer(&state, &browser, &user, to_value(&list[0])).await
        }
        MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
        MembershipChange::LastAdmin => Err(last_admin()),
    }
}

async fn remove_member(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, member)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    match state.store.delete_membership(&standing.organization.id, &member).await? {
        MembershipChange::Done(m) => {
            let list = memberships(&state, &[(m, standing.organization)]).await?;
            answer(&state, &browser, &user, to_value(&list[0])).await
        }
        MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
        MembershipChange::LastAdmin => Err(last_admin()),
    }
}

async fn list_invitations(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(InvitationStatus::parse(s).ok_or_else(|| {
            ApiError::invalid("form_param_value_invalid", "status", "status must be pending, accepted or revoked.")
        })?),
    };
    let filter =
        InvitationFilter { organization_id: Some(standing.organization.id.clone()), email_address: None, status };
    let (list, total) = state.store.list_invitations(&filter, q.page()?).await?;
    let mut data = Vec::with_capacity(list.len());
    for i in &list {
        data.push(to_value(&invitation(&state, i, Some(&standing.organization), None).await?));
    }
    answer(&state, &browser, &user, paginated(data, total)).await
}

/// The signed-in caller and their standing in organization `id`, refused (403) unless they
/// hold `permission`: the check every organization action starts with.
async fn permitted(
    state: &AppState,
    browser: &Browser,
    id: &str,
    permission: &str,
) -> ApiResult<(UserRecord, orgs::Standing)> {
    let (_, user) = browser.signed_in(state).await?;
    let standing = orgs::standing(state, id, &user.id).await?;
    standing.require(permission)?;
    Ok((user, standing))
}

#[derive(Debug, Default, Deserialize)]
struct InviteForm {
    email_address: Option<String>,
    role: Option<String>,
    redirect_url: Option<String>,
}

async fn invite(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(b): FormOrJson<InviteForm>,
) -> ApiResult<Response> {
    // Each invitation sends a mail: the per-IP creation limit.
    throttle::take(&state, Limit::Create, ip).await?;
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    standing.may_grant(b.role.as_deref().unwrap_or(MEMBER_ROLE))?;
    let input = NewInvitation {
        email_address: b.email_address,
        role: b.role,
        inviter_user_id: Some(user.id.clone()),
        redirect_url: b.redirect_url,
        ..NewInvitation::default()
    };
    let (inv, _link) = invitations::invite(&state, &standing.organization, input).await?;
    // The link goes to the invitee's mailbox only, never back to the browser.
    let v = to_value(&invitation(&state, &inv, Some(&standing.organization), None).await?);
    answer(&state, &browser, &user, v).await
}

/// At most this many addresses in one bulk invitation (as the Backend API).
const MAX_BULK: usize = 100;

#[derive(Debug, Default, Deserialize)]
struct BulkInviteForm {
    /// Repeated `email_address=` fields (or a JSON array).
    #[serde(default)]
    email_address: Vec<String>,
    role: Option<String>,
}

/// `POST …/invitations/bulk`: one invitation per address, all with one role. Every address is
/// checked before any invitation is made, so a bad one leaves nothing half done.
async fn invite_bulk(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    browser: Browser,
    Path(id): Path<String>,
    FormOrJson(b): FormOrJson<BulkInviteForm>,
) -> ApiResult<Response> {
    throttle::take(&state, Limit::Create, ip).await?;
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    let Some(role) = b.role.filter(|r| !r.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "role", "role must be included."));
    };
    standing.may_grant(&role)?;
    invitations::known_role(&state, &role).await?;
    if b.email_address.is_empty() {
        return Err(ApiError::invalid("form_param_missing", "email_address", "email_address must be included."));
    }
    if b.email_address.len() > MAX_BULK {
        return Err(ApiError::format("email_address", format!("At most {MAX_BULK} invitations at once.")));
    }
    for raw in &b.email_address {
        crate::validate::email("email_address", raw)?;
    }
    let mut data = Vec::with_capacity(b.email_address.len());
    for email in b.email_address {
        let input = NewInvitation {
            email_address: Some(email),
            role: Some(role.clone()),
            inviter_user_id: Some(user.id.clone()),
            ..NewInvitation::default()
        };
        let (inv, _link) = invitations::invite(&state, &standing.organization, input).await?;
        data.push(to_value(&invitation(&state, &inv, Some(&standing.organization), None).await?));
    }
    answer(&state, &browser, &user, Value::Array(data)).await
}

/// `GET …/invitations/pending` (deprecated by Clerk for `?status=pending`, still called).
async fn list_pending(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    let filter = InvitationFilter {
        organization_id: Some(standing.organization.id.clone()),
        email_address: None,
        status: Some(InvitationStatus::Pending),
    };
    let (list, total) = state.store.list_invitations(&filter, q.page()?).await?;
    let mut data = Vec::with_capacity(list.len());
    for i in &list {
        data.push(to_value(&invitation(&state, i, Some(&standing.organization), None).await?));
    }
    answer(&state, &browser, &user, paginated(data, total)).await
}

async fn revoke(
    State(state): State<AppState>,
    browser: Browser,
    Path((id, inv)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (user, standing) = permitted(&state, &browser, &id, MEMBERSHIPS_MANAGE).await?;
    let i = match state.store.get_invitation(&inv).await? {
        Some(i) if i.organization_id == standing.organization.id => i,
        _ => return Err(ApiError::NotFound("organization invitation")),
    };
    let settled = state
        .store
        .settle_invitation(&i.id, InvitationStatus::Revoked, state.now())
        .await?
        .ok_or(ApiError::NotFound("organization invitation"))?;
    if settled.status != InvitationStatus::Revoked {
        return Err(ApiError::invalid(
            "organization_invitation_not_pending",
            "invitation_id",
            format!("This invitation is {} and can no longer be revoked.", settled.status.as_str()),
        ));
    }
    let v = to_value(&invitation(&state, &settled, Some(&standing.organization), None).await?);
    answer(&state, &browser, &user, v).await
}

async fn list_roles(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(q): Query<Paged>,
) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(&state).await?;
    orgs::standing(&state, &id, &user.id).await?;
    let (list, total) = state.store.list_roles(q.page()?).await?;
    let mut data = Vec::with_capacity(list.len());
    for r in &list {
        data.push(serde_json::to_value(role(&state, r).await?).unwrap_or(Value::Null));
    }
    answer(&state, &browser, &user, paginated(data, total)).await
}
