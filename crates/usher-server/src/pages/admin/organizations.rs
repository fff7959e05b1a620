//! The console's organizations: the list with search, creating one, and an organization's
//! page (its facts, metadata, members, pending invitations, deletion). The work is [`crate::flows::organizations`]'s and
//! [`crate::flows::invitations`]'s, the same the Backend API calls, so the same rules hold
//! (the last admin stays an admin, known roles only, the membership limit) and the same
//! webhook events and audit entries are written, with the admin as the actor.

use std::fmt::Write as _;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{Admin, AdminPost, Fields, button_form, csrf_field, enter, frame, given, pager, problem_page};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser, account,
        admin::parse_metadata,
        audit::Actor,
        invitations::{self, NewInvitation},
        organizations::{self as orgs, NewMembership, NewOrganization},
    },
    http::extract::{Path, Query},
    pages::layout::{self, Problem, escape, format_time, url_encode},
    state::AppState,
    store::{
        InvitationFilter, InvitationStatus, MembershipFilter, OrganizationOrder, OrganizationQuery, OrganizationRecord,
        Page, RoleRecord,
    },
};

/// The organization screens' routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/organizations", get(list).post(create))
        .route("/admin/organizations/{id}", get(organization_page))
        .route("/admin/organizations/{id}/metadata", post(metadata))
        .route("/admin/organizations/{id}/delete", post(delete))
        .route("/admin/organizations/{id}/members", post(add_member))
        .route("/admin/organizations/{id}/members/{user_id}/role", post(change_role))
        .route("/admin/organizations/{id}/members/{user_id}/remove", post(remove_member))
        .route("/admin/organizations/{id}/invitations", post(invite))
        .route("/admin/organizations/{id}/invitations/{invitation_id}/revoke", post(revoke))
}

/// Organizations shown on a page of the list.
const ORGS_PER_PAGE: i64 = 25;
/// Members shown on a page of an organization.
const MEMBERS_PER_PAGE: i64 = 50;
/// Every role an instance has fits here (roles are a handful, not a list to page).
const ROLES: Page = Page { limit: 500, offset: 0 };

fn org_path(id: &str) -> String {
    format!("/admin/organizations/{}", url_encode(id))
}

/// `GET /admin/organizations`: search by name, slug or id, pages, and the create form.
async fn list(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match list_body(&state, &admin, &f).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Organizations", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/organizations")),
    }
}

async fn list_body(state: &AppState, admin: &Admin, f: &Fields) -> ApiResult<String> {
    let q = given(&f.q);
    if q.is_some_and(|q| q.len() > 256) {
        return Err(ApiError::invalid("form_param_value_invalid", "q", "The search is at most 256 characters."));
    }
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let query =
        OrganizationQuery { query: q.map(str::to_lowercase), order: OrganizationOrder::CreatedAt, descending: true };
    let (found, total) = state
        .store
        .list_organizations(&query, Page { limit: ORGS_PER_PAGE, offset: (page - 1) * ORGS_PER_PAGE })
        .await?;
    let mut body = String::new();
    if given(&f.done) == Some("deleted") {
        body.push_str(&layout::status(Some("Organization deleted")));
    }
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/admin/organizations\" role=\"search\">\
         <div><label for=\"q\">Name, slug or id</label><input type=\"search\" id=\"q\" name=\"q\" value=\"{}\"></div>\
         <div><button type=\"submit\">Search</button></div></form><p class=\"muted\" role=\"status\">{total} organizations</p>",
        escape(f.q.as_deref().unwrap_or_default())
    );
    body.push_str(
        "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Slug</th>\
         <th scope=\"col\">Members</th><th scope=\"col\">Created</th></tr></thead><tbody>",
    );
    for (o, members) in &found {
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a><br><code class=\"muted\">{}</code></td><td>{}</td><td>{members}</td><td>{}</td></tr>",
            escape(&org_path(&o.id)),
            escape(&o.name),
            escape(&o.id),
            escape(&o.slug),
            escape(&format_time(o.created_at)),
        );
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&pager("/admin/organizations", &[("q", &f.q)], page, (total + ORGS_PER_PAGE - 1) / ORGS_PER_PAGE));
    let _ = write!(
        body,
        "<h2>Create an organization</h2><form method=\"post\" action=\"/admin/organizations\">{csrf}\
         <div class=\"field\"><label for=\"name\">Name</label><input type=\"text\" id=\"name\" name=\"name\" required maxlength=\"256\"></div>\
         <div class=\"field\"><label for=\"slug\">Slug</label><p class=\"hint\" id=\"slug-hint\">Optional: made from the name when empty.</p>\
         <input type=\"text\" id=\"slug\" name=\"slug\" maxlength=\"64\" aria-describedby=\"slug-hint\"></div>\
         <div class=\"field\"><label for=\"max_allowed_memberships\">Membership limit</label><p class=\"hint\" id=\"max-hint\">0 for none; empty for the instance's default.</p>\
         <input type=\"number\" min=\"0\" id=\"max_allowed_memberships\" name=\"max_allowed_memberships\" aria-describedby=\"max-hint\"></div>\
         <div class=\"field\"><label for=\"user\">First admin (email or user id)</label><p class=\"hint\" id=\"user-hint\">Optional: made a member with the creator role.</p>\
         <input type=\"text\" id=\"user\" name=\"user\" aria-describedby=\"user-hint\"></div>\
         <button type=\"submit\">Create organization</button></form>",
        csrf = csrf_field(admin),
    );
    Ok(body)
}

/// The user a form names by id (`user_…`) or by email address, or a clear refusal.
async fn named_user(state: &AppState, raw: Option<&str>) -> ApiResult<String> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "user", "Give the user's email address or id."));
    };
    let found = if raw.starts_with("user_") {
        state.store.get_user(raw).await?
    } else {
        account::find_user(state, &raw.to_lowercase()).await?
    };
    found.map(|u| u.id).ok_or_else(|| ApiError::invalid("resource_not_found", "user", format!("No user is {raw}.")))
}

/// A whole number typed in a form, named `param` in its error.
fn number(param: &str, raw: &Option<String>) -> ApiResult<Option<i64>> {
    match given(raw) {
        None => Ok(None),
        Some(text) => {
            text.parse().map(Some).map_err(|_| ApiError::format(param, format!("{param} must be a whole number.")))
        }
    }
}

/// `POST /admin/organizations`.
async fn create(State(state): State<AppState>, post: AdminPost) -> Response {
    post.answer(&state, "/admin/organizations", async |state, admin, f| {
        let created_by = match given(&f.user) {
            Some(user) => Some(named_user(state, Some(user)).await?),
            None => None,
        };
        let new = NewOrganization {
            name: f.name.clone(),
            slug: f.slug.clone(),
            created_by,
            max_allowed_memberships: number("max_allowed_memberships", &f.max_allowed_memberships)?,
            ..NewOrganization::default()
        };
        let (org, _) = orgs::create(state, &Actor::admin(&admin.user.id), new).await?;
        Ok(format!("{}?done=created", org_path(&org.id)))
    })
    .await
}

/// `GET /admin/organizations/{id}`.
async fn organization_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    browser: Browser,
    Query(f): Query<Fields>,
) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match organization_body(&state, &admin, &id, &f).await {
        Ok((title, body)) => frame(&state, Some(&admin), StatusCode::OK, &title, &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/organizations")),
    }
}

fn pretty(map: &serde_json::Map<String, serde_json::Value>) -> String {
    serde_json::to_string_pretty(map).unwrap_or_else(|_| "{}".into())
}

/// A `<select name="role">` of every role, `current` chosen.
fn role_select(id: &str, roles: &[RoleRecord], current: &str, label: &str) -> String {
    let mut out = format!("<label for=\"{id}\">{}</label><select id=\"{id}\" name=\"role\">", escape(label));
    for r in roles {
        let selected = if r.key == current { " selected" } else { "" };
        let _ = write!(out, "<option value=\"{}\"{selected}>{}</option>", escape(&r.key), escape(&r.name));
    }
    out.push_str("</select>");
    out
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "created" => "Organization created",
        "metadata" => "Metadata saved",
        "member_added" => "Member added",
        "role_changed" => "Role changed",
        "member_removed" => "Member removed",
        "invited" => "Invitation sent",
        "revoked" => "Invitation revoked",
        _ => return None,
    })
}

async fn organization_body(state: &AppState, admin: &Admin, id: &str, f: &Fields) -> ApiResult<(String, String)> {
    let org = orgs::load(state, id).await?;
    let base = org_path(&org.id);
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let filter = MembershipFilter { organization_id: Some(org.id.clone()), ..MembershipFilter::default() };
    let (members, members_total) = state
        .store
        .list_memberships(&filter, Page { limit: MEMBERS_PER_PAGE, offset: (page - 1) * MEMBERS_PER_PAGE })
        .await?;
    let (roles, _) = state.store.list_roles(ROLES).await?;
    let mut body = layout::status(done_message(given(&f.done)));

    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Id</dt><dd><code>{}</code></dd><dt>Name</dt><dd>{}</dd><dt>Slug</dt><dd>{}</dd>\
         <dt>Members</dt><dd>{members_total}</dd><dt>Membership limit</dt><dd>{}</dd><dt>Created by</dt><dd>{}</dd>\
         <dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd></dl>",
        escape(&org.id),
        escape(&org.name),
        escape(&org.slug),
        if org.max_allowed_memberships == 0 { "none".to_owned() } else { org.max_allowed_memberships.to_string() },
        org.created_by.as_deref().map(|u| format!("<code>{}</code>", escape(u))).unwrap_or_else(|| "—".into()),
        escape(&format_time(org.created_at)),
        escape(&format_time(org.updated_at)),
    );

    // Members.
    body.push_str(
        "<h2>Members</h2><div class=\"scroll\"><table><thead><tr><th scope=\"col\">User</th>\
         <th scope=\"col\">Role</th><th scope=\"col\">Since</th><th scope=\"col\">Actions</th></tr></thead><tbody>",
    );
    for (n, (m, _)) in members.iter().enumerate() {
        let user = state.store.get_user(&m.user_id).await?;
        let who = user.as_ref().and_then(|u| u.primary_email()).map_or(m.user_id.as_str(), |e| e.value.as_str());
        let member = format!("{base}/members/{}", url_encode(&m.user_id));
        let _ = write!(
            body,
            "<tr><td><a href=\"/admin/users/{uid}\">{who}</a><br><code class=\"muted\">{user_id}</code></td><td>{role}</td><td>{since}</td>\
             <td><form class=\"inline\" method=\"post\" action=\"{action}/role\">{csrf}{select} <button type=\"submit\">Change role</button></form> {remove}</td></tr>",
            uid = escape(&url_encode(&m.user_id)),
            who = escape(who),
            user_id = escape(&m.user_id),
            role = escape(&m.role),
            since = escape(&format_time(m.created_at)),
            action = escape(&member),
            csrf = csrf_field(admin),
            select = role_select(&format!("role-{n}"), &roles, &m.role, "Role"),
            remove = button_form(admin, &format!("{member}/remove"), "Remove", "danger"),
        );
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&pager(&base, &[], page, (members_total + MEMBERS_PER_PAGE - 1) / MEMBERS_PER_PAGE));
    let _ = write!(
        body,
        "<h3>Add a member</h3><form method=\"post\" action=\"{base}/members\">{csrf}\
         <div class=\"field\"><label for=\"member-user\">Email address or user id</label>\
         <input type=\"text\" id=\"member-user\" name=\"user\" required autocomplete=\"off\"></div>\
         <div class=\"field\">{select}</div><button type=\"submit\">Add member</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        select = role_select("member-role", &roles, crate::store::MEMBER_ROLE, "Role"),
    );

    // Invitations.
    let filter = InvitationFilter {
        organization_id: Some(org.id.clone()),
        email_address: None,
        status: Some(InvitationStatus::Pending),
    };
    let (pending, _) = state.store.list_invitations(&filter, Page { limit: 100, offset: 0 }).await?;
    let now = state.now();
    body.push_str("<h2>Pending invitations</h2>");
    let live: Vec<_> = pending.iter().filter(|i| i.expires_at > now).collect();
    if live.is_empty() {
        body.push_str("<p class=\"muted\">None.</p>");
    } else {
        body.push_str(
            "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">Email address</th><th scope=\"col\">Role</th>\
             <th scope=\"col\">Expires</th><th scope=\"col\">Actions</th></tr></thead><tbody>",
        );
        for i in live {
            let _ = write!(
                body,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&i.email_address),
                escape(&i.role),
                escape(&format_time(i.expires_at)),
                button_form(admin, &format!("{base}/invitations/{}/revoke", url_encode(&i.id)), "Revoke", "danger"),
            );
        }
        body.push_str("</tbody></table></div>");
    }
    let _ = write!(
        body,
        "<h3>Invite someone</h3><form method=\"post\" action=\"{base}/invitations\">{csrf}\
         <div class=\"field\"><label for=\"invite-email\">Email address</label>\
         <p class=\"hint\" id=\"invite-hint\">They get an email with a link that works once, for 30 days.</p>\
         <input type=\"email\" id=\"invite-email\" name=\"email_address\" required autocomplete=\"off\" aria-describedby=\"invite-hint\"></div>\
         <div class=\"field\">{select}</div><button type=\"submit\">Send invitation</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        select = role_select("invite-role", &roles, crate::store::MEMBER_ROLE, "Role"),
    );

    // Metadata.
    let _ = write!(
        body,
        "<h2>Metadata</h2><form method=\"post\" action=\"{base}/metadata\">{csrf}\
         <p class=\"hint\">Each must be a JSON object; it replaces what is there.</p>\
         <div class=\"field\"><label for=\"public_metadata\">Public metadata</label><textarea id=\"public_metadata\" name=\"public_metadata\" spellcheck=\"false\">{public}</textarea></div>\
         <div class=\"field\"><label for=\"private_metadata\">Private metadata</label><textarea id=\"private_metadata\" name=\"private_metadata\" spellcheck=\"false\">{private}</textarea></div>\
         <button type=\"submit\">Save metadata</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        public = escape(&pretty(&org.public_metadata)),
        private = escape(&pretty(&org.private_metadata)),
    );

    // Delete.
    let _ = write!(
        body,
        "<h2>Delete</h2><form method=\"post\" action=\"{base}/delete\">{csrf}\
         <div class=\"field\"><label for=\"confirm\">Type the organization id to confirm</label>\
         <p class=\"hint\" id=\"confirm-hint\">The organization, its memberships and invitations are deleted for good.</p>\
         <input type=\"text\" id=\"confirm\" name=\"confirm\" required autocomplete=\"off\" aria-describedby=\"confirm-hint\"></div>\
         <button type=\"submit\" class=\"danger\">Delete organization</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
    );
    Ok((org.name, body))
}

/// A console action on the organization `id`, answered with its page and `done`.
async fn on_organization(
    state: AppState,
    post: AdminPost,
    id: String,
    done: &'static str,
    action: impl AsyncFnOnce(&AppState, &Actor, &OrganizationRecord, &Fields) -> ApiResult<()>,
) -> Response {
    let back = org_path(&id);
    post.answer(&state, &back.clone(), async move |state, admin, f| {
        let org = orgs::load(state, &id).await?;
        action(state, &Actor::admin(&admin.user.id), &org, f).await?;
        Ok(format!("{}?done={done}", org_path(&org.id)))
    })
    .await
}

async fn metadata(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_organization(state, post, id, "metadata", async |s, a, org, f| {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let public = parse_metadata("public_metadata", &text(&f.public_metadata))?;
        let private = parse_metadata("private_metadata", &text(&f.private_metadata))?;
        orgs::replace_metadata(s, a, &org.id, public, private).await.map(drop)
    })
    .await
}

async fn add_member(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_organization(state, post, id, "member_added", async |s, a, org, f| {
        let user_id = named_user(s, f.user.as_deref()).await?;
        let new = NewMembership { user_id: Some(user_id), role: f.role.clone(), ..NewMembership::default() };
        orgs::add_member(s, a, org, new).await.map(drop)
    })
    .await
}

async fn change_role(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    post: AdminPost,
) -> Response {
    on_organization(state, post, id, "role_changed", async move |s, a, org, f| {
        orgs::change_role(s, a, org, &user_id, f.role.as_deref()).await.map(drop)
    })
    .await
}

async fn remove_member(
    State(state): State<AppState>,
    Path((id, user_id)): Path<(String, String)>,
    post: AdminPost,
) -> Response {
    on_organization(state, post, id, "member_removed", async move |s, a, org, _| {
        orgs::remove_member(s, a, org, &user_id).await.map(drop)
    })
    .await
}

async fn invite(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_organization(state, post, id, "invited", async |s, a, org, f| {
        let input = NewInvitation {
            email_address: f.email_address.clone(),
            role: given(&f.role).map(str::to_owned),
            inviter_user_id: a.id.clone(),
            ..NewInvitation::default()
        };
        invitations::invite_as(s, a, org, input).await.map(drop)
    })
    .await
}

async fn revoke(
    State(state): State<AppState>,
    Path((id, invitation_id)): Path<(String, String)>,
    post: AdminPost,
) -> Response {
    on_organization(state, post, id, "revoked", async move |s, a, org, _| {
        invitations::revoke(s, a, org, &invitation_id).await.map(drop)
    })
    .await
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = org_path(&id);
    post.answer(&state, &back, async |state, admin, f| {
        let org = orgs::load(state, &id).await?;
        if given(&f.confirm) != Some(org.id.as_str()) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "confirm",
                "Type the organization id exactly to confirm the deletion.",
            ));
        }
        orgs::delete(state, &Actor::admin(&admin.user.id), &org.id).await?;
        Ok("/admin/organizations?done=deleted".to_owned())
    })
    .await
}
