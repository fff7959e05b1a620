use std::sync::Arc;

use serde_json::json;
use usher_server::store::*;
use usher_types::Strategy;

use super::{contract, session, user};

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
        strategy: Strategy::PhoneCode,
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

/// A search in the default order reads its page from the first users of that order when they
/// hold enough matches and from the whole table when they do not (the store's first window is
/// 500 to 2,000 users); both must give what filtering every user gives, in both directions and
/// at any offset.
async fn searches_page_the_same_inside_and_beyond_the_first_users(store: Arc<dyn Store>) {
    const USERS: i64 = 2_010;
    let name = |i: i64| format!("user_s{i:04}");
    let mut expected_all = Vec::new();
    for i in 0..USERS {
        // "needle" is only in the oldest users (beyond the window, newest first), "split" in
        // one new and one old user, a phone number only in one user's number.
        let email = match i {
            0 | 5 => format!("needle{i}@common.io"),
            3 | 2000 => format!("split{i}@common.io"),
            _ => format!("u{i}@common.io"),
        };
        let mut u = user(&name(i), &email, 10_000 + i);
        u.banned = i % 3 == 0;
        if i == 2005 {
            u.phones.push(IdentifierRecord {
                id: "idn_phone_s".into(),
                value: "+15550123456".into(),
                verified: true,
                strategy: Strategy::Admin,
                created_at: 10_000 + i,
                updated_at: 10_000 + i,
            });
        }
        expected_all.push((i, email, u.banned));
        store.create_user(&u).await.unwrap();
    }
    let matching = |term: &str, banned: Option<bool>| -> Vec<String> {
        expected_all
            .iter()
            .filter(|(i, email, b)| {
                (email.contains(term) || name(*i).contains(term) || (*i == 2005 && "+15550123456".contains(term)))
                    && banned.is_none_or(|want| want == *b)
            })
            .map(|(i, _, _)| name(*i))
            .collect()
    };
    for (term, banned) in [
        ("common.io", None),
        ("common.io", Some(true)),
        ("needle", None),
        ("split", None),
        ("5550123", None),
        ("s200", None),
    ] {
        let filter = UserFilter { query: Some(term.into()), banned, ..Default::default() };
        let ascending = matching(term, banned);
        let pages = [
            Page { limit: 1, offset: 0 },
            Page { limit: 3, offset: 0 },
            Page { limit: 3, offset: 4 },
            Page { limit: 10, offset: 1_995 },
        ];
        pages_match(&store, &filter, &ascending, &pages).await;
        assert_eq!(store.count_users(&filter).await.unwrap(), ascending.len() as i64, "{term} banned={banned:?}");
    }
}

/// Each of `pages` of `filter` in the default order, both directions, is the same slice of
/// `ascending` (every match in creation order), and its users come back whole, identifiers
/// included, on whichever path the store took.
async fn pages_match(store: &Arc<dyn Store>, filter: &UserFilter, ascending: &[String], pages: &[Page]) {
    let descending: Vec<String> = ascending.iter().rev().cloned().collect();
    for (descending_order, all_of_them) in [(false, ascending), (true, descending.as_slice())] {
        for &page in pages {
            let q = UserQuery {
                filter: filter.clone(),
                order_by: UserOrder::CreatedAt,
                descending: descending_order,
                page,
            };
            let found = store.list_users(&q).await.unwrap();
            let want: Vec<&str> =
                all_of_them.iter().skip(page.offset as usize).take(page.limit as usize).map(String::as_str).collect();
            assert_eq!(ids(&found), want, "{filter:?} descending={descending_order} {page:?}");
            for u in &found {
                assert_eq!(store.get_user(&u.id).await.unwrap().as_ref(), Some(u));
            }
        }
    }
}

/// Terms matched by a few in a thousand users fall between the store's first walk of the
/// default order (500 users for a first page of ten) and the trigram indexes: the walk finds
/// some matches but not the page, and the store either walks on (as far as those matches say the page is) or collects
/// every match. Either way the pages must be what filtering every user gives, in both
/// directions, alone or with another filter.
async fn searches_of_middling_terms_page_the_same_as_a_full_filter(store: Arc<dyn Store>) {
    const USERS: i64 = 2_500;
    let name = |i: i64| format!("user_m{i:04}");
    // Every 250th user's address has "qmidq" (ten in all, two in either end's first 500),
    // every 40th "oftnq", every 700th "seldq"; every other user is banned.
    let tag = |i: i64| match () {
        _ if i % 250 == 7 => "qmidq",
        _ if i % 40 == 3 => "oftnq",
        _ if i % 700 == 11 => "seldq",
        _ => "plain",
    };
    for i in 0..USERS {
        let mut u = user(&name(i), &format!("{}{i}@list.io", tag(i)), 50_000 + i);
        u.banned = i % 2 == 0;
        store.create_user(&u).await.unwrap();
    }
    for (term, banned) in
        [("qmidq", None), ("qmidq", Some(false)), ("oftnq", None), ("oftnq", Some(true)), ("seldq", None)]
    {
        let filter = UserFilter { query: Some(term.into()), banned, ..Default::default() };
        let ascending: Vec<String> = (0..USERS)
            .filter(|i| tag(*i) == term && banned.is_none_or(|want| want == (i % 2 == 0)))
            .map(name)
            .collect();
        let pages = [
            Page { limit: 10, offset: 0 },
            Page { limit: 3, offset: 6 },
            Page { limit: 5, offset: 2 },
            Page { limit: 1, offset: 9 },
            Page { limit: 10, offset: 20 },
            Page { limit: 50, offset: 0 },
        ];
        pages_match(&store, &filter, &ascending, &pages).await;
        assert_eq!(store.count_users(&filter).await.unwrap(), ascending.len() as i64, "{term} banned={banned:?}");
    }
}

/// Deep offsets of the unfiltered default order are found through per-bucket counts of users
/// on PostgreSQL (buckets of about one second, 17 minutes and 12 days of `created_at`): pages
/// must be what ordering every user gives, across bucket edges, among users created in the
/// same millisecond, before 1970, past the end, and after users are deleted; the unfiltered
/// count is exact throughout.
async fn deep_offsets_page_the_same_as_ordering_every_user(store: Arc<dyn Store>) {
    const USERS: i64 = 1_600;
    // Ids in another order than creation, so ties in created_at are broken by id visibly.
    let name = |i: i64| format!("user_d{:04}", (i * 7_919) % USERS);
    let created = |i: i64| match i {
        0 => -5_000,
        // 3 ms apart: hundreds in each one-second bucket.
        1..400 => 5_000 + i * 3,
        // Fifty at a time in the same millisecond.
        400..800 => 2_000_000_000 + i / 50,
        // 7,000 seconds apart: across the wider buckets.
        _ => 3_000_000_000 + i * 7_000_000,
    };
    let mut everyone: Vec<(i64, String)> = Vec::new();
    for i in 0..USERS {
        store.create_user(&user(&name(i), &format!("d{i}@deep.io"), created(i))).await.unwrap();
        everyone.push((created(i), name(i)));
    }
    everyone.sort();
    let check = |everyone: Vec<(i64, String)>| {
        let store = store.clone();
        async move {
            assert_eq!(store.count_users(&UserFilter::default()).await.unwrap(), everyone.len() as i64);
            let ascending: Vec<&str> = everyone.iter().map(|(_, id)| id.as_str()).collect();
            let descending: Vec<&str> = ascending.iter().rev().copied().collect();
            for (descending_order, all_of_them) in [(false, &ascending), (true, &descending)] {
                for (limit, offset) in [
                    (10, 999),
                    (10, 1_000),
                    (1, 1_001),
                    (37, 1_203),
                    (10, 1_390),
                    (25, 1_580),
                    (10, 1_599),
                    (10, 1_600),
                    (5, 5_000),
                ] {
                    let q = UserQuery {
                        filter: UserFilter::default(),
                        order_by: UserOrder::CreatedAt,
                        descending: descending_order,
                        page: Page { limit, offset },
                    };
                    let found = store.list_users(&q).await.unwrap();
                    let want: Vec<&str> =
                        all_of_them.iter().skip(offset as usize).take(limit as usize).copied().collect();
                    assert_eq!(ids(&found), want, "descending={descending_order} limit={limit} offset={offset}");
                }
            }
        }
    };
    check(everyone.clone()).await;
    // Deleting users (from both ends and the middle) moves every later page.
    for i in [0, 3, 399, 400, 401, 450, 799, 800, 1_200, 1_599] {
        store.delete_user(&name(i)).await.unwrap().unwrap();
        everyone.retain(|(_, id)| *id != name(i));
    }
    check(everyone).await;
}

async fn concurrent_edits_are_not_lost(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let edits = (0..16).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .update_user("user_a", &mut move |u: &mut UserRecord| {
                    u.public_metadata.insert(format!("k{i}"), json!(i));
                    Ok(())
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
    // A refusing edit writes nothing and hands its reason back.
    let abandoned = store
        .update_user("user_a", &mut |u: &mut UserRecord| {
            u.first_name = None;
            Err(usher_types::ClerkError::new("too_big", "Too big", "Too big"))
        })
        .await;
    assert!(matches!(abandoned, Err(StoreError::Refused(e)) if e.code == "too_big"));
    assert_eq!(store.get_user("user_a").await.unwrap().unwrap().first_name.as_deref(), Some("Ada"));
    assert_eq!(store.update_user("user_missing", &mut |_: &mut UserRecord| Ok(())).await.unwrap(), None);
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

async fn users_add_verify_and_remove_email_addresses(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    let extra = IdentifierRecord {
        id: "idn_x".into(),
        value: "Extra@Example.com".into(),
        verified: false,
        strategy: Strategy::EmailCode,
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

async fn failed_attempts_count_and_lock_at_the_threshold(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    for _ in 0..2 {
        store.record_failed_attempt("user_a", 3, 500).await.unwrap();
    }
    let u = store.get_user("user_a").await.unwrap().unwrap();
    assert_eq!((u.failed_attempts, u.locked_until, u.version), (2, None, 2));
    store.record_failed_attempt("user_a", 3, 500).await.unwrap();
    let u = store.get_user("user_a").await.unwrap().unwrap();
    assert_eq!((u.failed_attempts, u.locked_until), (0, Some(500)), "the third failure locks and restarts the count");
    // Concurrent failures are all counted.
    let failures = (0..10).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.record_failed_attempt("user_a", 100, 900).await })
    });
    for f in failures {
        f.await.unwrap().unwrap();
    }
    assert_eq!(store.get_user("user_a").await.unwrap().unwrap().failed_attempts, 10);
    store.record_failed_attempt("user_missing", 3, 500).await.unwrap();
}

contract!(
    a_created_user_reads_back_whole,
    searches_page_the_same_inside_and_beyond_the_first_users,
    searches_of_middling_terms_page_the_same_as_a_full_filter,
    deep_offsets_page_the_same_as_ordering_every_user,
    identifiers_are_unique_and_a_refused_user_leaves_nothing,
    lists_filter_order_and_page,
    concurrent_edits_are_not_lost,
    deleting_a_user_deletes_what_it_owns,
    users_add_verify_and_remove_email_addresses,
    failed_attempts_count_and_lock_at_the_threshold,
);
