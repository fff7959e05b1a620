use std::sync::Arc;

use usher_server::store::*;

use super::contract;

pub(super) fn mail(id: &str) -> MailRecord {
    MailRecord {
        id: id.into(),
        to: "a@example.com".into(),
        subject: "s".into(),
        body: "sealed".into(),
        next_attempt_at: 10,
        created_at: 10,
        ..MailRecord::default()
    }
}

async fn mail_is_claimed_once(store: Arc<dyn Store>) {
    let code =
        CodeRecord { subject_id: "sia_1".into(), code_hash: "c1".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, Some(&mail("mail_1"))).await.unwrap();
    store.enqueue_mail(&mail("mail_2")).await.unwrap();
    let due = store.due_mail(10, 10).await.unwrap();
    assert_eq!(due.iter().map(|m| m.id.as_str()).collect::<Vec<_>>(), ["mail_1", "mail_2"]);
    assert!(store.claim_mail(&due[0], 70).await.unwrap());
    assert!(!store.claim_mail(&due[0], 70).await.unwrap(), "a second node does not get it");
    assert_eq!(store.due_mail(10, 10).await.unwrap().len(), 1);
    store.mail_sent("mail_1", 11).await.unwrap();
    store.mail_failed("mail_2", "refused", 500).await.unwrap();
    assert_eq!(store.due_mail(499, 10).await.unwrap(), vec![]);
    let retried = store.due_mail(500, 10).await.unwrap();
    assert_eq!((retried[0].attempts, retried[0].last_error.as_deref()), (1, Some("refused")));
}

contract!(mail_is_claimed_once);
