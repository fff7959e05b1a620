//! Signing in: with a password, an email code, or a ticket (a Backend API sign-in token).
//!
//! With enumeration protection (the default) an unknown identifier gets exactly the answers a
//! known one gets: the same factors (with a stable decoy email id), a dummy Argon2 run on
//! password attempts, and `form_password_incorrect` / `form_code_incorrect` at the end.

use serde::{Deserialize, Serialize};
use usher_types::{Strategy, VerificationStatus};

use super::{
    Browser, account,
    audit::{self, Actor, Event},
    codes::{self, CodeCheck},
    second_factor,
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    metrics::SignInOutcome,
    state::AppState,
    store::{AttemptKind, AuditAction, UserRecord},
    validate,
};

/// A sign-in attempt lives this long.
const ATTEMPT_LIFETIME_MS: i64 = 30 * 60 * 1000;

/// Where a sign-in attempt stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInStatus {
    /// No identifier yet.
    #[default]
    NeedsIdentifier,
    /// The identifier is known; a first factor is due.
    NeedsFirstFactor,
    /// The first factor is verified; the account has a second factor, which is due.
    NeedsSecondFactor,
    /// A reset code was verified; a new password is due (see [`super::reset`]).
    NeedsNewPassword,
    /// Signed in: the attempt created a session.
    Complete,
}

impl SignInStatus {
    /// The wire name, e.g. `"needs_first_factor"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NeedsIdentifier => "needs_identifier",
            Self::NeedsFirstFactor => "needs_first_factor",
            Self::NeedsSecondFactor => "needs_second_factor",
            Self::NeedsNewPassword => "needs_new_password",
            Self::Complete => "complete",
        }
    }
}

/// The state of a verification, as Clerk shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verification {
    /// Where it stands.
    pub status: VerificationStatus,
    /// How the factor is verified.
    pub strategy: Strategy,
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
    /// Where the attempt stands.
    pub status: SignInStatus,
    /// What the person typed.
    pub identifier: Option<String>,
    /// The account, when the identifier names one; never shown.
    pub user_id: Option<String>,
    /// The email address codes go to (a decoy for an unknown identifier).
    pub email_address_id: Option<String>,
    /// Where the first factor stands.
    pub first_factor: Option<Verification>,
    /// When the first factor was verified.
    #[serde(default)]
    pub first_factor_at: Option<i64>,
    /// The second factors the account offers (once the first factor is verified).
    #[serde(default)]
    pub supported_second_factors: Vec<Strategy>,
    /// Where the second factor stands.
    #[serde(default)]
    pub second_factor: Option<Verification>,
    /// The session created on completion.
    pub created_session_id: Option<String>,
    /// A password reset in progress.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reset: Option<super::reset::ResetProgress>,
    /// An email link sent for this attempt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_link: Option<super::email_link::LinkProgress>,
    /// When the attempt is abandoned.
    pub abandon_at: i64,
    /// Creation time.
    pub created_at: i64,
    /// The first factor of an `oauth_*` sign-in (its strategy names a provider, which
    /// `Strategy` does not list); shown instead of `first_factor`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<super::oauth::ExternalVerification>,
    /// The passkey challenge in progress (its state is never shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey: Option<super::passkeys::Challenge>,
    /// A verified provider account no user has (`transferable`), kept for a sign-up with
    /// `transfer: true`; never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<super::oauth::Profile>,
    /// An actor token's impersonator (`{"sub": …}`), which the session carries; never shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actor: Option<serde_json::Value>,
    /// An actor token's longest session, in seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_max_duration: Option<i64>,
}

/// A new, unsaved sign-in attempt of a client.
pub fn new_attempt(state: &AppState, client_id: String) -> SignIn {
    let now = state.now();
    SignIn {
        id: ids::new_id("sia"),
        client_id,
        status: SignInStatus::NeedsIdentifier,
        abandon_at: now + ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignIn::default()
    }
}

/// Signs `user` in for a verified attempt (a provider vouched for the account), linking
/// `account` in the same transaction. The provider is a first factor only: an account with a
/// second factor goes on to `needs_second_factor`, as after a password ([`finish`]).
pub(super) async fn complete(
    state: &AppState,
    browser: &mut Browser,
    mut sign_in: SignIn,
    user: &UserRecord,
    account: Option<&crate::store::ExternalAccountRecord>,
) -> ApiResult<SignIn> {
    // The second factor's step finds the account through it (no identifier was typed).
    sign_in.user_id = Some(user.id.clone());
    finish_linking(state, browser, sign_in, user, account).await
}

/// What `POST /v1/client/sign_ins` takes.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateSignIn {
    /// An email address or username.
    pub identifier: Option<String>,
    /// `password` or `ticket` (or a factor strategy to prepare later), or `oauth_<provider>`
    /// (a provider's name, which `Strategy` does not list; see [`super::oauth`]).
    pub strategy: Option<String>,
    /// Signs in at once when right.
    pub password: Option<String>,
    /// A Backend API sign-in token.
    pub ticket: Option<String>,
    /// `oauth_*`: where the browser goes after the provider (Clerk's `redirect_url`).
    pub redirect_url: Option<String>,
    /// `oauth_*`: where it goes once signed in.
    pub action_complete_redirect_url: Option<String>,
}

/// Starts a sign-in; completes it at once when a right password or a valid ticket is given.
pub async fn create(state: &AppState, browser: &mut Browser, input: CreateSignIn) -> ApiResult<SignIn> {
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut sign_in = SignIn {
        id: ids::new_id("sia"),
        client_id,
        status: SignInStatus::NeedsIdentifier,
        abandon_at: now + ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignIn::default()
    };
    if input.strategy.as_deref() == Some(Strategy::Ticket.as_str()) || input.ticket.is_some() {
        let ticket = input.ticket.unwrap_or_default();
        let accepted = state.store.accept_sign_in_token(&ids::sha256_hex(ticket.trim().as_bytes()), now).await?;
        if accepted.is_none()
            && let Some(invitation) = super::invitations::pending(state, &ticket).await?
        {
            return sign_in_invited(state, browser, sign_in, &invitation).await;
        }
        let Some(token) = accepted else {
            let actor = Actor::user(None);
            audit::record(state, Event::failure(&actor, AuditAction::SignInFailed, None, "ticket_invalid")).await?;
            return Err(ApiError::invalid(
                "ticket_invalid",
                "ticket",
                "This sign-in link is invalid, was already used, or expired.",
            ));
        };
        let Some(user) = state.store.get_user(&token.user_id).await? else {
            return Err(ApiError::invalid("ticket_invalid", "ticket", "This sign-in link is invalid."));
        };
        sign_in.user_id = Some(token.user_id.clone());
        sign_in.first_factor = Some(verified(Strategy::Ticket));
        sign_in.actor = token.actor;
        sign_in.session_max_duration = token.session_max_duration;
        return finish(state, browser, sign_in, &user).await;
    }
    if let Some(identifier) = input.identifier.map(|i| validate::identifier(&i)).filter(|i| !i.is_empty()) {
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
        sign_in.status = SignInStatus::NeedsFirstFactor;
    }
    match input.password {
        // Saved once, by the attempt, instead of once here and again there.
        Some(password) if sign_in.status == SignInStatus::NeedsFirstFactor => {
            attempt_password(state, browser, sign_in, &password).await
        }
        _ => {
            save(state, browser, &sign_in).await?;
            Ok(sign_in)
        }
    }
}

/// Signs in the invitee of an organization invitation, who holds its ticket, and makes them a
/// member. Someone without an account must sign up through the link instead.
async fn sign_in_invited(
    state: &AppState,
    browser: &mut Browser,
    mut sign_in: SignIn,
    invitation: &crate::store::InvitationRecord,
) -> ApiResult<SignIn> {
    let Some(user) = account::find_user(state, &invitation.email_address).await? else {
        return Err(ApiError::invalid(
            "form_identifier_not_found",
            "ticket",
            "No account uses the invited email address; sign up with this invitation instead.",
        ));
    };
    if user.banned {
        return Err(ApiError::invalid("user_banned", "ticket", "This account is banned and cannot sign in."));
    }
    super::invitations::accept(state, invitation, &user.id).await?;
    sign_in.user_id = Some(user.id.clone());
    sign_in.identifier = Some(invitation.email_address.clone());
    sign_in.first_factor = Some(verified(Strategy::Ticket));
    finish(state, browser, sign_in, &user).await
}

/// The browser's sign-in attempt `id`.
pub async fn load(state: &AppState, browser: &Browser, id: &str) -> ApiResult<SignIn> {
    let client_id = browser.client.as_ref().map(|c| c.id.as_str());
    match state.store.get_attempt(id).await? {
        Some(a)
            if a.kind == AttemptKind::SignIn
                && Some(a.client_id.as_str()) == client_id
                && a.expire_at > state.now() =>
        {
            serde_json::from_value(a.data).map_err(|e| ApiError::Internal(e.into()))
        }
        _ => Err(ApiError::NotFound("sign in attempt")),
    }
}

/// Mails a code for the `email_code` factor. An unknown identifier gets a decoy code nobody is
/// sent, so its guesses are counted and expire exactly like a real account's.
pub async fn prepare_email_code(state: &AppState, browser: &mut Browser, id: &str) -> ApiResult<SignIn> {
    let mut sign_in = load(state, browser, id).await?;
    needs_first_factor(&sign_in)?;
    let user = account_of(state, &sign_in).await?;
    match factor_email(&sign_in, user.as_ref()) {
        Some(to) => codes::issue(state, &sign_in.id, &to, "sign in").await?,
        None => codes::issue_decoy(state, &sign_in.id, None).await?,
    }
    sign_in.first_factor = Some(Verification {
        status: VerificationStatus::Unverified,
        strategy: Strategy::EmailCode,
        attempts: 0,
        expire_at: Some(state.now() + codes::CODE_LIFETIME_MS),
    });
    save(state, browser, &sign_in).await?;
    Ok(sign_in)
}

/// A new passkey challenge for the attempt: with an identifier (`prepare_first_factor`) or
/// before one is typed (a discoverable credential names its account).
pub async fn prepare_passkey(state: &AppState, browser: &mut Browser, id: &str) -> ApiResult<SignIn> {
    let sign_in = load(state, browser, id).await?;
    if sign_in.status != SignInStatus::NeedsIdentifier {
        needs_first_factor(&sign_in)?;
    }
    super::passkeys::prepare(state, browser, sign_in).await
}

/// The address the attempt's codes and links go to, when the identifier names an account.
pub(super) fn factor_email(sign_in: &SignIn, user: Option<&UserRecord>) -> Option<String> {
    let id = sign_in.email_address_id.as_deref()?;
    user?.emails.iter().find(|e| e.id == id).map(|e| e.value.clone())
}

/// Attempts the first factor: `password` or `email_code`.
pub async fn attempt(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    strategy: Option<Strategy>,
    secret: Option<String>,
) -> ApiResult<SignIn> {
    let sign_in = load(state, browser, id).await?;
    needs_first_factor(&sign_in)?;
    match (strategy, secret) {
        (Some(Strategy::Password), Some(password)) => attempt_password(state, browser, sign_in, &password).await,
        (Some(Strategy::EmailCode), Some(code)) => attempt_code(state, browser, sign_in, &code).await,
        (Some(Strategy::ResetPasswordEmailCode), Some(code)) => {
            super::reset::attempt(state, browser, sign_in, &code).await
        }
        (Some(Strategy::Passkey), Some(credential)) => {
            super::passkeys::attempt(state, browser, sign_in, &credential).await
        }
        (Some(Strategy::Password), None) => {
            Err(ApiError::invalid("form_param_missing", "password", "Enter your password."))
        }
        (Some(Strategy::Passkey), None) => {
            Err(ApiError::invalid("form_param_missing", "public_key_credential", "public_key_credential is required."))
        }
        (Some(Strategy::EmailCode | Strategy::ResetPasswordEmailCode), None) => {
            Err(ApiError::invalid("form_param_missing", "code", "Enter the code."))
        }
        _ => Err(ApiError::format(
            "strategy",
            "strategy must be password, email_code, reset_password_email_code or passkey.",
        )),
    }
}

async fn attempt_password(
    state: &AppState,
    browser: &mut Browser,
    mut sign_in: SignIn,
    password: &str,
) -> ApiResult<SignIn> {
    let user = account_of(state, &sign_in).await?;
    let locked = refuse_locked(state, user.as_ref())?;
    // Always one Argon2 run: a dummy one when there is no account or no password.
    let right = state.passwords.verify(password, user.as_ref().and_then(|u| u.password_hash.as_deref())).await?;
    match user {
        Some(u) if right && !u.banned && !locked => {
            sign_in.first_factor = Some(verified(Strategy::Password));
            let done = finish(state, browser, sign_in, &u).await;
            count_sign_in(state, done.is_ok(), user_outcome(Some(&u), locked));
            done
        }
        user => {
            count_sign_in(state, false, user_outcome(user.as_ref(), locked));
            failed(state, &sign_in, user.as_ref(), locked, "form_password_incorrect").await?;
            // A locked account's failure is not counted (it would only extend the lock), but
            // the same write runs.
            account::record_failure(state, user.as_ref().filter(|_| !locked)).await?;
            let attempts = sign_in.first_factor.take().map_or(0, |f| f.attempts) + 1;
            sign_in.first_factor = Some(Verification {
                status: VerificationStatus::Failed,
                strategy: Strategy::Password,
                attempts,
                expire_at: None,
            });
            save(state, browser, &sign_in).await?;
            Err(ApiError::invalid("form_password_incorrect", "password", "Password is incorrect. Try again."))
        }
    }
}

async fn attempt_code(state: &AppState, browser: &mut Browser, mut sign_in: SignIn, code: &str) -> ApiResult<SignIn> {
    let user = account_of(state, &sign_in).await?;
    let locked = refuse_locked(state, user.as_ref())?;
    // Known or not, the attempt has a code row (a decoy for an unknown identifier), so the
    // check does the same work and finds the same states.
    let check = codes::check(state, &sign_in.id, code).await?;
    match (check, user) {
        (CodeCheck::Accepted, Some(u)) if !u.banned && !locked => {
            sign_in.first_factor = Some(verified(Strategy::EmailCode));
            let done = finish(state, browser, sign_in, &u).await;
            count_sign_in(state, done.is_ok(), user_outcome(Some(&u), locked));
            done
        }
        (check, user) => {
            count_sign_in(state, false, user_outcome(user.as_ref(), locked));
            failed(state, &sign_in, user.as_ref(), locked, "form_code_incorrect").await?;
            account::record_failure(state, user.as_ref().filter(|_| !locked)).await?;
            let check = if check == CodeCheck::Accepted { CodeCheck::Incorrect } else { check };
            Err(code_error(check))
        }
    }
}

/// Why an attempt on `user` failed, if not for a wrong secret.
fn user_outcome(user: Option<&UserRecord>, locked: bool) -> SignInOutcome {
    match user {
        Some(u) if u.banned => SignInOutcome::Banned,
        Some(_) if locked => SignInOutcome::Locked,
        _ => SignInOutcome::Incorrect,
    }
}

/// Counts a password or code attempt for `/metrics` (operators only, so the outcome may say
/// what the answer does not).
fn count_sign_in(state: &AppState, succeeded: bool, otherwise: SignInOutcome) {
    state.metrics.sign_in(if succeeded { SignInOutcome::Succeeded } else { otherwise });
}

/// Records a refused first factor with the real reason (the answer to the browser stays the
/// same whatever it is; the audit log is for the instance's admins).
async fn failed(
    state: &AppState,
    sign_in: &SignIn,
    user: Option<&UserRecord>,
    locked: bool,
    wrong: &str,
) -> ApiResult<()> {
    let reason = match user {
        None => "identifier_not_found",
        Some(u) if u.banned => "user_banned",
        Some(_) if locked => "user_locked",
        Some(_) => wrong,
    };
    let actor = Actor::user(user.map(|u| u.id.as_str()));
    let strategy = sign_in.first_factor.as_ref().map_or("password", |f| f.strategy.as_str());
    let event = Event::failure(&actor, AuditAction::SignInFailed, user.map(|u| u.id.as_str()), reason).detail(strategy);
    audit::record(state, event).await
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

/// Whether `user` is locked now. Without enumeration protection a locked account is refused
/// here with Clerk's `user_locked`; with it, the attempt goes on and fails like a wrong guess
/// (an unknown identifier could never answer `user_locked`).
pub(super) fn refuse_locked(state: &AppState, user: Option<&UserRecord>) -> ApiResult<bool> {
    if !state.config.enumeration_protection {
        account::ensure_unlocked(state, user)?;
    }
    Ok(user.is_some_and(|u| u.is_locked(state.now())))
}

/// Signs in: a new session, the attempt complete, in one transaction.
pub(super) async fn finish(
    state: &AppState,
    browser: &mut Browser,
    sign_in: SignIn,
    user: &UserRecord,
) -> ApiResult<SignIn> {
    finish_linking(state, browser, sign_in, user, None).await
}

/// [`finish`] that also links a provider account (an OAuth sign-in's).
async fn finish_linking(
    state: &AppState,
    browser: &mut Browser,
    mut sign_in: SignIn,
    user: &UserRecord,
    account: Option<&crate::store::ExternalAccountRecord>,
) -> ApiResult<SignIn> {
    let now = state.now();
    let first_factor_at = *sign_in.first_factor_at.get_or_insert(now);
    let second_verified = sign_in.second_factor.as_ref().is_some_and(|f| f.status == VerificationStatus::Verified);
    // An actor token signs in past every factor, as Clerk's do: the impersonator never learns
    // or uses the user's second factor.
    let impersonating = sign_in.actor.is_some();
    if user.two_factor_enabled() && !second_verified && !impersonating {
        // The provider vouched for the address, so the account is linked now (Clerk links on
        // the verified callback); signing in still takes the second factor, every time.
        if let Some(account) = account {
            state.store.create_external_account(account).await?;
        }
        sign_in.status = SignInStatus::NeedsSecondFactor;
        sign_in.supported_second_factors = second_factor::supported(user);
        save(state, browser, &sign_in).await?;
        return Ok(sign_in);
    }
    let mut session = match account::new_session(state, browser, user).await {
        Ok(session) => session,
        Err(e) => {
            let actor = Actor::user(Some(&user.id));
            let reason = e.body().code;
            audit::record(state, Event::failure(&actor, AuditAction::SignInFailed, Some(&user.id), &reason)).await?;
            return Err(e);
        }
    };
    session.first_factor_at = Some(first_factor_at);
    session.second_factor_at = second_verified.then_some(now);
    if let Some(actor) = &sign_in.actor {
        session.actor = Some(actor.clone());
        let max = sign_in.session_max_duration.unwrap_or(super::admin::ACTOR_SESSION_MAX_SECS);
        session.expire_at = session.expire_at.min(now + max * 1000);
    }
    if state.config.second_factor_required && !user.two_factor_enabled() && !impersonating {
        // Signed in, but pending (Clerk's `setup-mfa` task) until a second factor is set up.
        session.status = usher_types::SessionStatus::Pending;
    }
    sign_in.status = SignInStatus::Complete;
    sign_in.created_session_id = Some(session.id.clone());
    let key = (&*sign_in.id, sign_in.created_at, sign_in.abandon_at);
    // The sign-in's entry is written in the transaction that creates the session.
    let actor = Actor::session(&session);
    let (action, strategy) = match &sign_in.actor {
        Some(_) => (AuditAction::ImpersonationStarted, format!("session {}", session.id)),
        None => (AuditAction::SignInSucceeded, strategy_of(&sign_in)),
    };
    let entry = audit::entry(state, Event::success(&actor, action, Some(&user.id)).detail(&strategy));
    browser
        .complete_attempt_linking(
            state,
            AttemptKind::SignIn,
            key,
            &sign_in,
            &session,
            None,
            account,
            Some(&entry),
            Some(user),
        )
        .await?;
    audit::noted();
    Ok(sign_in)
}

/// How the sign-in verified its first factor, for the audit log.
fn strategy_of(sign_in: &SignIn) -> String {
    match (&sign_in.external, &sign_in.first_factor) {
        (Some(_), _) => "oauth".to_owned(),
        (None, Some(f)) => f.strategy.as_str().to_owned(),
        (None, None) => "unknown".to_owned(),
    }
}

pub(super) async fn save(state: &AppState, browser: &mut Browser, sign_in: &SignIn) -> ApiResult<()> {
    let key = (&*sign_in.id, sign_in.created_at, sign_in.abandon_at);
    browser.save_attempt(state, AttemptKind::SignIn, key, sign_in).await
}

/// The account the attempt's identifier names, if any. Without one the same read runs for an
/// id nobody has, so both cost the same.
pub(super) async fn account_of(state: &AppState, sign_in: &SignIn) -> ApiResult<Option<UserRecord>> {
    Ok(state.store.get_user(sign_in.user_id.as_deref().unwrap_or(account::NO_USER)).await?)
}

pub(super) fn needs_first_factor(sign_in: &SignIn) -> ApiResult<()> {
    if sign_in.status == SignInStatus::NeedsFirstFactor {
        Ok(())
    } else {
        Err(ApiError::invalid(
            "sign_in_status_invalid",
            "status",
            format!("This sign-in is {}; start a new one.", sign_in.status.as_str().replace('_', " ")),
        ))
    }
}

pub(super) fn verified(strategy: Strategy) -> Verification {
    Verification { status: VerificationStatus::Verified, strategy, attempts: 1, expire_at: None }
}

/// A stable, unguessable email id for an identifier with no account, so repeated sign-ins for
/// it look like those of a real account.
fn decoy_email_id(state: &AppState, identifier: &str) -> String {
    let key = state.config.secret_key.expose().as_bytes();
    format!("idn_{}", ids::keyed_base62(key, identifier.to_lowercase().as_bytes(), 27))
}
