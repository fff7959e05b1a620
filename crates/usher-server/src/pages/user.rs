//! `/user`: the signed-in person's account (names, email addresses, password, sessions) and
//! signing out. Every post redirects back here (post/redirect/get) with `?done=…` for the
//! success message. The page's data is loaded first ([`Account::load`]); each section is then
//! rendered from it on its own.

use std::fmt::Write as _;

use axum::{extract::State, http::StatusCode, response::Response};

use super::{
    Fields, Post, Redo, given,
    layout::{self, Field, Form, Problem, escape, format_time, hidden},
    see_other, signed_out_redirect,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser, account,
        profile::{self, ProfileChanges},
        second_factor,
    },
    http::{
        extract::{Path, Query},
        throttle::Limit,
    },
    state::AppState,
    store::{SessionRecord, UserRecord},
};

/// Which form of the account page a problem belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Profile,
    Password,
    AddEmail,
    VerifyEmail,
    Totp,
    Other,
}

/// Everything the account page shows.
struct Account {
    session: SessionRecord,
    user: UserRecord,
    sessions: Vec<SessionRecord>,
    /// An authenticator app waiting for its first code.
    pending_totp: Option<second_factor::TotpView>,
    /// Connected provider accounts.
    external_accounts: Vec<crate::store::ExternalAccountRecord>,
}

impl Account {
    /// The signed-in browser's account; `None` when signed out.
    async fn load(state: &AppState, browser: &Browser) -> ApiResult<Option<Self>> {
        let Ok((session, user)) = browser.signed_in(state).await else { return Ok(None) };
        let sessions = profile::active_sessions(state, &user.id).await?;
        let pending_totp = second_factor::pending_setup(state, &user).await?;
        let external_accounts = state.store.external_accounts_of_user(&user.id).await?;
        Ok(Some(Self { session, user, sessions, pending_totp, external_accounts }))
    }
}

/// `GET /user`.
pub(super) async fn page(State(state): State<AppState>, browser: Browser, Query(fields): Query<Fields>) -> Response {
    match Account::load(&state, &browser).await {
        Ok(Some(account)) => render(&state, &account, &fields, None, None),
        Ok(None) => signed_out_redirect(),
        Err(e) => Redo::Account(Section::Other).or_show(&state, &browser, &fields, Err(e)).await,
    }
}

/// The account page showing `problem` in `section`; `None` when signed out.
pub(super) async fn with_problem(
    state: &AppState,
    browser: &Browser,
    section: Section,
    fields: &Fields,
    problem: &Problem,
) -> Option<Response> {
    let mut fields = fields.clone();
    fields.done = None;
    fields.verify = if section == Section::VerifyEmail { fields.email_id.clone() } else { None };
    Some(match Account::load(state, browser).await {
        Ok(Some(account)) => render(state, &account, &fields, Some((section, problem)), None),
        Ok(None) => return None,
        Err(_) => layout::page(state, problem.status, "Account", "Account", &layout::alert(Some(problem), true)),
    })
}

/// The account page showing backup codes just issued (once: they are in no URL).
pub(super) async fn with_backup_codes(state: &AppState, browser: &Browser, codes: &[String]) -> ApiResult<Response> {
    let account = Account::load(state, browser).await?.ok_or(ApiError::SignedOut)?;
    super::with_cookies(state, browser, render(state, &account, &Fields::default(), None, Some(codes))).await
}

fn render(
    state: &AppState,
    account: &Account,
    fields: &Fields,
    problem: Option<(Section, &Problem)>,
    codes: Option<&[String]>,
) -> Response {
    let app = &state.config.application_name;
    let only = |section: Section| problem.filter(|(s, _)| *s == section).map(|(_, p)| p);
    let shown = problem.map(|(_, p)| p);
    let done = match fields.done.as_deref() {
        Some("profile") => Some("Profile saved"),
        Some("password") => Some("Password updated"),
        Some("email_verified") => Some("Email address verified"),
        Some("email_removed") => Some("Email address removed"),
        Some("session_revoked") => Some("Session revoked"),
        Some("totp_removed") => Some("Two-step verification turned off"),
        Some("passkey_added") => Some("Passkey added"),
        Some("passkey_removed") => Some("Passkey removed"),
        Some("connected") => Some("Account connected"),
        Some("disconnected") => Some("Account disconnected"),
        _ => None,
    };
    // The summary takes focus unless a field of the form at fault does.
    let field_focus = problem.is_some_and(|(section, p)| {
        section != Section::Other
            && !layout::alert_focus(
                Some(p),
                &["first_name", "last_name", "current_password", "new_password", "email_address", "code"],
            )
    });
    let mut body = layout::status(done);
    body.push_str(&layout::alert(shown, shown.is_some() && !field_focus));
    body.push_str(&profile_section(&account.user, fields, only(Section::Profile)));
    body.push_str(&emails_section(&account.user, fields, only(Section::AddEmail), only(Section::VerifyEmail)));
    body.push_str(&password_section(state, &account.user, only(Section::Password)));
    let pending = account.pending_totp.as_ref();
    body.push_str(&super::second_factor::section(&account.user, pending, codes, only(Section::Totp)));
    body.push_str(&super::passkeys::section(&account.user));
    body.push_str(&sessions_section(&account.sessions, &account.session));
    body.push_str(&super::oauth::connected_section(state, &account.external_accounts));
    body.push_str(
        r#"<section aria-labelledby="orgs-h"><h2 id="orgs-h">Organizations</h2><p><a href="/organizations">Create, switch and manage your organizations</a></p></section>"#,
    );
    body.push_str(
        r#"<section aria-labelledby="signout-h"><h2 id="signout-h">Sign out</h2><form method="post" action="/sign-out"><button type="submit" class="primary">Sign out</button></form></section>"#,
    );
    layout::page(state, StatusCode::OK, "Account", &format!("Your {app} account"), &body)
}

fn profile_section(user: &UserRecord, fields: &Fields, problem: Option<&Problem>) -> String {
    let mut body = String::new();
    let names = ["first_name", "last_name"];
    let form = Form::new(problem, &names, false);
    let (first, last) = if problem.is_some() {
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

    body
}

fn emails_section(
    user: &UserRecord,
    fields: &Fields,
    add_problem: Option<&Problem>,
    verify_problem: Option<&Problem>,
) -> String {
    let mut body = String::new();
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
        let form = Form::new(verify_problem, &["code"], true);
        let _ = write!(
            body,
            r#"<form method="post" action="/user/email/verify" id="verify"><p>Enter the code we sent to <strong>{}</strong>.</p>{}{}<button type="submit">Verify</button></form>"#,
            escape(&email.value),
            hidden("email_id", Some(&email.id)),
            form.input(&Field::code(), None),
        );
    }
    let form = Form::new(add_problem, &["email_address"], false);
    let value = if add_problem.is_some() { given(fields.email_address.as_ref()) } else { None };
    let _ = write!(
        body,
        r#"<form method="post" action="/user/email">{}<button type="submit">Add email address</button></form></section>"#,
        form.input(&Field::new("email_address", "Email address", "email", "email"), value),
    );

    body
}

fn password_section(state: &AppState, user: &UserRecord, problem: Option<&Problem>) -> String {
    let mut body = String::new();
    let names = ["current_password", "new_password"];
    let form = Form::new(problem, &names, false);
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

    body
}

fn sessions_section(sessions: &[SessionRecord], current: &SessionRecord) -> String {
    let mut body = String::new();
    body.push_str(r#"<section aria-labelledby="sessions-h"><h2 id="sessions-h">Active devices</h2><ul class="list">"#);
    for s in sessions {
        let this = s.id == current.id;
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

    body
}

async fn back(state: &AppState, browser: &Browser, done: &str) -> ApiResult<Response> {
    see_other(state, browser, &format!("/user?done={done}")).await
}

/// `POST /user/profile`: first and last name (empty removes).
pub(super) async fn profile(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[], Redo::Account(Section::Profile), save_profile).await
}

async fn save_profile(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(state).await?;
    let changes = ProfileChanges {
        first_name: Some(fields.first_name.clone().unwrap_or_default()),
        last_name: Some(fields.last_name.clone().unwrap_or_default()),
        ..ProfileChanges::default()
    };
    profile::update(state, &user, changes).await?;
    back(state, browser, "profile").await
}

/// `POST /user/password`.
pub(super) async fn password(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::Account(Section::Password), change_password).await
}

async fn change_password(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let (session, user) = browser.signed_in(state).await?;
    let Some(new) = fields.new_password.clone().filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "new_password", "Enter a new password."));
    };
    let others = matches!(fields.sign_out_of_other_sessions.as_deref(), Some("true" | "on" | "1"));
    profile::change_password(state, &session, &user, fields.current_password.as_deref(), &new, others).await?;
    back(state, browser, "password").await
}

/// `POST /user/email`: adds an address and mails it a code.
pub(super) async fn add_email(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::Account(Section::AddEmail), add_address).await
}

async fn add_address(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(state).await?;
    let email = profile::add_email(state, &user, fields.email_address.as_deref().unwrap_or_default()).await?;
    let user = state.store.get_user(&user.id).await?.ok_or(ApiError::SignedOut)?;
    profile::prepare_email(state, &user, &email.id).await?;
    see_other(state, browser, &format!("/user?verify={}#verify", layout::url_encode(&email.id))).await
}

/// `POST /user/email/{id}/send`: a (new) code for an unverified address.
pub(super) async fn send_email_code(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let send = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let email = profile::prepare_email(state, &user, &id).await?;
        see_other(state, browser, &format!("/user?verify={}#verify", layout::url_encode(&email.id))).await
    };
    post.answer(&state, &[Limit::Create], Redo::Account(Section::Other), send).await
}

/// `POST /user/email/verify`: the code for an added address.
pub(super) async fn verify_email(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::Account(Section::VerifyEmail), check_email_code).await
}

async fn check_email_code(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let (_, user) = browser.signed_in(state).await?;
    let id = fields.email_id.as_deref().unwrap_or_default();
    let Some(code) = given(fields.code.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    profile::verify_email(state, &user, id, code).await?;
    back(state, browser, "email_verified").await
}

/// `POST /user/email/{id}/remove`.
pub(super) async fn remove_email(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let remove = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        profile::remove_email(state, &user, &id).await?;
        back(state, browser, "email_removed").await
    };
    post.answer(&state, &[], Redo::Account(Section::Other), remove).await
}

/// `POST /user/sessions/{id}/revoke`: ends a session of the user (on any device).
pub(super) async fn revoke_session(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let revoke = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        profile::revoke_session(state, &user, &id).await?;
        back(state, browser, "session_revoked").await
    };
    post.answer(&state, &[], Redo::Account(Section::Other), revoke).await
}

/// `POST /sign-out`: ends this browser's sessions, then to the safe `redirect_url` or the
/// sign-in page.
pub(super) async fn sign_out(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[], Redo::Account(Section::Other), end_sessions).await
}

async fn end_sessions(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    account::sign_out(state, browser, None).await?;
    let target = fields.target(state).unwrap_or_else(|| "/sign-in".to_owned());
    see_other(state, browser, &target).await
}
