//! Pinned copies of Clerk's browser bundles (`@clerk/clerk-js`'s `clerk.browser.js`, `@clerk/ui`'s
//! `ui.browser.js`, and their chunks), served where Clerk's loaders look for them on the
//! Frontend API host: `/npm/@clerk/clerk-js@<version>/dist/<file>` and
//! `/npm/@clerk/ui@<version>/dist/<file>`. The loaders ask for a major version (`@6`) and the
//! chunks for the exact one (`@6.40.0`); the directory holds one pinned copy of each, so the
//! version segment only has to name the package. Nothing is served unless `clerk_js_dir` is set.

use axum::{
    Router,
    extract::{Path, State},
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

use crate::{error::ApiError, state::AppState};

/// The route.
pub fn router() -> Router<AppState> {
    Router::new().route("/npm/@clerk/{package}/dist/{file}", get(serve))
}

/// The directory under `clerk_js_dir` of a package path segment like `clerk-js@6`.
fn package_dir(segment: &str) -> Option<&'static str> {
    let (name, version) = segment.split_once('@')?;
    if version.is_empty() || !version.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-')) {
        return None;
    }
    match name {
        "clerk-js" => Some("clerk-js"),
        "ui" => Some("ui"),
        _ => None,
    }
}

/// A plain file name: no separators, no leading dot (so no `..`).
fn plain_file(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.len() <= 200
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

async fn serve(State(state): State<AppState>, Path((package, file)): Path<(String, String)>) -> Response {
    let (Some(root), Some(dir)) = (state.config.clerk_js_dir.as_ref(), package_dir(&package)) else {
        return ApiError::NotFound("route").into_response();
    };
    if !plain_file(&file) {
        return ApiError::NotFound("route").into_response();
    }
    let content_type = match file.rsplit_once('.').map(|(_, ext)| ext) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map" | "json") => "application/json",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    match tokio::fs::read(root.join(dir).join(&file)).await {
        Ok(body) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
                // Loaded as cross-origin scripts when the app is on another origin.
                (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
            ],
            body,
        )
            .into_response(),
        Err(_) => ApiError::NotFound("route").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_two_packages_and_plain_names_are_served() {
        assert_eq!(package_dir("clerk-js@6"), Some("clerk-js"));
        assert_eq!(package_dir("ui@1.36.0"), Some("ui"));
        assert_eq!(package_dir("backend@3"), None);
        assert_eq!(package_dir("ui@../x"), None);
        assert_eq!(package_dir("ui"), None);
        assert!(plain_file("10_clerk.browser_a68c22_6.40.0.js"));
        assert!(!plain_file("..") && !plain_file(".env") && !plain_file("a/b") && !plain_file("a%2fb"));
    }
}
