use std::sync::Arc;

use usher_server::store::*;

use super::{contract, user};

fn totp(user_id: &str, verified: bool) -> TotpRecord {
    TotpRecord {
        id: "totp_1".into(),
        user_id: user_id.into(),
        secret_sealed: "sealed".into(),
        verified,
        last_step: None,
        created_at: 10,
        updated_at: 10,
    }
}

/// A step is accepted once, and never one older than the last; a waiting app accepts none
/// until it is verified, which also replaces the backup codes; the user shows both flags.
async fn totp_steps_are_single_use(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.put_totp(&totp("user_a", false)).await.unwrap();
    assert!(!store.use_totp_step("user_a", 5, 20).await.unwrap(), "not verified yet");
    assert!(!store.get_user("user_a").await.unwrap().unwrap().totp_enabled);
    let codes = vec!["h1".to_owned(), "h2".to_owned()];
    assert!(store.verify_totp("user_a", 5, &codes, 20).await.unwrap());
    let user = store.get_user("user_a").await.unwrap().unwrap();
    assert!(user.totp_enabled && user.backup_code_enabled && user.two_factor_enabled());
    assert!(!store.use_totp_step("user_a", 5, 21).await.unwrap(), "the verifying step is used");
    assert!(!store.use_totp_step("user_a", 4, 21).await.unwrap(), "older steps too");
    assert!(store.use_totp_step("user_a", 6, 22).await.unwrap());
    let racing: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_totp_step("user_a", 7, 23).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for r in racing {
        wins += usize::from(r.await.unwrap());
    }
    assert_eq!(wins, 1, "one of many racing requests wins a step");
    assert_eq!(store.get_totp("user_a").await.unwrap().unwrap().last_step, Some(7));
    assert!(store.delete_totp("user_a").await.unwrap());
    assert!(!store.delete_totp("user_a").await.unwrap());
    assert_eq!(store.get_totp("user_a").await.unwrap(), None);
}

async fn backup_codes_are_single_use_and_replaced_whole(store: Arc<dyn Store>) {
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    store.replace_backup_codes("user_b", &["h1".into(), "h2".into()], 10).await.unwrap();
    assert!(store.use_backup_code("user_b", "h1").await.unwrap());
    assert!(!store.use_backup_code("user_b", "h1").await.unwrap(), "once");
    assert!(!store.use_backup_code("user_a", "h2").await.unwrap(), "another user's code");
    store.replace_backup_codes("user_b", &["h3".into()], 11).await.unwrap();
    assert!(!store.use_backup_code("user_b", "h2").await.unwrap(), "old codes die");
    assert!(store.get_user("user_b").await.unwrap().unwrap().backup_code_enabled);
    assert!(store.delete_backup_codes("user_b").await.unwrap());
    assert!(!store.get_user("user_b").await.unwrap().unwrap().backup_code_enabled);
    // Deleting the user takes its factors along.
    store.put_totp(&totp("user_b", true)).await.unwrap();
    store.delete_user("user_b").await.unwrap();
    assert_eq!(store.get_totp("user_b").await.unwrap(), None);
}

contract!(totp_steps_are_single_use, backup_codes_are_single_use_and_replaced_whole);
