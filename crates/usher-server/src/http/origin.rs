//! Which browser origins may use usher: CORS for the allowed ones, and a refusal of state
//! changes from any other (CSRF defence on top of SameSite=Lax cookies).

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header},
    middleware::Next,
    response::{IntoResponse, Response},
};
use tower_http::cors::{AllowOrigin, CorsLayer};
use usher_types::ClerkError;

use crate::{error::ApiError, state::AppState};

/// CORS headers on the answers to allowed origins (with credentials, exposing `Retry-After`).
/// Preflights are answered before routing, by [`preflight`].
pub fn cors(state: &AppState) -> CorsLayer {
    let origins = state.origins.clone();
    CorsLayer::new()
        .allow_origin(AllowOrigin::predicate(move |origin: &HeaderValue, _| {
            origin.to_str().is_ok_and(|o| origins.allows(o))
        }))
        .allow_credentials(true)
        .expose_headers([header::RETRY_AFTER])
}

/// The answer to a CORS preflight: 204 with the allowed methods for an allowed origin, 403
/// otherwise.
pub fn preflight(state: &AppState, headers: &HeaderMap) -> Response {
    let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !state.origins.allows(origin) {
        return (StatusCode::FORBIDDEN, "origin not allowed").into_response();
    }
    let headers = [
        (header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.to_owned()),
        (header::ACCESS_CONTROL_ALLOW_CREDENTIALS, "true".to_owned()),
        (header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, PATCH, PUT, DELETE".to_owned()),
        (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type, authorization".to_owned()),
        (header::ACCESS_CONTROL_MAX_AGE, "600".to_owned()),
        (header::VARY, "origin".to_owned()),
    ];
    (StatusCode::NO_CONTENT, headers).into_response()
}

/// The refusal for a state change (`method`) from a page on a foreign origin; `None` when it
/// may go ahead. Requests without `Origin` come from non-browser clients.
pub fn check(state: &AppState, method: &Method, headers: &HeaderMap) -> Option<ApiError> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let origin = headers.get(header::ORIGIN).map(|v| v.to_str().unwrap_or("null"));
    match origin {
        Some(origin) if !safe && !state.origins.allows(origin) => Some(ApiError::Forbidden(ClerkError::new(
            "origin_invalid",
            "Origin not allowed",
            "Requests from this origin are not allowed. Add it to usher's allowed origins.",
        ))),
        _ => None,
    }
}

/// [`check`] as a middleware.
pub async fn refuse_foreign(State(state): State<AppState>, request: Request, next: Next) -> Response {
    // Through a verified proxy the page's origin is the proxy's own: first-party, allowed.
    let proxied = request.extensions().get::<super::proxy::FrontendProxy>().map(|p| p.origin());
    let from_proxy_origin = proxied.is_some_and(|o| {
        request.headers().get(header::ORIGIN).and_then(|v| v.to_str().ok()).and_then(crate::origins::parse_origin)
            == Some(o)
    });
    if from_proxy_origin {
        return next.run(request).await;
    }
    match check(&state, request.method(), request.headers()) {
        Some(refusal) => refusal.into_response(),
        None => next.run(request).await,
    }
}

/// Whether the browser says this request is a navigation (or fetch) started by another site
/// (`Sec-Fetch-Site: cross-site`). Absent (older browsers, non-browser clients), `none` (typed,
/// bookmarked, opened from a mail app), `same-origin` and `same-site` are not.
pub fn cross_site_navigation(headers: &HeaderMap) -> bool {
    headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("cross-site"))
}
