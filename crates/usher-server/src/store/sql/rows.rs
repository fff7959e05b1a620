//! Decoding rows into records. Booleans are stored as integers; JSON as text.

use serde_json::{Map, Value};
use sqlx::{Row, any::AnyRow};

use crate::store::{
    IdentifierRecord, SessionRecord, SignInTokenRecord, SigningKeyRecord, StoreError, StoreResult, TemplateRecord,
    UserRecord,
};

fn json(text: &str) -> StoreResult<Value> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("stored JSON: {e}")))
}

fn json_object(row: &AnyRow, column: &str) -> StoreResult<Map<String, Value>> {
    match json(&row.try_get::<String, _>(column)?)? {
        Value::Object(map) => Ok(map),
        _ => Err(StoreError::Corrupt(format!("{column} is not a JSON object"))),
    }
}

fn flag(row: &AnyRow, column: &str) -> StoreResult<bool> {
    Ok(row.try_get::<i64, _>(column)? != 0)
}

pub(super) const USER_COLUMNS: &str = "id, version, external_id, username, first_name, last_name, locale, password_hash, \
    password_updated_at, public_metadata, private_metadata, unsafe_metadata, primary_email_address_id, \
    primary_phone_number_id, banned, locked_until, failed_attempts, delete_self_enabled, create_organization_enabled, \
    create_organizations_limit, legal_accepted_at, last_sign_in_at, last_active_at, created_at, updated_at";

/// A user without its identifiers (they come from their own tables).
pub(super) fn user_from_row(row: &AnyRow) -> StoreResult<UserRecord> {
    Ok(UserRecord {
        id: row.try_get("id")?,
        version: row.try_get("version")?,
        external_id: row.try_get("external_id")?,
        username: row.try_get("username")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        locale: row.try_get("locale")?,
        password_hash: row.try_get("password_hash")?,
        password_updated_at: row.try_get("password_updated_at")?,
        public_metadata: json_object(row, "public_metadata")?,
        private_metadata: json_object(row, "private_metadata")?,
        unsafe_metadata: json_object(row, "unsafe_metadata")?,
        primary_email_address_id: row.try_get("primary_email_address_id")?,
        primary_phone_number_id: row.try_get("primary_phone_number_id")?,
        banned: flag(row, "banned")?,
        locked_until: row.try_get("locked_until")?,
        failed_attempts: row.try_get("failed_attempts")?,
        delete_self_enabled: flag(row, "delete_self_enabled")?,
        create_organization_enabled: flag(row, "create_organization_enabled")?,
        create_organizations_limit: row.try_get("create_organizations_limit")?,
        legal_accepted_at: row.try_get("legal_accepted_at")?,
        last_sign_in_at: row.try_get("last_sign_in_at")?,
        last_active_at: row.try_get("last_active_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        emails: Vec::new(),
        phones: Vec::new(),
    })
}

/// `(user_id, identifier)` from `SELECT user_id, id, value, verified, strategy, created_at, updated_at`.
pub(super) fn identifier_from_row(row: &AnyRow) -> StoreResult<(String, IdentifierRecord)> {
    Ok((
        row.try_get("user_id")?,
        IdentifierRecord {
            id: row.try_get("id")?,
            value: row.try_get("value")?,
            verified: flag(row, "verified")?,
            strategy: row.try_get("strategy")?,
            created_at: row.try_get("created_at")?,
            updated_at: row.try_get("updated_at")?,
        },
    ))
}

pub(super) fn session_from_row(row: &AnyRow) -> StoreResult<SessionRecord> {
    let actor: Option<String> = row.try_get("actor")?;
    Ok(SessionRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        client_id: row.try_get("client_id")?,
        status: row.try_get("status")?,
        actor: actor.as_deref().map(json).transpose()?,
        last_active_organization_id: row.try_get("last_active_organization_id")?,
        last_active_at: row.try_get("last_active_at")?,
        expire_at: row.try_get("expire_at")?,
        abandon_at: row.try_get("abandon_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn template_from_row(row: &AnyRow) -> StoreResult<TemplateRecord> {
    Ok(TemplateRecord {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        claims: json(&row.try_get::<String, _>("claims")?)?,
        lifetime: row.try_get("lifetime")?,
        allowed_clock_skew: row.try_get("allowed_clock_skew")?,
        custom_signing_key: flag(row, "custom_signing_key")?,
        signing_algorithm: row.try_get("signing_algorithm")?,
        signing_key: row.try_get("signing_key")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn sign_in_token_from_row(row: &AnyRow) -> StoreResult<SignInTokenRecord> {
    Ok(SignInTokenRecord {
        id: row.try_get("id")?,
        user_id: row.try_get("user_id")?,
        token_hash: row.try_get("token_hash")?,
        status: row.try_get("status")?,
        expire_at: row.try_get("expire_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
    })
}

pub(super) fn signing_key_from_row(row: &AnyRow) -> StoreResult<SigningKeyRecord> {
    Ok(SigningKeyRecord {
        kid: row.try_get("kid")?,
        private_der: row.try_get("private_der")?,
        created_at: row.try_get("created_at")?,
        activates_at: row.try_get("activates_at")?,
        retired_at: row.try_get("retired_at")?,
        publish_until: row.try_get("publish_until")?,
        max_lifetime: row.try_get("max_lifetime")?,
    })
}
