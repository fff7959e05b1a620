//! Second factors on the hosted pages: the sign-in step (`/sign-in/second-factor`) and the
//! account page's "Two-step verification" section (`/user/totp…`, `/user/backup-codes`).
//!
//! The QR code of the `otpauth://` URI is drawn here as inline SVG (markup, so the pages' CSP
//! needs no change); the secret is printed beside it for apps that take it typed.

use std::fmt::Write as _;

use axum::{extract::State, http::StatusCode, response::Response};
use qrcode::{QrCode, render::svg};
use usher_types::Strategy;

use super::{
    Fields, Post, Redo, after_sign_in, given,
    layout::{self, Field, Form, Problem, escape, hidden},
    see_other, user,
};
use crate::{
    error::{ApiError, ApiResult},
    flows::{
        Browser,
        second_factor::{self, TotpView},
    },
    http::throttle::Limit,
    state::AppState,
    store::UserRecord,
};

/// The form for the second factor of sign-in `fields.sign_in_id`.
pub(super) fn form(state: &AppState, fields: &Fields, problem: Option<&Problem>) -> Response {
    let names = ["code"];
    let form = Form::new(problem, &names, true);
    let id = hidden("sign_in_id", given(fields.sign_in_id.as_ref()));
    let target = hidden("redirect_url", fields.target(state).as_deref());
    let backup = Field { id: Some("backup_code"), ..Field::new("code", "Backup code", "text", "one-time-code") };
    let body = format!(
        r#"{alert}<p>Enter the code your authenticator app shows.</p>
<form method="post" action="/sign-in/second-factor" id="totp-form">{id}{target}<input type="hidden" name="strategy" value="totp">{code}<button type="submit" class="primary">Continue</button></form>
<details class="alt"><summary>Use a backup code instead</summary>
<form method="post" action="/sign-in/second-factor" id="backup-code-form">{id}{target}<input type="hidden" name="strategy" value="backup_code">{backup}<button type="submit">Continue</button></form>
</details>"#,
        alert = layout::alert(problem, layout::alert_focus(problem, &names)),
        code = form.input(&Field::code(), None),
        backup = Form::new(None, &[], false).input(&backup, None),
    );
    let app = &state.config.application_name;
    layout::page(state, StatusCode::OK, "Two-step verification", &format!("Sign in to {app}"), &body)
}

/// `POST /sign-in/second-factor`.
pub(super) async fn verify(State(state): State<AppState>, post: Post) -> Response {
    post.answer(&state, &[Limit::Attempt], Redo::SignInSecondFactor, check).await
}

async fn check(state: &AppState, browser: &mut Browser, fields: &mut Fields) -> ApiResult<Response> {
    let Some(id) = given(fields.sign_in_id.as_ref()).map(str::to_owned) else {
        return Err(ApiError::invalid("form_param_missing", "sign_in_id", "This sign-in expired. Start again."));
    };
    let strategy = given(fields.strategy.as_ref()).and_then(Strategy::parse);
    second_factor::attempt(state, browser, &id, strategy, fields.code.clone()).await?;
    see_other(state, browser, &after_sign_in(state, fields)).await
}

/// An inline SVG QR code of `text`; empty if it does not fit in a QR code.
fn qr_svg(text: &str) -> String {
    let Ok(code) = QrCode::new(text.as_bytes()) else { return String::new() };
    let image = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // The renderer writes an XML declaration first, which has no place inside HTML.
    image.find("<svg").map_or(String::new(), |at| image[at..].to_owned())
}

/// The account page's "Two-step verification" section: set up (QR code, secret, first code),
/// or on (remove, new backup codes); `codes` are backup codes just issued, shown once.
pub(super) fn section(
    user: &UserRecord,
    pending: Option<&TotpView>,
    codes: Option<&[String]>,
    problem: Option<&Problem>,
) -> String {
    let mut body =
        String::from(r#"<section aria-labelledby="totp-h" id="totp"><h2 id="totp-h">Two-step verification</h2>"#);
    if let Some(codes) = codes {
        body.push_str(
            r#"<div class="status" role="status"><p><strong>Save these backup codes.</strong> Each signs in once if you lose your authenticator app; they are not shown again.</p><ol id="backup-codes">"#,
        );
        for code in codes {
            let _ = write!(body, "<li><code>{}</code></li>", escape(code));
        }
        body.push_str("</ol></div>");
    }
    if user.totp_enabled {
        body.push_str(r#"<p>Authenticator app: <span class="tag ok" id="totp-on">On</span></p><div class="row">"#);
        body.push_str(
            r#"<form method="post" action="/user/backup-codes"><button type="submit">New backup codes</button></form>"#,
        );
        body.push_str(r#"<form method="post" action="/user/totp/remove"><button type="submit" class="danger">Remove authenticator app</button></form></div>"#);
    } else if let Some(totp) = pending {
        let form = Form::new(problem, &["code"], true);
        let _ = write!(
            body,
            r#"<p>Scan this QR code with your authenticator app, or enter the key below, then type the code it shows.</p><div class="qr" role="img" aria-label="QR code for your authenticator app">{qr}</div><p>Key: <code id="totp-secret">{secret}</code></p><form method="post" action="/user/totp/verify">{code}<button type="submit" class="primary">Turn on</button></form><form method="post" action="/user/totp/remove" class="alt"><button type="submit" class="link">Cancel</button></form>"#,
            qr = qr_svg(totp.uri.as_deref().unwrap_or_default()),
            secret = escape(totp.secret.as_deref().unwrap_or_default()),
            code = form.input(&Field::code(), None),
        );
    } else {
        body.push_str(r#"<p>Ask for a code from an authenticator app each time you sign in.</p><form method="post" action="/user/totp"><button type="submit">Set up authenticator app</button></form>"#);
    }
    body.push_str("</section>");
    body
}

/// `POST /user/totp`: a new secret, shown on the account page until the first code.
pub(super) async fn start(State(state): State<AppState>, post: Post) -> Response {
    let start = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        second_factor::create_totp(state, &user).await?;
        see_other(state, browser, "/user#totp").await
    };
    post.answer(&state, &[Limit::Create], Redo::Account(user::Section::Totp), start).await
}

/// `POST /user/totp/verify`: the first code turns the app on; the page shows the backup codes
/// once (rendered here, not redirected, so they are in no URL or history entry).
pub(super) async fn finish(State(state): State<AppState>, post: Post) -> Response {
    let finish = async |state: &AppState, browser: &mut Browser, fields: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let Some(code) = given(fields.code.as_ref()) else {
            return Err(ApiError::invalid("form_param_missing", "code", "Enter the code."));
        };
        let totp = second_factor::verify_totp_setup(state, &user, code).await?;
        user::with_backup_codes(state, browser, &totp.backup_codes.unwrap_or_default()).await
    };
    post.answer(&state, &[Limit::Attempt], Redo::Account(user::Section::Totp), finish).await
}

/// `POST /user/totp/remove`: turns the app off (or cancels a setup).
pub(super) async fn remove(State(state): State<AppState>, post: Post) -> Response {
    let remove = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        second_factor::disable_totp(state, &crate::flows::audit::Actor::user(Some(&user.id)), &user.id).await?;
        see_other(state, browser, "/user?done=totp_removed#totp").await
    };
    post.answer(&state, &[], Redo::Account(user::Section::Totp), remove).await
}

/// `POST /user/backup-codes`: new backup codes; the old ones stop working.
pub(super) async fn new_codes(State(state): State<AppState>, post: Post) -> Response {
    let renew = async |state: &AppState, browser: &mut Browser, _: &mut Fields| {
        let (_, user) = browser.signed_in(state).await?;
        let codes = second_factor::regenerate_backup_codes(state, &user).await?;
        user::with_backup_codes(state, browser, &codes.codes).await
    };
    post.answer(&state, &[Limit::Create], Redo::Account(user::Section::Totp), renew).await
}
