//! The browser script, served as it is in the repository (no build step for apps): the entry
//! `web/usher.js` at `/npm/usher.js` and the ES modules it imports, `web/usher/<path>` at
//! `/npm/usher/<path>`. Any other path under `/npm/usher/` gets the server's usual 404.

use axum::{
    Router,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
};

/// `(path under web/usher/, contents)`. A module added to web/usher/ must be listed here; the
/// integration tests compare this table with the directory.
macro_rules! modules {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_str!(concat!("../../../web/usher/", $path)))),*]
    };
}
pub const MODULES: &[(&str, &str)] = modules![
    "clerk.js",
    "fapi.js",
    "options.js",
    "resources.js",
    "session.js",
    "stores.js",
    "text.js",
    "util.js",
    "webauthn.js",
    "components/base.js",
    "components/control.js",
    "components/flow.js",
    "components/organization-switcher.js",
    "components/sign-in.js",
    "components/sign-up.js",
    "components/styles.js",
    "components/user-button.js",
    "components/user-profile.js",
    // Social sign-in.
    "providers.js",
    "components/providers.js",
    "components/organizations.js",
];

/// The entry page scripts include (`<script type="module" src=".../npm/usher.js">`).
pub const ENTRY: &str = include_str!("../../../web/usher.js");

/// The routes for `/npm/usher.js` and every module.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let router = Router::new().route("/npm/usher.js", get(|| async { script(ENTRY) }));
    MODULES.iter().fold(router, |router, &(path, body)| {
        router.route(&format!("/npm/usher/{path}"), get(move || async move { script(body) }))
    })
}

/// Any origin may load them: module scripts are fetched with CORS, and they are public.
fn script(body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=300"),
            (header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"),
        ],
        body,
    )
        .into_response()
}
