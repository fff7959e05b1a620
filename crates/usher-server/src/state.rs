//! The one shared application state.

use std::sync::Arc;

use tokio::sync::Notify;

use crate::{
    clock::Clock,
    config::Config,
    limits::Limits,
    mail::{Mailer, dev::DevMailbox},
    origins::Origins,
    password::Passwords,
    seal::Sealer,
    store::Store,
    tokens::keys::KeyRing,
};

/// What every handler can reach; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

/// The contents of [`AppState`].
pub struct Inner {
    /// The runtime configuration.
    pub config: Config,
    /// Where everything is kept.
    pub store: Arc<dyn Store>,
    /// The instance's signing keys.
    pub keys: KeyRing,
    /// Password policy and hashing.
    pub passwords: Passwords,
    /// The time.
    pub clock: Arc<dyn Clock>,
    /// The public URL of this server; the `iss` of its tokens.
    pub issuer: String,
    /// The publishable key encoding `issuer`'s host.
    pub publishable_key: String,
    /// SHA-256 of the secret key, compared in constant time.
    pub secret_key_digest: [u8; 32],
    /// Rate limits (Backend API, and per IP on the Frontend API).
    pub limits: Limits,
    /// Browser origins allowed to use the Frontend API and to be redirected to.
    pub origins: Origins,
    /// Wakes the outbox worker when mail is queued.
    pub mail_wakeup: Arc<Notify>,
    /// Seals queued mail bodies.
    pub sealer: Arc<Sealer>,
    /// Where queued mail goes (opening sealed bodies first).
    pub mailer: Arc<dyn Mailer>,
    /// The development mailbox (`usher dev` without SMTP), shown at `/dev/mailbox`.
    pub dev_mailbox: Option<Arc<DevMailbox>>,
    /// Wakes the webhook delivery loop when events are written.
    pub webhook_wakeup: Arc<Notify>,
    /// Seals webhook secrets and payloads at rest.
    pub webhook_sealer: Arc<Sealer>,
    /// Prometheus series (served at `/metrics`).
    pub metrics: Arc<crate::metrics::Metrics>,
    /// OAuth providers' discovered metadata and signing keys.
    pub oauth_metadata: crate::oauth_metadata::MetadataCache,
}

impl AppState {
    /// Wraps the parts.
    pub fn new(inner: Inner) -> Self {
        Self { inner: Arc::new(inner) }
    }

    /// Now, in ms since the epoch.
    pub fn now(&self) -> i64 {
        self.inner.clock.now_ms()
    }

    /// What minting tokens needs of the instance, now.
    pub fn minter(&self) -> crate::tokens::Minter<'_> {
        crate::tokens::Minter {
            keys: &self.inner.keys,
            store: self.inner.store.as_ref(),
            issuer: &self.inner.issuer,
            users: self.user_context(),
        }
    }

    /// What users are shown with now: the time and the configured lockout threshold.
    pub fn user_context(&self) -> crate::wire::UserContext {
        crate::wire::UserContext { now: self.now(), lockout_attempts: self.inner.config.lockout_attempts }
    }
}

impl std::ops::Deref for AppState {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}
