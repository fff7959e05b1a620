//! `/admin`: the admin console, server-rendered like the other hosted pages and usable without
//! scripts. Only instance admins signed in through usher's own sign-in (second factor and all)
//! enter, and not through an impersonation session; everyone else gets 403 on every route.
//!
//! Every post is checked twice against cross-site forgery: the origin check the other pages
//! use, and a token tied to the admin's session in a hidden field (a console action is worth
//! more than a profile edit, and a token also holds when a proxy strips `Origin`). The work
//! itself is [`crate::flows::admin`]'s, the same the Backend API calls, which also writes the
//! audit log with the admin as the actor.

// JWT templates and runtime instance settings.
mod settings;
mod templates;

use std::fmt::Write as _;

mod organizations;
mod roles;
mod webhooks;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequest, Request, State},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use super::layout::{self, Problem, escape, format_time, url_encode};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        admin::{self, MetadataChange, NewUser},
        audit::{Actor, impersonator},
    },
    http::{
        extract::{Path, Query},
        origin,
    },
    ids,
    state::AppState,
    store::{
        AuditAction, AuditEntry, AuditFilter, Outcome, Page, SessionFilter, SessionStatus, UserFilter, UserOrder,
        UserQuery, UserRecord,
    },
};

/// Every console route.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(home))
        .route("/admin/users", get(users).post(create_user))
        .route("/admin/users/new", get(new_user))
        .route("/admin/users/{id}", get(user_page))
        .route("/admin/users/{id}/ban", post(ban))
        .route("/admin/users/{id}/unban", post(unban))
        .route("/admin/users/{id}/lock", post(lock))
        .route("/admin/users/{id}/unlock", post(unlock))
        .route("/admin/users/{id}/delete", post(delete))
        .route("/admin/users/{id}/password", post(set_password))
        .route("/admin/users/{id}/metadata", post(metadata))
        .route("/admin/users/{id}/sessions/revoke", post(revoke_all))
        .route("/admin/users/{id}/sessions/{session_id}/revoke", post(revoke_session))
        .route("/admin/users/{id}/impersonate", post(impersonate))
        .route("/admin/audit", get(audit))
        .route("/admin/keys", get(keys))
        .route("/admin/keys/rotate", post(rotate_key))
        .merge(organizations::router())
        .merge(roles::router())
        .merge(webhooks::router())
        // JWT templates and runtime instance settings.
        .merge(templates::router())
        .merge(settings::router())
}

/// Users shown on a page of the list.
const USERS_PER_PAGE: i64 = 25;
/// Entries shown on a page of the audit log.
const ENTRIES_PER_PAGE: i64 = 50;

/// Every field of the console's forms and filters.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct Fields {
    csrf: Option<String>,
    // The users list's filters.
    q: Option<String>,
    banned: Option<String>,
    locked: Option<String>,
    created_from: Option<String>,
    created_to: Option<String>,
    page: Option<i64>,
    // The audit log's filters.
    actor_id: Option<String>,
    subject_id: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    from: Option<String>,
    to: Option<String>,
    // Forms.
    email_address: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    password: Option<String>,
    public_metadata: Option<String>,
    private_metadata: Option<String>,
    unsafe_metadata: Option<String>,
    confirm: Option<String>,
    done: Option<String>,
    // The organization and webhook screens.
    name: Option<String>,
    slug: Option<String>,
    max_allowed_memberships: Option<String>,
    user: Option<String>,
    role: Option<String>,
    url: Option<String>,
    description: Option<String>,
    event_types: Vec<String>,
    // JWT templates (`templates.rs`): the editor, its preview, and which button was pressed.
    claims: Option<String>,
    lifetime: Option<String>,
    allowed_clock_skew: Option<String>,
    custom_signing_key: Option<String>,
    signing_algorithm: Option<String>,
    signing_key: Option<String>,
    organization_id: Option<String>,
    intent: Option<String>,
    // Instance settings (`settings.rs`): the organization settings.
    enabled: Option<String>,
    admin_delete_enabled: Option<String>,
    slug_disabled: Option<String>,
    creator_role_id: Option<String>,
    // Roles and permissions (`roles.rs`); `name` and `description` are shared.
    key: Option<String>,
    permissions: Vec<String>,
}

/// The instance admin using the console.
struct Admin {
    user: UserRecord,
    /// The forgery token this session's forms carry.
    csrf: String,
}

/// The forgery token of a session: keyed with the instance secret, so only usher can make one,
/// and bound to the session, so one seen elsewhere is worth nothing after sign-out.
fn csrf_token(state: &AppState, session_id: &str) -> String {
    let data = format!("admin-console-csrf\0{session_id}");
    ids::keyed_base62(state.config.secret_key.expose().as_bytes(), data.as_bytes(), 43)
}

/// The signed-in instance admin, or the answer for anyone else: to the sign-in page when
/// signed out, 403 when signed in without the role (or impersonating).
async fn enter(state: &AppState, browser: &Browser) -> Result<Admin, Response> {
    let Ok((session, user)) = browser.signed_in(state).await else {
        let mut response =
            (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_static("/sign-in?redirect_url=%2Fadmin"))])
                .into_response();
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        return Err(response);
    };
    if let Err(e) = admin::ensure_admin(state, &session, &user).await {
        return Err(problem_page(state, None, &Problem::of(&e), None));
    }
    let csrf = csrf_token(state, &session.id);
    Ok(Admin { user, csrf })
}

/// A form post to the console: the browser, the fields, and what refused it before reading
/// (a foreign origin, a body too large or malformed).
struct AdminPost {
    browser: Browser,
    fields: Fields,
    refused: Option<ApiError>,
}

impl FromRequest<AppState> for AdminPost {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let (mut parts, body) = request.into_parts();
        let browser =
            <Browser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let mut refused = origin::check(state, &Method::POST, &parts.headers);
        let mut fields = Fields::default();
        if refused.is_none() {
            match Bytes::from_request(Request::from_parts(parts, body), state).await {
                Err(_) => refused = Some(ApiError::TooLarge),
                Ok(bytes) => match serde_html_form::from_bytes(&bytes) {
                    Ok(parsed) => fields = parsed,
                    Err(e) => refused = Some(ApiError::malformed("Invalid form body", e.to_string())),
                },
            }
        }
        Ok(Self { browser, fields, refused })
    }
}

fn forgery() -> ApiError {
    ApiError::Forbidden(usher_types::ClerkError::new(
        "csrf_token_invalid",
        "The form expired",
        "This form is no longer valid. Reload the page and try again.",
    ))
}

impl AdminPost {
    /// The admin behind this post, after the origin, admin and forgery-token checks (in that
    /// order); else the answer, with a way back to `back`.
    async fn admitted(&self, state: &AppState, back: &str) -> Result<Admin, Response> {
        if let Some(refused) = &self.refused {
            return Err(problem_page(state, None, &Problem::of(refused), Some(back)));
        }
        let admin = enter(state, &self.browser).await?;
        let presented = self.fields.csrf.as_deref().unwrap_or_default();
        if !ids::secrets_equal(presented.as_bytes(), admin.csrf.as_bytes()) {
            return Err(problem_page(state, Some(&admin), &Problem::of(&forgery()), Some(back)));
        }
        Ok(admin)
    }

    /// Runs `action` for the [admitted](Self::admitted) admin and redirects where it says; a
    /// failure shows its message with a way back to `back`.
    async fn answer(
        self,
        state: &AppState,
        back: &str,
        action: impl AsyncFnOnce(&AppState, &Admin, &Fields) -> ApiResult<String>,
    ) -> Response {
        let admin = match self.admitted(state, back).await {
            Ok(admin) => admin,
            Err(response) => return response,
        };
        match action(state, &admin, &self.fields).await {
            Ok(location) => see_other(&location),
            Err(e) => problem_page(state, Some(&admin), &Problem::of(&e), Some(back)),
        }
    }
}

fn see_other(location: &str) -> Response {
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/admin/users"));
    (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()
}

/// The console's navigation: each screen's path and link text, in order.
const SCREENS: &[(&str, &str)] = &[
    ("/admin/users", "Users"),
    ("/admin/users/new", "Create user"),
    ("/admin/audit", "Audit log"),
    ("/admin/keys", "Signing keys"),
    ("/admin/organizations", "Organizations"),
    ("/admin/roles", "Roles"),
    ("/admin/webhooks", "Webhooks"),
    ("/admin/templates", "JWT templates"),
    ("/admin/settings", "Instance settings"),
    ("/user", "Your account"),
];

/// Wider than the sign-in pages: the console has tables.
const CONSOLE_CSS: &str = "<style>main{max-width:68rem}table{width:100%;border-collapse:collapse;font-size:.9375rem}\
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e3e5ea;vertical-align:top;overflow-wrap:anywhere}\
.scroll{overflow-x:auto}nav.console ul{display:flex;gap:1rem;flex-wrap:wrap;list-style:none;padding:0;margin:0 0 1rem}\
textarea{display:block;width:100%;min-height:6rem;font:14px/1.4 ui-monospace,monospace;padding:.5rem;border:1px solid #8a909c;border-radius:8px}\
input[type=search],input[type=date],input[type=number],select{padding:.5rem;font:inherit;border:1px solid #8a909c;border-radius:8px;background:#fff}\
form.filters{display:flex;flex-wrap:wrap;gap:.75rem;align-items:flex-end;margin:0 0 1rem}form.filters label{font-weight:600}\
form.inline{display:inline;margin:0}.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:0 0 1rem}\
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 1rem}dl.facts dt{font-weight:600}dl.facts dd{margin:0;overflow-wrap:anywhere}\
@media (max-width:480px){dl.facts{grid-template-columns:1fr}}</style>";

/// A console page: the navigation, then `body` (already-escaped HTML).
fn frame(state: &AppState, admin: Option<&Admin>, status: StatusCode, title: &str, body: &str) -> Response {
    let mut html = String::from(CONSOLE_CSS);
    if let Some(admin) = admin {
        let who = admin.user.primary_email().map_or(admin.user.id.as_str(), |e| e.value.as_str());
        html.push_str("<nav class=\"console\" aria-label=\"Console\"><ul>");
        for (href, label) in SCREENS {
            let _ = write!(html, "<li><a href=\"{href}\">{label}</a></li>");
        }
        let _ = write!(html, "</ul><p class=\"muted\">Signed in as {}</p></nav>", escape(who));
    }
    html.push_str(body);
    layout::page(state, status, title, title, &html)
}

/// A page saying what went wrong, with its status and a way back.
fn problem_page(state: &AppState, admin: Option<&Admin>, problem: &Problem, back: Option<&str>) -> Response {
    let mut body = layout::alert(Some(problem), true);
    if let Some(back) = back {
        let _ = write!(body, "<p><a href=\"{}\">Back</a></p>", escape(back));
    }
    let title = if problem.status == StatusCode::FORBIDDEN { "Not allowed" } else { "Something went wrong" };
    frame(state, admin, problem.status, title, &body)
}

/// A hidden field carrying the forgery token.
fn csrf_field(admin: &Admin) -> String {
    format!("<input type=\"hidden\" name=\"csrf\" value=\"{}\">", escape(&admin.csrf))
}

/// A form that is one button.
fn button_form(admin: &Admin, action: &str, label: &str, class: &str) -> String {
    format!(
        "<form class=\"inline\" method=\"post\" action=\"{}\">{}<button type=\"submit\" class=\"{class}\">{}</button></form>",
        escape(action),
        csrf_field(admin),
        escape(label)
    )
}

/// `YYYY-MM-DD` as ms since the epoch at 00:00 UTC.
fn parse_date(param: &str, text: &str) -> ApiResult<i64> {
    let bad = || ApiError::invalid("form_param_format_invalid", param, format!("{param} must be a date (YYYY-MM-DD)."));
    let mut parts = text.trim().splitn(3, '-').map(|p| p.parse::<i64>().map_err(|_| bad()));
    let (y, m, d) = (parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??, parts.next().ok_or_else(bad)??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return Err(bad());
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Ok((era * 146_097 + doe - 719_468) * 86_400_000)
}

/// Previous / next links of a paged list at `path`, keeping the list's filters in the query.
fn pager(path: &str, filters: &[(&str, &Option<String>)], page: i64, pages: i64) -> String {
    let link = |p: i64| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in filters {
            if let Some(v) = given(value) {
                query.append_pair(name, v);
            }
        }
        query.append_pair("page", &p.to_string());
        format!("{path}?{}", query.finish())
    };
    let mut nav = String::from("<nav aria-label=\"Pages\"><p class=\"row\">");
    if page > 1 {
        let _ = write!(nav, "<a href=\"{}\" rel=\"prev\">Previous page</a>", escape(&link(page - 1)));
    }
    let _ = write!(nav, "<span>Page {page} of {}</span>", pages.max(1));
    if page < pages {
        let _ = write!(nav, "<a href=\"{}\" rel=\"next\">Next page</a>", escape(&link(page + 1)));
    }
    nav.push_str("</p></nav>");
    nav
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `GET /admin`.
async fn home(State(state): State<AppState>, browser: Browser) -> Response {
    match enter(&state, &browser).await {
        Ok(_) => see_other("/admin/users"),
        Err(response) => response,
    }
}

/// `GET /admin/users`: search, filters, pages.
async fn users(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match users_body(&state, &f).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Users", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/users")),
    }
}

async fn users_body(state: &AppState, f: &Fields) -> ApiResult<String> {
    let mut filter = UserFilter::default();
    if let Some(q) = given(&f.q) {
        if q.len() > 256 {
            return Err(ApiError::invalid("form_param_value_invalid", "q", "The search is at most 256 characters."));
        }
        filter.query = Some(q.to_owned());
    }
    filter.banned = match given(&f.banned) {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    };
    if given(&f.locked) == Some("yes") {
        filter.locked_at = Some(state.now());
    }
    if let Some(from) = given(&f.created_from) {
        filter.created_at_after = Some(parse_date("created_from", from)? - 1);
    }
    if let Some(to) = given(&f.created_to) {
        filter.created_at_before = Some(parse_date("created_to", to)? + 86_400_000);
    }
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let query = UserQuery {
        filter: filter.clone(),
        order_by: UserOrder::CreatedAt,
        descending: true,
        page: Page { limit: USERS_PER_PAGE, offset: (page - 1) * USERS_PER_PAGE },
    };
    let found = state.store.list_users(&query).await?;
    let total = state.store.count_users(&filter).await?;
    let now = state.now();
    let selected = |value: &Option<String>, option: &str| {
        if given(value) == Some(option) { " selected" } else { "" }
    };
    let mut body = String::new();
    if let Some(done) = given(&f.done).and_then(done_message) {
        body.push_str(&layout::status(Some(done)));
    }
    let _ = write!(
        body,
        "<form class=\"filters\" method=\"get\" action=\"/admin/users\" role=\"search\">\
         <div><label for=\"q\">Search</label><input type=\"search\" id=\"q\" name=\"q\" value=\"{q}\" \
         placeholder=\"email, name, username or id\"></div>\
         <div><label for=\"banned\">Banned</label><select id=\"banned\" name=\"banned\">\
         <option value=\"\">Any</option><option value=\"yes\"{by}>Banned</option><option value=\"no\"{bn}>Not banned</option></select></div>\
         <div><label for=\"locked\">Locked</label><select id=\"locked\" name=\"locked\">\
         <option value=\"\">Any</option><option value=\"yes\"{ly}>Locked now</option></select></div>\
         <div><label for=\"created_from\">Created from</label><input type=\"date\" id=\"created_from\" name=\"created_from\" value=\"{cf}\"></div>\
         <div><label for=\"created_to\">Created to</label><input type=\"date\" id=\"created_to\" name=\"created_to\" value=\"{ct}\"></div>\
         <div><button type=\"submit\">Search</button></div></form>",
        q = escape(f.q.as_deref().unwrap_or_default()),
        by = selected(&f.banned, "yes"),
        bn = selected(&f.banned, "no"),
        ly = selected(&f.locked, "yes"),
        cf = escape(f.created_from.as_deref().unwrap_or_default()),
        ct = escape(f.created_to.as_deref().unwrap_or_default()),
    );
    let _ = write!(body, "<p class=\"muted\" role=\"status\">{total} users</p>");
    body.push_str(
        "<div class=\"scroll\"><table><caption class=\"muted\">Newest first</caption><thead><tr><th scope=\"col\">User</th>\
         <th scope=\"col\">Email</th><th scope=\"col\">Name</th><th scope=\"col\">State</th><th scope=\"col\">Created</th></tr></thead><tbody>",
    );
    for u in &found {
        let name =
            [u.first_name.as_deref(), u.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
        let _ = write!(
            body,
            "<tr><td><a href=\"/admin/users/{id}\">{label}</a></td><td>{email}</td><td>{name}</td><td>{state}</td><td>{created}</td></tr>",
            id = url_encode(&u.id),
            label = escape(u.username.as_deref().unwrap_or(&u.id)),
            email = escape(u.primary_email().map_or("", |e| e.value.as_str())),
            name = escape(&name),
            state = user_tags(u, now),
            created = escape(&format_time(u.created_at)),
        );
    }
    body.push_str("</tbody></table></div>");
    body.push_str(&pager(
        "/admin/users",
        &[
            ("q", &f.q),
            ("banned", &f.banned),
            ("locked", &f.locked),
            ("created_from", &f.created_from),
            ("created_to", &f.created_to),
        ],
        page,
        (total + USERS_PER_PAGE - 1) / USERS_PER_PAGE,
    ));
    Ok(body)
}

fn user_tags(u: &UserRecord, now: i64) -> String {
    let mut tags = String::new();
    if u.banned {
        tags.push_str("<span class=\"tag warn\">banned</span>");
    }
    if u.is_locked(now) {
        tags.push_str("<span class=\"tag warn\">locked</span>");
    }
    if tags.is_empty() {
        tags.push_str("<span class=\"tag ok\">active</span>");
    }
    tags
}

fn done_message(done: &str) -> Option<&'static str> {
    Some(match done {
        "banned" => "User banned; their sessions were revoked",
        "unbanned" => "User unbanned",
        "locked" => "User locked",
        "unlocked" => "User unlocked",
        "deleted" => "User deleted",
        "password" => "Password set; the user's sessions were revoked",
        "metadata" => "Metadata saved",
        "session_revoked" => "Session revoked",
        "sessions_revoked" => "All sessions revoked",
        "created" => "User created",
        _ => return None,
    })
}

/// `GET /admin/users/new`.
async fn new_user(State(state): State<AppState>, browser: Browser) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let body = format!(
        "<form method=\"post\" action=\"/admin/users\">{csrf}\
         <div class=\"field\"><label for=\"email_address\">Email address</label>\
         <input type=\"email\" id=\"email_address\" name=\"email_address\" required autocomplete=\"off\"></div>\
         <div class=\"field\"><label for=\"first_name\">First name (optional)</label><input type=\"text\" id=\"first_name\" name=\"first_name\"></div>\
         <div class=\"field\"><label for=\"last_name\">Last name (optional)</label><input type=\"text\" id=\"last_name\" name=\"last_name\"></div>\
         <div class=\"field\"><label for=\"password\">Password (optional)</label>\
         <input type=\"password\" id=\"password\" name=\"password\" autocomplete=\"new-password\"></div>\
         <button type=\"submit\" class=\"primary\">Create user</button></form>",
        csrf = csrf_field(&admin)
    );
    frame(&state, Some(&admin), StatusCode::OK, "Create user", &body)
}

/// `POST /admin/users`.
async fn create_user(State(state): State<AppState>, post: AdminPost) -> Response {
    post.answer(&state, "/admin/users/new", async |state, admin, f| {
        let new = NewUser {
            email_address: f.email_address.clone().unwrap_or_default(),
            first_name: f.first_name.clone(),
            last_name: f.last_name.clone(),
            password: f.password.clone(),
        };
        let user = admin::create_user(state, &Actor::admin(&admin.user.id), new).await?;
        Ok(format!("/admin/users/{}?done=created", url_encode(&user.id)))
    })
    .await
}

/// `GET /admin/users/{id}`.
async fn user_page(
    State(state): State<AppState>,
    browser: Browser,
    Path(id): Path<String>,
    Query(f): Query<Fields>,
) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match user_body(&state, &admin, &id, &f).await {
        Ok((title, body)) => frame(&state, Some(&admin), StatusCode::OK, &title, &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/users")),
    }
}

async fn user_body(state: &AppState, admin: &Admin, id: &str, f: &Fields) -> ApiResult<(String, String)> {
    let user = admin::load(state, id).await?;
    let now = state.now();
    let base = format!("/admin/users/{}", url_encode(&user.id));
    let mut body = String::new();
    if let Some(done) = given(&f.done).and_then(done_message) {
        body.push_str(&layout::status(Some(done)));
    }
    // Identifiers and state.
    let is_admin = state.store.is_admin(&user.id).await?;
    let _ = write!(
        body,
        "<p>{}{}</p>",
        user_tags(&user, now),
        if is_admin { "<span class=\"tag\">instance admin</span>" } else { "" }
    );
    body.push_str("<dl class=\"facts\">");
    let mut fact = |name: &str, value: &str| {
        let _ = write!(body, "<dt>{}</dt><dd>{}</dd>", escape(name), value);
    };
    fact("User id", &format!("<code>{}</code>", escape(&user.id)));
    for e in &user.emails {
        let primary = if user.primary_email_address_id.as_deref() == Some(e.id.as_str()) { " (primary)" } else { "" };
        let verified = if e.verified { "verified" } else { "unverified" };
        fact("Email address", &format!("{}{primary} <span class=\"tag\">{verified}</span>", escape(&e.value)));
    }
    for p in &user.phones {
        fact("Phone number", &escape(&p.value));
    }
    if let Some(username) = &user.username {
        fact("Username", &escape(username));
    }
    if let Some(external) = &user.external_id {
        fact("External id", &escape(external));
    }
    let name =
        [user.first_name.as_deref(), user.last_name.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    if !name.is_empty() {
        fact("Name", &escape(&name));
    }
    fact("Password", if user.password_hash.is_some() { "set" } else { "none" });
    fact("Second factor", if user.two_factor_enabled() { "on" } else { "off" });
    fact("Created", &escape(&format_time(user.created_at)));
    fact("Last sign-in", &user.last_sign_in_at.map_or_else(|| "never".to_owned(), |t| escape(&format_time(t))));
    body.push_str("</dl>");

    // Account actions.
    body.push_str("<h2>Access</h2><div class=\"actions\">");
    body.push_str(&if user.banned {
        button_form(admin, &format!("{base}/unban"), "Unban", "")
    } else {
        button_form(admin, &format!("{base}/ban"), "Ban", "danger")
    });
    body.push_str(&if user.is_locked(now) {
        button_form(admin, &format!("{base}/unlock"), "Unlock", "")
    } else {
        button_form(admin, &format!("{base}/lock"), "Lock", "danger")
    });
    if user.id != admin.user.id && !user.banned {
        body.push_str(&button_form(admin, &format!("{base}/impersonate"), "Sign in as this user", ""));
    }
    body.push_str("</div>");

    // Sessions.
    let filter =
        SessionFilter { user_id: Some(user.id.clone()), status: Some(SessionStatus::Active), ..Default::default() };
    let (sessions, _) = state.store.list_sessions(&filter, Page { limit: 100, offset: 0 }).await?;
    let sessions: Vec<_> = sessions.into_iter().filter(|s| s.is_live(now)).collect();
    let _ = write!(body, "<h2>Sessions</h2><p class=\"muted\">{} active</p><ul class=\"list\">", sessions.len());
    for s in &sessions {
        let marked = match impersonator(s) {
            Some(by) => format!(" <span class=\"tag warn\">impersonated by {}</span>", escape(&by)),
            None => String::new(),
        };
        let _ = write!(
            body,
            "<li><span class=\"what\"><code>{}</code>{marked}<br><span class=\"muted\">signed in {}, last active {}</span></span>{}</li>",
            escape(&s.id),
            escape(&format_time(s.created_at)),
            escape(&format_time(s.last_active_at)),
            button_form(admin, &format!("{base}/sessions/{}/revoke", url_encode(&s.id)), "Revoke", "danger"),
        );
    }
    body.push_str("</ul>");
    if !sessions.is_empty() {
        let _ = write!(
            body,
            "<div class=\"actions\">{}</div>",
            button_form(admin, &format!("{base}/sessions/revoke"), "Revoke all sessions", "danger")
        );
    }

    // Sign-in history from the audit log.
    let history = AuditFilter {
        involving: Some(user.id.clone()),
        actions: vec![
            AuditAction::SignInSucceeded,
            AuditAction::SignInFailed,
            AuditAction::ImpersonationStarted,
            AuditAction::UserLocked,
        ],
        ..AuditFilter::default()
    };
    let (entries, total) = state.store.list_audit(&history, Page { limit: 20, offset: 0 }).await?;
    let _ = write!(
        body,
        "<h2>Sign-in history</h2><p class=\"muted\">{total} sign-in events; the latest 20. \
        <a href=\"/admin/audit?subject_id={}\">Everything about this user in the audit log</a></p>",
        url_encode(&user.id)
    );
    body.push_str(&audit_table(&entries));

    // Metadata.
    let pretty = |m: &serde_json::Map<String, serde_json::Value>| serde_json::to_string_pretty(m).unwrap_or_default();
    let _ = write!(
        body,
        "<h2>Metadata</h2><form method=\"post\" action=\"{base}/metadata\">{csrf}\
         <p class=\"hint\">Each is a JSON object and replaces what is there.</p>\
         <div class=\"field\"><label for=\"public_metadata\">Public metadata</label><textarea id=\"public_metadata\" name=\"public_metadata\" spellcheck=\"false\">{public}</textarea></div>\
         <div class=\"field\"><label for=\"private_metadata\">Private metadata</label><textarea id=\"private_metadata\" name=\"private_metadata\" spellcheck=\"false\">{private}</textarea></div>\
         <div class=\"field\"><label for=\"unsafe_metadata\">Unsafe metadata</label><textarea id=\"unsafe_metadata\" name=\"unsafe_metadata\" spellcheck=\"false\">{unsafe_}</textarea></div>\
         <button type=\"submit\">Save metadata</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
        public = escape(&pretty(&user.public_metadata)),
        private = escape(&pretty(&user.private_metadata)),
        unsafe_ = escape(&pretty(&user.unsafe_metadata)),
    );

    // Password.
    let _ = write!(
        body,
        "<h2>Password</h2><form method=\"post\" action=\"{base}/password\">{csrf}\
         <div class=\"field\"><label for=\"password\">New password</label>\
         <p class=\"hint\" id=\"password-hint\">The user is signed out everywhere.</p>\
         <input type=\"password\" id=\"password\" name=\"password\" required autocomplete=\"new-password\" aria-describedby=\"password-hint\"></div>\
         <button type=\"submit\">Set password</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
    );

    // Delete.
    let _ = write!(
        body,
        "<h2>Delete</h2><form method=\"post\" action=\"{base}/delete\">{csrf}\
         <div class=\"field\"><label for=\"confirm\">Type the user id to confirm</label>\
         <p class=\"hint\" id=\"confirm-hint\">The user and everything they own are deleted for good.</p>\
         <input type=\"text\" id=\"confirm\" name=\"confirm\" required autocomplete=\"off\" aria-describedby=\"confirm-hint\"></div>\
         <button type=\"submit\" class=\"danger\">Delete user</button></form>",
        base = escape(&base),
        csrf = csrf_field(admin),
    );
    let title = user.primary_email().map_or_else(|| user.id.clone(), |e| e.value.clone());
    Ok((title, body))
}

/// The audit entries as a table.
fn audit_table(entries: &[AuditEntry]) -> String {
    let mut out = String::from(
        "<div class=\"scroll\"><table><thead><tr><th scope=\"col\">When</th><th scope=\"col\">Actor</th>\
         <th scope=\"col\">Action</th><th scope=\"col\">Subject</th><th scope=\"col\">Outcome</th>\
         <th scope=\"col\">Detail</th><th scope=\"col\">From</th></tr></thead><tbody>",
    );
    for e in entries {
        let mut actor = escape(e.actor_type.as_str());
        if let Some(id) = &e.actor_id {
            let _ = write!(actor, " <code>{}</code>", escape(id));
        }
        if let Some(via) = &e.via_actor {
            let _ = write!(actor, " <span class=\"tag warn\">impersonated by {}</span>", escape(via));
        }
        let outcome = match (e.outcome, &e.reason) {
            (Outcome::Success, _) => "<span class=\"tag ok\">success</span>".to_owned(),
            (Outcome::Failure, Some(r)) => format!("<span class=\"tag warn\">failure</span> {}", escape(r)),
            (Outcome::Failure, None) => "<span class=\"tag warn\">failure</span>".to_owned(),
        };
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{actor}</td><td>{}</td><td>{}</td><td>{outcome}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td></tr>",
            escape(&format_time(e.at)),
            escape(e.action.as_str()),
            e.subject_id.as_deref().map(|s| format!("<code>{}</code>", escape(s))).unwrap_or_default(),
            escape(e.detail.as_deref().unwrap_or_default()),
            escape(&e.client_ip),
            escape(&e.user_agent),
        );
    }
    out.push_str("</tbody></table></div>");
    out
}

/// A console action on the user `id`, answered with the user page and `done`.
async fn on_user(
    state: AppState,
    post: AdminPost,
    id: String,
    done: &'static str,
    action: impl AsyncFnOnce(&AppState, &Actor, &str, &Fields) -> ApiResult<()>,
) -> Response {
    let back = format!("/admin/users/{}", url_encode(&id));
    post.answer(&state, &back.clone(), async move |state, admin, f| {
        action(state, &Actor::admin(&admin.user.id), &id, f).await?;
        Ok(format!("{back}?done={done}"))
    })
    .await
}

async fn ban(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "banned", async |s, a, id, _| admin::ban(s, a, id).await.map(drop)).await
}

async fn unban(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "unbanned", async |s, a, id, _| admin::unban(s, a, id).await.map(drop)).await
}

async fn lock(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "locked", async |s, a, id, _| admin::lock(s, a, id).await.map(drop)).await
}

async fn unlock(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "unlocked", async |s, a, id, _| admin::unlock(s, a, id).await.map(drop)).await
}

async fn set_password(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "password", async |s, a, id, f| {
        admin::set_password(s, a, id, f.password.as_deref().unwrap_or_default()).await.map(drop)
    })
    .await
}

async fn metadata(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "metadata", async |s, a, id, f| {
        let text = |v: &Option<String>| v.clone().unwrap_or_default();
        let change = MetadataChange {
            public: Some(admin::parse_metadata("public_metadata", &text(&f.public_metadata))?),
            private: Some(admin::parse_metadata("private_metadata", &text(&f.private_metadata))?),
            unsafe_: Some(admin::parse_metadata("unsafe_metadata", &text(&f.unsafe_metadata))?),
            replace: true,
        };
        admin::apply_metadata(s, a, id, change).await.map(drop)
    })
    .await
}

async fn revoke_all(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    on_user(state, post, id, "sessions_revoked", async |s, a, id, _| {
        admin::revoke_all_sessions(s, a, id).await.map(drop)
    })
    .await
}

async fn revoke_session(
    State(state): State<AppState>,
    Path((id, session_id)): Path<(String, String)>,
    post: AdminPost,
) -> Response {
    on_user(state, post, id, "session_revoked", async move |s, a, id, _| {
        // Only a session of the user whose page this is.
        match s.store.get_session(&session_id).await? {
            Some(session) if session.user_id == id => admin::revoke_session(s, a, &session_id).await.map(drop),
            _ => Err(ApiError::NotFound("session")),
        }
    })
    .await
}

async fn delete(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = format!("/admin/users/{}", url_encode(&id));
    post.answer(&state, &back, async |state, admin, f| {
        if given(&f.confirm) != Some(id.as_str()) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "confirm",
                "Type the user id exactly to confirm the deletion.",
            ));
        }
        admin::delete(state, &Actor::admin(&admin.user.id), &id).await?;
        Ok("/admin/users?done=deleted".to_owned())
    })
    .await
}

/// `POST /admin/users/{id}/impersonate`: an actor token naming the admin, shown as a link to
/// open in another browser (opening it here would end the admin's own session).
async fn impersonate(State(state): State<AppState>, Path(id): Path<String>, post: AdminPost) -> Response {
    let back = format!("/admin/users/{}", url_encode(&id));
    if let Some(refused) = post.refused {
        return problem_page(&state, None, &Problem::of(&refused), Some(&back));
    }
    let admin = match enter(&state, &post.browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    if !ids::secrets_equal(post.fields.csrf.as_deref().unwrap_or_default().as_bytes(), admin.csrf.as_bytes()) {
        return problem_page(&state, Some(&admin), &Problem::of(&forgery()), Some(&back));
    }
    match admin::impersonate(&state, &admin.user, &id).await {
        Ok(issued) => {
            let body = format!(
                "<p>This link signs whoever opens it in as the user, marked as impersonated by you, for at most \
                 {} minutes. It works once, within 10 minutes. Open it in a private window or another browser: \
                 here it would end your own session.</p>\
                 <p><a id=\"impersonation-link\" href=\"{url}\" rel=\"noreferrer\">Sign in as the user</a></p>\
                 <p class=\"muted\">Actor token <code>{token}</code></p><p><a href=\"{back}\">Back to the user</a></p>",
                admin::ACTOR_SESSION_MAX_SECS / 60,
                url = escape(&issued.url),
                token = escape(&issued.record.id),
                back = escape(&back),
            );
            frame(&state, Some(&admin), StatusCode::OK, "Sign in as the user", &body)
        }
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some(&back)),
    }
}

/// `GET /admin/keys`: the published signing keys, and rotation.
async fn keys(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    let mut body = String::new();
    if given(&f.done) == Some("rotated") {
        body.push_str(&layout::status(Some("New signing key added; it signs in 30 seconds")));
    }
    let jwks = state.keys.jwks();
    let _ = write!(
        body,
        "<p>{} published keys (the JWKS). Older keys stay published until the tokens they signed expire.</p><ul class=\"list\">",
        jwks.keys.len()
    );
    for key in &jwks.keys {
        let _ = write!(
            body,
            "<li><span class=\"what\"><code>{}</code> <span class=\"tag\">{}</span></span></li>",
            escape(&key.kid),
            escape(&key.alg)
        );
    }
    body.push_str("</ul>");
    body.push_str(&button_form(&admin, "/admin/keys/rotate", "Rotate the signing key", "danger"));
    frame(&state, Some(&admin), StatusCode::OK, "Signing keys", &body)
}

/// `POST /admin/keys/rotate`.
async fn rotate_key(State(state): State<AppState>, post: AdminPost) -> Response {
    post.answer(&state, "/admin/keys", async |state, admin, _| {
        admin::rotate_signing_key(state, &Actor::admin(&admin.user.id)).await?;
        Ok("/admin/keys?done=rotated".to_owned())
    })
    .await
}

/// `GET /admin/audit`: the audit log with filters, newest first.
async fn audit(State(state): State<AppState>, browser: Browser, Query(f): Query<Fields>) -> Response {
    let admin = match enter(&state, &browser).await {
        Ok(admin) => admin,
        Err(response) => return response,
    };
    match audit_body(&state, &f).await {
        Ok(body) => frame(&state, Some(&admin), StatusCode::OK, "Audit log", &body),
        Err(e) => problem_page(&state, Some(&admin), &Problem::of(&e), Some("/admin/audit")),
    }
}

async fn audit_body(state: &AppState, f: &Fields) -> ApiResult<String> {
    let mut filter = AuditFilter {
        actor_id: given(&f.actor_id).map(str::to_owned),
        subject_id: given(&f.subject_id).map(str::to_owned),
        ..AuditFilter::default()
    };
    if let Some(action) = given(&f.action) {
        let action = AuditAction::parse(action)
            .ok_or_else(|| ApiError::invalid("form_param_value_invalid", "action", "Pick an action from the list."))?;
        filter.actions = vec![action];
    }
    filter.outcome = match given(&f.outcome) {
        Some("success") => Some(Outcome::Success),
        Some("failure") => Some(Outcome::Failure),
        _ => None,
    };
    if let Some(from) = given(&f.from) {
        filter.since = Some(parse_date("from", from)?);
    }
    if let Some(to) = given(&f.to) {
        filter.until = Some(parse_date("to", to)? + 86_400_000);
    }
    let page = f.page.unwrap_or(1).clamp(1, 1_000_000);
    let (entries, total) = state
        .store
        .list_audit(&filter, Page { limit: ENTRIES_PER_PAGE, offset: (page - 1) * ENTRIES_PER_PAGE })
        .await?;
    let mut actions = String::from("<option value=\"\">Any</option>");
    for a in AuditAction::ALL {
        let selected = if given(&f.action) == Some(a.as_str()) { " selected" } else { "" };
        let _ = write!(actions, "<option{selected}>{}</option>", a.as_str());
    }
    let outcome_selected = |o: &str| if given(&f.outcome) == Some(o) { " selected" } else { "" };
    let mut body = format!(
        "<form class=\"filters\" method=\"get\" action=\"/admin/audit\">\
         <div><label for=\"actor_id\">Actor id</label><input type=\"search\" id=\"actor_id\" name=\"actor_id\" value=\"{actor}\"></div>\
         <div><label for=\"subject_id\">Subject id</label><input type=\"search\" id=\"subject_id\" name=\"subject_id\" value=\"{subject}\"></div>\
         <div><label for=\"action\">Action</label><select id=\"action\" name=\"action\">{actions}</select></div>\
         <div><label for=\"outcome\">Outcome</label><select id=\"outcome\" name=\"outcome\"><option value=\"\">Any</option>\
         <option value=\"success\"{os}>Success</option><option value=\"failure\"{of}>Failure</option></select></div>\
         <div><label for=\"from\">From</label><input type=\"date\" id=\"from\" name=\"from\" value=\"{from}\"></div>\
         <div><label for=\"to\">To</label><input type=\"date\" id=\"to\" name=\"to\" value=\"{to}\"></div>\
         <div><button type=\"submit\">Filter</button></div></form><p class=\"muted\" role=\"status\">{total} entries</p>",
        actor = escape(f.actor_id.as_deref().unwrap_or_default()),
        subject = escape(f.subject_id.as_deref().unwrap_or_default()),
        os = outcome_selected("success"),
        of = outcome_selected("failure"),
        from = escape(f.from.as_deref().unwrap_or_default()),
        to = escape(f.to.as_deref().unwrap_or_default()),
    );
    body.push_str(&audit_table(&entries));
    body.push_str(&pager(
        "/admin/audit",
        &[
            ("actor_id", &f.actor_id),
            ("subject_id", &f.subject_id),
            ("action", &f.action),
            ("outcome", &f.outcome),
            ("from", &f.from),
            ("to", &f.to),
        ],
        page,
        (total + ENTRIES_PER_PAGE - 1) / ENTRIES_PER_PAGE,
    ));
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_midnight_utc() {
        assert_eq!(parse_date("d", "1970-01-01").unwrap(), 0);
        assert_eq!(parse_date("d", "2026-12-02").unwrap(), 1_796_169_600_000);
        assert_eq!(format_time(parse_date("d", "2024-02-29").unwrap()), "2024-02-29 00:00 UTC");
        assert!(parse_date("d", "2026-13-01").is_err());
        assert!(parse_date("d", "yesterday").is_err());
    }
}
