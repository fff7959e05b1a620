//! Email links on the hosted pages: `/sign-in/link` and `/sign-up/link` (mail a link, then wait
//! for it) and the
//! link itself, `/v1/verify?token=…` (see [`crate::flows::email_link`] for which browser gets
//! the session and why).

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    Fields, Post, Redo, after_sign_in, given,
    layout::{self, Problem, escape, hidden, url_encode},
    see_other, with_cookies,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        email_link::{self, Outcome},
        sign_in::{self, CreateSignIn, SignInStatus},
        sign_up::{self, SignUpStatus},
    },
    http::{
        extract::Query,
        throttle::{self, ClientIp, Limit},
    },
    state::AppState,
};

/// `POST /sign-in/link`: starts a sign-in and mails a link (the same page whether or not the
/// address has an account).
pub(super) async fn send_link(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignIn, mail_link).await
}

async fn mail_link(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let identifier = given(fields.identifier.as_ref())
        .ok_or_else(|| ApiError::invalid("form_param_missing", "identifier", "Enter your email address."))?
        .to_owned();
    let input = CreateSignIn { identifier: Some(identifier.clone()), ..Default::default() };
    let attempt = sign_in::create(state, browser, input).await?;
    let target = after_sign_in(state, fields);
    let attempt = email_link::prepare_sign_in(state, browser, &attempt.id, Some(&target)).await?;
    fields.sign_in_id = Some(attempt.id);
    fields.identifier = Some(identifier);
    with_cookies(state, browser, waiting(state, fields)).await
}

/// `GET /sign-in/link?sign_in_id=…`: the tab that asked for the link, reloading itself until the
/// link was opened (here, or confirmed on another device).
pub(super) async fn wait(
    State(state): State<AppState>,
    mut browser: Browser,
    Query(fields): Query<Fields>,
) -> Response {
    let result = check(&state, &mut browser, &fields).await;
    Redo::SignIn.or_show(&state, &browser, &fields, result).await
}

async fn check(state: &AppState, browser: &mut Browser, fields: &Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_in_id.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "sign_in_id", "This sign-in expired. Start again."));
    };
    let attempt = sign_in::load(state, browser, id).await?;
    let attempt = email_link::finish_sign_in(state, browser, attempt).await?;
    if attempt.status == SignInStatus::Complete {
        return see_other(state, browser, &after_sign_in(state, fields)).await;
    }
    with_cookies(state, browser, waiting(state, fields)).await
}

/// `POST /sign-up/link`: mails a link instead of a code for the sign-up in progress.
pub(super) async fn send_sign_up_link(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignUpCode, mail_sign_up_link).await
}

async fn mail_sign_up_link(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_up_id.as_ref()).map(str::to_owned) else {
        return Err(ApiError::invalid("form_param_missing", "sign_up_id", "This sign-up expired. Start again."));
    };
    let target = after_sign_in(state, fields);
    let attempt = email_link::prepare_sign_up(state, browser, &id, Some(&target)).await?;
    fields.email_address = attempt.email_address;
    with_cookies(state, browser, waiting_sign_up(state, fields)).await
}

/// `GET /sign-up/link?sign_up_id=…`: the sign-up tab waiting for its link.
pub(super) async fn wait_sign_up(
    State(state): State<AppState>,
    mut browser: Browser,
    Query(fields): Query<Fields>,
) -> Response {
    let result = check_sign_up(&state, &mut browser, &fields).await;
    Redo::SignUp.or_show(&state, &browser, &fields, result).await
}

async fn check_sign_up(state: &AppState, browser: &mut Browser, fields: &Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_up_id.as_ref()) else {
        return Err(ApiError::invalid("form_param_missing", "sign_up_id", "This sign-up expired. Start again."));
    };
    let attempt = sign_up::load(state, browser, id).await?;
    let attempt = email_link::finish_sign_up(state, browser, attempt).await?;
    if attempt.status == SignUpStatus::Complete {
        return see_other(state, browser, &after_sign_in(state, fields)).await;
    }
    with_cookies(state, browser, waiting_sign_up(state, fields)).await
}

fn waiting_sign_up(state: &AppState, fields: &Fields) -> Response {
    let mut query = format!("?sign_up_id={}", url_encode(given(fields.sign_up_id.as_ref()).unwrap_or_default()));
    if let Some(to) = given(fields.email_address.as_ref()) {
        query.push_str(&format!("&email_address={}", url_encode(to)));
    }
    if let Some(target) = fields.target(state) {
        query.push_str(&format!("&redirect_url={}", url_encode(&target)));
    }
    let sent_to = given(fields.email_address.as_ref()).map_or_else(
        || "<p>We sent a link to your email address.</p>".to_owned(),
        |to| format!("<p>We sent a link to <strong>{}</strong>.</p>", escape(to)),
    );
    let body = format!(
        r#"{sent_to}<p>Open it to finish signing up; this page then continues by itself.</p>
<p class="alt"><a id="link-continue" href="/sign-up/link{query}">I opened the link — continue</a></p>"#,
        query = escape(&query),
    );
    refreshing(
        layout::page(state, StatusCode::OK, "Check your email", "Check your email", &body),
        "/sign-up/link",
        &query,
    )
}

/// `response`, reloading `path` + `query` every few seconds: a refresh, not a script (the
/// hosted pages run none); it polls as clerk-js does.
fn refreshing(mut response: Response, path: &str, query: &str) -> Response {
    if let Ok(value) = axum::http::HeaderValue::from_str(&format!("3; url={path}{query}")) {
        response.headers_mut().insert("refresh", value);
    }
    response
}

fn waiting(state: &AppState, fields: &Fields) -> Response {
    let identifier = given(fields.identifier.as_ref());
    let sent_to = match identifier {
        Some(to) => format!("<p>We sent a sign-in link to <strong>{}</strong>.</p>", escape(to)),
        None => "<p>We sent a sign-in link to your email address.</p>".to_owned(),
    };
    let mut query = format!("?sign_in_id={}", url_encode(given(fields.sign_in_id.as_ref()).unwrap_or_default()));
    if let Some(to) = identifier {
        query.push_str(&format!("&identifier={}", url_encode(to)));
    }
    if let Some(target) = fields.target(state) {
        query.push_str(&format!("&redirect_url={}", url_encode(&target)));
    }
    let body = format!(
        r#"{sent_to}<p>Open it in this browser to sign in here. Opened on another device, it asks you to confirm, and this page then continues by itself.</p>
<p class="alt"><a id="link-continue" href="/sign-in/link{query}">I opened the link — continue</a></p>
<p class="alt"><a href="/sign-in{back}">Use another way</a></p>"#,
        query = escape(&query),
        back = escape(&fields.target_query(state)),
    );
    refreshing(
        layout::page(state, StatusCode::OK, "Check your email", "Check your email", &body),
        "/sign-in/link",
        &query,
    )
}

/// `GET /v1/verify?token=…`: the emailed link.
pub(super) async fn open(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    mut browser: Browser,
    Query(fields): Query<Fields>,
) -> Response {
    let token = fields.token.clone().unwrap_or_default();
    let result = match throttle::take(&state, Limit::Attempt, ip).await {
        Ok(()) => email_link::verify(&state, &mut browser, &token, false).await,
        Err(e) => Err(e),
    };
    answer(&state, &browser, &token, result).await
}

/// `POST /v1/verify`: "yes, it was me" from another browser than the one that asked.
pub(super) async fn confirm(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::SignIn, async |state, browser, fields| {
        let token = fields.token.clone().unwrap_or_default();
        let result = email_link::verify(state, browser, &token, true).await;
        Ok(answer(state, browser, &token, result).await)
    })
    .await
}

async fn answer(state: &AppState, browser: &Browser, token: &str, result: ApiResult<Outcome>) -> Response {
    let message = |status, title: &str, text: &str| {
        layout::page(state, status, title, title, &format!("<p>{}</p>", escape(text)))
    };
    let response = match result {
        Ok(Outcome::Redirect(target) | Outcome::Expired(Some(target))) => see_other(state, browser, &target).await,
        Ok(Outcome::Confirm) => Ok(confirm_page(state, token)),
        Ok(Outcome::VerifiedElsewhere) => {
            Ok(message(StatusCode::OK, "Signed in", "Verified. Return to your original tab to continue."))
        }
        Ok(Outcome::Expired(None)) => {
            Ok(message(StatusCode::BAD_REQUEST, "Link expired", "This link has expired. Ask for a new one."))
        }
        Ok(Outcome::Invalid) => Ok(message(
            StatusCode::BAD_REQUEST,
            "Link not valid",
            "This link is not valid or was already used. Ask for a new one.",
        )),
        Err(e) => Err(e),
    };
    response.unwrap_or_else(|e| {
        let problem = Problem::of(&e);
        message(problem.status, "Something went wrong", &problem.message).into_response()
    })
}

fn confirm_page(state: &AppState, token: &str) -> Response {
    let app = &state.config.application_name;
    let body = format!(
        r#"<p>This link was requested from another browser or device. Confirm only if you asked for it yourself just now: confirming signs in <strong>that</strong> browser, not this one.</p>
<form method="post" action="/v1/verify">{token}<button type="submit" class="primary">Yes, it was me</button></form>
<p class="alt">If you did not ask to sign in to {app}, close this page.</p>"#,
        token = hidden("token", Some(token)),
        app = escape(app),
    );
    layout::page(state, StatusCode::OK, "Confirm sign-in", "Confirm sign-in", &body)
}
