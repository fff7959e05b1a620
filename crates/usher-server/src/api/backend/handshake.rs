//! `GET /v1/clients/handshake_payload?nonce=…`: what `@clerk/backend` exchanges a handshake
//! nonce for (see [`crate::flows::handshake`]).

use axum::{Json, Router, extract::State, routing::get};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    api::frontend::handshake_sealer,
    error::{ApiError, ApiResult},
    flows::handshake,
    http::extract::Query,
    state::AppState,
};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/clients/handshake_payload", get(payload))
}

#[derive(Debug, Deserialize)]
struct PayloadQuery {
    nonce: Option<String>,
}

async fn payload(State(state): State<AppState>, Query(q): Query<PayloadQuery>) -> ApiResult<Json<Value>> {
    let nonce = q.nonce.ok_or_else(|| ApiError::invalid("form_param_missing", "nonce", "nonce is required"))?;
    // Expired, tampered and made-up nonces are all simply not found.
    let directives = handshake::open_nonce(&handshake_sealer(&state), &nonce, state.now() / 1000)
        .ok_or(ApiError::NotFound("handshake_payload"))?;
    Ok(Json(json!({"directives": directives})))
}
