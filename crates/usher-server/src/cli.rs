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
    /// Move users in and out in the CSV format of Clerk's dashboard export.
    Users {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
        /// What to do.
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Manage instance admins (who may enter the admin console at /admin).
    Admins {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
        /// What to do.
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Read the audit log.
    Audit {
        /// Where the data lives.
        #[command(flatten)]
        data: DataArgs,
        /// What to do.
        #[command(subcommand)]
        command: AuditCommand,
    },
}

/// `usher admins …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Make the user with this email address an instance admin.
    Add {
        /// The user's email address.
        email: String,
    },
    /// Take the instance-admin role away from the user with this email address.
    Remove {
        /// The user's email address.
        email: String,
    },
    /// List the instance admins.
    List,
}

/// `usher audit …`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Write the audit log to stdout as JSON lines, oldest first.
    Export {
        /// Only entries at or after this time (ms since the epoch).
        #[arg(long)]
        since: Option<i64>,
        /// Only entries before this time (ms since the epoch).
        #[arg(long)]
        until: Option<i64>,
    },
}

/// `usher users …`.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Create or update users from a Clerk user export (CSV); rejected rows are reported on
    /// stderr with their line and reason, and the rest are imported.
    Import {
        /// The CSV file (`-` for standard input).
        file: PathBuf,
        /// Keep Clerk's user ids (tokens and foreign keys in the app keep working); otherwise
        /// users get new ids and the Clerk id goes into `external_id` (unless the file has one).
        #[arg(long)]
        keep_ids: bool,
        /// Report what would be created, updated or rejected without writing anything.
        #[arg(long)]
        dry_run: bool,
        /// Rows per transaction.
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=5000))]
        batch_size: u32,
        /// No progress bar (it is also hidden when stderr is not a terminal).
        #[arg(long)]
        quiet: bool,
    },
    /// Write every user as a Clerk-format CSV (with password digests and TOTP secrets: keep
    /// the file as safe as the database).
    Export {
        /// Where to write (default standard output).
        #[arg(long, short)]
        output: Option<PathBuf>,
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
    /// Serve HTTPS with this PEM certificate chain (with --tls-key): the Frontend API and the
    /// publishable key become https://, so clerk-js can reach usher without a proxy.
    #[arg(long, env = "USHER_TLS_CERT", requires = "tls_key", value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, env = "USHER_TLS_KEY", requires = "tls_cert", value_name = "FILE")]
    pub tls_key: Option<PathBuf>,
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
        Command::Users { data, command } => users(&data, command).await,
        Command::Admins { data, command } => admins(&data, command).await,
        Command::Audit { data, command } => audit(&data, command).await,
    }
}

/// The user an email address names, or an error saying there is none.
async fn user_by_email(store: &dyn Store, email: &str) -> anyhow::Result<crate::store::UserRecord> {
    use crate::store::{Page, UserFilter, UserOrder, UserQuery};
    let filter = UserFilter { email_address: vec![email.trim().to_owned()], ..UserFilter::default() };
    let query =
        UserQuery { filter, order_by: UserOrder::CreatedAt, descending: false, page: Page { limit: 1, offset: 0 } };
    store.list_users(&query).await?.pop().with_context(|| format!("no user has the email address {email:?}"))
}

async fn admins(data: &DataArgs, command: AdminCommand) -> anyhow::Result<()> {
    use crate::store::{ActorType, AuditAction, AuditEntry, Outcome};
    let store = open_store(data).await?;
    let now = SystemClock.now_ms();
    // The operator at the command line is the actor.
    let entry = |action, subject: &str| AuditEntry {
        id: ids::new_id("aud"),
        at: now,
        actor_type: ActorType::System,
        actor_id: None,
        via_actor: None,
        subject_id: Some(subject.to_owned()),
        action,
        outcome: Outcome::Success,
        reason: None,
        detail: Some("usher admins".to_owned()),
        client_ip: String::new(),
        user_agent: String::new(),
    };
    match command {
        AdminCommand::Add { email } => {
            let user = user_by_email(store.as_ref(), &email).await?;
            let added = store.add_admin(&user.id, now).await?;
            store.append_audit(&entry(AuditAction::AdminGranted, &user.id)).await?;
            println!(
                "{} ({}) {}",
                email.trim(),
                user.id,
                if added { "is now an instance admin" } else { "was an instance admin already" }
            );
        }
        AdminCommand::Remove { email } => {
            let user = user_by_email(store.as_ref(), &email).await?;
            if !store.remove_admin(&user.id).await? {
                bail!("{} ({}) is not an instance admin", email.trim(), user.id);
            }
            store.append_audit(&entry(AuditAction::AdminRevoked, &user.id)).await?;
            println!("{} ({}) is no longer an instance admin", email.trim(), user.id);
        }
        AdminCommand::List => {
            for (user_id, _) in store.list_admins().await? {
                let email = store
                    .get_user(&user_id)
                    .await?
                    .and_then(|u| u.primary_email().map(|e| e.value.clone()))
                    .unwrap_or_default();
                println!("{user_id}\t{email}");
            }
        }
    }
    Ok(())
}

async fn audit(data: &DataArgs, command: AuditCommand) -> anyhow::Result<()> {
    use crate::store::AuditFilter;
    let store = open_store(data).await?;
    let AuditCommand::Export { since, until } = command;
    let filter = AuditFilter { since, until, ..AuditFilter::default() };
    let mut out = std::io::stdout().lock();
    let mut after: Option<String> = None;
    loop {
        let batch = store.audit_after(&filter, after.as_deref(), 500).await?;
        for e in &batch {
            writeln!(out, "{}", serde_json::to_string(&crate::wire::audit_entry(e))?)?;
        }
        match batch.last() {
            Some(last) if batch.len() == 500 => after = Some(last.id.clone()),
            _ => break,
        }
    }
    out.flush()?;
    Ok(())
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
            let (e, secret) = endpoints::create(
                store.as_ref(),
                crate::ids::new_id("ep"),
                &sealer,
                change,
                allow_private_addresses,
                now,
            )
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

async fn users(data: &DataArgs, command: UsersCommand) -> anyhow::Result<()> {
    let sealer = crate::transfer::totp_sealer(&data.secret_key()?);
    let store = open_store(data).await?;
    match command {
        UsersCommand::Import { file, keep_ids, dry_run, batch_size, quiet } => {
            let input: Box<dyn std::io::Read> = if file.as_os_str() == "-" {
                Box::new(std::io::stdin().lock())
            } else {
                Box::new(std::fs::File::open(&file).with_context(|| format!("opening {}", file.display()))?)
            };
            let size = std::fs::metadata(&file).map(|m| m.len()).ok();
            let options = crate::transfer::ImportOptions { keep_ids, now: SystemClock.now_ms() };
            let report =
                import_users(store.as_ref(), &sealer, input, size, &options, batch_size as usize, dry_run, quiet)
                    .await?;
            let verb = if dry_run { "would be " } else { "" };
            println!(
                "{} rows: {} {verb}created, {} {verb}updated, {} unchanged, {} rejected{}",
                report.rows,
                report.created,
                report.updated,
                report.unchanged,
                report.rejected,
                if dry_run { " (dry run: nothing was written)" } else { "" }
            );
        }
        UsersCommand::Export { output } => {
            let out: Box<dyn std::io::Write> = match &output {
                Some(path) => {
                    Box::new(std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?)
                }
                None => Box::new(std::io::stdout().lock()),
            };
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(crate::transfer::CLERK_COLUMNS.iter().chain(crate::transfer::EXTRA_COLUMNS.iter()))?;
            let mut after = None;
            let mut count = 0usize;
            loop {
                let page = store.export_users(after.clone(), 1000).await?;
                let Some(last) = page.last() else { break };
                after = Some((last.user.created_at, last.user.id.clone()));
                for exported in &page {
                    writer.write_record(crate::transfer::export_row(
                        &exported.user,
                        exported.totp.as_ref(),
                        &sealer,
                    ))?;
                }
                count += page.len();
            }
            writer.flush()?;
            eprintln!("{count} users exported");
        }
    }
    Ok(())
}

/// What an import did.
#[derive(Debug, Default)]
struct ImportReport {
    rows: usize,
    created: usize,
    updated: usize,
    unchanged: usize,
    rejected: usize,
}

/// Reads `input` in batches of `batch_size` rows, one transaction each, reporting every
/// rejected row (with its line number) on stderr and carrying on.
#[allow(clippy::too_many_arguments)]
async fn import_users(
    store: &dyn Store,
    sealer: &Sealer,
    input: Box<dyn std::io::Read>,
    size: Option<u64>,
    options: &crate::transfer::ImportOptions,
    batch_size: usize,
    dry_run: bool,
    quiet: bool,
) -> anyhow::Result<ImportReport> {
    use std::collections::HashMap;

    use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

    use crate::store::{ImportOutcome, ImportedUser};

    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
    let mut records = reader.records();
    let header = match records.next() {
        Some(row) => crate::transfer::Header::new(&row.context("reading the header")?).map_err(anyhow::Error::msg)?,
        None => bail!("the file is empty"),
    };
    // Progress by bytes read when the size is known, so the rate and the ETA are real.
    let bar = match size {
        Some(total) => ProgressBar::new(total).with_style(
            ProgressStyle::with_template("{bar:40} {percent}% {binary_bytes_per_sec} ETA {eta} {msg}")
                .expect("a valid template"),
        ),
        None => ProgressBar::new_spinner().with_style(
            ProgressStyle::with_template("{spinner} {pos} rows {per_sec} {msg}").expect("a valid template"),
        ),
    };
    if quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let mut report = ImportReport::default();
    let mut first_line: HashMap<String, u64> = HashMap::new();
    let mut batch: Vec<(u64, ImportedUser)> = Vec::with_capacity(batch_size);
    let same_totp = |a: &str, b: &str| sealer.open_text(a).is_some() && sealer.open_text(a) == sealer.open_text(b);
    let flush = async |batch: &mut Vec<(u64, ImportedUser)>, report: &mut ImportReport| -> anyhow::Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let users: Vec<ImportedUser> = batch.iter().map(|(_, u)| u.clone()).collect();
        let outcomes = store.import_users(&users, &same_totp, dry_run).await?;
        for ((line, _), outcome) in batch.iter().zip(outcomes) {
            match outcome {
                ImportOutcome::Created => report.created += 1,
                ImportOutcome::Updated => report.updated += 1,
                ImportOutcome::Unchanged => report.unchanged += 1,
                ImportOutcome::Rejected(why) => {
                    report.rejected += 1;
                    bar.suspend(|| eprintln!("line {line}: rejected: {why}"));
                }
            }
        }
        batch.clear();
        Ok(())
    };
    for record in records {
        report.rows += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                // A row the CSV reader cannot read (bad UTF-8, say) is one rejected row.
                report.rejected += 1;
                let line = e.position().map_or(0, |p| p.line());
                bar.suspend(|| eprintln!("line {line}: rejected: unreadable row ({e})"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line());
        match crate::transfer::parse_row(&header, &record, options, sealer) {
            Err(why) => {
                report.rejected += 1;
                bar.suspend(|| eprintln!("line {line}: rejected: {why}"));
            }
            Ok(user) => {
                let key = header_key(&user);
                if let Some(first) = first_line.get(&key) {
                    report.rejected += 1;
                    bar.suspend(|| eprintln!("line {line}: rejected: the same user as line {first}"));
                } else {
                    first_line.insert(key, line);
                    batch.push((line, user));
                }
            }
        }
        if batch.len() >= batch_size {
            flush(&mut batch, &mut report).await?;
        }
        match size {
            Some(_) => bar.set_position(record.position().map_or(0, |p| p.byte())),
            None => bar.set_position(report.rows as u64),
        }
    }
    flush(&mut batch, &mut report).await?;
    bar.finish_and_clear();
    Ok(report)
}

/// What makes two rows the same user: the id, or the external id they are matched by.
fn header_key(user: &crate::store::ImportedUser) -> String {
    if user.match_external_id {
        format!("external:{}", user.user.external_id.as_deref().unwrap_or_default())
    } else {
        user.user.id.clone()
    }
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
    config.tls = crate::tls::TlsFiles::pair(args.tls_cert.clone(), args.tls_key.clone()).map_err(anyhow::Error::msg)?;
    if let Some(n) = args.password_hash_slots {
        config.password_hash_slots = usize::from(n);
    }
    config.redis_url = args.redis_url.map(Secret::new);
    // Local receivers are what development uses.
    config.webhooks.allow_private_addresses = true;
    config.metrics.open_on_main_listener = true;
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
    // Clerk's SDKs want a dot in the publishable key's host, so the URLs above keep the IP
    // address; browsers refuse WebAuthn on one, so passkeys are used through the name.
    let (rp_id, origins, _) = crate::flows::passkeys::relying_party(&state);
    if let Some(named) = origins.first().filter(|o| o.host_str() == Some("localhost")) {
        let named = named.as_str().trim_end_matches('/');
        writeln!(
            out,
            "# passkeys: open usher as {named} (relying party id {rp_id}; browsers refuse WebAuthn on an IP address)"
        )?;
    }
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
    let scheme = if app.is_tls() { "https" } else { "http" };
    println!("usher serve: listening on {scheme}://{}", app.local_addr());
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

    #[test]
    fn tls_flags_come_together() {
        let args = dev(&["--tls-cert", "c.pem", "--tls-key", "k.pem"]);
        assert_eq!(args.tls_cert.as_deref(), Some(Path::new("c.pem")));
        assert_eq!(args.tls_key.as_deref(), Some(Path::new("k.pem")));
        assert!(Cli::try_parse_from(["usher", "dev", "--tls-cert", "c.pem"]).is_err());
        assert!(Cli::try_parse_from(["usher", "dev", "--tls-key", "k.pem"]).is_err());
    }
}
