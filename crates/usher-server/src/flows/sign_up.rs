//! Signing up with an email address and a password, the address proved with an emailed code.
//!
//! With enumeration protection (the default) a sign-up for an address that already has an
//! account looks the same as any other: the owner gets a "you already have an account" mail
//! instead of a code, and no code ever verifies the attempt.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use usher_types::{Strategy, VerificationStatus};

use super::{
    Browser, account,
    codes::{self, CodeCheck},
    sign_in::{Verification, code_error},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    metrics::SignUpOutcome,
    state::AppState,
    store::{AttemptKind, IdentifierRecord, UserRecord},
    validate,
};

/// Where a sign-up attempt stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignUpStatus {
    /// Fields or verifications are still missing.
    #[default]
    MissingRequirements,
    /// Signed up: the user and a session exist.
    Complete,
}

pub(super) const ATTEMPT_LIFETIME_MS: i64 = 24 * 60 * 60 * 1000;

/// A sign-up attempt (stored as an attempt document).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SignUp {
    /// `sua_…`.
    pub id: String,
    /// The client it belongs to.
    pub client_id: String,
    /// Where the attempt stands.
    pub status: SignUpStatus,
    /// The address to verify.
    pub email_address: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Metadata the browser may set.
    pub unsafe_metadata: Map<String, Value>,
    /// The chosen password, already hashed; never shown.
    pub password_hash: Option<String>,
    /// Where the email verification stands.
    pub email_verification: Option<Verification>,
    /// The address belongs to an account already (kept secret).
    pub email_taken: bool,
    /// The organization invitation whose ticket proved the address; joined on completion.
    #[serde(default)]
    pub invitation_id: Option<String>,
    /// The user created on completion.
    pub created_user_id: Option<String>,
    /// The session created on completion.
    pub created_session_id: Option<String>,
    /// An email link sent to verify the address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_link: Option<super::email_link::LinkProgress>,
    /// A sign-up through a provider (`strategy=oauth_*`): Clerk's
    /// `verifications.external_account`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external: Option<super::oauth::ExternalVerification>,
    /// When the attempt is abandoned.
    pub abandon_at: i64,
    /// Creation time.
    pub created_at: i64,
}

impl SignUp {
    /// Required fields still missing.
    pub fn missing_fields(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.email_address.is_none() {
            missing.push("email_address");
        }
        if self.password_hash.is_none() {
            missing.push("password");
        }
        missing
    }

    /// Whether the email address is verified.
    pub fn email_verified(&self) -> bool {
        self.email_verification.as_ref().is_some_and(|v| v.status == VerificationStatus::Verified)
    }
}

/// What `POST /v1/client/sign_ups` (and `PATCH`) take.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SignUpInput {
    /// The email address.
    pub email_address: Option<String>,
    /// The password.
    pub password: Option<String>,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Metadata the browser may set (an object, or its JSON text in a form).
    #[serde(default, deserialize_with = "crate::validate::json_object_or_text")]
    pub unsafe_metadata: Option<Map<String, Value>>,
    /// Creates the user from the client's `transferable` OAuth sign-in ([`super::oauth`]).
    pub transfer: Option<bool>,
    /// `ticket` with an organization invitation's ticket, or `oauth_<provider>` (a provider's
    /// name, which `Strategy` does not list; see [`super::oauth`]).
    #[serde(default)]
    pub strategy: Option<String>,
    /// `oauth_*`: where the browser goes after the provider (Clerk's `redirect_url`).
    #[serde(default)]
    pub redirect_url: Option<String>,
    /// `oauth_*`: where it goes once signed up.
    #[serde(default)]
    pub action_complete_redirect_url: Option<String>,
    /// An organization invitation's ticket: it proves the invited address.
    #[serde(default)]
    pub ticket: Option<String>,
}

/// Starts a sign-up.
pub async fn create(state: &AppState, browser: &mut Browser, input: SignUpInput) -> ApiResult<SignUp> {
    if input.transfer == Some(true) {
        return super::oauth::transfer(state, browser).await;
    }
    if let Some(strategy) = input.strategy.as_deref().filter(|s| s.starts_with("oauth_")) {
        let (redirect, complete) = (input.redirect_url.as_deref(), input.action_complete_redirect_url.as_deref());
        return super::oauth::start_sign_up(state, browser, strategy, redirect, complete).await;
    }
    if input.strategy.as_deref().is_some_and(|s| s != Strategy::Ticket.as_str()) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "strategy",
            "strategy must be ticket or oauth_<provider>.",
        ));
    }
    let now = state.now();
    let client_id = browser.client_mut(state).await?.id.clone();
    let mut sign_up = SignUp {
        id: ids::new_id("sua"),
        client_id,
        status: SignUpStatus::MissingRequirements,
        abandon_at: now + ATTEMPT_LIFETIME_MS,
        created_at: now,
        ..SignUp::default()
    };
    apply(state, &mut sign_up, input).await?;
    save_or_complete(state, browser, &mut sign_up).await?;
    Ok(sign_up)
}

/// A ticket sign-up has its address proved already: it completes as soon as nothing is missing.
async fn save_or_complete(state: &AppState, browser: &mut Browser, sign_up: &mut SignUp) -> ApiResult<()> {
    if sign_up.invitation_id.is_some() && sign_up.email_verified() && sign_up.missing_fields().is_empty() {
        complete(state, browser, sign_up).await
    } else {
        save(state, browser, sign_up).await
    }
}

/// Changes fields of a sign-up in progress.
pub async fn update(state: &AppState, browser: &mut Browser, id: &str, input: SignUpInput) -> ApiResult<SignUp> {
    let mut sign_up = in_progress(state, browser, id).await?;
    apply(state, &mut sign_up, input).await?;
    save_or_complete(state, browser, &mut sign_up).await?;
    Ok(sign_up)
}

async fn apply(state: &AppState, sign_up: &mut SignUp, input: SignUpInput) -> ApiResult<()> {
    if input.strategy.as_deref() == Some(Strategy::Ticket.as_str()) || input.ticket.is_some() {
        let ticket = input.ticket.as_deref().unwrap_or_default();
        let invitation =
            super::invitations::pending(state, ticket).await?.ok_or_else(super::invitations::ticket_invalid)?;
        // The holder of the ticket is the invitee, so saying the address is taken reveals
        // nothing they could not learn by signing in through the same link.
        if account::find_user(state, &invitation.email_address).await?.is_some() {
            return Err(ApiError::invalid(
                "form_identifier_exists",
                "email_address",
                "That email address already has an account; sign in with this invitation instead.",
            ));
        }
        sign_up.invitation_id = Some(invitation.id.clone());
        sign_up.email_taken = false;
        sign_up.email_address = Some(invitation.email_address);
        sign_up.email_verification = Some(Verification {
            status: VerificationStatus::Verified,
            strategy: Strategy::Ticket,
            attempts: 0,
            expire_at: None,
        });
    }
    if let Some(raw) = input.email_address {
        let email = validate::email("email_address", &raw)?;
        if sign_up.invitation_id.is_some() && sign_up.email_address.as_deref() != Some(email.as_str()) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "email_address",
                "An invitation sign-up uses the invited email address.",
            ));
        }
        if sign_up.email_address.as_deref() != Some(email.as_str()) {
            let taken = account::find_user(state, &email).await?.is_some();
            if taken && !state.config.enumeration_protection {
                return Err(ApiError::invalid(
                    "form_identifier_exists",
                    "email_address",
                    "That email address is taken. Please try another.",
                ));
            }
            sign_up.email_taken = taken;
            sign_up.email_verification = None;
            sign_up.email_address = Some(email);
        }
    }
    if let Some(password) = input.password {
        let normalized = state.passwords.normalize(&password, false)?;
        sign_up.password_hash = Some(state.passwords.hash(normalized).await?);
    }
    if let Some(name) = input.first_name {
        sign_up.first_name = validate::opt_text("first_name", Some(name))?.filter(|n| !n.is_empty());
    }
    if let Some(name) = input.last_name {
        sign_up.last_name = validate::opt_text("last_name", Some(name))?.filter(|n| !n.is_empty());
    }
    if let Some(meta) = input.unsafe_metadata {
        sign_up.unsafe_metadata = validate::metadata("unsafe_metadata", meta)?;
    }
    Ok(())
}

/// The browser's sign-up attempt `id`.
pub async fn load(state: &AppState, browser: &Browser, id: &str) -> ApiResult<SignUp> {
    let client_id = browser.client.as_ref().map(|c| c.id.as_str());
    match state.store.get_attempt(id).await? {
        Some(a)
            if a.kind == AttemptKind::SignUp
                && Some(a.client_id.as_str()) == client_id
                && a.expire_at > state.now() =>
        {
            serde_json::from_value(a.data).map_err(|e| ApiError::Internal(e.into()))
        }
        _ => Err(ApiError::NotFound("sign up attempt")),
    }
}

pub(super) async fn in_progress(state: &AppState, browser: &Browser, id: &str) -> ApiResult<SignUp> {
    let sign_up = load(state, browser, id).await?;
    if sign_up.status == SignUpStatus::Complete {
        return Err(ApiError::invalid("sign_up_status_invalid", "status", "This sign-up is already complete."));
    }
    Ok(sign_up)
}

/// Mails a verification code to the address (or, when it has an account, a notice).
pub async fn prepare_verification(state: &AppState, browser: &mut Browser, id: &str) -> ApiResult<SignUp> {
    let mut sign_up = in_progress(state, browser, id).await?;
    let Some(to) = sign_up.email_address.clone() else {
        return Err(ApiError::invalid("form_param_missing", "email_address", "Enter an email address first."));
    };
    if sign_up.email_taken {
        // A decoy code nobody knows, so guesses on this attempt are counted and expire exactly
        // as on a new address's; the owner gets a notice instead.
        let (title, body) = taken_notice(state);
        codes::issue_decoy(state, &sign_up.id, Some((to.as_str(), title, body))).await?;
    } else {
        codes::issue(state, &sign_up.id, &to, "finish signing up").await?;
    }
    sign_up.email_verification = Some(Verification {
        status: VerificationStatus::Unverified,
        strategy: Strategy::EmailCode,
        attempts: 0,
        expire_at: Some(state.now() + codes::CODE_LIFETIME_MS),
    });
    save(state, browser, &sign_up).await?;
    Ok(sign_up)
}

/// The mail the owner of an address gets when someone signs up with it again.
pub(super) fn taken_notice(state: &AppState) -> (String, String) {
    let app = &state.config.application_name;
    (
        format!("You already have a {app} account"),
        format!(
            "Someone tried to sign up for {app} with this address, which already has an account.\n\n\
             If it was you, sign in instead (you can sign in with a code sent to this address).\n\
             If not, you can ignore this message."
        ),
    )
}

/// Checks the emailed code; with every requirement met the user and a session are created.
pub async fn attempt_verification(state: &AppState, browser: &mut Browser, id: &str, code: &str) -> ApiResult<SignUp> {
    let mut sign_up = in_progress(state, browser, id).await?;
    // Per address, from whatever IP: fresh sign-ups and fresh codes do not reset it. Taken and
    // new addresses are charged alike.
    if let Some(bucket) = &state.limits.address {
        let key = sign_up.email_address.as_deref().map_or_else(|| sign_up.id.clone(), str::to_lowercase);
        bucket.check(&key).await.map_err(ApiError::TooManyRequests)?;
    }
    let check = match codes::check(state, &sign_up.id, code).await? {
        // Nobody was told a taken address's code; should one be guessed, it still verifies nothing.
        CodeCheck::Accepted if sign_up.email_taken => CodeCheck::Incorrect,
        check => check,
    };
    let verification = sign_up.email_verification.get_or_insert(Verification {
        status: VerificationStatus::Unverified,
        strategy: Strategy::EmailCode,
        attempts: 0,
        expire_at: None,
    });
    verification.strategy = Strategy::EmailCode;
    verification.attempts += 1;
    if check != CodeCheck::Accepted {
        let outcome =
            if check == CodeCheck::Expired { SignUpOutcome::CodeExpired } else { SignUpOutcome::CodeIncorrect };
        state.metrics.sign_up(outcome);
        verification.status =
            if check == CodeCheck::Expired { VerificationStatus::Expired } else { VerificationStatus::Failed };
        save(state, browser, &sign_up).await?;
        return Err(code_error(check));
    }
    verification.status = VerificationStatus::Verified;
    if sign_up.missing_fields().is_empty() {
        complete(state, browser, &mut sign_up).await?;
    } else {
        save(state, browser, &sign_up).await?;
    }
    Ok(sign_up)
}

pub(super) async fn complete(state: &AppState, browser: &mut Browser, sign_up: &mut SignUp) -> ApiResult<()> {
    let now = state.now();
    let email_id = ids::new_id("idn");
    let user = UserRecord {
        id: ids::new_id("user"),
        first_name: sign_up.first_name.clone(),
        last_name: sign_up.last_name.clone(),
        password_hash: sign_up.password_hash.clone(),
        password_updated_at: Some(now),
        unsafe_metadata: sign_up.unsafe_metadata.clone(),
        primary_email_address_id: Some(email_id.clone()),
        delete_self_enabled: true,
        create_organization_enabled: true,
        created_at: now,
        updated_at: now,
        emails: vec![IdentifierRecord {
            id: email_id,
            value: sign_up.email_address.clone().unwrap_or_default(),
            verified: true,
            strategy: Strategy::EmailCode,
            created_at: now,
            updated_at: now,
        }],
        ..UserRecord::default()
    };
    let session = account::new_session(state, browser, &user).await?;
    let mut completed = sign_up.clone();
    completed.status = SignUpStatus::Complete;
    completed.created_user_id = Some(user.id.clone());
    completed.created_session_id = Some(session.id.clone());
    let key = (&*completed.id, completed.created_at, completed.abandon_at);
    // Someone may have taken the address since the code was sent: then nothing is written and
    // the conflict is the answer (`form_identifier_exists` on `email_address`).
    browser.complete_attempt(state, AttemptKind::SignUp, key, &completed, &session, Some(&user)).await?;
    if let Some(invitation_id) = &completed.invitation_id {
        // The account exists now whatever happens here; a ticket revoked or used meanwhile
        // leaves a user who is simply not a member.
        if let Some(invitation) = state.store.get_invitation(invitation_id).await?
            && let Err(e) = super::invitations::accept(state, &invitation, &user.id).await
        {
            tracing::info!(invitation = %invitation.id, error = ?e, "signed up, but the invitation could not be accepted");
        }
    }
    *sign_up = completed;
    state.metrics.sign_up(SignUpOutcome::Completed);
    Ok(())
}

pub(super) async fn save(state: &AppState, browser: &mut Browser, sign_up: &SignUp) -> ApiResult<()> {
    let key = (&*sign_up.id, sign_up.created_at, sign_up.abandon_at);
    browser.save_attempt(state, AttemptKind::SignUp, key, sign_up).await
}
