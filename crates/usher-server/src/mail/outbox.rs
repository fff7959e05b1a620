//! The delivery loop: sends what the store's outbox holds, retrying with backoff.
//!
//! Delivery is at least once: a crash between the relay accepting a message and
//! [`crate::store::OutboxStore::mail_sent`] sends it again after restart. A second code message is harmless; a lost
//! one locks the user out.

use std::{sync::Arc, time::Duration};

use tokio::sync::Notify;

use super::{Mail, Mailer};
use crate::{clock::Clock, store::Store};

/// Messages taken per store read.
const BATCH: i64 = 50;
/// How often the loop looks even when nobody wakes it (retries become due by time alone).
const TICK: Duration = Duration::from_secs(1);
/// The first retry delay, doubled after each failure up to [`MAX_DELAY_MS`].
const FIRST_DELAY_MS: i64 = 5_000;
const MAX_DELAY_MS: i64 = 3_600_000;
/// After this many failed attempts a message is parked: ten tries span about 43 minutes,
/// longer than a code stays useful.
const MAX_ATTEMPTS: i64 = 10;
/// `next_attempt_at` for a parked message: never due again.
pub const PARKED: i64 = i64::MAX;

/// Delivers due mail forever. Wake it with [`Notify::notify_one`] after queueing so a code goes
/// out at once; a wake during a drain is remembered, so none is lost. Cancel by aborting the task.
pub async fn run(store: Arc<dyn Store>, mailer: Arc<dyn Mailer>, clock: Arc<dyn Clock>, wake: Arc<Notify>) {
    loop {
        // A whole batch delivered may mean more are waiting: go again without sleeping.
        while drain_once(&*store, &*mailer, &*clock).await == BATCH as usize {}
        tokio::select! {
            () = wake.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Sends one batch of due messages, records each outcome, and returns how many were delivered.
/// Stops at the first transient
/// failure: the relay is probably down, and the untried rest keep their attempt counts and go
/// out on a later pass instead of each waiting out a timeout now. Store errors are logged,
/// never returned, so the loop survives a database blip.
pub async fn drain_once(store: &dyn Store, mailer: &dyn Mailer, clock: &dyn Clock) -> usize {
    let due = match store.due_mail(clock.now_ms(), BATCH).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "reading the mail outbox failed");
            return 0;
        }
    };
    let mut sent = 0;
    for record in due {
        // With several nodes, only the one that claims a message sends it; the claim lasts long
        // enough for a send to finish or fail (10 s timeout) and is replaced by its outcome.
        match store.claim_mail(&record, clock.now_ms().saturating_add(CLAIM_MS)).await {
            Ok(true) => {}
            Ok(false) => continue,
            Err(e) => {
                tracing::warn!(mail_id = %record.id, error = %e, "claiming a message failed");
                break;
            }
        }
        let mail = Mail { to: record.to, subject: record.subject, text: record.body };
        match mailer.send(&mail).await {
            Ok(()) => {
                sent += 1;
                if let Err(e) = store.mail_sent(&record.id, clock.now_ms()).await {
                    // It will be sent again: better than losing track of a delivered code.
                    tracing::warn!(mail_id = %record.id, error = %e, "recording a sent message failed");
                }
            }
            Err(error) => {
                let attempts = record.attempts + 1;
                let park = error.is_permanent() || attempts >= MAX_ATTEMPTS;
                let retry_at = if park { PARKED } else { clock.now_ms().saturating_add(delay_ms(attempts)) };
                if park {
                    tracing::warn!(mail_id = %record.id, attempts, %error, "giving up on a message");
                } else {
                    tracing::info!(mail_id = %record.id, attempts, %error, "message not delivered; will retry");
                }
                if let Err(e) = store.mail_failed(&record.id, &error.to_string(), retry_at).await {
                    tracing::warn!(mail_id = %record.id, error = %e, "recording a failed message failed");
                }
                if !error.is_permanent() {
                    break;
                }
            }
        }
    }
    sent
}

/// How long a claimed message is left to the node that claimed it.
const CLAIM_MS: i64 = 60_000;

/// The wait after the `attempts`-th failure: 5 s, 10 s, 20 s, … capped at an hour.
fn delay_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.saturating_sub(1)).unwrap_or(u32::MAX).min(20);
    FIRST_DELAY_MS.saturating_mul(1 << doublings).min(MAX_DELAY_MS)
}

#[cfg(test)]
mod tests {
    use super::delay_ms;

    #[test]
    fn backoff_doubles_then_caps() {
        assert_eq!(delay_ms(1), 5_000);
        assert_eq!(delay_ms(2), 10_000);
        assert_eq!(delay_ms(4), 40_000);
        assert_eq!(delay_ms(10), 2_560_000);
        assert_eq!(delay_ms(11), 3_600_000);
        assert_eq!(delay_ms(i64::MAX), 3_600_000);
    }
}
