//! `jwtTemplates`: the calls behind `clerkClient().jwtTemplates`.

use reqwest::Method;
use usher_types::{DeletedObject, JwtTemplate, Paginated, requests::JwtTemplateParams};

use super::{BackendClient, ClientError, segment};

/// JWT template calls; from [`BackendClient::jwt_templates`].
///
/// ```no_run
/// # async fn f(client: usher::BackendClient, secret: String) -> Result<(), usher::ClientError> {
/// use usher::types::requests::JwtTemplateParams;
/// let template = client.jwt_templates().create(&JwtTemplateParams {
///     name: Some("supabase".into()),
///     claims: Some(serde_json::json!({ "role": "authenticated", "email": "{{user.primary_email_address}}" })),
///     custom_signing_key: Some(true),
///     signing_algorithm: Some("HS256".into()),
///     signing_key: Some(secret),
///     ..Default::default()
/// }).await?;
/// # let _ = template; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct JwtTemplates<'a>(pub(super) &'a BackendClient);

impl JwtTemplates<'_> {
    /// `GET /v1/jwt_templates?paginated=true`.
    pub async fn list(&self) -> Result<Paginated<JwtTemplate>, ClientError> {
        self.0.send(Method::GET, "/jwt_templates", &[("paginated", "true".into())], None::<&()>).await
    }

    /// `GET /v1/jwt_templates/{id}`.
    pub async fn get(&self, id: &str) -> Result<JwtTemplate, ClientError> {
        self.0.send(Method::GET, &format!("/jwt_templates/{}", segment(id)), &[], None::<&()>).await
    }

    /// `POST /v1/jwt_templates`; `name` and `claims` are required.
    pub async fn create(&self, params: &JwtTemplateParams) -> Result<JwtTemplate, ClientError> {
        self.0.send(Method::POST, "/jwt_templates", &[], Some(params)).await
    }

    /// `PATCH /v1/jwt_templates/{id}`; absent fields keep their values.
    pub async fn update(&self, id: &str, params: &JwtTemplateParams) -> Result<JwtTemplate, ClientError> {
        self.0.send(Method::PATCH, &format!("/jwt_templates/{}", segment(id)), &[], Some(params)).await
    }

    /// `DELETE /v1/jwt_templates/{id}`.
    pub async fn delete(&self, id: &str) -> Result<DeletedObject, ClientError> {
        self.0.send(Method::DELETE, &format!("/jwt_templates/{}", segment(id)), &[], None::<&()>).await
    }
}
