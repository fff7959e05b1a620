//! What a person does in a browser: sign up, sign in, stay signed in, manage their account.
//!
//! The Frontend API ([`crate::api::frontend`]) and the hosted pages ([`crate::pages`]) are two
//! faces of these flows; both call the functions here, so there is one implementation of each
//! rule (lockout, codes, enumeration-safe answers, session lifetimes, safe redirects).
//!
//! A browser is a *client*: its `__client` cookie carries the client id and a secret whose hash
//! is stored. The secret is replaced on every sign-in and sign-out, so a captured cookie stops
//! working ([`Browser::rotate`]).

pub mod account;
pub mod codes;
pub mod profile;
pub mod redirect;
pub mod sign_in;
pub mod sign_up;
pub mod view;

use axum::http::{HeaderMap, HeaderValue, header};

use crate::{
    error::{ApiError, ApiResult},
    ids,
    state::AppState,
    store::{ClientRecord, SessionRecord, UserRecord},
};

/// The cookie holding `<client id>.<secret>`.
pub const CLIENT_COOKIE: &str = "__client";
/// The cookie holding the current session token, readable by scripts and sent to apps.
pub const SESSION_COOKIE: &str = "__session";
/// The cookie telling apps when the client last changed (`0` when signed out).
pub const CLIENT_UAT_COOKIE: &str = "__client_uat";

/// The browser behind a request: its client (if its cookie is valid) and what to tell it.
#[derive(Debug, Default)]
pub struct Browser {
    /// The client, when the request carried a valid `__client` cookie (or one was created).
    pub client: Option<ClientRecord>,
    /// A new cookie secret to send (the client is new or was rotated).
    new_secret: Option<String>,
    /// The request's `Origin`, which becomes the `azp` of tokens minted for it.
    pub origin: Option<String>,
    /// The request was made over HTTPS (cookies get `Secure`).
    secure: bool,
}

impl Browser {
    /// Reads the client from the `__client` cookie. A missing, malformed, expired or stale
    /// cookie reads as no client (never as an error: the browser is just signed out).
    pub async fn load(state: &AppState, headers: &HeaderMap) -> ApiResult<Self> {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let secure = state.issuer.starts_with("https://");
        let mut browser = Self { client: None, new_secret: None, origin, secure };
        let Some((id, secret)) = cookie(headers, CLIENT_COOKIE).and_then(|v| v.split_once('.')) else {
            return Ok(browser);
        };
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
            let secret = ids::random_base62(32);
            client.token_hash = token_hash(&secret);
            client.expire_at = state.now() + state.config.session_max_lifetime.as_millis() as i64;
            self.new_secret = Some(secret);
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

    /// The client's live session, if it has one.
    pub async fn session(&self, state: &AppState) -> ApiResult<Option<SessionRecord>> {
        let Some(id) = self.client.as_ref().and_then(|c| c.last_active_session_id.as_deref()) else {
            return Ok(None);
        };
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

    /// `Set-Cookie` values for the response: the client cookie when it changed, and
    /// `__client_uat`/`__session` reflecting `session_token` (the live session's token, if any).
    pub fn cookies(&self, state: &AppState, session_token: Option<&str>) -> Vec<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        let mut out: Vec<String> = Vec::new();
        let Some(client) = &self.client else { return Vec::new() };
        if let Some(secret) = &self.new_secret {
            let max_age = ((client.expire_at - state.now()) / 1000).max(0);
            out.push(format!(
                "{CLIENT_COOKIE}={}.{secret}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}",
                client.id
            ));
        }
        let uat = if session_token.is_some() { client.updated_at / 1000 } else { 0 };
        // Strict, as clerk-js sets it: it only tells same-site pages whether to expect a session.
        out.push(format!("{CLIENT_UAT_COOKIE}={uat}; Path=/; Max-Age=31536000; SameSite=Strict{secure}"));
        match session_token {
            Some(jwt) => {
                let max_age = state.config.session_token_lifetime.as_secs();
                out.push(format!("{SESSION_COOKIE}={jwt}; Path=/; Max-Age={max_age}; SameSite=Lax{secure}"));
            }
            None => out.push(format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; SameSite=Lax{secure}")),
        }
        out.into_iter().filter_map(|c| HeaderValue::from_str(&c).ok()).collect()
    }
}

/// Stores a sign-in or sign-up attempt (`kind`) as a document and makes it the client's
/// current one of that kind.
async fn save_attempt<T: serde::Serialize>(
    state: &AppState,
    browser: &mut Browser,
    kind: &str,
    (id, created_at, abandon_at): (&str, i64, i64),
    attempt: &T,
) -> ApiResult<()> {
    let record = crate::store::AttemptRecord {
        id: id.to_owned(),
        client_id: browser.client_mut(state).await?.id.clone(),
        kind: kind.to_owned(),
        data: serde_json::to_value(attempt).map_err(|e| ApiError::Internal(e.into()))?,
        expire_at: abandon_at,
        created_at,
        updated_at: state.now(),
    };
    state.store.save_attempt(&record).await?;
    let client = browser.client_mut(state).await?;
    let current = if kind == "sign_in" { &mut client.sign_in_id } else { &mut client.sign_up_id };
    if current.as_deref() != Some(id) {
        *current = Some(id.to_owned());
        browser.save(state).await?;
    }
    Ok(())
}

/// Handlers take the browser as an extractor.
impl axum::extract::FromRequestParts<AppState> for Browser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &AppState) -> ApiResult<Self> {
        Self::load(state, &parts.headers).await
    }
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Cookie secrets are 190 random bits, so a plain hash resists guessing; only the hash is kept.
fn token_hash(secret: &str) -> String {
    ids::sha256_hex(secret.as_bytes())
}
