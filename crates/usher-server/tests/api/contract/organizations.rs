use std::sync::Arc;

use serde_json::json;
use usher_server::store::*;

use super::{contract, session, user};

fn org(id: &str, slug: &str, created_at: i64) -> OrganizationRecord {
    OrganizationRecord {
        id: id.into(),
        name: format!("Org {slug}"),
        slug: slug.into(),
        created_by: Some("user_a".into()),
        public_metadata: json!({"tier": 1}).as_object().cloned().unwrap(),
        admin_delete_enabled: true,
        created_at,
        updated_at: created_at,
        ..OrganizationRecord::default()
    }
}

fn member(org: &str, user: &str, role: &str, at: i64) -> MembershipRecord {
    MembershipRecord {
        id: format!("orgmem_{org}_{user}"),
        organization_id: org.into(),
        user_id: user.into(),
        role: role.into(),
        created_at: at,
        updated_at: at,
        ..MembershipRecord::default()
    }
}

const PAGE: Page = Page { limit: 100, offset: 0 };

async fn organizations_have_unique_slugs_and_find_by_id_or_slug(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    let acme = org("org_1", "acme", 1);
    store.create_organization(&acme, Some(&member("org_1", "user_a", ADMIN_ROLE, 1))).await.unwrap();
    let dup = OrganizationRecord { id: "org_2".into(), ..acme.clone() };
    assert!(matches!(
        store.create_organization(&dup, None).await,
        Err(StoreError::Conflict(UniqueField::OrganizationSlug))
    ));
    assert_eq!(store.get_organization("org_1").await.unwrap(), Some(acme.clone()));
    assert_eq!(store.get_organization("acme").await.unwrap(), Some(acme.clone()));
    assert_eq!(store.get_organization("nope").await.unwrap(), None);

    store.create_organization(&org("org_2", "beta", 2), None).await.unwrap();
    let renamed = OrganizationRecord { name: "Zeta".into(), updated_at: 3, ..acme.clone() };
    assert!(store.update_organization(&renamed).await.unwrap());
    let taken = OrganizationRecord { slug: "beta".into(), ..renamed.clone() };
    assert!(matches!(
        store.update_organization(&taken).await,
        Err(StoreError::Conflict(UniqueField::OrganizationSlug))
    ));

    let (list, total) = store.list_organizations(&OrganizationQuery::default(), PAGE).await.unwrap();
    assert_eq!(total, 2);
    assert_eq!(list.iter().map(|(o, n)| (o.id.as_str(), *n)).collect::<Vec<_>>(), [("org_1", 1), ("org_2", 0)]);
    let by_name =
        OrganizationQuery { order: OrganizationOrder::Name, descending: true, ..OrganizationQuery::default() };
    let (list, _) = store.list_organizations(&by_name, PAGE).await.unwrap();
    assert_eq!(list[0].0.name, "Zeta");
    let search = OrganizationQuery { query: Some("BET".into()), ..OrganizationQuery::default() };
    let (list, total) = store.list_organizations(&search, PAGE).await.unwrap();
    assert_eq!((list.len(), total, list[0].0.id.as_str()), (1, 1, "org_2"));
    let literal = OrganizationQuery { query: Some("%".into()), ..OrganizationQuery::default() };
    assert_eq!(store.list_organizations(&literal, PAGE).await.unwrap().1, 0, "LIKE wildcards match literally");

    assert!(store.delete_organization("org_1").await.unwrap());
    assert!(!store.delete_organization("org_1").await.unwrap());
    assert_eq!(store.get_membership("org_1", "user_a").await.unwrap(), None, "memberships go with their organization");
}

async fn memberships_are_unique_limited_and_keep_an_admin(store: Arc<dyn Store>) {
    for (i, id) in ["user_a", "user_b", "user_c", "user_d"].iter().enumerate() {
        store.create_user(&user(id, &format!("{id}@example.com"), i as i64)).await.unwrap();
    }
    let limited = OrganizationRecord { max_allowed_memberships: 3, ..org("org_1", "acme", 1) };
    store.create_organization(&limited, Some(&member("org_1", "user_a", ADMIN_ROLE, 1))).await.unwrap();
    assert!(store.create_membership(&member("org_1", "user_b", MEMBER_ROLE, 2)).await.unwrap());
    let again = MembershipRecord { id: "orgmem_other".into(), ..member("org_1", "user_b", MEMBER_ROLE, 3) };
    assert!(matches!(store.create_membership(&again).await, Err(StoreError::Conflict(UniqueField::Membership))));
    assert!(store.create_membership(&member("org_1", "user_c", MEMBER_ROLE, 3)).await.unwrap());
    assert!(!store.create_membership(&member("org_1", "user_d", MEMBER_ROLE, 3)).await.unwrap(), "limit of 3 reached");
    store.delete_membership("org_1", "user_c").await.unwrap();

    let filter = MembershipFilter { organization_id: Some("org_1".into()), ..MembershipFilter::default() };
    let (list, total) = store.list_memberships(&filter, PAGE).await.unwrap();
    assert_eq!((list.len(), total), (2, 2));
    assert_eq!(list[0].1.slug, "acme", "each membership comes with its organization");
    let admins = MembershipFilter { roles: vec![ADMIN_ROLE.into()], ..filter.clone() };
    assert_eq!(store.list_memberships(&admins, PAGE).await.unwrap().1, 1);
    let of_b = MembershipFilter { user_ids: vec!["user_b".into()], ..MembershipFilter::default() };
    assert_eq!(store.list_memberships(&of_b, PAGE).await.unwrap().0[0].0.user_id, "user_b");

    assert_eq!(
        store.update_membership_role("org_1", "user_a", MEMBER_ROLE, 4).await.unwrap(),
        MembershipChange::LastAdmin
    );
    assert_eq!(store.delete_membership("org_1", "user_a").await.unwrap(), MembershipChange::LastAdmin);
    assert_eq!(
        store.update_membership_role("org_1", "user_x", MEMBER_ROLE, 4).await.unwrap(),
        MembershipChange::NotFound
    );
    let MembershipChange::Done(b) = store.update_membership_role("org_1", "user_b", ADMIN_ROLE, 5).await.unwrap()
    else {
        panic!("promoting a member is allowed");
    };
    assert_eq!((b.role.as_str(), b.updated_at), (ADMIN_ROLE, 5));
    assert!(matches!(
        store.update_membership_role("org_1", "user_a", MEMBER_ROLE, 6).await.unwrap(),
        MembershipChange::Done(_)
    ));
    assert!(matches!(store.delete_membership("org_1", "user_a").await.unwrap(), MembershipChange::Done(_)));
    assert_eq!(store.delete_membership("org_1", "user_a").await.unwrap(), MembershipChange::NotFound);

    let mut m = store.get_membership("org_1", "user_b").await.unwrap().unwrap();
    m.public_metadata = json!({"team": "red"}).as_object().cloned().unwrap();
    m.updated_at = 7;
    assert!(store.update_membership_metadata(&m).await.unwrap());
    assert_eq!(store.get_membership("org_1", "user_b").await.unwrap(), Some(m));

    store.delete_user("user_b").await.unwrap();
    assert_eq!(store.get_membership("org_1", "user_b").await.unwrap(), None, "memberships go with their user");
}

async fn invitations_settle_once(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_organization(&org("org_1", "acme", 1), None).await.unwrap();
    let inv = InvitationRecord {
        id: "orginv_1".into(),
        organization_id: "org_1".into(),
        email_address: "new@example.com".into(),
        role: MEMBER_ROLE.into(),
        inviter_user_id: Some("user_a".into()),
        ticket_digest: "digest1".into(),
        expires_at: 100,
        created_at: 1,
        updated_at: 1,
        ..InvitationRecord::default()
    };
    store.create_invitation(&inv).await.unwrap();
    store
        .create_invitation(&InvitationRecord {
            id: "orginv_2".into(),
            ticket_digest: "digest2".into(),
            created_at: 2,
            ..inv.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.get_invitation_by_ticket("digest1").await.unwrap(), Some(inv.clone()));
    let revoked = store.settle_invitation("orginv_1", InvitationStatus::Revoked, 5).await.unwrap().unwrap();
    assert_eq!((revoked.status, revoked.updated_at), (InvitationStatus::Revoked, 5));
    let again = store.settle_invitation("orginv_1", InvitationStatus::Accepted, 6).await.unwrap().unwrap();
    assert_eq!(again.status, InvitationStatus::Revoked, "a settled invitation stays settled");
    assert_eq!(store.settle_invitation("orginv_x", InvitationStatus::Revoked, 6).await.unwrap(), None);

    let pending = InvitationFilter {
        organization_id: Some("org_1".into()),
        status: Some(InvitationStatus::Pending),
        ..InvitationFilter::default()
    };
    let (list, total) = store.list_invitations(&pending, PAGE).await.unwrap();
    assert_eq!((list.len(), total, list[0].id.as_str()), (1, 1, "orginv_2"));
    let by_email = InvitationFilter { email_address: Some("new@example.com".into()), ..InvitationFilter::default() };
    assert_eq!(store.list_invitations(&by_email, PAGE).await.unwrap().1, 2);

    store.delete_user("user_a").await.unwrap();
    assert_eq!(store.get_invitation("orginv_2").await.unwrap().unwrap().inviter_user_id, None);
    store.delete_organization("org_1").await.unwrap();
    assert_eq!(store.get_invitation("orginv_2").await.unwrap(), None);
}

async fn accepting_an_invitation_joins_once_within_the_limit(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    let mut small = org("org_1", "acme", 1);
    small.max_allowed_memberships = 1;
    store.create_organization(&small, Some(&member("org_1", "user_a", ADMIN_ROLE, 1))).await.unwrap();
    let inv = InvitationRecord {
        id: "orginv_1".into(),
        organization_id: "org_1".into(),
        email_address: "b@example.com".into(),
        role: MEMBER_ROLE.into(),
        ticket_digest: "digest1".into(),
        expires_at: 100,
        created_at: 1,
        updated_at: 1,
        ..InvitationRecord::default()
    };
    store.create_invitation(&inv).await.unwrap();
    let joining = member("org_1", "user_b", MEMBER_ROLE, 5);
    assert_eq!(store.accept_invitation("orginv_1", &joining, 5).await.unwrap(), InvitationAcceptance::Full);
    assert_eq!(
        store.get_invitation("orginv_1").await.unwrap().unwrap().status,
        InvitationStatus::Pending,
        "a refused acceptance leaves the invitation usable"
    );
    small.max_allowed_memberships = 0;
    store.update_organization(&small).await.unwrap();
    assert_eq!(
        store.accept_invitation("orginv_1", &joining, 100).await.unwrap(),
        InvitationAcceptance::NotPending,
        "expired"
    );
    assert_eq!(
        store.accept_invitation("orginv_1", &joining, 6).await.unwrap(),
        InvitationAcceptance::Joined(joining.clone())
    );
    assert_eq!(store.get_membership("org_1", "user_b").await.unwrap(), Some(joining.clone()));
    let mine = store.user_memberships("user_b").await.unwrap();
    assert_eq!((mine.len(), mine[0].0.clone(), mine[0].1.id.as_str()), (1, joining.clone(), "org_1"));
    assert_eq!(store.user_memberships("user_x").await.unwrap(), vec![]);
    assert_eq!(store.accept_invitation("orginv_1", &joining, 7).await.unwrap(), InvitationAcceptance::NotPending);
    store
        .create_invitation(&InvitationRecord { id: "orginv_2".into(), ticket_digest: "digest2".into(), ..inv.clone() })
        .await
        .unwrap();
    assert_eq!(store.accept_invitation("orginv_2", &joining, 8).await.unwrap(), InvitationAcceptance::AlreadyMember);
    assert_eq!(store.get_invitation("orginv_2").await.unwrap().unwrap().status, InvitationStatus::Accepted);
}

async fn roles_hold_permissions_and_defaults_are_seeded(store: Arc<dyn Store>) {
    let admin = store.get_role_by_key(ADMIN_ROLE).await.unwrap().expect("org:admin is seeded");
    let keys = |ps: Vec<PermissionRecord>| ps.into_iter().map(|p| p.key).collect::<Vec<_>>();
    assert_eq!(
        keys(store.role_permissions(ADMIN_ROLE).await.unwrap()),
        [
            "org:sys_domains:manage",
            "org:sys_domains:read",
            "org:sys_memberships:manage",
            "org:sys_memberships:read",
            "org:sys_profile:delete",
            "org:sys_profile:manage"
        ]
    );
    assert_eq!(keys(store.role_permissions(MEMBER_ROLE).await.unwrap()), ["org:sys_memberships:read"]);
    let (perms, total) = store.list_permissions(PAGE).await.unwrap();
    assert_eq!((total, perms.iter().all(|p| p.system)), (6, true));

    let create = PermissionRecord {
        id: "perm_1".into(),
        key: "org:invoices:create".into(),
        name: "Create invoices".into(),
        created_at: 1,
        updated_at: 1,
        ..PermissionRecord::default()
    };
    store.create_permission(&create).await.unwrap();
    let dup = PermissionRecord { id: "perm_2".into(), ..create.clone() };
    assert!(matches!(store.create_permission(&dup).await, Err(StoreError::Conflict(UniqueField::PermissionKey))));
    let role = RoleRecord {
        id: "role_1".into(),
        key: "org:billing".into(),
        name: "Billing".into(),
        created_at: 1,
        updated_at: 1,
        ..RoleRecord::default()
    };
    store.create_role(&role, &["perm_1".into(), "perm_sys_memberships_read".into()]).await.unwrap();
    assert!(matches!(
        store.create_role(&RoleRecord { id: "role_2".into(), ..role.clone() }, &[]).await,
        Err(StoreError::Conflict(UniqueField::RoleKey))
    ));
    assert_eq!(
        keys(store.role_permissions("org:billing").await.unwrap()),
        ["org:invoices:create", "org:sys_memberships:read"]
    );
    assert!(store.remove_role_permission("role_1", "perm_1").await.unwrap());
    assert!(!store.remove_role_permission("role_1", "perm_1").await.unwrap());
    assert!(store.add_role_permission("role_1", "perm_1").await.unwrap());
    assert!(store.add_role_permission("role_1", "perm_1").await.unwrap(), "adding twice is idempotent");
    assert!(!store.add_role_permission("role_1", "perm_nope").await.unwrap());
    assert!(!store.add_role_permission("role_nope", "perm_1").await.unwrap());

    let renamed = PermissionRecord { name: "Issue invoices".into(), updated_at: 2, ..create.clone() };
    assert!(store.update_permission(&renamed).await.unwrap());
    assert_eq!(store.get_permission("perm_1").await.unwrap(), Some(renamed));
    let role2 = RoleRecord { description: "Pays".into(), updated_at: 2, ..role.clone() };
    assert!(store.update_role(&role2, &[], &[]).await.unwrap());
    assert_eq!(store.get_role("role_1").await.unwrap(), Some(role2.clone()));
    // Fields and permissions change together; unknown permission ids are skipped.
    let role3 = RoleRecord { name: "Accounts".into(), updated_at: 3, ..role2.clone() };
    let sys_read: String = "perm_sys_memberships_read".into();
    assert!(store.update_role(&role3, &["perm_nope".into()], std::slice::from_ref(&sys_read)).await.unwrap());
    assert_eq!(store.get_role("role_1").await.unwrap(), Some(role3));
    assert_eq!(keys(store.role_permissions("org:billing").await.unwrap()), ["org:invoices:create"]);
    assert!(store.update_role(&role2, &[sys_read], &[]).await.unwrap());
    let missing = RoleRecord { id: "role_nope".into(), ..role2.clone() };
    assert!(!store.update_role(&missing, &["perm_1".into()], &[]).await.unwrap());
    assert_eq!(store.list_roles(PAGE).await.unwrap().1, 3);
    assert_eq!(admin.id, "role_admin");

    assert!(store.delete_permission("perm_1").await.unwrap());
    assert_eq!(keys(store.role_permissions("org:billing").await.unwrap()), ["org:sys_memberships:read"]);
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store
        .create_organization(&org("org_1", "acme", 1), Some(&member("org_1", "user_a", "org:billing", 1)))
        .await
        .unwrap();
    assert_eq!(store.count_role_members("org:billing").await.unwrap(), 1);
    assert!(!store.delete_role("role_1").await.unwrap(), "a role a member holds stays");
    assert!(store.get_role("role_1").await.unwrap().is_some());
    store.delete_membership("org_1", "user_a").await.unwrap();
    assert!(store.delete_role("role_1").await.unwrap());
    assert!(!store.delete_role("role_1").await.unwrap());
}

async fn sessions_remember_their_active_organization(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_session(&session("sess_1", "user_a", 1)).await.unwrap();
    let s = store.set_session_organization("sess_1", Some("org_1"), 5).await.unwrap().unwrap();
    assert_eq!((s.last_active_organization_id.as_deref(), s.updated_at), (Some("org_1"), 5));
    let s = store.set_session_organization("sess_1", None, 6).await.unwrap().unwrap();
    assert_eq!(s.last_active_organization_id, None);
    store.end_session("sess_1", SessionStatus::Ended, 7).await.unwrap();
    assert_eq!(store.set_session_organization("sess_1", Some("org_1"), 8).await.unwrap(), None, "ended sessions stay");
}

async fn a_token_reads_its_organization_membership_and_permissions_at_once(store: Arc<dyn Store>) {
    store.create_user(&user("user_a", "a@example.com", 1)).await.unwrap();
    store.create_user(&user("user_b", "b@example.com", 1)).await.unwrap();
    let perm = |id: &str, key: &str| PermissionRecord {
        id: id.into(),
        key: key.into(),
        name: key.into(),
        created_at: 1,
        updated_at: 1,
        ..PermissionRecord::default()
    };
    store.create_permission(&perm("perm_1", "org:invoices:read")).await.unwrap();
    store.create_permission(&perm("perm_2", "org:invoices:create")).await.unwrap();
    let role = RoleRecord {
        id: "role_1".into(),
        key: "org:billing".into(),
        name: "Billing".into(),
        created_at: 1,
        updated_at: 1,
        ..RoleRecord::default()
    };
    store.create_role(&role, &["perm_1".into(), "perm_2".into()]).await.unwrap();
    store
        .create_organization(&org("org_1", "acme", 1), Some(&member("org_1", "user_a", "org:billing", 1)))
        .await
        .unwrap();
    let seen = store.token_organization("org_1", "user_a").await.unwrap().expect("a member");
    assert_eq!(
        seen,
        TokenOrganization {
            id: "org_1".into(),
            slug: "acme".into(),
            role: "org:billing".into(),
            permission_keys: vec!["org:invoices:create".into(), "org:invoices:read".into()],
        }
    );
    assert_eq!(store.token_organization("org_1", "user_b").await.unwrap(), None, "not a member");
    assert_eq!(store.token_organization("acme", "user_a").await.unwrap(), None, "by id only, never by slug");
    assert_eq!(store.token_organization("org_nope", "user_a").await.unwrap(), None);
    // A role without permissions, and a role key no role has, read as no permissions.
    store
        .create_organization(&org("org_2", "beta", 2), Some(&member("org_2", "user_a", "org:ghost", 2)))
        .await
        .unwrap();
    let ghost = store.token_organization("org_2", "user_a").await.unwrap().expect("a member");
    assert_eq!((ghost.role.as_str(), ghost.permission_keys.len()), ("org:ghost", 0));
    // System permissions come back too: the minter leaves them out of tokens.
    store
        .create_organization(&org("org_3", "gamma", 3), Some(&member("org_3", "user_a", MEMBER_ROLE, 3)))
        .await
        .unwrap();
    let plain = store.token_organization("org_3", "user_a").await.unwrap().expect("a member");
    assert_eq!(plain.permission_keys, ["org:sys_memberships:read"]);
}

contract!(
    a_token_reads_its_organization_membership_and_permissions_at_once,
    organizations_have_unique_slugs_and_find_by_id_or_slug,
    memberships_are_unique_limited_and_keep_an_admin,
    invitations_settle_once,
    accepting_an_invitation_joins_once_within_the_limit,
    roles_hold_permissions_and_defaults_are_seeded,
    sessions_remember_their_active_organization,
);
