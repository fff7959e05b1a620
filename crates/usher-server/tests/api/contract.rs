//! The store's behavioural contract, run unchanged on SQLite and on PostgreSQL.

use std::sync::Arc;

use serde_json::json;
use usher_server::store::*;

use crate::helpers::{Db, TestDb, skip_postgres};

fn user(id: &str, email: &str, created_at: i64) -> UserRecord {
    UserRecord {
        id: id.into(),
        username: Some(format!("name_{id}")),
        first_name: Some("Ada".into()),
        public_metadata: json!({"plan": "pro"}).as_object().cloned().unwrap(),
        primary_email_address_id: Some(format!("idn_e_{id}")),
        emails: vec![IdentifierRecord {
            id: format!("idn_e_{id}"),
            value: email.into(),
            verified: true,
            strategy: "admin".into(),
            created_at,
            updated_at: created_at,
        }],
        delete_self_enabled: true,
        created_at,
        updated_at: created_at,
        ..UserRecord::default()
    }
}

fn session(id: &str, user_id: &str, created_at: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        user_id: user_id.into(),
        client_id: "client_1".into(),
        status: "active".into(),
        last_active_at: created_at,
        expire_at: created_at + 1000,
        abandon_at: created_at + 1000,
        created_at,
        updated_at: created_at,
        ..SessionRecord::default()
    }
}

fn all(order_by: UserOrder, descending: bool, filter: UserFilter) -> UserQuery {
    UserQuery { filter, order_by, descending, page: Page { limit: 100, offset: 0 } }
}

fn ids(users: &[UserRecord]) -> Vec<&str> {
    users.iter().map(|u| u.id.as_str()).collect()
}

async fn a_created_user_reads_back_whole(store: Arc<dyn Store>) {
    let mut u = user("user_a", "Ada@Example.com", 1000);
    u.phones.push(IdentifierRecord {
        id: "idn_p".into(),
        value: "+15555550100".into(),
        verified: false,
        strategy: "phone_code".into(),
        created_at: 1000,
        updated_at: 1000,
    });
    u.private_metadata = json!({"nested": {"deep": [1, 2]}}).as_object().cloned().unwrap();
    u.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$x$y".into());
    u.locked_until = Some(i64::MAX);
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user("user_a").await.unwrap(), Some(u));
    assert_eq!(store.get_user("user_missing").await.unwrap(), None);
}

async fn identifiers_are_unique_and_a_refused_user_leaves_nothing(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "ada@example.com", 1)).await.unwrap();
    let dup_email = user("user_b", "ADA@EXAMPLE.COM", 2);
    assert!(matches!(store.create_user(&dup_email).await, Err(StoreError::Conflict(UniqueField::EmailAddress))));
    assert_eq!(store.get_user("user_b").await.unwrap(), None, "no half-written user");
    let mut dup_name = user("user_c", "c@example.com", 3);
    dup_name.username = Some("NAME_USER_A".into());
    assert!(matches!(store.create_user(&dup_name).await, Err(StoreError::Conflict(UniqueField::Username))));
    let mut dup_external = user("user_d", "d@example.com", 4);
    dup_external.external_id = Some("ext".into());
    store.create_user(&dup_external).await.unwrap();
    let mut again = user("user_e", "e@example.com", 5);
    again.external_id = Some("ext".into());
    assert!(matches!(store.create_user(&again).await, Err(StoreError::Conflict(UniqueField::ExternalId))));
    // The refused users' email addresses were rolled back with them, so they are free again.
    store.create_user(&user("user_f", "e@example.com", 6)).await.unwrap();
    assert_eq!(store.count_users(&UserFilter::default()).await.unwrap(), 3);
}

async fn lists_filter_order_and_page(store: Arc<dyn Store>) {
    for (i, (name, email)) in
        [("zed", "zed@x.io"), ("amy", "amy@y.io"), ("bob", "bob@x.io"), ("cat", "cat@z.io")].iter().enumerate()
    {
        let mut u = user(&format!("user_{name}"), email, 100 + i as i64);
        u.first_name = Some((*name).to_uppercase());
        store.create_user(&u).await.unwrap();
    }
    let newest = store.list_users(&all(UserOrder::CreatedAt, true, UserFilter::default())).await.unwrap();
    assert_eq!(ids(&newest), ["user_cat", "user_bob", "user_amy", "user_zed"]);
    let by_name = store.list_users(&all(UserOrder::FirstName, false, UserFilter::default())).await.unwrap();
    assert_eq!(ids(&by_name), ["user_amy", "user_bob", "user_cat", "user_zed"]);
    let mut q = all(UserOrder::CreatedAt, false, UserFilter::default());
    q.page = Page { limit: 2, offset: 1 };
    assert_eq!(ids(&store.list_users(&q).await.unwrap()), ["user_amy", "user_bob"]);

    let filters = [
        (
            UserFilter { email_address: vec!["AMY@y.io".into(), "bob@x.io".into()], ..Default::default() },
            vec!["user_amy", "user_bob"],
        ),
        (UserFilter { username: vec!["Name_User_Zed".into()], ..Default::default() }, vec!["user_zed"]),
        (UserFilter { query: Some("x.io".into()), ..Default::default() }, vec!["user_bob", "user_zed"]),
        (UserFilter { query: Some("%".into()), ..Default::default() }, vec![]),
        (
            UserFilter {
                user_id: vec!["user_cat".into(), "user_amy".into()],
                exclude_user_id: vec!["user_amy".into()],
                ..Default::default()
            },
            vec!["user_cat"],
        ),
        (
            UserFilter { created_at_after: Some(101), created_at_before: Some(103), ..Default::default() },
            vec!["user_bob"],
        ),
    ];
    for (filter, expected) in filters {
        let found = store.list_users(&all(UserOrder::Username, false, filter.clone())).await.unwrap();
        assert_eq!(ids(&found), expected, "{filter:?}");
        assert_eq!(store.count_users(&filter).await.unwrap(), expected.len() as i64, "{filter:?}");
    }
}

async fn concurrent_edits_are_not_lost(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let edits = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .update_user("user_a", &move |u: &mut UserRecord| {
                    u.public_metadata.insert(format!("k{i}"), json!(i));
                    true
                })
                .await
        })
    });
    for edit in edits {
        edit.await.unwrap().unwrap().unwrap();
    }
    let u = store.get_user("user_a").await.unwrap().unwrap();
    assert_eq!(u.public_metadata.len(), 17, "{:?}", u.public_metadata);
    assert_eq!(u.version, 16);
    let abandoned = store.update_user("user_a", &|u: &mut UserRecord| {
        u.first_name = None;
        false
    });
    assert_eq!(abandoned.await.unwrap().unwrap().first_name.as_deref(), Some("Ada"));
    assert_eq!(store.update_user("user_missing", &|_: &mut UserRecord| true).await.unwrap(), None);
}

async fn deleting_a_user_deletes_what_it_owns(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_session(&session("sess_1", "user_a", 1)).await.unwrap();
    let deleted = store.delete_user("user_a").await.unwrap().unwrap();
    assert_eq!(deleted.id, "user_a");
    assert_eq!(store.get_session("sess_1").await.unwrap(), None);
    assert_eq!(store.delete_user("user_a").await.unwrap(), None);
    // The email address is free again.
    store.create_user(&user("user_b", "a@example.com", 2)).await.unwrap();
}

async fn sessions_list_and_end(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    for i in 0..3 {
        store.create_session(&session(&format!("sess_{i}"), "user_a", 10 + i)).await.unwrap();
    }
    let ended = store.end_session("sess_0", "revoked", 50).await.unwrap().unwrap();
    assert_eq!((ended.status.as_str(), ended.updated_at), ("revoked", 50));
    // Ending again changes nothing.
    assert_eq!(store.end_session("sess_0", "ended", 60).await.unwrap().unwrap().status, "revoked");
    assert_eq!(store.end_session("sess_x", "ended", 60).await.unwrap(), None);
    let filter = SessionFilter { user_id: Some("user_a".into()), status: Some("active".into()), ..Default::default() };
    let (active, total) = store.list_sessions(&filter, Page { limit: 1, offset: 0 }).await.unwrap();
    assert_eq!((active[0].id.as_str(), total), ("sess_2", 2));
    assert_eq!(store.end_user_sessions("user_a", "revoked", 70).await.unwrap(), 2);
    let (_, active) = store.list_sessions(&filter, Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!(active, 0);
}

async fn templates_have_unique_names(store: Arc<dyn Store>) {
    let t = TemplateRecord {
        id: "jtmp_1".into(),
        name: "supabase".into(),
        claims: json!({"aud": "authenticated", "email": "{{user.primary_email_address}}"}),
        lifetime: 60,
        allowed_clock_skew: 5,
        custom_signing_key: true,
        signing_algorithm: "HS256".into(),
        signing_key: Some("s".repeat(32)),
        created_at: 1,
        updated_at: 1,
    };
    store.create_template(&t).await.unwrap();
    let dup = TemplateRecord { id: "jtmp_2".into(), ..t.clone() };
    assert!(matches!(store.create_template(&dup).await, Err(StoreError::Conflict(UniqueField::TemplateName))));
    assert_eq!(store.get_template_by_name("supabase").await.unwrap(), Some(t.clone()));
    let renamed = TemplateRecord { name: "other".into(), lifetime: 120, updated_at: 2, ..t.clone() };
    assert!(store.update_template(&renamed).await.unwrap());
    assert_eq!(store.get_template("jtmp_1").await.unwrap(), Some(renamed));
    let (list, total) = store.list_templates(Page { limit: 10, offset: 0 }).await.unwrap();
    assert_eq!((list.len(), total), (1, 1));
    assert!(store.delete_template("jtmp_1").await.unwrap());
    assert!(!store.delete_template("jtmp_1").await.unwrap());
}

fn key(kid: &str, activates_at: i64) -> SigningKeyRecord {
    SigningKeyRecord {
        kid: kid.into(),
        private_der: vec![1, 2, 3],
        created_at: activates_at,
        activates_at,
        max_lifetime: 60,
        ..Default::default()
    }
}

async fn signing_keys_rotate_atomically(store: Arc<dyn Store>) {
    store.insert_first_signing_key(&key("ins_1", 10)).await.unwrap();
    store.insert_first_signing_key(&key("ins_other", 11)).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap().len(), 1, "only the first key is inserted");
    store.record_key_lifetime("ins_1", 3600).await.unwrap();
    store.record_key_lifetime("ins_1", 100).await.unwrap();
    store.rotate_signing_key(&key("ins_2", 1000), 5).await.unwrap();
    let keys = store.signing_keys().await.unwrap();
    assert_eq!(keys[0].kid, "ins_2");
    assert_eq!(keys[0].retired_at, None);
    assert_eq!(
        (keys[1].retired_at, keys[1].publish_until, keys[1].max_lifetime),
        (Some(1000), Some(1000 + 3_600_000 + 5), 3600)
    );
    // A longer token signed by the retired key extends its publication.
    store.record_key_lifetime("ins_1", 7200).await.unwrap();
    assert_eq!(store.signing_keys().await.unwrap()[1].publish_until, Some(1000 + 7_200_000 + 5));
}

async fn settings_are_set_once(store: Arc<dyn Store>) {
    assert_eq!(store.setting("k").await.unwrap(), None);
    assert_eq!(store.init_setting("k", "first").await.unwrap(), "first");
    assert_eq!(store.init_setting("k", "second").await.unwrap(), "first");
}

async fn sign_in_tokens_revoke_once(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let t = SignInTokenRecord {
        id: "sit_1".into(),
        user_id: "user_a".into(),
        token_hash: "h".into(),
        status: "pending".into(),
        expire_at: 9,
        created_at: 1,
        updated_at: 1,
    };
    store.create_sign_in_token(&t).await.unwrap();
    let revoked = store.revoke_sign_in_token("sit_1", 5).await.unwrap().unwrap();
    assert_eq!((revoked.status.as_str(), revoked.updated_at), ("revoked", 5));
    assert_eq!(store.revoke_sign_in_token("sit_1", 6).await.unwrap().unwrap().updated_at, 5);
    assert_eq!(store.revoke_sign_in_token("sit_x", 6).await.unwrap(), None);
}

async fn sign_in_tokens_are_accepted_once_while_pending(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let t = |id: &str, hash: &str| SignInTokenRecord {
        id: id.into(),
        user_id: "user_a".into(),
        token_hash: hash.into(),
        status: "pending".into(),
        expire_at: 100,
        created_at: 1,
        updated_at: 1,
    };
    store.create_sign_in_token(&t("sit_1", "h1")).await.unwrap();
    store.create_sign_in_token(&t("sit_2", "h2")).await.unwrap();
    assert_eq!(store.accept_sign_in_token("h1", 5).await.unwrap().unwrap().status, "accepted");
    assert_eq!(store.accept_sign_in_token("h1", 6).await.unwrap(), None, "once");
    assert_eq!(store.accept_sign_in_token("h2", 100).await.unwrap(), None, "expired");
    assert_eq!(store.accept_sign_in_token("nope", 5).await.unwrap(), None);
}

async fn clients_and_attempts_round_trip(store: Arc<dyn Store>) {
    let mut client = ClientRecord {
        id: "client_1".into(),
        token_hash: "t1".into(),
        expire_at: 100,
        created_at: 1,
        updated_at: 1,
        ..ClientRecord::default()
    };
    store.create_client(&client).await.unwrap();
    client.token_hash = "t2".into();
    client.sign_in_id = Some("sia_1".into());
    client.last_active_session_id = Some("sess_1".into());
    assert!(store.save_client(&client).await.unwrap());
    assert_eq!(store.get_client("client_1").await.unwrap(), Some(client));
    assert!(!store.save_client(&ClientRecord { id: "client_x".into(), ..ClientRecord::default() }).await.unwrap());

    let mut attempt = AttemptRecord {
        id: "sia_1".into(),
        client_id: "client_1".into(),
        kind: "sign_in".into(),
        data: json!({"status": "needs_first_factor", "nested": {"n": 1}}),
        expire_at: 50,
        created_at: 1,
        updated_at: 1,
    };
    store.save_attempt(&attempt).await.unwrap();
    attempt.data = json!({"status": "complete"});
    attempt.updated_at = 2;
    store.save_attempt(&attempt).await.unwrap();
    assert_eq!(store.get_attempt("sia_1").await.unwrap(), Some(attempt));
}

async fn codes_are_single_use_and_mail_is_claimed_once(store: Arc<dyn Store>) {
    let mail = |id: &str| MailRecord {
        id: id.into(),
        to: "a@example.com".into(),
        subject: "s".into(),
        body: "sealed".into(),
        next_attempt_at: 10,
        created_at: 10,
        ..MailRecord::default()
    };
    let code =
        CodeRecord { subject_id: "sia_1".into(), code_hash: "c1".into(), attempts: 0, expire_at: 99, created_at: 10 };
    store.issue_code(&code, &mail("mail_1")).await.unwrap();
    // A new code replaces the old one and starts its guess count afresh.
    assert_eq!(store.code_failed("sia_1").await.unwrap(), 1);
    store.issue_code(&CodeRecord { code_hash: "c2".into(), ..code.clone() }, &mail("mail_2")).await.unwrap();
    let live = store.get_code("sia_1").await.unwrap().unwrap();
    assert_eq!((live.code_hash.as_str(), live.attempts), ("c2", 0));
    assert!(!store.consume_code("sia_1", "c1").await.unwrap());
    assert!(store.consume_code("sia_1", "c2").await.unwrap());
    assert!(!store.consume_code("sia_1", "c2").await.unwrap(), "once");
    assert_eq!(store.get_code("sia_1").await.unwrap(), None);

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

async fn users_add_verify_and_remove_email_addresses(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    let extra = IdentifierRecord {
        id: "idn_x".into(),
        value: "Extra@Example.com".into(),
        verified: false,
        strategy: "email_code".into(),
        created_at: 2,
        updated_at: 2,
    };
    store.add_email_address("user_a", &extra).await.unwrap();
    let taken = IdentifierRecord { id: "idn_y".into(), value: "extra@example.COM".into(), ..extra.clone() };
    assert!(matches!(
        store.add_email_address("user_b", &taken).await,
        Err(StoreError::Conflict(UniqueField::EmailAddress))
    ));
    assert!(!store.verify_email_address("user_b", "idn_x", 3).await.unwrap(), "only the owner's");
    assert!(store.verify_email_address("user_a", "idn_x", 3).await.unwrap());
    let a = store.get_user("user_a").await.unwrap().unwrap();
    assert!(a.emails.iter().any(|e| e.id == "idn_x" && e.verified));
    assert!(!store.delete_email_address("user_b", "idn_x").await.unwrap());
    assert!(store.delete_email_address("user_a", "idn_x").await.unwrap());
    assert_eq!(store.get_user("user_a").await.unwrap().unwrap().emails.len(), 1);
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = super::TestDb::new(super::Db::Sqlite).await;
                    super::$name(db.store().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    if super::skip_postgres() {
                        return;
                    }
                    let db = super::TestDb::new(super::Db::Postgres).await;
                    super::$name(db.store().await).await;
                }
            )*
        }
    };
}

contract!(
    a_created_user_reads_back_whole,
    identifiers_are_unique_and_a_refused_user_leaves_nothing,
    lists_filter_order_and_page,
    concurrent_edits_are_not_lost,
    deleting_a_user_deletes_what_it_owns,
    sessions_list_and_end,
    templates_have_unique_names,
    signing_keys_rotate_atomically,
    settings_are_set_once,
    sign_in_tokens_revoke_once,
    sign_in_tokens_are_accepted_once_while_pending,
    clients_and_attempts_round_trip,
    codes_are_single_use_and_mail_is_claimed_once,
    users_add_verify_and_remove_email_addresses,
);
