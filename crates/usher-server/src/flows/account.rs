//! Rules shared by the flows: finding an account, lockout, starting and ending sessions.

use serde_json::json;
use usher_types::ClerkError;

use super::Browser;
use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{Page, SessionRecord, SessionStatus, UserFilter, UserOrder, UserQuery, UserRecord},
};

/// The user an identifier (an email address or a username) names.
pub async fn find_user(state: &AppState, identifier: &str) -> ApiResult<Option<UserRecord>> {
    let mut filter = UserFilter::default();
    if identifier.contains('@') {
        filter.email_address = vec![identifier.to_owned()];
    } else {
        filter.username = vec![identifier.to_owned()];
    }
    let query =
        UserQuery { filter, order_by: UserOrder::CreatedAt, descending: false, page: Page { limit: 1, offset: 0 } };
    Ok(state.store.list_users(&query).await?.pop())
}

/// `user_locked` (403) with the seconds until the lock lifts, if the user is locked now.
pub fn ensure_unlocked(state: &AppState, user: Option<&UserRecord>) -> ApiResult<()> {
    let now = state.now();
    match user {
        Some(u) if u.is_locked(now) => {
            let until = u.locked_until.unwrap_or(i64::MAX);
            let seconds = if until == i64::MAX { json!(null) } else { json!((until - now + 999) / 1000) };
            let mut error = ClerkError::new(
                "user_locked",
                "Your account is locked",
                "Your account is locked after too many failed attempts. Try again later.",
            );
            error.meta.insert("lockout_expires_in_seconds".into(), seconds);
            Err(ApiError::Forbidden(error))
        }
        _ => Ok(()),
    }
}

/// Counts a failed password or code; the configured number of consecutive failures locks the
/// account for the configured time (or until an admin unlocks it). With no account the same
/// statement runs against an id no user has, so a failure costs the same either way.
pub async fn record_failure(state: &AppState, user: Option<&UserRecord>) -> ApiResult<()> {
    let until = state.config.lockout_duration.map_or(i64::MAX, |d| state.now() + d.as_millis() as i64);
    let id = user.map_or(NO_USER, |u| u.id.as_str());
    // The count read with the attempt says whether this failure is the one that locks
    // (concurrent failures may each think so: the metric and the log then count the lock
    // more than once); the lock is recorded with the failure that makes it.
    let locks = user.filter(|u| u.failed_attempts + 1 >= state.config.lockout_attempts);
    let audited = locks.map(|u| {
        let actor = super::audit::Actor::user(Some(&u.id));
        let event = super::audit::Event::success(&actor, crate::store::AuditAction::UserLocked, Some(&u.id));
        super::audit::Audited::new(state, event.detail("too many failed attempts"))
    });
    let store = audited.as_ref().map_or(state.store.as_ref(), super::audit::Audited::store);
    store.record_failed_attempt(id, state.config.lockout_attempts, until).await?;
    if let Some(audited) = audited {
        state.metrics.lockout();
        audited.done();
    }
    Ok(())
}

/// An id no user has: reads and writes for an identifier without an account use it, so they
/// run the statements a real account's would.
pub const NO_USER: &str = "";

/// `user_banned` (403).
fn banned() -> ApiError {
    ApiError::Forbidden(ClerkError::new(
        "user_banned",
        "Your account is banned",
        "This account is banned and cannot sign in.",
    ))
}

/// A new session for `user` on the browser's client (created if it has none), not yet saved:
/// completing the attempt writes it with the rest of the attempt. Every session a browser gets
/// starts here, so this is where banned and locked accounts are refused, whatever the strategy.
pub async fn new_session(state: &AppState, browser: &mut Browser, user: &UserRecord) -> ApiResult<SessionRecord> {
    if user.banned {
        return Err(banned());
    }
    ensure_unlocked(state, Some(user))?;
    let now = state.now();
    let client = browser.client_mut(state).await?;
    // With a second factor required, every session of a user without one (a sign-in, and a
    // sign-up's new user too) starts pending (Clerk's `setup-mfa` task) until they set one up.
    let status = if state.config.second_factor_required && !user.two_factor_enabled() {
        SessionStatus::Pending
    } else {
        SessionStatus::Active
    };
    Ok(SessionRecord {
        id: ids::new_id("sess"),
        user_id: user.id.clone(),
        client_id: client.id.clone(),
        status,
        actor: None,
        last_active_organization_id: None,
        last_active_at: now,
        expire_at: now + state.config.session_max_lifetime.as_millis() as i64,
        abandon_at: now + state.config.session_inactivity_timeout.as_millis() as i64,
        created_at: now,
        updated_at: now,
        first_factor_at: None,
        second_factor_at: None,
    })
}

/// Ends one session of the browser (`ended`), or every live one with `None`.
pub async fn sign_out(state: &AppState, browser: &mut Browser, session_id: Option<&str>) -> ApiResult<()> {
    end_sessions(state, browser, session_id, SessionStatus::Ended).await
}

/// Ends sessions of the browser with `status` (`ended` for sign-out, `removed` for Clerk's
/// "remove"); the client cookie rotates.
pub async fn end_sessions(
    state: &AppState,
    browser: &mut Browser,
    session_id: Option<&str>,
    status: SessionStatus,
) -> ApiResult<()> {
    let now = state.now();
    let Some(client) = browser.client.as_mut() else { return Ok(()) };
    match session_id {
        Some(id) => {
            state.store.end_session(id, status, now).await?;
        }
        None => {
            state.store.end_client_sessions(&client.id, status, now).await?;
        }
    }
    if session_id.is_none() || client.last_active_session_id.as_deref() == session_id {
        client.last_active_session_id = None;
    }
    client.sign_in_id = None;
    client.sign_up_id = None;
    browser.rotate(state);
    browser.save(state).await
}

/// Activity is recorded at most this often per session: browsers refresh tokens every ~50 s,
/// and a durable write each time would cost more than the token. Against a 7-day inactivity
/// timeout the coarser record is immaterial.
const TOUCH_GRANULARITY_MS: i64 = 5 * 60 * 1000;

/// Records activity: the session stays alive for another inactivity period (never past its
/// maximum lifetime, which [`SessionRecord::is_live`] enforces).
pub async fn touch(state: &AppState, session: &SessionRecord) -> ApiResult<SessionRecord> {
    let now = state.now();
    if now - session.last_active_at < TOUCH_GRANULARITY_MS {
        return Ok(session.clone());
    }
    let abandon_at = now + state.config.session_inactivity_timeout.as_millis() as i64;
    Ok(state.store.touch_session(&session.id, now, abandon_at).await?.unwrap_or_else(|| session.clone()))
}
