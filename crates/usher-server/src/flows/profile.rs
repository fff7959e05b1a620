//! A signed-in person managing their own account: names, password, email addresses, sessions.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::{
    account,
    codes::{self, CodeCheck},
    sign_in::code_error,
};
use usher_types::Strategy;

use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{IdentifierRecord, Page, SessionFilter, SessionRecord, SessionStatus, StoreError, UniqueField, UserRecord},
    validate,
};

/// What `PATCH /v1/me` takes; absent fields stay as they are, empty names are removed.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ProfileChanges {
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// Username.
    pub username: Option<String>,
    /// One of the user's verified email addresses.
    pub primary_email_address_id: Option<String>,
    /// Replaces the unsafe metadata.
    #[serde(default, deserialize_with = "crate::validate::json_object_or_text")]
    pub unsafe_metadata: Option<Map<String, Value>>,
}

/// Applies profile changes.
pub async fn update(state: &AppState, user: &UserRecord, changes: ProfileChanges) -> ApiResult<UserRecord> {
    let first = changes.first_name.map(|n| validate::opt_text("first_name", Some(n))).transpose()?;
    let last = changes.last_name.map(|n| validate::opt_text("last_name", Some(n))).transpose()?;
    let username = changes.username.map(|u| validate::username(&u)).transpose()?;
    let meta = changes.unsafe_metadata.map(|m| validate::metadata("unsafe_metadata", m)).transpose()?;
    if let Some(id) = &changes.primary_email_address_id
        && !user.emails.iter().any(|e| &e.id == id && e.verified)
    {
        return Err(ApiError::format("primary_email_address_id", "Choose one of your verified email addresses."));
    }
    let now = state.now();
    let updated = state
        .store
        .update_user(&user.id, &mut |u| {
            if let Some(n) = &first {
                u.first_name = n.clone().filter(|n| !n.is_empty());
            }
            if let Some(n) = &last {
                u.last_name = n.clone().filter(|n| !n.is_empty());
            }
            if let Some(name) = &username {
                u.username = Some(name.clone());
            }
            if let Some(m) = &meta {
                u.unsafe_metadata = m.clone();
            }
            if let Some(id) = &changes.primary_email_address_id {
                u.primary_email_address_id = Some(id.clone());
            }
            u.updated_at = now;
            Ok(())
        })
        .await?;
    updated.ok_or(ApiError::SignedOut)
}

/// Changes the password; the current one is required (when there is one). Optionally ends
/// every other session of the user.
pub async fn change_password(
    state: &AppState,
    session: &SessionRecord,
    user: &UserRecord,
    current: Option<&str>,
    new: &str,
    sign_out_others: bool,
) -> ApiResult<UserRecord> {
    account::ensure_unlocked(state, Some(user))?;
    if user.password_hash.is_some() {
        let right = state.passwords.verify(current.unwrap_or_default(), user.password_hash.as_deref()).await?;
        if !right {
            account::record_failure(state, Some(user)).await?;
            return Err(ApiError::invalid(
                "form_password_incorrect",
                "current_password",
                "Your current password is incorrect.",
            ));
        }
    }
    let normalized = state.passwords.normalize(new, false).map_err(|e| {
        let mut error = ApiError::from(e);
        if let ApiError::Unprocessable(body) = &mut error {
            body.meta.insert("param_name".into(), "new_password".into());
        }
        error
    })?;
    let hash = state.passwords.hash(normalized).await?;
    let now = state.now();
    let actor = super::audit::Actor::session(session);
    let event = super::audit::Event::success(&actor, crate::store::AuditAction::PasswordChanged, Some(&user.id));
    let audited = super::audit::Audited::new(state, event);
    let updated = audited
        .store()
        .update_user(&user.id, &mut |u| {
            u.password_hash = Some(hash.clone());
            u.password_updated_at = Some(now);
            u.updated_at = now;
            Ok(())
        })
        .await?
        .ok_or(ApiError::SignedOut)?;
    audited.done();
    if sign_out_others {
        for other in active_sessions(state, &user.id).await?.into_iter().filter(|s| s.id != session.id) {
            state.store.end_session(&other.id, SessionStatus::Revoked, now).await?;
        }
    }
    Ok(updated)
}

/// The user's live sessions, newest first.
pub async fn active_sessions(state: &AppState, user_id: &str) -> ApiResult<Vec<SessionRecord>> {
    let filter =
        SessionFilter { user_id: Some(user_id.to_owned()), status: Some(SessionStatus::Active), ..Default::default() };
    let (sessions, _) = state.store.list_sessions(&filter, Page { limit: 100, offset: 0 }).await?;
    let now = state.now();
    Ok(sessions.into_iter().filter(|s| s.is_live(now)).collect())
}

/// Revokes one of the user's sessions (on any browser).
pub async fn revoke_session(state: &AppState, user: &UserRecord, id: &str) -> ApiResult<SessionRecord> {
    match state.store.get_session(id).await? {
        Some(s) if s.user_id == user.id => {
            let actor = super::audit::Actor::user(Some(&user.id));
            let detail = format!("user {}", user.id);
            let event = super::audit::Event::success(&actor, crate::store::AuditAction::SessionRevoked, Some(id));
            let audited = super::audit::Audited::new(state, event.detail(&detail));
            let ended = audited.store().end_session(id, SessionStatus::Revoked, state.now()).await?.unwrap_or(s);
            audited.done();
            Ok(ended)
        }
        _ => Err(ApiError::NotFound("session")),
    }
}

/// Adds an unverified email address.
pub async fn add_email(state: &AppState, user: &UserRecord, raw: &str) -> ApiResult<IdentifierRecord> {
    let email = validate::email("email_address", raw)?;
    if user.emails.len() >= 20 {
        return Err(ApiError::invalid("too_many_email_addresses", "email_address", "You have too many addresses."));
    }
    // Their own addresses are no secret to them: adding one twice is refused as before.
    if user.emails.iter().any(|e| e.value.eq_ignore_ascii_case(&email)) {
        return Err(StoreError::Conflict(UniqueField::EmailAddress).into());
    }
    let now = state.now();
    let record = IdentifierRecord {
        id: ids::new_id("idn"),
        value: email,
        verified: false,
        strategy: Strategy::EmailCode,
        created_at: now,
        updated_at: now,
    };
    match state.store.add_email_address(&user.id, &record).await {
        // Another account has it: "taken" would be an oracle for whether it has an account, so
        // the address is accepted the same way and becomes a decoy that can never be verified.
        Err(StoreError::Conflict(UniqueField::EmailAddress)) => {
            state.store.add_decoy_email_address(&user.id, &record).await?;
        }
        other => other?,
    }
    Ok(record)
}

fn own_email<'u>(user: &'u UserRecord, id: &str) -> ApiResult<&'u IdentifierRecord> {
    user.emails.iter().find(|e| e.id == id).ok_or(ApiError::NotFound("email address"))
}

/// Mails a code proving an added address.
pub async fn prepare_email(state: &AppState, user: &UserRecord, id: &str) -> ApiResult<IdentifierRecord> {
    let email = own_email(user, id)?;
    if state.store.is_decoy_email_address(&user.id, &email.id).await? {
        // The code goes to nobody (it is stored and counted like a real one); the address's
        // owner is told someone tried to add it.
        let app = &state.config.application_name;
        let notice = (
            email.value.as_str(),
            format!("Someone tried to add your address to another {app} account"),
            format!(
                "Someone signed in to {app} asked to add this address to their account. It already belongs to \
                 yours, so nothing was changed and no code was sent.\n\nIf it was you, you can ignore this message."
            ),
        );
        codes::issue_decoy(state, &email.id, Some(notice)).await?;
    } else {
        codes::issue(state, &email.id, &email.value, "verify this email address").await?;
    }
    Ok(email.clone())
}

/// Checks the code for an added address.
pub async fn verify_email(state: &AppState, user: &UserRecord, id: &str, code: &str) -> ApiResult<IdentifierRecord> {
    let email = own_email(user, id)?;
    let mut check = codes::check(state, &email.id, code).await?;
    // A decoy's code was sent to nobody; even a lucky guess is only a wrong code.
    if check == CodeCheck::Accepted && state.store.is_decoy_email_address(&user.id, &email.id).await? {
        check = CodeCheck::Incorrect;
    }
    match check {
        CodeCheck::Accepted => {
            state.store.verify_email_address(&user.id, id, state.now()).await?;
            Ok(IdentifierRecord { verified: true, ..email.clone() })
        }
        other => {
            account::record_failure(state, Some(user)).await?;
            Err(code_error(other))
        }
    }
}

/// Removes an address other than the primary one.
pub async fn remove_email(state: &AppState, user: &UserRecord, id: &str) -> ApiResult<()> {
    own_email(user, id)?;
    if user.primary_email_address_id.as_deref() == Some(id) {
        return Err(ApiError::invalid(
            "primary_email_address_cannot_be_deleted",
            "email_address_id",
            "Make another address primary before removing this one.",
        ));
    }
    state.store.delete_email_address(&user.id, id).await?;
    Ok(())
}
