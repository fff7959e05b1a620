//! [`Usher`], the SDK instance: configuration, verifier and Backend API client in one handle.

use std::sync::Arc;

#[cfg(feature = "axum")]
use crate::UsherLayer;
use crate::{Auth, BackendClient, ConfigError, UsherConfig, Verifier};

/// The SDK: configuration, verifier and Backend API client; cheap to clone. Build one at
/// startup and share it (the JWKS cache and the HTTP connection pool live in it).
///
/// ```no_run
/// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
/// let usher = usher::Usher::new(usher::UsherConfig::from_env()?)?;
/// // Outside axum: authenticate a token yourself.
/// let auth = usher.authenticate(Some("eyJ…"), "https://app.example.com/".into()).await;
/// println!("signed in: {}", auth.is_authenticated());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Usher {
    inner: Arc<Inner>,
}

/// Shows the configuration, the verifier and the client, each without the secret key.
impl std::fmt::Debug for Usher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Usher")
            .field("config", &self.inner.config)
            .field("verifier", &self.inner.verifier)
            .field("client", &self.inner.client)
            .finish()
    }
}

struct Inner {
    config: UsherConfig,
    verifier: Verifier,
    client: BackendClient,
}

impl Usher {
    /// Builds the SDK from a configuration.
    ///
    /// ```
    /// let config = usher::UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787")?;
    /// let usher = usher::Usher::new(config)?;
    /// assert_eq!(usher.config().frontend_api(), "127.0.0.1:8787");
    /// # Ok::<(), usher::ConfigError>(())
    /// ```
    pub fn new(config: UsherConfig) -> Result<Self, ConfigError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!("usher-rs/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError(format!("HTTP client: {e}")))?;
        let verifier = match &config.jwt_key {
            Some(pem) => Verifier::from_pem(pem).map_err(ConfigError)?,
            None => Verifier::remote(&config.api_url, &config.secret_key, http.clone(), config.jwks_refetch_interval),
        }
        .leeway(config.leeway)
        .authorized_parties(config.authorized_parties.clone());
        let verifier = if config.check_issuer { verifier.issuer_host(config.frontend_api()) } else { verifier };
        let client = BackendClient::new(&config.api_url, &config.secret_key, http);
        Ok(Self { inner: Arc::new(Inner { config, verifier, client }) })
    }

    /// The configuration.
    pub fn config(&self) -> &UsherConfig {
        &self.inner.config
    }

    /// The Backend API client (`clerkClient()`).
    pub fn client(&self) -> &BackendClient {
        &self.inner.client
    }

    /// The token verifier.
    pub fn verifier(&self) -> &Verifier {
        &self.inner.verifier
    }

    /// The tower layer that authenticates requests and, unless `config.ui.inject_script` is off,
    /// adds `usher.js` to HTML pages.
    #[cfg(feature = "axum")]
    pub fn layer(&self) -> UsherLayer {
        UsherLayer::new(self.clone())
    }

    /// Authenticates a request's token; any refusal is "signed out", with the reason kept.
    pub async fn authenticate(&self, token: Option<&str>, request_url: String) -> Auth {
        let Some(token) = token else { return Auth::signed_out(self.clone(), request_url, None) };
        match self.inner.verifier.verify_shared(token).await {
            Ok((token, claims)) => Auth::signed_in(self.clone(), request_url, token, claims),
            Err(e) => {
                tracing::debug!(reason = %e, "usher: token refused");
                Auth::signed_out(self.clone(), request_url, Some(e.to_string()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures;

    #[test]
    fn debug_never_shows_the_secret_key() {
        let debug = format!("{:?}", fixtures::usher());
        fixtures::assert_no_secrets(&debug);
        assert!(debug.contains("127.0.0.1:8787") && debug.contains("Verifier"), "{debug}");
    }
}
