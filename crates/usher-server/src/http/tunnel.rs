//! What must happen before routing: CORS preflights of Frontend API paths (routing would answer
//! 405 for OPTIONS first), and `POST ?_method=PATCH|PUT|DELETE` turned into that method, as
//! clerk-js sends non-GET/POST requests. Both apply to Frontend API paths only: the Backend
//! API and the pages mean what their method says.

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};

use super::origin;
use crate::state::AppState;

/// The Frontend API's path prefixes.
const FRONTEND_PATHS: [&str; 4] = ["/v1/client", "/v1/me", "/v1/environment", BROWSER_ORGANIZATIONS];

/// Where the Frontend API's `/v1/organizations…` routes are mounted. Clerk serves them on the
/// Frontend API's host and the Backend API has the same paths on its own; usher has one host,
/// so a request to them without the secret key is sent here before routing.
pub const BROWSER_ORGANIZATIONS: &str = "/_frontend";

/// A browser's `/v1/organizations…` request: no secret key (or the Frontend API's own `…/roles`).
fn is_browser_organization_request(request: &Request) -> bool {
    let path = request.uri().path();
    if !(path == "/v1/organizations" || path.starts_with("/v1/organizations/")) {
        return false;
    }
    let secret = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().get(..10).is_some_and(|p| p.eq_ignore_ascii_case("bearer sk_")));
    !secret || path.ends_with("/roles")
}

/// `request` with its path under [`BROWSER_ORGANIZATIONS`].
fn to_browser_organizations(request: &mut Request) {
    let path_and_query = request.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
    if let Ok(uri) = format!("{BROWSER_ORGANIZATIONS}{path_and_query}").parse() {
        *request.uri_mut() = uri;
    }
}

/// Whether `path` is a Frontend API path.
pub fn is_frontend_path(path: &str) -> bool {
    FRONTEND_PATHS.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The middleware wrapping the routed app.
pub async fn before_routing(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if is_browser_organization_request(&request) {
        to_browser_organizations(&mut request);
    }
    if !is_frontend_path(request.uri().path()) {
        return next.run(request).await;
    }
    if request.method() == Method::OPTIONS {
        return origin::preflight(&state, request.headers());
    }
    let origin = request.headers().get(axum::http::header::ORIGIN).cloned();
    if let Err(refusal) = super::proxy::verify(&state, &mut request) {
        return with_cors(&state, origin, axum::response::IntoResponse::into_response(refusal));
    }
    if request.method() == Method::POST
        && let Some(method) = tunnelled(request.uri().query())
    {
        *request.method_mut() = method;
    }
    with_cors(&state, origin, next.run(request).await)
}

/// CORS headers on every Frontend API answer to an allowed origin, errors included (the 404 of an
/// unknown path, a 405, a refused proxy key): without them the browser reports a CORS failure and
/// the page never sees Clerk's error body.
fn with_cors(state: &AppState, origin: Option<axum::http::HeaderValue>, mut response: Response) -> Response {
    use axum::http::{HeaderValue, header};
    let Some(origin) = origin.filter(|o| o.to_str().is_ok_and(|o| state.origins.allows(o))) else { return response };
    let headers = response.headers_mut();
    if !headers.contains_key(header::ACCESS_CONTROL_ALLOW_ORIGIN) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
        headers.append(header::VARY, HeaderValue::from_static("origin"));
    }
    response
}

fn tunnelled(query: Option<&str>) -> Option<Method> {
    let wanted = query?.split('&').find_map(|pair| pair.strip_prefix("_method="))?;
    match wanted.to_ascii_uppercase().as_str() {
        "PATCH" => Some(Method::PATCH),
        "PUT" => Some(Method::PUT),
        "DELETE" => Some(Method::DELETE),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_frontend_paths_and_known_methods_tunnel() {
        assert!(
            is_frontend_path("/v1/client/sign_ins/x")
                && is_frontend_path("/v1/me")
                && is_frontend_path("/v1/environment")
        );
        assert!(!is_frontend_path("/v1/users") && !is_frontend_path("/v1/clients") && !is_frontend_path("/v1/meta"));
        assert_eq!(tunnelled(Some("a=1&_method=patch")), Some(Method::PATCH));
        assert_eq!(tunnelled(Some("_method=GET")), None);
        assert_eq!(tunnelled(None), None);
    }
}
