//! Webhook endpoints, the event outbox, deliveries and attempts.

use async_trait::async_trait;
use sqlx::{Row, any::AnyRow};

use super::{SqlStore, flag, map_write_err, read_flag, state};
use crate::store::{
    AttemptOutcome, Change, DeliveryRecord, DeliveryStatus, EndpointRecord, MessageRecord, NewEvent, Page, StoreError,
    StoreResult, WebhookAttemptRecord, WebhookStats, WebhookStore,
};

const ENDPOINT_COLUMNS: &str = "id, url, description, event_types, enabled, secret, previous_secret, \
    previous_secret_until, failing_since, created_at, updated_at";
const DELIVERY_COLUMNS: &str =
    "endpoint_id, message_id, status, attempts, next_attempt_at, message_created_at, message_position, updated_at";
const ATTEMPT_COLUMNS: &str = "id, endpoint_id, message_id, succeeded, status_code, latency_ms, error, created_at";

impl SqlStore {
    /// Renders `changes` and writes their events inside `tx`: the one call a write method makes
    /// to emit (see DEVELOPERS.md, "Webhook events"). Without a renderer it writes nothing.
    pub(super) async fn emit(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        changes: &[Change<'_>],
    ) -> StoreResult<()> {
        // Every changing write passes here inside its transaction: an audited store's entry
        // is written with the first of them.
        if let Some(pending) = &self.audit
            && pending.claim()
        {
            super::audit::insert_entry(&mut **tx, &pending.entry).await?;
        }
        let Some(renderer) = &self.events else { return Ok(()) };
        let events: Vec<NewEvent> = changes.iter().filter_map(|c| renderer.render(c)).collect();
        if events.is_empty() {
            return Ok(());
        }
        insert_events(tx, &events).await?;
        renderer.written();
        Ok(())
    }
}

/// Inserts events with their order among themselves.
async fn insert_events(conn: &mut sqlx::AnyConnection, events: &[NewEvent]) -> StoreResult<()> {
    for (position, e) in events.iter().enumerate() {
        sqlx::query(
            "INSERT INTO webhook_messages (id, event_type, payload, created_at, position, fanned_out) \
             VALUES ($1, $2, $3, $4, $5, 0)",
        )
        .bind(&e.id)
        .bind(&e.event_type)
        .bind(&e.payload)
        .bind(e.created_at)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .execute(&mut *conn)
        .await
        .map_err(map_write_err)?;
    }
    Ok(())
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create_endpoint(&self, e: &EndpointRecord) -> StoreResult<()> {
        self.write_one(sqlx::query(&format!(
            "INSERT INTO webhook_endpoints ({ENDPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        ))
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.description)
        .bind(types_json(&e.event_types))
        .bind(flag(e.enabled))
        .bind(&e.secret)
        .bind(e.previous_secret.as_deref())
        .bind(e.previous_secret_until)
        .bind(e.failing_since)
        .bind(e.created_at)
        .bind(e.updated_at)).await?;
        Ok(())
    }

    async fn get_endpoint(&self, id: &str) -> StoreResult<Option<EndpointRecord>> {
        let row = sqlx::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    async fn list_endpoints(&self, page: Page) -> StoreResult<(Vec<EndpointRecord>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints ORDER BY created_at, id LIMIT $1 OFFSET $2"
        ))
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM webhook_endpoints").fetch_one(&self.pool).await?.try_get("n")?;
        Ok((rows.iter().map(endpoint_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn update_endpoint(&self, e: &EndpointRecord) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query(
            "UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, enabled = $5, secret = $6, \
             previous_secret = $7, previous_secret_until = $8, failing_since = $9, updated_at = $10 WHERE id = $1",
        )
        .bind(&e.id)
        .bind(&e.url)
        .bind(&e.description)
        .bind(types_json(&e.event_types))
        .bind(flag(e.enabled))
        .bind(&e.secret)
        .bind(e.previous_secret.as_deref())
        .bind(e.previous_secret_until)
        .bind(e.failing_since)
        .bind(e.updated_at)).await?;
        Ok(done == 1)
    }

    async fn delete_endpoint(&self, id: &str) -> StoreResult<bool> {
        let done = self.write_one(sqlx::query("DELETE FROM webhook_endpoints WHERE id = $1").bind(id)).await?;
        Ok(done == 1)
    }

    async fn enqueue_events(&self, events: &[NewEvent]) -> StoreResult<()> {
        let mut tx = self.pool.begin().await?;
        insert_events(&mut tx, events).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn get_message(&self, id: &str) -> StoreResult<Option<MessageRecord>> {
        let row = sqlx::query("SELECT id, event_type, payload, created_at FROM webhook_messages WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| {
                Ok(MessageRecord {
                    id: r.try_get("id")?,
                    event_type: r.try_get("event_type")?,
                    payload: r.try_get("payload")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .transpose()
    }

    async fn route_messages(&self, now: i64, limit: i64) -> StoreResult<usize> {
        // The transaction starts with its write (the claim), never with a read: on SQLite a
        // transaction that reads first and then writes fails at once with "database is locked"
        // when another connection wrote meanwhile, where a first write waits its turn. On
        // PostgreSQL a second node's claim waits for this one and then takes nothing, so each
        // message is routed once.
        let mut tx = self.pool.begin().await?;
        let mut messages = sqlx::query(
            "UPDATE webhook_messages SET fanned_out = 1 WHERE fanned_out = 0 AND id IN \
             (SELECT id FROM webhook_messages WHERE fanned_out = 0 ORDER BY created_at, position, id LIMIT $1) \
             RETURNING id, event_type, created_at, position",
        )
        .bind(limit)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|m| {
            Ok::<_, StoreError>((
                m.try_get::<i64, _>("created_at")?,
                m.try_get::<i64, _>("position")?,
                m.try_get::<String, _>("id")?,
                m.try_get::<String, _>("event_type")?,
            ))
        })
        .collect::<Result<Vec<_>, _>>()?;
        if messages.is_empty() {
            return Ok(0);
        }
        messages.sort();
        let endpoints = sqlx::query(&format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE enabled = 1"))
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(endpoint_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        for (created_at, position, id, event_type) in &messages {
            for e in endpoints.iter().filter(|e| e.wants(event_type)) {
                sqlx::query(&format!(
                    "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, 0, $4, $5, $6, $4) \
                     ON CONFLICT (endpoint_id, message_id) DO NOTHING"
                ))
                .bind(&e.id)
                .bind(id)
                .bind(DeliveryStatus::Pending.as_str())
                .bind(now)
                .bind(created_at)
                .bind(position)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(messages.len())
    }

    async fn due_deliveries(&self, now: i64, limit: i64) -> StoreResult<Vec<DeliveryRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = $1 AND next_attempt_at <= $2 \
             ORDER BY message_created_at, message_position, message_id LIMIT $3"
        ))
        .bind(DeliveryStatus::Pending.as_str())
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn claim_delivery(&self, d: &DeliveryRecord, until: i64) -> StoreResult<bool> {
        // Succeeds only if nobody moved `next_attempt_at` since `d` was read.
        let done = sqlx::query(
            "UPDATE webhook_deliveries SET next_attempt_at = $4 \
             WHERE endpoint_id = $1 AND message_id = $2 AND next_attempt_at = $3 AND status = $5",
        )
        .bind(&d.endpoint_id)
        .bind(&d.message_id)
        .bind(d.next_attempt_at)
        .bind(until)
        .bind(DeliveryStatus::Pending.as_str())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn record_webhook_attempt(&self, o: &AttemptOutcome) -> StoreResult<()> {
        let a = &o.attempt;
        let mut tx = self.pool.begin().await?;
        sqlx::query(&format!(
            "INSERT INTO webhook_attempts ({ATTEMPT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&a.id)
        .bind(&a.endpoint_id)
        .bind(&a.message_id)
        .bind(flag(a.succeeded))
        .bind(a.status_code)
        .bind(a.latency_ms)
        .bind(a.error.as_deref())
        .bind(a.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_write_err)?;
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $3, attempts = attempts + 1, next_attempt_at = $4, updated_at = $5 \
             WHERE endpoint_id = $1 AND message_id = $2",
        )
        .bind(&a.endpoint_id)
        .bind(&a.message_id)
        .bind(o.status.as_str())
        .bind(o.next_attempt_at)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await?;
        let failing = if a.succeeded {
            "UPDATE webhook_endpoints SET failing_since = NULL WHERE id = $1 AND $2 = $2"
        } else {
            "UPDATE webhook_endpoints SET failing_since = $2 WHERE id = $1 AND failing_since IS NULL"
        };
        sqlx::query(failing).bind(&a.endpoint_id).bind(a.created_at).execute(&mut *tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn list_deliveries(&self, endpoint_id: &str, page: Page) -> StoreResult<(Vec<DeliveryRecord>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE endpoint_id = $1 \
             ORDER BY message_created_at DESC, message_position DESC, message_id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(endpoint_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = $1")
            .bind(endpoint_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        Ok((rows.iter().map(delivery_from_row).collect::<StoreResult<_>>()?, total))
    }

    async fn list_webhook_attempts(
        &self,
        endpoint_id: &str,
        page: Page,
    ) -> StoreResult<(Vec<WebhookAttemptRecord>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {ATTEMPT_COLUMNS} FROM webhook_attempts WHERE endpoint_id = $1 \
             ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(endpoint_id)
        .bind(page.limit)
        .bind(page.offset)
        .fetch_all(&self.pool)
        .await?;
        let total: i64 = sqlx::query("SELECT COUNT(*) AS n FROM webhook_attempts WHERE endpoint_id = $1")
            .bind(endpoint_id)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        let attempts = rows
            .iter()
            .map(|r| {
                Ok(WebhookAttemptRecord {
                    id: r.try_get("id")?,
                    endpoint_id: r.try_get("endpoint_id")?,
                    message_id: r.try_get("message_id")?,
                    succeeded: read_flag(r, "succeeded")?,
                    status_code: r.try_get("status_code")?,
                    latency_ms: r.try_get("latency_ms")?,
                    error: r.try_get("error")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect::<StoreResult<_>>()?;
        Ok((attempts, total))
    }

    async fn replay_message(&self, message_id: &str, endpoint_id: Option<&str>, now: i64) -> StoreResult<u64> {
        // A message never changes, so it is read outside the transaction, which then starts with
        // its write (see `route_messages` for why that matters on SQLite).
        let message = sqlx::query("SELECT created_at, position FROM webhook_messages WHERE id = $1")
            .bind(message_id)
            .fetch_optional(&self.pool)
            .await?;
        let mut tx = self.pool.begin().await?;
        let Some(message) = message else { return Ok(0) };
        let pending = DeliveryStatus::Pending.as_str();
        let mut count = 0;
        if let Some(endpoint_id) = endpoint_id {
            count += sqlx::query(&format!(
                "INSERT INTO webhook_deliveries ({DELIVERY_COLUMNS}) VALUES ($1, $2, $3, 0, $4, $5, $6, $4) \
                 ON CONFLICT (endpoint_id, message_id) DO UPDATE SET status = $3, next_attempt_at = $4, updated_at = $4"
            ))
            .bind(endpoint_id)
            .bind(message_id)
            .bind(pending)
            .bind(now)
            .bind(message.try_get::<i64, _>("created_at")?)
            .bind(message.try_get::<i64, _>("position")?)
            .execute(&mut *tx)
            .await
            .map_err(map_write_err)?
            .rows_affected();
        } else {
            count += sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, next_attempt_at = $3, updated_at = $3 WHERE message_id = $1",
            )
            .bind(message_id)
            .bind(pending)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        }
        if count > 0 {
            self.emit(&mut tx, &[]).await?;
        }
        tx.commit().await?;
        Ok(count)
    }

    async fn disable_failing_endpoints(&self, before: i64, now: i64) -> StoreResult<Vec<String>> {
        // Write first (see `route_messages`).
        let mut tx = self.pool.begin().await?;
        let ids: Vec<String> = sqlx::query(
            "UPDATE webhook_endpoints SET enabled = 0, updated_at = $2 \
             WHERE enabled = 1 AND failing_since IS NOT NULL AND failing_since < $1 RETURNING id",
        )
        .bind(before)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(|r| r.try_get("id"))
        .collect::<Result<_, _>>()?;
        for id in &ids {
            sqlx::query(
                "UPDATE webhook_deliveries SET status = $2, updated_at = $3 WHERE endpoint_id = $1 AND status = $4",
            )
            .bind(id)
            .bind(DeliveryStatus::Failed.as_str())
            .bind(now)
            .bind(DeliveryStatus::Pending.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn webhook_stats(&self) -> StoreResult<WebhookStats> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM webhook_messages WHERE fanned_out = 0) AS unrouted, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = $1) AS pending, \
             (SELECT COUNT(*) FROM webhook_deliveries WHERE status = $2) AS failed, \
             (SELECT COUNT(*) FROM webhook_attempts WHERE succeeded = 0) AS failed_attempts",
        )
        .bind(DeliveryStatus::Pending.as_str())
        .bind(DeliveryStatus::Failed.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(WebhookStats {
            unrouted_messages: row.try_get("unrouted")?,
            pending_deliveries: row.try_get("pending")?,
            failed_deliveries: row.try_get("failed")?,
            failed_attempts: row.try_get("failed_attempts")?,
        })
    }
}

fn types_json(types: &[String]) -> String {
    serde_json::Value::from(types.to_vec()).to_string()
}

fn endpoint_from_row(row: &AnyRow) -> StoreResult<EndpointRecord> {
    let types: String = row.try_get("event_types")?;
    Ok(EndpointRecord {
        id: row.try_get("id")?,
        url: row.try_get("url")?,
        description: row.try_get("description")?,
        event_types: serde_json::from_str(&types).map_err(|e| StoreError::Corrupt(format!("event_types: {e}")))?,
        enabled: read_flag(row, "enabled")?,
        secret: row.try_get("secret")?,
        previous_secret: row.try_get("previous_secret")?,
        previous_secret_until: row.try_get("previous_secret_until")?,
        failing_since: row.try_get("failing_since")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn delivery_from_row(row: &AnyRow) -> StoreResult<DeliveryRecord> {
    Ok(DeliveryRecord {
        endpoint_id: row.try_get("endpoint_id")?,
        message_id: row.try_get("message_id")?,
        status: state(row, "status", DeliveryStatus::parse)?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: row.try_get("next_attempt_at")?,
        message_created_at: row.try_get("message_created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}
