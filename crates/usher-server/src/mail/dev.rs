//! A mailbox in memory for local development and tests: nothing leaves the process, and
//! `/dev/mailbox` shows what would have been sent, codes included. Never mount it on a
//! production server: anyone who can reach it can read every sign-in code.

use std::{
    collections::VecDeque,
    fmt::Write as _,
    sync::{Arc, Mutex, PoisonError},
};

use async_trait::async_trait;
use axum::{
    Json, Router,
    extract::State,
    http::header,
    response::{Html, IntoResponse},
    routing::get,
};
use serde::Serialize;

use super::{Mail, MailError, Mailer, code_in};
use crate::{clock::Clock, html::escape};

/// How many messages are kept; older ones are dropped so a long-running dev server stays small.
const CAPACITY: usize = 1000;

/// One message as delivered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DevMessage {
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The one-time code in the body, if any ([`code_in`]), so scripts need not parse text.
    pub code: Option<String>,
    /// When it was delivered, in ms since the epoch.
    pub sent_at: i64,
}

/// A [`Mailer`] that keeps the newest messages in memory.
pub struct DevMailbox {
    clock: Arc<dyn Clock>,
    messages: Mutex<VecDeque<DevMessage>>,
}

impl DevMailbox {
    /// An empty mailbox stamping messages with `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self { clock, messages: Mutex::new(VecDeque::new()) }
    }

    /// Every kept message, newest first.
    pub fn messages(&self) -> Vec<DevMessage> {
        self.lock().iter().rev().cloned().collect()
    }

    // A panic elsewhere while holding the lock leaves the queue consistent (push and pop only).
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<DevMessage>> {
        self.messages.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl Mailer for DevMailbox {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let message = DevMessage {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            code: code_in(&mail.text),
            sent_at: self.clock.now_ms(),
        };
        let mut messages = self.lock();
        if messages.len() == CAPACITY {
            messages.pop_front();
        }
        messages.push_back(message);
        Ok(())
    }
}

/// `GET /dev/mailbox.json` and `GET /dev/mailbox` for `mailbox`, mergeable into a router with
/// any state.
pub fn router<S: Clone + Send + Sync + 'static>(mailbox: Arc<DevMailbox>) -> Router<S> {
    Router::new().route("/dev/mailbox.json", get(json)).route("/dev/mailbox", get(page)).with_state(mailbox)
}

// Codes go stale fast and must not linger in caches.
const NO_STORE: [(header::HeaderName, &str); 1] = [(header::CACHE_CONTROL, "no-store")];

async fn json(State(mailbox): State<Arc<DevMailbox>>) -> impl IntoResponse {
    (NO_STORE, Json(mailbox.messages()))
}

async fn page(State(mailbox): State<Arc<DevMailbox>>) -> impl IntoResponse {
    (NO_STORE, Html(render(&mailbox.messages())))
}

/// A self-contained page (no scripts or external assets); every message field is escaped.
fn render(messages: &[DevMessage]) -> String {
    let mut html = String::from(concat!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">",
        "<title>usher dev mailbox</title><style>",
        "body{font:16px/1.5 system-ui,sans-serif;max-width:50rem;margin:2rem auto;padding:0 1rem;color:#111}",
        "article{border:1px solid #888;border-radius:.5rem;padding:1rem;margin:1rem 0}",
        "h2{font-size:1.1rem;margin:0}pre{white-space:pre-wrap;background:#f4f4f4;padding:.5rem}",
        ".code{font:700 1.6rem monospace;letter-spacing:.2em;background:#ffe66d;padding:0 .3rem}",
        "</style></head><body><main><h1>Dev mailbox</h1>",
        "<p>Mail usher would have sent, newest first. Reload to see new messages.</p>",
    ));
    if messages.is_empty() {
        html.push_str("<p>No messages yet.</p>");
    }
    for m in messages {
        let _ = write!(
            html,
            "<article><h2>{}</h2><p>To: {} · <time data-ms=\"{}\">{}</time></p>",
            escape(&m.subject),
            escape(&m.to),
            m.sent_at,
            m.sent_at
        );
        if let Some(code) = &m.code {
            let _ = write!(html, "<p>Code: <strong class=\"code\">{}</strong></p>", escape(code));
        }
        let _ = write!(html, "<pre>{}</pre></article>", escape(&m.text));
    }
    html.push_str("</main></body></html>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[tokio::test]
    async fn keeps_only_the_newest() {
        let mailbox = DevMailbox::new(Arc::new(ManualClock::new()));
        for i in 0..CAPACITY + 5 {
            let mail = Mail { to: "a@example.com".into(), subject: format!("{i}"), text: String::new() };
            mailbox.send(&mail).await.unwrap();
        }
        let messages = mailbox.messages();
        assert_eq!(messages.len(), CAPACITY);
        assert_eq!(messages[0].subject, format!("{}", CAPACITY + 4));
        assert_eq!(messages[CAPACITY - 1].subject, "5");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
    }
}
