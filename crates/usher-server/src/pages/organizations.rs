//! `/organizations`: the signed-in person's organizations on a hosted page — create one, switch
//! the active one (or back to the personal account), join those they are invited to, and, in
//! the active organization, see the members, change roles, remove members, invite by email and
//! revoke invitations. Controls are shown only when the caller's role permits them, and every
//! post checks the permission again (`flows::organizations`), as the Frontend API does.

use std::fmt::Write as _;

use axum::{extract::State, http::StatusCode, response::Response};

use super::{
    Fields, Post, Redo, given,
    layout::{self, Field, Form, Problem, escape},
    see_other, signed_out_redirect,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        invitations::{self, NewInvitation},
        organizations::{self as orgs, MEMBERSHIPS_MANAGE, MEMBERSHIPS_READ, Standing},
    },
    http::{
        extract::{Path, Query},
        throttle::Limit,
    },
    state::AppState,
    store::{
        InvitationFilter, InvitationRecord, InvitationStatus, MEMBER_ROLE, MembershipChange, MembershipFilter, Page,
        RoleRecord,
    },
};

const ALL: Page = Page { limit: 100, offset: 0 };

/// Everything the page shows.
struct View {
    /// The user's memberships with their organizations.
    memberships: Vec<(crate::store::MembershipRecord, crate::store::OrganizationRecord)>,
    /// The caller's standing in the active organization.
    active: Option<Standing>,
    /// The active organization's members (when the caller may read them): user id, identifier, role.
    members: Vec<(String, String, String)>,
    /// Its pending invitations (when the caller manages members).
    invitations: Vec<InvitationRecord>,
    /// Invitations to the user, with the organization's name.
    mine: Vec<(InvitationRecord, String)>,
    roles: Vec<RoleRecord>,
}

impl View {
    async fn load(state: &AppState, browser: &Browser) -> ApiResult<Option<Self>> {
        let Ok((session, user)) = browser.signed_in(state).await else { return Ok(None) };
        let memberships = state.store.user_memberships(&user.id).await?;
        let active = match session.last_active_organization_id.as_deref() {
            Some(id) => orgs::standing(state, id, &user.id).await.ok(),
            None => None,
        };
        let mut members = Vec::new();
        let mut pending = Vec::new();
        if let Some(s) = &active {
            if s.require(MEMBERSHIPS_READ).is_ok() {
                let filter =
                    MembershipFilter { organization_id: Some(s.organization.id.clone()), ..Default::default() };
                for (m, _) in state.store.list_memberships(&filter, ALL).await?.0 {
                    let identifier = match state.store.get_user(&m.user_id).await? {
                        Some(u) => {
                            u.primary_email().map(|e| e.value.clone()).or(u.username.clone()).unwrap_or_default()
                        }
                        None => m.user_id.clone(),
                    };
                    members.push((m.user_id, identifier, m.role));
                }
            }
            if s.require(MEMBERSHIPS_MANAGE).is_ok() {
                let filter = InvitationFilter {
                    organization_id: Some(s.organization.id.clone()),
                    email_address: None,
                    status: Some(InvitationStatus::Pending),
                };
                pending = state.store.list_invitations(&filter, ALL).await?.0;
            }
        }
        let mut mine = Vec::new();
        for i in invitations::pending_for(state, &user).await? {
            let name = state.store.get_organization(&i.organization_id).await?.map(|o| o.name).unwrap_or_default();
            mine.push((i, name));
        }
        let roles = state.store.list_roles(ALL).await?.0;
        Ok(Some(Self { memberships, active, members, invitations: pending, mine, roles }))
    }
}

/// `GET /organizations`.
pub(super) async fn page(State(state): State<AppState>, browser: Browser, Query(fields): Query<Fields>) -> Response {
    match View::load(&state, &browser).await {
        Ok(Some(view)) => render(&state, &view, &fields, None),
        Ok(None) => signed_out_redirect(),
        Err(e) => Redo::Organizations.or_show(&state, &browser, &fields, Err(e)).await,
    }
}

/// The page showing `problem`; `None` when signed out.
pub(super) async fn with_problem(
    state: &AppState,
    browser: &Browser,
    fields: &Fields,
    problem: &Problem,
) -> Option<Response> {
    let mut fields = fields.clone();
    fields.done = None;
    Some(match View::load(state, browser).await {
        Ok(Some(view)) => render(state, &view, &fields, Some(problem)),
        Ok(None) => return None,
        Err(_) => {
            layout::page(state, problem.status, "Organizations", "Organizations", &layout::alert(Some(problem), true))
        }
    })
}

fn role_options(roles: &[RoleRecord], selected: &str) -> String {
    roles
        .iter()
        .map(|r| {
            let sel = if r.key == selected { " selected" } else { "" };
            format!(r#"<option value="{}"{sel}>{}</option>"#, escape(&r.key), escape(&r.name))
        })
        .collect()
}

fn render(state: &AppState, view: &View, fields: &Fields, problem: Option<&Problem>) -> Response {
    let done = match fields.done.as_deref() {
        Some("created") => Some("Organization created"),
        Some("switched") => Some("Active organization changed"),
        Some("joined") => Some("You joined the organization"),
        Some("invited") => Some("Invitation sent"),
        Some("revoked") => Some("Invitation revoked"),
        Some("role") => Some("Role changed"),
        Some("removed") => Some("Member removed"),
        _ => None,
    };
    let mut body = layout::status(done);
    body.push_str(&layout::alert(problem, problem.is_some()));
    let active_id = view.active.as_ref().map(|s| s.organization.id.as_str());

    // Switching: the personal account and each membership.
    body.push_str(r#"<section aria-labelledby="orgs-h"><h2 id="orgs-h">Your organizations</h2><ul class="list">"#);
    let entry = |body: &mut String, id: Option<&str>, name: &str, role: Option<&str>| {
        let value = id.unwrap_or_default();
        let _ = write!(
            body,
            r#"<li data-organization="{}"><span class="what">{}{}</span>"#,
            escape(if value.is_empty() { "personal" } else { value }),
            escape(name),
            role.map(|r| format!(r#" <span class="muted">{}</span>"#, escape(r))).unwrap_or_default()
        );
        if active_id == id {
            body.push_str(r#"<span class="tag ok">Active</span>"#);
        } else {
            let _ = write!(
                body,
                r#"<form method="post" action="/organizations/switch"><input type="hidden" name="organization_id" value="{}"><button type="submit" aria-label="Switch to {}">Switch</button></form>"#,
                escape(value),
                escape(name)
            );
        }
        body.push_str("</li>");
    };
    entry(&mut body, None, "Personal account", None);
    for (m, o) in &view.memberships {
        entry(&mut body, Some(&o.id), &o.name, Some(&m.role));
    }
    body.push_str("</ul></section>");

    if !view.mine.is_empty() {
        body.push_str(r#"<section aria-labelledby="invited-h"><h2 id="invited-h">Invitations</h2><ul class="list">"#);
        for (i, name) in &view.mine {
            let _ = write!(
                body,
                r#"<li><span class="what">{}</span><form method="post" action="/organizations/invitations/{}/accept"><button type="submit" class="primary" aria-label="Join {}">Join</button></form></li>"#,
                escape(name),
                escape(&i.id),
                escape(name)
            );
        }
        body.push_str("</ul></section>");
    }

    if let Some(s) = &view.active {
        active_sections(&mut body, view, s);
    }

    let form = Form::new(problem, &["name", "slug"], false);
    let _ = write!(
        body,
        r#"<section aria-labelledby="create-h"><h2 id="create-h">Create an organization</h2><form method="post" action="/organizations/create">{}{}<button type="submit">Create organization</button></form></section>"#,
        form.input(&Field::new("name", "Organization name", "text", "organization"), given(fields.name.as_ref())),
        form.input(&Field::new("slug", "Slug", "text", "off").optional(), given(fields.slug.as_ref())),
    );
    layout::page(state, StatusCode::OK, "Organizations", "Organizations", &body)
}

fn active_sections(body: &mut String, view: &View, s: &Standing) {
    let manage = s.require(MEMBERSHIPS_MANAGE).is_ok();
    let me = &s.membership.user_id;
    if s.require(MEMBERSHIPS_READ).is_ok() {
        let _ = write!(
            body,
            r#"<section aria-labelledby="members-h"><h2 id="members-h">Members of {}</h2><ul class="list">"#,
            escape(&s.organization.name)
        );
        for (user_id, identifier, role) in &view.members {
            let _ = write!(
                body,
                r#"<li data-member="{}"><span class="what">{}</span>"#,
                escape(identifier),
                escape(identifier)
            );
            if manage && user_id != me {
                let id = escape(user_id);
                let _ = write!(
                    body,
                    r#"<span class="row"><form method="post" action="/organizations/members/role"><input type="hidden" name="user_id" value="{id}"><label for="role-{id}">Role of {}</label> <select id="role-{id}" name="role">{}</select> <button type="submit">Change role</button></form><form method="post" action="/organizations/members/remove"><input type="hidden" name="user_id" value="{id}"><button type="submit" class="danger" aria-label="Remove {}">Remove</button></form></span>"#,
                    escape(identifier),
                    role_options(&view.roles, role),
                    escape(identifier)
                );
            } else {
                let _ = write!(body, r#"<span class="tag">{}</span>"#, escape(role));
            }
            body.push_str("</li>");
        }
        body.push_str("</ul></section>");
    }
    if manage {
        body.push_str(r#"<section aria-labelledby="inv-h"><h2 id="inv-h">Pending invitations</h2><ul class="list">"#);
        for i in &view.invitations {
            let _ = write!(
                body,
                r#"<li data-invitation="{}"><span class="what">{} <span class="muted">{}</span></span><form method="post" action="/organizations/invitations/{}/revoke"><button type="submit" class="danger" aria-label="Revoke the invitation of {}">Revoke</button></form></li>"#,
                escape(&i.email_address),
                escape(&i.email_address),
                escape(&i.role),
                escape(&i.id),
                escape(&i.email_address)
            );
        }
        let _ = write!(
            body,
            r#"</ul><form method="post" action="/organizations/invite"><div class="field"><label for="email_address">Email address to invite</label><input id="email_address" name="email_address" type="email" autocomplete="off" required></div><div class="field"><label for="invite_role">Role</label><select id="invite_role" name="role">{}</select></div><button type="submit">Invite</button></form></section>"#,
            role_options(&view.roles, MEMBER_ROLE)
        );
    }
}

async fn back(state: &AppState, browser: &Browser, done: &str) -> ApiResult<Response> {
    see_other(state, browser, &format!("/organizations?done={done}")).await
}

/// The caller's standing in the active organization (refused without one).
async fn active(state: &AppState, browser: &Browser) -> ApiResult<Standing> {
    let (session, user) = browser.signed_in(state).await?;
    let Some(id) = session.last_active_organization_id else {
        return Err(ApiError::invalid("form_param_missing", "organization_id", "Switch to an organization first."));
    };
    orgs::standing(state, &id, &user.id).await
}

/// `POST /organizations/create`: the caller becomes its creator, and it becomes active.
pub(super) async fn create(State(state): State<AppState>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let (session, user) = browser.signed_in(state).await?;
        let settings = orgs::settings(state).await?;
        orgs::ensure_enabled(&settings)?;
        let Some(raw) = given(fields.name.as_ref()) else {
            return Err(ApiError::invalid("form_param_missing", "name", "Enter a name."));
        };
        let name = orgs::name(raw)?;
        let slug = match given(fields.slug.as_ref()) {
            Some(s) => orgs::slug("slug", s)?,
            None => orgs::slug_from(&name),
        };
        let (org, creator) = orgs::new_organization(state, &settings, name, slug, &user.id);
        state.store.create_organization(&org, Some(&creator)).await?;
        state.store.set_session_organization(&session.id, Some(&org.id), state.now()).await?;
        back(state, browser, "created").await
    };
    post.answer(&state, &[Limit::Create], Redo::Organizations, act).await
}

/// `POST /organizations/switch`: `organization_id` (a membership's) or empty for the personal account.
pub(super) async fn switch(State(state): State<AppState>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let (session, user) = browser.signed_in(state).await?;
        let target = match given(fields.organization_id.as_ref()) {
            Some(id) => Some(orgs::standing(state, id, &user.id).await?.organization.id),
            None => None,
        };
        state.store.set_session_organization(&session.id, target.as_deref(), state.now()).await?;
        back(state, browser, "switched").await
    };
    post.answer(&state, &[], Redo::Organizations, act).await
}

/// `POST /organizations/invitations/{id}/accept`: one of the caller's own invitations.
pub(super) async fn accept(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let Some(i) = invitations::pending_for(state, &user).await?.into_iter().find(|i| i.id == id) else {
            return Err(ApiError::NotFound("organization invitation"));
        };
        invitations::accept(state, &i, &user.id).await?;
        back(state, browser, "joined").await
    };
    post.answer(&state, &[], Redo::Organizations, act).await
}

/// `POST /organizations/invite`: by email, into the active organization.
pub(super) async fn invite(State(state): State<AppState>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let standing = active(state, browser).await?;
        standing.require(MEMBERSHIPS_MANAGE)?;
        let role = given(fields.role.as_ref()).unwrap_or(MEMBER_ROLE).to_owned();
        standing.may_grant(&role)?;
        let input = NewInvitation {
            email_address: fields.email_address.clone(),
            role: Some(role),
            inviter_user_id: Some(standing.membership.user_id.clone()),
            ..NewInvitation::default()
        };
        invitations::invite(state, &standing.organization, input).await?;
        back(state, browser, "invited").await
    };
    post.answer(&state, &[Limit::Create], Redo::Organizations, act).await
}

/// `POST /organizations/invitations/{id}/revoke`.
pub(super) async fn revoke(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let standing = active(state, browser).await?;
        standing.require(MEMBERSHIPS_MANAGE)?;
        match state.store.get_invitation(&id).await? {
            Some(i) if i.organization_id == standing.organization.id => {
                state.store.settle_invitation(&i.id, InvitationStatus::Revoked, state.now()).await?;
            }
            _ => return Err(ApiError::NotFound("organization invitation")),
        }
        back(state, browser, "revoked").await
    };
    post.answer(&state, &[], Redo::Organizations, act).await
}

/// `POST /organizations/members/role`: `user_id`, `role`.
pub(super) async fn change_role(State(state): State<AppState>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let standing = active(state, browser).await?;
        // Changing any role needs the manage permission: a member cannot promote themselves.
        standing.require(MEMBERSHIPS_MANAGE)?;
        let (Some(member), Some(role)) = (given(fields.user_id.as_ref()), given(fields.role.as_ref())) else {
            return Err(ApiError::invalid("form_param_missing", "role", "Choose a member and a role."));
        };
        invitations::known_role(state, role).await?;
        standing.may_grant(role)?;
        match state.store.update_membership_role(&standing.organization.id, member, role, state.now()).await? {
            MembershipChange::Done(_) => back(state, browser, "role").await,
            MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
            MembershipChange::LastAdmin => Err(orgs::last_admin()),
        }
    };
    post.answer(&state, &[], Redo::Organizations, act).await
}

/// `POST /organizations/members/remove`: `user_id`.
pub(super) async fn remove(State(state): State<AppState>, post: Post) -> Response {
    let act = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let standing = active(state, browser).await?;
        standing.require(MEMBERSHIPS_MANAGE)?;
        let Some(member) = given(fields.user_id.as_ref()) else {
            return Err(ApiError::invalid("form_param_missing", "user_id", "Choose a member."));
        };
        match state.store.delete_membership(&standing.organization.id, member).await? {
            MembershipChange::Done(_) => back(state, browser, "removed").await,
            MembershipChange::NotFound => Err(ApiError::NotFound("organization membership")),
            MembershipChange::LastAdmin => Err(orgs::last_admin()),
        }
    };
    post.answer(&state, &[], Redo::Organizations, act).await
}
