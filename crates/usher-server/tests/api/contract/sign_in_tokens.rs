use std::sync::Arc;

use usher_server::store::*;

use super::{contract, user};

async fn sign_in_tokens_revoke_once(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let t = SignInTokenRecord {
        id: "sit_1".into(),
        user_id: "user_a".into(),
        token_hash: "h".into(),
        status: SignInTokenStatus::Pending,
        expire_at: 9,
        created_at: 1,
        updated_at: 1,
        actor: None,
        session_max_duration: None,
    };
    store.create_sign_in_token(&t).await.unwrap();
    let revoked = store.revoke_sign_in_token("sit_1", 5).await.unwrap().unwrap();
    assert_eq!((revoked.status, revoked.updated_at), (SignInTokenStatus::Revoked, 5));
    assert_eq!(store.revoke_sign_in_token("sit_1", 6).await.unwrap().unwrap().updated_at, 5);
    assert_eq!(store.revoke_sign_in_token("sit_x", 6).await.unwrap(), None);
}

async fn sign_in_tokens_are_accepted_once_while_pending(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let t = |id: &str, hash: &str| SignInTokenRecord {
        id: id.into(),
        user_id: "user_a".into(),
        token_hash: hash.into(),
        status: SignInTokenStatus::Pending,
        expire_at: 100,
        created_at: 1,
        updated_at: 1,
        actor: None,
        session_max_duration: None,
    };
    store.create_sign_in_token(&t("sit_1", "h1")).await.unwrap();
    store.create_sign_in_token(&t("sit_2", "h2")).await.unwrap();
    assert_eq!(store.accept_sign_in_token("h1", 5).await.unwrap().unwrap().status, SignInTokenStatus::Accepted);
    assert_eq!(store.accept_sign_in_token("h1", 6).await.unwrap(), None, "once");
    assert_eq!(store.accept_sign_in_token("h2", 100).await.unwrap(), None, "expired");
    assert_eq!(store.accept_sign_in_token("nope", 5).await.unwrap(), None);
}

contract!(sign_in_tokens_revoke_once, sign_in_tokens_are_accepted_once_while_pending);
