//! The store's behavioural contract, one module per resource, each test run unchanged on SQLite
//! and on PostgreSQL (a fresh database per test, dropped afterwards).

mod attempts;
mod clients;
mod codes;
mod decoy_emails;
mod external_accounts;
mod factors;
mod keys;
mod organizations;
mod outbox;
mod passkeys;
mod sessions;
mod settings;
mod sign_in_tokens;
mod templates;
mod users;
mod webhooks;
// Admin: the audit log and instance admins.
mod audit;

use serde_json::json;
use usher_server::store::*;
use usher_types::Strategy;

pub(crate) use crate::helpers::{Db, TestDb, skip_postgres};

pub(crate) fn user(id: &str, email: &str, created_at: i64) -> UserRecord {
    UserRecord {
        id: id.into(),
        username: Some(format!("name_{id}")),
        first_name: Some("Ada".into()),
        public_metadata: json!({"plan": "pro"}).as_object().cloned().unwrap(),
        primary_email_address_id: Some(format!("idn_e_{id}")),
        emails: vec![IdentifierRecord {
            id: format!("idn_e_{id}"),
            value: email.into(),
            verified: true,
            strategy: Strategy::Admin,
            created_at,
            updated_at: created_at,
        }],
        delete_self_enabled: true,
        created_at,
        updated_at: created_at,
        ..UserRecord::default()
    }
}

pub(crate) fn session(id: &str, user_id: &str, created_at: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        user_id: user_id.into(),
        client_id: "client_1".into(),
        status: SessionStatus::Active,
        last_active_at: created_at,
        expire_at: created_at + 1000,
        abandon_at: created_at + 1000,
        created_at,
        updated_at: created_at,
        ..SessionRecord::default()
    }
}

/// Runs each named test (`async fn(Arc<dyn Store>)` in the calling module) on SQLite and on a
/// fresh PostgreSQL database.
macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = crate::contract::TestDb::new(crate::contract::Db::Sqlite).await;
                    super::$name(db.store().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if crate::contract::skip_postgres() {
                        return;
                    }
                    let db = crate::contract::TestDb::new(crate::contract::Db::Postgres).await;
                    super::$name(db.store().await).await;
                }
            )*
        }
    };
}
pub(crate) use contract;
