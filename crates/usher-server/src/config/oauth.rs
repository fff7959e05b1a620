//! Social and enterprise sign-in providers: OAuth 2.0 (GitHub) and OpenID Connect (Google,
//! Microsoft, Apple, any issuer as `oauth_custom_<key>`).
//!
//! One `[[oauth_providers]]` table per provider in `usher serve`'s file, or one
//! `--oauth-provider 'strategy=…,client_id=…,…'` per provider in `usher dev`. The client secret
//! never comes from the file or the command line: it is read from the environment variable the
//! entry names (`client_secret_env`, default `USHER_OAUTH_<KEY>_CLIENT_SECRET`), so it stays out
//! of files people share and out of `ps` output.

use serde::Deserialize;

use super::Secret;

/// The built-in providers and the generic OpenID Connect one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProviderKind {
    /// `oauth_google`: OpenID Connect at `https://accounts.google.com`.
    Google,
    /// `oauth_github`: OAuth 2.0 plus GitHub's `/user` and `/user/emails` API (no ID token).
    Github,
    /// `oauth_microsoft`: OpenID Connect at `https://login.microsoftonline.com/<tenant>/v2.0`.
    Microsoft,
    /// `oauth_apple`: OpenID Connect at `https://appleid.apple.com`, answers by form post.
    Apple,
    /// `oauth_custom_<key>`: any OpenID Connect provider.
    Custom(String),
}

impl ProviderKind {
    /// The kind a strategy names; `None` for anything else.
    pub fn from_strategy(strategy: &str) -> Option<Self> {
        match strategy {
            "oauth_google" => Some(Self::Google),
            "oauth_github" => Some(Self::Github),
            "oauth_microsoft" => Some(Self::Microsoft),
            "oauth_apple" => Some(Self::Apple),
            other => {
                let key = other.strip_prefix("oauth_custom_")?;
                let valid = (1..=32).contains(&key.len())
                    && key.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_');
                valid.then(|| Self::Custom(key.to_owned()))
            }
        }
    }

    /// The key in the strategy after `oauth_` (`google`, `custom_acme`): Clerk's provider name
    /// without its prefix, used in environment variable names.
    pub fn key(&self) -> String {
        match self {
            Self::Google => "google".into(),
            Self::Github => "github".into(),
            Self::Microsoft => "microsoft".into(),
            Self::Apple => "apple".into(),
            Self::Custom(key) => format!("custom_{key}"),
        }
    }

    /// Whether the provider speaks OpenID Connect (an ID token proves the identity).
    pub fn is_oidc(&self) -> bool {
        !matches!(self, Self::Github)
    }
}

/// Where the provider's endpoints are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoints {
    /// OpenID Connect discovery at `<issuer>/.well-known/openid-configuration`.
    Discovery {
        /// The issuer, exactly as its ID tokens carry it in `iss`.
        issuer: String,
    },
    /// OpenID Connect endpoints given one by one (providers without discovery).
    Explicit {
        /// The ID tokens' `iss`.
        issuer: String,
        /// Where the browser is sent to sign in.
        authorization_url: String,
        /// Where the code is exchanged.
        token_url: String,
        /// The keys that sign ID tokens.
        jwks_url: String,
        /// Optional extra claims.
        userinfo_url: Option<String>,
    },
    /// GitHub's OAuth 2.0 endpoints and REST API base (overridable for GitHub Enterprise and for
    /// the stand-in server the tests run).
    Github {
        /// `https://github.com/login/oauth/authorize`.
        authorization_url: String,
        /// `https://github.com/login/oauth/access_token`.
        token_url: String,
        /// `https://api.github.com`.
        api_url: String,
    },
}

/// One configured provider, validated.
#[derive(Debug, Clone)]
pub struct OAuthProvider {
    /// `oauth_google`, `oauth_custom_acme`, …: the strategy and Clerk's `provider`.
    pub strategy: String,
    /// Which protocol details apply.
    pub kind: ProviderKind,
    /// Shown on buttons ("Continue with {name}").
    pub name: String,
    /// The OAuth client id.
    pub client_id: String,
    /// The OAuth client secret (for Apple, the signed client-secret JWT).
    pub client_secret: Secret,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// Where to reach the provider.
    pub endpoints: Endpoints,
    /// Link a new external account to an existing user with the same email address when the
    /// provider says the address is verified (never when it does not).
    pub link_verified_email: bool,
}

impl OAuthProvider {
    /// The origin of the page the browser is sent to sign in at (for discovery, the issuer's,
    /// where providers keep their authorize endpoint).
    pub fn sign_in_origin(&self) -> Option<String> {
        let url = match &self.endpoints {
            Endpoints::Discovery { issuer } => issuer,
            Endpoints::Explicit { authorization_url, .. } | Endpoints::Github { authorization_url, .. } => {
                authorization_url
            }
        };
        url::Url::parse(url).ok().map(|u| u.origin().ascii_serialization())
    }
}

/// One `[[oauth_providers]]` table (or one `--oauth-provider` spec), before validation.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileProvider {
    /// `oauth_google`, `oauth_github`, `oauth_microsoft`, `oauth_apple` or `oauth_custom_<key>`.
    pub strategy: String,
    /// Button label; defaults to the provider's name (custom providers: the key).
    pub name: Option<String>,
    /// The OAuth client id.
    pub client_id: Option<String>,
    /// The environment variable holding the client secret (default
    /// `USHER_OAUTH_<KEY>_CLIENT_SECRET`).
    pub client_secret_env: Option<String>,
    /// Scopes; defaults per provider.
    pub scopes: Option<Vec<String>>,
    /// OpenID Connect issuer (custom providers; Google, Microsoft and Apple have presets).
    pub issuer: Option<String>,
    /// Explicit endpoints instead of discovery (custom providers), or GitHub overrides.
    pub authorization_url: Option<String>,
    /// See `authorization_url`.
    pub token_url: Option<String>,
    /// See `authorization_url`.
    pub jwks_url: Option<String>,
    /// See `authorization_url`.
    pub userinfo_url: Option<String>,
    /// GitHub's REST API base (GitHub Enterprise: `https://HOST/api/v3`).
    pub api_url: Option<String>,
    /// Microsoft tenant: `common` (default), `organizations`, `consumers` or a tenant id.
    pub tenant: Option<String>,
    /// Link to an existing user by verified email (default true).
    pub link_verified_email: Option<bool>,
    /// The secret, read from the environment by [`FileProvider::read_secret`]; never from the
    /// file.
    #[serde(skip)]
    pub client_secret: Option<Secret>,
}

impl FileProvider {
    /// The environment variable that holds this provider's secret.
    pub fn secret_env_name(&self) -> String {
        self.client_secret_env.clone().unwrap_or_else(|| {
            let key = ProviderKind::from_strategy(&self.strategy)
                .map_or_else(|| self.strategy.trim_start_matches("oauth_").to_owned(), |k| k.key());
            format!("USHER_OAUTH_{}_CLIENT_SECRET", key.to_ascii_uppercase())
        })
    }

    /// Reads the secret from `env`.
    pub fn read_secret(&mut self, env: &impl Fn(&str) -> Option<String>) {
        self.client_secret = env(&self.secret_env_name()).filter(|s| !s.trim().is_empty()).map(Secret::new);
    }

    /// Parses `usher dev`'s `--oauth-provider` text: `key=value` pairs separated by commas,
    /// scopes separated by spaces (`strategy=oauth_custom_test,client_id=usher,
    /// issuer=http://127.0.0.1:3000,scopes=openid email`).
    pub fn parse_spec(spec: &str) -> Result<Self, String> {
        let mut p = Self::default();
        for pair in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (key, value) = pair.split_once('=').ok_or_else(|| format!("{pair:?} is not key=value"))?;
            let value = value.trim().to_owned();
            let slot = match key.trim() {
                "strategy" => {
                    p.strategy = value;
                    continue;
                }
                "scopes" => {
                    p.scopes = Some(value.split_whitespace().map(str::to_owned).collect());
                    continue;
                }
                "link_verified_email" => {
                    p.link_verified_email = Some(match value.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err("link_verified_email must be true or false".into()),
                    });
                    continue;
                }
                "name" => &mut p.name,
                "client_id" => &mut p.client_id,
                "client_secret_env" => &mut p.client_secret_env,
                "issuer" => &mut p.issuer,
                "authorization_url" => &mut p.authorization_url,
                "token_url" => &mut p.token_url,
                "jwks_url" => &mut p.jwks_url,
                "userinfo_url" => &mut p.userinfo_url,
                "api_url" => &mut p.api_url,
                "tenant" => &mut p.tenant,
                "client_secret" => {
                    return Err("the client secret is read from the environment (client_secret_env), never from the command line".into());
                }
                other => return Err(format!("unknown key {other:?}")),
            };
            *slot = Some(value);
        }
        Ok(p)
    }

    /// Checks one entry; `dev` also allows `http://` issuers on loopback.
    pub fn validate(self, dev: bool) -> Result<OAuthProvider, Vec<String>> {
        let mut problems = Vec::new();
        let label = format!("oauth provider {:?}", self.strategy);
        let Some(kind) = ProviderKind::from_strategy(&self.strategy) else {
            return Err(vec![format!(
                "{label}: unknown strategy; use oauth_google, oauth_github, oauth_microsoft, oauth_apple or oauth_custom_<key> (a-z, 0-9, _)"
            )]);
        };
        let client_id = self.client_id.clone().filter(|c| !c.trim().is_empty());
        if client_id.is_none() {
            problems.push(format!("{label}: `client_id` is required"));
        }
        if self.client_secret.is_none() {
            problems.push(format!("{label}: the client secret is missing: set {}", self.secret_env_name()));
        }
        let mut bad_urls = Vec::new();
        let mut url = |field: &str, value: &str| {
            if let Err(e) = check_url(value, dev) {
                bad_urls.push(format!("{label}: `{field}` {e}"));
            }
            value.trim_end_matches('/').to_owned()
        };
        let explicit = [&self.authorization_url, &self.token_url, &self.jwks_url];
        let endpoints = match &kind {
            ProviderKind::Github => Endpoints::Github {
                authorization_url: url(
                    "authorization_url",
                    self.authorization_url.as_deref().unwrap_or("https://github.com/login/oauth/authorize"),
                ),
                token_url: url(
                    "token_url",
                    self.token_url.as_deref().unwrap_or("https://github.com/login/oauth/access_token"),
                ),
                api_url: url("api_url", self.api_url.as_deref().unwrap_or("https://api.github.com")),
            },
            ProviderKind::Custom(_) => match (&self.issuer, explicit) {
                (None, _) => {
                    problems.push(format!("{label}: `issuer` is required (discovery, or with explicit endpoints)"));
                    Endpoints::Discovery { issuer: String::new() }
                }
                (Some(issuer), [None, None, None]) => Endpoints::Discovery { issuer: url("issuer", issuer) },
                (Some(issuer), [Some(a), Some(t), Some(j)]) => Endpoints::Explicit {
                    issuer: url("issuer", issuer),
                    authorization_url: url("authorization_url", a),
                    token_url: url("token_url", t),
                    jwks_url: url("jwks_url", j),
                    userinfo_url: self.userinfo_url.as_deref().map(|u| url("userinfo_url", u)),
                },
                _ => {
                    problems.push(format!(
                        "{label}: explicit endpoints need all of `authorization_url`, `token_url` and `jwks_url`"
                    ));
                    Endpoints::Discovery { issuer: String::new() }
                }
            },
            preset => {
                let default = match preset {
                    ProviderKind::Google => "https://accounts.google.com".to_owned(),
                    ProviderKind::Apple => "https://appleid.apple.com".to_owned(),
                    _ => {
                        let tenant = self.tenant.as_deref().unwrap_or("common");
                        if !tenant.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.') {
                            problems.push(format!("{label}: `tenant` must be a tenant id or name"));
                        }
                        format!("https://login.microsoftonline.com/{tenant}/v2.0")
                    }
                };
                Endpoints::Discovery { issuer: url("issuer", self.issuer.as_deref().unwrap_or(&default)) }
            }
        };
        problems.extend(bad_urls);
        let scopes = self.scopes.clone().unwrap_or_else(|| default_scopes(&kind));
        if kind.is_oidc() && !scopes.iter().any(|s| s == "openid") {
            problems.push(format!("{label}: OpenID Connect providers need the `openid` scope"));
        }
        if scopes.iter().any(|s| s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control())) {
            problems.push(format!("{label}: scopes must not contain spaces"));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let name = self.name.clone().unwrap_or_else(|| default_name(&kind));
        Ok(OAuthProvider {
            strategy: self.strategy,
            kind,
            name,
            client_id: client_id.unwrap_or_default(),
            client_secret: self.client_secret.unwrap_or_else(|| Secret::new("")),
            scopes,
            endpoints,
            link_verified_email: self.link_verified_email.unwrap_or(true),
        })
    }
}

/// Validates every entry and refuses duplicates; every problem at once.
pub fn validate_all(entries: Vec<FileProvider>, dev: bool) -> Result<Vec<OAuthProvider>, Vec<String>> {
    let mut problems = Vec::new();
    let mut providers: Vec<OAuthProvider> = Vec::new();
    for entry in entries {
        match entry.validate(dev) {
            Ok(p) if providers.iter().any(|q| q.strategy == p.strategy) => {
                problems.push(format!("oauth provider {:?} is configured twice", p.strategy));
            }
            Ok(p) => providers.push(p),
            Err(e) => problems.extend(e),
        }
    }
    if problems.is_empty() { Ok(providers) } else { Err(problems) }
}

fn default_scopes(kind: &ProviderKind) -> Vec<String> {
    let scopes: &[&str] = match kind {
        ProviderKind::Github => &["read:user", "user:email"],
        ProviderKind::Apple => &["openid", "email", "name"],
        _ => &["openid", "email", "profile"],
    };
    scopes.iter().map(|s| (*s).to_owned()).collect()
}

fn default_name(kind: &ProviderKind) -> String {
    match kind {
        ProviderKind::Google => "Google".into(),
        ProviderKind::Github => "GitHub".into(),
        ProviderKind::Microsoft => "Microsoft".into(),
        ProviderKind::Apple => "Apple".into(),
        ProviderKind::Custom(key) => key.clone(),
    }
}

/// `https://` (or, in dev, `http://` on loopback), with a host and no userinfo or fragment.
fn check_url(text: &str, dev: bool) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL"))?;
    if !url.username().is_empty() || url.password().is_some() || url.fragment().is_some() || url.host().is_none() {
        return Err(format!("{text:?} must be a plain https:// URL"));
    }
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match url.scheme() {
        "https" => Ok(()),
        "http" if dev && loopback => Ok(()),
        "http" if loopback => Err(format!("{text:?} must be https:// (http:// on loopback only in `usher dev`)")),
        _ => Err(format!("{text:?} must be https://")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(text: &str) -> FileProvider {
        let mut p = FileProvider::parse_spec(text).unwrap();
        p.read_secret(&|name: &str| {
            (name == "USHER_OAUTH_CUSTOM_TEST_CLIENT_SECRET" || name == "MY_SECRET").then(|| "s3cret-value".to_owned())
        });
        p
    }

    #[test]
    fn a_custom_provider_validates_and_never_prints_its_secret() {
        let p = entry("strategy=oauth_custom_test,client_id=usher,issuer=https://id.example.com/,name=Test ID")
            .validate(false)
            .unwrap();
        assert_eq!(p.endpoints, Endpoints::Discovery { issuer: "https://id.example.com".into() });
        assert_eq!(p.scopes, ["openid", "email", "profile"]);
        assert_eq!(p.name, "Test ID");
        assert_eq!(p.client_secret.expose(), "s3cret-value");
        assert!(!format!("{p:?}").contains("s3cret"));
    }

    #[test]
    fn bad_entries_are_refused_clearly() {
        let err = |spec: &str, dev: bool| entry(spec).validate(dev).unwrap_err().join("\n");
        assert!(err("strategy=oauth_myspace,client_id=x", false).contains("unknown strategy"));
        assert!(
            err("strategy=oauth_custom_other,client_id=x,issuer=https://a.example", false)
                .contains("USHER_OAUTH_CUSTOM_OTHER_CLIENT_SECRET")
        );
        assert!(err("strategy=oauth_custom_test,client_id=x,issuer=http://127.0.0.1:3000", false).contains("https"));
        assert!(err("strategy=oauth_custom_test,client_id=x,issuer=http://id.example.com", true).contains("https"));
        assert!(err("strategy=oauth_custom_test,client_id=x", false).contains("issuer"));
        assert!(
            err("strategy=oauth_custom_test,client_id=x,issuer=https://a.example,scopes=email", false)
                .contains("openid")
        );
        assert!(FileProvider::parse_spec("strategy=oauth_google,client_secret=x").is_err());
        entry("strategy=oauth_custom_test,client_id=x,issuer=http://127.0.0.1:3000").validate(true).unwrap();
    }

    #[test]
    fn presets_and_duplicates() {
        let github = entry("strategy=oauth_github,client_id=x,client_secret_env=MY_SECRET").validate(false).unwrap();
        assert!(
            matches!(github.endpoints, Endpoints::Github { ref api_url, .. } if api_url == "https://api.github.com")
        );
        assert_eq!(github.name, "GitHub");
        let ms = entry("strategy=oauth_microsoft,client_id=x,client_secret_env=MY_SECRET").validate(false).unwrap();
        assert_eq!(
            ms.endpoints,
            Endpoints::Discovery { issuer: "https://login.microsoftonline.com/common/v2.0".into() }
        );
        let twice = vec![
            entry("strategy=oauth_custom_test,client_id=x,issuer=https://a.example"),
            entry("strategy=oauth_custom_test,client_id=y,issuer=https://b.example"),
        ];
        assert!(validate_all(twice, false).unwrap_err().join("").contains("twice"));
    }
}
