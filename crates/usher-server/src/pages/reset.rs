//! `/sign-in/forgot`: resetting a forgotten password with a code mailed to the address (the
//! `reset_password_email_code` sign-in of [`crate::flows::reset`]).

use axum::{extract::State, http::StatusCode, response::Response};
use usher_types::Strategy;

use super::{
    Fields, Post, Redo, given,
    layout::{self, Field, Form, Problem, escape, hidden},
    sign_in::completed,
    with_cookies,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser, reset,
        sign_in::{self, CreateSignIn, SignInStatus},
    },
    http::{extract::Query, throttle::Limit},
    state::AppState,
};

/// `GET /sign-in/forgot`: asks for the address.
pub(super) async fn page(State(state): State<AppState>, Query(fields): Query<Fields>) -> Response {
    form(&state, &fields, None)
}

/// `POST /sign-in/forgot`: starts a sign-in and mails a reset code (the same page whether or
/// not the address has an account).
pub(super) async fn send_code(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::Forgot, mail_code).await
}

async fn mail_code(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let identifier = given(fields.identifier.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "identifier", "Enter your email address."))?
        .to_owned();
    let id = match given(fields.sign_in_id.as_ref()) {
        // "Send a new code" on the reset form keeps the attempt.
        Some(id) => sign_in::load(state, browser, id).await?.id,
        None => {
            let input = CreateSignIn { identifier: Some(identifier.clone()), ..Default::default() };
            sign_in::create(state, browser, input).await?.id
        }
    };
    let attempt = reset::prepare(state, browser, &id).await?;
    fields.sign_in_id = Some(attempt.id);
    fields.identifier = Some(identifier);
    // Ending the other sessions is the safe default after a forgotten password (as Clerk's is).
    fields.sign_out_of_other_sessions = Some("true".to_owned());
    with_cookies(state, browser, reset_form(state, fields, None)).await
}

/// `POST /sign-in/forgot/reset`: the mailed code and the new password, in one form.
pub(super) async fn reset(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::Reset, set_password).await
}

async fn set_password(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_in_id.as_ref()).map(str::to_owned) else {
        return Err(ApiError::invalid("form_param_missing", "sign_in_id", "This reset expired. Start again."));
    };
    let Some(password) = fields.new_password.clone().filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "new_password", "Enter a new password."));
    };
    // The password is checked before the code is spent, so a too-short one keeps the code.
    state.passwords.normalize(&password, false).map_err(|e| {
        let mut error = ApiError::from(e);
        if let ApiError::Unprocessable(body) = &mut error {
            body.meta.insert("param_name".into(), "new_password".into());
        }
        error
    })?;
    let mut attempt = sign_in::load(state, browser, &id).await?;
    if attempt.status != SignInStatus::NeedsNewPassword {
        let Some(code) = given(fields.code.as_ref()) else {
            return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
        };
        let strategy = Some(Strategy::ResetPasswordEmailCode);
        attempt = sign_in::attempt(state, browser, &id, strategy, Some(code.to_owned())).await?;
    }
    let others = fields.sign_out_of_other_sessions.is_some();
    let attempt = reset::reset_password(state, browser, &attempt.id, &password, others).await?;
    completed(state, browser, fields, &attempt).await
}

/// The form asking for the address.
pub(super) fn form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let names = ["identifier"];
    let form = Form::new(problem, &names, true);
    let email = Field::new("identifier", "Email address", "email", "email");
    let body = format!(
        r#"{alert}<p>We will email you a code to reset your password.</p>
<form method="post" action="/sign-in/forgot">{target}{email}<button type="submit" class="primary">Send code</button></form>
<p class="alt"><a href="/sign-in{query}">Back to sign in</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        target = hidden("redirect_url", fields.target(state).as_deref()),
        email = form.input(&email, given(fields.identifier.as_ref())),
        query = escape(&fields.target_query(state)),
    );
    layout::page(state, StatusCode::OK, "Forgot password", "Reset your password", &body)
}

/// The form for the mailed code and the new password.
pub(super) fn reset_form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let names = ["code", "new_password"];
    let form = Form::new(problem, &names, true);
    let identifier = given(fields.identifier.as_ref());
    let sent_to = match identifier {
        Some(to) => format!("<p>Enter the code we sent to <strong>{}</strong> and a new password.</p>", escape(to)),
        None => "<p>Enter the code we sent to your email address and a new password.</p>".to_owned(),
    };
    let target = hidden("redirect_url", fields.target(state).as_deref());
    let password = Field::new("new_password", "New password", "password", "new-password");
    let checked = if fields.sign_out_of_other_sessions.is_some() { " checked" } else { "" };
    let body = format!(
        r#"{alert}{sent_to}<form method="post" action="/sign-in/forgot/reset">{id}{ident}{target}{code}{password}
<p><label><input type="checkbox" name="sign_out_of_other_sessions" value="true"{checked}> Sign out of all other devices</label></p>
<button type="submit" class="primary">Reset password</button></form>
<form method="post" action="/sign-in/forgot" class="alt">{id}{ident}{target}<button type="submit" class="link">Send a new code</button></form>
<p class="alt"><a href="/sign-in{query}">Back to sign in</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        id = hidden("sign_in_id", given(fields.sign_in_id.as_ref())),
        ident = hidden("identifier", identifier),
        code = form.input(&Field::code(), None),
        password = form.input(&password, None),
        query = escape(&fields.target_query(state)),
    );
    layout::page(state, StatusCode::OK, "Check your email", "Reset your password", &body)
}
