//! The Backend API client against a real server, including its error mapping.

use std::time::Duration;

use serde_json::json;
use usher::{
    client::ListUsers,
    types::requests::{CreateUser, JwtTemplateParams, UpdateUser, UserMetadata},
};

use crate::server::start;

#[tokio::test]
async fn users_are_created_listed_updated_and_deleted_through_the_client() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let users = usher.client().users();
    let ada = users.create(&email("ada@example.com", Some("Ada"))).await.unwrap();
    users.create(&email("bob@example.com", None)).await.unwrap();
    let page = users.list(&ListUsers { limit: Some(1), ..Default::default() }).await.unwrap();
    assert_eq!((page.data.len(), page.total_count), (1, 2));
    let found =
        users.list(&ListUsers { email_address: vec!["ADA@example.com".into()], ..Default::default() }).await.unwrap();
    assert_eq!(found.data[0].id, ada.id);
    let updated = users
        .update(&ada.id, &UpdateUser { last_name: Some(Some("Lovelace".into())), ..Default::default() })
        .await
        .unwrap();
    assert_eq!(updated.last_name.as_deref(), Some("Lovelace"));
    let merged = users
        .update_metadata(
            &ada.id,
            &UserMetadata { public_metadata: json!({"a": 1}).as_object().cloned(), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(merged.public_metadata["a"], 1);
    assert!(users.ban(&ada.id).await.unwrap().banned);
    assert!(users.lock(&ada.id).await.unwrap().locked);
    assert!(users.delete(&ada.id).await.unwrap().deleted);
    assert!(users.get(&ada.id).await.unwrap_err().is_not_found());
}

#[tokio::test]
async fn errors_map_to_status_code_and_retry_after() {
    let server = start(|c| c.backend_requests_per_10s = 3).await;
    let usher = server.usher(|_| {});
    let missing = usher.client().users().get("user_missing").await.unwrap_err();
    assert_eq!((missing.status().map(|s| s.as_u16()), missing.code()), (Some(404), Some("resource_not_found")));
    let invalid = usher.client().users().create(&email("nope", None)).await.unwrap_err();
    assert_eq!((invalid.status().map(|s| s.as_u16()), invalid.code()), (Some(422), Some("form_param_format_invalid")));
    usher.client().users().get("user_x").await.unwrap_err();
    let limited = usher.client().users().get("user_x").await.unwrap_err();
    match limited {
        usher::ClientError::Api { status, retry_after, .. } => {
            assert_eq!(status.as_u16(), 429);
            assert!(retry_after.is_some_and(|r| r >= Duration::from_secs(1)), "{retry_after:?}");
        }
        other => panic!("expected 429, got {other:?}"),
    }
    let wrong_key =
        usher::Usher::new(usher::UsherConfig::new("sk_test_wrong", &server.publishable, &server.url).unwrap()).unwrap();
    let unauthorized = wrong_key.client().users().get("user_x").await.unwrap_err();
    assert_eq!(
        (unauthorized.status().map(|s| s.as_u16()), unauthorized.code()),
        (Some(401), Some("clerk_key_invalid"))
    );
    let unreachable =
        usher::Usher::new(usher::UsherConfig::new("sk_test_x", &server.publishable, "http://127.0.0.1:9").unwrap())
            .unwrap();
    assert!(matches!(unreachable.client().users().get("user_x").await.unwrap_err(), usher::ClientError::Transport(_)));
}

fn email(address: &str, first_name: Option<&str>) -> CreateUser {
    CreateUser { email_address: vec![address.into()], first_name: first_name.map(Into::into), ..Default::default() }
}

#[tokio::test]
async fn passwords_templates_and_session_lists_through_the_client() {
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let client = usher.client();
    let user = client
        .users()
        .create(&CreateUser { password: Some("correct horse battery".into()), ..email("pw@example.com", None) })
        .await
        .unwrap();
    assert!(client.users().verify_password(&user.id, "correct horse battery").await.unwrap());
    assert!(!client.users().verify_password(&user.id, "wrong horse battery").await.unwrap());

    let template = client
        .jwt_templates()
        .create(&JwtTemplateParams {
            name: Some("t".into()),
            claims: Some(json!({"role": "{{user.id}}"})),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(client.jwt_templates().list().await.unwrap().total_count, 1);
    let renamed = client
        .jwt_templates()
        .update(&template.id, &JwtTemplateParams { name: Some("t2".into()), ..Default::default() })
        .await
        .unwrap();
    assert_eq!((renamed.name.as_str(), &renamed.claims), ("t2", &template.claims));

    let session = client.sessions().create(&user.id).await.unwrap();
    let token = client.sessions().token(&session.id, Some("t2")).await.unwrap();
    assert_eq!(token.split('.').count(), 3);
    client.sessions().create(&user.id).await.unwrap();
    client.sessions().revoke(&session.id).await.unwrap();
    let active = client.sessions().list_for_user(&user.id, Some("active"), 10, 0).await.unwrap();
    assert_eq!(active.total_count, 1);
    assert_ne!(active.data[0].id, session.id);
    assert!(client.jwt_templates().delete(&template.id).await.unwrap().deleted);
}
