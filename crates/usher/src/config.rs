//! Configuration, from the same environment variables as Clerk's SDKs or from code.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD_NO_PAD};

/// A missing or malformed setting, reported at startup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("usher configuration: {0}")]
pub struct ConfigError(pub String);

/// Everything the SDK needs. Build it with [`UsherConfig::from_env`] or [`UsherConfig::new`].
#[derive(Clone)]
pub struct UsherConfig {
    /// `CLERK_SECRET_KEY`: `sk_test_…` or `sk_live_…`.
    pub secret_key: String,
    /// `PUBLIC_CLERK_PUBLISHABLE_KEY`: `pk_test_…` or `pk_live_…`, encoding the Frontend API host.
    pub publishable_key: String,
    /// `CLERK_API_URL`: the Backend API, e.g. `http://127.0.0.1:8787` for `usher dev`, or
    /// `https://api.clerk.com` for Clerk itself (the default).
    pub api_url: String,
    /// `CLERK_JWT_KEY`: a PEM public key; when set, verification never touches the network.
    pub jwt_key: Option<String>,
    /// Origins allowed in a token's `azp` (empty: any).
    pub authorized_parties: Vec<String>,
    /// Clock-skew leeway for `exp`, `nbf` and `iat`; at most 5 s.
    pub leeway: Duration,
    /// `PUBLIC_CLERK_SIGN_IN_URL`; default: the hosted sign-in page.
    pub sign_in_url: Option<String>,
    /// `PUBLIC_CLERK_SIGN_UP_URL`; default: the hosted sign-up page.
    pub sign_up_url: Option<String>,
    /// Least time between two JWKS fetches caused by unknown key ids.
    pub jwks_refetch_interval: Duration,
    /// Refuse tokens whose `iss` is not the Frontend API host of the publishable key (default
    /// on; turn off only for set-ups where tokens are issued under another domain).
    pub check_issuer: bool,
    /// The browser side: `usher.js` options and whether pages get it injected.
    pub ui: crate::UiOptions,
}

impl std::fmt::Debug for UsherConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsherConfig")
            .field("publishable_key", &self.publishable_key)
            .field("api_url", &self.api_url)
            .field("jwt_key", &self.jwt_key.is_some())
            .field("authorized_parties", &self.authorized_parties)
            .field("sign_in_url", &self.sign_in_url)
            .finish_non_exhaustive()
    }
}

impl UsherConfig {
    /// A configuration from the two keys and the Backend API URL, with defaults for the rest.
    ///
    /// ```
    /// let mut config = usher::UsherConfig::new("sk_test_x", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://127.0.0.1:8787")?;
    /// config.authorized_parties = vec!["https://app.example.com".into()];
    /// assert_eq!(config.sign_in_url(), "http://127.0.0.1:8787/sign-in");
    /// # Ok::<(), usher::ConfigError>(())
    /// ```
    pub fn new(
        secret_key: impl Into<String>,
        publishable_key: impl Into<String>,
        api_url: impl Into<String>,
    ) -> Result<Self, ConfigError> {
        let config = Self {
            secret_key: secret_key.into(),
            publishable_key: publishable_key.into(),
            api_url: api_url.into().trim_end_matches('/').to_owned(),
            jwt_key: None,
            authorized_parties: Vec::new(),
            leeway: Duration::from_secs(5),
            sign_in_url: None,
            sign_up_url: None,
            jwks_refetch_interval: Duration::from_secs(30),
            check_issuer: true,
            ui: crate::UiOptions::default(),
        };
        config.check()?;
        Ok(config)
    }

    /// Reads `CLERK_SECRET_KEY`, `PUBLIC_CLERK_PUBLISHABLE_KEY`, `CLERK_API_URL`,
    /// `CLERK_JWT_KEY`, `PUBLIC_CLERK_SIGN_IN_URL`, `PUBLIC_CLERK_SIGN_UP_URL`,
    /// `PUBLIC_CLERK_PROXY_URL` (where browsers reach usher) and the
    /// `PUBLIC_CLERK_SIGN_(IN|UP)_FALLBACK_REDIRECT_URL`s.
    ///
    /// ```no_run
    /// let config = usher::UsherConfig::from_env().expect("the Clerk keys are set");
    /// # let _ = config;
    /// ```
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
    }

    /// [`UsherConfig::from_env`] over any lookup function.
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let required = |name: &str| env(name).ok_or_else(|| ConfigError(format!("{name} is not set")));
        let mut config = Self::new(
            required("CLERK_SECRET_KEY")?,
            required("PUBLIC_CLERK_PUBLISHABLE_KEY")?,
            env("CLERK_API_URL").unwrap_or_else(|| "https://api.clerk.com".into()),
        )?;
        config.jwt_key = env("CLERK_JWT_KEY");
        config.sign_in_url = env("PUBLIC_CLERK_SIGN_IN_URL");
        config.sign_up_url = env("PUBLIC_CLERK_SIGN_UP_URL");
        config.ui.frontend_api_url = env("PUBLIC_CLERK_PROXY_URL");
        for (name, target) in [
            ("PUBLIC_CLERK_SIGN_IN_FALLBACK_REDIRECT_URL", &mut config.ui.after_sign_in_url),
            ("PUBLIC_CLERK_SIGN_UP_FALLBACK_REDIRECT_URL", &mut config.ui.after_sign_up_url),
        ] {
            if let Some(url) = env(name) {
                *target = url;
            }
        }
        Ok(config)
    }

    fn check(&self) -> Result<(), ConfigError> {
        if !(self.secret_key.starts_with("sk_test_") || self.secret_key.starts_with("sk_live_")) {
            return Err(ConfigError("CLERK_SECRET_KEY must start with sk_test_ or sk_live_".into()));
        }
        frontend_api_host(&self.publishable_key)?;
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return Err(ConfigError("CLERK_API_URL must be an http(s) URL".into()));
        }
        Ok(())
    }

    /// The Frontend API host decoded from the publishable key.
    pub fn frontend_api(&self) -> String {
        frontend_api_host(&self.publishable_key).unwrap_or_default()
    }

    /// Where signed-out visitors are sent: `sign_in_url`, else the hosted sign-in page (usher's
    /// `/sign-in` when the Backend API serves the Frontend API host, as with usher; Clerk's
    /// Account Portal otherwise).
    pub fn sign_in_url(&self) -> String {
        self.sign_in_url.clone().unwrap_or_else(|| self.hosted_page("sign-in"))
    }

    /// Like [`UsherConfig::sign_in_url`], for sign-up.
    pub fn sign_up_url(&self) -> String {
        self.sign_up_url.clone().unwrap_or_else(|| self.hosted_page("sign-up"))
    }

    fn hosted_page(&self, page: &str) -> String {
        let host = self.frontend_api();
        let api_host = self.api_url.split_once("://").map_or("", |(_, rest)| rest);
        if api_host.trim_end_matches('/') == host {
            format!("{}/{page}", self.api_url)
        } else {
            format!("https://accounts.{}/{page}", host.strip_prefix("clerk.").unwrap_or(&host))
        }
    }
}

/// Decodes `pk_(test|live)_<base64 of "host$">` as Clerk's SDKs do.
pub fn frontend_api_host(publishable_key: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError("PUBLIC_CLERK_PUBLISHABLE_KEY is not a valid publishable key".into());
    let encoded = publishable_key
        .strip_prefix("pk_test_")
        .or_else(|| publishable_key.strip_prefix("pk_live_"))
        .ok_or_else(bad)?;
    let decoded = STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let host = text.strip_suffix('$').ok_or_else(bad)?;
    if host.contains('$') || !host.contains('.') {
        return Err(bad());
    }
    Ok(host.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    }

    #[test]
    fn reads_clerks_variables_and_decodes_the_frontend_host() {
        let config = UsherConfig::from_lookup(env(&[
            ("CLERK_SECRET_KEY", "sk_test_abc"),
            ("PUBLIC_CLERK_PUBLISHABLE_KEY", "pk_test_MTI3LjAuMC4xOjg3ODck"),
            ("CLERK_API_URL", "http://127.0.0.1:8787/"),
        ]))
        .unwrap();
        assert_eq!(config.frontend_api(), "127.0.0.1:8787");
        assert_eq!(config.sign_in_url(), "http://127.0.0.1:8787/sign-in");
        let clerk = UsherConfig::new("sk_live_x", "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k", "https://api.clerk.com").unwrap();
        assert_eq!(clerk.sign_in_url(), "https://accounts.example.com/sign-in");
    }

    #[test]
    fn debug_never_shows_the_secret_key() {
        let config =
            UsherConfig::new(crate::fixtures::SECRET, "pk_test_MTI3LjAuMC4xOjg3ODck", "http://x.example").unwrap();
        let debug = format!("{config:?}");
        crate::fixtures::assert_no_secrets(&debug);
        assert!(debug.contains("pk_test_MTI3LjAuMC4xOjg3ODck"), "{debug}");
    }

    #[test]
    fn missing_or_malformed_keys_are_startup_errors() {
        assert!(
            UsherConfig::from_lookup(env(&[("CLERK_SECRET_KEY", "sk_test_abc")]))
                .unwrap_err()
                .0
                .contains("PUBLIC_CLERK_PUBLISHABLE_KEY")
        );
        assert!(UsherConfig::new("nope", "pk_test_MTI3LjAuMC4xOjg3ODck", "http://x").is_err());
        assert!(UsherConfig::new("sk_test_a", "pk_test_bG9jYWxob3N0JA", "http://x").is_err(), "a host without a dot");
        assert!(UsherConfig::new("sk_test_a", "pk_test_MTI3LjAuMC4xOjg3ODck", "ftp://x").is_err());
    }
}
