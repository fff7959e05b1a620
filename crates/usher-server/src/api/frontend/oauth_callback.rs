//! `/v1/oauth_callback`: where providers send the browser back ([`crate::flows::oauth`]).

use axum::{
    Router,
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
    routing::get,
};

use crate::{
    error::ApiResult,
    flows::{
        Browser,
        oauth::{self, CallbackError, CallbackParams},
    },
    html::escape,
    http::{
        cookies::set_cookies,
        extract::{FormOrJson, Query},
    },
    state::AppState,
};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/v1/oauth_callback", get(callback).post(form_post))
}

async fn callback(
    State(state): State<AppState>,
    mut browser: Browser,
    Query(params): Query<CallbackParams>,
) -> ApiResult<Response> {
    let mut res = match oauth::callback(&state, &mut browser, params).await {
        Ok(done) => Redirect::to(&done?).into_response(),
        Err(error) => error_page(&error),
    };
    let token = browser.session_token(&state).await?;
    set_cookies(&state, &browser, token.as_deref(), &mut res);
    Ok(res)
}

/// Apple answers with a cross-site form post, which carries no `SameSite=Lax` cookie: the same
/// parameters go to the GET with 303, a top-level navigation that does.
async fn form_post(FormOrJson(params): FormOrJson<CallbackParams>) -> Response {
    let query = serde_html_form::to_string(&params).unwrap_or_default();
    Redirect::to(&format!("/v1/oauth_callback?{query}")).into_response()
}

fn error_page(error: &CallbackError) -> Response {
    let back =
        error.back_to.as_deref().map_or_else(String::new, |url| format!("<p><a href=\"{}\">Back</a></p>", escape(url)));
    let body = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign-in failed</title></head>\
         <body><main><h1>Sign-in failed</h1><p role=\"alert\" data-code=\"{}\">{}</p>{back}</main></body></html>",
        escape(error.code),
        escape(&error.message),
    );
    let mut res = (StatusCode::BAD_REQUEST, Html(body)).into_response();
    res.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
