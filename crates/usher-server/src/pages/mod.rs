//! The hosted pages: server-rendered HTML for signing in (`/sign-in`), signing up (`/sign-up`),
//! managing the account (`/user`) and signing out, working without scripts.
//!
//! They are a second face of [`crate::frontend`]: every rule (passwords, codes, lockout,
//! enumeration-safe answers, redirect checks) lives there, and the pages only turn forms into
//! calls and results into HTML. Posts get the Frontend API's defences (foreign-`Origin`
//! refusal, per-IP limits) and set the same cookies. Handlers answer errors as [`ApiError`]s;
//! [`html_errors`] turns every error answer into the page re-rendered with the message.

pub(crate) mod layout;
mod sign_in;
mod sign_up;
mod user;

use axum::{
    Router,
    body::{Body, to_bytes},
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use usher_types::ClerkErrors;

use self::layout::Problem;
use crate::{
    api::frontend::{limit_attempt, limit_create, refuse_foreign_origin, set_cookies},
    error::{ApiError, ApiResult},
    frontend::{Browser, view},
    state::AppState,
};

/// Every hosted page.
pub fn router(state: &AppState) -> Router<AppState> {
    let create = || middleware::from_fn_with_state(state.clone(), limit_create);
    let attempt = || middleware::from_fn_with_state(state.clone(), limit_attempt);
    Router::new()
        .route("/sign-in", get(sign_in::page).merge(post(sign_in::submit).route_layer(create())))
        .route("/sign-in/code", post(sign_in::send_code).route_layer(create()))
        .route("/sign-in/code/verify", post(sign_in::verify_code).route_layer(attempt()))
        .route("/sign-up", get(sign_up::page).merge(post(sign_up::submit).route_layer(create())))
        .route("/sign-up/resend", post(sign_up::resend).route_layer(create()))
        .route("/sign-up/verify", post(sign_up::verify).route_layer(attempt()))
        .route("/sign-out", post(user::sign_out))
        .route("/user", get(user::page))
        .route("/user/profile", post(user::profile))
        .route("/user/password", post(user::password).route_layer(attempt()))
        .route("/user/email", post(user::add_email).route_layer(create()))
        .route("/user/email/verify", post(user::verify_email).route_layer(attempt()))
        .route("/user/email/{id}/send", post(user::send_email_code).route_layer(create()))
        .route("/user/email/{id}/remove", post(user::remove_email))
        .route("/user/sessions/{id}/revoke", post(user::revoke_session))
        .route_layer(middleware::from_fn_with_state(state.clone(), refuse_foreign_origin))
        .route_layer(middleware::from_fn_with_state(state.clone(), html_errors))
}

/// Every field any page form (or page query) carries; pages read the ones they need.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Fields {
    identifier: Option<String>,
    password: Option<String>,
    code: Option<String>,
    sign_in_id: Option<String>,
    sign_up_id: Option<String>,
    email_address: Option<String>,
    email_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
    sign_out_of_other_sessions: Option<String>,
    redirect_url: Option<String>,
    done: Option<String>,
    verify: Option<String>,
    #[serde(rename = "__clerk_ticket")]
    ticket: Option<String>,
}

impl Fields {
    /// The `redirect_url`, when it is safe; a refused one is dropped everywhere.
    fn target(&self, state: &AppState) -> Option<String> {
        self.redirect_url.as_deref().and_then(|t| state.origins.safe_redirect(t))
    }
}

/// A trimmed, non-empty form value.
fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// `303 See Other` to `location`, with the browser's cookies (so sign-ins, sign-outs and
/// rotations reach the browser exactly as through the Frontend API).
async fn see_other(state: &AppState, browser: &Browser, location: &str) -> ApiResult<Response> {
    let (_, token) = view::client(state, browser).await?;
    let location = HeaderValue::from_str(location).unwrap_or(HeaderValue::from_static("/user"));
    let mut response = (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response();
    set_cookies(state, browser, token.as_deref(), &mut response);
    Ok(response)
}

/// A rendered page carrying the browser's cookies.
async fn with_cookies(state: &AppState, browser: &Browser, mut response: Response) -> ApiResult<Response> {
    let (_, token) = view::client(state, browser).await?;
    set_cookies(state, browser, token.as_deref(), &mut response);
    Ok(response)
}

/// Where to go once signed in: the safe `redirect_url`, else the account page.
fn after_sign_in(state: &AppState, fields: &Fields) -> String {
    fields.target(state).unwrap_or_else(|| "/user".to_owned())
}

/// Turns error answers (the JSON of [`ApiError`], from a handler or a middleware such as the
/// origin check or a rate limit) into the page re-rendered with the message. The form's
/// values are read here, so the page keeps what was typed (never passwords).
async fn html_errors(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let headers = request.headers().clone();
    let (fields, request) = if request.method() == Method::POST {
        let (parts, body) = request.into_parts();
        let Ok(bytes) = to_bytes(body, state.config.max_body_bytes).await else {
            return render_problem(&state, &path, &headers, Fields::default(), problem_of(ApiError::TooLarge).await)
                .await;
        };
        let fields = serde_html_form::from_bytes(&bytes).unwrap_or_default();
        (fields, Request::from_parts(parts, Body::from(bytes)))
    } else {
        let fields = request.uri().query().and_then(|q| serde_html_form::from_str(q).ok()).unwrap_or_default();
        (fields, request)
    };
    let response = next.run(request).await;
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(response.status().is_client_error() || response.status().is_server_error()) || !is_json {
        return response;
    }
    let problem = Problem::from_response(response).await;
    render_problem(&state, &path, &headers, fields, problem).await
}

async fn problem_of(error: ApiError) -> Problem {
    Problem::from_response(error.into_response()).await
}

impl Problem {
    /// Reads an error answer: its status, `Retry-After`, and the first error's message.
    async fn from_response(response: Response) -> Self {
        let status = response.status();
        let retry_after = response.headers().get(header::RETRY_AFTER).cloned();
        let body = to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
        let first = serde_json::from_slice::<ClerkErrors>(&body).ok().and_then(|e| e.errors.into_iter().next());
        let (message, param) = match first {
            _ if status.is_server_error() => {
                let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                    "The server is busy. Please try again in a moment."
                } else {
                    "Something went wrong on our side. Please try again."
                };
                (message.to_owned(), None)
            }
            Some(e) => {
                let param = e.param().map(str::to_owned);
                let message = if e.long_message.is_empty() { e.message } else { e.long_message };
                (message, param)
            }
            None => ("That did not work. Please try again.".to_owned(), None),
        };
        let message = match (&retry_after, status) {
            (Some(seconds), StatusCode::TOO_MANY_REQUESTS) => {
                let seconds = seconds.to_str().unwrap_or("a few");
                format!("Too many attempts. Try again in {seconds} seconds.")
            }
            _ => message,
        };
        Self { status, message, param, retry_after }
    }
}

/// The page for `path` re-rendered with `problem`, with its status (and `Retry-After`).
async fn render_problem(
    state: &AppState,
    path: &str,
    headers: &HeaderMap,
    fields: Fields,
    problem: Problem,
) -> Response {
    let account = path == "/user" || path.starts_with("/user/") || path == "/sign-out";
    if problem.status == StatusCode::UNAUTHORIZED && account {
        return signed_out_redirect();
    }
    let mut response = match path {
        "/sign-in" | "/sign-in/code" => sign_in::form(state, &fields, Some(&problem)),
        "/sign-in/code/verify" => sign_in::code_form(state, &fields, Some(&problem)),
        "/sign-up" => sign_up::form(state, &fields, Some(&problem)),
        "/sign-up/verify" | "/sign-up/resend" => sign_up::code_form(state, &fields, Some(&problem)),
        _ if account => match user::with_problem(state, headers, path, &fields, &problem).await {
            Some(response) => response,
            None => return signed_out_redirect(),
        },
        _ => layout::page(
            state,
            problem.status,
            "Something went wrong",
            "Something went wrong",
            &format!("{}<p><a href=\"/sign-in\">Back to sign in</a></p>", layout::alert(Some(&problem), true)),
        ),
    };
    *response.status_mut() = problem.status;
    if let Some(retry_after) = problem.retry_after {
        response.headers_mut().insert(header::RETRY_AFTER, retry_after);
    }
    response
}

/// To the sign-in page, coming back to the account page afterwards.
fn signed_out_redirect() -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_static("/sign-in?redirect_url=%2Fuser"))])
            .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
