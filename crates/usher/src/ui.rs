//! The browser side's configuration (the equivalent of the Astro `clerk()` integration's
//! options) and the tags that bring `usher.js` into HTML pages, as `clerkMiddleware()` does:
//! server-rendered pages carry the auth state, so they know the user before the script runs.
//! The layers that put the tags into responses are [`UsherLayer`](crate::UsherLayer) and
//! [`InjectLayer`](crate::InjectLayer).

use serde_json::{Map, Value, json};

use crate::{Auth, UsherConfig};

/// Options for `usher.js` and its components. Change `localization` and `appearance` at runtime
/// in the browser with `usher.updateOptions({ localization, appearance })`.
///
/// ```
/// let mut config = usher::UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787")?;
/// config.ui.after_sign_in_url = "/dashboard".into();
/// config.ui.localization = serde_json::json!({ "signInButton": "Log in" });
/// # Ok::<(), usher::ConfigError>(())
/// ```
#[derive(Debug, Clone)]
pub struct UiOptions {
    /// Whether [`UsherLayer`](crate::UsherLayer) adds the script and the initial state to
    /// uncompressed `text/html` responses (default on).
    pub inject_script: bool,
    /// The usher server the browser talks to (its Frontend API); default: `CLERK_API_URL`.
    pub frontend_api_url: Option<String>,
    /// `PUBLIC_CLERK_SIGN_IN_FORCE_REDIRECT_URL`-like: where to go after signing in (default `/`).
    pub after_sign_in_url: String,
    /// Where to go after signing up (default `/`).
    pub after_sign_up_url: String,
    /// Where to go after signing out (default `/`).
    pub after_sign_out_url: String,
    /// Label overrides, keyed as documented at the top of `usher.js`.
    pub localization: Value,
    /// Theme: `{ "variables": { "colorPrimary": "#…" } }`.
    pub appearance: Value,
}

impl Default for UiOptions {
    fn default() -> Self {
        Self {
            inject_script: true,
            frontend_api_url: None,
            after_sign_in_url: "/".into(),
            after_sign_up_url: "/".into(),
            after_sign_out_url: "/".into(),
            localization: Value::Object(Map::new()),
            appearance: Value::Object(Map::new()),
        }
    }
}

/// JSON that is safe inside `<script type="application/json">`: no `<` can close the element.
fn script_json(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

fn attr(text: &str) -> String {
    text.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// The tags added to a page: the options, the request's auth state, and the script.
pub fn head_tags(config: &UsherConfig, auth: &Auth) -> String {
    #[cfg(test)]
    tests::TAGS_BUILT.with(|n| n.set(n.get() + 1));
    let api = config.ui.frontend_api_url.clone().unwrap_or_else(|| config.api_url.clone());
    let options = json!({
        "frontendApi": api,
        "publishableKey": config.publishable_key,
        "signInUrl": config.sign_in_url(),
        "signUpUrl": config.sign_up_url(),
        "userProfileUrl": format!("{api}/user"),
        "afterSignInUrl": config.ui.after_sign_in_url,
        "afterSignUpUrl": config.ui.after_sign_up_url,
        "afterSignOutUrl": config.ui.after_sign_out_url,
        "localization": config.ui.localization,
        "appearance": config.ui.appearance,
    });
    let state = json!({
        "userId": auth.user_id,
        "sessionId": auth.session_id,
        "orgId": auth.org_id,
        "orgRole": auth.org_role,
        "orgSlug": auth.org_slug,
        "orgPermissions": if auth.org_id.is_some() { json!(auth.org_permissions) } else { Value::Null },
    });
    format!(
        "<script id=\"__USHER_OPTIONS__\" type=\"application/json\">{}</script>\
         <script id=\"__USHER_STATE__\" type=\"application/json\">{}</script>\
         <script type=\"module\" src=\"{}/npm/usher.js\"></script>",
        script_json(&options),
        script_json(&state),
        attr(&api),
    )
}

/// `html` with `tags` before `</head>` (or before `<body`, or at the start).
pub fn inject(html: &str, tags: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let at = lower.find("</head>").or_else(|| lower.find("<body")).unwrap_or(0);
    let mut out = String::with_capacity(html.len() + tags.len());
    out.push_str(&html[..at]);
    out.push_str(tags);
    out.push_str(&html[at..]);
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// How often head tags were built on this thread (a test's runtime is single-threaded),
        /// so tests can tell that they are built only for pages.
        pub(crate) static TAGS_BUILT: Cell<usize> = const { Cell::new(0) };
    }

    #[test]
    fn tags_go_before_head_end_and_cannot_break_out_of_the_script() {
        let page = inject("<html><head><title>x</title></head><body>hi</body></html>", "<T>");
        assert_eq!(page, "<html><head><title>x</title><T></head><body>hi</body></html>");
        assert_eq!(inject("<p>bare</p>", "<T>"), "<T><p>bare</p>");
        let hostile = script_json(&json!({"x": "</script><script>alert(1)</script>"}));
        assert!(!hostile.contains("</script>") && !hostile.contains('<'));
    }
}
