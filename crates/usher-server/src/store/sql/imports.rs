//! Bulk import and export of users: one transaction per batch, a savepoint per row.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::Row;

use super::{
    Bind, SqlBuilder, SqlStore, flag, map_write_err,
    users::{FACTOR_FLAGS, USER_COLUMNS, insert_email, insert_user, prefixed_user_columns, user_from_row},
};
use crate::{
    ids,
    store::{
        ExportedUser, IdentifierRecord, ImportOutcome, ImportStore, ImportedUser, StoreError, StoreResult, TotpRecord,
        UniqueField, UserRecord,
    },
};

#[async_trait]
impl ImportStore for SqlStore {
    async fn import_users(
        &self,
        users: &[ImportedUser],
        same_totp: &(dyn for<'x, 'y> Fn(&'x str, &'y str) -> bool + Sync),
        dry_run: bool,
    ) -> StoreResult<Vec<ImportOutcome>> {
        // The users the batch names, read in two statements before writing.
        let by_id: Vec<String> = users.iter().filter(|u| !u.match_external_id).map(|u| u.user.id.clone()).collect();
        let by_external: Vec<String> =
            users.iter().filter(|u| u.match_external_id).filter_map(|u| u.user.external_id.clone()).collect();
        let mut existing: HashMap<String, UserRecord> = HashMap::new();
        let mut external_to_id: HashMap<String, String> = HashMap::new();
        for (column, values) in [("u.id", &by_id), ("u.external_id", &by_external)] {
            for user in self.users_where(column, values).await? {
                if let Some(external) = &user.external_id {
                    external_to_id.insert(external.clone(), user.id.clone());
                }
                existing.insert(user.id.clone(), user);
            }
        }
        let totps = self.totps_of(&existing.keys().cloned().collect::<Vec<_>>()).await?;
        let mut tx = self.pool.begin().await?;
        let is_new = |imported: &ImportedUser| {
            if imported.match_external_id {
                imported.user.external_id.as_ref().is_none_or(|e| !external_to_id.contains_key(e))
            } else {
                !existing.contains_key(&imported.user.id)
            }
        };
        // The common case, new users without conflicts: a few multi-row statements for the
        // whole batch instead of several round trips per user. On any conflict it is undone
        // and the batch goes row by row, so the conflicting rows can be named.
        let fresh: Vec<&ImportedUser> = users.iter().filter(|u| is_new(u)).collect();
        let mut bulk = sqlx::Acquire::begin(&mut *tx).await?;
        let bulk_done = match insert_many(&mut bulk, &fresh).await {
            Ok(()) => {
                bulk.commit().await?;
                true
            }
            Err(StoreError::Conflict(_)) => {
                bulk.rollback().await?;
                false
            }
            Err(e) => return Err(e),
        };
        let mut outcomes = Vec::with_capacity(users.len());
        for imported in users {
            if bulk_done && is_new(imported) {
                outcomes.push(ImportOutcome::Created);
                continue;
            }
            let found = if imported.match_external_id {
                imported.user.external_id.as_ref().and_then(|e| external_to_id.get(e)).and_then(|id| existing.get(id))
            } else {
                existing.get(&imported.user.id)
            };
            let mut row = sqlx::Acquire::begin(&mut *tx).await?;
            let result = match found {
                None => create(&mut row, imported).await,
                Some(current) => update(&mut row, current, totps.get(&current.id), imported, same_totp).await,
            };
            outcomes.push(match result {
                Ok(outcome) => {
                    row.commit().await?;
                    outcome
                }
                Err(StoreError::Conflict(field)) => {
                    row.rollback().await?;
                    ImportOutcome::Rejected(conflict_reason(field))
                }
                Err(e) => return Err(e),
            });
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        Ok(outcomes)
    }

    async fn export_users(&self, after: Option<(i64, String)>, limit: i64) -> StoreResult<Vec<ExportedUser>> {
        let mut b =
            SqlBuilder::new(&format!("SELECT {}, {FACTOR_FLAGS} FROM users u WHERE 1 = 1", prefixed_user_columns()));
        if let Some((created_at, id)) = after {
            // Keyset paging over the (created_at, id) index: each page costs the same however deep.
            b.push(" AND (u.created_at > ").bind(Bind::Int(created_at));
            b.push(" OR (u.created_at = ").bind(Bind::Int(created_at));
            b.push(" AND u.id > ").bind(Bind::Text(id)).push("))");
        }
        b.push(" ORDER BY u.created_at, u.id LIMIT ").bind(Bind::Int(limit));
        let rows = b.query().fetch_all(&self.pool).await?;
        let mut users = rows.iter().map(user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_identifiers(&mut users).await?;
        let mut totps = self.totps_of(&users.iter().map(|u| u.id.clone()).collect::<Vec<_>>()).await?;
        Ok(users.into_iter().map(|user| ExportedUser { totp: totps.remove(&user.id), user }).collect())
    }
}

impl SqlStore {
    /// Users whose `column` is one of `values`, with their identifiers.
    async fn users_where(&self, column: &str, values: &[String]) -> StoreResult<Vec<UserRecord>> {
        if values.is_empty() {
            return Ok(Vec::new());
        }
        let mut b = SqlBuilder::new(&format!(
            "SELECT {}, {FACTOR_FLAGS} FROM users u WHERE {column} IN ",
            prefixed_user_columns()
        ));
        b.bind_list(values);
        let rows = b.query().fetch_all(&self.pool).await?;
        let mut users = rows.iter().map(user_from_row).collect::<StoreResult<Vec<_>>>()?;
        self.attach_identifiers(&mut users).await?;
        Ok(users)
    }

    /// The verified authenticator apps of `user_ids`.
    async fn totps_of(&self, user_ids: &[String]) -> StoreResult<HashMap<String, TotpRecord>> {
        if user_ids.is_empty() {
            return Ok(HashMap::new());
        }
        let mut b = SqlBuilder::new(
            "SELECT id, user_id, secret_sealed, verified, last_step, created_at, updated_at FROM user_totp \
             WHERE verified = 1 AND user_id IN ",
        );
        b.bind_list(user_ids);
        let mut found = HashMap::new();
        for row in b.query().fetch_all(&self.pool).await? {
            let record = TotpRecord {
                id: row.try_get("id")?,
                user_id: row.try_get("user_id")?,
                secret_sealed: row.try_get("secret_sealed")?,
                verified: true,
                last_step: row.try_get("last_step")?,
                created_at: row.try_get("created_at")?,
                updated_at: row.try_get("updated_at")?,
            };
            found.insert(record.user_id.clone(), record);
        }
        Ok(found)
    }
}

type Tx<'a> = sqlx::Transaction<'a, sqlx::Any>;

/// Rows per multi-row statement: longer statements got slower per row on SQLite (500 rows took
/// five times as long per row as 50), and 50 already saves almost every round trip.
const BULK_ROWS: usize = 50;

/// Inserts `users` with their identifiers and authenticator apps in multi-row statements.
async fn insert_many(tx: &mut Tx<'_>, users: &[&ImportedUser]) -> StoreResult<()> {
    let text = |v: &Option<String>| Bind::OptText(v.clone());
    let json =
        |m: &serde_json::Map<String, serde_json::Value>| Bind::Text(serde_json::Value::Object(m.clone()).to_string());
    for chunk in users.chunks(BULK_ROWS) {
        let mut b = SqlBuilder::new(&format!("INSERT INTO users ({USER_COLUMNS}, username_lower) VALUES "));
        for (i, imported) in chunk.iter().enumerate() {
            let u = &imported.user;
            b.push(if i == 0 { "(" } else { ", (" });
            let values = [
                Bind::Text(u.id.clone()),
                Bind::Int(u.version),
                text(&u.external_id),
                text(&u.username),
                text(&u.first_name),
                text(&u.last_name),
                text(&u.locale),
                text(&u.password_hash),
                Bind::OptInt(u.password_updated_at),
                json(&u.public_metadata),
                json(&u.private_metadata),
                json(&u.unsafe_metadata),
                text(&u.primary_email_address_id),
                text(&u.primary_phone_number_id),
                Bind::Int(flag(u.banned)),
                Bind::OptInt(u.locked_until),
                Bind::Int(u.failed_attempts),
                Bind::Int(flag(u.delete_self_enabled)),
                Bind::Int(flag(u.create_organization_enabled)),
                Bind::OptInt(u.create_organizations_limit),
                Bind::OptInt(u.legal_accepted_at),
                Bind::OptInt(u.last_sign_in_at),
                Bind::OptInt(u.last_active_at),
                Bind::Int(u.created_at),
                Bind::Int(u.updated_at),
                Bind::OptText(u.username.as_deref().map(str::to_lowercase)),
            ];
            push_values(&mut b, values);
        }
        b.query().execute(&mut **tx).await.map_err(map_write_err)?;
        let rows = |emails: bool| {
            chunk.iter().flat_map(move |imported| {
                let list = if emails { &imported.user.emails } else { &imported.user.phones };
                list.iter().map(move |e| (&imported.user.id, e))
            })
        };
        for emails in [true, false] {
            let list: Vec<_> = rows(emails).collect();
            for part in list.chunks(BULK_ROWS) {
                let mut b = SqlBuilder::new(if emails {
                    "INSERT INTO email_addresses (id, user_id, email_address, email_lower, verified, strategy, created_at, updated_at) VALUES "
                } else {
                    "INSERT INTO phone_numbers (id, user_id, phone_number, verified, strategy, created_at, updated_at) VALUES "
                });
                for (i, (user_id, e)) in part.iter().enumerate() {
                    b.push(if i == 0 { "(" } else { ", (" });
                    let mut values =
                        vec![Bind::Text(e.id.clone()), Bind::Text((*user_id).clone()), Bind::Text(e.value.clone())];
                    if emails {
                        values.push(Bind::Text(e.value.to_lowercase()));
                    }
                    values.extend([
                        Bind::Int(flag(e.verified)),
                        Bind::Text(e.strategy.as_str().to_owned()),
                        Bind::Int(e.created_at),
                        Bind::Int(e.updated_at),
                    ]);
                    push_values(&mut b, values);
                }
                b.query().execute(&mut **tx).await.map_err(map_write_err)?;
            }
        }
    }
    for imported in users {
        if let Some(totp) = &imported.totp {
            put_totp(tx, totp).await?;
        }
    }
    Ok(())
}

/// `$a, $b, …)` for one row of a multi-row insert (the caller wrote the `(`).
fn push_values(b: &mut SqlBuilder, values: impl IntoIterator<Item = Bind>) {
    for (i, value) in values.into_iter().enumerate() {
        if i > 0 {
            b.push(", ");
        }
        b.bind(value);
    }
    b.push(")");
}

async fn create(tx: &mut Tx<'_>, imported: &ImportedUser) -> StoreResult<ImportOutcome> {
    insert_user(tx, &imported.user).await?;
    if let Some(totp) = &imported.totp {
        put_totp(tx, totp).await?;
    }
    Ok(ImportOutcome::Created)
}

/// Applies the file's fields to `current`; identifiers are added, never removed (an address
/// the file lacks may have been added since the export).
async fn update(
    tx: &mut Tx<'_>,
    current: &UserRecord,
    current_totp: Option<&TotpRecord>,
    imported: &ImportedUser,
    same_totp: &(dyn for<'x, 'y> Fn(&'x str, &'y str) -> bool + Sync),
) -> StoreResult<ImportOutcome> {
    let file = &imported.user;
    let mut next = current.clone();
    next.first_name = file.first_name.clone();
    next.last_name = file.last_name.clone();
    next.username = file.username.clone();
    if file.external_id.is_some() {
        next.external_id = file.external_id.clone();
    }
    if file.password_hash.is_some() && file.password_hash != current.password_hash {
        next.password_hash = file.password_hash.clone();
        next.password_updated_at = file.password_updated_at;
    }
    if imported.metadata_given {
        next.public_metadata = file.public_metadata.clone();
        next.private_metadata = file.private_metadata.clone();
        next.unsafe_metadata = file.unsafe_metadata.clone();
    }
    let mut new_emails = Vec::new();
    for email in &file.emails {
        match next.emails.iter().find(|e| e.value.eq_ignore_ascii_case(&email.value)) {
            Some(_) => {}
            None => new_emails.push(IdentifierRecord { id: ids::new_id("idn"), ..email.clone() }),
        }
    }
    let mut new_phones = Vec::new();
    for phone in &file.phones {
        if !next.phones.iter().any(|p| p.value == phone.value) {
            new_phones.push(IdentifierRecord { id: ids::new_id("idn"), ..phone.clone() });
        }
    }
    next.emails.extend(new_emails.iter().cloned());
    next.phones.extend(new_phones.iter().cloned());
    // The file's primary address stays primary, under whatever id it has here.
    let primary_of = |list: &[IdentifierRecord], from_file: &[IdentifierRecord], id: &Option<String>| {
        let value = from_file.iter().find(|e| Some(&e.id) == id.as_ref()).map(|e| e.value.to_lowercase())?;
        list.iter().find(|e| e.value.to_lowercase() == value).map(|e| e.id.clone())
    };
    if let Some(id) = primary_of(&next.emails, &file.emails, &file.primary_email_address_id) {
        next.primary_email_address_id = Some(id);
    }
    if let Some(id) = primary_of(&next.phones, &file.phones, &file.primary_phone_number_id) {
        next.primary_phone_number_id = Some(id);
    }
    let totp_changed = match (&imported.totp, current_totp) {
        (Some(new), Some(old)) => !same_totp(&old.secret_sealed, &new.secret_sealed),
        (Some(_), None) => true,
        (None, _) => false,
    };
    if next == *current && !totp_changed {
        return Ok(ImportOutcome::Unchanged);
    }
    next.version = current.version + 1;
    next.updated_at = file.updated_at.max(current.updated_at);
    for email in &new_emails {
        insert_email(&mut **tx, &current.id, email).await?;
    }
    for phone in &new_phones {
        sqlx::query(
            "INSERT INTO phone_numbers (id, user_id, phone_number, verified, strategy, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&phone.id)
        .bind(&current.id)
        .bind(&phone.value)
        .bind(flag(phone.verified))
        .bind(phone.strategy.as_str())
        .bind(phone.created_at)
        .bind(phone.updated_at)
        .execute(&mut **tx)
        .await
        .map_err(map_write_err)?;
    }
    sqlx::query(
        "UPDATE users SET version = $2, external_id = $3, username = $4, username_lower = $5, first_name = $6, \
         last_name = $7, password_hash = $8, password_updated_at = $9, public_metadata = $10, private_metadata = $11, \
         unsafe_metadata = $12, primary_email_address_id = $13, primary_phone_number_id = $14, updated_at = $15 \
         WHERE id = $1",
    )
    .bind(&current.id)
    .bind(next.version)
    .bind(next.external_id.as_deref())
    .bind(next.username.as_deref())
    .bind(next.username.as_deref().map(str::to_lowercase))
    .bind(next.first_name.as_deref())
    .bind(next.last_name.as_deref())
    .bind(next.password_hash.as_deref())
    .bind(next.password_updated_at)
    .bind(serde_json::Value::Object(next.public_metadata.clone()).to_string())
    .bind(serde_json::Value::Object(next.private_metadata.clone()).to_string())
    .bind(serde_json::Value::Object(next.unsafe_metadata.clone()).to_string())
    .bind(next.primary_email_address_id.as_deref())
    .bind(next.primary_phone_number_id.as_deref())
    .bind(next.updated_at)
    .execute(&mut **tx)
    .await
    .map_err(map_write_err)?;
    if let Some(totp) = imported.totp.as_ref().filter(|_| totp_changed) {
        put_totp(tx, &TotpRecord { user_id: current.id.clone(), ..totp.clone() }).await?;
    }
    Ok(ImportOutcome::Updated)
}

async fn put_totp(tx: &mut Tx<'_>, t: &TotpRecord) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO user_totp (user_id, id, secret_sealed, verified, last_step, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE SET id = $2, secret_sealed = $3, \
         verified = $4, last_step = $5, created_at = $6, updated_at = $7",
    )
    .bind(&t.user_id)
    .bind(&t.id)
    .bind(&t.secret_sealed)
    .bind(flag(t.verified))
    .bind(t.last_step)
    .bind(t.created_at)
    .bind(t.updated_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

fn conflict_reason(field: UniqueField) -> String {
    match field {
        UniqueField::EmailAddress => "an email address of this row belongs to another user".to_owned(),
        UniqueField::PhoneNumber => "a phone number of this row belongs to another user".to_owned(),
        UniqueField::Username => "the username belongs to another user".to_owned(),
        UniqueField::ExternalId => "the external_id belongs to another user".to_owned(),
        UniqueField::Other => "the id belongs to another user".to_owned(),
        other => format!("conflicts with an existing record ({other:?})"),
    }
}
