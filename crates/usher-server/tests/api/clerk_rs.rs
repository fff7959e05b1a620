//! The official `clerk-rs` 0.5 client against usher, unchanged but for its base path.

use clerk_rs::apis::{configuration::Configuration, jwks_api, users_api};
use serde_json::json;

use crate::helpers::{Db, spawn_app};

#[tokio::test]
async fn clerk_rs_reads_users_and_the_jwks() {
    let app = spawn_app(Db::Sqlite).await;
    let (_, created) = app
        .post("/v1/users", json!({"email_address": ["ada@example.com"], "phone_number": ["+15555550100"], "username": "ada_l", "first_name": "Ada", "public_metadata": {"plan": "pro"}}))
        .await;
    app.create_user("bob@example.com").await;
    let config = Configuration::new(app.secret.clone()).with_base_path(format!("{}/v1", app.url));

    let user = users_api::get_user(&config, created["id"].as_str().unwrap())
        .await
        .expect("clerk-rs deserialises usher's user");
    assert_eq!(user.first_name.as_deref(), Some("Ada"));
    assert_eq!(user.email_addresses[0].email_address, "ada@example.com");
    assert_eq!(user.phone_numbers[0].phone_number, "+15555550100");
    assert_eq!(user.public_metadata.get("plan"), Some(&json!("pro")));

    let list = list_users(&config, Some(vec!["ada@example.com".into()])).await.expect("clerk-rs lists users");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].id, user.id);
    let all = list_users(&config, None).await.unwrap();
    assert_eq!(all.len(), 2);

    let jwks = jwks_api::get_jwks(&config).await.expect("clerk-rs reads the JWKS");
    let keys = serde_json::to_value(jwks.keys.expect("keys")).unwrap();
    assert_eq!(keys, app.jwks().await["keys"]);

    let missing = users_api::get_user(&config, "user_nope").await;
    assert!(missing.is_err());
}

/// `get_user_list` with only an email filter, `limit=10` and newest first (its other 24
/// parameters unset).
async fn list_users(
    config: &Configuration,
    email_address: Option<Vec<String>>,
) -> Result<Vec<clerk_rs::models::User>, clerk_rs::apis::Error<users_api::GetUserListError>> {
    users_api::get_user_list(
        config,
        email_address,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        Some(10),
        None,
        None,
        Some("-created_at"),
    )
    .await
}
