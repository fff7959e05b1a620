//! Writing the audit log: every entry gets its time, id and the request's client address and
//! `User-Agent` here, so callers only say who did what to whom and how it ended.

use std::sync::Arc;

use crate::{
    error::ApiResult,
    ids,
    state::AppState,
    store::{ActorType, AuditAction, AuditEntry, Outcome, PendingAudit, SessionRecord, Store, request_origin},
};

/// Who acts, as the audit log records them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// What kind of actor.
    pub kind: ActorType,
    /// The acting user (`None` for the secret key and the system).
    pub id: Option<String>,
    /// The impersonator, when the user acts in an impersonation session.
    pub via: Option<String>,
}

impl Actor {
    /// A user acting on their own account (or trying to sign in as it).
    pub fn user(id: Option<&str>) -> Self {
        Self { kind: ActorType::User, id: id.map(str::to_owned), via: None }
    }

    /// The user of a session, marked with its impersonator if it has one.
    pub fn session(session: &SessionRecord) -> Self {
        Self { kind: ActorType::User, id: Some(session.user_id.clone()), via: impersonator(session) }
    }

    /// An instance admin in the console.
    pub fn admin(id: &str) -> Self {
        Self { kind: ActorType::Admin, id: Some(id.to_owned()), via: None }
    }

    /// A Backend API caller.
    pub fn secret_key() -> Self {
        Self { kind: ActorType::SecretKey, id: None, via: None }
    }

    /// An operator at the command line.
    pub fn system() -> Self {
        Self { kind: ActorType::System, id: None, via: None }
    }
}

/// The `sub` of a session's actor (impersonator), if it was started from an actor token.
pub fn impersonator(session: &SessionRecord) -> Option<String> {
    session.actor.as_ref().map(|a| a.get("sub").and_then(|s| s.as_str()).unwrap_or("unknown").to_owned())
}

/// One entry to record.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    /// Who acted.
    pub actor: &'a Actor,
    /// What they did.
    pub action: AuditAction,
    /// To what (`user_…`, `sess_…`).
    pub subject: Option<&'a str>,
    /// How it ended.
    pub outcome: Outcome,
    /// Why it failed.
    pub reason: Option<&'a str>,
    /// A short note; never a secret.
    pub detail: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// A success of `action` on `subject`.
    pub fn success(actor: &'a Actor, action: AuditAction, subject: Option<&'a str>) -> Self {
        Self { actor, action, subject, outcome: Outcome::Success, reason: None, detail: None }
    }

    /// A failure of `action` on `subject`, for `reason`.
    pub fn failure(actor: &'a Actor, action: AuditAction, subject: Option<&'a str>, reason: &'a str) -> Self {
        Self { actor, action, subject, outcome: Outcome::Failure, reason: Some(reason), detail: None }
    }

    /// With a note.
    pub fn detail(mut self, detail: &'a str) -> Self {
        self.detail = Some(detail);
        self
    }
}

/// An audited write: the flow makes its change through [`Audited::store`], whose first
/// changing write appends the entry inside its own transaction, so the change and its entry
/// commit together or not at all (a failed entry fails the write). Entries for what changes
/// nothing (a refusal, a failed sign-in) go through [`record`].
pub struct Audited {
    pending: Arc<PendingAudit>,
    store: Arc<dyn Store>,
}

impl Audited {
    /// The write about to happen, as `event` describes it.
    pub fn new(state: &AppState, event: Event<'_>) -> Self {
        let pending = Arc::new(PendingAudit::new(entry(state, event)));
        Self { store: state.store.audited(pending.clone()), pending }
    }

    /// The store to write through.
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// After the write succeeded: tells a running [`noting`] scope whether its entry was
    /// written (a write that changed nothing wrote none).
    pub fn done(&self) {
        if self.pending.written() {
            noted();
        }
    }
}

/// Appends `event` to the audit log, with the time and the request's origin.
pub async fn record(state: &AppState, event: Event<'_>) -> ApiResult<()> {
    state.store.append_audit(&entry(state, event)).await?;
    noted();
    Ok(())
}

/// Marks the running [`noting`] scope as having recorded an entry (for entries the store
/// writes inside another write's transaction).
pub fn noted() {
    let _ = RECORDED.try_with(|r| r.set(true));
}

/// The entry for `event` now, with the request's origin, for a write to record in its own
/// transaction (then call [`noted`]).
pub fn entry(state: &AppState, event: Event<'_>) -> AuditEntry {
    let origin = request_origin();
    AuditEntry {
        id: ids::new_id("aud"),
        at: state.now(),
        actor_type: event.actor.kind,
        actor_id: event.actor.id.clone(),
        via_actor: event.actor.via.clone(),
        subject_id: event.subject.map(str::to_owned),
        action: event.action,
        outcome: event.outcome,
        reason: event.reason.map(str::to_owned),
        detail: event.detail.map(|d| d.chars().take(500).collect()),
        client_ip: origin.client_ip,
        user_agent: origin.user_agent,
    }
}

/// Removes entries older than the retention period; how many.
pub async fn prune(state: &AppState) -> ApiResult<u64> {
    match state.config.audit_retention {
        Some(keep) => Ok(state.store.prune_audit(state.now() - keep.as_millis() as i64).await?),
        None => Ok(0),
    }
}

tokio::task_local! {
    /// Set by [`record`] while [`noting`] runs: whether the work wrote its own entry.
    static RECORDED: std::cell::Cell<bool>;
}

/// Runs `work`, saying afterwards whether it recorded an audit entry (the Backend API records a
/// generic entry for a write only when the flow it called did not record a named one).
pub async fn noting<F: std::future::Future>(work: F) -> (F::Output, bool) {
    RECORDED
        .scope(std::cell::Cell::new(false), async move {
            let out = work.await;
            (out, RECORDED.with(std::cell::Cell::get))
        })
        .await
}
