//! `users`: the calls behind `clerkClient().users`.

use reqwest::Method;
use serde_json::Value;
use usher_types::{
    DeletedObject, Paginated, TotalCount, User,
    requests::{CreateUser, UpdateUser, UserMetadata, VerifyPassword},
};

use super::{BackendClient, ClientError, segment};

/// User calls; from [`BackendClient::users`].
///
/// ```no_run
/// # async fn f(client: usher::BackendClient, id: &str) -> Result<(), usher::ClientError> {
/// use usher::{client::ListUsers, types::requests::{UpdateUser, UserMetadata}};
/// let page = client.users().list(&ListUsers { query: Some("ada".into()), limit: Some(20), ..Default::default() }).await?;
/// let user = client.users().update(id, &UpdateUser { first_name: Some(Some("Ada".into())), ..Default::default() }).await?;
/// let meta = serde_json::json!({ "plan": "pro" }).as_object().cloned();
/// client.users().update_metadata(&user.id, &UserMetadata { public_metadata: meta, ..Default::default() }).await?;
/// client.users().ban(&user.id).await?;
/// # let _ = page; Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Users<'a>(pub(super) &'a BackendClient);

/// Filters and paging of [`Users::list`]; empty fields do not filter.
#[derive(Debug, Clone, Default)]
pub struct ListUsers {
    /// Any of these email addresses.
    pub email_address: Vec<String>,
    /// Any of these user ids.
    pub user_id: Vec<String>,
    /// Any of these usernames.
    pub username: Vec<String>,
    /// Any of these external ids.
    pub external_id: Vec<String>,
    /// A substring of an identifier, name or id.
    pub query: Option<String>,
    /// `created_at`, `-created_at` (the default), `first_name`, …
    pub order_by: Option<String>,
    /// Page size, 1..=500 (server default 10).
    pub limit: Option<u32>,
    /// Rows to skip.
    pub offset: Option<u32>,
}

impl ListUsers {
    fn filters(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        for (name, values) in [
            ("email_address", &self.email_address),
            ("user_id", &self.user_id),
            ("username", &self.username),
            ("external_id", &self.external_id),
        ] {
            q.extend(values.iter().map(|v| (name, v.clone())));
        }
        if let Some(query) = &self.query {
            q.push(("query", query.clone()));
        }
        q
    }
}

impl Users<'_> {
    /// `GET /v1/users/{id}`.
    pub async fn get(&self, id: &str) -> Result<User, ClientError> {
        self.0.send(Method::GET, &format!("/users/{}", segment(id)), &[], None::<&()>).await
    }

    /// `GET /v1/users` and `GET /v1/users/count`: a page and the total, as `getUserList` gives.
    pub async fn list(&self, params: &ListUsers) -> Result<Paginated<User>, ClientError> {
        let mut query = params.filters();
        let total = self.count_matching(&query).await?;
        query.extend(params.order_by.clone().map(|o| ("order_by", o)));
        query.extend(params.limit.map(|l| ("limit", l.to_string())));
        query.extend(params.offset.map(|o| ("offset", o.to_string())));
        let data = self.0.send(Method::GET, "/users", &query, None::<&()>).await?;
        Ok(Paginated { data, total_count: total })
    }

    /// `GET /v1/users/count` with the filters of `params`.
    pub async fn count(&self, params: &ListUsers) -> Result<i64, ClientError> {
        self.count_matching(&params.filters()).await
    }

    async fn count_matching(&self, query: &[(&str, String)]) -> Result<i64, ClientError> {
        let count: TotalCount = self.0.send(Method::GET, "/users/count", query, None::<&()>).await?;
        Ok(count.total_count)
    }

    /// `POST /v1/users`.
    ///
    /// ```no_run
    /// # async fn f(client: usher::BackendClient) -> Result<(), usher::ClientError> {
    /// use usher::types::requests::CreateUser;
    /// let user = client.users().create(&CreateUser {
    ///     email_address: vec!["ada@example.com".into()],
    ///     password: Some("correct horse battery".into()),
    ///     ..Default::default()
    /// }).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, params: &CreateUser) -> Result<User, ClientError> {
        self.0.send(Method::POST, "/users", &[], Some(params)).await
    }

    /// `PATCH /v1/users/{id}`; absent fields keep their values, `Some(None)` clears one.
    pub async fn update(&self, id: &str, params: &UpdateUser) -> Result<User, ClientError> {
        self.0.send(Method::PATCH, &format!("/users/{}", segment(id)), &[], Some(params)).await
    }

    /// `PATCH /v1/users/{id}/metadata`: deep merge; `null` values remove keys.
    pub async fn update_metadata(&self, id: &str, metadata: &UserMetadata) -> Result<User, ClientError> {
        self.0.send(Method::PATCH, &format!("/users/{}/metadata", segment(id)), &[], Some(metadata)).await
    }

    /// `PUT /v1/users/{id}/metadata`: each given object replaces the stored one.
    pub async fn replace_metadata(&self, id: &str, metadata: &UserMetadata) -> Result<User, ClientError> {
        self.0.send(Method::PUT, &format!("/users/{}/metadata", segment(id)), &[], Some(metadata)).await
    }

    /// `POST /v1/users/{id}/verify_password`: `Ok(true)` when it matches, `Ok(false)` when not.
    pub async fn verify_password(&self, id: &str, password: &str) -> Result<bool, ClientError> {
        let body = VerifyPassword { password: password.to_owned() };
        match self
            .0
            .send::<Value, _>(Method::POST, &format!("/users/{}/verify_password", segment(id)), &[], Some(&body))
            .await
        {
            Ok(answer) => Ok(answer["verified"] == true),
            Err(e) if e.code() == Some("form_password_incorrect") => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// `DELETE /v1/users/{id}`.
    pub async fn delete(&self, id: &str) -> Result<DeletedObject, ClientError> {
        self.0.send(Method::DELETE, &format!("/users/{}", segment(id)), &[], None::<&()>).await
    }

    /// `POST /v1/users/{id}/ban`: also ends the user's sessions.
    pub async fn ban(&self, id: &str) -> Result<User, ClientError> {
        self.action(id, "ban").await
    }

    /// `POST /v1/users/{id}/unban`.
    pub async fn unban(&self, id: &str) -> Result<User, ClientError> {
        self.action(id, "unban").await
    }

    /// `POST /v1/users/{id}/lock`.
    pub async fn lock(&self, id: &str) -> Result<User, ClientError> {
        self.action(id, "lock").await
    }

    /// `POST /v1/users/{id}/unlock`.
    pub async fn unlock(&self, id: &str) -> Result<User, ClientError> {
        self.action(id, "unlock").await
    }

    async fn action(&self, id: &str, action: &str) -> Result<User, ClientError> {
        self.0.send(Method::POST, &format!("/users/{}/{action}", segment(id)), &[], None::<&()>).await
    }
}
