//! The `usher` commands: `dev`, `serve`, `rotate-key`, `jwt-public-key`.

use std::{
    io::Write as _,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::{
    App,
    clock::{Clock, SystemClock},
    config::{Config, Database, FileConfig, Secret, WebhookSettings, check_secret_key},
    ids,
    seal::Sealer,
    store::{SqlStore, Store},
    tokens::keys::{self, KeyRing},
};

/// Self-hosted authentication, wire-compatible with Clerk.
#[derive(Debug, Parser)]
#[command(name = "usher", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a development server on an embedded SQLite database; nothing to configure.
    Dev(DevArgs),
    /// Run a production server from a TOML config file and USHER_… environment variables.
    Serve {
        /// The config file.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Add a new signing key; the current one stays published until its tokens expire.
    RotateKey {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
        /// Seconds before the new key starts signing (it is published at once).
        #[arg(long, default_value_t = 30)]
        activate_in: u32,
    },
    /// Print the public key that verifies session tokens, in PEM (the value of CLERK_JWT_KEY).
    JwtPublicKey {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
    },
    /// Manage outbound webhook endpoints.
    Webhooks {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
        /// What to do.
        #[command(subcommand)]
        command: WebhookCommand,
    },
}

/// `usher webhooks …`.
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Add an endpoint and print its id and signing secret (shown once).
    Add {
        /// Where to POST events (http or https).
        url: String,
        /// Event types to send, comma-separated (default: all).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// Free text.
        #[arg(long, default_value = "")]
        description: String,
        /// Allow a loopback, link-local or private address (a local receiver).
        #[arg(long)]
        allow_private_addresses: bool,
    },
    /// List the endpoints.
    List,
    /// Give an endpoint a new secret; the old one keeps signing for 24 hours.
    RotateSecret {
        /// `ep_…`.
        id: String,
    },
    /// Send a message again (to every endpoint that had it, or to one).
    Replay {
        /// `msg_…`.
        message_id: String,
        /// Only to this endpoint (`ep_…`).
        #[arg(long)]
        endpoint: Option<String>,
    },
}

/// Where `usher dev` keeps its data and listens.
#[derive(Debug, Args)]
pub struct DevArgs {
    /// Where the data lives.
    #[command(flatten)]
    pub data: DataArgs,
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8787")]
    pub listen: SocketAddr,
    /// Backend API requests allowed per 10 s; 0 turns the limit off (benchmarks).
    #[arg(long, env = "USHER_BACKEND_RATE_LIMIT", default_value_t = 1000)]
    pub backend_rate_limit: u32,
    /// Per-IP Frontend API limits (create 5 / attempt 3 per 10 s); `--fapi-rate-limit false`
    /// turns them off (tests).
    // `Set`: a bool field is otherwise a value-less flag, and `false` would be refused.
    #[arg(long, env = "USHER_FAPI_RATE_LIMIT", default_value = "true", value_parser = parse_switch, action = clap::ArgAction::Set, value_name = "true|false")]
    pub fapi_rate_limit: bool,
    /// Session token lifetime in seconds (shorten it to watch refreshes).
    #[arg(long, env = "USHER_SESSION_TOKEN_LIFETIME", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub session_token_lifetime: u64,
    /// Extra browser origins allowed besides any http://localhost:* and http://127.0.0.1:*.
    #[arg(long = "allowed-origin", env = "USHER_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub allowed_origins: Vec<String>,
    /// Waits before each webhook attempt in ms, comma-separated (default Svix's schedule,
    /// 0,5000,300000,1800000,…); shorter in tests.
    #[arg(long, env = "USHER_WEBHOOK_RETRY_SCHEDULE_MS")]
    pub webhook_retry_schedule_ms: Option<String>,
    /// Webhook receiver timeout in ms (default 15000).
    #[arg(long, env = "USHER_WEBHOOK_TIMEOUT_MS")]
    pub webhook_timeout_ms: Option<u64>,
    /// Share rate limits with other nodes through this Redis.
    #[arg(long, env = "USHER_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// A sign-in provider, repeatable: `strategy=oauth_custom_test,client_id=usher,
    /// issuer=http://127.0.0.1:3000,scopes=openid email profile`; its secret comes from
    /// `USHER_OAUTH_<KEY>_CLIENT_SECRET` (or the variable `client_secret_env=` names).
    #[arg(long = "oauth-provider", env = "USHER_OAUTH_PROVIDERS", value_delimiter = ';', value_name = "SPEC")]
    pub oauth_providers: Vec<String>,
    /// Issue a `pk_live_` publishable key, so that Clerk's own SDKs (`@clerk/backend`, clerk-js)
    /// treat the instance as production: no dev-browser handshake. See docs/clerk-js.md.
    #[arg(long, env = "USHER_LIVE_KEYS", default_value = "false", value_parser = parse_switch, action = clap::ArgAction::Set, value_name = "true|false")]
    pub live_keys: bool,
    /// Serve the pinned clerk-js and @clerk/ui bundles in this directory at /npm/@clerk/…
    /// (fill it with scripts/clerk-js-assets).
    #[arg(long, env = "USHER_CLERK_JS_DIR")]
    pub clerk_js_dir: Option<PathBuf>,
    /// Argon2id runs at once (default: one per core this process may run on).
    #[arg(long, env = "USHER_PASSWORD_HASH_SLOTS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub password_hash_slots: Option<u16>,
}

/// `true`/`1`/`on` or `false`/`0`/`off`.
fn parse_switch(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" => Ok(true),
        "false" | "0" | "off" | "no" => Ok(false),
        _ => Err(format!("expected true or false, got {text:?}")),
    }
}

/// The data directory, or a database URL.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Directory for the SQLite database and the development secret key.
    #[arg(long, default_value = ".usher")]
    pub data_dir: PathBuf,
    /// A postgres:// URL instead of the embedded SQLite database.
    #[arg(long, env = "USHER_DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
}

impl DataArgs {
    /// The store and its signing keys, opened with the secret key: `USHER_SECRET_KEY`, else
    /// the development key in the data directory.
    async fn key_ring(&self) -> anyhow::Result<(SqlStore, KeyRing)> {
        let secret = self.secret_key()?;
        let store = SqlStore::open(&self.database()?.url()).await?;
        let sealer = Sealer::new(&secret, keys::SEAL_PURPOSE);
        let ring = KeyRing::load(&store, SystemClock.now_ms(), sealer).await?;
        Ok((store, ring))
    }

    /// The secret key secrets are sealed under: `USHER_SECRET_KEY`, else the development key in
    /// the data directory.
    fn secret_key(&self) -> anyhow::Result<String> {
        Ok(match std::env::var("USHER_SECRET_KEY") {
            Ok(key) => key,
            Err(_) if self.database_url.is_none() => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating {}", self.data_dir.display()))?;
                dev_secret_key(&self.data_dir)?
            }
            Err(_) => bail!("USHER_SECRET_KEY is required: the signing keys are sealed under it"),
        })
    }

    fn database(&self) -> anyhow::Result<Database> {
        match &self.database_url {
            Some(url) => Database::from_url(url).map_err(anyhow::Error::msg),
            None => {
                std::fs::create_dir_all(&self.data_dir)
                    .with_context(|| format!("creating {}", self.data_dir.display()))?;
                Ok(Database::Sqlite(self.data_dir.join("usher.db")))
            }
        }
    }
}

/// Runs a parsed command line until it finishes (or, for servers, until Ctrl-C / SIGTERM).
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Dev(args) => dev(args).await,
        Command::Serve { config } => serve(&config).await,
        Command::RotateKey { data, activate_in } => {
            let (store, ring) = data.key_ring().await?;
            let record = ring.rotate(&store, SystemClock.now_ms(), i64::from(activate_in) * 1000).await?;
            println!(
                "new signing key {} signs in {activate_in} s; the previous key stays published until its tokens expire",
                record.kid
            );
            Ok(())
        }
        Command::JwtPublicKey { data } => {
            let (_, ring) = data.key_ring().await?;
            print!("{}", ring.signer().public_pem());
            Ok(())
        }
        Command::Webhooks { data, command } => webhooks(&data, command).await,
    }
}

async fn webhooks(data: &DataArgs, command: WebhookCommand) -> anyhow::Result<()> {
    use crate::webhooks::endpoints::{self, EndpointChange, EndpointError};
    let sealer = Sealer::new(&data.secret_key()?, crate::webhooks::SEAL_PURPOSE);
    let store = open_store(data).await?;
    let now = SystemClock.now_ms();
    let refused = |e: EndpointError| match e {
        EndpointError::Invalid(_, message) => anyhow::anyhow!(message),
        EndpointError::Store(e) => e.into(),
    };
    match command {
        WebhookCommand::Add { url, events, description, allow_private_addresses } => {
            let change = EndpointChange {
                url: Some(url),
                description: Some(description),
                event_types: Some(events),
                enabled: Some(true),
            };
            let (e, secret) = endpoints::create(store.as_ref(), &sealer, change, allow_private_addresses, now)
                .await
                .map_err(refused)?;
            println!("{} {}", e.id, secret);
        }
        WebhookCommand::List => {
            let (list, _) = store.list_endpoints(crate::store::Page { limit: 500, offset: 0 }).await?;
            for e in list {
                let types = if e.event_types.is_empty() { "*".to_owned() } else { e.event_types.join(",") };
                let state = if e.enabled { "enabled" } else { "disabled" };
                println!("{} {state} {} {types}", e.id, e.url);
            }
        }
        WebhookCommand::RotateSecret { id } => {
            let rotated = endpoints::rotate_secret(store.as_ref(), &sealer, &id, now).await.map_err(refused)?;
            let (e, secret) = rotated.with_context(|| format!("no webhook endpoint {id}"))?;
            println!("{} {}", e.id, secret);
        }
        WebhookCommand::Replay { message_id, endpoint } => {
            if store.get_message(&message_id).await?.is_none() {
                bail!("no webhook message {message_id}");
            }
            let n = store.replay_message(&message_id, endpoint.as_deref(), now).await?;
            println!("{message_id}: {n} deliveries queued again");
        }
    }
    Ok(())
}

async fn dev(args: DevArgs) -> anyhow::Result<()> {
    let database = args.data.database()?;
    let secret = match std::env::var("USHER_SECRET_KEY") {
        Ok(key) => {
            check_secret_key(&key).map_err(|e| anyhow::anyhow!("USHER_SECRET_KEY: {e}"))?;
            key
        }
        Err(_) => dev_secret_key(&args.data.data_dir)?,
    };
    let mut config = Config::new(args.listen, database, Secret::new(secret));
    config.backend_requests_per_10s = args.backend_rate_limit;
    config.frontend_rate_limits = args.fapi_rate_limit;
    config.session_token_lifetime = std::time::Duration::from_secs(args.session_token_lifetime);
    config.allow_localhost_origins = true;
    config.production = args.live_keys;
    config.clerk_js_dir = args.clerk_js_dir.clone();
    if let Some(n) = args.password_hash_slots {
        config.password_hash_slots = usize::from(n);
    }
    config.redis_url = args.redis_url.map(Secret::new);
    // Local receivers are what development uses.
    config.webhooks.allow_private_addresses = true;
    if let Some(text) = &args.webhook_retry_schedule_ms {
        config.webhooks.retry_schedule = WebhookSettings::parse_schedule_ms(text)
            .map_err(|e| anyhow::anyhow!("--webhook-retry-schedule-ms: {e}"))?;
    }
    if let Some(ms) = args.webhook_timeout_ms {
        config.webhooks.timeout = std::time::Duration::from_millis(ms);
    }
    for origin in &args.allowed_origins {
        let parsed = crate::origins::parse_origin(origin)
            .with_context(|| format!("--allowed-origin {origin:?} is not an http(s) origin"))?;
        config.allowed_origins.push(parsed);
    }
    let mut entries = Vec::new();
    for spec in &args.oauth_providers {
        let mut entry = crate::config::oauth::FileProvider::parse_spec(spec)
            .map_err(|e| anyhow::anyhow!("--oauth-provider {spec:?}: {e}"))?;
        entry.read_secret(&|name: &str| std::env::var(name).ok());
        entries.push(entry);
    }
    config.oauth_providers = crate::config::oauth::validate_all(entries, true)
        .map_err(|problems| anyhow::anyhow!("refusing to start:\n{}", problems.join("\n")))?;
    let app = App::build(config).await?;
    let state = app.state().clone();
    // What an app needs in its .env, one per line, then the line scripts wait for.
    let mut out = std::io::stdout().lock();
    writeln!(out, "CLERK_API_URL={}", state.issuer)?;
    writeln!(out, "CLERK_SECRET_KEY={}", state.config.secret_key.expose())?;
    writeln!(out, "PUBLIC_CLERK_PUBLISHABLE_KEY={}", state.publishable_key)?;
    writeln!(out, "# sign-in page: {0}/sign-in   mail: {0}/dev/mailbox", state.issuer)?;
    writeln!(out, "usher dev: listening on {}", state.issuer)?;
    out.flush()?;
    drop(out);
    app.run(shutdown_signal()).await?;
    Ok(())
}

/// The development secret key, kept in the data directory (readable by its owner only) so
/// that apps keep working across restarts.
fn dev_secret_key(dir: &Path) -> anyhow::Result<String> {
    // With `--database-url` nothing else creates the directory.
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("secret_key");
    if let Ok(key) = std::fs::read_to_string(&path) {
        let key = key.trim().to_owned();
        check_secret_key(&key).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        return Ok(key);
    }
    let key = format!("sk_test_{}", ids::random_base62(48));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{key}")?;
    file.sync_all()?;
    Ok(key)
}

async fn serve(path: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let mut file = FileConfig::parse(&text).map_err(anyhow::Error::msg)?;
    file.apply_env(|name| std::env::var(name).ok());
    let config = match file.validate() {
        Ok(c) => c,
        Err(problems) => bail!("refusing to start:\n{problems}"),
    };
    let app = App::build_with_clock(config, Arc::new(SystemClock)).await?;
    tracing::info!(addr = %app.local_addr(), issuer = %app.state().issuer, "usher serve: listening");
    println!("usher serve: listening on http://{}", app.local_addr());
    app.run(shutdown_signal()).await?;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
}

/// Store handle for commands that only need the database.
pub async fn open_store(data: &DataArgs) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(SqlStore::open(&data.database()?.url()).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dev(args: &[&str]) -> DevArgs {
        let cli = Cli::try_parse_from([&["usher", "dev"], args].concat()).expect("parses");
        match cli.command {
            Command::Dev(args) => args,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_fapi_rate_limit_flag_takes_the_value_its_help_names() {
        assert!(dev(&[]).fapi_rate_limit);
        assert!(!dev(&["--fapi-rate-limit", "false"]).fapi_rate_limit);
        assert!(!dev(&["--fapi-rate-limit=off"]).fapi_rate_limit);
        assert!(dev(&["--fapi-rate-limit", "true"]).fapi_rate_limit);
        assert!(Cli::try_parse_from(["usher", "dev", "--fapi-rate-limit", "maybe"]).is_err());
    }
}
