use std::sync::Arc;

use usher_server::store::*;

use super::{contract, user};

fn account(id: &str, user_id: &str, provider: &str, sub: &str, at: i64) -> ExternalAccountRecord {
    ExternalAccountRecord {
        id: id.into(),
        user_id: user_id.into(),
        provider: provider.into(),
        provider_user_id: sub.into(),
        identification_id: format!("idn_{id}"),
        email_address: "a@example.com".into(),
        email_verified: true,
        first_name: Some("Ada".into()),
        last_name: None,
        username: None,
        avatar_url: Some("https://img.example/a.png".into()),
        approved_scopes: "openid email".into(),
        access_token_sealed: Some("sealed-access".into()),
        refresh_token_sealed: None,
        token_expire_at: Some(at + 3600),
        created_at: at,
        updated_at: at,
    }
}

fn oauth_state(hash: &str, expire_at: i64) -> OAuthStateRecord {
    OAuthStateRecord {
        state_hash: hash.into(),
        client_id: "client_1".into(),
        provider: "oauth_custom_test".into(),
        intent: OAuthIntent::SignIn,
        attempt_id: Some("sia_1".into()),
        user_id: None,
        pkce_verifier_sealed: "sealed-verifier".into(),
        nonce_hash: "nh".into(),
        redirect_url: "http://127.0.0.1:3000/sso-callback".into(),
        action_complete_redirect_url: Some("/".into()),
        expire_at,
        created_at: 1,
    }
}

async fn external_accounts_are_unique_per_provider_account_and_go_with_their_user(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    let a = account("eac_1", "user_a", "oauth_google", "sub-1", 10);
    store.create_external_account(&a).await.unwrap();
    store.create_external_account(&account("eac_2", "user_a", "oauth_github", "42", 20)).await.unwrap();
    let taken = store.create_external_account(&account("eac_3", "user_b", "oauth_google", "sub-1", 30)).await;
    assert!(matches!(taken, Err(StoreError::Conflict(UniqueField::ExternalAccount))), "{taken:?}");
    store.create_external_account(&account("eac_4", "user_b", "oauth_github", "sub-1", 30)).await.unwrap();

    assert_eq!(store.external_account_by_provider("oauth_google", "sub-1").await.unwrap(), Some(a.clone()));
    assert_eq!(store.external_account_by_provider("oauth_google", "sub-2").await.unwrap(), None);
    let ids: Vec<String> = store.external_accounts_of_user("user_a").await.unwrap().into_iter().map(|a| a.id).collect();
    assert_eq!(ids, ["eac_1", "eac_2"]);

    let changed = ExternalAccountRecord {
        email_verified: false,
        approved_scopes: "openid".into(),
        access_token_sealed: Some("sealed-2".into()),
        refresh_token_sealed: Some("sealed-r".into()),
        updated_at: 50,
        ..a.clone()
    };
    assert!(store.update_external_account(&changed).await.unwrap());
    assert_eq!(store.external_account_by_provider("oauth_google", "sub-1").await.unwrap(), Some(changed));
    assert!(!store.update_external_account(&account("eac_x", "user_a", "p", "s", 1)).await.unwrap());

    assert!(!store.delete_external_account("user_b", "eac_1").await.unwrap(), "not user_b's");
    assert!(store.delete_external_account("user_a", "eac_1").await.unwrap());
    assert!(!store.delete_external_account("user_a", "eac_1").await.unwrap());
    store.delete_user("user_a").await.unwrap();
    assert!(store.external_accounts_of_user("user_a").await.unwrap().is_empty());
    assert_eq!(store.external_accounts_of_user("user_b").await.unwrap().len(), 1);
}

async fn oauth_states_are_taken_once_and_expired_ones_swept(store: Arc<dyn Store>) {
    let s = oauth_state("h1", 100);
    store.create_oauth_state(&s).await.unwrap();
    store.create_oauth_state(&oauth_state("h2", 50)).await.unwrap();
    store.create_oauth_state(&oauth_state("h3", 200)).await.unwrap();
    assert!(store.create_oauth_state(&oauth_state("h1", 100)).await.is_err(), "a state hash is used once");
    assert_eq!(store.take_oauth_state("h1").await.unwrap(), Some(s));
    assert_eq!(store.take_oauth_state("h1").await.unwrap(), None, "single use");
    assert_eq!(store.take_oauth_state("nope").await.unwrap(), None);
    assert_eq!(store.delete_expired_oauth_states(60).await.unwrap(), 1);
    assert_eq!(store.take_oauth_state("h2").await.unwrap(), None);
    let connect =
        OAuthStateRecord { intent: OAuthIntent::Connect, user_id: Some("user_a".into()), ..oauth_state("h4", 9) };
    store.create_oauth_state(&connect).await.unwrap();
    assert_eq!(store.take_oauth_state("h4").await.unwrap().unwrap().intent, OAuthIntent::Connect);
    assert!(store.take_oauth_state("h3").await.unwrap().is_some());
}

contract!(
    external_accounts_are_unique_per_provider_account_and_go_with_their_user,
    oauth_states_are_taken_once_and_expired_ones_swept
);
