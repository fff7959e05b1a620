//! The whole HTTP surface: the APIs ([`crate::api`]) and the hosted pages ([`crate::pages`])
//! side by side — neither knows the other — with `usher.js` ([`crate::assets`]), and the layers
//! every request passes.

use std::time::Duration;

use axum::{
    BoxError, Router, error_handling::HandleErrorLayer, extract::DefaultBodyLimit, middleware, response::IntoResponse,
};
use tower::ServiceBuilder;
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

use crate::{api, assets, error::ApiError, http::tunnel, pages, state::AppState};

/// The server's router.
pub fn router(state: AppState) -> Router {
    let max_body = state.config.max_body_bytes;
    let inner = Router::new()
        .merge(api::router(&state))
        .merge(pages::router())
        .merge(assets::router())
        .fallback(api::not_found)
        .method_not_allowed_fallback(api::method_not_allowed)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(
            ServiceBuilder::new()
                // A request still running after 30 s gets Clerk's 503 body with Retry-After.
                .layer(HandleErrorLayer::new(|_: BoxError| async { ApiError::Unavailable(1) }))
                .timeout(Duration::from_secs(30)),
        )
        .layer(CatchPanicLayer::custom(|_| ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()))
        .layer(TraceLayer::new_for_http())
        .with_state(state.clone());
    let inner = match &state.dev_mailbox {
        Some(mailbox) => inner.merge(crate::mail::dev::router(mailbox.clone())),
        None => inner,
    };
    // Preflights and `_method` must be handled before routing, so this wraps the routed app.
    Router::new().fallback_service(inner).layer(middleware::from_fn_with_state(state, tunnel::before_routing))
}
