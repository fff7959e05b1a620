//! `GET /metrics`: the Prometheus text exposition, with the values read at scrape time.

use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use subtle::ConstantTimeEq as _;

use crate::{error::ApiError, ids, metrics::Snapshot, state::AppState};

/// `/metrics` on the main listener: served only in `usher dev` or behind a token; otherwise
/// it lives on its own listener (or nowhere) and this answers 404.
pub async fn serve_on_main(state: State<AppState>, headers: HeaderMap) -> Response {
    if !state.config.metrics.on_main_listener() {
        return ApiError::NotFound("metrics endpoint on this listener").into_response();
    }
    serve(state, headers).await
}

/// The metrics, if the request carries the configured token (when there is one).
pub async fn serve(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = &state.config.metrics.token {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        // Digests compared in constant time: neither the length nor a prefix leaks.
        let matches: bool = ids::sha256(given.as_bytes()).ct_eq(&ids::sha256(token.expose().as_bytes())).into();
        if !matches {
            return ApiError::Unauthorized.into_response();
        }
    }
    let store = match state.store.gauges().await {
        Ok(g) => g,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let signing_key_age_seconds = (state.now() - state.keys.signer().activates_at()) / 1000;
    let snapshot = Snapshot { store, hashing: state.passwords.usage(), signing_key_age_seconds };
    let body = state.metrics.render(&snapshot);
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
