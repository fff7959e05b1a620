//! Delivery through an SMTP relay with lettre.

use std::time::Duration;

use anyhow::{Context as _, anyhow};
use async_trait::async_trait;
use lettre::{
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor, message::Mailbox, message::header::ContentType,
};

use super::{Mail, MailError, Mailer};

/// How long one delivery (connect, TLS, every SMTP command) may take. Short, because the outbox
/// sends one message at a time and a hung relay must not stall it for minutes.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where and as whom to send.
#[derive(Clone)]
pub struct SmtpConfig {
    /// `smtp://[user:pass@]host[:port]` (plain; add `?tls=required` for STARTTLS, default port
    /// 587) or `smtps://[user:pass@]host[:port]` (TLS from the start, default port 465). The user
    /// and password are percent-decoded.
    pub url: String,
    /// The sender, `addr@example.com` or `Name <addr@example.com>`.
    pub from: String,
}

// The URL may hold a password: never print it.
impl std::fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpConfig").field("url", &"<redacted>").field("from", &self.from).finish()
    }
}

/// A [`Mailer`] for an SMTP relay. Opens a connection per message: codes are sent one at a time
/// and rarely, and a fresh connection recovers from relay restarts without pool bookkeeping.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// Checks the URL and sender; connects only when sending.
    pub fn new(config: SmtpConfig) -> anyhow::Result<Self> {
        // lettre's URL errors name only the scheme or missing host, never the password.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(&config.url)
            .map_err(|e| {
                anyhow!(
                    "invalid SMTP URL (expected smtp://[user:pass@]host[:port][?tls=required] \
                     or smtps://[user:pass@]host[:port]): {e}"
                )
            })?
            .timeout(Some(TIMEOUT))
            .build();
        let from = config
            .from
            .parse::<Mailbox>()
            .with_context(|| format!("invalid mail sender {:?} (expected addr@example.com)", config.from))?;
        Ok(Self { transport, from })
    }
}

#[async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let to =
            mail.to.parse::<Mailbox>().map_err(|e| MailError::Permanent(format!("invalid recipient address: {e}")))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.text.clone())
            .map_err(|e| MailError::Permanent(format!("cannot build message: {e}")))?;
        self.transport.send(message).await.map(drop).map_err(classify)
    }
}

/// Sorts lettre's errors into retry or give up. A 5xx reply is final, except the
/// authentication ones (530, 534, 535, 538): those mean usher's credentials are wrong, which an
/// operator fixes, so the message should still go out afterwards. Connection, TLS and timeout
/// failures are transient. The text is the relay's reply or a socket error, never the body.
fn classify(error: lettre::transport::smtp::Error) -> MailError {
    let text = error.to_string();
    match error.status() {
        Some(code) if error.is_permanent() && !matches!(u16::from(code), 530 | 534 | 535 | 538) => {
            MailError::Permanent(text)
        }
        _ => MailError::Transient(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str, from: &str) -> SmtpConfig {
        SmtpConfig { url: url.into(), from: from.into() }
    }

    #[test]
    fn bad_urls_and_senders_are_refused_without_echoing_secrets() {
        let error = SmtpMailer::new(config("http://user:hunter2@example.com", "a@example.com")).err().unwrap();
        let text = format!("{error:#}");
        assert!(text.contains("invalid SMTP URL") && !text.contains("hunter2"), "{text}");
        assert!(SmtpMailer::new(config("not a url", "a@example.com")).is_err());
        let error = SmtpMailer::new(config("smtp://127.0.0.1:25", "not an address")).err().unwrap();
        assert!(format!("{error:#}").contains("invalid mail sender"));
        assert!(SmtpMailer::new(config("smtps://u:p@smtp.example.com", "Usher <no-reply@example.com>")).is_ok());
        assert!(!format!("{:?}", config("smtp://u:hunter2@h", "a@b.c")).contains("hunter2"));
    }

    #[tokio::test]
    async fn an_invalid_recipient_is_permanent() {
        let mailer = SmtpMailer::new(config("smtp://127.0.0.1:1", "a@example.com")).unwrap();
        let mail = Mail { to: "no at sign".into(), subject: "s".into(), text: "t".into() };
        assert!(mailer.send(&mail).await.unwrap_err().is_permanent());
    }
}
