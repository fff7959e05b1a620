//! Outgoing mail: one-time codes and notices, queued in the store's outbox and delivered by a
//! background loop.
//!
//! - [`Mailer`]: how a message leaves the process; [`smtp::SmtpMailer`] for real relays,
//!   [`dev::DevMailbox`] keeps messages in memory and shows them at `/dev/mailbox` for local work.
//! - [`outbox`]: the delivery loop. Requests never send mail themselves: they queue it in the
//!   same transaction as the code it carries ([`crate::store::CodeStore::issue_code`]), so a slow or
//!   failing relay never slows a sign-in and a restart never loses a message.
//!
//! Message bodies carry live codes: nothing here logs them.

pub mod dev;
pub mod outbox;
pub mod sealed;
pub mod smtp;

use async_trait::async_trait;

/// A plain-text message to one recipient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// The recipient's address.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
}

/// Why a delivery failed; decides whether the outbox tries again.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailError {
    /// Retrying cannot help: the relay rejected the recipient (5xx) or an address is invalid.
    #[error("permanent mail failure: {0}")]
    Permanent(String),
    /// May work later: the relay is unreachable, timed out, or answered 4xx.
    #[error("transient mail failure: {0}")]
    Transient(String),
}

impl MailError {
    /// Whether retrying is pointless.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Permanent(_))
    }
}

/// Somewhere to deliver mail.
#[async_trait]
pub trait Mailer: Send + Sync + 'static {
    /// Delivers one message; returns once the relay has accepted it.
    async fn send(&self, mail: &Mail) -> Result<(), MailError>;
}

/// The first run of exactly six ASCII digits in `text` (a one-time code), if any. Longer digit
/// runs (phone numbers, timestamps) are not codes.
pub fn code_in(text: &str) -> Option<String> {
    text.split(|c: char| !c.is_ascii_digit()).find(|run| run.len() == 6).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::code_in;

    #[test]
    fn finds_only_six_digit_runs() {
        assert_eq!(code_in("Your code is 123456."), Some("123456".into()));
        assert_eq!(code_in("123456"), Some("123456".into()));
        assert_eq!(code_in("call 5551234567 then use 000042"), Some("000042".into()));
        assert_eq!(code_in("12345 and 1234567"), None);
        assert_eq!(code_in("code ١٢٣٤٥٦"), None, "non-ASCII digits are not codes");
        assert_eq!(code_in(""), None);
    }
}
