//! What the metrics endpoint reads from storage when scraped: queue depths and pool usage.

use async_trait::async_trait;

use super::StoreResult;

/// Queue depths and database pool usage at one moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StoreGauges {
    /// Mail not yet sent and not given up on.
    pub mail_queued: i64,
    /// Of those, messages whose last attempt failed.
    pub mail_failing: i64,
    /// Mail given up on.
    pub mail_parked: i64,
    /// Webhook events not yet routed to endpoints.
    pub webhook_messages_unrouted: i64,
    /// Webhook deliveries waiting to be sent or retried.
    pub webhook_deliveries_pending: i64,
    /// Of those, deliveries that failed at least once.
    pub webhook_deliveries_failing: i64,
    /// Webhook deliveries given up on.
    pub webhook_deliveries_failed: i64,
    /// Open database connections.
    pub db_connections: i64,
    /// Of those, idle ones.
    pub db_connections_idle: i64,
    /// The pool's maximum.
    pub db_connections_max: i64,
}

/// Read-only figures for operators.
#[async_trait]
pub trait GaugeStore: Send + Sync {
    /// The current queue depths and pool usage (a few indexed counts).
    async fn gauges(&self) -> StoreResult<StoreGauges>;
}
