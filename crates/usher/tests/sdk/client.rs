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

#[tokio::test]
async fn organizations_invitations_roles_and_permissions_through_the_client() {
    use usher::{
        client::PageParams,
        types::requests::{InvitationParams, MembershipParams, OrganizationParams, PermissionParams, RoleParams},
    };
    let server = start(|_| {}).await;
    let usher = server.usher(|_| {});
    let client = usher.client();
    let ada = client.users().create(&email("ada@example.com", Some("Ada"))).await.unwrap();
    let bob = client.users().create(&email("bob@example.com", None)).await.unwrap();
    let orgs = client.organizations();
    let org = orgs
        .create(&OrganizationParams {
            name: Some("Acme".into()),
            created_by: Some(ada.id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(orgs.get("acme").await.unwrap().id, org.id);
    assert_eq!(orgs.list(Some("acm"), PageParams::default()).await.unwrap().total_count, 1);
    let rename = OrganizationParams { name: Some("Acme Inc".into()), ..Default::default() };
    assert_eq!(orgs.update(&org.id, &rename).await.unwrap().name, "Acme Inc");

    let perm = client
        .roles()
        .create_permission(&PermissionParams {
            key: Some("org:invoices:create".into()),
            name: Some("Create invoices".into()),
            ..Default::default()
        })
        .await
        .unwrap();
    let role = client
        .roles()
        .create(&RoleParams { key: Some("org:billing".into()), name: Some("Billing".into()), ..Default::default() })
        .await
        .unwrap();
    let role = client.roles().assign_permission(&role.id, &perm.id).await.unwrap();
    assert_eq!(role.permissions[0].key, "org:invoices:create");

    let m = orgs
        .create_membership(
            &org.id,
            &MembershipParams { user_id: Some(bob.id.clone()), role: Some("org:billing".into()), ..Default::default() },
        )
        .await
        .unwrap();
    assert_eq!(m.permissions, vec!["org:invoices:create".to_owned()]);
    assert_eq!(orgs.list_memberships(&org.id, PageParams::default()).await.unwrap().total_count, 2);
    let last_admin = orgs.update_membership(&org.id, &ada.id, "org:member").await.unwrap_err();
    assert_eq!(last_admin.code(), Some("organization_minimum_permissions_needed"));
    assert_eq!(orgs.update_membership(&org.id, &bob.id, "org:member").await.unwrap().role, "org:member");

    let inv = orgs
        .create_invitation(
            &org.id,
            &InvitationParams { email_address: Some("new@example.com".into()), ..Default::default() },
        )
        .await
        .unwrap();
    assert!(inv.url.as_deref().is_some_and(|u| u.contains("__clerk_ticket=")));
    assert_eq!(orgs.list_invitations(&org.id, Some("pending"), PageParams::default()).await.unwrap().total_count, 1);
    assert_eq!(orgs.get_invitation(&org.id, &inv.id).await.unwrap().email_address, "new@example.com");
    let revoked = orgs.revoke_invitation(&org.id, &inv.id, Some(&ada.id)).await.unwrap();
    assert_eq!(revoked.status, usher::types::InvitationStatus::Revoked);

    orgs.delete_membership(&org.id, &bob.id).await.unwrap();
    assert!(client.roles().delete(&role.id).await.unwrap().deleted);
    assert!(client.roles().delete_permission(&perm.id).await.unwrap().deleted);
    assert!(orgs.delete(&org.id).await.unwrap().deleted);
    assert!(orgs.get(&org.id).await.unwrap_err().is_not_found());
}
