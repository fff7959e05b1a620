//! `sessions`: the calls behind `clerkClient().sessions`.

use reqwest::Method;
use usher_types::{
    Paginated, Session, Token,
    requests::{CreateSession, TokenOptions},
};

use super::{BackendClient, ClientError, segment};

/// Session calls; from [`BackendClient::sessions`].
///
/// ```no_run
/// # async fn f(client: usher::BackendClient, user_id: &str) -> Result<(), usher::ClientError> {
/// let session = client.sessions().create(user_id).await?;
/// let supabase_jwt = client.sessions().token(&session.id, Some("supabase")).await?;
/// let active = client.sessions().list_for_user(user_id, Some("active"), 10, 0).await?;
/// client.sessions().revoke(&session.id).await?;
/// # let _ = (supabase_jwt, active); Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a>(pub(super) &'a BackendClient);

impl Sessions<'_> {
    /// `POST /v1/sessions`: a new session for a user (for tests and impersonation tools).
    pub async fn create(&self, user_id: &str) -> Result<Session, ClientError> {
        let body = CreateSession { user_id: user_id.to_owned(), active_organization_id: None };
        self.0.send(Method::POST, "/sessions", &[], Some(&body)).await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn get(&self, id: &str) -> Result<Session, ClientError> {
        self.0.send(Method::GET, &format!("/sessions/{}", segment(id)), &[], None::<&()>).await
    }

    /// `GET /v1/sessions?user_id=…&paginated=true`: a user's sessions, newest first, with the
    /// total; `status` filters (`active`, `revoked`, …).
    pub async fn list_for_user(
        &self,
        user_id: &str,
        status: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Paginated<Session>, ClientError> {
        let mut query = vec![
            ("user_id", user_id.to_owned()),
            ("paginated", "true".into()),
            ("limit", limit.to_string()),
            ("offset", offset.to_string()),
        ];
        query.extend(status.map(|s| ("status", s.to_owned())));
        self.0.send(Method::GET, "/sessions", &query, None::<&()>).await
    }

    /// `POST /v1/sessions/{id}/revoke`.
    pub async fn revoke(&self, id: &str) -> Result<Session, ClientError> {
        self.0.send(Method::POST, &format!("/sessions/{}/revoke", segment(id)), &[], None::<&()>).await
    }

    /// `POST /v1/sessions/{id}/tokens[/{template}]`: a fresh session token, or a token from a
    /// JWT template.
    pub async fn token(&self, id: &str, template: Option<&str>) -> Result<String, ClientError> {
        let path = match template {
            Some(t) => format!("/sessions/{}/tokens/{}", segment(id), segment(t)),
            None => format!("/sessions/{}/tokens", segment(id)),
        };
        let token: Token = self.0.send(Method::POST, &path, &[], Some(&TokenOptions::default())).await?;
        Ok(token.jwt)
    }
}
