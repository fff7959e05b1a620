//! Sign-in tokens.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use serde_json::Value;

use super::{SqlStore, json, state};
use crate::store::{SignInTokenRecord, SignInTokenStatus, SignInTokenStore, StoreResult};

const SIGN_IN_TOKEN_COLUMNS: &str =
    "id, user_id, token_hash, status, expire_at, created_at, updated_at, actor, session_max_duration";

#[async_trait]
impl SignInTokenStore for SqlStore {
    async fn create_sign_in_token(&self, t: &SignInTokenRecord) -> StoreResult<()> {
        self.write_one(
            sqlx::query(&format!(
                "INSERT INTO sign_in_tokens ({SIGN_IN_TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
            ))
            .bind(&t.id)
            .bind(&t.user_id)
            .bind(&t.token_hash)
            .bind(t.status.as_str())
            .bind(t.expire_at)
            .bind(t.created_at)
            .bind(t.updated_at)
            .bind(t.actor.as_ref().map(Value::to_string))
            .bind(t.session_max_duration),
        )
        .await?;
        Ok(())
    }

    async fn accept_sign_in_token(&self, token_hash: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>> {
        let done = sqlx::query(
            "UPDATE sign_in_tokens SET status = 'accepted', updated_at = $2 \
             WHERE token_hash = $1 AND status = 'pending' AND expire_at > $2",
        )
        .bind(token_hash)
        .bind(now)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(None);
        }
        let row = sqlx::query(&format!("SELECT {SIGN_IN_TOKEN_COLUMNS} FROM sign_in_tokens WHERE token_hash = $1"))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sign_in_token_from_row).transpose()
    }

    async fn revoke_sign_in_token(&self, id: &str, now: i64) -> StoreResult<Option<SignInTokenRecord>> {
        sqlx::query(
            "UPDATE sign_in_tokens SET status = 'revoked', updated_at = $2 WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        let row = sqlx::query(&format!("SELECT {SIGN_IN_TOKEN_COLUMNS} FROM sign_in_tokens WHERE id = $1"))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(sign_in_token_from_row).transpose()
    }

    async fn revoke_user_sign_in_tokens(&self, user_id: &str, now: i64) -> StoreResult<u64> {
        let done = sqlx::query(
            "UPDATE sign_in_tokens SET status = 'revoked', updated_at = $2 WHERE user_id = $1 AND status = 'pending'",
        )
        .bind(user_id)
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected())
    }
}

fn sign_in_token_from_row(row: &AnyRow) -> StoreResult<SignInTokenRecord> {
    Ok(SignInTokenRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        token_hash: row.try_get("token_hash")?,
        status: state(row, "status", SignInTokenStatus::parse)?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        actor: row.try_get::<Option<String>, _>("actor")?.as_deref().map(json).transpose()?,
        session_max_duration: row.try_get("session_max_duration")?,
    })
}
