//! Resetting a forgotten password, as Clerk does it: a sign-in with the
//! `reset_password_email_code` strategy. Preparing mails a six-digit code to the chosen address,
//! attempting it moves the sign-in to `needs_new_password`, and `reset_password` sets the new
//! password and finishes the sign-in (or hands it on to a second factor, as `sign_in::finish` decides).
//!
//! An identifier without an account gets a decoy code nobody is sent, stored and counted like a
//! real one, so every answer and every write is the same as for a real account.
//!
//! A reset code is kept per email address (`reset_password:<email id>`), not per attempt, so a
//! reset can revoke every outstanding reset code of the account; the code's MAC covers the
//! attempt, so it still verifies only the sign-in it was sent for.

use serde::{Deserialize, Serialize};
use usher_types::{Strategy, VerificationStatus};

use super::{
    Browser, account,
    codes::{self, CodeCheck},
    sign_in::{self, SignIn, SignInStatus, Verification, code_error},
};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{SessionStatus, UserRecord},
};

/// What a sign-in remembers between the verified code and the new password.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResetProgress {
    /// A digest of the account's password hash when the code was verified: a reset finished
    /// meanwhile (by another attempt) changes the hash (salted, so even to the same password)
    /// and makes this one stale. A time would not do: two resets can share a millisecond.
    pub password_fingerprint: String,
}

fn fingerprint(user: &UserRecord) -> String {
    ids::sha256_hex(user.password_hash.as_deref().unwrap_or_default().as_bytes())
}

fn subject(email_address_id: &str) -> String {
    format!("reset_password:{email_address_id}")
}

fn mac_key(subject: &str, sign_in: &SignIn) -> String {
    format!("{subject}:{}", sign_in.id)
}

/// Mails a reset code to the attempt's address (a decoy code, and no mail, for an identifier
/// without an account).
pub async fn prepare(state: &AppState, browser: &mut Browser, id: &str) -> ApiResult<SignIn> {
    let mut sign_in = sign_in::load(state, browser, id).await?;
    sign_in::needs_first_factor(&sign_in)?;
    let user = sign_in::account_of(state, &sign_in).await?;
    let subject = subject(sign_in.email_address_id.as_deref().unwrap_or_default());
    let code = ids::random_digits(6);
    let mail = sign_in::factor_email(&sign_in, user.as_ref()).map(|to| {
        let (subject, body) = codes::code_mail(state, &code, "reset your password");
        (to, subject, body)
    });
    let mail = mail.as_ref().map(|(to, subject, body)| (to.as_str(), subject.clone(), body.clone()));
    codes::issue_secret(state, &subject, &mac_key(&subject, &sign_in), &code, mail).await?;
    sign_in.first_factor = Some(Verification {
        status: VerificationStatus::Unverified,
        strategy: Strategy::ResetPasswordEmailCode,
        attempts: 0,
        expire_at: Some(state.now() + codes::CODE_LIFETIME_MS),
    });
    sign_in::save(state, browser, &sign_in).await?;
    Ok(sign_in)
}

/// Checks a reset code: right, the sign-in moves to `needs_new_password`. Failures count toward
/// the lockout like any sign-in guess.
pub async fn attempt(state: &AppState, browser: &mut Browser, mut sign_in: SignIn, code: &str) -> ApiResult<SignIn> {
    let user = sign_in::account_of(state, &sign_in).await?;
    let locked = sign_in::refuse_locked(state, user.as_ref())?;
    let subject = subject(sign_in.email_address_id.as_deref().unwrap_or_default());
    let check = codes::check_keyed(state, &subject, &mac_key(&subject, &sign_in), code).await?;
    match (check, user) {
        (CodeCheck::Accepted, Some(u)) if !u.banned && !locked => {
            sign_in.first_factor = Some(sign_in::verified(Strategy::ResetPasswordEmailCode));
            sign_in.status = SignInStatus::NeedsNewPassword;
            sign_in.reset = Some(ResetProgress { password_fingerprint: fingerprint(&u) });
            sign_in::save(state, browser, &sign_in).await?;
            Ok(sign_in)
        }
        (check, user) => {
            account::record_failure(state, user.as_ref().filter(|_| !locked)).await?;
            let check = if check == CodeCheck::Accepted { CodeCheck::Incorrect } else { check };
            Err(code_error(check))
        }
    }
}

/// Sets the new password (checked like a sign-up's), revokes the account's outstanding reset
/// codes, ends every other session when asked, tells the owner by mail, and moves on to the
/// step `sign_in::finish` decides: a session, or the second factor when the account has one.
pub async fn reset_password(
    state: &AppState,
    browser: &mut Browser,
    id: &str,
    password: &str,
    sign_out_of_other_sessions: bool,
) -> ApiResult<SignIn> {
    let mut sign_in = sign_in::load(state, browser, id).await?;
    if sign_in.status != SignInStatus::NeedsNewPassword {
        return Err(ApiError::invalid(
            "sign_in_status_invalid",
            "status",
            format!("This sign-in is {}; start a new one.", sign_in.status.as_str().replace('_', " ")),
        ));
    }
    let user = sign_in::account_of(state, &sign_in).await?;
    let progress = sign_in.reset.clone().unwrap_or_default();
    let fresh =
        |u: &UserRecord| ids::secrets_equal(fingerprint(u).as_bytes(), progress.password_fingerprint.as_bytes());
    let stale = || {
        usher_types::ClerkError::new(
            "verification_failed",
            "The password was changed since this code was checked. Start again.",
            "The password was changed since this code was checked. Start again.",
        )
        .with_param("code")
    };
    // Checked before hashing so a stale attempt costs no Argon2 run, and again inside the write:
    // the store re-runs the edit on the row it writes (compare-and-set on the version), so of
    // two resets racing on one attempt only the first write passes the check.
    let Some(user) = user.filter(fresh) else { return Err(ApiError::Unprocessable(stale())) };
    let normalized = state.passwords.normalize(password, false)?;
    let hash = state.passwords.hash(normalized).await?;
    let now = state.now();
    let actor = super::audit::Actor::user(Some(&user.id));
    let event = super::audit::Event::success(&actor, crate::store::AuditAction::PasswordReset, Some(&user.id));
    let audited = super::audit::Audited::new(state, event.detail("reset_password_email_code"));
    let user = audited
        .store()
        .update_user(&user.id, &mut |u| {
            if !fresh(u) {
                return Err(stale());
            }
            u.password_hash = Some(hash.clone());
            u.password_updated_at = Some(now);
            u.updated_at = now;
            Ok(())
        })
        .await?
        .ok_or(ApiError::NotFound("sign in attempt"))?;
    audited.done();
    for email in &user.emails {
        state.store.delete_code(&subject(&email.id)).await?;
    }
    if sign_out_of_other_sessions {
        // Before the new session exists, so "other" is every session the account had.
        state.store.end_user_sessions(&user.id, SessionStatus::Revoked, now).await?;
    }
    notify_changed(state, &user).await?;
    sign_in.reset = None;
    // `finish` hands an account with a second factor on to `needs_second_factor`, as Clerk does.
    sign_in::finish(state, browser, sign_in, &user).await
}

async fn notify_changed(state: &AppState, user: &UserRecord) -> ApiResult<()> {
    let Some(to) = user.primary_email().map(|e| e.value.clone()) else { return Ok(()) };
    let app = &state.config.application_name;
    codes::notify(
        state,
        &to,
        format!("Your {app} password was changed"),
        format!(
            "The password of your {app} account was just reset with a code sent to your email address.\n\n\
             If it was not you, reset it again at once and check the account's active sessions."
        ),
    )
    .await
}
