//! Hosted pages' "Continue with …" buttons: `POST /sign-in/oauth` starts a sign-in at the
//! chosen provider ([`crate::flows::oauth`]); `GET /sign-in/oauth/continue` is where the
//! provider's callback sends a person no user has yet, and signs them up directly (the hosted
//! pages' `transfer`).

use axum::{extract::State, response::Response};

use super::{Fields, Post, Redo, after_sign_in, given, layout::escape, see_other, user::Section};
use crate::{
    error::{ApiError, ApiResult},
    flows::{Browser, oauth},
    http::{
        extract::{Path, Query},
        throttle::Limit,
    },
    state::AppState,
    store::ExternalAccountRecord,
};

/// One button per enabled provider, in a form of its own (nothing typed is sent along).
pub(super) fn buttons(state: &AppState, fields: &Fields) -> String {
    if state.config.oauth_providers.is_empty() {
        return String::new();
    }
    let target = super::layout::hidden("redirect_url", fields.target(state).as_deref());
    let buttons: String = state
        .config
        .oauth_providers
        .iter()
        .map(|p| {
            format!(
                r#"<button type="submit" class="oauth" name="strategy" value="{strategy}">{mark}<span>Continue with {name}</span></button>"#,
                strategy = escape(&p.strategy),
                mark = mark(&p.strategy),
                name = escape(&p.name),
            )
        })
        .collect();
    format!(
        r#"<form method="post" action="/sign-in/oauth" class="oauth-providers">{target}{buttons}</form><p class="alt or">or</p>"#
    )
}

/// The provider's mark, inline (no external assets), hidden from assistive technology: the
/// button's text names it.
fn mark(strategy: &str) -> &'static str {
    match strategy {
        "oauth_google" => {
            r##"<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 18 18"><path fill="#4285F4" d="M17.6 9.2c0-.6-.1-1.2-.2-1.7H9v3.3h4.8a4.1 4.1 0 0 1-1.8 2.7v2.2h2.9c1.7-1.6 2.7-3.9 2.7-6.5z"/><path fill="#34A853" d="M9 18c2.4 0 4.5-.8 6-2.2l-2.9-2.2c-.8.5-1.8.9-3.1.9-2.4 0-4.4-1.6-5.1-3.8H.9v2.3A9 9 0 0 0 9 18z"/><path fill="#FBBC05" d="M3.9 10.7a5.4 5.4 0 0 1 0-3.4V5H.9a9 9 0 0 0 0 8z"/><path fill="#EA4335" d="M9 3.6c1.3 0 2.5.5 3.4 1.3l2.6-2.6A9 9 0 0 0 .9 5l3 2.3C4.6 5.2 6.6 3.6 9 3.6z"/></svg>"##
        }
        "oauth_github" => {
            r#"<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 16 16"><path fill="currentColor" d="M8 0a8 8 0 0 0-2.5 15.6c.4 0 .5-.2.5-.4v-1.5c-2.2.5-2.7-1-2.7-1-.4-.9-.9-1.2-.9-1.2-.7-.5.1-.5.1-.5.8.1 1.2.8 1.2.8.7 1.3 1.9.9 2.3.7.1-.5.3-.9.5-1.1-1.8-.2-3.6-.9-3.6-4 0-.9.3-1.6.8-2.1-.1-.2-.4-1 .1-2.1 0 0 .7-.2 2.2.8a7.4 7.4 0 0 1 4 0c1.5-1 2.2-.8 2.2-.8.4 1.1.2 1.9.1 2.1.5.6.8 1.3.8 2.1 0 3.1-1.9 3.7-3.6 3.9.3.3.5.8.5 1.5v2.2c0 .2.1.5.6.4A8 8 0 0 0 8 0z"/></svg>"#
        }
        "oauth_microsoft" => {
            r##"<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 18 18"><path fill="#F25022" d="M0 0h8.5v8.5H0z"/><path fill="#7FBA00" d="M9.5 0H18v8.5H9.5z"/><path fill="#00A4EF" d="M0 9.5h8.5V18H0z"/><path fill="#FFB900" d="M9.5 9.5H18V18H9.5z"/></svg>"##
        }
        "oauth_apple" => {
            r#"<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 18 18"><path fill="currentColor" d="M14.6 9.6c0-2.2 1.8-3.2 1.9-3.3a4 4 0 0 0-3.2-1.7c-1.3-.1-2.6.8-3.3.8-.7 0-1.7-.8-2.8-.8A4.2 4.2 0 0 0 3.6 6.8c-1.5 2.6-.4 6.5 1.1 8.6.7 1 1.5 2.2 2.6 2.1 1 0 1.4-.7 2.7-.7 1.2 0 1.6.7 2.7.7 1.1 0 1.8-1 2.5-2.1.8-1.2 1.1-2.3 1.1-2.4 0 0-2.1-.8-2.1-3.3zM12.5 3.1c.6-.7 1-1.7.9-2.6-.8 0-1.9.6-2.5 1.3-.5.6-1 1.6-.9 2.6.9.1 1.9-.5 2.5-1.3z"/></svg>"#
        }
        _ => {
            r#"<svg aria-hidden="true" focusable="false" width="18" height="18" viewBox="0 0 18 18"><circle cx="9" cy="9" r="8" fill="none" stroke="currentColor" stroke-width="1.6"/><path fill="currentColor" d="M9 4.5a2.5 2.5 0 1 1 0 5 2.5 2.5 0 0 1 0-5zm-4.2 9a4.6 4.6 0 0 1 8.4 0 6.6 6.6 0 0 1-8.4 0z"/></svg>"#
        }
    }
}

/// `POST /sign-in/oauth`: to the provider's sign-in page.
pub(super) async fn start(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::SignIn, async |state, browser, fields| {
        let strategy = given(fields.strategy.as_ref())
            .ok_or_else(|| ApiError::invalid("form_param_missing", "strategy", "Choose a provider."))?
            .to_owned();
        let done = after_sign_in(state, fields);
        let continue_at = format!("/sign-in/oauth/continue?redirect_url={}", super::layout::url_encode(&done));
        let attempt = oauth::start_sign_in(state, browser, &strategy, Some(&continue_at), Some(&done)).await?;
        let url = attempt.external.and_then(|e| e.external_verification_redirect_url).unwrap_or_default();
        see_other(state, browser, &url).await
    })
    .await
}

/// `GET /sign-in/oauth/continue`: the provider vouched for an account nobody has: sign up.
pub(super) async fn resume(
    State(state): State<AppState>,
    mut browser: Browser,
    Query(fields): Query<Fields>,
) -> Response {
    let result = transfer(&state, &mut browser, &fields).await;
    Redo::SignIn.or_show(&state, &browser, &fields, result).await
}

async fn transfer(state: &AppState, browser: &mut Browser, fields: &Fields) -> ApiResult<Response> {
    if browser.session(state).await?.is_none() {
        // A linked account with a second factor: its form, before anything else.
        if let Some(attempt) = oauth::awaiting_second_factor(state, browser).await? {
            return super::sign_in::completed(state, browser, fields, &attempt).await;
        }
        oauth::transfer(state, browser).await?;
    }
    see_other(state, browser, &after_sign_in(state, fields)).await
}

/// The account page's "Connected accounts": each linked provider account with a Disconnect
/// button, and a Connect button per enabled provider the user has no account at.
pub(super) fn connected_section(state: &AppState, accounts: &[ExternalAccountRecord]) -> String {
    if state.config.oauth_providers.is_empty() && accounts.is_empty() {
        return String::new();
    }
    let name = |strategy: &str| {
        let p = state.config.oauth_providers.iter().find(|p| p.strategy == strategy);
        p.map_or_else(|| strategy.to_owned(), |p| p.name.clone())
    };
    let mut body = String::from(
        r#"<section aria-labelledby="connected-h"><h2 id="connected-h">Connected accounts</h2><ul class="list">"#,
    );
    for a in accounts {
        let who =
            if a.email_address.is_empty() { a.username.clone().unwrap_or_default() } else { a.email_address.clone() };
        body.push_str(&format!(
            r#"<li>{mark}<span>{name} · {who}</span><form method="post" action="/user/connected/{id}/remove"><button type="submit" aria-label="Disconnect {name}">Disconnect</button></form></li>"#,
            mark = mark(&a.provider),
            name = escape(&name(&a.provider)),
            who = escape(&who),
            id = escape(&a.id),
        ));
    }
    body.push_str("</ul>");
    for p in state.config.oauth_providers.iter().filter(|p| !accounts.iter().any(|a| a.provider == p.strategy)) {
        body.push_str(&format!(
            r#"<form method="post" action="/user/connect"><button type="submit" class="oauth" name="strategy" value="{strategy}">{mark}<span>Connect {name}</span></button></form>"#,
            strategy = escape(&p.strategy),
            mark = mark(&p.strategy),
            name = escape(&p.name),
        ));
    }
    body.push_str("</section>");
    body
}

/// `POST /user/connect`: to the provider, to connect an account; back to the account page.
pub(super) async fn connect(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Create], Redo::Account(Section::Other), async |state, browser, fields| {
        let (_, user) = browser.signed_in(state).await?;
        let strategy = given(fields.strategy.as_ref())
            .ok_or_else(|| ApiError::invalid("form_param_missing", "strategy", "Choose a provider."))?
            .to_owned();
        let back = format!("{}/user?done=connected", state.issuer);
        let pending = oauth::start_connect(state, browser, &user, &strategy, Some(&back), None).await?;
        let url = pending.verification.external_verification_redirect_url.unwrap_or_default();
        see_other(state, browser, &url).await
    })
    .await
}

/// `POST /user/connected/{id}/remove`: disconnects an account (not the last way to sign in).
pub(super) async fn disconnect(State(state): State<AppState>, Path(id): Path<String>, post: Post) -> Response {
    post.answer(&state, &[], Redo::Account(Section::Other), async |state, browser, _fields| {
        let (_, user) = browser.signed_in(state).await?;
        oauth::disconnect(state, &user, &id).await?;
        see_other(state, browser, "/user?done=disconnected").await
    })
    .await
}
