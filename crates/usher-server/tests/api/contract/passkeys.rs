use std::sync::Arc;

use usher_server::store::*;

use super::{contract, user};

fn pending(id: &str, user_id: &str, expire_at: i64) -> PasskeyRecord {
    PasskeyRecord {
        id: id.into(),
        user_id: user_id.into(),
        name: "Passkey".into(),
        registration_state: Some("{\"state\":1}".into()),
        expire_at: Some(expire_at),
        created_at: 10,
        updated_at: 10,
        ..PasskeyRecord::default()
    }
}

/// A registration verifies once and before it expires; a credential id belongs to one passkey;
/// only verified passkeys are listed, found and shown with the user.
async fn registrations_verify_once(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    store.create_passkey(&pending("pk_1", "user_a", 100)).await.unwrap();
    store.create_passkey(&pending("pk_2", "user_a", 100)).await.unwrap();
    store.create_passkey(&pending("pk_3", "user_b", 100)).await.unwrap();
    assert_eq!(store.list_passkeys("user_a").await.unwrap(), vec![]);
    assert!(store.get_user("user_a").await.unwrap().unwrap().passkeys.is_empty());
    assert!(!store.verify_passkey("pk_2", "cred2", "{}", 0, 100).await.unwrap(), "expired at 100");
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.verify_passkey("pk_1", "cred1", "{\"k\":1}", 0, 50).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for r in racing {
        wins += usize::from(r.await.unwrap());
    }
    assert_eq!(wins, 1, "one answer verifies a registration");
    let verified = store.get_passkey("user_a", "pk_1").await.unwrap().unwrap();
    assert_eq!((verified.credential_id.as_deref(), verified.registration_state.as_deref()), (Some("cred1"), None));
    assert!(verified.verified() && verified.expire_at.is_none());
    assert!(store.get_passkey("user_b", "pk_1").await.unwrap().is_none(), "another user's");
    // The same credential for another passkey (another account) is a conflict.
    let taken = store.verify_passkey("pk_3", "cred1", "{}", 0, 50).await;
    assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");
    assert_eq!(store.find_passkey_by_credential("cred1").await.unwrap().unwrap().user_id, "user_a");
    assert_eq!(store.find_passkey_by_credential("cred2").await.unwrap(), None);
    let user = store.get_user("user_a").await.unwrap().unwrap();
    assert_eq!(user.passkeys.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["pk_1"]);
    let users = store
        .list_users(&UserQuery {
            filter: UserFilter::default(),
            order_by: UserOrder::CreatedAt,
            descending: false,
            page: Page { limit: 10, offset: 0 },
        })
        .await
        .unwrap();
    assert_eq!(users.iter().map(|u| u.passkeys.len()).sum::<usize>(), 1, "listed users carry theirs");
    // A new registration clears the user's expired ones (pk_2), not live or verified ones.
    let mut later = pending("pk_4", "user_a", 300);
    later.created_at = 200;
    store.create_passkey(&later).await.unwrap();
    assert!(store.get_passkey("user_a", "pk_2").await.unwrap().is_none());
    assert!(store.get_passkey("user_a", "pk_1").await.unwrap().is_some());
    assert!(store.get_passkey("user_b", "pk_3").await.unwrap().is_some());
}

/// The signature counter only goes up (0 stays allowed for authenticators without one); rename
/// and delete touch only the owner's passkey; deleting the user takes them along.
async fn counters_only_go_up(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_passkey(&pending("pk_1", "user_a", 100)).await.unwrap();
    store.create_passkey(&pending("pk_0", "user_a", 100)).await.unwrap();
    assert!(!store.use_passkey("pk_1", 1, "{}", 20).await.unwrap(), "not verified");
    assert!(store.verify_passkey("pk_1", "cred1", "{}", 0, 20).await.unwrap());
    assert!(store.verify_passkey("pk_0", "cred0", "{}", 0, 20).await.unwrap());
    assert!(store.use_passkey("pk_1", 5, "{\"c\":5}", 30).await.unwrap());
    assert!(!store.use_passkey("pk_1", 5, "{}", 31).await.unwrap(), "the same counter again");
    assert!(!store.use_passkey("pk_1", 3, "{}", 31).await.unwrap(), "a lower one");
    let racing: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.use_passkey("pk_1", 6, "{\"c\":6}", 40).await.unwrap() })
        })
        .collect();
    let mut wins = 0;
    for r in racing {
        wins += usize::from(r.await.unwrap());
    }
    assert_eq!(wins, 1, "one of racing sign-ins with one counter wins");
    let used = store.get_passkey("user_a", "pk_1").await.unwrap().unwrap();
    assert_eq!((used.sign_count, used.last_used_at, used.credential.as_deref()), (6, Some(40), Some("{\"c\":6}")));
    assert!(store.use_passkey("pk_0", 0, "{}", 41).await.unwrap(), "no counter: 0 each time");
    assert!(store.use_passkey("pk_0", 0, "{}", 42).await.unwrap());

    assert!(store.rename_passkey("user_a", "pk_1", "Laptop", 50).await.unwrap());
    assert!(!store.rename_passkey("user_b", "pk_1", "Mine", 50).await.unwrap());
    assert_eq!(store.get_passkey("user_a", "pk_1").await.unwrap().unwrap().name, "Laptop");
    assert!(!store.delete_passkey("user_b", "pk_1").await.unwrap());
    assert!(store.delete_passkey("user_a", "pk_1").await.unwrap());
    assert!(!store.delete_passkey("user_a", "pk_1").await.unwrap());
    store.delete_user("user_a").await.unwrap();
    assert_eq!(store.find_passkey_by_credential("cred0").await.unwrap(), None);
}

contract!(registrations_verify_once, counters_only_go_up);
