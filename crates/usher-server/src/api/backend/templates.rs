//! `/v1/jwt_templates`: CRUD of JWT templates.

use axum::{Json, Router, extract::State, response::Response, routing::get};
use serde::Deserialize;
use serde_json::Value;
use usher_types::{DeletedObject, JwtTemplate, requests::JwtTemplateParams};

use super::list_response;
use crate::{
    error::{ApiError, ApiResult},
    http::extract::{JsonBody, Path, Query},
    ids,
    state::AppState,
    store::TemplateRecord,
    tokens::{
        RESERVED_CLAIMS,
        jwt::{Algorithm, Signer},
        shortcodes,
    },
    validate::Paging,
    wire,
};

/// Largest claims object, serialised: tokens end up in headers and cookies.
const MAX_CLAIMS_BYTES: usize = 16 * 1024;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/jwt_templates", get(list_templates).post(create_template))
        .route("/jwt_templates/{id}", get(get_template).patch(update_template).delete(delete_template))
}

/// Applies create or update parameters to `t` and checks the result as a whole.
fn apply(p: JwtTemplateParams, t: &mut TemplateRecord) -> ApiResult<()> {
    if let Some(name) = p.name {
        let valid =
            !name.trim().is_empty() && name.chars().count() <= 128 && !name.chars().any(|c| c.is_control() || c == '/');
        if !valid {
            return Err(ApiError::format(
                "name",
                "name must be 1 to 128 characters, without '/' or control characters.",
            ));
        }
        t.name = name;
    }
    if let Some(claims) = p.claims {
        t.claims = claims;
    }
    if let Some(v) = p.lifetime {
        t.lifetime = v;
    }
    if let Some(v) = p.allowed_clock_skew {
        t.allowed_clock_skew = v;
    }
    if let Some(v) = p.custom_signing_key {
        t.custom_signing_key = v;
    }
    if let Some(v) = p.signing_algorithm {
        t.signing_algorithm = v;
    }
    if p.signing_key.is_some() {
        t.signing_key = p.signing_key;
    }
    check(t)
}

fn check(t: &mut TemplateRecord) -> ApiResult<()> {
    let Value::Object(claims) = &t.claims else {
        return Err(ApiError::format("claims", "claims must be a JSON object."));
    };
    if let Some(reserved) = RESERVED_CLAIMS.iter().find(|c| claims.contains_key(**c)) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "claims",
            format!(
                "The claim {reserved} is set by the server and cannot be part of a template (reserved: {}).",
                RESERVED_CLAIMS.join(", ")
            ),
        ));
    }
    if t.claims.to_string().len() > MAX_CLAIMS_BYTES {
        return Err(ApiError::invalid(
            "form_param_exceeds_allowed_size",
            "claims",
            format!("claims must be at most {MAX_CLAIMS_BYTES} bytes."),
        ));
    }
    shortcodes::validate(&t.claims).map_err(|e| ApiError::format("claims", e))?;
    if !(30..=315_360_000).contains(&t.lifetime) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "lifetime",
            "lifetime must be between 30 and 315360000 seconds.",
        ));
    }
    if !(0..=300).contains(&t.allowed_clock_skew) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "allowed_clock_skew",
            "allowed_clock_skew must be between 0 and 300 seconds.",
        ));
    }
    if !t.custom_signing_key {
        t.signing_algorithm = "RS256".into();
        t.signing_key = None;
        return Ok(());
    }
    let alg = Algorithm::parse(&t.signing_algorithm).ok_or_else(|| {
        ApiError::invalid(
            "form_param_value_invalid",
            "signing_algorithm",
            "signing_algorithm must be one of HS256, HS384, HS512, RS256, RS384, RS512.",
        )
    })?;
    let key = t.signing_key.as_deref().ok_or_else(|| {
        ApiError::invalid(
            "form_param_missing",
            "signing_key",
            "signing_key must be included when custom_signing_key is true.",
        )
    })?;
    // Parse now so that minting can never fail on a bad key later.
    Signer::custom(alg, key).map_err(|e| ApiError::invalid("form_param_value_invalid", "signing_key", e))?;
    Ok(())
}

async fn create_template(
    State(state): State<AppState>,
    JsonBody(b): JsonBody<JwtTemplateParams>,
) -> ApiResult<Json<JwtTemplate>> {
    for (param, missing) in [("name", b.name.is_none()), ("claims", b.claims.is_none())] {
        if missing {
            return Err(ApiError::invalid("form_param_missing", param, format!("{param} must be included.")));
        }
    }
    let now = state.now();
    let mut template = TemplateRecord {
        id: ids::new_id("jtmp"),
        lifetime: 60,
        allowed_clock_skew: 5,
        signing_algorithm: "RS256".into(),
        created_at: now,
        updated_at: now,
        ..TemplateRecord::default()
    };
    apply(b, &mut template)?;
    state.store.create_template(&template).await?;
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

async fn load(state: &AppState, id: &str) -> ApiResult<TemplateRecord> {
    state.store.get_template(id).await?.ok_or(ApiError::NotFound("JWT template"))
}

async fn get_template(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<JwtTemplate>> {
    Ok(Json(wire::template(&load(&state, &id).await?)))
}

async fn update_template(
    State(state): State<AppState>,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<JwtTemplateParams>,
) -> ApiResult<Json<JwtTemplate>> {
    let mut template = load(&state, &id).await?;
    apply(b, &mut template)?;
    template.updated_at = state.now();
    if !state.store.update_template(&template).await? {
        return Err(ApiError::NotFound("JWT template"));
    }
    Ok(Json(wire::template(&template)))
}

async fn delete_template(State(state): State<AppState>, Path(id): Path<String>) -> ApiResult<Json<DeletedObject>> {
    if !state.store.delete_template(&id).await? {
        return Err(ApiError::NotFound("JWT template"));
    }
    Ok(Json(DeletedObject::new("jwt_template", &id)))
}
