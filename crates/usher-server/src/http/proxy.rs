//! The Frontend API behind an app's own proxy (`@clerk/backend/proxy`'s
//! `clerkFrontendApiProxy`): the proxy forwards the browser's request with `Clerk-Proxy-Url`
//! (where the browser reached it) and `Clerk-Secret-Key`. Only a request whose secret key is
//! this instance's is believed, so a browser cannot claim to come through a proxy; a wrong key
//! is refused outright, as it means a misconfigured proxy.

use axum::{
    extract::Request,
    http::{HeaderMap, header::HeaderName},
};
use url::Url;

use crate::{error::ApiError, ids, state::AppState};

/// The header naming the proxy's public URL.
pub const PROXY_URL_HEADER: HeaderName = HeaderName::from_static("clerk-proxy-url");
/// The header carrying the instance's secret key.
pub const SECRET_KEY_HEADER: HeaderName = HeaderName::from_static("clerk-secret-key");

/// A verified proxy in front of this request (a request extension).
#[derive(Debug, Clone)]
pub struct FrontendProxy {
    /// The proxy's public URL, e.g. `http://127.0.0.1:4321/__clerk`.
    pub url: Url,
}

impl FrontendProxy {
    /// The origin of the app the proxy serves (`scheme://host[:port]`).
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }
}

/// Checks the proxy headers and, when they hold, records a [`FrontendProxy`] on the request.
pub fn verify(state: &AppState, request: &mut Request) -> Result<(), ApiError> {
    match from_headers(state, request.headers())? {
        Some(proxy) => {
            request.extensions_mut().insert(proxy);
        }
        None => {
            request.extensions_mut().remove::<FrontendProxy>();
        }
    }
    Ok(())
}

fn from_headers(state: &AppState, headers: &HeaderMap) -> Result<Option<FrontendProxy>, ApiError> {
    let Some(key) = headers.get(SECRET_KEY_HEADER) else { return Ok(None) };
    let key = key.to_str().unwrap_or_default().trim();
    // Digests have a fixed length, so the comparison time says nothing about the key.
    if !ids::secrets_equal(&ids::sha256(key.as_bytes()), &state.secret_key_digest) {
        return Err(ApiError::Unauthorized);
    }
    let Some(url) = headers.get(PROXY_URL_HEADER) else { return Ok(None) };
    let url = url.to_str().ok().and_then(|u| Url::parse(u.trim()).ok()).filter(|u| {
        matches!(u.scheme(), "http" | "https")
            && u.host().is_some()
            && u.username().is_empty()
            && u.password().is_none()
    });
    match url {
        Some(url) => Ok(Some(FrontendProxy { url })),
        None => Err(ApiError::malformed(
            "Invalid Clerk-Proxy-Url",
            "The Clerk-Proxy-Url header must be the absolute http(s) URL the proxy is reached at.",
        )),
    }
}
