//! The hosted pages: server-rendered HTML for signing in (`/sign-in`), signing up (`/sign-up`),
//! managing the account (`/user`) and signing out, working without scripts.
//!
//! They are a second face of [`crate::flows`]: every rule (passwords, codes, lockout,
//! enumeration-safe answers, redirect checks) lives there, and the pages only turn forms into
//! calls and results into HTML. Posts get the Frontend API's defences from the HTTP edge
//! (foreign-`Origin` refusal, per-IP limits) and set the same cookies. Each page renders its
//! own errors: a post is a `Post`, whose `Post::answer` runs the checks and the action and,
//! on failure, shows the form the post came from again with the message (`Redo`).

// Admin: the admin console.
mod admin;
pub(crate) mod layout;
mod link;
mod oauth;
// Passkeys (WebAuthn).
mod organizations;
mod passkeys;
mod reset;
mod second_factor;
mod sign_in;
mod sign_up;
mod user;

use axum::{
    Router,
    body::Bytes,
    extract::{FromRequest, Request},
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use self::layout::Problem;
use crate::{
    error::{ApiError, ApiResult},
    flows::Browser,
    http::{
        cookies::set_cookies,
        origin,
        throttle::{self, Limit},
    },
    state::AppState,
};

/// Every hosted page.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/sign-in", get(sign_in::page).post(sign_in::submit))
        .route("/sign-in/ticket", post(sign_in::redeem_ticket))
        .route("/sign-in/code", post(sign_in::send_code))
        .route("/sign-in/code/verify", post(sign_in::verify_code))
        .route("/sign-in/oauth", post(oauth::start))
        .route("/sign-in/oauth/continue", get(oauth::resume))
        .route("/sign-in/second-factor", post(second_factor::verify))
        .route("/sign-in/forgot", get(reset::page).post(reset::send_code))
        .route("/sign-in/forgot/reset", post(reset::reset))
        .route("/sign-in/link", get(link::wait).post(link::send_link))
        .route("/v1/verify", get(link::open).post(link::confirm))
        .route("/sign-up", get(sign_up::page).post(sign_up::submit))
        .route("/sign-up/resend", post(sign_up::resend))
        .route("/sign-up/verify", post(sign_up::verify))
        .route("/sign-up/link", get(link::wait_sign_up).post(link::send_sign_up_link))
        .route("/sign-out", post(user::sign_out))
        .route("/user", get(user::page))
        .route("/user/profile", post(user::profile))
        .route("/user/password", post(user::password))
        .route("/user/email", post(user::add_email))
        .route("/user/email/verify", post(user::verify_email))
        .route("/user/email/{id}/send", post(user::send_email_code))
        .route("/user/email/{id}/remove", post(user::remove_email))
        .route("/user/sessions/{id}/revoke", post(user::revoke_session))
        .route("/user/totp", post(second_factor::start))
        .route("/user/totp/verify", post(second_factor::finish))
        .route("/user/totp/remove", post(second_factor::remove))
        .route("/user/backup-codes", post(second_factor::new_codes))
        .route("/pages/passkey.js", get(passkeys::script))
        .route("/sign-in/passkey", post(passkeys::sign_in))
        .route("/sign-in/passkey/verify", post(passkeys::verify_sign_in))
        .route("/user/passkeys", post(passkeys::start))
        .route("/user/passkeys/verify", post(passkeys::finish))
        .route("/user/passkeys/{id}/remove", post(passkeys::remove))
        // Admin: the admin console.
        .merge(admin::router())
        // Connected provider accounts.
        .route("/user/connect", post(oauth::connect))
        .route("/user/connected/{id}/remove", post(oauth::disconnect))
        .route("/organizations", get(organizations::page))
        .route("/organizations/create", post(organizations::create))
        .route("/organizations/switch", post(organizations::switch))
        .route("/organizations/invite", post(organizations::invite))
        .route("/organizations/members/role", post(organizations::change_role))
        .route("/organizations/members/remove", post(organizations::remove))
        .route("/organizations/invitations/{id}/accept", post(organizations::accept))
        .route("/organizations/invitations/{id}/revoke", post(organizations::revoke))
}

/// Every field any page form (or page query) carries; pages read the ones they need.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Fields {
    identifier: Option<String>,
    password: Option<String>,
    code: Option<String>,
    strategy: Option<String>,
    sign_in_id: Option<String>,
    sign_up_id: Option<String>,
    email_address: Option<String>,
    email_id: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    current_password: Option<String>,
    new_password: Option<String>,
    sign_out_of_other_sessions: Option<String>,
    redirect_url: Option<String>,
    done: Option<String>,
    verify: Option<String>,
    token: Option<String>,
    #[serde(rename = "__clerk_ticket")]
    ticket: Option<String>,
    /// A WebAuthn answer, JSON (written by `/pages/passkey.js`).
    public_key_credential: Option<String>,
    /// The passkey being registered.
    passkey_id: Option<String>,
    /// The organization pages' fields.
    name: Option<String>,
    slug: Option<String>,
    organization_id: Option<String>,
    user_id: Option<String>,
    role: Option<String>,
}

/// Every field name [`Fields`] has (its serde names), the only ones a page post may carry:
/// read from serde's own list, so a field added to `Fields` is accepted without a second list.
fn field_names() -> &'static [&'static str] {
    static NAMES: std::sync::LazyLock<&'static [&'static str]> = std::sync::LazyLock::new(|| {
        let mut names = None;
        let _ = Fields::deserialize(StructFields(&mut names));
        names.expect("Fields is a struct")
    });
    &NAMES
}

/// A deserializer that only records the field names a struct asks for.
struct StructFields<'a>(&'a mut Option<&'static [&'static str]>);

impl<'de> serde::Deserializer<'de> for StructFields<'_> {
    type Error = serde::de::value::Error;

    fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
        Err(serde::de::Error::custom("only structs"))
    }

    fn deserialize_struct<V: serde::de::Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Self::Error> {
        *self.0 = Some(fields);
        Err(serde::de::Error::custom("names recorded"))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf option unit
        unit_struct newtype_struct seq tuple tuple_struct map enum identifier ignored_any
    }
}

/// The first field of a form body that no page takes.
fn unknown_field(bytes: &[u8]) -> Option<String> {
    url::form_urlencoded::parse(bytes)
        .map(|(name, _)| name)
        .find(|n| !field_names().contains(&n.as_ref()))
        .map(|n| n.into_owned())
}

impl Fields {
    /// The `redirect_url`, when it is safe; a refused one is dropped everywhere.
    fn target(&self, state: &AppState) -> Option<String> {
        self.redirect_url.as_deref().and_then(|t| state.origins.safe_redirect(t))
    }

    /// `?redirect_url=…` for links between the pages, carrying only a safe target.
    fn target_query(&self, state: &AppState) -> String {
        self.target(state).map(|t| format!("?redirect_url={}", layout::url_encode(&t))).unwrap_or_default()
    }
}

/// A trimmed, non-empty form value.
fn given(value: Option<&String>) -> Option<&str> {
    value.map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Which form to show again when a post (or a page load) fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Redo {
    /// The sign-in form.
    SignIn,
    /// The sign-in code form.
    SignInCode,
    /// The sign-in second-factor form.
    SignInSecondFactor,
    /// The forgotten-password form.
    Forgot,
    /// The reset code and new password form.
    Reset,
    /// The sign-up form.
    SignUp,
    /// The sign-up code form.
    SignUpCode,
    /// A section of the account page (signed out goes to sign in).
    Account(user::Section),
    /// The organizations page (signed out goes to sign in).
    Organizations,
}

impl Redo {
    /// The page showing `problem`, with its status (and `Retry-After`).
    async fn render(self, state: &AppState, browser: &Browser, fields: &Fields, problem: Problem) -> Response {
        if problem.status == StatusCode::UNAUTHORIZED && matches!(self, Self::Account(_) | Self::Organizations) {
            return signed_out_redirect();
        }
        let mut response = match self {
            Self::SignIn => sign_in::form(state, fields, Some(&problem)),
            Self::SignInCode => sign_in::code_form(state, fields, Some(&problem)),
            Self::SignInSecondFactor => second_factor::form(state, fields, Some(&problem)),
            Self::Forgot => reset::form(state, fields, Some(&problem)),
            Self::Reset => reset::reset_form(state, fields, Some(&problem)),
            Self::SignUp => sign_up::form(state, fields, Some(&problem)),
            Self::SignUpCode => sign_up::code_form(state, fields, Some(&problem)),
            Self::Account(section) => match user::with_problem(state, browser, section, fields, &problem).await {
                Some(response) => response,
                None => return signed_out_redirect(),
            },
            Self::Organizations => match organizations::with_problem(state, browser, fields, &problem).await {
                Some(response) => response,
                None => return signed_out_redirect(),
            },
        };
        *response.status_mut() = problem.status;
        if let Some(seconds) = problem.retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }

    /// `result`, or the page showing its error.
    async fn or_show(
        self,
        state: &AppState,
        browser: &Browser,
        fields: &Fields,
        result: ApiResult<Response>,
    ) -> Response {
        match result {
            Ok(response) => response,
            Err(error) => self.render(state, browser, fields, Problem::of(&error)).await,
        }
    }
}

/// A form post to a page: who sent it (browser, origin, address) and what was typed. A body
/// that is too large or does not parse is kept as the problem to show, with no fields.
pub(crate) struct Post {
    browser: Browser,
    fields: Fields,
    refused: Option<ApiError>,
    ip: std::net::IpAddr,
}

impl FromRequest<AppState> for Post {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> ApiResult<Self> {
        let (mut parts, body) = request.into_parts();
        let browser =
            <Browser as axum::extract::FromRequestParts<AppState>>::from_request_parts(&mut parts, state).await?;
        let ip = throttle::client_ip(&parts.extensions);
        // The origin check comes before anything is read or done.
        let mut refused = origin::check(state, &Method::POST, &parts.headers);
        let mut fields = Fields::default();
        if refused.is_none() {
            let request = Request::from_parts(parts, body);
            match Bytes::from_request(request, state).await {
                Err(_) => refused = Some(ApiError::TooLarge),
                Ok(bytes) => match serde_html_form::from_bytes(&bytes) {
                    Ok(parsed) => match unknown_field(&bytes) {
                        // The pages post only their own forms: anything else is not ours to guess at.
                        Some(name) => {
                            refused = Some(ApiError::malformed(
                                "Invalid form body",
                                format!("The form has a field this page does not take: {name:?}."),
                            ))
                        }
                        None => fields = parsed,
                    },
                    Err(e) => refused = Some(ApiError::malformed("Invalid form body", e.to_string())),
                },
            }
        }
        Ok(Self { browser, fields, refused, ip })
    }
}

impl Post {
    /// Refuses a foreign origin and takes from each of `limits` (before anything else), runs
    /// `action`, and answers what it returns; any failure shows the `redo` form with the message
    /// and keeps what was typed (never passwords).
    async fn answer(
        mut self,
        state: &AppState,
        limits: &[Limit],
        redo: Redo,
        action: impl AsyncFnOnce(&AppState, &mut Browser, &mut Fields) -> ApiResult<Response>,
    ) -> Response {
        let mut result = self.refused.take().map(Err);
        for limit in limits {
            if result.is_none()
                && let Err(e) = throttle::take(state, *limit, self.ip).await
            {
                result = Some(Err(e));
            }
        }
        let result = match result {
            Some(refused) => refused,
            None => action(state, &mut self.browser, &mut self.fields).await,
        };
        redo.or_show(state, &self.browser, &self.fields, result).await
    }
}

/// `303 See Other` to `location`, with the browser's cookies (so sign-ins, sign-outs and
/// rotations reach the browser exactly as through the Frontend API).
async fn see_other(state: &AppState, browser: &Browser, location: &str) -> ApiResult<Response> {
    let location = HeaderValue::from_str(&encode_location(location)).unwrap_or(HeaderValue::from_static("/user"));
    with_cookies(state, browser, (StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response()).await
}

/// `Location` is ASCII: bytes outside printable ASCII (a relative target's UTF-8, say) are
/// percent-encoded rather than sent raw; existing escapes stay as they are.
fn encode_location(location: &str) -> String {
    let mut out = String::with_capacity(location.len());
    for byte in location.bytes() {
        if byte.is_ascii_graphic() {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A rendered page carrying the browser's cookies.
async fn with_cookies(state: &AppState, browser: &Browser, mut response: Response) -> ApiResult<Response> {
    let token = browser.session_token(state).await?;
    set_cookies(state, browser, token.as_deref(), &mut response);
    Ok(response)
}

/// Where to go once signed in: the safe `redirect_url`, else the account page.
fn after_sign_in(state: &AppState, fields: &Fields) -> String {
    fields.target(state).unwrap_or_else(|| "/user".to_owned())
}

/// To the sign-in page, coming back to the account page afterwards.
fn signed_out_redirect() -> Response {
    let mut response =
        (StatusCode::SEE_OTHER, [(header::LOCATION, HeaderValue::from_static("/sign-in?redirect_url=%2Fuser"))])
            .into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_posts_take_exactly_the_fields_of_fields() {
        let names = field_names();
        for name in ["identifier", "strategy", "token", "__clerk_ticket", "sign_out_of_other_sessions"] {
            assert!(names.contains(&name), "{name} is a page field");
        }
        assert!(!names.contains(&"ticket"), "serde's names, not Rust's");
        assert_eq!(unknown_field(b"identifier=a&strategy=totp&token=t"), None);
        assert_eq!(unknown_field(b"identifier=a&admin=1").as_deref(), Some("admin"));
    }
}
