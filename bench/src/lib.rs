//! Shared pieces of the benchmarks: starting a real `usher` process, driving load with a
//! bounded number of connections for a bounded time, and summarising latencies.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

/// A running `usher dev` process, stopped on drop.
pub struct Usher {
    child: Child,
    /// The server's process id (for its CPU time and memory in `/proc`).
    pub pid: u32,
    /// `CLERK_API_URL`.
    pub url: String,
    /// `CLERK_SECRET_KEY`.
    pub secret: String,
    /// `PUBLIC_CLERK_PUBLISHABLE_KEY`.
    pub publishable: String,
    _dir: tempfile::TempDir,
}

impl Drop for Usher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The release binary: `$USHER_BIN`, else `target/release/usher` next to this crate.
pub fn usher_bin() -> PathBuf {
    std::env::var_os("USHER_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/release/usher"))
}

/// Starts `usher dev` on port 0 with `env` added.
pub fn start_usher(env: &[(&str, &str)]) -> Usher {
    start_usher_on(None, env)
}

/// Starts `usher dev` on port 0 with `env` added, on the CPUs `cpus` (a `taskset -c` list)
/// when given, so that it never shares a core with the load generator.
pub fn start_usher_on(cpus: Option<&str>, env: &[(&str, &str)]) -> Usher {
    let dir = tempfile::tempdir().expect("temp dir");
    let bin = usher_bin();
    let mut command = match cpus {
        Some(cpus) => {
            let mut c = Command::new("taskset");
            c.args(["-c", cpus]).arg(&bin);
            c
        }
        None => Command::new(&bin),
    };
    command.args(["dev", "--data-dir"]).arg(dir.path()).args(["--listen", "127.0.0.1:0"]).env("RUST_LOG", "warn");
    command.envs(env.iter().copied()).stdout(Stdio::piped()).stderr(Stdio::inherit());
    let mut child = command.spawn().unwrap_or_else(|e| {
        panic!("cannot start {}: {e} (build it with cargo build --release -p usher-server)", bin.display())
    });
    let (mut url, mut secret, mut publishable) = (String::new(), String::new(), String::new());
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("stdout line");
        if let Some(v) = line.strip_prefix("CLERK_API_URL=") {
            url = v.to_owned();
        } else if let Some(v) = line.strip_prefix("CLERK_SECRET_KEY=") {
            secret = v.to_owned();
        } else if let Some(v) = line.strip_prefix("PUBLIC_CLERK_PUBLISHABLE_KEY=") {
            publishable = v.to_owned();
        } else if line.contains("listening on") {
            break;
        }
    }
    let pid = child.id();
    Usher { child, pid, url, secret, publishable, _dir: dir }
}

impl Usher {
    /// Creates a user and a session through the Backend API; returns the session id.
    pub async fn session(&self, http: &reqwest::Client) -> String {
        let post = |path: &str, body: serde_json::Value| {
            http.post(format!("{}{path}", self.url)).bearer_auth(&self.secret).json(&body).send()
        };
        let user: serde_json::Value = post("/v1/users", serde_json::json!({"email_address": ["bench@example.com"]}))
            .await
            .expect("create user")
            .json()
            .await
            .expect("user");
        let session: serde_json::Value = post("/v1/sessions", serde_json::json!({"user_id": user["id"]}))
            .await
            .expect("create session")
            .json()
            .await
            .expect("session");
        session["id"].as_str().expect("session id").to_owned()
    }
}

impl Usher {
    /// Signs a new user in through the Frontend API, as a browser does; returns the `__client`
    /// cookie (`name=value`) and the session id.
    pub async fn browser_session(&self, http: &reqwest::Client) -> (String, String) {
        let password = "bench password 1";
        http.post(format!("{}/v1/users", self.url))
            .bearer_auth(&self.secret)
            .json(&serde_json::json!({"email_address": ["browser@example.com"], "password": password}))
            .send()
            .await
            .expect("create user");
        let response = http
            .post(format!("{}/v1/client/sign_ins", self.url))
            .form(&[("identifier", "browser@example.com"), ("password", password)])
            .send()
            .await
            .expect("sign in");
        let cookie = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("__client="))
            .and_then(|v| v.split(';').next())
            .expect("a __client cookie")
            .to_owned();
        let body: serde_json::Value = response.json().await.expect("sign-in body");
        let session = body["client"]["last_active_session_id"].as_str().expect("signed in").to_owned();
        (cookie, session)
    }
}

/// Latencies of one measured phase.
#[derive(Clone)]
pub struct Summary {
    /// Requests answered as expected.
    pub done: usize,
    /// Completed requests per second.
    pub per_second: f64,
    /// Median latency.
    pub p50: Duration,
    /// 95th-percentile latency.
    pub p95: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// Requests that failed.
    pub errors: usize,
}

/// Runs `request` from `connections` concurrent loops for `duration` (and at most `max_requests`
/// in all), and summarises.
pub async fn load<F, Fut>(connections: usize, duration: Duration, max_requests: usize, request: F) -> Summary
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let started = Instant::now();
    let budget = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(max_requests));
    let workers: Vec<_> = (0..connections)
        .map(|_| {
            let (request, budget) = (request.clone(), budget.clone());
            tokio::spawn(async move {
                let (mut times, mut errors) = (Vec::new(), 0);
                while started.elapsed() < duration && take(&budget) {
                    let t = Instant::now();
                    if request().await { times.push(t.elapsed()) } else { errors += 1 }
                }
                (times, errors)
            })
        })
        .collect();
    let (mut times, mut errors) = (Vec::new(), 0);
    for worker in workers {
        let (t, e) = worker.await.expect("worker");
        times.extend(t);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort();
    let pct = |p: f64| {
        times.get(((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))).copied().unwrap_or_default()
    };
    Summary {
        done: times.len(),
        per_second: times.len() as f64 / elapsed,
        p50: pct(0.50),
        p95: pct(0.95),
        p99: pct(0.99),
        errors,
    }
}

/// Takes one request from the shared budget; false once it is spent (never wraps below 0).
fn take(budget: &std::sync::atomic::AtomicUsize) -> bool {
    use std::sync::atomic::Ordering::Relaxed;
    budget.fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1)).is_ok()
}

/// Milliseconds with two decimals.
pub fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// CPU time (user + system) a process has used so far, from `/proc/<pid>/stat` (in clock ticks
/// of 10 ms: over a timed run of seconds at full load that is well under 1 %).
pub fn process_cpu(pid: u32) -> Duration {
    try_process_cpu(pid).expect("/proc/<pid>/stat")
}

/// [`process_cpu`], or `None` if the process is gone (or its stat cannot be read).
pub fn try_process_cpu(pid: u32) -> Option<Duration> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces; the fields after its `)` are numbers.
    let fields: Vec<&str> = text.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 1000 / clock_ticks_per_second()))
}

fn clock_ticks_per_second() -> u64 {
    static TICKS: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *TICKS.get_or_init(|| {
        let out = Command::new("getconf").arg("CLK_TCK").output().expect("getconf CLK_TCK");
        String::from_utf8_lossy(&out.stdout).trim().parse().expect("CLK_TCK")
    })
}

/// Resident memory of a process, from `VmRSS` in `/proc/<pid>/status`, in bytes.
pub fn resident_bytes(pid: u32) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    let line = text.lines().find(|l| l.starts_with("VmRSS:")).expect("VmRSS");
    line.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()).expect("VmRSS kB") * 1024
}

/// Pins the calling thread to `cpus` (a `taskset -c` list), by its thread id; threads it
/// starts afterwards inherit it.
pub fn pin_this_thread(cpus: &str) {
    let link = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    let tid = link.file_name().expect("tid").to_string_lossy().into_owned();
    let status = Command::new("taskset").args(["-p", "-c", cpus, &tid]).stdout(Stdio::null()).status();
    assert!(status.is_ok_and(|s| s.success()), "taskset -p -c {cpus} {tid}");
}

/// The CPU time this thread has used, from `/proc/thread-self/schedstat` (nanoseconds).
pub fn thread_cpu() -> Duration {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    Duration::from_nanos(text.split_whitespace().next().and_then(|n| n.parse().ok()).expect("cpu ns"))
}

/// The cores of this machine split in two: the server's (the last `server_cores`) and the load
/// generator's (the rest), as `taskset -c` lists.
pub fn split_cores(server_cores: usize) -> (String, String) {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    assert!(cores > server_cores, "needs more than {server_cores} cores to keep the load generator apart");
    let first_server = cores - server_cores;
    let list = |from: usize, to: usize| if from == to { from.to_string() } else { format!("{from}-{to}") };
    (list(first_server, cores - 1), list(0, first_server - 1))
}
