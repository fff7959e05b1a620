//! External accounts and OAuth redirect state.

use async_trait::async_trait;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{SqlStore, flag, map_write_err, read_flag, state};
use crate::store::{ExternalAccountRecord, ExternalAccountStore, OAuthIntent, OAuthStateRecord, StoreResult};

const ACCOUNT_COLUMNS: &str = "id, user_id, provider, provider_user_id, identification_id, email_address, \
     email_verified, first_name, last_name, username, avatar_url, approved_scopes, access_token_sealed, \
     refresh_token_sealed, token_expire_at, created_at, updated_at";

const STATE_COLUMNS: &str = "state_hash, client_id, provider, intent, attempt_id, user_id, pkce_verifier_sealed, \
     nonce_hash, redirect_url, action_complete_redirect_url, expire_at, created_at";

/// Inserts an external account (alone, or inside an attempt's completion).
pub(super) async fn insert_account<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Any>,
    a: &ExternalAccountRecord,
) -> StoreResult<()> {
    sqlx::query(&format!(
        "INSERT INTO external_accounts ({ACCOUNT_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&a.id)
    .bind(&a.user_id)
    .bind(&a.provider)
    .bind(&a.provider_user_id)
    .bind(&a.identification_id)
    .bind(&a.email_address)
    .bind(flag(a.email_verified))
    .bind(&a.first_name)
    .bind(&a.last_name)
    .bind(&a.username)
    .bind(&a.avatar_url)
    .bind(&a.approved_scopes)
    .bind(&a.access_token_sealed)
    .bind(&a.refresh_token_sealed)
    .bind(a.token_expire_at)
    .bind(a.created_at)
    .bind(a.updated_at)
    .execute(executor)
    .await
    .map_err(map_write_err)?;
    Ok(())
}

#[async_trait]
impl ExternalAccountStore for SqlStore {
    async fn create_external_account(&self, a: &ExternalAccountRecord) -> StoreResult<()> {
        insert_account(&self.pool, a).await
    }

    async fn external_account_by_provider(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> StoreResult<Option<ExternalAccountRecord>> {
        let row = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM external_accounts WHERE provider = $1 AND provider_user_id = $2"
        ))
        .bind(provider)
        .bind(provider_user_id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    async fn external_accounts_of_user(&self, user_id: &str) -> StoreResult<Vec<ExternalAccountRecord>> {
        let rows = sqlx::query(&format!(
            "SELECT {ACCOUNT_COLUMNS} FROM external_accounts WHERE user_id = $1 ORDER BY created_at, id"
        ))
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(account_from_row).collect()
    }

    async fn update_external_account(&self, a: &ExternalAccountRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE external_accounts SET email_address = $2, email_verified = $3, first_name = $4, last_name = $5, \
             username = $6, avatar_url = $7, approved_scopes = $8, access_token_sealed = $9, \
             refresh_token_sealed = $10, token_expire_at = $11, updated_at = $12 WHERE id = $1",
        )
        .bind(&a.id)
        .bind(&a.email_address)
        .bind(flag(a.email_verified))
        .bind(&a.first_name)
        .bind(&a.last_name)
        .bind(&a.username)
        .bind(&a.avatar_url)
        .bind(&a.approved_scopes)
        .bind(&a.access_token_sealed)
        .bind(&a.refresh_token_sealed)
        .bind(a.token_expire_at)
        .bind(a.updated_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn delete_external_account(&self, user_id: &str, id: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM external_accounts WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn create_oauth_state(&self, s: &OAuthStateRecord) -> StoreResult<()> {
        sqlx::query(&format!(
            "INSERT INTO oauth_states ({STATE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        ))
        .bind(&s.state_hash)
        .bind(&s.client_id)
        .bind(&s.provider)
        .bind(s.intent.as_str())
        .bind(&s.attempt_id)
        .bind(&s.user_id)
        .bind(&s.pkce_verifier_sealed)
        .bind(&s.nonce_hash)
        .bind(&s.redirect_url)
        .bind(&s.action_complete_redirect_url)
        .bind(s.expire_at)
        .bind(s.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_write_err)?;
        Ok(())
    }

    async fn take_oauth_state(&self, state_hash: &str) -> StoreResult<Option<OAuthStateRecord>> {
        // One statement: of two racing callbacks only one gets the row back.
        let row = sqlx::query(&format!("DELETE FROM oauth_states WHERE state_hash = $1 RETURNING {STATE_COLUMNS}"))
            .bind(state_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(state_from_row).transpose()
    }

    async fn delete_expired_oauth_states(&self, now: i64) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM oauth_states WHERE expire_at <= $1").bind(now).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }
}

fn account_from_row(row: &AnyRow) -> StoreResult<ExternalAccountRecord> {
    Ok(ExternalAccountRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        provider: row.try_get("provider")?,
        provider_user_id: row.try_get("provider_user_id")?,
        identification_id: row.try_get("identification_id")?,
        email_address: row.try_get("email_address")?,
        email_verified: read_flag(row, "email_verified")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        username: row.try_get("username")?,
        avatar_url: row.try_get("avatar_url")?,
        approved_scopes: row.try_get("approved_scopes")?,
        access_token_sealed: row.try_get("access_token_sealed")?,
        refresh_token_sealed: row.try_get("refresh_token_sealed")?,
        token_expire_at: row.try_get("token_expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn state_from_row(row: &AnyRow) -> StoreResult<OAuthStateRecord> {
    Ok(OAuthStateRecord {
        state_hash: row.try_get("state_hash")?,
        client_id: row.try_get("client_id")?,
        provider: row.try_get("provider")?,
        intent: state(row, "intent", OAuthIntent::parse)?,
        attempt_id: row.try_get("attempt_id")?,
        user_id: row.try_get("user_id")?,
        pkce_verifier_sealed: row.try_get("pkce_verifier_sealed")?,
        nonce_hash: row.try_get("nonce_hash")?,
        redirect_url: row.try_get("redirect_url")?,
        action_complete_redirect_url: row.try_get("action_complete_redirect_url")?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
    })
}
