//! Rate limits, as Clerk sets them: the Backend API per instance (1000 requests per 10 s), and
//! the Frontend API's guessable steps per client IP (creating a sign-in or sign-up 5 per 10 s,
//! attempting a factor or verification 3 per 10 s). Over the limit: 429 with `Retry-After`.
//!
//! Each limit is a GCRA bucket: `burst` requests at once, refilled evenly over 10 s. Buckets live
//! in this process by default; with a Redis URL they are shared by every node (one Lua script
//! per check, timed by Redis's clock). If Redis fails, the node falls back to its own buckets
//! rather than refusing everyone or letting everyone through.

use std::{
    num::NonZeroU32,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use governor::{
    DefaultKeyedRateLimiter, Quota, RateLimiter,
    clock::{Clock as _, DefaultClock},
};
use redis::{
    Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

/// Takes one token from `KEYS[1]` (GCRA: `ARGV[1]` ms between tokens, `ARGV[2]` burst); answers
/// 0 when allowed, else the milliseconds to wait.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + interval
local wait = new_tat - burst * interval - now
if wait > 0 then return wait end
redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now)
return 0
";

/// A check waits this long for Redis before using the node's own bucket.
const REDIS_WAIT: Duration = Duration::from_millis(500);
/// After a failure, Redis is left alone this long, so a dead Redis does not slow every request.
const REDIS_REST: Duration = Duration::from_secs(5);

fn now_secs() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Buckets shared through Redis.
#[derive(Clone)]
pub struct Shared {
    redis: ConnectionManager,
    prefix: String,
    script: Arc<Script>,
    down_until: Arc<AtomicU64>,
}

impl Shared {
    /// Connects to `url`; keys start with `prefix` (so several instances can share a Redis).
    pub async fn connect(url: &str, prefix: &str) -> anyhow::Result<Self> {
        let client = redis::Client::open(url)?;
        let config = ConnectionManagerConfig::new()
            .set_number_of_retries(2)
            .set_connection_timeout(Duration::from_secs(2))
            .set_response_timeout(Duration::from_secs(1));
        let redis = tokio::time::timeout(REDIS_WAIT * 10, client.get_connection_manager_with_config(config))
            .await
            .map_err(|_| anyhow::anyhow!("no answer from Redis within {:?}", REDIS_WAIT * 10))??;
        let script = Arc::new(Script::new(GCRA));
        Ok(Self { redis, prefix: prefix.to_owned(), script, down_until: Arc::new(AtomicU64::new(0)) })
    }

    /// Whether Redis failed recently (then this node's own buckets answer for a while).
    fn resting(&self) -> bool {
        self.down_until.load(Ordering::Relaxed) > now_secs()
    }

    fn rest(&self) {
        self.down_until.store(now_secs() + REDIS_REST.as_secs(), Ordering::Relaxed);
    }
}

/// One limit: a bucket per key.
pub struct Bucket {
    name: &'static str,
    burst: u32,
    interval: Duration,
    local: DefaultKeyedRateLimiter<String>,
    shared: Option<Shared>,
}

impl Bucket {
    /// `per_10s` requests per 10 s and key; `None` for 0 (no limit).
    pub fn new(name: &'static str, per_10s: u32, shared: Option<Shared>) -> Option<Self> {
        let burst = NonZeroU32::new(per_10s)?;
        let interval = Duration::from_secs(10) / per_10s;
        let quota = Quota::with_period(interval).unwrap_or_else(|| Quota::per_second(burst)).allow_burst(burst);
        Some(Self { name, burst: per_10s, interval, local: RateLimiter::keyed(quota), shared })
    }

    /// `n` requests per `window` and key; `None` for 0 (no limit).
    pub fn per_window(name: &'static str, n: u32, window: Duration, shared: Option<Shared>) -> Option<Self> {
        let burst = NonZeroU32::new(n)?;
        let interval = window / n;
        let quota = Quota::with_period(interval)?.allow_burst(burst);
        Some(Self { name, burst: n, interval, local: RateLimiter::keyed(quota), shared })
    }

    /// Takes one request from `key`'s bucket, or says how many seconds to wait.
    pub async fn check(&self, key: &str) -> Result<(), u64> {
        if let Some(shared) = self.shared.as_ref().filter(|s| !s.resting()) {
            let mut redis = shared.redis.clone();
            let mut call = shared.script.key(format!("{}:rl:{}:{key}", shared.prefix, self.name));
            call.arg(self.interval.as_millis() as u64).arg(self.burst);
            match tokio::time::timeout(REDIS_WAIT, call.invoke_async::<u64>(&mut redis)).await {
                Ok(Ok(0)) => return Ok(()),
                Ok(Ok(wait_ms)) => return Err(wait_ms.div_ceil(1000).max(1)),
                Ok(Err(e)) => {
                    tracing::warn!(error = %e, bucket = self.name, "shared rate limit failed; using this node's");
                    shared.rest();
                }
                Err(_) => {
                    tracing::warn!(bucket = self.name, "shared rate limit timed out; using this node's");
                    shared.rest();
                }
            }
        }
        self.local.check_key(&key.to_owned()).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            wait.as_secs() + 1
        })
    }

    /// Forgets idle keys of the in-process bucket.
    pub fn prune(&self) {
        self.local.retain_recent();
    }
}

/// Every limit of a server.
#[derive(Default)]
pub struct Limits {
    /// Backend API requests (one bucket for the instance).
    pub backend: Option<Bucket>,
    /// Creating a sign-in or sign-up, and sending codes, per IP.
    pub create: Option<Bucket>,
    /// Attempting a factor, a verification or a password change, per IP.
    pub attempt: Option<Bucket>,
    /// Sign-up code guesses per email address, from any IP: a new address has no account to
    /// lock, so without this its codes could be guessed forever from many addresses.
    pub address: Option<Bucket>,
}

/// Sign-up code guesses one address gets per hour (two codes' worth of five).
pub const ADDRESS_GUESSES_PER_HOUR: u32 = 10;

impl Limits {
    /// The limits a configuration asks for.
    pub fn new(backend_per_10s: u32, frontend: bool, shared: Option<Shared>) -> Self {
        let per_ip = |name, n| if frontend { Bucket::new(name, n, shared.clone()) } else { None };
        Self {
            backend: Bucket::new("backend", backend_per_10s, shared.clone()),
            create: per_ip("create", 5),
            attempt: per_ip("attempt", 3),
            address: if frontend {
                Bucket::per_window("address", ADDRESS_GUESSES_PER_HOUR, Duration::from_secs(3600), shared.clone())
            } else {
                None
            },
        }
    }

    /// Forgets idle keys of every in-process bucket.
    pub fn prune(&self) {
        for bucket in [&self.backend, &self.create, &self.attempt, &self.address].into_iter().flatten() {
            bucket.prune();
        }
    }
}
