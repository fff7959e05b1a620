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
const FRONTEND_PATHS: [&str; 3] = ["/v1/client", "/v1/me", "/v1/environment"];

/// Whether `path` is a Frontend API path.
pub fn is_frontend_path(path: &str) -> bool {
    FRONTEND_PATHS.iter().any(|p| path.strip_prefix(p).is_some_and(|rest| rest.is_empty() || rest.starts_with('/')))
}

/// The middleware wrapping the routed app.
pub async fn before_routing(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    if !is_frontend_path(request.uri().path()) {
        return next.run(request).await;
    }
    if request.method() == Method::OPTIONS {
        return origin::preflight(&state, request.headers());
    }
    if request.method() == Method::POST
        && let Some(method) = tunnelled(request.uri().query())
    {
        *request.method_mut() = method;
    }
    next.run(request).await
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
