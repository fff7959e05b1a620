//! The Frontend API (`/v1/client…`, `/v1/me…`, `/v1/environment`) for browsers: Clerk's FAPI
//! conventions (form bodies, `{response, client}` envelopes), cookies, CORS for allowed origins
//! only, a foreign-`Origin` refusal on state changes, and per-IP limits. See
//! `docs/frontend-api.md`; the flows themselves are in [`crate::frontend`].

mod client;
mod me;

use std::net::{IpAddr, SocketAddr};

use axum::{
    Json, Router,
    extract::{ConnectInfo, Request, State},
    http::{HeaderValue, Method, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use serde_json::{Value, json};
use tower_http::cors::{AllowOrigin, CorsLayer};
use usher_types::ClerkError;

use crate::{
    error::{ApiError, ApiResult},
    frontend::{Browser, view},
    limits::Bucket,
    state::AppState,
};

/// Every Frontend API route.
pub fn router(state: &AppState) -> Router<AppState> {
    let origins = state.origins.clone();
    // Preflights are answered before routing ([`before_routing`]); this adds the headers to
    // the real responses.
    let cors = CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| origins.allows(o))
        }))
        .allow_credentials(true)
        .expose_headers([header::RETRY_AFTER]);
    Router::new()
        .route("/v1/environment", get(environment))
        .merge(client::router(state))
        .merge(me::router(state))
        .route_layer(middleware::from_fn_with_state(state.clone(), refuse_foreign_origin))
        .layer(cors)
}

/// Runs before routing: answers CORS preflights for Frontend API paths (routing would answer
/// 405 for OPTIONS first), and turns `POST ?_method=PATCH|PUT|DELETE` into that method (clerk-js
/// sends non-GET/POST requests this way).
pub async fn before_routing(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if request.method() == Method::OPTIONS && is_frontend_path(request.uri().path()) {
        return preflight(&state, &request);
    }
    if request.method() == Method::POST
        && let Some(query) = request.uri().query()
    {
        let wanted = query.split('&').find_map(|pair| pair.strip_prefix("_method="));
        if let Some(method) = wanted.and_then(|m| match m.to_ascii_uppercase().as_str() {
            "PATCH" => Some(Method::PATCH),
            "PUT" => Some(Method::PUT),
            "DELETE" => Some(Method::DELETE),
            _ => None,
        }) {
            *request.method_mut() = method;
        }
    }
    next.run(request).await
}

fn is_frontend_path(path: &str) -> bool {
    ["/v1/client", "/v1/me", "/v1/environment"]
        .iter()
        .any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

fn preflight(state: &AppState, request: &Request) -> Response {
    let origin = request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !state.origins.allows(origin) {
        return (axum::http::StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let headers = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.to_owned()),
        (header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true".to_owned()),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PATCH, PUT, DELETE".to_owned()),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type, authorization".to_owned()),
        (header::ACCESS_CONTROL_MAX_AGE, "600".to_owned()),
        (header::VARY, "origin".to_owned()),
    ];
    (axum::http::StatusCode::NO_CONTENT, headers).into_response()
}

/// State changes from a page on a foreign origin are refused (CSRF defence on top of
/// SameSite=Lax cookies). Requests without `Origin` come from non-browser clients.
pub(crate) async fn refuse_foreign_origin(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let safe = matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let origin = request.headers().get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    if !safe
        && let Some(origin) = origin
        && !state.origins.allows(origin)
    {
        return ApiError::Forbidden(ClerkError::new(
            "origin_invalid",
            "Origin not allowed",
            "Requests from this origin are not allowed. Add it to usher's allowed origins.",
        ))
        .into_response();
    }
    next.run(request).await
}

/// Takes one request from the client IP's bucket (429 with `Retry-After` when empty).
async fn throttle(bucket: Option<&Bucket>, request: Request, next: Next) -> Response {
    let Some(bucket) = bucket else { return next.run(request).await };
    let ip = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(addr)| addr.ip());
    match bucket.check(&ip.to_string()).await {
        Ok(()) => next.run(request).await,
        Err(wait) => ApiError::TooManyRequests(wait).into_response(),
    }
}

pub(crate) async fn limit_create(State(state): State<AppState>, request: Request, next: Next) -> Response {
    throttle(state.limits.create.as_ref(), request, next).await
}

pub(crate) async fn limit_attempt(State(state): State<AppState>, request: Request, next: Next) -> Response {
    throttle(state.limits.attempt.as_ref(), request, next).await
}

/// Clerk's envelope, `{response, client}`, with the cookies reflecting the client.
pub async fn respond(state: &AppState, browser: &Browser, response: Value) -> ApiResult<Response> {
    let (client, token) = view::client(state, browser).await?;
    Ok(envelope(state, browser, response, client, token.as_deref()))
}

/// The envelope whose response is the client itself (built once: it mints a token per session).
pub async fn respond_with_client(state: &AppState, browser: &Browser) -> ApiResult<Response> {
    let (client, token) = view::client(state, browser).await?;
    Ok(envelope(state, browser, client.clone(), client, token.as_deref()))
}

fn envelope(state: &AppState, browser: &Browser, response: Value, client: Value, token: Option<&str>) -> Response {
    let mut res = Json(json!({"response": response, "client": client})).into_response();
    set_cookies(state, browser, token, &mut res);
    res
}

/// Adds the browser's cookies to a response; Frontend API answers are never cached.
pub fn set_cookies(state: &AppState, browser: &Browser, token: Option<&str>, res: &mut Response) {
    for cookie in browser.cookies(state, token) {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// `GET /v1/environment`: what the instance offers, and where its pages are.
async fn environment(State(state): State<AppState>) -> Json<Value> {
    let base = &state.issuer;
    Json(json!({
        "object": "environment",
        "auth_config": {"object": "auth_config", "single_session_mode": true, "claimed_at": null},
        "display_config": {
            "object": "display_config",
            "application_name": state.config.application_name,
            "sign_in_url": format!("{base}/sign-in"),
            "sign_up_url": format!("{base}/sign-up"),
            "user_profile_url": format!("{base}/user"),
            "after_sign_in_url": "/",
            "after_sign_up_url": "/",
            "after_sign_out_all_url": "/",
            "after_sign_out_one_url": "/",
            "home_url": "/",
        },
        "user_settings": {
            "attributes": {
                "email_address": {"enabled": true, "required": true, "used_for_first_factor": true,
                    "first_factors": ["email_code"], "verifications": ["email_code"], "verify_at_sign_up": true},
                "password": {"enabled": true, "required": true},
                "first_name": {"enabled": true, "required": false},
                "last_name": {"enabled": true, "required": false},
                "username": {"enabled": true, "required": false, "used_for_first_factor": true},
            },
            "password_settings": {
                "min_length": state.config.password_min_length,
                "max_length": state.config.password_max_length,
            },
            "sign_in": {"second_factor": {"required": false}},
            "sign_up": {"mode": "public", "progressive": true},
        },
        "organization_settings": {"enabled": false},
        "maintenance_mode": false,
        "client_debug_mode": false,
    }))
}
