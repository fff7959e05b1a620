//! Mail: SMTP delivery to a real SMTP server (aiosmtpd, `smtp_sink.py`), the outbox on a real
//! SQLite store (retries, parking), and the dev mailbox routes.
//!
//! The SMTP server needs Python with aiosmtpd; the tests fail (not skip) without it. Install:
//! `python3 -m venv target/pyenv && target/pyenv/bin/pip install aiosmtpd==1.4.6`
//! (or point `USHER_TEST_PYTHON` at an interpreter that has it).

use std::{path::PathBuf, process::Stdio, sync::Arc, time::Duration};

use axum::{Router, body::Body, http::Request};
use serde_json::Value;
use sqlx::{Connection as _, Row as _, SqliteConnection};
use tokio::{
    io::{AsyncBufReadExt as _, BufReader},
    process::{Child, Command},
};
use tower::ServiceExt as _;
use usher_server::{
    clock::{Clock, ManualClock},
    mail::{
        Mail, MailError, Mailer,
        dev::{self, DevMailbox},
        outbox::{self, PARKED},
        smtp::{SmtpConfig, SmtpMailer},
    },
    store::{MailRecord, SqlStore, Store},
};

const INSTALL: &str = "python3 -m venv target/pyenv && target/pyenv/bin/pip install aiosmtpd==1.4.6";

/// The interpreter to run the sink with: `USHER_TEST_PYTHON`, else the workspace venv, else
/// `python3`; panics with the install command when it lacks aiosmtpd.
fn python() -> String {
    let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/pyenv/bin/python");
    let python = std::env::var("USHER_TEST_PYTHON")
        .ok()
        .unwrap_or_else(|| if venv.exists() { venv.display().to_string() } else { "python3".into() });
    let ok = std::process::Command::new(&python)
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "the mail tests need Python with aiosmtpd ({python} has none); install it with `{INSTALL}`");
    python
}

/// A running `smtp_sink.py`, killed on drop, and the directory it writes messages to.
struct Sink {
    port: u16,
    dir: tempfile::TempDir,
    _child: Child,
}

impl Sink {
    /// Starts the sink on `port` (0: any free port).
    async fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/smtp_sink.py");
        let mut child = Command::new(python())
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start smtp_sink.py");
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        tokio::time::timeout(Duration::from_secs(10), BufReader::new(stdout).read_line(&mut line))
            .await
            .expect("smtp_sink.py did not start within 10 s")
            .expect("read smtp_sink.py output");
        let port = line.trim().strip_prefix("LISTENING ").and_then(|p| p.parse().ok());
        let port = port.unwrap_or_else(|| panic!("smtp_sink.py failed to start: {line:?}"));
        Self { port, dir, _child: child }
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received so far, oldest first.
    fn messages(&self) -> Vec<Value> {
        let mut paths: Vec<_> = std::fs::read_dir(self.dir.path())
            .expect("read sink dir")
            .map(|e| e.expect("dir entry").path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .collect();
        paths.sort();
        paths.iter().map(|p| serde_json::from_slice(&std::fs::read(p).expect("read message")).expect("json")).collect()
    }
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

fn mailer(url: &str) -> Arc<SmtpMailer> {
    Arc::new(SmtpMailer::new(SmtpConfig { url: url.into(), from: "Usher <no-reply@usher.test>".into() }).unwrap())
}

/// A SQLite store in a temporary directory, and the file's path for direct reads.
async fn sqlite() -> (Arc<dyn Store>, PathBuf, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("usher.db");
    let store = SqlStore::open_sqlite(&path).await.expect("open sqlite");
    (Arc::new(store), path, dir)
}

/// A queued message, due (and created) at `at`.
fn record(id: &str, to: &str, text: &str, at: i64) -> MailRecord {
    MailRecord {
        id: id.into(),
        to: to.into(),
        subject: format!("Subject of {id}"),
        body: text.into(),
        next_attempt_at: at,
        created_at: at,
        ..MailRecord::default()
    }
}

/// An outbox row as stored: (body, attempts, next_attempt_at, sent_at, last_error).
async fn row(path: &std::path::Path, id: &str) -> (String, i64, i64, Option<i64>, Option<String>) {
    let mut conn = SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("connect");
    let r = sqlx::query("SELECT body, attempts, next_attempt_at, sent_at, last_error FROM outbox WHERE id = ?")
        .bind(id)
        .fetch_one(&mut conn)
        .await
        .expect("outbox row");
    (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))
}

#[tokio::test]
async fn smtp_mailer_delivers_to_a_real_server() {
    let sink = Sink::start(0).await;
    let mail = Mail {
        to: "ada@example.com".into(),
        subject: "Your code: 123456 ✓".into(),
        text: "Your code is 123456.\nIt expires in 10 minutes. Grüße.".into(),
    };
    mailer(&sink.url()).send(&mail).await.expect("delivered");
    let got = sink.messages();
    assert_eq!(got.len(), 1, "{got:?}");
    let m = &got[0];
    assert_eq!(m["mail_from"], "no-reply@usher.test");
    assert_eq!(m["rcpt_tos"], serde_json::json!(["ada@example.com"]));
    assert_eq!(m["to"], "ada@example.com");
    assert_eq!(m["subject"], "Your code: 123456 ✓");
    assert_eq!(m["content_type"], "text/plain");
    assert_eq!(m["text"].as_str().unwrap().replace("\r\n", "\n").trim_end(), mail.text);
}

#[tokio::test]
async fn smtp_errors_are_classified() {
    let sink = Sink::start(0).await;
    let send = |to: &str| {
        let mail = Mail { to: to.into(), subject: "s".into(), text: "t".into() };
        let mailer = mailer(&sink.url());
        async move { mailer.send(&mail).await }
    };
    assert!(matches!(send("reject@example.com").await, Err(MailError::Permanent(e)) if e.contains("550")));
    assert!(matches!(send("later@example.com").await, Err(MailError::Transient(e)) if e.contains("451")));
    assert!(matches!(send("not an address").await, Err(MailError::Permanent(_))));
    let refused = mailer(&format!("smtp://127.0.0.1:{}", free_port()));
    let mail = Mail { to: "ada@example.com".into(), subject: "s".into(), text: "t".into() };
    assert!(matches!(refused.send(&mail).await, Err(MailError::Transient(_))));
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn the_outbox_delivers_from_sqlite_and_blanks_the_body() {
    let sink = Sink::start(0).await;
    let (store, path, _dir) = sqlite().await;
    let clock = ManualClock::new();
    let now = clock.now_ms();
    store.enqueue_mail(&record("mail_1", "ada@example.com", "Your code is 424242", now - 1)).await.unwrap();
    store.enqueue_mail(&record("mail_2", "bob@example.com", "Your code is 777777", now)).await.unwrap();
    store.enqueue_mail(&record("mail_later", "carl@example.com", "not yet", now + 60_000)).await.unwrap();

    assert_eq!(outbox::drain_once(&*store, &*mailer(&sink.url()), &clock).await, 2);
    let got = sink.messages();
    assert_eq!(
        got.iter().map(|m| m["to"].as_str().unwrap()).collect::<Vec<_>>(),
        ["ada@example.com", "bob@example.com"]
    );
    assert!(got[0]["text"].as_str().unwrap().contains("424242"));
    let (body, attempts, _, sent_at, error) = row(&path, "mail_1").await;
    assert_eq!((body.as_str(), attempts, sent_at, error), ("", 1, Some(now), None), "sent and blanked");

    // Sent mail is not sent again; mail queued for later goes when its time comes.
    assert_eq!(outbox::drain_once(&*store, &*mailer(&sink.url()), &clock).await, 0);
    clock.advance_ms(60_000);
    assert_eq!(outbox::drain_once(&*store, &*mailer(&sink.url()), &clock).await, 1);
    assert_eq!(sink.messages().len(), 3);
}

#[tokio::test]
async fn an_unreachable_relay_is_retried_with_backoff_until_it_answers() {
    let (store, path, _dir) = sqlite().await;
    let clock = ManualClock::new();
    let now = clock.now_ms();
    let port = free_port();
    let mailer = mailer(&format!("smtp://127.0.0.1:{port}"));
    store.enqueue_mail(&record("mail_1", "ada@example.com", "Your code is 135790", now - 1)).await.unwrap();
    store.enqueue_mail(&record("mail_2", "bob@example.com", "Your code is 246801", now)).await.unwrap();

    // Connection refused: the first is rescheduled 5 s out; the second is not tried (and keeps
    // its attempt count) because the relay is evidently down.
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
    let (body, attempts, next, sent_at, error) = row(&path, "mail_1").await;
    assert_eq!((attempts, next, sent_at), (1, now + 5_000, None));
    assert!(!body.is_empty() && error.is_some_and(|e| !e.contains("135790")));
    assert_eq!(row(&path, "mail_2").await.1, 0);
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0, "mail_2 now fails too");
    assert_eq!(row(&path, "mail_2").await.1, 1);

    // Backoff doubles: a second failure waits 10 s.
    clock.advance_ms(5_000);
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
    let (_, attempts, next, ..) = row(&path, "mail_1").await;
    assert_eq!((attempts, next), (2, clock.now_ms() + 10_000));

    // The relay comes up. mail_2 was due but untried (the pass stopped at mail_1), so it goes at
    // once; mail_1 waits for its retry time. Each arrives exactly once.
    let sink = Sink::start(port).await;
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 1);
    assert_eq!(sink.messages()[0]["to"], "bob@example.com");
    clock.advance_ms(10_000);
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 1);
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
    assert_eq!(sink.messages().len(), 2);
    assert_eq!(row(&path, "mail_1").await.0, "");
}

#[tokio::test]
async fn a_rejected_recipient_is_parked_and_others_still_go() {
    let sink = Sink::start(0).await;
    let (store, path, _dir) = sqlite().await;
    let clock = ManualClock::new();
    let now = clock.now_ms();
    let mailer = mailer(&sink.url());
    store.enqueue_mail(&record("mail_bad", "reject@example.com", "Your code is 111111", now - 1)).await.unwrap();
    store.enqueue_mail(&record("mail_ok", "ada@example.com", "Your code is 222222", now)).await.unwrap();

    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 1, "a permanent failure does not stop the batch");
    let (_, attempts, next, sent_at, error) = row(&path, "mail_bad").await;
    assert_eq!((attempts, next, sent_at), (1, PARKED, None));
    assert!(error.is_some_and(|e| e.contains("550")));
    clock.advance_ms(30 * 24 * 3_600_000);
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
    let got = sink.messages();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0]["to"], "ada@example.com");
}

#[tokio::test]
async fn a_relay_deferring_forever_is_given_up_after_ten_attempts() {
    let sink = Sink::start(0).await;
    let (store, path, _dir) = sqlite().await;
    let clock = ManualClock::new();
    let mailer = mailer(&sink.url());
    store.enqueue_mail(&record("mail_1", "later@example.com", "Your code is 333333", clock.now_ms())).await.unwrap();
    for attempt in 1..=10 {
        assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
        let (_, attempts, next, ..) = row(&path, "mail_1").await;
        assert_eq!(attempts, attempt);
        assert_eq!(next == PARKED, attempt == 10, "attempt {attempt}");
        clock.advance_ms(3_600_000);
    }
    assert_eq!(outbox::drain_once(&*store, &*mailer, &clock).await, 0);
    assert_eq!(row(&path, "mail_1").await.1, 10, "no eleventh attempt");
    assert!(sink.messages().is_empty());
}

#[tokio::test]
async fn the_loop_sends_when_woken() {
    let sink = Sink::start(0).await;
    let (store, _path, _dir) = sqlite().await;
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::new());
    let wake = Arc::new(tokio::sync::Notify::new());
    let task = tokio::spawn(outbox::run(store.clone(), mailer(&sink.url()), clock.clone(), wake.clone()));
    store.enqueue_mail(&record("mail_1", "ada@example.com", "Your code is 987654", clock.now_ms())).await.unwrap();
    wake.notify_one();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while sink.messages().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the loop did not deliver within 10 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    task.abort();
}

async fn get(app: &Router, path: &str) -> (String, String, String) {
    let response = app.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200);
    let header = |name| response.headers()[name].to_str().unwrap().to_owned();
    let (content_type, cache) = (header("content-type"), header("cache-control"));
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
    (content_type, cache, String::from_utf8(body.to_vec()).unwrap())
}

#[tokio::test]
async fn the_dev_mailbox_lists_newest_first_and_escapes_html() {
    let clock = Arc::new(ManualClock::new());
    let mailbox = Arc::new(DevMailbox::new(clock.clone()));
    // Through the outbox, as the server uses it.
    let (store, _path, _dir) = sqlite().await;
    let first = clock.now_ms();
    store.enqueue_mail(&record("mail_1", "ada@example.com", "Your code is 123456", first)).await.unwrap();
    assert_eq!(outbox::drain_once(&*store, &*mailbox, &*clock).await, 1);
    clock.advance_ms(1_000);
    let hostile = Mail {
        to: "<b>eve</b>@example.com".into(),
        subject: "<script>alert(1)</script>".into(),
        text: "no code here & \"quotes\"".into(),
    };
    mailbox.send(&hostile).await.unwrap();

    // It merges into a router with any state, such as the server's.
    let _: Router<usher_server::state::AppState> = dev::router(mailbox.clone());
    let app: Router = dev::router(mailbox);
    let (content_type, cache, body) = get(&app, "/dev/mailbox.json").await;
    assert_eq!((content_type.as_str(), cache.as_str()), ("application/json", "no-store"));
    let json: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        json,
        serde_json::json!([
            {"to": hostile.to, "subject": hostile.subject, "text": hostile.text, "code": null, "sent_at": first + 1_000},
            {"to": "ada@example.com", "subject": "Subject of mail_1", "text": "Your code is 123456", "code": "123456", "sent_at": first},
        ])
    );

    let (content_type, cache, html) = get(&app, "/dev/mailbox").await;
    assert_eq!((content_type.as_str(), cache.as_str()), ("text/html; charset=utf-8", "no-store"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script"), "{html}");
    assert!(html.contains("&lt;b&gt;eve&lt;/b&gt;") && html.contains("&amp; &quot;quotes&quot;"));
    assert!(html.find("&lt;script&gt;") < html.find("<strong class=\"code\">123456</strong>"), "newest first");
}
