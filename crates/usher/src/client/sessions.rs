//! `sessions`: the calls behind `clerkClient().sessions`.

use reqwest::Method;
use serde_json::json;
use usher_types::{Session, Token};

use super::{BackendClient, ClientError, segment};

/// Session calls; from [`BackendClient::sessions`].
#[derive(Debug, Clone, Copy)]
pub struct Sessions<'a>(pub(super) &'a BackendClient);

impl Sessions<'_> {
    /// `POST /v1/sessions`: a new session for a user (for tests and impersonation tools).
    pub async fn create(&self, user_id: &str) -> Result<Session, ClientError> {
        self.0.send(Method::POST, "/sessions", &[], Some(&json!({"user_id": user_id}))).await
    }

    /// `GET /v1/sessions/{id}`.
    pub async fn get(&self, id: &str) -> Result<Session, ClientError> {
        self.0.send(Method::GET, &format!("/sessions/{}", segment(id)), &[], None::<&()>).await
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
        let token: Token = self.0.send(Method::POST, &path, &[], None::<&()>).await?;
        Ok(token.jwt)
    }
}
