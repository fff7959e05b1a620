//! Passwords: NFKC normalisation, length policy, Argon2id hashing off the async runtime with
//! bounded concurrency, and verification of imported argon2/bcrypt digests.
//!
//! Hashes run on threads of their own at a lower scheduling priority: during a sign-in storm
//! they keep every core busy, and a token refresh (one RSA signature on the async runtime) must
//! not wait for a 15 ms hash to give up its core. With nothing else to run they get the whole
//! machine, so sign-in throughput is unchanged.

use std::{
    collections::HashMap,
    net::IpAddr,
    panic::{AssertUnwindSafe, catch_unwind},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::Duration,
};

use argon2::{
    Argon2, PasswordHash, PasswordHasher as _, PasswordVerifier as _,
    password_hash::{SaltString, rand_core::OsRng},
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use unicode_normalization::UnicodeNormalization;

/// Why a password was refused or could not be processed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    /// Fewer characters than the minimum.
    #[error("password must be at least {0} characters")]
    TooShort(usize),
    /// More characters than the maximum.
    #[error("password must be at most {0} characters")]
    TooLong(usize),
    /// An imported digest is not in a format we can verify.
    #[error("unsupported or malformed password digest")]
    BadDigest,
    /// Every hashing slot stayed busy; the caller should retry shortly.
    #[error("password hashing is saturated")]
    Busy,
    /// The hashing task failed (it panicked or was cancelled).
    #[error("password hashing failed")]
    Failed,
}

/// The password policy and the hashing pool.
#[derive(Clone)]
pub struct Passwords {
    min_len: usize,
    max_len: usize,
    slots: Arc<Semaphore>,
    /// How many slots one client address may hold at once, and the per-address semaphores.
    share: usize,
    per_client: Arc<Mutex<HashMap<IpAddr, Arc<Semaphore>>>>,
    /// Feeds the hashing threads; they exit when the last clone of this is dropped.
    jobs: mpsc::Sender<Job>,
    /// Verified against when the user does not exist, so the answer takes as long as for a real one.
    dummy_hash: Arc<str>,
    /// Argon2/bcrypt runs started, for operators and for tests that a refusal hashed nothing.
    runs: Arc<AtomicU64>,
    /// Slots in the pool, and hashes waiting for one (for metrics).
    size: usize,
    waiting: Arc<std::sync::atomic::AtomicUsize>,
}

type Job = Box<dyn FnOnce() + Send>;

/// How much lower than the rest of the server the hashing threads are scheduled (`nice`).
#[cfg(target_os = "linux")]
const HASH_NICENESS: i32 = 10;

/// Starts `threads` hashing threads sharing one queue.
fn hashing_threads(threads: usize) -> mpsc::Sender<Job> {
    let (send, receive) = mpsc::channel::<Job>();
    let receive = Arc::new(Mutex::new(receive));
    for i in 0..threads {
        let receive = receive.clone();
        let spawned = std::thread::Builder::new().name(format!("usher-hash-{i}")).spawn(move || {
            lower_this_threads_priority();
            loop {
                let job = receive.lock().unwrap_or_else(|e| e.into_inner()).recv();
                let Ok(job) = job else { return };
                // A panicking job drops its reply sender (the caller sees `Failed`); the thread stays.
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
        });
        if let Err(e) = spawned {
            tracing::error!(error = %e, "could not start a password hashing thread");
        }
    }
    send
}

/// Lowers the calling thread's priority (on Linux, `setpriority` on a thread id applies to that
/// thread only). Best effort: a failure leaves it at normal priority.
fn lower_this_threads_priority() {
    #[cfg(target_os = "linux")]
    {
        let this = Some(rustix::thread::gettid());
        let now = rustix::process::getpriority_process(this).unwrap_or(0);
        let _ = rustix::process::setpriority_process(this, now + HASH_NICENESS);
    }
}

/// Hard cap on characters (after NFKC) even when checks are skipped, so a long input never
/// reaches Argon2; 128 as ASVS 2.1.2 and issue 11 item 13 ask (more is refused unhashed).
pub const HARD_MAX_LEN: usize = 128;

impl Passwords {
    /// A policy of `min_len..=max_len` characters, hashing at most `slots` passwords at once.
    pub fn new(min_len: usize, max_len: usize, slots: usize) -> Self {
        let salt = SaltString::generate(&mut OsRng);
        let dummy =
            Argon2::default().hash_password(b"usher dummy password", &salt).map(|h| h.to_string()).unwrap_or_default();
        let slots = slots.max(1);
        Self {
            min_len,
            max_len,
            slots: Arc::new(Semaphore::new(slots)),
            share: client_share(slots),
            per_client: Arc::default(),
            jobs: hashing_threads(slots),
            dummy_hash: dummy.into(),
            runs: Arc::default(),
            size: slots,
            waiting: Arc::default(),
        }
    }

    /// The pool now: its size, slots held, hashes waiting.
    pub fn usage(&self) -> crate::metrics::HashPoolUsage {
        crate::metrics::HashPoolUsage {
            size: self.size,
            in_use: self.size.saturating_sub(self.slots.available_permits()),
            queued: self.waiting.load(Ordering::Relaxed),
        }
    }

    /// How many hash or verify runs have started.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }

    /// NFKC-normalises `password` and checks its length in characters. With `skip_checks` only
    /// the hard cap applies (for imports of users whose passwords predate the policy).
    pub fn normalize(&self, password: &str, skip_checks: bool) -> Result<String, PasswordError> {
        let normalized: String = password.nfkc().collect();
        let chars = normalized.chars().count();
        let max = if skip_checks { HARD_MAX_LEN } else { self.max_len };
        if chars > max || password.len() > HARD_MAX_LEN * 4 {
            return Err(PasswordError::TooLong(max));
        }
        if !skip_checks && chars < self.min_len {
            return Err(PasswordError::TooShort(self.min_len));
        }
        Ok(normalized)
    }

    /// Hashes a normalised password with Argon2id (m=19456 KiB, t=2, p=1) as a PHC string.
    pub async fn hash(&self, normalized: String) -> Result<String, PasswordError> {
        self.run(move || {
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(normalized.as_bytes(), &salt)
                .map(|h| h.to_string())
                .map_err(|_| PasswordError::Failed)
        })
        .await
    }

    /// Verifies `password` against `stored` (argon2 or bcrypt). With no stored hash, runs a dummy
    /// Argon2 verification and answers false, so unknown users cost the same time as known ones.
    ///
    /// A password longer than any that can be stored ([`HARD_MAX_LEN`] characters after NFKC)
    /// is wrong without any hashing, for known and unknown users alike.
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> Result<bool, PasswordError> {
        if password.len() > HARD_MAX_LEN * 4 {
            return Ok(false);
        }
        let normalized: String = password.nfkc().collect();
        if normalized.chars().count() > HARD_MAX_LEN {
            return Ok(false);
        }
        let raw = password.to_owned();
        let (stored, real) = match stored {
            Some(s) => (s.to_owned(), true),
            None => (self.dummy_hash.to_string(), false),
        };
        let ok = self
            .run(move || {
                // Imported digests were made from the raw text; ours from the NFKC form.
                let ok = verify_digest(&normalized, &stored) || (raw != normalized && verify_digest(&raw, &stored));
                Ok(ok)
            })
            .await?;
        Ok(ok && real)
    }

    /// Checks that an imported digest can be verified later.
    pub fn check_digest(hasher: &str, digest: &str) -> Result<(), PasswordError> {
        let ok = match hasher {
            "argon2id" | "argon2i" => PasswordHash::new(digest).is_ok_and(|h| h.algorithm.as_str() == hasher),
            "bcrypt" => digest.len() == 60 && digest.parse::<bcrypt::HashParts>().is_ok(),
            _ => false,
        };
        if ok { Ok(()) } else { Err(PasswordError::BadDigest) }
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, PasswordError> + Send + 'static,
    ) -> Result<T, PasswordError> {
        // Each Argon2 run holds 19 MiB and a core for ~15 ms: bound how many run at once, and
        // answer "busy" rather than queueing without limit.
        let client = CLIENT.try_with(|ip| *ip).ok();
        // Counted as waiting until the slot is had, the wait times out or the request is dropped.
        let waiting = Waiting::enter(&self.waiting);
        let permit = tokio::time::timeout(Duration::from_secs(5), self.slot(client)).await;
        drop(waiting);
        let permit = permit.map_err(|_| PasswordError::Busy)??;
        self.runs.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let result = work();
            // The slot is free before the caller hears back, so it can be had again at once.
            drop(permit);
            let _ = reply.send(result);
        });
        self.jobs.send(job).map_err(|_| PasswordError::Failed)?;
        answer.await.map_err(|_| PasswordError::Failed)?
    }
}

/// One hash waiting for a slot; uncounted when dropped.
struct Waiting<'a>(&'a std::sync::atomic::AtomicUsize);

impl<'a> Waiting<'a> {
    fn enter(count: &'a std::sync::atomic::AtomicUsize) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        Self(count)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

tokio::task_local! {
    /// The client address the current request's hashing is charged to (set at the HTTP edge).
    static CLIENT: IpAddr;
}

/// Runs `work` with its password hashing charged to `client`: one address gets at most its
/// share of the pool, so a flood from it queues behind itself while others still get slots
/// (issue 11, item 5).
pub async fn charged_to<F: std::future::Future>(client: IpAddr, work: F) -> F::Output {
    CLIENT.scope(client, work).await
}

/// Half the slots (at least one) per client: with 2 slots one address never takes both.
fn client_share(slots: usize) -> usize {
    (slots / 2).max(1)
}

/// A hashing slot: one of the pool's, and (for a known client) one of its share.
struct Slot {
    _pool: OwnedSemaphorePermit,
    _client: Option<ClientPermit>,
}

/// One of a client's share; the client's entry goes when its last permit does.
struct ClientPermit {
    permit: Option<OwnedSemaphorePermit>,
    ip: IpAddr,
    table: Arc<Mutex<HashMap<IpAddr, Arc<Semaphore>>>>,
}

impl Drop for ClientPermit {
    fn drop(&mut self) {
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        drop(self.permit.take());
        // Only the table holds it and nobody waits: forget the address.
        if table.get(&self.ip).is_some_and(|s| Arc::strong_count(s) == 1) {
            table.remove(&self.ip);
        }
    }
}

impl Passwords {
    /// Waits for a slot: first one of `client`'s share, then one of the pool.
    async fn slot(&self, client: Option<IpAddr>) -> Result<Slot, PasswordError> {
        let client = match client {
            None => None,
            Some(ip) => {
                let semaphore = {
                    let mut table = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
                    table.entry(ip).or_insert_with(|| Arc::new(Semaphore::new(self.share))).clone()
                };
                let table = self.per_client.clone();
                // The clone above counts until acquired; the permit keeps the entry alive after.
                let permit = semaphore.acquire_owned().await.map_err(|_| PasswordError::Failed)?;
                Some(ClientPermit { permit: Some(permit), ip, table })
            }
        };
        let pool = self.slots.clone().acquire_owned().await.map_err(|_| PasswordError::Failed)?;
        Ok(Slot { _pool: pool, _client: client })
    }
}

fn verify_digest(password: &str, digest: &str) -> bool {
    if digest.starts_with("$argon2") {
        PasswordHash::new(digest).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
    } else if digest.starts_with("$2") {
        bcrypt::verify(password, digest).unwrap_or(false)
    } else {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending<F: std::future::Future>(f: std::pin::Pin<&mut F>) -> bool {
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        f.poll(&mut cx).is_pending()
    }

    /// Issue 11 item 5: a client holding its share waits for itself, not for the pool, and
    /// another client still gets a slot.
    #[tokio::test]
    async fn one_client_cannot_take_the_whole_pool() {
        let p = Passwords::new(8, 128, 2);
        let (a, b): (IpAddr, IpAddr) = ([10, 0, 0, 1].into(), [10, 0, 0, 2].into());
        let first = p.slot(Some(a)).await.unwrap();
        let mut second = std::pin::pin!(p.slot(Some(a)));
        assert!(pending(second.as_mut()), "a second slot for the same client waits");
        let other = tokio::time::timeout(Duration::from_secs(10), p.slot(Some(b))).await;
        let other = other.expect("another client is not starved").unwrap();
        drop(first);
        let second = tokio::time::timeout(Duration::from_secs(10), second).await.expect("freed").unwrap();
        drop((second, other));
        assert!(p.per_client.lock().unwrap().is_empty(), "idle clients are forgotten");
    }

    #[tokio::test]
    async fn hashing_inside_charged_to_counts_against_the_client() {
        let p = Passwords::new(8, 128, 2);
        let ip: IpAddr = [10, 0, 0, 3].into();
        let hashed = charged_to(ip, p.hash("correct horse battery".into())).await.unwrap();
        assert!(hashed.starts_with("$argon2id$"));
        assert!(p.per_client.lock().unwrap().is_empty());
    }

    fn policy() -> Passwords {
        Passwords::new(8, 128, 2)
    }

    #[test]
    fn length_is_counted_in_characters_after_nfkc() {
        let p = policy();
        assert_eq!(p.normalize("short12", false), Err(PasswordError::TooShort(8)));
        assert!(p.normalize("😀😀😀😀😀😀😀😀", false).is_ok());
        assert!(p.normalize(&"a".repeat(128), false).is_ok());
        assert_eq!(p.normalize(&"a".repeat(129), false), Err(PasswordError::TooLong(128)));
        assert!(p.normalize("x", true).is_ok());
        assert!(p.normalize(&"a".repeat(HARD_MAX_LEN + 1), true).is_err());
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_the_owasp_parameters_and_verify_whole_passwords() {
        let p = policy();
        let hash = p.hash(p.normalize("correct horse battery", false).unwrap()).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(p.verify("correct horse battery", Some(&hash)).await.unwrap());
        assert!(!p.verify("correct horse batter", Some(&hash)).await.unwrap());
        assert!(!p.verify("correct horse battery", None).await.unwrap());
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashes_run_at_a_lower_priority_than_the_runtime() {
        let p = policy();
        let niceness = || rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        let runtime = niceness();
        let hashing = p.run(move || Ok(niceness())).await.unwrap();
        assert_eq!(hashing, (runtime + HASH_NICENESS).min(19), "runtime at {runtime}");
        assert_eq!(niceness(), runtime, "the runtime's own thread is left alone");
    }

    #[tokio::test]
    async fn a_panicking_hash_is_a_failure_and_the_pool_keeps_working() {
        let p = Passwords::new(8, 128, 1);
        let failed: Result<(), _> = p.run(|| panic!("boom")).await;
        assert_eq!(failed, Err(PasswordError::Failed));
        assert_eq!(p.run(|| Ok(7)).await, Ok(7));
    }

    #[tokio::test]
    async fn decomposed_input_verifies_against_a_precomposed_password() {
        let p = policy();
        let hash = p.hash(p.normalize("caf\u{e9}-caf\u{e9}", false).unwrap()).await.unwrap();
        assert!(p.verify("cafe\u{301}-cafe\u{301}", Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn imported_bcrypt_digests_verify() {
        let digest = bcrypt::hash("imported-pass", 4).unwrap();
        assert!(Passwords::check_digest("bcrypt", &digest).is_ok());
        assert!(Passwords::check_digest("bcrypt", "$2b$04$short").is_err());
        assert!(Passwords::check_digest("md5", &digest).is_err());
        assert!(policy().verify("imported-pass", Some(&digest)).await.unwrap());
    }
}
