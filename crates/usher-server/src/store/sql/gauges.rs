//! Queue depths and pool usage for the metrics endpoint.

use async_trait::async_trait;
use sqlx::Row;

use super::SqlStore;
use crate::store::{DeliveryStatus, GaugeStore, StoreGauges, StoreResult};

/// `next_attempt_at` of a message the outbox worker gave up on (`mail::outbox::PARKED`).
const PARKED: i64 = i64::MAX;

#[async_trait]
impl GaugeStore for SqlStore {
    async fn gauges(&self) -> StoreResult<StoreGauges> {
        // One statement: the figures are of the same moment. Unsent mail and pending
        // deliveries are few in a healthy instance; the webhook_deliveries_due index serves
        // the status filter, and only unsent outbox rows are scanned by the mail counts.
        let row = sqlx::query(
            "SELECT \
             (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND next_attempt_at < $1) AS mail_queued, \
             (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND next_attempt_at < $1 AND attempts > 0) AS mail_failing, \
             (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND next_attempt_at = $1) AS mail_parked, \
             (SELECT COUNT(*) FROM webhook_messages WHERE fanned_out = 0) AS unrouted, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = $2) AS pending, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = $2 AND attempts > 0) AS failing, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = $3) AS failed",
        )
        .bind(PARKED)
        .bind(DeliveryStatus::Pending.as_str())
        .bind(DeliveryStatus::Failed.as_str())
        .fetch_one(&self.pool)
        .await?;
        let size = i64::from(self.pool.size());
        let idle = i64::try_from(self.pool.num_idle()).unwrap_or(i64::MAX);
        Ok(StoreGauges {
            mail_queued: row.try_get("mail_queued")?,
            mail_failing: row.try_get("mail_failing")?,
            mail_parked: row.try_get("mail_parked")?,
            webhook_messages_unrouted: row.try_get("unrouted")?,
            webhook_deliveries_pending: row.try_get("pending")?,
            webhook_deliveries_failing: row.try_get("failing")?,
            webhook_deliveries_failed: row.try_get("failed")?,
            db_connections: size,
            db_connections_idle: idle,
            db_connections_max: i64::from(self.pool.options().get_max_connections()),
        })
    }
}
