//! Per-IP limits on the Frontend API and the hosted pages (429 with `Retry-After`).

use std::net::{IpAddr, SocketAddr};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::Extensions,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::{
    error::{ApiError, ApiResult},
    limits::Bucket,
    proxies::ClientAddr,
    state::AppState,
};

/// Which per-IP limit a route takes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// Creating attempts and sending codes (mail).
    Create,
    /// Guessing: passwords and codes.
    Attempt,
}

impl Limit {
    fn bucket(self, state: &AppState) -> Option<&Bucket> {
        match self {
            Self::Create => state.limits.create.as_ref(),
            Self::Attempt => state.limits.attempt.as_ref(),
        }
    }
}

/// The client's address: what the accept loop resolved ([`ClientAddr`]: the peer, or behind a
/// trusted proxy the right-most untrusted forwarded hop), else the socket peer. Forwarding
/// headers from anyone else are the client's to forge and never read.
pub fn client_ip(extensions: &Extensions) -> IpAddr {
    if let Some(ClientAddr(ip)) = extensions.get::<ClientAddr>() {
        return *ip;
    }
    extensions.get::<ConnectInfo<SocketAddr>>().map_or(IpAddr::from([127, 0, 0, 1]), |ConnectInfo(a)| a.ip())
}

/// The client's address as the per-IP limits see it, for handlers that take from a bucket
/// depending on what the request carries.
pub struct ClientIp(pub IpAddr);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(client_ip(&parts.extensions)))
    }
}

/// Takes one request from `ip`'s bucket of `limit`; 429 when it is empty.
pub async fn take(state: &AppState, limit: Limit, ip: IpAddr) -> ApiResult<()> {
    let Some(bucket) = limit.bucket(state) else { return Ok(()) };
    bucket.check(&ip.to_string()).await.map_err(ApiError::TooManyRequests)
}

/// [`Limit::Create`] as a middleware.
pub async fn limit_create(State(state): State<AppState>, request: Request, next: Next) -> Response {
    throttle(&state, Limit::Create, request, next).await
}

/// [`Limit::Attempt`] as a middleware.
pub async fn limit_attempt(State(state): State<AppState>, request: Request, next: Next) -> Response {
    throttle(&state, Limit::Attempt, request, next).await
}

async fn throttle(state: &AppState, limit: Limit, request: Request, next: Next) -> Response {
    match take(state, limit, client_ip(request.extensions())).await {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}
