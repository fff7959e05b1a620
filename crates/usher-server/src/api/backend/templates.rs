//! `/v1/jwt_templates`: CRUD of JWT templates; the rules and the changes are
//! [`crate::flows::templates`]'s, which the admin console calls too.

use axum::{Json, Router, extract::State, response::Response, routing::get};
use serde::Deserialize;
use usher_types::{DeletedObject, JwtTemplate, requests::JwtTemplateParams};

use super::list_response;
use crate::{
    error::ApiResult,
    flows::{audit::Actor, templates},
    http::extract::{JsonBody, Path, Query},
    state::AppState,
    validate::Paging,
    wire,
};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/jwt_templates", get(list_templates).post(create_template))
        .route("/jwt_templates/{id}", get(get_template).patch(update_template).delete(delete_template))
}

async fn create_template(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<JwtTemplateParams>,
) -> ApiResult<Json<JwtTemplate>> {
    let template = templates::create(&state, &Actor::secret_key(), b).await?;
    Ok(Json(wire::template(&template)))
}

#[derive(Debug, Deserialize)]
struct ListTemplates {
    #[serde(default)]
    paginated: bool,
    limit: Option<i64>,
    offset: Option<i64>,
}

async fn list_templates(State(state): State<AppState>, Query(q): Query<ListTemplates>) -> ApiResult<Response> {
    let page = Paging { limit: Some(q.limit.unwrap_or(crate::validate::MAX_LIMIT)), offset: q.offset }.page()?;
    let (templates, total) = state.store.list_templates(page).await?;
    Ok(list_response(templates.iter().map(wire::template).collect(), total, q.paginated))
}

async fn get_template(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JwtTemplate>> {
    Ok(Json(wire::template(&templates::load(&state, &id).await?)))
}

async fn update_template(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<JwtTemplateParams>,
) -> ApiResult<Json<JwtTemplate>> {
    let template = templates::update(&state, &Actor::secret_key(), &id, b).await?;
    Ok(Json(wire::template(&template)))
}

async fn delete_template(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    templates::delete(&state, &Actor::secret_key(), &id).await?;
    Ok(Json(DeletedObject::new("jwt_template", &id)))
}
