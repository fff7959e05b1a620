//! Queued messages carry live codes, and a queue row outlives its delivery in database pages
//! and write-ahead logs. So bodies are queued sealed ([`crate::seal`]) and opened only on their
//! way out: a database dump holds no code.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Mail, MailError, Mailer};
use crate::seal::Sealer;

/// A [`Mailer`] that opens sealed bodies and hands the message to the real one.
pub struct OpeningMailer {
    /// Where messages go.
    pub inner: Arc<dyn Mailer>,
    /// The key they were sealed with.
    pub sealer: Arc<Sealer>,
}

#[async_trait]
impl Mailer for OpeningMailer {
    async fn send(&self, mail: &Mail) -> Result<(), MailError> {
        let Some(text) = self.sealer.open_text(&mail.text) else {
            // Sealed under another secret key (it was changed): this can never be delivered.
            return Err(MailError::Permanent("the queued body cannot be opened with this secret key".into()));
        };
        self.inner.send(&Mail { text, ..mail.clone() }).await
    }
}
