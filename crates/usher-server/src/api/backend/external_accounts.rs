//! A user's provider accounts: `GET /v1/users/{id}/oauth_access_tokens/{provider}` and
//! `DELETE /v1/users/{id}/external_accounts/{id}`.

use axum::{
    Json, Router,
    extract::State,
    routing::{delete, get},
};
use serde_json::{Value, json};
use usher_types::DeletedObject;

use super::users::load;
use crate::{
    error::{ApiError, ApiResult},
    flows::oauth::SEAL_PURPOSE,
    http::extract::Path,
    seal::Sealer,
    state::AppState,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/users/{id}/oauth_access_tokens/{provider}", get(access_tokens))
        .route("/users/{id}/external_accounts/{account_id}", delete(delete_account))
}

/// The provider's access tokens of the user's accounts at `provider` (`oauth_google`, or
/// Clerk's older bare `google`), opened from their seal.
async fn access_tokens(
    State(state): State<AppState>,
    Path((id, provider)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Value>>> {
    let user = load(&state, &id).await?;
    let strategy = if provider.starts_with("oauth_") { provider } else { format!("oauth_{provider}") };
    let sealer = Sealer::new(state.config.secret_key.expose(), SEAL_PURPOSE);
    let accounts = state.store.external_accounts_of_user(&user.id).await?;
    let tokens = accounts
        .iter()
        .filter(|a| a.provider == strategy)
        .filter_map(|a| {
            let token = sealer.open_text(a.access_token_sealed.as_deref()?)?;
            Some(json!({
                "object": "oauth_access_token",
                "external_account_id": a.id,
                "provider_user_id": a.provider_user_id,
                "token": token,
                "provider": a.provider,
                "public_metadata": {},
                "label": null,
                "scopes": a.approved_scopes.split_whitespace().collect::<Vec<_>>(),
                "expires_at": a.token_expire_at.map(|ms| ms / 1000),
            }))
        })
        .collect();
    Ok(Json(tokens))
}

async fn delete_account(
    State(state): State<AppState>,
    Path((id, account_id)): Path<(String, String)>,
) -> ApiResult<Json<DeletedObject>> {
    let user = load(&state, &id).await?;
    if !state.store.delete_external_account(&user.id, &account_id).await? {
        return Err(ApiError::NotFound("external account"));
    }
    Ok(Json(DeletedObject::new("external_account", &account_id)))
}
