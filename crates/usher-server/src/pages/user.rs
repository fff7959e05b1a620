//! `/user`: the signed-in person's account (names, email addresses, password, sessions) and
//! signing out. Every post redirects back here (post/redirect/get) with `?done=…` for the
//! success message.

use std::fmt::Write as _;

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};

use super::{
    Fields, given,
    layout::{self, Field, Form, Problem, escape, format_time, hidden},
    see_other, signed_out_redirect,
};
use crate::{
    api::extract::{FormOrJson, Path, Query},
    error::{ApiError, ApiResult},
    frontend::{
        Browser, account,
        profile::{self, ProfileChanges},
    },
    state::AppState,
    store::{SessionRecord, UserRecord},
};

/// `GET /user`.
pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(fields): Query<Fields>,
) -> ApiResult<Response> {
    let browser = Browser::load(&state, &headers).await?;
    let Ok((session, user)) = browser.signed_in(&state).await else {
        return Ok(signed_out_redirect());
    };
    render(&state, &session, &user, &fields, None).await
}

/// The account page showing `problem` (from a post to `path`); `None` when signed out.
pub(super) async fn with_problem(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
    fields: &Fields,
    problem: &Problem,
) -> Option<Response> {
    let browser = Browser::load(state, headers).await.ok()?;
    let (session, user) = browser.signed_in(state).await.ok()?;
    let mut fields = fields.clone();
    fields.done = None;
    if path == "/user/email/verify" {
        fields.verify = fields.email_id.clone();
    } else {
        fields.verify = None;
    }
    let section = match path {
        "/user/profile" => Section::Profile,
        "/user/password" => Section::Password,
        "/user/email" => Section::AddEmail,
        "/user/email/verify" => Section::VerifyEmail,
        _ => Section::Other,
    };
    Some(match render(state, &session, &user, &fields, Some((section, problem))).await {
        Ok(response) => response,
        Err(_) => layout::page(state, problem.status, "Account", "Account", &layout::alert(Some(problem), true)),
    })
}

/// Which form a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Profile,
    Password,
    AddEmail,
    VerifyEmail,
    Other,
}

async fn render(
    state: &AppState,
    session: &SessionRecord,
    user: &UserRecord,
    fields: &Fields,
    problem: Option<(Section, &Problem)>,
) -> ApiResult<Response> {
    let app = &state.config.application_name;
    let only = |section: Section| problem.filter(|(s, _)| *s == section).map(|(_, p)| p);
    let shown = problem.map(|(_, p)| p);
    let mut body = String::new();

    let done = match fields.done.as_deref() {
        Some("profile") => Some("Profile saved"),
        Some("password") => Some("Password updated"),
        Some("email_verified") => Some("Email address verified"),
        Some("email_removed") => Some("Email address removed"),
        Some("session_revoked") => Some("Session revoked"),
        _ => None,
    };
    body.push_str(&layout::status(done));
    // The summary takes focus unless a field of the form at fault does.
    let field_focus = problem.is_some_and(|(section, p)| {
        section != Section::Other
            && !layout::alert_focus(
                Some(p),
                &["first_name", "last_name", "current_password", "new_password", "email_address", "code"],
            )
    });
    body.push_str(&layout::alert(shown, shown.is_some() && !field_focus));

    // Profile.
    let names = ["first_name", "last_name"];
    let form = Form::new(only(Section::Profile), &names, false);
    let (first, last) = if only(Section::Profile).is_some() {
        (given(fields.first_name.as_ref()), given(fields.last_name.as_ref()))
    } else {
        (user.first_name.as_deref(), user.last_name.as_deref())
    };
    let _ = write!(
        body,
        r#"<section aria-labelledby="profile-h"><h2 id="profile-h">Profile</h2><form method="post" action="/user/profile"><div class="row">{}{}</div><button type="submit">Save</button></form></section>"#,
        form.input(&Field::new("first_name", "First name", "text", "given-name").optional(), first),
        form.input(&Field::new("last_name", "Last name", "text", "family-name").optional(), last),
    );

    // Email addresses.
    body.push_str(r#"<section aria-labelledby="emails-h"><h2 id="emails-h">Email addresses</h2><ul class="list">"#);
    for email in &user.emails {
        let primary = user.primary_email_address_id.as_deref() == Some(email.id.as_str());
        let id = escape(&email.id);
        let _ = write!(body, r#"<li><span class="what">{}"#, escape(&email.value));
        if primary {
            body.push_str(r#" <span class="tag">Primary</span>"#);
        }
        body.push_str(if email.verified {
            r#" <span class="tag ok">Verified</span>"#
        } else {
            r#" <span class="tag warn">Unverified</span>"#
        });
        body.push_str("</span><span class=\"row\">");
        if !email.verified {
            let _ = write!(
                body,
                r#"<form method="post" action="/user/email/{id}/send"><button type="submit">Send code</button></form>"#
            );
        }
        if !primary {
            let _ = write!(
                body,
                r#"<form method="post" action="/user/email/{id}/remove"><button type="submit" class="danger" aria-label="Remove {}">Remove</button></form>"#,
                escape(&email.value)
            );
        }
        body.push_str("</span></li>");
    }
    body.push_str("</ul>");
    let verifying = given(fields.verify.as_ref()).and_then(|id| user.emails.iter().find(|e| e.id == id && !e.verified));
    if let Some(email) = verifying {
        let problem = only(Section::VerifyEmail);
        let form = Form::new(problem, &["code"], true);
        let _ = write!(
            body,
            r#"<form method="post" action="/user/email/verify" id="verify"><p>Enter the code we sent to <strong>{}</strong>.</p>{}{}<button type="submit">Verify</button></form>"#,
            escape(&email.value),
            hidden("email_id", Some(&email.id)),
            form.input(&Field::code(), None),
        );
    }
    let problem = only(Section::AddEmail);
    let form = Form::new(problem, &["email_address"], false);
    let value = if problem.is_some() { given(fields.email_address.as_ref()) } else { None };
    let _ = write!(
        body,
        r#"<form method="post" action="/user/email">{}<button type="submit">Add email address</button></form></section>"#,
        form.input(&Field::new("email_address", "Email address", "email", "email"), value),
    );

    // Password.
    let names = ["current_password", "new_password"];
    let form = Form::new(only(Section::Password), &names, false);
    let hint = format!("At least {} characters.", state.config.password_min_length);
    let current = if user.password_hash.is_some() {
        form.input(&Field::new("current_password", "Current password", "password", "current-password"), None)
    } else {
        String::new()
    };
    let _ = write!(
        body,
        r#"<section aria-labelledby="password-h"><h2 id="password-h">Password</h2><form method="post" action="/user/password">{current}{}<div class="check"><input type="checkbox" id="sign_out_of_other_sessions" name="sign_out_of_other_sessions" value="true"><label for="sign_out_of_other_sessions">Sign out of all other devices</label></div><button type="submit">Update password</button></form></section>"#,
        form.input(&Field::new("new_password", "New password", "password", "new-password").hint(&hint), None),
    );

    // Sessions.
    body.push_str(r#"<section aria-labelledby="sessions-h"><h2 id="sessions-h">Active devices</h2><ul class="list">"#);
    for s in profile::active_sessions(state, &user.id).await? {
        let this = s.id == session.id;
        let id = escape(&s.id);
        let _ = write!(
            body,
            r#"<li data-session-id="{id}"><span class="what">{}<br><span class="muted">Last active {}</span></span>"#,
            if this { r#"<strong>This device</strong>"# } else { "Another device" },
            format_time(s.last_active_at),
        );
        if !this {
            let _ = write!(
                body,
                r#"<form method="post" action="/user/sessions/{id}/revoke"><button type="submit" class="danger">Revoke</button></form>"#
            );
        }
        body.push_str("</li>");
    }
    body.push_str("</ul></section>");

    // Signing out.
    body.push_str(
        r#"<section aria-labelledby="signout-h"><h2 id="signout-h">Sign out</h2><form method="post" action="/sign-out"><button type="submit" class="primary">Sign out</button></form></section>"#,
    );
    Ok(layout::page(state, StatusCode::OK, "Account", &format!("Your {app} account"), &body))
}

/// The browser and its signed-in session and user (401 when signed out, which the pages turn
/// into a redirect to sign in).
async fn signed_in(state: &AppState, headers: &HeaderMap) -> ApiResult<(Browser, SessionRecord, UserRecord)> {
    let browser = Browser::load(state, headers).await?;
    let (session, user) = browser.signed_in(state).await?;
    Ok((browser, session, user))
}

async fn back(state: &AppState, browser: &Browser, done: &str) -> ApiResult<Response> {
    see_other(state, browser, &format!("/user?done={done}")).await
}

/// `POST /user/profile`: first and last name (empty removes).
pub(super) async fn profile(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(fields): FormOrJson<Fields>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    let changes = ProfileChanges {
        first_name: Some(fields.first_name.unwrap_or_default()),
        last_name: Some(fields.last_name.unwrap_or_default()),
        ..ProfileChanges::default()
    };
    profile::update(&state, &user, changes).await?;
    back(&state, &browser, "profile").await
}

/// `POST /user/password`.
pub(super) async fn password(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(fields): FormOrJson<Fields>,
) -> ApiResult<Response> {
    let (browser, session, user) = signed_in(&state, &headers).await?;
    let Some(new) = fields.new_password.filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "new_password", "Enter a new password."));
    };
    let others = matches!(fields.sign_out_of_other_sessions.as_deref(), Some("true" | "on" | "1"));
    profile::change_password(&state, &session, &user, fields.current_password.as_deref(), &new, others).await?;
    back(&state, &browser, "password").await
}

/// `POST /user/email`: adds an address and mails it a code.
pub(super) async fn add_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(fields): FormOrJson<Fields>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    let email = profile::add_email(&state, &user, fields.email_address.as_deref().unwrap_or_default()).await?;
    let user = state.store.get_user(&user.id).await?.ok_or(ApiError::SignedOut)?;
    profile::prepare_email(&state, &user, &email.id).await?;
    see_other(&state, &browser, &format!("/user?verify={}#verify", layout::url_encode(&email.id))).await
}

/// `POST /user/email/{id}/send`: a (new) code for an unverified address.
pub(super) async fn send_email_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    let email = profile::prepare_email(&state, &user, &id).await?;
    see_other(&state, &browser, &format!("/user?verify={}#verify", layout::url_encode(&email.id))).await
}

/// `POST /user/email/verify`: the code for an added address.
pub(super) async fn verify_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(fields): FormOrJson<Fields>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    let id = fields.email_id.as_deref().unwrap_or_default();
    let Some(code) = given(fields.code.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    profile::verify_email(&state, &user, id, code).await?;
    back(&state, &browser, "email_verified").await
}

/// `POST /user/email/{id}/remove`.
pub(super) async fn remove_email(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    profile::remove_email(&state, &user, &id).await?;
    back(&state, &browser, "email_removed").await
}

/// `POST /user/sessions/{id}/revoke`: ends a session of the user (on any device).
pub(super) async fn revoke_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> ApiResult<Response> {
    let (browser, _, user) = signed_in(&state, &headers).await?;
    profile::revoke_session(&state, &user, &id).await?;
    back(&state, &browser, "session_revoked").await
}

/// `POST /sign-out`: ends this browser's sessions, then to the safe `redirect_url` or the
/// sign-in page.
pub(super) async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    FormOrJson(fields): FormOrJson<Fields>,
) -> ApiResult<Response> {
    let mut browser = Browser::load(&state, &headers).await?;
    account::sign_out(&state, &mut browser, None).await?;
    let target = fields.target(&state).unwrap_or_else(|| "/sign-in".to_owned());
    see_other(&state, &browser, &target).await
}
