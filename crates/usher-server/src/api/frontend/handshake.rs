//! `GET /v1/client/handshake` and `GET /v1/client/touch`: the two navigations (not fetches)
//! Clerk's SDKs send a browser on. See [`crate::flows::handshake`] for the protocol. Also
//! `POST /v1/dev_browser`, the dev-browser token of development instances.

use axum::{
    Extension, Json, Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use super::view::{self, Known};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, handshake},
    http::{extract::Query, proxy::FrontendProxy},
    state::AppState,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/client/handshake", get(start))
        .route("/v1/client/touch", get(touch))
        .route("/v1/dev_browser", post(dev_browser))
}

#[derive(Debug, Deserialize)]
struct HandshakeQuery {
    redirect_url: Option<String>,
    format: Option<String>,
    suffixed_cookies: Option<String>,
    #[serde(rename = "__clerk_db_jwt")]
    dev_browser: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TouchQuery {
    redirect_url: Option<String>,
}

/// `redirect_url` when it is an absolute URL on an allowed origin or on the proxy's origin:
/// the handshake hands session cookies to whatever page it returns to.
fn return_to(state: &AppState, proxy: Option<&FrontendProxy>, target: Option<&str>) -> ApiResult<Url> {
    let invalid = || {
        ApiError::invalid(
            "form_param_format_invalid",
            "redirect_url",
            "redirect_url must be an absolute URL on an allowed origin",
        )
    };
    let url = Url::parse(
        target.ok_or_else(|| ApiError::invalid("form_param_missing", "redirect_url", "redirect_url is required"))?,
    )
    .map_err(|_| invalid())?;
    let origin = url.origin().ascii_serialization();
    let proxied = proxy.is_some_and(|p| p.origin() == origin);
    if proxied || state.origins.safe_redirect(url.as_str()).is_some_and(|s| !s.starts_with('/')) {
        Ok(url)
    } else {
        Err(invalid())
    }
}

fn found(location: &Url) -> Response {
    let mut res = StatusCode::TEMPORARY_REDIRECT.into_response();
    if let Ok(v) = HeaderValue::from_str(location.as_str()) {
        res.headers_mut().insert(header::LOCATION, v);
    }
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn start(
    State(state): State<AppState>,
    proxy: Option<Extension<FrontendProxy>>,
    Query(q): Query<HandshakeQuery>,
    browser: Browser,
) -> ApiResult<Response> {
    let proxy = proxy.map(|Extension(p)| p);
    let mut back = return_to(&state, proxy.as_ref(), q.redirect_url.as_deref())?;
    let (_, token) = match &browser.client {
        Some(_) => view::client(&state, &browser, Known::default()).await?,
        None => (serde_json::Value::Null, None),
    };
    let client_uat = browser.client.as_ref().map_or(0, |c| c.updated_at / 1000);
    let secure = back.scheme() == "https";
    // Development instances: keep the app's dev-browser token if it is one of ours, else issue
    // one, so that the page load after this one has it and needs no handshake for it.
    let dev_browser = (!state.config.production).then(|| {
        let sealer = dev_browser_sealer(&state);
        q.dev_browser
            .filter(|t| handshake::is_dev_browser(&sealer, t))
            .unwrap_or_else(|| handshake::issue_dev_browser(&sealer))
    });
    let cookies = handshake::SessionCookies {
        session_token: token.as_deref(),
        client_uat: if token.is_some() { client_uat } else { 0 },
        token_lifetime_secs: state.config.session_token_lifetime.as_secs(),
        secure,
        suffix: (q.suffixed_cookies.as_deref() == Some("true"))
            .then(|| handshake::cookie_suffix(&state.publishable_key)),
        dev_browser: dev_browser.as_deref(),
    };
    let directives = handshake::directives(&cookies);
    let now = state.now() / 1000;
    // Behind a proxy the Frontend API is on the app's own origin, so the nonce can travel in a
    // short-lived cookie there. Reached directly, it has to travel in the URL, and there the
    // signed form is used: a reload after it expired fails verification and falls back to the
    // cookies, where a spent nonce would read as "signed out".
    let res = match proxy {
        Some(_) if q.format.as_deref() != Some("token") => {
            let nonce = handshake::seal_nonce(&handshake_sealer(&state), &directives, now);
            let mut res = found(&back);
            let flags = if secure { "; Secure" } else { "" };
            let cookie = format!(
                "{}={nonce}; Path=/; Max-Age={}; HttpOnly; SameSite=Lax{flags}",
                handshake::NONCE_COOKIE,
                handshake::LIFETIME_SECS
            );
            if let Ok(v) = HeaderValue::from_str(&cookie) {
                res.headers_mut().append(header::SET_COOKIE, v);
            }
            res
        }
        _ => {
            let key = state.keys.signer();
            let jwt = handshake::sign_token(&key.kid, key.signer(), &directives, now);
            back.query_pairs_mut().append_pair(handshake::TOKEN_COOKIE, &jwt);
            found(&back)
        }
    };
    Ok(res)
}

/// The sealer of handshake nonces (its own purpose, so no other sealed value opens as one).
pub fn handshake_sealer(state: &AppState) -> crate::seal::Sealer {
    crate::seal::Sealer::new(state.config.secret_key.expose(), handshake::SEAL_PURPOSE)
}

fn dev_browser_sealer(state: &AppState) -> crate::seal::Sealer {
    crate::seal::Sealer::new(state.config.secret_key.expose(), handshake::DEV_BROWSER_PURPOSE)
}

/// `POST /v1/dev_browser`: a new dev-browser token, `{"id": "dvb_…"}` as Clerk answers. Only
/// development instances have dev browsers; a production one answers as Clerk's does for a
/// route it lacks, so no token ever exists for it.
async fn dev_browser(State(state): State<AppState>) -> ApiResult<Json<Value>> {
    if state.config.production {
        return Err(ApiError::NotFound("dev_browser"));
    }
    let id = handshake::issue_dev_browser(&dev_browser_sealer(&state));
    Ok(Json(json!({"object": "dev_browser", "id": id})))
}

/// clerk-js navigates here when the client cookie is within 8 days of expiring. usher's client
/// lives as long as its longest session may (7 days by default) and its cookie is re-issued at
/// every sign-in, so there is nothing to extend: this sends the browser back.
async fn touch(
    State(state): State<AppState>,
    proxy: Option<Extension<FrontendProxy>>,
    Query(q): Query<TouchQuery>,
) -> ApiResult<Response> {
    let proxy = proxy.map(|Extension(p)| p);
    Ok(found(&return_to(&state, proxy.as_ref(), q.redirect_url.as_deref())?))
}
