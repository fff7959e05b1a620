//! Signing in: with a password, an email code, or a ticket (a Backend API sign-in token).
//!
//! With enumeration protection (the default) an unknown identifier gets exactly the answers a
//! known one gets: the same factors (with a stable decoy email id), a dummy Argon2 run on
//! password attempts, and `form_password_incorrect` / `form_code_incorrect` at the end.

use serde::{Deserialize, Serialize};

use super::{
    Browser, account,
    codes::{self, CodeCheck},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
};

/// A sign-in attempt lives this long.
const ATTEMPT_LIFETIME_MS: i64 = 30 * 60 * 1000;

/// The state of a verification, as Clerk shows it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// `unverified`, `verified`, `failed`, `expired`.
    pub status: String,
    /// `password`, `email_code`, `ticket`.
    pub strategy: String,
    /// Attempts made.
    pub attempts: i64,
    /// When a sent code expires.
    pub expire_at: Option<i64>,
}

/// A sign-in attempt (stored as an attempt document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignIn {
    /// `sia_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// `needs_identifier`, `needs_first_factor`, `complete`.
    pub status: String,
    /// What the person typed.
    pub identifier: Option<String>,
    /// The account, when the identifier names one; never shown.
    pub user_id: Option<String>,
    /// The email address codes go to (a decoy for an unknown identifier).
    pub email_address_id: Option<String>,
    /// Where the first factor stands.
    pub first_factor: Option<Verification>,
    /// The session created on completion.
    pub created_session_id: Option<String>,
    /// When the attempt is abandoned.
    pub abandon_at: i64,
    /// Creation time.
    pub created_at: i64,
}

/// What `POST /v1/client/sign_ins` takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateSignIn {
    /// An email address or username.
    pub identifier: Option<String>,
    /// `password` or `ticket` (or a factor strategy to prepare later).
    pub strategy: Option<String>,
    /// Signs in at once when right.
    pub password: Option<String>,
    /// A Backend API sign-in token.
    pub ticket: Option<String>,
}

/// Starts a sign-in; completes it at once when a right password or a valid ticket is given.
pub async fn create(state: &AppState, browser: &mut Browser, input: CreateSignIn) -> ApiResult<SignIn> {
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut sign_in = SignIn {
        id: ids::new_id("sia"),
        client_id,
        status: "needs_identifier".into(),
        abandon_at: now + ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignIn::default()
    };
    if input.strategy.as_deref() == Some("ticket") || input.ticket.is_some() {
        let ticket = input.ticket.unwrap_or_default();
        let accepted = state.store.accept_sign_in_token(&ids::sha256_hex(ticket.trim().as_bytes()), now).await?;
        let Some(token) = accepted else {
            return Err(ApiError::invalid(
                "ticket_invalid",
                "ticket",
                "This sign-in link is invalid, was already used, or expired.",
            ));
        };
        sign_in.user_id = Some(token.user_id.clone());
        sign_in.first_factor = Some(verified("ticket"));
        return finish(state, browser, sign_in, &token.user_id).await;
    }
    if let Some(identifier) = input.identifier.map(|i| i.trim().to_owned()).filter(|i| !i.is_empty()) {
        if identifier.len() > 320 {
            return Err(ApiError::format("identifier", "identifier is too long."));
        }
        let user = account::find_user(state, &identifier).await?;
        if user.is_none() && !state.config.enumeration_protection {
            return Err(ApiError::invalid("form_identifier_not_found", "identifier", "Couldn't find your account."));
        }
        sign_in.email_address_id = Some(match &user {
            Some(u) => {
                let lower = identifier.to_lowercase();
                let email = u.emails.iter().find(|e| e.value.to_lowercase() == lower).or(u.primary_email());
                email.map_or_else(|| decoy_email_id(state, &identifier), |e| e.id.clone())
            }
            None => decoy_email_id(state, &identifier),
        });
        sign_in.user_id = user.map(|u| u.id);
        sign_in.identifier = Some(identifier);
        sign_in.status = "needs_first_factor".into();
    }
    save(state, browser, &sign_in).await?;
    match input.password {
        Some(password) if sign_in.status == "needs_first_factor" => {
            attempt_password(state, browser, sign_in, &password).await
        }
        _ => Ok(sign_in),
    }
}

/// The browser's sign-in attempt `id`.
pub async fn load(state: &AppState, browser: &Browser, id: &str) -> ApiResult<SignIn> {
    let client_id = browser.client.as_ref().map(|c| c.id.as_str());
    match state.store.get_attempt(id).await? {
        Some(a) if a.kind == "sign_in" && Some(a.client_id.as_str()) == client_id && a.expire_at > state.now() => {
            serde_json::from_value(a.data).map_err(|e| ApiError::Internal(e.into()))
        }
        _ => Err(ApiError::NotFound("sign in attempt")),
    }
}

/// Mails a code for the `email_code` factor (nothing is sent for an unknown identifier, but
/// the answer is the same).
pub async fn prepare_email_code(state: &AppState, browser: &mut Browser, id: &str) -> ApiResult<SignIn> {
    let mut sign_in = load(state, browser, id).await?;
    needs_first_factor(&sign_in)?;
    let user = account_of(state, &sign_in).await?;
    let email = user.as_ref().and_then(|u| {
        let id = sign_in.email_address_id.as_deref()?;
        u.emails.iter().find(|e| e.id == id).map(|e| e.value.clone())
    });
    if let Some(to) = email {
        codes::issue(state, &sign_in.id, &to, "sign in").await?;
    }
    sign_in.first_factor = Some(Verification {
        status: "unverified".into(),
        strategy: "email_code".into(),
        attempts: 0,
        expire_at: Some(state.now() + codes::CODE_LIFETIME_MS),
    });
    save(state, browser, &sign_in).await?;
    Ok(sign_in)
}

/// Attempts the first factor: `password` or `email_code`.
pub async fn attempt(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    strategy: &str,
    secret: Option<String>,
) -> ApiResult<SignIn> {
    let sign_in = load(state, browser, id).await?;
    needs_first_factor(&sign_in)?;
    match (strategy, secret) {
        ("password", Some(password)) => attempt_password(state, browser, sign_in, &password).await,
        ("email_code", Some(code)) => attempt_code(state, browser, sign_in, &code).await,
        ("password", None) => Err(ApiError::invalid("form_param_missing", "password", "Enter your password.")),
        ("email_code", None) => Err(ApiError::invalid("form_param_missing", "code", "Enter the code.")),
        _ => Err(ApiError::format("strategy", "strategy must be password or email_code.")),
    }
}

async fn attempt_password(
    state: &AppState,
    browser: &mut Browser,
    mut sign_in: SignIn,
    password: &str,
) -> ApiResult<SignIn> {
    let user = account_of(state, &sign_in).await?;
    account::ensure_unlocked(state, user.as_ref())?;
    // Always one Argon2 run: a dummy one when there is no account or no password.
    let right = state.passwords.verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    match user {
        Some(u) if right && !u.banned => {
            sign_in.first_factor = Some(verified("password"));
            finish(state, browser, sign_in, &u.id).await
        }
        user => {
            if let Some(u) = user {
                account::record_failure(state, &u.id).await?;
            }
            let mut factor = sign_in.first_factor.take().unwrap_or_default();
            factor.strategy = "password".into();
            factor.status = "failed".into();
            factor.attempts += 1;
            sign_in.first_factor = Some(factor);
            save(state, browser, &sign_in).await?;
            Err(ApiError::invalid("form_password_incorrect", "password", "Password is incorrect. Try again."))
        }
    }
}

async fn attempt_code(state: &AppState, browser: &mut Browser, mut sign_in: SignIn, code: &str) -> ApiResult<SignIn> {
    let user = account_of(state, &sign_in).await?;
    account::ensure_unlocked(state, user.as_ref())?;
    let check = if user.is_some() { codes::check(state, &sign_in.id, code).await? } else { CodeCheck::Incorrect };
    match (check, user) {
        (CodeCheck::Accepted, Some(u)) if !u.banned => {
            sign_in.first_factor = Some(verified("email_code"));
            finish(state, browser, sign_in, &u.id).await
        }
        (check, user) => {
            if let Some(u) = &user {
                account::record_failure(state, &u.id).await?;
            }
            Err(code_error(check))
        }
    }
}

/// The error for a code that did not verify.
pub fn code_error(check: CodeCheck) -> ApiError {
    match check {
        CodeCheck::Expired => {
            ApiError::invalid("verification_expired", "code", "This code has expired. Get a new one.")
        }
        CodeCheck::Missing => {
            ApiError::invalid("verification_failed", "code", "This code no longer works. Get a new one.")
        }
        _ => ApiError::invalid("form_code_incorrect", "code", "Incorrect code. Try again."),
    }
}

async fn finish(state: &AppState, browser: &mut Browser, mut sign_in: SignIn, user_id: &str) -> ApiResult<SignIn> {
    let session = account::start_session(state, browser, user_id).await?;
    sign_in.status = "complete".into();
    sign_in.created_session_id = Some(session.id);
    save(state, browser, &sign_in).await?;
    Ok(sign_in)
}

async fn save(state: &AppState, browser: &mut Browser, sign_in: &SignIn) -> ApiResult<()> {
    let key = (&*sign_in.id, sign_in.created_at, sign_in.abandon_at);
    super::save_attempt(state, browser, "sign_in", key, sign_in).await
}

/// The account the attempt's identifier names, if any.
async fn account_of(state: &AppState, sign_in: &SignIn) -> ApiResult<Option<crate::store::UserRecord>> {
    match &sign_in.user_id {
        Some(id) => Ok(state.store.get_user(id).await?),
        None => Ok(None),
    }
}

fn needs_first_factor(sign_in: &SignIn) -> ApiResult<()> {
    if sign_in.status == "needs_first_factor" {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "sign_in_status_invalid",
            "status",
            format!("This sign-in is {}; start a new one.", sign_in.status.replace('_', " ")),
        ))
    }
}

fn verified(strategy: &str) -> Verification {
    Verification { status: "verified".into(), strategy: strategy.into(), attempts: 1, expire_at: None }
}

/// A stable, unguessable email id for an identifier with no account, so repeated sign-ins for
/// it look like those of a real account.
fn decoy_email_id(state: &AppState, identifier: &str) -> String {
    let key = state.config.secret_key.expose().as_bytes();
    format!("idn_{}", ids::keyed_base62(key, identifier.to_lowercase().as_bytes(), 27))
}
