use std::sync::Arc;

use usher_server::store::*;

use super::{contract, user};

fn entry(id: &str, at: i64, action: AuditAction, actor: Option<&str>, subject: Option<&str>) -> AuditEntry {
    AuditEntry {
        id: id.into(),
        at,
        actor_type: if actor.is_some() { ActorType::User } else { ActorType::SecretKey },
        actor_id: actor.map(Into::into),
        via_actor: None,
        subject_id: subject.map(Into::into),
        action,
        outcome: Outcome::Success,
        reason: None,
        detail: Some("d".into()),
        client_ip: "127.0.0.1".into(),
        user_agent: "ua".into(),
    }
}

async fn audit_entries_read_back_newest_first_and_filter(store: Arc<dyn Store>) {
    let mut failed = entry("aud_1", 10, AuditAction::SignInFailed, Some("user_a"), Some("user_a"));
    failed.outcome = Outcome::Failure;
    failed.reason = Some("form_password_incorrect".into());
    failed.via_actor = Some("user_admin".into());
    store.append_audit(&failed).await.unwrap();
    store.append_audit(&entry("aud_2", 20, AuditAction::UserBanned, None, Some("user_a"))).await.unwrap();
    store
        .append_audit(&entry("aud_3", 30, AuditAction::SignInSucceeded, Some("user_b"), Some("user_b")))
        .await
        .unwrap();
    let page = Page { limit: 10, offset: 0 };

    let (all, total) = store.list_audit(&AuditFilter::default(), page).await.unwrap();
    assert_eq!(total, 3);
    assert_eq!(all.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["aud_3", "aud_2", "aud_1"]);
    assert_eq!(all[2], failed, "every field round-trips");

    let ids = |filter: AuditFilter| {
        let store = store.clone();
        async move {
            let (found, n) = store.list_audit(&filter, page).await.unwrap();
            assert_eq!(n as usize, found.len());
            found.into_iter().map(|e| e.id).collect::<Vec<_>>()
        }
    };
    assert_eq!(ids(AuditFilter { subject_id: Some("user_a".into()), ..Default::default() }).await, ["aud_2", "aud_1"]);
    assert_eq!(ids(AuditFilter { actor_id: Some("user_b".into()), ..Default::default() }).await, ["aud_3"]);
    assert_eq!(ids(AuditFilter { actor_type: Some(ActorType::SecretKey), ..Default::default() }).await, ["aud_2"]);
    assert_eq!(ids(AuditFilter { involving: Some("user_a".into()), ..Default::default() }).await, ["aud_2", "aud_1"]);
    let sign_ins = vec![AuditAction::SignInFailed, AuditAction::SignInSucceeded];
    assert_eq!(ids(AuditFilter { actions: sign_ins, ..Default::default() }).await, ["aud_3", "aud_1"]);
    assert_eq!(ids(AuditFilter { outcome: Some(Outcome::Failure), ..Default::default() }).await, ["aud_1"]);
    assert_eq!(ids(AuditFilter { since: Some(20), until: Some(30), ..Default::default() }).await, ["aud_2"]);

    let (second, total) = store.list_audit(&AuditFilter::default(), Page { limit: 1, offset: 1 }).await.unwrap();
    assert_eq!((second[0].id.as_str(), total), ("aud_2", 3));
}

async fn audit_export_walks_oldest_first_and_pruning_removes_only_old_entries(store: Arc<dyn Store>) {
    // Two entries in the same millisecond are ordered by id, so a cursor skips neither.
    for (id, at) in [("aud_c", 5), ("aud_a", 5), ("aud_b", 7), ("aud_d", 9)] {
        store.append_audit(&entry(id, at, AuditAction::BackendWrite, None, None)).await.unwrap();
    }
    let filter = AuditFilter::default();
    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let batch = store.audit_after(&filter, after.as_deref(), 2).await.unwrap();
        if batch.is_empty() {
            break;
        }
        after = batch.last().map(|e| e.id.clone());
        seen.extend(batch.into_iter().map(|e| e.id));
    }
    assert_eq!(seen, ["aud_a", "aud_c", "aud_b", "aud_d"]);

    assert_eq!(store.prune_audit(7).await.unwrap(), 2);
    let (left, _) = store.list_audit(&filter, Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!(left.iter().map(|e| e.id.as_str()).collect::<Vec<_>>(), ["aud_d", "aud_b"]);
    // A cursor whose entry was pruned starts from what is left.
    assert_eq!(store.audit_after(&filter, Some("aud_a"), 10).await.unwrap().len(), 2);
}

async fn instance_admins_are_granted_once_and_go_with_their_user(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    assert!(!store.is_admin("user_a").await.unwrap());
    assert!(store.add_admin("user_a", 5).await.unwrap());
    assert!(!store.add_admin("user_a", 6).await.unwrap(), "granted once");
    assert!(store.add_admin("user_b", 7).await.unwrap());
    assert!(store.is_admin("user_a").await.unwrap());
    assert_eq!(store.list_admins().await.unwrap(), [("user_a".to_owned(), 5), ("user_b".to_owned(), 7)]);
    assert!(store.remove_admin("user_b").await.unwrap());
    assert!(!store.remove_admin("user_b").await.unwrap());
    store.delete_user("user_a").await.unwrap();
    assert!(store.list_admins().await.unwrap().is_empty(), "a deleted user is no admin");
}

async fn actor_tokens_keep_their_actor(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let t = SignInTokenRecord {
        id: "act_1".into(),
        user_id: "user_a".into(),
        token_hash: "h".into(),
        status: SignInTokenStatus::Pending,
        expire_at: 100,
        created_at: 1,
        updated_at: 1,
        actor: Some(serde_json::json!({"sub": "user_admin", "note": "support"})),
        session_max_duration: Some(60),
    };
    store.create_sign_in_token(&t).await.unwrap();
    let accepted = store.accept_sign_in_token("h", 5).await.unwrap().unwrap();
    assert_eq!((accepted.actor, accepted.session_max_duration), (t.actor, Some(60)));
}

contract!(
    audit_entries_read_back_newest_first_and_filter,
    audit_export_walks_oldest_first_and_pruning_removes_only_old_entries,
    instance_admins_are_granted_once_and_go_with_their_user,
    actor_tokens_keep_their_actor,
);
