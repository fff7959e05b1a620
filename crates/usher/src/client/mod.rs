//! A typed client for the Backend API (`clerkClient()` in Clerk's SDKs).
//!
//! One private transport and one short method per endpoint, grouped by resource. Responses deserialise into [`usher_types`]; unknown fields and enum values are
//! tolerated, so a newer server (or Clerk's own) does not break this client.

mod organizations;
mod sessions;
mod templates;
mod users;

pub use organizations::{Organizations, PageParams, Roles};
pub use sessions::Sessions;
pub use templates::JwtTemplates;
pub use users::{ListUsers, Users};

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde::{Serialize, de::DeserializeOwned};
use usher_types::{ClerkError, ClerkErrors, Jwks};

/// What a Backend API call can fail with.
///
/// ```no_run
/// # async fn f(client: usher::BackendClient) {
/// match client.users().get("user_123").await {
///     Ok(user) => println!("{:?}", user.first_name),
///     Err(e) if e.is_not_found() => println!("no such user"),
///     Err(usher::ClientError::Api { status, retry_after: Some(wait), .. }) if status == 429 => {
///         println!("rate limited; retry in {wait:?}")
///     }
///     Err(e) => println!("failed: {e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The server answered with an error (4xx or 5xx).
    #[error("Backend API error {status}: {}", errors.first().map_or("", |e| e.message.as_str()))]
    Api {
        /// The HTTP status.
        status: StatusCode,
        /// Clerk's error list.
        errors: Vec<ClerkError>,
        /// The server's trace id for the failed request.
        trace_id: Option<String>,
        /// From `Retry-After`, on 429 and 503.
        retry_after: Option<Duration>,
    },
    /// The request did not complete (connection, timeout, TLS).
    #[error("Backend API unreachable: {0}")]
    Transport(#[from] reqwest::Error),
    /// The answer was not what the endpoint returns.
    #[error("unexpected Backend API answer: {0}")]
    Decode(String),
}

impl ClientError {
    /// The HTTP status of an API error.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The first error code of an API error, e.g. `resource_not_found`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Api { errors, .. } => errors.first().map(|e| e.code.as_str()),
            _ => None,
        }
    }

    /// Whether the resource does not exist (404).
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}

/// The Backend API client; cheap to clone. From [`Usher::client`](crate::Usher::client) or
/// [`Auth::client`](crate::Auth::client), or on its own:
///
/// ```no_run
/// # async fn f() -> Result<(), usher::ClientError> {
/// let client = usher::BackendClient::new("http://127.0.0.1:8787", "sk_test_x", reqwest::Client::new());
/// let page = client.users().list(&Default::default()).await?;
/// println!("{} users", page.total_count);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct BackendClient {
    http: reqwest::Client,
    base: String,
    secret_key: String,
}

impl std::fmt::Debug for BackendClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BackendClient").field("base", &self.base).finish_non_exhaustive()
    }
}

impl BackendClient {
    /// A client for `{api_url}/v1` authenticating with `secret_key`.
    pub fn new(api_url: &str, secret_key: &str, http: reqwest::Client) -> Self {
        Self { http, base: format!("{}/v1", api_url.trim_end_matches('/')), secret_key: secret_key.to_owned() }
    }

    /// Users: get, list, count, create, update, metadata, password check, delete, ban, lock.
    pub fn users(&self) -> Users<'_> {
        Users(self)
    }

    /// Sessions and their tokens.
    pub fn sessions(&self) -> Sessions<'_> {
        Sessions(self)
    }

    /// Organizations, their memberships and invitations.
    pub fn organizations(&self) -> Organizations<'_> {
        Organizations(self)
    }

    /// Organization roles and permissions (`organizationRoles`, `organizationPermissions`).
    pub fn roles(&self) -> Roles<'_> {
        Roles(self)
    }

    /// JWT templates.
    pub fn jwt_templates(&self) -> JwtTemplates<'_> {
        JwtTemplates(self)
    }

    /// The public keys of the instance.
    pub async fn jwks(&self) -> Result<Jwks, ClientError> {
        self.send(Method::GET, "/jwks", &[], None::<&()>).await
    }

    /// Sends one request and decodes the answer or the error.
    pub(crate) async fn send<T: DeserializeOwned, B: Serialize + ?Sized>(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<T, ClientError> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.secret_key)
            .timeout(Duration::from_secs(15))
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request.send().await?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .map(Duration::from_secs);
        let bytes = response.bytes().await?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()));
        }
        let (errors, trace_id) = match serde_json::from_slice::<ClerkErrors>(&bytes) {
            Ok(body) => (body.errors, body.clerk_trace_id),
            Err(_) => {
                (vec![ClerkError::new("unexpected_error", "unexpected error", String::from_utf8_lossy(&bytes))], None)
            }
        };
        Err(ClientError::Api { status, errors, trace_id, retry_after })
    }
}

/// Percent-encodes one path segment (ids are opaque to clients).
pub(crate) fn segment(id: &str) -> String {
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures;

    #[test]
    fn debug_never_shows_the_secret_key() {
        let client = BackendClient::new("http://127.0.0.1:8787", fixtures::SECRET, reqwest::Client::new());
        for debug in [format!("{client:?}"), format!("{:?}", client.users()), format!("{:?}", client.sessions())] {
            fixtures::assert_no_secrets(&debug);
            assert!(debug.contains("http://127.0.0.1:8787/v1"), "{debug}");
        }
    }
}
