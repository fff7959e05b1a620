//! The browser's cookies: `__client` read into a [`Browser`], and the `Set-Cookie`s written back.

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
    response::Response,
};

use crate::{
    error::{ApiError, ApiResult},
    flows::Browser,
    state::AppState,
};

/// The cookie holding `<client id>.<secret>`.
pub const CLIENT_COOKIE: &str = "__client";
/// The cookie holding the current session token, readable by scripts and sent to apps.
pub use usher_types::token::SESSION_COOKIE;
/// The cookie telling apps when the client last changed (`0` when signed out).
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// Handlers take the browser as an extractor: the `__client` cookie and the `Origin`.
impl FromRequestParts<AppState> for Browser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let origin = parts.headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let mut browser = Browser::load(state, cookie(&parts.headers, CLIENT_COOKIE), origin).await?;
        browser.acting_session_id = acting_session_id(parts.uri.query());
        browser.cross_site = cross_site_direct(state, parts);
        Ok(browser)
    }
}

/// Whether the request comes from a page on another site (`Sec-Fetch-Site: cross-site`, which
/// the browser computes with the public-suffix list) straight to an https usher, not through the
/// app's proxy. Behind the proxy the cookies land on the app's own origin and same-site pages
/// (the hosted pages, usher.js on a sibling subdomain) need nothing more than `Lax`, so only
/// this case relaxes `SameSite`; the origin check on every state change ([`super::origin`])
/// is what keeps other sites from using the cookie then.
fn cross_site_direct(state: &AppState, parts: &Parts) -> bool {
    state.issuer.starts_with("https://")
        && parts.extensions.get::<super::proxy::FrontendProxy>().is_none()
        && super::origin::cross_site_navigation(&parts.headers)
}

/// clerk-js's `_clerk_session_id` query parameter (the session acting), if non-empty.
fn acting_session_id(query: Option<&str>) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(k, _)| k == "_clerk_session_id")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    usher_types::token::cookie(headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()), name)
}

/// Adds the browser's cookies to a response — the client cookie when it changed, and
/// `__client_uat`/`__session` reflecting `session_token` (the live session's token, if any) —
/// and marks it uncacheable, as every answer about a browser is.
pub fn set_cookies(state: &AppState, browser: &Browser, session_token: Option<&str>, res: &mut Response) {
    for cookie in cookies(state, browser, session_token) {
        res.headers_mut().append(header::SET_COOKIE, cookie);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

fn cookies(state: &AppState, browser: &Browser, session_token: Option<&str>) -> Vec<HeaderValue> {
    let Some(client) = &browser.client else { return Vec::new() };
    let secure = if state.issuer.starts_with("https://") { "; Secure" } else { "" };
    let mut out: Vec<String> = Vec::new();
    if let Some(secret) = browser.new_secret() {
        let max_age = ((client.expire_at - state.now()) / 1000).max(0);
        // Not `Partitioned`: the handshake and OAuth callbacks reach usher as top-level
        // navigations, where a cookie partitioned under the app's site would not be sent.
        let same_site = if browser.cross_site { "None" } else { "Lax" };
        out.push(format!(
            "{CLIENT_COOKIE}={}.{secret}; Path=/; Max-Age={max_age}; HttpOnly; SameSite={same_site}{secure}",
            client.id
        ));
    }
    let uat = if session_token.is_some() { client.updated_at / 1000 } else { 0 };
    // Strict, as clerk-js sets it: it only tells same-site pages whether to expect a session.
    out.push(format!("{CLIENT_UAT_COOKIE}={uat}; Path=/; Max-Age=31536000; SameSite=Strict{secure}"));
    match session_token {
        Some(jwt) => {
            let max_age = state.config.session_token_lifetime.as_secs();
            out.push(format!("{SESSION_COOKIE}={jwt}; Path=/; Max-Age={max_age}; SameSite=Lax{secure}"));
        }
        None => out.push(format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}")),
    }
    out.into_iter().filter_map(|c| HeaderValue::from_str(&c).ok()).collect()
}
