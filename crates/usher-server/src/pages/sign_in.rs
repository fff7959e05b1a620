//! `/sign-in`: a password, or a code mailed to the address, or a `__clerk_ticket` link.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use usher_types::{ClerkError, Strategy};

use super::{
    Fields, Post, Redo, after_sign_in, given,
    layout::{self, Field, Form, Problem, escape, hidden},
    see_other, with_cookies,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        sign_in::{self, CreateSignIn, SignIn, SignInStatus},
    },
    http::{extract::Query, origin, throttle::Limit},
    state::AppState,
};

/// `GET /sign-in`: the form; skipped when already signed in. With `__clerk_ticket` it shows a
/// button that posts the ticket ([`redeem_ticket`]): a GET changes nothing, so link scanners
/// and prefetchers cannot use a ticket up, and another site cannot sign a browser in to the
/// ticket's account by sending it to the link (login CSRF) — such a cross-site navigation is
/// refused outright.
pub(super) async fn page(
    State(state): State<AppState>,
    mut browser: Browser,
    headers: HeaderMap,
    Query(fields): Query<Fields>,
) -> Response {
    let result = show(&state, &mut browser, &headers, &fields).await;
    Redo::SignIn.or_show(&state, &browser, &fields, result).await
}

async fn show(state: &AppState, browser: &mut Browser, headers: &HeaderMap, fields: &Fields) -> ApiResult<Response> {
    if let Some(ticket) = given(fields.ticket.as_ref()) {
        if origin::cross_site_navigation(headers) {
            return Ok(ticket_refused(state));
        }
        return Ok(ticket_form(state, fields, ticket));
    }
    if browser.session(state).await?.is_some() {
        return see_other(state, browser, &after_sign_in(state, fields)).await;
    }
    Ok(form(state, fields, None))
}

/// `POST /sign-in/ticket`: redeems a `__clerk_ticket` (a sign-in token) posted from the page
/// [`page`] shows for the link.
pub(super) async fn redeem_ticket(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignIn, with_ticket).await
}

async fn with_ticket(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let ticket = given(fields.ticket.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "__clerk_ticket", "This sign-in link is incomplete."))?;
    let input = CreateSignIn {
        strategy: Some(Strategy::Ticket.as_str().to_owned()),
        ticket: Some(ticket.to_owned()),
        ..Default::default()
    };
    // The ticket is not shown again if the form comes back with an error.
    fields.ticket = None;
    let attempt = sign_in::create(state, browser, input).await?;
    completed(state, browser, fields, &attempt).await
}

/// The page for a sign-in link: one button that posts the ticket (pages run no scripts).
fn ticket_form(state: &AppState, fields: &Fields, ticket: &str) -> Response {
    let app = &state.config.application_name;
    let body = format!(
        r#"<form method="post" action="/sign-in/ticket">{ticket}{target}<p>You opened a sign-in link.</p>
<button type="submit" class="primary">Continue signing in</button>
</form>"#,
        ticket = hidden("__clerk_ticket", Some(ticket)),
        target = hidden("redirect_url", fields.target(state).as_deref()),
    );
    layout::page(state, StatusCode::OK, "Sign in", &format!("Sign in to {app}"), &body)
}

/// A sign-in link another site sent the browser to.
fn ticket_refused(state: &AppState) -> Response {
    let app = &state.config.application_name;
    let body = "<p role=\"alert\">This sign-in link was opened from another website, so it was not used. \
                If you asked for it, open it from your email or paste it into the address bar.</p>";
    layout::page(state, StatusCode::FORBIDDEN, "Sign in", &format!("Sign in to {app}"), body)
}

/// `POST /sign-in`: email address and password.
pub(super) async fn submit(State(state): State<AppState>, post: Post) -> Response {
    // A password guess, so it also spends the attempt bucket.
    post.answer(&state, &[Limit::Create, Limit::Attempt], Redo::SignIn, with_password).await
}

async fn with_password(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let identifier = given(fields.identifier.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "identifier", "Enter your email address."))?;
    let Some(password) = fields.password.clone().filter(|p| !p.is_empty()) else {
        return Err(ApiError::invalid("form_param_missing", "password", "Enter your password."));
    };
    let input = CreateSignIn {
        identifier: Some(identifier.to_owned()),
        strategy: Some(Strategy::Password.as_str().to_owned()),
        password: Some(password),
        ..Default::default()
    };
    let attempt = sign_in::create(state, browser, input).await?;
    completed(state, browser, fields, &attempt).await
}

/// `POST /sign-in/code`: starts a sign-in and mails a code (enumeration-safe: the same page
/// whether or not the address has an account).
pub(super) async fn send_code(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignIn, mail_code).await
}

async fn mail_code(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let identifier = given(fields.identifier.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "identifier", "Enter your email address."))?
        .to_owned();
    let input = CreateSignIn { identifier: Some(identifier.clone()), ..Default::default() };
    let attempt = sign_in::create(state, browser, input).await?;
    let attempt = sign_in::prepare_email_code(state, browser, &attempt.id).await?;
    fields.sign_in_id = Some(attempt.id);
    fields.identifier = Some(identifier);
    with_cookies(state, browser, code_form(state, fields, None)).await
}

/// `POST /sign-in/code/verify`: the mailed code.
pub(super) async fn verify_code(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::SignInCode, check_code).await
}

async fn check_code(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_in_id.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "sign_in_id", "This sign-in expired. Start again."));
    };
    let Some(code) = given(fields.code.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
    };
    let attempt = sign_in::attempt(state, browser, id, Some(Strategy::EmailCode), Some(code.to_owned())).await?;
    completed(state, browser, fields, &attempt).await
}

/// A finished sign-in goes to the target; anything else is unexpected here.
pub(super) async fn completed(
    state: &AppState,
    browser: &Browser,
    fields: &Fields,
    attempt: &SignIn,
) -> ApiResult<Response> {
    if attempt.status == SignInStatus::NeedsSecondFactor {
        let fields = Fields { sign_in_id: Some(attempt.id.clone()), ..fields.clone() };
        return with_cookies(state, browser, super::second_factor::form(state, &fields, None)).await;
    }
    if attempt.status != SignInStatus::Complete {
        let message = "Sign-in could not be completed. Start again.";
        return Err(ApiError::Unprocessable(ClerkError::new("sign_in_incomplete", message, message)));
    }
    if state.config.second_factor_required
        && let Some(id) = attempt.created_session_id.as_deref()
        && state.store.get_session(id).await?.is_some_and(|s| s.status == usher_types::SessionStatus::Pending)
    {
        // Required two-step verification not set up yet: the account page's setup comes first.
        return see_other(state, browser, "/user#totp").await;
    }
    see_other(state, browser, &after_sign_in(state, fields)).await
}

/// The sign-in form.
pub(super) fn form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let app = &state.config.application_name;
    let names = ["identifier", "password"];
    let form = Form::new(problem, &names, true);
    let email = Field::new("identifier", "Email address", "email", "email");
    let password = Field::new("password", "Password", "password", "current-password");
    let body = format!(
        r#"{alert}{oauth}<form method="post" action="/sign-in">{target}{email}{password}<button type="submit" class="primary">Continue</button>
<p class="alt"><button type="submit" class="link" formaction="/sign-in/code" formnovalidate>Email me a code instead</button></p>
<p class="alt"><button type="submit" class="link" formaction="/sign-in/link" formnovalidate>Email me a sign-in link</button></p>
</form>
<form method="post" action="/sign-in/passkey" class="alt">{target}<button type="submit" id="passkey-sign-in">Sign in with a passkey</button></form>
<p class="alt"><a href="/sign-in/forgot{query}">Forgot password?</a></p>
<p class="alt">No account? <a href="/sign-up{query}">Sign up</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        oauth = super::oauth::buttons(state, fields),
        target = hidden("redirect_url", fields.target(state).as_deref()),
        email = form.input(&email, given(fields.identifier.as_ref())),
        password = form.input(&password, None),
        query = escape(&fields.target_query(state)),
    );
    layout::page(state, StatusCode::OK, "Sign in", &format!("Sign in to {app}"), &body)
}

/// The form for the mailed code.
pub(super) fn code_form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let names = ["code"];
    let form = Form::new(problem, &names, true);
    let identifier = given(fields.identifier.as_ref());
    let sent_to = match identifier {
        Some(to) => format!("<p>Enter the code we sent to <strong>{}</strong>.</p>", escape(to)),
        None => "<p>Enter the code we sent to your email address.</p>".to_owned(),
    };
    let target = hidden("redirect_url", fields.target(state).as_deref());
    let body = format!(
        r#"{alert}{sent_to}<form method="post" action="/sign-in/code/verify">{id}{ident}{target}{code}<button type="submit" class="primary">Continue</button></form>
<form method="post" action="/sign-in/code" class="alt">{ident}{target}<button type="submit" class="link">Send a new code</button></form>
<p class="alt"><a href="/sign-in{query}">Use your password instead</a></p>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        id = hidden("sign_in_id", given(fields.sign_in_id.as_ref())),
        ident = hidden("identifier", identifier),
        code = form.input(&Field::code(), None),
        query = escape(&fields.target_query(state)),
    );
    let app = &state.config.application_name;
    layout::page(state, StatusCode::OK, "Check your email", &format!("Sign in to {app}"), &body)
}
