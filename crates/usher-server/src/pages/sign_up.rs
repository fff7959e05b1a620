//! `/sign-up`: an email address and a password, the address proved with a mailed code.

use axum::{extract::State, http::StatusCode, response::Response};
use usher_types::{ClerkError, Strategy};

use super::{
    Fields, Post, Redo, after_sign_in, given,
    layout::{self, Field, Form, Problem, escape, hidden},
    see_other, with_cookies,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser, invitations,
        sign_up::{self, SignUpInput, SignUpStatus},
    },
    http::{extract::Query, throttle::Limit},
    state::AppState,
};

/// `GET /sign-up`: the form; skipped when already signed in.
pub(super) async fn page(
    State(state): State<AppState>,
    browser: Browser,
    Query(mut fields): Query<Fields>,
) -> Response {
    let result = match browser.session(&state).await {
        Ok(Some(_)) if given(fields.ticket.as_ref()).is_none() => {
            see_other(&state, &browser, &after_sign_in(&state, &fields)).await
        }
        Ok(_) => invited(&state, &mut fields).await.map(|()| form(&state, &fields, None)),
        Err(e) => Err(e),
    };
    Redo::SignUp.or_show(&state, &browser, &fields, result).await
}

/// With an invitation ticket (`__clerk_ticket`), the invited address fills the form.
async fn invited(state: &AppState, fields: &mut Fields) -> ApiResult<()> {
    if let Some(ticket) = given(fields.ticket.as_ref()) {
        let invitation = invitations::pending(state, ticket).await?.ok_or_else(invitations::ticket_invalid)?;
        fields.email_address = Some(invitation.email_address);
    }
    Ok(())
}

/// `POST /sign-up`: starts the sign-up and mails the code; with an invitation ticket the
/// address is proved already and the account is created at once.
pub(super) async fn submit(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignUp, start).await
}

async fn start(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(email) = given(fields.email_address.as_ref()).map(str::to_owned) else {
        return Err(ApiError::invalid("form_param_missing", "email_address", "Enter your email address."));
    };
    let Some(password) = fields.password.take().filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "password", "Enter a password."));
    };
    let ticket = given(fields.ticket.as_ref()).map(str::to_owned);
    let input = SignUpInput {
        email_address: Some(email),
        password: Some(password),
        first_name: fields.first_name.clone(),
        last_name: fields.last_name.clone(),
        unsafe_metadata: None,
        transfer: None,
        strategy: ticket.as_ref().map(|_| Strategy::Ticket.as_str().to_owned()),
        ticket,
        ..SignUpInput::default()
    };
    let attempt = sign_up::create(state, browser, input).await?;
    if attempt.status == SignUpStatus::Complete {
        return see_other(state, browser, &after_sign_in(state, fields)).await;
    }
    let attempt = sign_up::prepare_verification(state, browser, &attempt.id).await?;
    fields.sign_up_id = Some(attempt.id);
    fields.email_address = attempt.email_address;
    with_cookies(state, browser, code_form(state, fields, None)).await
}

/// `POST /sign-up/resend`: a new code for the sign-up in progress.
pub(super) async fn resend(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignUpCode, send_again).await
}

async fn send_again(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let id = sign_up_id(fields)?.to_owned();
    let attempt = sign_up::prepare_verification(state, browser, &id).await?;
    fields.email_address = attempt.email_address;
    let status = layout::status(Some("We sent a new code."));
    with_cookies(state, browser, code_page(state, fields, None, &status)).await
}

/// `POST /sign-up/verify`: the mailed code; a complete sign-up is signed in.
pub(super) async fn verify(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::SignUpCode, check_code).await
}

async fn check_code(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let id = sign_up_id(fields)?;
    let Some(code) = given(fields.code.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    let attempt = sign_up::attempt_verification(state, browser, id, code).await?;
    if attempt.status != SignUpStatus::Complete {
        let message = "Sign-up could not be completed. Start again.";
        return Err(ApiError::Unprocessable(ClerkError::new("sign_up_incomplete", message, message)));
    }
    if state.config.second_factor_required
        && let Some(id) = attempt.created_session_id.as_deref()
        && state.store.get_session(id).await?.is_some_and(|s| s.status == usher_types::SessionStatus::Pending)
    {
        // Required two-step verification: the new account sets it up before anything else.
        return see_other(state, browser, "/user#totp").await;
    }
    see_other(state, browser, &after_sign_in(state, fields)).await
}

fn sign_up_id(fields: &Fields) -> ApiResult<&str> {
    given(fields.sign_up_id.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "sign_up_id", "This sign-up expired. Start again."))
}

/// The sign-up form.
pub(super) fn form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let app = &state.config.application_name;
    let names = ["email_address", "password", "first_name", "last_name"];
    let form = Form::new(problem, &names, true);
    let hint = format!("At least {} characters.", state.config.password_min_length);
    let body = format!(
        r#"{alert}{oauth}<form method="post" action="/sign-up">{target}{ticket}{email}{password}<div class="row">{first}{last}</div><button type="submit" class="primary">Continue</button></form>
<p class="alt">Have an account? <a href="/sign-in{query}">Sign in</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        oauth = super::oauth::buttons(state, fields),
        target = hidden("redirect_url", fields.target(state).as_deref()),
        ticket = hidden("__clerk_ticket", given(fields.ticket.as_ref())),
        email = form.input(
            &Field::new("email_address", "Email address", "email", "email"),
            given(fields.email_address.as_ref())
        ),
        password = form.input(&Field::new("password", "Password", "password", "new-password").hint(&hint), None),
        first = form.input(
            &Field::new("first_name", "First name", "text", "given-name").optional(),
            given(fields.first_name.as_ref())
        ),
        last = form.input(
            &Field::new("last_name", "Last name", "text", "family-name").optional(),
            given(fields.last_name.as_ref())
        ),
        query = escape(&fields.target_query(state)),
    );
    layout::page(state, StatusCode::OK, "Sign up", &format!("Create your {app} account"), &body)
}

/// "Check your email": the form for the mailed code.
pub(super) fn code_form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    code_page(state, fields, problem, "")
}

fn code_page(state: &AppState, fields: &Fields, problem: Option<&Problem>, status: &str) -> Response {
    let names = ["code"];
    let form = Form::new(problem, &names, true);
    let sent_to = match given(fields.email_address.as_ref()) {
        Some(to) => format!("<p>Enter the code we sent to <strong>{}</strong>.</p>", escape(to)),
        None => "<p>Enter the code we sent to your email address.</p>".to_owned(),
    };
    let id = hidden("sign_up_id", given(fields.sign_up_id.as_ref()));
    let email = hidden("email_address", given(fields.email_address.as_ref()));
    let target = hidden("redirect_url", fields.target(state).as_deref());
    let body = format!(
        r#"{status}{alert}{sent_to}<form method="post" action="/sign-up/verify">{id}{email}{target}{code}<button type="submit" class="primary">Continue</button></form>
<form method="post" action="/sign-up/resend" class="alt">{id}{email}{target}<button type="submit" class="link">Send a new code</button></form>
<form method="post" action="/sign-up/link" class="alt">{id}{email}{target}<button type="submit" class="link">Email me a link instead</button></form>
<p class="alt"><a href="/sign-up{query}">Start over</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        code = form.input(&Field::code(), None),
        query = escape(&fields.target_query(state)),
    );
    layout::page(state, StatusCode::OK, "Check your email", "Check your email", &body)
}
