//! Administering users and the instance: what the Backend API and the admin console both do
//! to an account (ban, lock, delete, metadata, password, sessions, impersonation, the admin
//! role), each recorded in the audit log with whoever did it.

use serde_json::{Map, Value, json};
use usher_types::{ClerkError, SessionStatus, Strategy};

use super::audit::{self, Actor, Audited, Event};
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{AuditAction, IdentifierRecord, SessionRecord, SignInTokenRecord, SignInTokenStatus, UserRecord},
    validate,
};

/// The user `id`, or `404 user`.
pub async fn load(state: &AppState, id: &str) -> ApiResult<UserRecord> {
    state.store.get_user(id).await?.ok_or(ApiError::NotFound("user"))
}

/// Applies `edit` to the user and records `action`.
async fn edit(
    state: &AppState,
    actor: &Actor,
    id: &str,
    action: AuditAction,
    edit: impl Fn(&mut UserRecord) + Send + Sync,
) -> ApiResult<UserRecord> {
    let now = state.now();
    let audited = Audited::new(state, Event::success(actor, action, Some(id)));
    let updated = audited
        .store()
        .update_user(id, &mut |u: &mut UserRecord| {
            edit(u);
            u.updated_at = now;
            Ok(())
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    audited.done();
    Ok(updated)
}

/// Bans the user: signed out everywhere at once, and its sign-in links stop working.
pub async fn ban(state: &AppState, actor: &Actor, id: &str) -> ApiResult<UserRecord> {
    let user = edit(state, actor, id, AuditAction::UserBanned, |u| u.banned = true).await?;
    state.store.end_user_sessions(id, SessionStatus::Revoked, state.now()).await?;
    state.store.revoke_user_sign_in_tokens(id, state.now()).await?;
    Ok(user)
}

/// Lifts a ban.
pub async fn unban(state: &AppState, actor: &Actor, id: &str) -> ApiResult<UserRecord> {
    edit(state, actor, id, AuditAction::UserUnbanned, |u| u.banned = false).await
}

/// Locks the user until unlocked.
pub async fn lock(state: &AppState, actor: &Actor, id: &str) -> ApiResult<UserRecord> {
    edit(state, actor, id, AuditAction::UserLocked, |u| u.locked_until = Some(i64::MAX)).await
}

/// Lifts a lock and forgets the failed attempts.
pub async fn unlock(state: &AppState, actor: &Actor, id: &str) -> ApiResult<UserRecord> {
    edit(state, actor, id, AuditAction::UserUnlocked, |u| {
        u.locked_until = None;
        u.failed_attempts = 0;
    })
    .await
}

/// Deletes the user and everything it owns.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> ApiResult<UserRecord> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::UserDeleted, Some(id)));
    let deleted = audited.store().delete_user(id).await?.ok_or(ApiError::NotFound("user"))?;
    audited.done();
    Ok(deleted)
}

/// Metadata to apply: each given object is merged deeply into the user's, or replaces it.
#[derive(Debug, Clone, Default)]
pub struct MetadataChange {
    /// `public_metadata`.
    pub public: Option<Map<String, Value>>,
    /// `private_metadata`.
    pub private: Option<Map<String, Value>>,
    /// `unsafe_metadata`.
    pub unsafe_: Option<Map<String, Value>>,
    /// Replace instead of merging.
    pub replace: bool,
}

/// Applies a metadata change; the result must respect the size limit (the edit refuses to
/// write it if not).
pub async fn apply_metadata(state: &AppState, actor: &Actor, id: &str, m: MetadataChange) -> ApiResult<UserRecord> {
    let parts = [("public_metadata", m.public), ("private_metadata", m.private), ("unsafe_metadata", m.unsafe_)];
    let now = state.now();
    let audited = Audited::new(state, Event::success(actor, AuditAction::MetadataUpdated, Some(id)));
    let updated = audited
        .store()
        .update_user(id, &mut |u: &mut UserRecord| {
            let targets = [&mut u.public_metadata, &mut u.private_metadata, &mut u.unsafe_metadata];
            for ((param, patch), target) in parts.iter().zip(targets) {
                match patch {
                    Some(patch) if m.replace => *target = patch.clone(),
                    Some(patch) => validate::merge(target, patch.clone()),
                    None => continue,
                }
                validate::metadata(param, target.clone()).map_err(|e| e.body())?;
            }
            u.updated_at = now;
            Ok(())
        })
        .await?
        .ok_or(ApiError::NotFound("user"))?;
    audited.done();
    Ok(updated)
}

/// Parses one metadata field typed as JSON text: an object, or a clear error naming `param`.
pub fn parse_metadata(param: &str, text: &str) -> ApiResult<Map<String, Value>> {
    let text = if text.trim().is_empty() { "{}" } else { text };
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => validate::metadata(param, map),
        Ok(_) => Err(ApiError::invalid("form_param_format_invalid", param, format!("{param} must be a JSON object."))),
        Err(e) => {
            Err(ApiError::invalid("form_param_format_invalid", param, format!("{param} is not valid JSON: {e}.")))
        }
    }
}

/// Sets a new password (checked against the policy) and signs the user out everywhere.
pub async fn set_password(state: &AppState, actor: &Actor, id: &str, password: &str) -> ApiResult<UserRecord> {
    let normalized = state.passwords.normalize(password, false)?;
    let hash = state.passwords.hash(normalized).await?;
    let now = state.now();
    let updated = edit(state, actor, id, AuditAction::PasswordChanged, move |u| {
        u.password_hash = Some(hash.clone());
        u.password_updated_at = Some(now);
    })
    .await?;
    state.store.end_user_sessions(id, SessionStatus::Revoked, now).await?;
    Ok(updated)
}

/// Revokes one session.
pub async fn revoke_session(state: &AppState, actor: &Actor, session_id: &str) -> ApiResult<SessionRecord> {
    let session = state.store.get_session(session_id).await?.ok_or(ApiError::NotFound("session"))?;
    let detail = format!("user {}", session.user_id);
    let audited =
        Audited::new(state, Event::success(actor, AuditAction::SessionRevoked, Some(session_id)).detail(&detail));
    let session = audited
        .store()
        .end_session(session_id, SessionStatus::Revoked, state.now())
        .await?
        .ok_or(ApiError::NotFound("session"))?;
    audited.done();
    Ok(session)
}

/// Revokes every live session of the user; how many.
pub async fn revoke_all_sessions(state: &AppState, actor: &Actor, user_id: &str) -> ApiResult<u64> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::SessionsRevoked, Some(user_id)));
    let ended = audited.store().end_user_sessions(user_id, SessionStatus::Revoked, state.now()).await?;
    audited.done();
    Ok(ended)
}

/// What a new user gets from the console.
#[derive(Debug, Clone, Default)]
pub struct NewUser {
    /// The primary email address (verified: an admin vouches for it).
    pub email_address: String,
    /// Given name.
    pub first_name: Option<String>,
    /// Family name.
    pub last_name: Option<String>,
    /// A first password, checked against the policy.
    pub password: Option<String>,
}

/// Creates a user.
pub async fn create_user(state: &AppState, actor: &Actor, new: NewUser) -> ApiResult<UserRecord> {
    let now = state.now();
    let email = validate::email("email_address", &new.email_address)?;
    let password_hash = match new.password.as_deref().filter(|p| !p.is_empty()) {
        Some(p) => Some(state.passwords.hash(state.passwords.normalize(p, false)?).await?),
        None => None,
    };
    let address = IdentifierRecord {
        id: ids::new_id("idn"),
        value: email,
        verified: true,
        strategy: Strategy::Admin,
        created_at: now,
        updated_at: now,
    };
    let user = UserRecord {
        id: ids::new_id("user"),
        first_name: validate::opt_text("first_name", new.first_name.filter(|s| !s.trim().is_empty()))?,
        last_name: validate::opt_text("last_name", new.last_name.filter(|s| !s.trim().is_empty()))?,
        password_updated_at: password_hash.as_ref().map(|_| now),
        password_hash,
        primary_email_address_id: Some(address.id.clone()),
        delete_self_enabled: true,
        create_organization_enabled: true,
        created_at: now,
        updated_at: now,
        emails: vec![address],
        ..UserRecord::default()
    };
    let audited = Audited::new(state, Event::success(actor, AuditAction::UserCreated, Some(&user.id)));
    audited.store().create_user(&user).await?;
    audited.done();
    Ok(user)
}

/// Grants the instance-admin role; `false` if the user had it already.
pub async fn grant_admin(state: &AppState, actor: &Actor, user_id: &str) -> ApiResult<bool> {
    load(state, user_id).await?;
    let audited = Audited::new(state, Event::success(actor, AuditAction::AdminGranted, Some(user_id)));
    let added = audited.store().add_admin(user_id, state.now()).await?;
    audited.done();
    Ok(added)
}

/// Takes the instance-admin role away; `false` if the user did not have it.
pub async fn revoke_admin(state: &AppState, actor: &Actor, user_id: &str) -> ApiResult<bool> {
    let audited = Audited::new(state, Event::success(actor, AuditAction::AdminRevoked, Some(user_id)));
    let removed = audited.store().remove_admin(user_id).await?;
    audited.done();
    Ok(removed)
}

/// Adds a signing key that starts signing in 30 s (published at once, so verifiers that cache
/// the JWKS learn it first); the previous keys stay published until their tokens expire.
pub async fn rotate_signing_key(state: &AppState, actor: &Actor) -> ApiResult<String> {
    let now = state.now();
    let record = state.keys.generate(now, 30_000).await?;
    let audited = Audited::new(state, Event::success(actor, AuditAction::KeyRotated, Some(&record.kid)));
    state.keys.publish(audited.store(), &record).await?;
    audited.done();
    state.keys.reload(state.store.as_ref(), now).await?;
    Ok(record.kid)
}

/// Default lifetime of an actor token (Clerk's): an hour.
pub const ACTOR_TOKEN_LIFETIME_SECS: i64 = 3600;
/// Default longest life of the session an actor token starts (Clerk's): 30 minutes.
pub const ACTOR_SESSION_MAX_SECS: i64 = 1800;

/// An actor token and its secret (shown once).
#[derive(Debug, Clone)]
pub struct IssuedActorToken {
    /// The stored token.
    pub record: SignInTokenRecord,
    /// The secret to redeem as a ticket.
    pub secret: String,
    /// The hosted sign-in page redeeming it.
    pub url: String,
}

/// Issues an actor token: a ticket that signs `actor` in as `user_id` (Clerk's impersonation).
/// `actor` must be an object with a string `sub`.
pub async fn create_actor_token(
    state: &AppState,
    by: &Actor,
    user_id: &str,
    actor: Value,
    expires_in_seconds: Option<i64>,
    session_max_duration: Option<i64>,
) -> ApiResult<IssuedActorToken> {
    let sub_ok = actor.get("sub").and_then(Value::as_str).is_some_and(|s| !s.trim().is_empty() && s.len() <= 256);
    if !actor.is_object() || !sub_ok || actor.to_string().len() > 4096 {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "actor",
            "actor must be an object with a non-empty string sub (the impersonator's id).",
        ));
    }
    let lifetime = expires_in_seconds.unwrap_or(ACTOR_TOKEN_LIFETIME_SECS);
    let max_lifetime = 30 * 24 * 3600;
    if !(1..=max_lifetime).contains(&lifetime) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "expires_in_seconds",
            format!("expires_in_seconds must be between 1 and {max_lifetime}."),
        ));
    }
    let session_max = session_max_duration.unwrap_or(ACTOR_SESSION_MAX_SECS);
    if !(1..=max_lifetime).contains(&session_max) {
        return Err(ApiError::invalid(
            "form_param_value_invalid",
            "session_max_duration_in_seconds",
            format!("session_max_duration_in_seconds must be between 1 and {max_lifetime}."),
        ));
    }
    let user = load(state, user_id).await?;
    if user.banned {
        return Err(ApiError::invalid("user_banned", "user_id", "This user is banned and cannot sign in."));
    }
    let now = state.now();
    // Only the hash is stored, as for sign-in tokens.
    let secret = ids::random_base62(43);
    let record = SignInTokenRecord {
        id: ids::new_id("act"),
        user_id: user.id.clone(),
        token_hash: ids::sha256_hex(secret.as_bytes()),
        status: SignInTokenStatus::Pending,
        expire_at: now + lifetime * 1000,
        created_at: now,
        updated_at: now,
        actor: Some(actor.clone()),
        session_max_duration: Some(session_max),
    };
    let detail = format!("actor {}", actor["sub"].as_str().unwrap_or_default());
    let audited =
        Audited::new(state, Event::success(by, AuditAction::ActorTokenCreated, Some(&user.id)).detail(&detail));
    audited.store().create_sign_in_token(&record).await?;
    audited.done();
    let url = format!("{}/sign-in?__clerk_ticket={secret}", state.issuer);
    Ok(IssuedActorToken { record, secret, url })
}

/// The admin console's "sign in as": an actor token naming the admin as the actor.
pub async fn impersonate(state: &AppState, admin: &UserRecord, user_id: &str) -> ApiResult<IssuedActorToken> {
    if admin.id == user_id {
        return Err(ApiError::invalid("form_param_value_invalid", "user_id", "You cannot impersonate yourself."));
    }
    let actor = json!({"sub": admin.id});
    create_actor_token(state, &Actor::admin(&admin.id), user_id, actor, Some(600), None).await
}

/// Refuses an account that is not an instance admin, or a session started by impersonation
/// (the impersonated account's rights are not the impersonator's to use in the console).
pub async fn ensure_admin(state: &AppState, session: &SessionRecord, user: &UserRecord) -> ApiResult<()> {
    if session.actor.is_none() && state.store.is_admin(&user.id).await? {
        return Ok(());
    }
    let actor = Actor::session(session);
    audit::record(state, Event::failure(&actor, AuditAction::AdminDenied, Some(&user.id), "not_an_admin")).await?;
    Err(ApiError::Forbidden(ClerkError::new(
        "not_an_instance_admin",
        "Not an instance admin",
        "Only instance admins may use the admin console.",
    )))
}
