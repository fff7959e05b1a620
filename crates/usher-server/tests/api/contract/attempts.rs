use std::sync::Arc;

use serde_json::json;
use usher_server::store::*;
use usher_types::Strategy;

use super::{contract, session, user};

fn client() -> ClientRecord {
    ClientRecord { id: "client_1".into(), token_hash: "t1".into(), expire_at: 100, ..ClientRecord::default() }
}

async fn attempts_round_trip(store: Arc<dyn Store>) {
    store.create_client(&client()).await.unwrap();
    let mut attempt = AttemptRecord {
        id: "sia_1".into(),
        client_id: "client_1".into(),
        kind: AttemptKind::SignIn,
        data: json!({"status": "needs_first_factor", "nested": {"n": 1}}),
        expire_at: 50,
        created_at: 1,
        updated_at: 1,
    };
    store.save_attempt(&attempt, None).await.unwrap();
    attempt.data = json!({"status": "complete"});
    attempt.updated_at = 2;
    store.save_attempt(&attempt, None).await.unwrap();
    assert_eq!(store.get_attempt("sia_1").await.unwrap(), Some(attempt));
}

async fn saving_an_attempt_can_save_its_client(store: Arc<dyn Store>) {
    store.create_client(&client()).await.unwrap();
    let attempt = AttemptRecord {
        id: "sua_1".into(),
        client_id: "client_1".into(),
        kind: AttemptKind::SignUp,
        data: json!({}),
        expire_at: 50,
        created_at: 1,
        updated_at: 1,
    };
    let current = ClientRecord { sign_up_id: Some("sua_1".into()), updated_at: 2, ..client() };
    store.save_attempt(&attempt, Some(&current)).await.unwrap();
    assert_eq!(store.get_client("client_1").await.unwrap(), Some(current));
    assert_eq!(store.get_attempt("sua_1").await.unwrap().unwrap().kind, AttemptKind::SignUp);
}

fn finished(id: &str) -> AttemptRecord {
    AttemptRecord {
        id: id.into(),
        client_id: "client_1".into(),
        kind: AttemptKind::SignUp,
        data: json!({"status": "complete"}),
        expire_at: 50,
        created_at: 1,
        updated_at: 3,
    }
}

async fn completing_an_attempt_writes_everything_or_nothing(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_client(&client()).await.unwrap();
    store.create_session(&session("sess_old", "user_a", 1)).await.unwrap();
    store.record_failed_attempt("user_a", 100, 0).await.unwrap();
    // A sign-in: the old session ends, the new one starts, the user is marked signed in.
    let new = session("sess_new", "user_a", 7);
    let after = ClientRecord { last_active_session_id: Some("sess_new".into()), token_hash: "t2".into(), ..client() };
    let sign_in = AttemptRecord { kind: AttemptKind::SignIn, ..finished("sia_1") };
    let completion = Completion {
        attempt: &sign_in,
        client: &after,
        session: &new,
        replaces: Some("sess_old"),
        new_user: None,
        new_external_account: None,
        audit: None,
        signed_in: None,
    };
    store.complete_attempt(completion).await.unwrap();
    assert_eq!(store.get_session("sess_old").await.unwrap().unwrap().status, SessionStatus::Ended);
    assert_eq!(store.get_session("sess_new").await.unwrap(), Some(new.clone()));
    assert_eq!(store.get_client("client_1").await.unwrap(), Some(after.clone()));
    assert_eq!(store.get_attempt("sia_1").await.unwrap(), Some(sign_in));
    let a = store.get_user("user_a").await.unwrap().unwrap();
    assert_eq!((a.last_sign_in_at, a.last_active_at, a.failed_attempts), (Some(7), Some(7), 0));

    // A sign-up whose address was taken meanwhile leaves nothing behind.
    let mut taken = user("user_b", "A@example.com", 8);
    taken.emails[0].strategy = Strategy::EmailCode;
    let other = session("sess_b", "user_b", 8);
    let later = ClientRecord { last_active_session_id: Some("sess_b".into()), token_hash: "t3".into(), ..client() };
    let sign_up = finished("sua_1");
    let completion = Completion {
        attempt: &sign_up,
        client: &later,
        session: &other,
        replaces: Some("sess_new"),
        new_user: Some(&taken),
        new_external_account: None,
        audit: None,
        signed_in: None,
    };
    assert!(matches!(store.complete_attempt(completion).await, Err(StoreError::Conflict(UniqueField::EmailAddress))));
    assert_eq!(store.get_user("user_b").await.unwrap(), None);
    assert_eq!(store.get_session("sess_b").await.unwrap(), None);
    assert_eq!(store.get_session("sess_new").await.unwrap().unwrap().status, SessionStatus::Active);
    assert_eq!(store.get_client("client_1").await.unwrap(), Some(after));
    assert_eq!(store.get_attempt("sua_1").await.unwrap(), None);

    // With a free address the user and its session arrive together.
    let free = user("user_b", "b@example.com", 8);
    let linked = ExternalAccountRecord {
        id: "eac_1".into(),
        user_id: "user_b".into(),
        provider: "oauth_github".into(),
        provider_user_id: "42".into(),
        ..ExternalAccountRecord::default()
    };
    let completion = Completion {
        attempt: &sign_up,
        client: &later,
        session: &other,
        replaces: Some("sess_new"),
        new_user: Some(&free),
        new_external_account: Some(&linked),
        audit: None,
        signed_in: None,
    };
    store.complete_attempt(completion).await.unwrap();
    let b = store.get_user("user_b").await.unwrap().unwrap();
    assert_eq!((b.emails.len(), b.last_sign_in_at), (1, Some(8)));
    assert_eq!(store.get_session("sess_b").await.unwrap().unwrap().user_id, "user_b");
    assert_eq!(store.external_account_by_provider("oauth_github", "42").await.unwrap(), Some(linked.clone()));

    // A provider account linked meanwhile: nothing of the sign-up is written.
    let c = user("user_c", "c@example.com", 9);
    let third = session("sess_c", "user_c", 9);
    let again = ExternalAccountRecord { id: "eac_2".into(), user_id: "user_c".into(), ..linked };
    let completion = Completion {
        attempt: &finished("sua_2"),
        client: &later,
        session: &third,
        replaces: None,
        new_user: Some(&c),
        new_external_account: Some(&again),
        audit: None,
        signed_in: None,
    };
    let refused = store.complete_attempt(completion).await;
    assert!(matches!(refused, Err(StoreError::Conflict(UniqueField::ExternalAccount))), "{refused:?}");
    assert_eq!(store.get_user("user_c").await.unwrap(), None);
    assert_eq!(store.get_session("sess_c").await.unwrap(), None);
}

contract!(
    attempts_round_trip,
    saving_an_attempt_can_save_its_client,
    completing_an_attempt_writes_everything_or_nothing
);
