//! Configuration: one typed struct, from defaults < TOML file < `USHER_…` environment.
//!
//! `usher dev` builds a [`Config`] with everything generated; `usher serve` reads a
//! [`FileConfig`], applies the environment, and [`FileConfig::validate`]s it, refusing to start
//! on anything missing or unsafe.

use std::{fmt, net::SocketAddr, path::PathBuf, time::Duration};

use serde::Deserialize;

pub mod oauth;

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An embedded SQLite file.
    Sqlite(PathBuf),
    /// A `postgres://` URL.
    Postgres(String),
}

impl Database {
    /// Parses `USHER_DATABASE_URL`-style text: `postgres://…`, `postgresql://…` or `sqlite://path`.
    pub fn from_url(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Self::Sqlite(PathBuf::from(path.split('?').next().unwrap_or(path))))
        } else {
            Err("the database URL must start with postgres://, postgresql:// or sqlite://".into())
        }
    }

    /// The sqlx URL.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(path) => format!("sqlite://{}?mode=rwc", path.display()),
            Self::Postgres(url) => url.clone(),
        }
    }
}

/// A secret that never appears in `Debug` output or logs.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret itself; use sparingly.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(****)")
    }
}

/// Everything a running server needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Address to listen on; port 0 picks a free port.
    pub listen: SocketAddr,
    /// Where the data lives.
    pub database: Database,
    /// The Backend API secret key (`sk_test_…`/`sk_live_…`).
    pub secret_key: Secret,
    /// The public URL of this server (the Frontend API and token issuer). `None`: derived from
    /// the bound address (dev).
    pub public_url: Option<String>,
    /// `pk_live_`/`sk_live_` (production) or `pk_test_` (development).
    pub production: bool,
    /// Session token lifetime.
    pub session_token_lifetime: Duration,
    /// A session ends this long after it started.
    pub session_max_lifetime: Duration,
    /// A session ends after this long without activity.
    pub session_inactivity_timeout: Duration,
    /// Password length policy, in characters.
    pub password_min_length: usize,
    /// Password length policy, in characters.
    pub password_max_length: usize,
    /// At most this many Argon2 runs at once.
    pub password_hash_slots: usize,
    /// How often each node re-reads the signing keys.
    pub key_reload_interval: Duration,
    /// Largest accepted request body.
    pub max_body_bytes: usize,
    /// Backend API requests allowed per 10 s (per node; the JWKS is never limited); 0 turns
    /// the limit off (for benchmarks).
    pub backend_requests_per_10s: u32,
    /// Per-IP Frontend API limits (create sign-in/sign-up 5 per 10 s, attempts 3 per 10 s);
    /// off only for tests that sign in many times from one address.
    pub frontend_rate_limits: bool,
    /// Browser origins (`https://app.example.com`) allowed to call the Frontend API with
    /// credentials and to be redirected to after sign-in; usher's own origin always is.
    pub allowed_origins: Vec<String>,
    /// Also allow every `http(s)://localhost:*` and `http(s)://127.0.0.1:*` origin (`usher dev`).
    pub allow_localhost_origins: bool,
    /// Consecutive failed sign-in attempts before a lockout.
    pub lockout_attempts: i64,
    /// How long a lockout lasts; `None` locks until an admin unlocks.
    pub lockout_duration: Option<Duration>,
    /// Sign-in and sign-up never reveal whether an account exists (same answers for both).
    pub enumeration_protection: bool,
    /// Every user must have a second factor: one without gets a `pending` session with Clerk's
    /// `setup-mfa` task (no active session) until they set one up.
    pub second_factor_required: bool,
    /// SMTP delivery; `None` keeps mail in the dev mailbox (`usher dev`).
    pub smtp: Option<SmtpSettings>,
    /// Name shown on hosted pages and in mail.
    pub application_name: String,
    /// `redis://…`: share rate-limit counters between nodes; `None` keeps them per node.
    pub redis_url: Option<Secret>,
    /// Prefix of this instance's Redis keys.
    pub redis_prefix: String,
    /// Social / OpenID Connect sign-in providers, validated.
    pub oauth_providers: Vec<oauth::OAuthProvider>,
    /// A connection that has not sent a whole request head in this long is closed, so slow
    /// clients cannot hold sockets.
    pub header_read_timeout: Duration,
    /// A request body that sends nothing for this long is refused.
    pub body_read_timeout: Duration,
    /// Open connections at most; further clients wait to be accepted.
    pub max_connections: usize,
    /// Open connections from one client address at most (trusted proxies are exempt: they
    /// carry many clients); further ones are closed at once.
    pub max_connections_per_ip: usize,
    /// Proxies (CIDRs) whose `X-Forwarded-For`/`Forwarded` name the client; from anyone else
    /// those headers are ignored.
    pub trusted_proxies: crate::proxies::TrustedProxies,
    /// Outbound webhook delivery.
    pub webhooks: WebhookSettings,
    /// Where pinned copies of Clerk's browser bundles live (`clerk-js/` and `ui/`, filled by
    /// `scripts/clerk-js-assets`), served at `/npm/@clerk/…`; `None` serves none.
    pub clerk_js_dir: Option<std::path::PathBuf>,
    /// Where `/metrics` is served and who may read it.
    pub metrics: MetricsSettings,
    /// Passkeys: the WebAuthn relying-party id (a registrable domain, never an IP address);
    /// `None`: the public URL's host, or `localhost` when there is none (`usher dev`).
    pub passkey_rp_id: Option<String>,
    /// Passkeys: origins besides usher's own and `allowed_origins` whose credentials are accepted.
    pub passkey_origins: Vec<String>,
    /// How long audit-log entries are kept; `None` keeps them forever.
    pub audit_retention: Option<Duration>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP; `None`: plain HTTP
    /// (behind a TLS-terminating proxy, or `usher dev` on loopback).
    pub tls: Option<crate::tls::TlsFiles>,
}

/// Where `/metrics` is served. `usher dev` serves it on the main listener to anyone; `serve`
/// serves it on `metrics_listen` (an address of its own, kept off the public ingress), or
/// with `metrics_token` on the main listener to `Authorization: Bearer <token>` only, and not
/// at all with neither: route counts and queue depths are not for the public.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// A separate listener for `/metrics`.
    pub listen: Option<SocketAddr>,
    /// The bearer token `/metrics` requires (on whichever listener serves it).
    pub token: Option<Secret>,
    /// Serve `/metrics` on the main listener without a token (`usher dev`).
    pub open_on_main_listener: bool,
}

impl MetricsSettings {
    /// Whether the main listener serves `/metrics`.
    pub fn on_main_listener(&self) -> bool {
        self.listen.is_none() && (self.open_on_main_listener || self.token.is_some())
    }
}

/// How webhooks are delivered.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// The wait before each attempt (the first is normally 0); after the last the message is
    /// marked failed. Svix's: 0, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h.
    pub retry_schedule: Vec<Duration>,
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// Allow endpoints on loopback, link-local and private addresses (`usher dev`; off in
    /// `serve` unless configured, against SSRF).
    pub allow_private_addresses: bool,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        let s = Duration::from_secs;
        Self {
            retry_schedule: vec![s(0), s(5), s(300), s(1800), s(7200), s(18_000), s(36_000), s(36_000)],
            timeout: s(15),
            allow_private_addresses: false,
        }
    }
}

impl WebhookSettings {
    /// How often the delivery loop looks for due retries: once a second, or the shortest retry
    /// wait when shorter (tests).
    pub fn poll_interval(&self) -> Duration {
        let shortest = self.retry_schedule.iter().copied().filter(|d| !d.is_zero()).min();
        shortest.unwrap_or(Duration::from_secs(1)).clamp(Duration::from_millis(10), Duration::from_secs(1))
    }

    /// Parses a retry schedule in milliseconds, `0,5000,300000`.
    pub fn parse_schedule_ms(text: &str) -> Result<Vec<Duration>, String> {
        let schedule = text
            .split(',')
            .map(|p| p.trim().parse::<u64>().map(Duration::from_millis))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| format!("{text:?} is not a list of milliseconds like 0,5000,300000"))?;
        if schedule.is_empty() {
            return Err("the retry schedule needs at least one entry".into());
        }
        Ok(schedule)
    }
}

/// Where outgoing mail goes.
#[derive(Debug, Clone)]
pub struct SmtpSettings {
    /// `smtp://host:port`, `smtps://user:pass@host`, …; may carry credentials, so it is a secret.
    pub url: Secret,
    /// The `From` address.
    pub from: String,
}

impl Config {
    /// Defaults around the given essentials.
    pub fn new(listen: SocketAddr, database: Database, secret_key: Secret) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        Self {
            listen,
            database,
            secret_key,
            public_url: None,
            production: false,
            session_token_lifetime: Duration::from_secs(60),
            session_max_lifetime: Duration::from_secs(7 * 24 * 3600),
            session_inactivity_timeout: Duration::from_secs(7 * 24 * 3600),
            password_min_length: 8,
            password_max_length: 128,
            // Argon2id is memory-bound: two runs per core went at 0.74 of the one-at-a-time
            // rate on a 2-core machine, so more slots than cores only add latency. The cores
            // are the ones this process may run on (its CPU affinity, e.g. under `taskset`).
            password_hash_slots: cores,
            key_reload_interval: Duration::from_secs(10),
            max_body_bytes: 256 * 1024,
            backend_requests_per_10s: 1000,
            frontend_rate_limits: true,
            allowed_origins: Vec::new(),
            allow_localhost_origins: false,
            lockout_attempts: 100,
            lockout_duration: Some(Duration::from_secs(3600)),
            enumeration_protection: true,
            second_factor_required: false,
            smtp: None,
            application_name: "usher".to_owned(),
            redis_url: None,
            redis_prefix: "usher".to_owned(),
            oauth_providers: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            body_read_timeout: Duration::from_secs(10),
            max_connections: 4096,
            max_connections_per_ip: 256,
            trusted_proxies: Default::default(),
            webhooks: WebhookSettings::default(),
            clerk_js_dir: None,
            metrics: MetricsSettings::default(),
            passkey_rp_id: None,
            passkey_origins: Vec::new(),
            audit_retention: Some(Duration::from_secs(AUDIT_RETENTION_DAYS * 24 * 3600)),
            tls: None,
        }
    }
}

/// `usher serve`'s TOML file. Unknown keys are an error, so typos do not pass silently.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// Format version; must be 1.
    pub version: Option<u32>,
    /// `ADDR:PORT` to listen on.
    pub listen: Option<String>,
    /// `postgres://…` or `sqlite://path`.
    pub database_url: Option<String>,
    /// Prefer `USHER_SECRET_KEY` in the environment over writing it in the file.
    pub secret_key: Option<String>,
    /// The public `https://` URL of this server.
    pub public_url: Option<String>,
    /// Session token lifetime, seconds.
    pub session_token_lifetime_secs: Option<u64>,
    /// Maximum session lifetime, seconds.
    pub session_max_lifetime_secs: Option<u64>,
    /// Inactivity timeout, seconds.
    pub session_inactivity_timeout_secs: Option<u64>,
    /// Minimum password length.
    pub password_min_length: Option<usize>,
    /// Maximum password length.
    pub password_max_length: Option<usize>,
    /// Allow a plain `http://` public URL (only behind a TLS-terminating proxy on loopback).
    pub allow_insecure_http: Option<bool>,
    /// Backend API requests allowed per 10 s per node (default 1000; Clerk's production limit).
    pub backend_requests_per_10s: Option<u32>,
    /// Browser origins allowed to use the Frontend API and to be redirected to.
    pub allowed_origins: Option<Vec<String>>,
    /// Failed sign-ins before a lockout (default 100, at most 100).
    pub lockout_attempts: Option<i64>,
    /// Lockout length in seconds (default 3600); 0 locks until an admin unlocks.
    pub lockout_secs: Option<u64>,
    /// Same answers for unknown and known accounts (default true).
    pub enumeration_protection: Option<bool>,
    /// Every user must set up a second factor before their session becomes active (default false).
    pub second_factor_required: Option<bool>,
    /// `smtp://…` URL for outgoing mail (prefer USHER_SMTP_URL); required.
    pub smtp_url: Option<String>,
    /// The `From` address of outgoing mail; required.
    pub smtp_from: Option<String>,
    /// Name shown on hosted pages and in mail.
    pub application_name: Option<String>,
    /// `redis://…` to share rate limits between nodes (prefer USHER_REDIS_URL).
    pub redis_url: Option<String>,
    /// Prefix of this instance's Redis keys (default `usher`).
    pub redis_prefix: Option<String>,
    /// Social and OpenID Connect sign-in providers (`[[oauth_providers]]`), secrets from the
    /// environment.
    pub oauth_providers: Option<Vec<oauth::FileProvider>>,
    /// Seconds a client may take to send a request head (default 10).
    pub header_read_timeout_secs: Option<u64>,
    /// Seconds a request body may stay silent (default 10).
    pub body_read_timeout_secs: Option<u64>,
    /// Open connections at most (default 4096).
    pub max_connections: Option<usize>,
    /// Open connections per client address at most (default 256).
    pub max_connections_per_ip: Option<usize>,
    /// CIDRs of proxies whose forwarding headers are believed (default none).
    pub trusted_proxies: Option<Vec<String>>,
    /// Environment values that did not parse, reported by [`FileConfig::validate`].
    #[serde(skip)]
    env_problems: Vec<String>,
    /// Waits before each webhook attempt in ms (default Svix's: 0,5000,300000,…; or
    /// USHER_WEBHOOK_RETRY_SCHEDULE_MS).
    pub webhook_retry_schedule_ms: Option<Vec<u64>>,
    /// Webhook receiver timeout in ms (default 15000; or USHER_WEBHOOK_TIMEOUT_MS).
    pub webhook_timeout_ms: Option<u64>,
    /// Allow webhook endpoints on loopback, link-local and private addresses (default false).
    pub webhook_allow_private_addresses: Option<bool>,
    /// Directory of pinned clerk-js / @clerk/ui bundles to serve at `/npm/@clerk/…`
    /// (`scripts/clerk-js-assets`); default none.
    pub clerk_js_dir: Option<std::path::PathBuf>,
    /// Argon2id runs at once (default one per core; or USHER_PASSWORD_HASH_SLOTS). Argon2id is
    /// memory-bound: more runs than cores share the cores' caches and memory bandwidth, so they
    /// add latency without adding throughput.
    pub password_hash_slots: Option<usize>,
    /// `ADDR:PORT` serving `/metrics` apart from the API (or USHER_METRICS_LISTEN).
    pub metrics_listen: Option<String>,
    /// Bearer token `/metrics` requires; prefer USHER_METRICS_TOKEN. With no `metrics_listen`
    /// it puts `/metrics` on the main listener.
    pub metrics_token: Option<String>,
    /// The WebAuthn relying-party id of passkeys (default: the public URL's host).
    pub passkey_rp_id: Option<String>,
    /// Origins besides usher's own and `allowed_origins` where passkeys are used.
    pub passkey_origins: Option<Vec<String>>,
    /// Days audit-log entries are kept (default 365); 0 keeps them forever.
    pub audit_retention_days: Option<u64>,
    /// PEM certificate chain to serve HTTPS with (or USHER_TLS_CERT); needs `tls_key`.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert` (or USHER_TLS_KEY).
    pub tls_key: Option<PathBuf>,
}

/// Days audit-log entries are kept unless configured otherwise.
pub const AUDIT_RETENTION_DAYS: u64 = 365;

/// Environment variables `usher serve` reads, overriding the file.
pub const ENV_OVERRIDES: [&str; 6] =
    ["USHER_LISTEN", "USHER_DATABASE_URL", "USHER_SECRET_KEY", "USHER_PUBLIC_URL", "USHER_SMTP_URL", "USHER_REDIS_URL"];

/// Environment variables for the connection limits and proxies, overriding the file; numbers
/// as text, `USHER_TRUSTED_PROXIES` comma-separated.
pub const ENV_EDGE_OVERRIDES: [&str; 5] = [
    "USHER_HEADER_READ_TIMEOUT_SECS",
    "USHER_BODY_READ_TIMEOUT_SECS",
    "USHER_MAX_CONNECTIONS",
    "USHER_MAX_CONNECTIONS_PER_IP",
    "USHER_TRUSTED_PROXIES",
];

impl FileConfig {
    /// Parses the TOML text of a config file.
    pub fn parse(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| format!("invalid config file: {e}"))
    }

    /// Applies `USHER_…` variables from `env` (a lookup function, so tests need not touch the
    /// process environment).
    pub fn apply_env(&mut self, env: impl Fn(&str) -> Option<String>) {
        let [listen, db, secret, url, smtp, redis] = ENV_OVERRIDES.map(&env);
        if let Some(text) = env("USHER_WEBHOOK_RETRY_SCHEDULE_MS") {
            self.webhook_retry_schedule_ms = Some(text.split(',').filter_map(|p| p.trim().parse().ok()).collect());
        }
        if let Some(ms) = env("USHER_WEBHOOK_TIMEOUT_MS").and_then(|t| t.parse().ok()) {
            self.webhook_timeout_ms = Some(ms);
        }
        self.metrics_listen = env("USHER_METRICS_LISTEN").or(self.metrics_listen.take());
        self.metrics_token = env("USHER_METRICS_TOKEN").or(self.metrics_token.take());
        self.tls_cert = env("USHER_TLS_CERT").map(PathBuf::from).or(self.tls_cert.take());
        self.tls_key = env("USHER_TLS_KEY").map(PathBuf::from).or(self.tls_key.take());
        self.redis_url = redis.or(self.redis_url.take());
        self.smtp_url = smtp.or(self.smtp_url.take());
        self.listen = listen.or(self.listen.take());
        self.database_url = db.or(self.database_url.take());
        self.secret_key = secret.or(self.secret_key.take());
        self.public_url = url.or(self.public_url.take());
        if let Some(text) = env("USHER_PASSWORD_HASH_SLOTS") {
            match text.trim().parse() {
                Ok(n) => self.password_hash_slots = Some(n),
                Err(_) => {
                    self.env_problems.push(format!("USHER_PASSWORD_HASH_SLOTS must be a whole number, not {text:?}"))
                }
            }
        }
        for provider in self.oauth_providers.iter_mut().flatten() {
            provider.read_secret(&env);
        }
        let [header, body, total, per_ip, proxies] = ENV_EDGE_OVERRIDES.map(&env);
        let mut number = |name: &str, value: Option<String>| -> Option<u64> {
            let value = value?;
            match value.trim().parse() {
                Ok(n) => Some(n),
                Err(_) => {
                    self.env_problems.push(format!("{name} must be a whole number, not {value:?}"));
                    None
                }
            }
        };
        let header = number(ENV_EDGE_OVERRIDES[0], header);
        let body = number(ENV_EDGE_OVERRIDES[1], body);
        let total = number(ENV_EDGE_OVERRIDES[2], total);
        let per_ip = number(ENV_EDGE_OVERRIDES[3], per_ip);
        self.header_read_timeout_secs = header.or(self.header_read_timeout_secs);
        self.body_read_timeout_secs = body.or(self.body_read_timeout_secs);
        self.max_connections = total.map(|n| n as usize).or(self.max_connections);
        self.max_connections_per_ip = per_ip.map(|n| n as usize).or(self.max_connections_per_ip);
        if let Some(list) = proxies {
            self.trusted_proxies =
                Some(list.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect());
        }
    }

    /// Checks everything and builds the runtime config; every problem is reported at once.
    pub fn validate(mut self) -> Result<Config, String> {
        let mut problems = std::mem::take(&mut self.env_problems);
        if self.version.is_some_and(|v| v != 1) {
            problems.push("`version` must be 1".to_owned());
        }
        let listen = self
            .listen
            .as_deref()
            .unwrap_or("0.0.0.0:8787")
            .parse::<SocketAddr>()
            .map_err(|_| "`listen` must be ADDR:PORT".to_owned());
        let database = match self.database_url.as_deref() {
            None => Err("`database_url` (or USHER_DATABASE_URL) is required".to_owned()),
            Some(url) => Database::from_url(url),
        };
        let secret = match self.secret_key.as_deref() {
            None => Err("`secret_key` (or USHER_SECRET_KEY) is required".to_owned()),
            Some(key) => check_secret_key(key).map(|()| Secret::new(key)),
        };
        let public_url = match self.public_url.as_deref() {
            None => {
                Err("`public_url` (or USHER_PUBLIC_URL) is required: the https URL clients reach usher at".to_owned())
            }
            Some(url) if url.starts_with("https://") => Ok(url.trim_end_matches('/').to_owned()),
            Some(url) if url.starts_with("http://") && self.allow_insecure_http == Some(true) => {
                Ok(url.trim_end_matches('/').to_owned())
            }
            Some(_) => {
                Err("`public_url` must be https:// (set allow_insecure_http = true only behind a TLS proxy)".to_owned())
            }
        };
        let min = self.password_min_length.unwrap_or(8);
        let max = self.password_max_length.unwrap_or(128);
        if min < 8 {
            problems.push("`password_min_length` must be at least 8".to_owned());
        }
        if !(64..=crate::password::HARD_MAX_LEN).contains(&max) || max < min {
            problems.push(format!("`password_max_length` must be between 64 and {}", crate::password::HARD_MAX_LEN));
        }
        let token_life = self.session_token_lifetime_secs.unwrap_or(60);
        if !(30..=3600).contains(&token_life) {
            problems.push("`session_token_lifetime_secs` must be between 30 and 3600".to_owned());
        }
        let origins = self.allowed_origins.clone().unwrap_or_default();
        for origin in &origins {
            if crate::origins::parse_origin(origin).is_none() {
                problems.push(format!(
                    "`allowed_origins`: {origin:?} is not an http(s) origin like https://app.example.com"
                ));
            }
        }
        let lockout_attempts = self.lockout_attempts.unwrap_or(100);
        if !(1..=100).contains(&lockout_attempts) {
            problems.push("`lockout_attempts` must be between 1 and 100".to_owned());
        }
        let trusted_proxies = crate::proxies::TrustedProxies::parse(
            self.trusted_proxies.as_deref().unwrap_or_default(),
        )
        .unwrap_or_else(|e| {
            problems.push(format!("`trusted_proxies`: {e}"));
            Default::default()
        });
        let header_read_timeout = self.header_read_timeout_secs.unwrap_or(10);
        let body_read_timeout = self.body_read_timeout_secs.unwrap_or(10);
        for (name, secs) in
            [("header_read_timeout_secs", header_read_timeout), ("body_read_timeout_secs", body_read_timeout)]
        {
            if !(1..=300).contains(&secs) {
                problems.push(format!("`{name}` must be between 1 and 300"));
            }
        }
        if self.password_hash_slots.is_some_and(|n| !(1..=256).contains(&n)) {
            problems.push("`password_hash_slots` must be between 1 and 256".to_owned());
        }
        if self.max_connections == Some(0) || self.max_connections_per_ip == Some(0) {
            problems.push("`max_connections` and `max_connections_per_ip` must be at least 1".to_owned());
        }
        let metrics_listen = match self.metrics_listen.as_deref().map(str::parse::<SocketAddr>) {
            None => None,
            Some(Ok(addr)) => Some(addr),
            Some(Err(_)) => {
                problems.push("`metrics_listen` (or USHER_METRICS_LISTEN) must be ADDR:PORT".to_owned());
                None
            }
        };
        // A guessable token would put the metrics in anyone's reach.
        if self.metrics_token.as_deref().is_some_and(|t| t.len() < 32) {
            problems.push("`metrics_token` (or USHER_METRICS_TOKEN) must be at least 32 characters".to_owned());
        }
        let tls = crate::tls::TlsFiles::pair(self.tls_cert.take(), self.tls_key.take()).unwrap_or_else(|e| {
            problems.push(e);
            None
        });
        if self.redis_url.as_deref().is_some_and(|u| !(u.starts_with("redis://") || u.starts_with("rediss://"))) {
            problems.push("`redis_url` must start with redis:// or rediss://".to_owned());
        }
        let smtp = match (self.smtp_url.clone(), self.smtp_from.clone()) {
            (Some(url), Some(from)) => Some(SmtpSettings { url: Secret::new(url), from }),
            _ => {
                problems.push("`smtp_url` (or USHER_SMTP_URL) and `smtp_from` are required to send codes".to_owned());
                None
            }
        };
        let oauth_providers = match oauth::validate_all(self.oauth_providers.take().unwrap_or_default(), false) {
            Ok(p) => p,
            Err(e) => {
                problems.extend(e);
                Vec::new()
            }
        };
        for result in [
            &listen.as_ref().map(|_| ()),
            &database.as_ref().map(|_| ()),
            &secret.as_ref().map(|_| ()),
            &public_url.as_ref().map(|_| ()),
        ] {
            if let Err(e) = result {
                problems.push(e.to_string());
            }
        }
        if !problems.is_empty() {
            return Err(problems.join("\n"));
        }
        let (Ok(listen), Ok(database), Ok(secret), Ok(public_url)) = (listen, database, secret, public_url) else {
            unreachable!("every error was collected above")
        };
        let mut config = Config::new(listen, database, secret.clone());
        config.production = secret.expose().starts_with("sk_live_");
        config.public_url = Some(public_url);
        config.session_token_lifetime = Duration::from_secs(token_life);
        if let Some(s) = self.session_max_lifetime_secs {
            config.session_max_lifetime = Duration::from_secs(s);
        }
        if let Some(s) = self.session_inactivity_timeout_secs {
            config.session_inactivity_timeout = Duration::from_secs(s);
        }
        config.password_min_length = min;
        config.password_max_length = max;
        if let Some(n) = self.password_hash_slots {
            config.password_hash_slots = n;
        }
        if let Some(n) = self.backend_requests_per_10s {
            config.backend_requests_per_10s = n;
        }
        config.allowed_origins = origins.iter().filter_map(|o| crate::origins::parse_origin(o)).collect();
        config.lockout_attempts = lockout_attempts;
        config.lockout_duration = match self.lockout_secs {
            Some(0) => None,
            Some(s) => Some(Duration::from_secs(s)),
            None => Some(Duration::from_secs(3600)),
        };
        config.enumeration_protection = self.enumeration_protection.unwrap_or(true);
        config.second_factor_required = self.second_factor_required.unwrap_or(false);
        config.smtp = smtp;
        if let Some(name) = self.application_name {
            config.application_name = name;
        }
        config.redis_url = self.redis_url.map(Secret::new);
        config.clerk_js_dir = self.clerk_js_dir;
        if let Some(schedule) = self.webhook_retry_schedule_ms.filter(|s| !s.is_empty()) {
            config.webhooks.retry_schedule = schedule.into_iter().map(Duration::from_millis).collect();
        }
        if let Some(ms) = self.webhook_timeout_ms {
            config.webhooks.timeout = Duration::from_millis(ms);
        }
        config.webhooks.allow_private_addresses = self.webhook_allow_private_addresses.unwrap_or(false);
        config.metrics = MetricsSettings {
            listen: metrics_listen,
            token: self.metrics_token.map(Secret::new),
            open_on_main_listener: false,
        };
        config.audit_retention = match self.audit_retention_days.unwrap_or(AUDIT_RETENTION_DAYS) {
            0 => None,
            days => Some(Duration::from_secs(days.saturating_mul(24 * 3600))),
        };
        if let Some(prefix) = self.redis_prefix {
            config.redis_prefix = prefix;
        }
        config.oauth_providers = oauth_providers;
        config.header_read_timeout = Duration::from_secs(header_read_timeout);
        config.body_read_timeout = Duration::from_secs(body_read_timeout);
        if let Some(n) = self.max_connections {
            config.max_connections = n;
        }
        if let Some(n) = self.max_connections_per_ip {
            config.max_connections_per_ip = n;
        }
        config.trusted_proxies = trusted_proxies;
        config.passkey_rp_id = self.passkey_rp_id;
        config.passkey_origins = self.passkey_origins.unwrap_or_default();
        config.tls = tls;
        Ok(config)
    }
}

/// A secret key must look like Clerk's and carry enough randomness to resist guessing.
pub fn check_secret_key(key: &str) -> Result<(), String> {
    let body = key.strip_prefix("sk_live_").or_else(|| key.strip_prefix("sk_test_"));
    match body {
        None => Err("the secret key must start with sk_live_ or sk_test_".into()),
        Some(b) if b.len() < 32 || !b.bytes().all(|c| c.is_ascii_alphanumeric()) => {
            Err("the secret key must have at least 32 letters or digits after its prefix".into())
        }
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk_live_0123456789abcdef0123456789abcdef";

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| ((*k).into(), (*v).into())).collect();
        move |name| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }

    #[test]
    fn a_complete_file_validates_and_env_overrides_it() {
        let mut file = FileConfig::parse(
            "version = 1\ndatabase_url = \"sqlite:///tmp/u.db\"\npublic_url = \"https://auth.example.com/\"\n\
             smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"",
        )
        .unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_LISTEN", "127.0.0.1:9000")]));
        let config = file.validate().unwrap();
        assert_eq!(config.listen.port(), 9000);
        assert!(config.production);
        assert_eq!(config.public_url.as_deref(), Some("https://auth.example.com"));
        assert!(!format!("{config:?}").contains("0123456789abcdef"), "the secret must not be printed");
    }

    #[test]
    fn missing_and_unsafe_settings_are_all_reported() {
        let mut file = FileConfig::parse("public_url = \"http://auth.example.com\"\npassword_min_length = 4").unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", "sk_live_short")]));
        let err = file.validate().unwrap_err();
        for needle in ["database_url", "secret key", "https", "password_min_length"] {
            assert!(err.contains(needle), "{needle} missing from: {err}");
        }
    }

    #[test]
    fn oauth_providers_come_from_the_file_with_secrets_from_the_environment() {
        let text = "database_url = \"sqlite:///tmp/u.db\"\npublic_url = \"https://auth.example.com\"\n\
             smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"\n\
             [[oauth_providers]]\nstrategy = \"oauth_google\"\nclient_id = \"g\"\n\
             [[oauth_providers]]\nstrategy = \"oauth_custom_corp\"\nclient_id = \"c\"\nissuer = \"http://127.0.0.1:9\"\n";
        let mut file = FileConfig::parse(text).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_OAUTH_GOOGLE_CLIENT_SECRET", "gsecret-value")]));
        let err = file.validate().unwrap_err();
        assert!(err.contains("USHER_OAUTH_CUSTOM_CORP_CLIENT_SECRET") && err.contains("https"), "{err}");
        let mut file =
            FileConfig::parse(text.split("[[oauth_providers]]\nstrategy = \"oauth_custom").next().unwrap()).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_OAUTH_GOOGLE_CLIENT_SECRET", "gsecret-value")]));
        let config = file.validate().unwrap();
        assert_eq!(config.oauth_providers[0].strategy, "oauth_google");
        assert!(!format!("{config:?}").contains("gsecret"));
        assert!(FileConfig::parse("[[oauth_providers]]\nstrategy = \"oauth_google\"\nclient_secret = \"x\"").is_err());
    }

    #[test]
    fn edge_settings_come_from_the_file_and_the_environment() {
        let mut file = FileConfig::parse(
            "database_url = \"sqlite:///tmp/u.db\"\npublic_url = \"https://auth.example.com\"\n\
             smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"\n\
             max_connections = 100\ntrusted_proxies = [\"10.0.0.0/8\"]",
        )
        .unwrap();
        file.apply_env(env(&[
            ("USHER_SECRET_KEY", KEY),
            ("USHER_HEADER_READ_TIMEOUT_SECS", "5"),
            ("USHER_TRUSTED_PROXIES", "192.168.0.0/16, 127.0.0.1"),
        ]));
        let config = file.validate().unwrap();
        assert_eq!(config.max_connections, 100);
        assert_eq!(config.header_read_timeout, Duration::from_secs(5));
        assert!(config.trusted_proxies.contains("192.168.1.2".parse().unwrap()));
        assert!(config.trusted_proxies.contains("127.0.0.1".parse().unwrap()));
        assert!(!config.trusted_proxies.contains("10.1.1.1".parse().unwrap()), "the environment replaces the file");
    }

    #[test]
    fn bad_edge_settings_are_reported() {
        let mut file = FileConfig::parse("trusted_proxies = [\"10.0.0.0/33\"]").unwrap();
        file.apply_env(env(&[("USHER_MAX_CONNECTIONS", "lots")]));
        let err = file.validate().unwrap_err();
        assert!(err.contains("trusted_proxies") && err.contains("USHER_MAX_CONNECTIONS"), "{err}");
    }

    #[test]
    fn the_hash_pool_size_comes_from_the_file_or_the_environment_and_is_bounded() {
        let base = "database_url = \"sqlite:///tmp/u.db\"\npublic_url = \"https://auth.example.com\"\n\
                    smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"\n";
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let mut file = FileConfig::parse(base).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY)]));
        assert_eq!(file.validate().unwrap().password_hash_slots, cores, "one per core by default");
        let mut file = FileConfig::parse(&format!("{base}password_hash_slots = 3")).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY)]));
        assert_eq!(file.validate().unwrap().password_hash_slots, 3);
        let mut file = FileConfig::parse(&format!("{base}password_hash_slots = 3")).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_PASSWORD_HASH_SLOTS", "5")]));
        assert_eq!(file.validate().unwrap().password_hash_slots, 5, "the environment wins");
        for (text, needle) in [("0", "password_hash_slots"), ("many", "USHER_PASSWORD_HASH_SLOTS")] {
            let mut file = FileConfig::parse(base).unwrap();
            file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_PASSWORD_HASH_SLOTS", text)]));
            let err = file.validate().unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
    }

    #[test]
    fn tls_files_come_in_pairs_from_the_file_or_the_environment() {
        let base = "database_url = \"sqlite:///tmp/u.db\"\npublic_url = \"https://auth.example.com\"\n\
                    smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"\n";
        let mut file = FileConfig::parse(&format!("{base}tls_cert = \"/etc/usher/cert.pem\"")).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY), ("USHER_TLS_KEY", "/run/secrets/key.pem")]));
        let tls = file.validate().unwrap().tls.expect("TLS is on");
        assert_eq!(tls.cert, PathBuf::from("/etc/usher/cert.pem"));
        assert_eq!(tls.key, PathBuf::from("/run/secrets/key.pem"));
        let mut file = FileConfig::parse(base).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY)]));
        assert_eq!(file.validate().unwrap().tls, None);
        let mut file = FileConfig::parse(&format!("{base}tls_cert = \"/etc/usher/cert.pem\"")).unwrap();
        file.apply_env(env(&[("USHER_SECRET_KEY", KEY)]));
        let err = file.validate().unwrap_err();
        assert!(err.contains("tls_key"), "{err}");
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(FileConfig::parse("databse_url = \"x\"").is_err());
    }
}
