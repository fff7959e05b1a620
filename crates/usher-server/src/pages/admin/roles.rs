//! `/admin/roles`: the instance's organization roles and permissions — the list with members
//! counts, creating a role with its permissions, a role's page (name, description, permissions,
//! deletion), and creating and deleting custom permissions. The work is
//! [`crate::flows::roles`]'s, the Backend API's own, so the same refusals hold (the default roles
//! and roles members hold stay, the admin keeps the system permissions, system permissions never
//! change) and the same audit entries and webhook events are written, with the admin as actor.
//!
//! A refused form comes back as typed, with the message beside the field it is about.

use std::fmt::Write as _;

use axum::{
    Router,
    extract::State,
    http::StatusCode,
    response::Response,
    routing::{get, post},
};

use super::{Admin, AdminPost, Fields, button_form, csrf_field, enter, frame, given, problem_page, see_other};
use crate::{
    error::ApiResult,
    flows::{
        Browser,
        audit::Actor,
        roles::{self, NewRole, PermissionFields, RoleChange},
    },
    http::extract::{Path, Query},
    pages::layout::{self, Problem, escape, format_time, url_encode},
    state::AppState,
    store::{ADMIN_ROLE, Page, PermissionRecord, RoleRecord},
};

/// The role and permission routes.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/roles", get(list).post(create_role))
        .route("/admin/roles/{id}", get(role_page).post(save_role))
        .route("/admin/roles/{id}/delete", post(delete_role))
        .route("/admin/permissions", post(create_permission))
        .route("/admin/permissions/{id}/delete", post(delete_permission))
}

/// Every role or permission an instance has fits here (they are a handful, not a list to page).
const ALL: Page = Page { limit: 500, offset: 0 };

fn role_path(id: &str) -> String {
    format!("/admin/roles/{}", url_encode(id))
}

/// One labelled text input; `problem` shows beside it when it is about `param`.
fn text_field(
    problem: Option<&Problem>,
    param: &str,
    id: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
) -> String {
    let mut out = format!("<div class=\"field\"><label for=\"{id}\">{}</label>", escape(label));
    let mut described = Vec::new();
    if let Some(hint) = hint {
        let _ = write!(out, "<p class=\"hint\" id=\"{id}-hint\">{}</p>", escape(hint));
        described.push(format!("{id}-hint"));
    }
    let invalid = problem.is_some_and(|p| p.param.as_deref() == Some(param));
    if let Some(p) = problem.filter(|_| invalid) {
        let _ = write!(out, "<p class=\"field-error\" id=\"{id}-error\">{}</p>", escape(&p.message));
        described.push(format!("{id}-error"));
    }
    let _ = write!(
        out,
        "<input type=\"text\" id=\"{id}\" name=\"{param}\" value=\"{}\" autocomplete=\"off\"{}{}{}></div>",
        escape(value),
        if param == "description" { " maxlength=\"1024\"" } else { " required maxlength=\"256\"" },
        if invalid { " aria-invalid=\"true\"" } else { "" },
        if described.is_empty() { String::new() } else { format!(" aria-describedby=\"{}\"", described.join(" ")) },
    );
    out
}

/// The permissions as checkboxes named `permissions`, those in `chosen` ticked. For the admin
/// role the system permissions are ticked for good (it keeps them), and still sent.
fn permission_boxes(
    prefix: &str,
    all: &[PermissionRecord],
    chosen: &[String],
    admin_role: bool,
    problem: Option<&Problem>,
) -> String {
    let mut out = String::from("<fieldset><legend>Permissions</legend>");
    if let Some(p) = problem.filter(|p| p.param.as_deref() == Some("permissions")) {
        let _ = write!(out, "<p class=\"field-error\" id=\"{prefix}-permissions-error\">{}</p>", escape(&p.message));
    }
    for (n, p) in all.iter().enumerate() {
        let fixed = admin_role && p.system;
        let ticked = fixed || chosen.iter().any(|c| c == &p.id);
        let _ = write!(
            out,
            "<div class=\"check\"><input type=\"checkbox\" id=\"{prefix}-perm-{n}\" name=\"permissions\" value=\"{id}\"{checked}{disabled}>\
             <label for=\"{prefix}-perm-{n}\"><code>{key}</code> {name}{kind}</label>{keep}</div>",
            id = escape(&p.id),
            checked = if ticked { " checked" } else { "" },
            disabled = if fixed { " disabled" } else { "" },
            key = escape(&p.key),
            name = escape(&p.name),
            kind = if p.system { " <span class=\"tag\">system</span>" } else { "" },
            keep = if fixed { layout::hidden("permissions", Some(&p.id)) } else { String::new() },
        );
    }
    out.push_str("</fieldset>");
    out
}

/// Which form of the list page a problem belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Role,
    Permission,
    /// A button (deleting a permission): the message goes on top.
    Other,
}

fn done_message(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "role_created" => "Role created",
        "role_saved" => "Role saved",
        "role_deleted" => "Role deleted",
        "permission_created" => "Permission created",
        "permission_deleted" => "Permission deleted",
        _ => return None,
    })
}

/// `GET /admin/roles`.
async fn list(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match list_body(&state, &admin, &f, None).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Roles", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin")),
    }
}

/// The list page; `f` is what was typed (or the query), `problem` the refusal of one form.
async fn list_body(
    state: &AppState,
    admin: &Admin,
    f: &Fields,
    problem: Option<(Which, &Problem)>,
) -> ApiResult<String> {
    let (roles, total) = state.store.list_roles(ALL).await?;
    let (permissions, _) = state.store.list_permissions(ALL).await?;
    let for_form = |w: Which| problem.filter(|(which, _)| *which == w).map(|(_, p)| p);
    let mut body = layout::status(done_message(given(&f.done)));
    if let Some((_, p)) = problem {
        body.push_str(&layout::alert(Some(p), for_form(Which::Other).is_some()));
    }
    let _ = write!(
        body,
        "<p class=\"muted\" role=\"status\">{total} roles. Members with <code>{ADMIN_ROLE}</code> hold every system \
         permission; an organization always keeps at least one.</p><div class=\"scroll\"><table><thead><tr>\
         <th scope=\"col\">Role</th><th scope=\"col\">Key</th><th scope=\"col\">Members</th><th scope=\"col\">Permissions</th></tr></thead><tbody>"
    );
    for r in &roles {
        let held = state.store.role_permissions(&r.key).await?;
        let members = state.store.count_role_members(&r.key).await?;
        let mut keys = String::new();
        for p in &held {
            let _ = write!(keys, "<code>{}</code> ", escape(&p.key));
        }
        let _ = write!(
            body,
            "<tr><td><a href=\"{}\">{}</a><br><span class=\"muted\">{}</span></td><td><code>{}</code></td><td>{members}</td><td>{keys}</td></tr>",
            escape(&role_path(&r.id)),
            escape(&r.name),
            escape(&r.description),
            escape(&r.key),
        );
    }
    body.push_str("</tbody></table></div>");

    // Creating a role.
    let role_problem = for_form(Which::Role);
    let typed = |v: &Option<String>| v.clone().unwrap_or_default();
    let (key, name, description) = if problem.is_some_and(|(w, _)| w == Which::Role) {
        (typed(&f.key), typed(&f.name), typed(&f.description))
    } else {
        Default::default()
    };
    let chosen = if role_problem.is_some() { f.permissions.clone() } else { Vec::new() };
    let _ = write!(
        body,
        "<h2 id=\"new-role\">Create a role</h2><form method=\"post\" action=\"/admin/roles\">{csrf}{key}{name}{description}{boxes}\
         <button type=\"submit\">Create role</button></form>",
        csrf = csrf_field(admin),
        key = text_field(
            role_problem,
            "key",
            "role-key",
            "Key",
            &key,
            Some(
                "org: then lowercase letters, digits, '_' or '-', like org:billing. It cannot change once members hold it."
            )
        ),
        name = text_field(role_problem, "name", "role-name", "Name", &name, None),
        description = text_field(role_problem, "description", "role-description", "Description", &description, None),
        boxes = permission_boxes("role", &permissions, &chosen, false, role_problem),
    );

    // Permissions.
    body.push_str(
        "<h2 id=\"permissions\">Permissions</h2><p class=\"muted\">System permissions (<code>org:sys_…</code>) \
         decide what members may do in usher and never change; custom ones are for your application and \
         appear in session tokens of members whose role holds them.</p>\
         <div class=\"scroll\"><table><thead><tr><th scope=\"col\">Key</th><th scope=\"col\">Name</th>\
         <th scope=\"col\">Kind</th><th scope=\"col\">Actions</th></tr></thead><tbody>",
    );
    for p in &permissions {
        let action = if p.system {
            String::new()
        } else {
            button_form(admin, &format!("/admin/permissions/{}/delete", url_encode(&p.id)), "Delete", "danger")
        };
        let _ = write!(
            body,
            "<tr><td><code>{}</code></td><td>{}<br><span class=\"muted\">{}</span></td><td>{}</td><td>{action}</td></tr>",
            escape(&p.key),
            escape(&p.name),
            escape(&p.description),
            if p.system { "system" } else { "custom" },
        );
    }
    body.push_str("</tbody></table></div>");
    let perm_problem = for_form(Which::Permission);
    let (key, name, description) = if perm_problem.is_some() {
        (typed(&f.key), typed(&f.name), typed(&f.description))
    } else {
        Default::default()
    };
    let _ = write!(
        body,
        "<h3>Create a permission</h3><p class=\"hint\">Deleting one takes it from every role that holds it.</p>\
         <form method=\"post\" action=\"/admin/permissions\">{csrf}{key}{name}{description}\
         <button type=\"submit\">Create permission</button></form>",
        csrf = csrf_field(admin),
        key = text_field(
            perm_problem,
            "key",
            "permission-key",
            "Key",
            &key,
            Some("org:<feature>:<action>, like org:invoices:create (org:sys_ is reserved).")
        ),
        name = text_field(perm_problem, "name", "permission-name", "Name", &name, None),
        description =
            text_field(perm_problem, "description", "permission-description", "Description", &description, None),
    );
    Ok(body)
}

/// A role's page; `typed` is the edit form as posted (shown instead of the stored role), and
/// `problem` what refused it (beside its field) or the deletion (on top).
async fn role_body(
    state: &AppState,
    admin: &Admin,
    r: &RoleRecord,
    f: &Fields,
    typed: Option<&Fields>,
    problem: Option<&Problem>,
) -> ApiResult<String> {
    let (permissions, _) = state.store.list_permissions(ALL).await?;
    let held = state.store.role_permissions(&r.key).await?;
    let members = state.store.count_role_members(&r.key).await?;
    let base = role_path(&r.id);
    let mut body = layout::status(done_message(given(&f.done)));
    if let Some(p) = problem {
        let beside = ["name", "description", "permissions"].contains(&p.param.as_deref().unwrap_or_default());
        body.push_str(&layout::alert(Some(p), !beside));
    }
    let _ = write!(
        body,
        "<dl class=\"facts\"><dt>Id</dt><dd><code>{}</code></dd><dt>Key</dt><dd><code>{}</code></dd>\
         <dt>Members</dt><dd>{members}</dd><dt>Created</dt><dd>{}</dd><dt>Updated</dt><dd>{}</dd></dl>",
        escape(&r.id),
        escape(&r.key),
        escape(&format_time(r.created_at)),
        escape(&format_time(r.updated_at)),
    );
    let (name, description, chosen) = match typed {
        Some(t) => {
            (t.name.clone().unwrap_or_default(), t.description.clone().unwrap_or_default(), t.permissions.clone())
        }
        None => (r.name.clone(), r.description.clone(), held.iter().map(|p| p.id.clone()).collect()),
    };
    let _ = write!(
        body,
        "<h2>Edit</h2><form method=\"post\" action=\"{base}\">{csrf}{name}{description}{boxes}\
         <button type=\"submit\">Save role</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        name = text_field(problem, "name", "name", "Name", &name, None),
        description = text_field(problem, "description", "description", "Description", &description, None),
        boxes = permission_boxes("edit", &permissions, &chosen, r.key == ADMIN_ROLE, problem),
    );
    let why_not = if roles::is_default_role(&r.key) {
        "This is a default role; it cannot be deleted."
    } else if members > 0 {
        "Members hold this role; change their role before deleting it."
    } else {
        "The role is deleted for good."
    };
    let _ = write!(
        body,
        "<h2>Delete</h2><p class=\"hint\">{}</p>{}",
        escape(why_not),
        button_form(admin, &format!("{base}/delete"), "Delete role", "danger"),
    );
    Ok(body)
}

/// `GET /admin/roles/{id}`.
async fn role_page(
    State(state): State<AppState>,
    Path(id): Path<String>,
    browser: Browser,
    Query(f): Query<Fields>,
) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let body = async {
        let r = roles::load_role(&state, &id).await?;
        Ok::<_, crate::error::ApiError>((r.name.clone(), role_body(&state, &admin, &r, &f, None, None).await?))
    }
    .await;
    match body {
        Ok((title, body)) => frame(&state, Some(&admin), StatusCode::OK, &title, &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/roles")),
    }
}

/// Runs a post after the origin, admin and forgery-token checks: `action` answers where to go;
/// a refusal re-renders the page with `page` (title and body) at the refusal's status.
async fn submit(
    state: &AppState,
    post: AdminPost,
    back: &str,
    action: impl AsyncFnOnce(&AppState, &Actor, &Fields) -> ApiResult<String>,
    page: impl AsyncFnOnce(&AppState, &Admin, &Fields, &Problem) -> ApiResult<(String, String)>,
) -> Response {
    let admin = match post.admitted(state, back).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let f = &post.fields;
    let e = match action(state, &Actor::admin(&admin.user.id), f).await {
        Ok(location) => return see_other(&location),
        Err(e) => e,
    };
    let problem = Problem::of(&e);
    if problem.status.is_server_error() {
        return problem_page(state, Some(&admin), &problem, Some(back));
    }
    match page(state, &admin, f, &problem).await {
        Ok((title, body)) => frame(state, Some(&admin), problem.status, &title, &body),
        Err(e) => problem_page(state, Some(&admin), &Problem::of(&e), Some(back)),
    }
}

/// A post answered with the list page when refused.
async fn on_list(
    state: AppState,
    post: AdminPost,
    which: Which,
    action: impl AsyncFnOnce(&AppState, &Actor, &Fields) -> ApiResult<String>,
) -> Response {
    submit(&state, post, "/admin/roles", action, async move |state, admin, f, problem| {
        Ok(("Roles".to_owned(), list_body(state, admin, f, Some((which, problem))).await?))
    })
    .await
}

/// `POST /admin/roles`.
async fn create_role(State(state): State<AppState>, post: AdminPost) -> Response {
    on_list(state, post, Which::Role, async |state, actor, f| {
        let new = NewRole {
            key: Some(f.key.clone().unwrap_or_default()),
            name: Some(f.name.clone().unwrap_or_default()),
            description: f.description.clone(),
            permissions: f.permissions.clone(),
        };
        let r = roles::create_role(state, actor, new).await?;
        Ok(format!("{}?done=role_created", role_path(&r.id)))
    })
    .await
}

/// `POST /admin/permissions`.
async fn create_permission(State(state): State<AppState>, post: AdminPost) -> Response {
    on_list(state, post, Which::Permission, async |state, actor, f| {
        let new = PermissionFields {
            key: Some(f.key.clone().unwrap_or_default()),
            name: Some(f.name.clone().unwrap_or_default()),
            description: f.description.clone(),
        };
        roles::create_permission(state, actor, new).await?;
        Ok("/admin/roles?done=permission_created#permissions".to_owned())
    })
    .await
}

/// `POST /admin/permissions/{id}/delete`.
async fn delete_permission(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_list(state, post, Which::Other, async move |state, actor, _| {
        roles::delete_permission(state, actor, &id).await?;
        Ok("/admin/roles?done=permission_deleted#permissions".to_owned())
    })
    .await
}

/// A post about the role `id`, answered with its page when refused (`typed`: show the form as
/// posted).
async fn on_role(
    state: AppState,
    post: AdminPost,
    id: String,
    typed: bool,
    action: impl AsyncFnOnce(&AppState, &Actor, &Fields) -> ApiResult<String>,
) -> Response {
    let back = role_path(&id);
    submit(&state, post, &back, action, async move |state, admin, f, problem| {
        let r = roles::load_role(state, &id).await?;
        let typed = typed.then_some(f);
        Ok((r.name.clone(), role_body(state, admin, &r, &Fields::default(), typed, Some(problem)).await?))
    })
    .await
}

/// `POST /admin/roles/{id}`: name, description and permissions.
async fn save_role(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let role = id.clone();
    on_role(state, post, id, true, async move |state, actor, f| {
        let change = RoleChange {
            key: None,
            name: Some(f.name.clone().unwrap_or_default()),
            description: Some(f.description.clone().unwrap_or_default()),
            permissions: Some(f.permissions.clone()),
        };
        let r = roles::update_role(state, actor, &role, change).await?;
        Ok(format!("{}?done=role_saved", role_path(&r.id)))
    })
    .await
}

/// `POST /admin/roles/{id}/delete`.
async fn delete_role(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let role = id.clone();
    on_role(state, post, id, false, async move |state, actor, _| {
        roles::delete_role(state, actor, &role).await?;
        Ok("/admin/roles?done=role_deleted".to_owned())
    })
    .await
}
