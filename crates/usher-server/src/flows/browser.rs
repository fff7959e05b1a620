//! The browser behind a request: its client, its current session, and its attempts.

use serde::Serialize;

use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{AttemptKind, AttemptRecord, ClientRecord, Completion, SessionRecord, UserRecord},
    tokens::mint_session_token,
};

/// A browser: its client (if its cookie was valid, or once one is created) and the cookie
/// secret to hand it when that changed.
#[derive(Default)]
pub struct Browser {
    /// The client, when the request carried a valid `__client` cookie (or one was created).
    pub client: Option<ClientRecord>,
    /// A new cookie secret to send (the client is new or was rotated).
    new_secret: Option<String>,
    /// The request's `Origin`, which becomes the `azp` of tokens minted for it.
    pub origin: Option<String>,
    /// The session the request says acts (clerk-js's `_clerk_session_id` on `/v1/me…` and
    /// `/v1/organizations…`): when given, it is the current session, and it must be this
    /// client's.
    pub acting_session_id: Option<String>,
    /// The request came from a page on another site, straight to usher over https (clerk-js
    /// without a proxy): the `__client` cookie set for it must be `SameSite=None` or that page's
    /// next request would not carry it.
    pub cross_site: bool,
}

/// The cookie secret is what signs a browser in: never printed.
impl std::fmt::Debug for Browser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Browser")
            .field("client_id", &self.client.as_ref().map(|c| &c.id))
            .field("new_secret", &self.new_secret.as_ref().map(|_| "…"))
            .field("origin", &self.origin)
            .field("acting_session_id", &self.acting_session_id)
            .field("cross_site", &self.cross_site)
            .finish()
    }
}

/// Where an attempt document is kept and how long: its id, creation and abandon times.
pub(crate) type AttemptKey<'a> = (&'a str, i64, i64);

impl Browser {
    /// The browser whose `__client` cookie holds `cookie` (`<client id>.<secret>`). A missing,
    /// malformed, expired or stale cookie reads as no client (never as an error: the browser is
    /// just signed out).
    pub async fn load(state: &AppState, cookie: Option<&str>, origin: Option<String>) -> ApiResult<Self> {
        let mut browser = Self { client: None, new_secret: None, origin, acting_session_id: None, cross_site: false };
        let Some((id, secret)) = cookie.and_then(|v| v.split_once('.')) else { return Ok(browser) };
        if !id.starts_with("client_") || id.len() > 64 {
            return Ok(browser);
        }
        if let Some(client) = state.store.get_client(id).await? {
            let presented = token_hash(secret);
            if ids::secrets_equal(presented.as_bytes(), client.token_hash.as_bytes()) && client.expire_at > state.now()
            {
                browser.client = Some(client);
            }
        }
        Ok(browser)
    }

    /// The cookie secret to send, when it changed in this request.
    pub fn new_secret(&self) -> Option<&str> {
        self.new_secret.as_deref()
    }

    /// The client, created (and saved) if the browser has none yet.
    pub async fn client_mut(&mut self, state: &AppState) -> ApiResult<&mut ClientRecord> {
        if self.client.is_none() {
            let now = state.now();
            let secret = ids::random_base62(32);
            let client = ClientRecord {
                id: ids::new_id("client"),
                token_hash: token_hash(&secret),
                expire_at: now + state.config.session_max_lifetime.as_millis() as i64,
                created_at: now,
                updated_at: now,
                ..ClientRecord::default()
            };
            state.store.create_client(&client).await?;
            self.new_secret = Some(secret);
            self.client = Some(client);
        }
        Ok(self.client.as_mut().expect("set above"))
    }

    /// Replaces the cookie secret (on sign-in and sign-out), so an earlier copy of the cookie
    /// stops working; the caller saves the client.
    pub fn rotate(&mut self, state: &AppState) {
        if let Some(client) = self.client.as_mut() {
            self.new_secret = Some(new_cookie_secret(state, client));
        }
    }

    /// Stores the client's changes.
    pub async fn save(&mut self, state: &AppState) -> ApiResult<()> {
        if let Some(client) = self.client.as_mut() {
            client.updated_at = state.now();
            state.store.save_client(client).await?;
        }
        Ok(())
    }

    /// The id of the session the browser uses, if any (live or not).
    pub fn current_session_id(&self) -> Option<&str> {
        self.client.as_ref().and_then(|c| c.last_active_session_id.as_deref())
    }

    /// The client's live session, if it has one: the one the request names as acting
    /// (`_clerk_session_id`), or else the client's last active one. A named session of another
    /// client (or none at all) is refused with 404, never used, so a page cannot act as a
    /// session whose id it learned elsewhere.
    pub async fn session(&self, state: &AppState) -> ApiResult<Option<SessionRecord>> {
        if let Some(id) = self.acting_session_id.as_deref() {
            let session = self.own_session(state, id).await?;
            return Ok(Some(session).filter(|s| s.is_live(state.now())));
        }
        let Some(id) = self.current_session_id() else { return Ok(None) };
        Ok(state.store.get_session(id).await?.filter(|s| s.is_live(state.now())))
    }

    /// The live session and its user, or 401 `signed_out`.
    pub async fn signed_in(&self, state: &AppState) -> ApiResult<(SessionRecord, UserRecord)> {
        let session = self.session(state).await?.ok_or(ApiError::SignedOut)?;
        let user = state.store.get_user(&session.user_id).await?.ok_or(ApiError::SignedOut)?;
        Ok((session, user))
    }

    /// A session of this client by id (live or not); 401 without a client, 404 for a session
    /// of another client.
    pub async fn own_session(&self, state: &AppState, id: &str) -> ApiResult<SessionRecord> {
        let client = self.client.as_ref().ok_or(ApiError::SignedOut)?;
        match state.store.get_session(id).await? {
            Some(s) if s.client_id == client.id => Ok(s),
            _ => Err(ApiError::NotFound("session")),
        }
    }

    /// A fresh token of the browser's live session (for its `__session` cookie); `None` when
    /// signed out.
    pub async fn session_token(&self, state: &AppState) -> ApiResult<Option<String>> {
        let Some(session) = self.session(state).await? else { return Ok(None) };
        let lifetime = state.config.session_token_lifetime.as_secs() as i64;
        Ok(Some(mint_session_token(state.minter(), &session, lifetime, self.origin.as_deref()).await?))
    }

    /// Stores an attempt of `kind` as a document and makes it the client's current one of
    /// that kind (the client is saved with it, in one transaction, when that changed).
    pub(crate) async fn save_attempt<T: Serialize>(
        &mut self,
        state: &AppState,
        kind: AttemptKind,
        key: AttemptKey<'_>,
        attempt: &T,
    ) -> ApiResult<()> {
        let now = state.now();
        let client = self.client_mut(state).await?;
        let record = attempt_record(&client.id, kind, key, attempt, now)?;
        let current = current_attempt(client, kind);
        let changed = current.as_deref() != Some(key.0);
        if changed {
            *current = Some(key.0.to_owned());
            client.updated_at = now;
        }
        state.store.save_attempt(&record, changed.then_some(&*client)).await?;
        Ok(())
    }

    /// Completes an attempt: `session` (new, for the attempt's user) becomes the browser's one
    /// session, ending the one it had; the cookie secret rotates; the user's sign-in is
    /// recorded; the attempt is saved complete — all in one transaction. A sign-up passes the
    /// user it creates.
    pub(crate) async fn complete_attempt<T: Serialize>(
        &mut self,
        state: &AppState,
        kind: AttemptKind,
        key: AttemptKey<'_>,
        attempt: &T,
        session: &SessionRecord,
        new_user: Option<&UserRecord>,
    ) -> ApiResult<()> {
        self.complete_attempt_linking(state, kind, key, attempt, session, new_user, None, None, None).await
    }

    /// [`Browser::complete_attempt`] that also links a provider account, in the same
    /// transaction; a sign-in passes the user it signs in (`signed_in`).
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn complete_attempt_linking<T: Serialize>(
        &mut self,
        state: &AppState,
        kind: AttemptKind,
        key: AttemptKey<'_>,
        attempt: &T,
        session: &SessionRecord,
        new_user: Option<&UserRecord>,
        new_external_account: Option<&crate::store::ExternalAccountRecord>,
        audit: Option<&crate::store::AuditEntry>,
        signed_in: Option<&UserRecord>,
    ) -> ApiResult<()> {
        let now = state.now();
        // Changed on a copy, so a refused write (a sign-up's address taken meanwhile) leaves the
        // browser as it was.
        let mut client = self.client_mut(state).await?.clone();
        let secret = new_cookie_secret(state, &mut client);
        let replaces = client.last_active_session_id.replace(session.id.clone());
        *current_attempt(&mut client, kind) = Some(key.0.to_owned());
        client.updated_at = now;
        let record = attempt_record(&client.id, kind, key, attempt, now)?;
        let completion = Completion {
            attempt: &record,
            client: &client,
            session,
            replaces: replaces.as_deref().filter(|id| *id != session.id),
            new_user,
            new_external_account,
            audit,
            signed_in,
        };
        state.store.complete_attempt(completion).await?;
        self.client = Some(client);
        self.new_secret = Some(secret);
        Ok(())
    }
}

fn current_attempt(client: &mut ClientRecord, kind: AttemptKind) -> &mut Option<String> {
    match kind {
        AttemptKind::SignIn => &mut client.sign_in_id,
        AttemptKind::SignUp => &mut client.sign_up_id,
    }
}

fn attempt_record<T: Serialize>(
    client_id: &str,
    kind: AttemptKind,
    (id, created_at, abandon_at): AttemptKey<'_>,
    attempt: &T,
    now: i64,
) -> ApiResult<AttemptRecord> {
    Ok(AttemptRecord {
        id: id.to_owned(),
        client_id: client_id.to_owned(),
        kind,
        data: serde_json::to_value(attempt).map_err(|e| ApiError::Internal(e.into()))?,
        expire_at: abandon_at,
        created_at,
        updated_at: now,
    })
}

/// Gives `client` a fresh cookie secret (only its hash is kept) and a full lifetime; returns the
/// secret for the cookie.
fn new_cookie_secret(state: &AppState, client: &mut ClientRecord) -> String {
    let secret = ids::random_base62(32);
    client.token_hash = token_hash(&secret);
    client.expire_at = state.now() + state.config.session_max_lifetime.as_millis() as i64;
    secret
}

/// Cookie secrets are 190 random bits, so a plain hash resists guessing; only the hash is kept.
fn token_hash(secret: &str) -> String {
    ids::sha256_hex(secret.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_prints_the_cookie_secret() {
        let browser = Browser {
            client: Some(ClientRecord { id: "client_1".into(), token_hash: "h".into(), ..ClientRecord::default() }),
            new_secret: Some("s3cr3tS3cr3tS3cr3t".into()),
            origin: None,
            acting_session_id: None,
            cross_site: false,
        };
        let printed = format!("{browser:?}");
        assert!(printed.contains("client_1") && !printed.contains("s3cr3t"), "{printed}");
    }
}
