//! Passkeys on the hosted pages: "Sign in with a passkey" (`/sign-in/passkey…`, no identifier
//! typed) and the account page's "Passkeys" section (`/user/passkeys…`).
//!
//! WebAuthn has no form-only form: the ceremony runs in the browser. The pages' one script,
//! `/pages/passkey.js` (served from usher's own origin, the only script the pages' CSP allows),
//! takes the options from the form, asks the authenticator, and posts the answer back in the
//! form; everything else stays server-rendered.

use std::fmt::Write as _;

use axum::{
    extract::State,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use super::{
    Fields, Post, Redo, given,
    layout::{self, escape, format_time, hidden},
    see_other, user, with_cookies,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, passkeys, sign_in},
    http::{extract::Path, throttle::Limit},
    state::AppState,
    store::UserRecord,
};

const SCRIPT: &str = include_str!("passkey.js");

/// `GET /pages/passkey.js`.
pub(super) async fn script() -> Response {
    let mut response = SCRIPT.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300"));
    response
}

/// A form the script runs a ceremony for: `mode` is `create` or `get`, `options` the JSON the
/// server made, `fields` its hidden inputs.
fn ceremony_form(action: &str, mode: &str, options: &str, fields: &str, button: &str) -> String {
    format!(
        r#"<form method="post" action="{action}" data-passkey="{mode}" data-options="{options}">{fields}<input type="hidden" name="public_key_credential" value=""><p class="alert" role="alert" tabindex="-1" data-passkey-error hidden></p><button type="submit" class="primary">{button}</button></form>
<script src="/pages/passkey.js" defer></script>"#,
        options = escape(options),
    )
}

/// `POST /sign-in/passkey`: a sign-in with a challenge any of this site's passkeys answers.
pub(super) async fn sign_in(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignIn, start_sign_in).await
}

async fn start_sign_in(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let input = sign_in::CreateSignIn { strategy: Some("passkey".to_owned()), ..Default::default() };
    let attempt = sign_in::create(state, browser, input).await?;
    let attempt = sign_in::prepare_passkey(state, browser, &attempt.id).await?;
    let options = attempt.passkey.as_ref().map(|c| c.options.clone()).unwrap_or_default();
    let hidden_fields = format!(
        "{}{}",
        hidden("sign_in_id", Some(&attempt.id)),
        hidden("redirect_url", fields.target(state).as_deref())
    );
    let body = format!(
        r#"<p>Use the passkey saved on this device, your phone or your security key.</p>{form}<p class="alt"><a href="/sign-in{query}">Sign in another way</a></p>"#,
        form = ceremony_form("/sign-in/passkey/verify", "get", &options, &hidden_fields, "Use a passkey"),
        query = escape(&fields.target_query(state)),
    );
    let app = &state.config.application_name;
    let page = layout::page(state, StatusCode::OK, "Sign in with a passkey", &format!("Sign in to {app}"), &body);
    with_cookies(state, browser, page).await
}

/// `POST /sign-in/passkey/verify`: the browser's assertion.
pub(super) async fn verify_sign_in(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::SignIn, check_sign_in).await
}

async fn check_sign_in(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_in_id.as_ref()).map(str::to_owned) else {
        return Err(ApiError::invalid("form_param_missing", "sign_in_id", "This sign-in expired. Start again."));
    };
    let credential = given(fields.public_key_credential.as_ref()).map(str::to_owned);
    let attempt = sign_in::attempt(state, browser, &id, Some(usher_types::Strategy::Passkey), credential).await?;
    super::sign_in::completed(state, browser, fields, &attempt).await
}

/// The account page's "Passkeys" section.
pub(super) fn section(user: &UserRecord) -> String {
    let mut body =
        String::from(r#"<section aria-labelledby="passkeys-h" id="passkeys"><h2 id="passkeys-h">Passkeys</h2>"#);
    if user.passkeys.is_empty() {
        body.push_str("<p>Sign in with your fingerprint, face or screen lock instead of a password.</p>");
    } else {
        body.push_str(r#"<ul class="list" id="passkey-list">"#);
        for p in &user.passkeys {
            let used =
                p.last_used_at.map_or_else(|| "never used".to_owned(), |t| format!("last used {}", format_time(t)));
            let _ = write!(
                body,
                r#"<li><span class="what">{name} <span class="muted">{used}</span></span><form method="post" action="/user/passkeys/{id}/remove"><button type="submit" class="danger" aria-label="Remove passkey {name}">Remove</button></form></li>"#,
                name = escape(&p.name),
                id = escape(&p.id),
            );
        }
        body.push_str("</ul>");
    }
    body.push_str(
        r#"<form method="post" action="/user/passkeys"><button type="submit" id="add-passkey">Add a passkey</button></form></section>"#,
    );
    body
}

/// `POST /user/passkeys`: a registration, and the page that runs it.
pub(super) async fn start(State(state): State<AppState>, post: Post) -> Response {
    let start = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let (record, options) = passkeys::create(state, &user).await?;
        let body = format!(
            r#"<p>Your browser will ask where to save the passkey and to confirm it is you.</p>{form}<p class="alt"><a href="/user#passkeys">Cancel</a></p>"#,
            form = ceremony_form(
                "/user/passkeys/verify",
                "create",
                &options,
                &hidden("passkey_id", Some(&record.id)),
                "Create passkey",
            ),
        );
        let page = layout::page(state, StatusCode::OK, "Add a passkey", "Add a passkey", &body);
        with_cookies(state, browser, page).await
    };
    post.answer(&state, &[Limit::Create], Redo::Account(user::Section::Other), start).await
}

/// `POST /user/passkeys/verify`: the browser's new credential.
pub(super) async fn finish(State(state): State<AppState>, post: Post) -> Response {
    let finish = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let (Some(id), Some(credential)) =
            (given(fields.passkey_id.as_ref()), given(fields.public_key_credential.as_ref()))
        else {
            return Err(ApiError::invalid(
                "form_param_missing",
                "public_key_credential",
                "The passkey was not created. Try again.",
            ));
        };
        passkeys::verify(state, &user, id, credential).await?;
        see_other(state, browser, "/user?done=passkey_added#passkeys").await
    };
    post.answer(&state, &[Limit::Attempt], Redo::Account(user::Section::Other), finish).await
}

/// `POST /user/passkeys/{id}/remove`.
pub(super) async fn remove(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    let remove = async move |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        if !passkeys::delete(state, &user.id, &id).await? {
            return Err(ApiError::NotFound("passkey"));
        }
        see_other(state, browser, "/user?done=passkey_removed#passkeys").await
    };
    post.answer(&state, &[], Redo::Account(user::Section::Other), remove).await
}
