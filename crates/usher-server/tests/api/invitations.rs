//! Organization invitations (Backend API), their tickets redeemed by signing up or in, the
//! instance's roles and permissions, and the last-admin rule under concurrent requests.

use std::time::Duration;

use reqwest::{Method, StatusCode, header};
use serde_json::json;

use crate::{
    frontend::Browser,
    helpers::{Db, TestApp, assert_error, decode, skip_postgres, spawn_app_with},
};

async fn app(db: Db) -> TestApp {
    spawn_app_with(db, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await
}

fn ticket_of(url: &str) -> String {
    let query = url.split_once('?').expect("a query").1;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "__clerk_ticket")
        .map(|(_, v)| v.into_owned())
        .expect("__clerk_ticket in the link")
}

/// Waits for the outbox to deliver a message to `to`; returns its text.
async fn mail_to(app: &TestApp, to: &str) -> String {
    let mailbox = app.state.dev_mailbox.clone().expect("the dev mailbox");
    for _ in 0..100 {
        if let Some(m) = mailbox.messages().into_iter().find(|m| m.to == to) {
            return m.text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no mail to {to}");
}

async fn org_with_admin(app: &TestApp, email: &str) -> (String, String) {
    let admin = app.create_user(email).await;
    let admin_id = admin["id"].as_str().unwrap().to_owned();
    let (status, org) =
        app.post("/v1/organizations", json!({"name": format!("Acme {admin_id}"), "created_by": admin_id})).await;
    assert_eq!(status, StatusCode::OK, "{org}");
    (org["id"].as_str().unwrap().to_owned(), admin_id)
}

#[tokio::test]
async fn invitations_are_created_listed_fetched_and_revoked() {
    let app = app(Db::Sqlite).await;
    let (org, admin) = org_with_admin(&app, "admin@example.com").await;
    let path = format!("/v1/organizations/{org}/invitations");
    let (status, inv) = app
        .post(
            &path,
            json!({"email_address": "New@Example.com", "role": "org:admin", "inviter_user_id": admin,
                   "redirect_url": "http://localhost:3000/welcome", "public_metadata": {"team": "red"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert_eq!(
        (inv["object"].as_str(), inv["email_address"].as_str(), inv["role"].as_str(), inv["status"].as_str()),
        (Some("organization_invitation"), Some("new@example.com"), Some("org:admin"), Some("pending"))
    );
    assert_eq!(
        (inv["role_name"].as_str(), inv["public_organization_data"]["name"].as_str()),
        (Some("Admin"), Some(format!("Acme {admin}").as_str()))
    );
    let url = inv["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/sign-up?", app.url)), "{url}");
    let ticket = ticket_of(url);
    // Only the digest is stored.
    let stored = app.state.store.get_invitation(inv["id"].as_str().unwrap()).await.unwrap().unwrap();
    assert_ne!(stored.ticket_digest, ticket);
    assert!(mail_to(&app, "new@example.com").await.contains(&ticket));

    assert_error(
        &app.post(&path, json!({"role": "org:member"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_missing",
    );
    assert_error(
        &app.post(&path, json!({"email_address": "x@example.com", "role": "org:nope"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resource_not_found",
    );
    assert_error(
        &app.post(&path, json!({"email_address": "admin@example.com"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "already_a_member_in_organization",
    );
    assert_error(
        &app.post(&path, json!({"email_address": "x@example.com", "redirect_url": "https://evil.example/"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_format_invalid",
    );
    assert_error(
        &app.post("/v1/organizations/org_missing/invitations", json!({"email_address": "x@example.com"})).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );

    let (status, bulk) = app
        .post(
            &format!("{path}/bulk"),
            json!([{"email_address": "b1@example.com"}, {"email_address": "b2@example.com"}]),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk.as_array().map(Vec::len), Some(2));
    assert_error(
        &app.post(&format!("{path}/bulk"), json!({"email_address": "x"})).await,
        StatusCode::BAD_REQUEST,
        "malformed_request",
    );

    let b1 = bulk[0]["id"].as_str().unwrap();
    let (status, revoked) = app.post(&format!("{path}/{b1}/revoke"), json!({"requesting_user_id": admin})).await;
    assert_eq!((status, revoked["status"].as_str()), (StatusCode::OK, Some("revoked")), "{revoked}");
    assert!(revoked["url"].is_null());

    let (_, all) = app.get(&path).await;
    assert_eq!(all["total_count"], 3);
    let (_, pending) = app.get(&format!("{path}?status=pending")).await;
    assert_eq!(pending["total_count"], 2);
    assert_eq!(app.get(&format!("{path}/pending")).await.1["total_count"], 2);
    assert_eq!(app.get(&format!("{path}?status=revoked")).await.1["data"][0]["id"], b1);
    assert_error(
        &app.get(&format!("{path}?status=bogus")).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    let (status, one) = app.get(&format!("{path}/{}", inv["id"].as_str().unwrap())).await;
    assert_eq!((status, one["email_address"].as_str()), (StatusCode::OK, Some("new@example.com")));
    assert!(one["url"].is_null());
    assert_error(&app.get(&format!("{path}/orginv_nope")).await, StatusCode::NOT_FOUND, "resource_not_found");
    assert_eq!(app.get("/v1/organization_invitations?status=pending").await.1["total_count"], 2);

    // An invitation of another organization is not reachable through this one.
    let (other, _) = org_with_admin(&app, "other@example.com").await;
    assert_error(
        &app.get(&format!("/v1/organizations/{other}/invitations/{}", inv["id"].as_str().unwrap())).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );

    // The user's invitations are found by each of their addresses.
    let b2 = app.create_user("b2@example.com").await;
    let (_, mine) = app.get(&format!("/v1/users/{}/organization_invitations", b2["id"].as_str().unwrap())).await;
    assert_eq!(
        (mine["total_count"].as_i64(), mine["data"][0]["email_address"].as_str()),
        (Some(1), Some("b2@example.com"))
    );
}

#[tokio::test]
async fn an_invitation_ticket_signs_up_once_and_joins_with_its_role() {
    let app = app(Db::Sqlite).await;
    let (org, _) = org_with_admin(&app, "admin@example.com").await;
    let (_, inv) =
        app.post(&format!("/v1/organizations/{org}/invitations"), json!({"email_address": "joiner@example.com"})).await;
    let ticket = ticket_of(inv["url"].as_str().unwrap());

    let mut browser = Browser::new(&app);
    let wrong_email = browser
        .post(
            "/v1/client/sign_ups",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket),
                ("email_address", "else@example.com"),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_error(&wrong_email, StatusCode::UNPROCESSABLE_ENTITY, "form_param_value_invalid");
    let (status, body) = browser
        .post(
            "/v1/client/sign_ups",
            &[("strategy", "ticket"), ("ticket", &ticket), ("password", "correct horse battery")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["status"], "complete", "{body}");
    let user_id = body["response"]["created_user_id"].as_str().unwrap().to_owned();
    let (_, memberships) = app.get(&format!("/v1/users/{user_id}/organization_memberships")).await;
    assert_eq!(
        (memberships["total_count"].as_i64(), memberships["data"][0]["role"].as_str()),
        (Some(1), Some("org:member"))
    );
    let (_, after) = app.get(&format!("/v1/organizations/{org}/invitations/{}", inv["id"].as_str().unwrap())).await;
    assert_eq!(after["status"], "accepted");

    // Replays of a used ticket, by sign-up or sign-in, are refused.
    let replay = Browser::new(&app)
        .post(
            "/v1/client/sign_ups",
            &[("strategy", "ticket"), ("ticket", &ticket), ("password", "correct horse battery")],
        )
        .await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
    let replay = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", &ticket)]).await;
    assert_error(&replay, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
    let bogus = Browser::new(&app).post("/v1/client/sign_ups", &[("strategy", "ticket"), ("ticket", "nope")]).await;
    assert_error(&bogus, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
}

#[tokio::test]
async fn an_invitation_ticket_signs_an_existing_user_in_and_a_revoked_or_expired_one_does_nothing() {
    let app = app(Db::Sqlite).await;
    let (org, _) = org_with_admin(&app, "admin@example.com").await;
    let path = format!("/v1/organizations/{org}/invitations");
    let existing = app.create_user("known@example.com").await;
    let (_, inv) = app.post(&path, json!({"email_address": "known@example.com", "role": "org:admin"})).await;
    let url = inv["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/sign-in?", app.url)), "{url}");
    let ticket = ticket_of(url);

    // Signing up with it is refused: the address has an account.
    let up = Browser::new(&app)
        .post(
            "/v1/client/sign_ups",
            &[("strategy", "ticket"), ("ticket", &ticket), ("password", "correct horse battery")],
        )
        .await;
    assert_error(&up, StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists");
    let (status, body) =
        Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", &ticket)]).await;
    assert_eq!((status, body["response"]["status"].as_str()), (StatusCode::OK, Some("complete")), "{body}");
    let (_, m) = app.get(&format!("/v1/users/{}/organization_memberships", existing["id"].as_str().unwrap())).await;
    assert_eq!(m["data"][0]["role"], "org:admin");
    let again = Browser::new(&app).post("/v1/client/sign_ins", &[("strategy", "ticket"), ("ticket", &ticket)]).await;
    assert_error(&again, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
    // A used invitation cannot be revoked.
    let revoke = app.post(&format!("{path}/{}/revoke", inv["id"].as_str().unwrap()), json!({})).await;
    assert_error(&revoke, StatusCode::UNPROCESSABLE_ENTITY, "organization_invitation_not_pending");

    let (_, revoked) = app.post(&path, json!({"email_address": "late@example.com"})).await;
    app.post(&format!("{path}/{}/revoke", revoked["id"].as_str().unwrap()), json!({})).await;
    let up = Browser::new(&app)
        .post(
            "/v1/client/sign_ups",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket_of(revoked["url"].as_str().unwrap())),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_error(&up, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");

    let (_, short) = app.post(&path, json!({"email_address": "short@example.com", "expires_in_days": 1})).await;
    app.clock.advance_ms(24 * 3600 * 1000 + 1000);
    let up = Browser::new(&app)
        .post(
            "/v1/client/sign_ups",
            &[
                ("strategy", "ticket"),
                ("ticket", &ticket_of(short["url"].as_str().unwrap())),
                ("password", "correct horse battery"),
            ],
        )
        .await;
    assert_error(&up, StatusCode::UNPROCESSABLE_ENTITY, "ticket_invalid");
    assert_eq!(app.get(&format!("{path}/{}", short["id"].as_str().unwrap())).await.1["status"], "expired");
}

#[tokio::test]
async fn the_hosted_sign_up_page_takes_the_invitation_link() {
    let app = app(Db::Sqlite).await;
    let (org, _) = org_with_admin(&app, "admin@example.com").await;
    let (_, inv) =
        app.post(&format!("/v1/organizations/{org}/invitations"), json!({"email_address": "page@example.com"})).await;
    let link = inv["url"].as_str().unwrap().to_owned();
    let ticket = ticket_of(&link);
    let path = link.strip_prefix(&app.url).unwrap();
    let mut browser = Browser::new(&app);
    let (status, page) = browser.send(Method::GET, path, &[]).await;
    assert_eq!(status, StatusCode::OK);
    let page = page.as_str().unwrap();
    assert!(page.contains("page@example.com") && page.contains(&ticket), "{page}");
    let no_redirect = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let response = no_redirect
        .post(format!("{}/sign-up", app.url))
        .header(header::ORIGIN, app.url.as_str())
        .form(&[
            ("__clerk_ticket", ticket.as_str()),
            ("email_address", "page@example.com"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{}", response.text().await.unwrap());
    let (_, users) = app.get("/v1/users?email_address=page@example.com").await;
    let user_id = users[0]["id"].as_str().unwrap();
    let (_, m) = app.get(&format!("/v1/users/{user_id}/organization_memberships")).await;
    assert_eq!(m["total_count"], 1);
}

#[tokio::test]
async fn roles_and_permissions_are_managed_and_reach_memberships_and_tokens() {
    let app = app(Db::Sqlite).await;
    let (_, roles) = app.get("/v1/organization_roles").await;
    assert_eq!(roles["total_count"], 2);
    let admin = roles["data"].as_array().unwrap().iter().find(|r| r["key"] == "org:admin").unwrap().clone();
    assert_eq!(admin["permissions"].as_array().map(Vec::len), Some(6));
    let (_, perms) = app.get("/v1/organization_permissions").await;
    assert_eq!((perms["total_count"].as_i64(), perms["data"][0]["type"].as_str()), (Some(6), Some("system")));
    let sys_id = perms["data"][0]["id"].as_str().unwrap().to_owned();

    for key in ["org:sys_profile:view", "invoices:create", "org:Invoices:create", "org:a:b:c"] {
        let bad = app.post("/v1/organization_permissions", json!({"key": key, "name": "X"})).await;
        assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
    }
    let (status, perm) = app
        .post("/v1/organization_permissions", json!({"key": "org:invoices:create", "name": "Create invoices"}))
        .await;
    assert_eq!((status, perm["type"].as_str()), (StatusCode::OK, Some("user")), "{perm}");
    let perm_id = perm["id"].as_str().unwrap().to_owned();
    let dup = app.post("/v1/organization_permissions", json!({"key": "org:invoices:create", "name": "Again"})).await;
    assert_error(&dup, StatusCode::UNPROCESSABLE_ENTITY, "duplicate_record");
    let (_, renamed) = app.patch(&format!("/v1/organization_permissions/{perm_id}"), json!({"name": "Invoices"})).await;
    assert_eq!(renamed["name"], "Invoices");
    let sys = app.patch(&format!("/v1/organization_permissions/{sys_id}"), json!({"name": "Mine"})).await;
    assert_error(&sys, StatusCode::BAD_REQUEST, "system_permission_immutable");
    let sys = app.call(Method::DELETE, &format!("/v1/organization_permissions/{sys_id}"), None).await;
    assert_error(&sys, StatusCode::BAD_REQUEST, "system_permission_immutable");

    let (status, role) = app
        .post("/v1/organization_roles", json!({"key": "org:billing", "name": "Billing", "permissions": [perm_id]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{role}");
    assert_eq!(role["permissions"][0]["key"], "org:invoices:create");
    let role_id = role["id"].as_str().unwrap().to_owned();
    assert_error(
        &app.post("/v1/organization_roles", json!({"key": "billing", "name": "B"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_format_invalid",
    );
    assert_error(
        &app.post("/v1/organization_roles", json!({"key": "org:x", "name": "X", "permissions": ["perm_nope"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resource_not_found",
    );
    let (_, removed) =
        app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), None).await;
    assert_eq!(removed["permissions"], json!([]));
    assert_error(
        &app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), None).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
    let (_, added) = app.post(&format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), json!({})).await;
    assert_eq!(added["permissions"][0]["id"], perm_id.as_str());
    let admin_id = admin["id"].as_str().unwrap();
    assert_error(
        &app.call(Method::DELETE, &format!("/v1/organization_roles/{admin_id}/permissions/{sys_id}"), None).await,
        StatusCode::BAD_REQUEST,
        "organization_role_permission_required",
    );
    assert_error(
        &app.call(Method::DELETE, &format!("/v1/organization_roles/{admin_id}"), None).await,
        StatusCode::BAD_REQUEST,
        "organization_role_is_default",
    );

    // A member with the role holds its permission, in the membership and in the token.
    let (org, _) = org_with_admin(&app, "admin@example.com").await;
    let (user_id, session_id) = app.user_with_session("billing@example.com").await;
    let (status, m) = app
        .post(&format!("/v1/organizations/{org}/memberships"), json!({"user_id": user_id, "role": "org:billing"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!((m["role_name"].as_str(), m["permissions"].clone()), (Some("Billing"), json!(["org:invoices:create"])));
    let (_, session) = app.post("/v1/sessions", json!({"user_id": user_id, "active_organization_id": org})).await;
    let (_, token) = app.post(&format!("/v1/sessions/{}/tokens", session["id"].as_str().unwrap()), json!({})).await;
    let (_, claims) = decode(token["jwt"].as_str().unwrap());
    assert_eq!(
        (claims["o"]["rol"].as_str(), claims["o"]["per"].as_str()),
        (Some("billing"), Some("create")),
        "{claims}"
    );
    assert_eq!(claims["fea"], "o:invoices");
    let _ = session_id;

    let in_use = app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}"), None).await;
    assert_error(&in_use, StatusCode::BAD_REQUEST, "organization_role_in_use");
    let rename = app.patch(&format!("/v1/organization_roles/{role_id}"), json!({"key": "org:money"})).await;
    assert_error(&rename, StatusCode::BAD_REQUEST, "organization_role_in_use");
    app.call(Method::DELETE, &format!("/v1/organizations/{org}/memberships/{user_id}"), None).await;
    let (status, deleted) = app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}"), None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{deleted}");
    let (status, deleted) = app.call(Method::DELETE, &format!("/v1/organization_permissions/{perm_id}"), None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{deleted}");
    assert_error(
        &app.get(&format!("/v1/organization_roles/{role_id}")).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
}

/// Two admins removed (or demoted) at once: under READ COMMITTED each statement alone would see
/// the other admin and both would pass; the organization row lock makes one wait and fail.
#[tokio::test]
async fn concurrent_removals_never_leave_an_organization_without_an_admin() {
    if skip_postgres() {
        return;
    }
    let app = app(Db::Postgres).await;
    for round in 0..6 {
        let (org, first) = org_with_admin(&app, &format!("a{round}@example.com")).await;
        let second = app.create_user(&format!("b{round}@example.com")).await;
        let second = second["id"].as_str().unwrap().to_owned();
        app.post(&format!("/v1/organizations/{org}/memberships"), json!({"user_id": second, "role": "org:admin"}))
            .await;
        let demote = round % 2 == 1;
        let change = |user: String| {
            let path = format!("/v1/organizations/{org}/memberships/{user}");
            let app = &app;
            async move {
                if demote {
                    app.patch(&path, json!({"role": "org:member"})).await.0
                } else {
                    app.call(Method::DELETE, &path, None).await.0
                }
            }
        };
        let (a, b) = tokio::join!(change(first.clone()), change(second.clone()));
        let mut statuses = [a, b];
        statuses.sort();
        assert_eq!(statuses, [StatusCode::OK, StatusCode::FORBIDDEN], "round {round}");
        let (_, admins) = app.get(&format!("/v1/organizations/{org}/memberships?role=org:admin")).await;
        assert_eq!(admins["total_count"], 1, "round {round}");
    }
}

impl Browser<'_> {
    async fn signed_in<'b>(app: &'b TestApp, email: &str) -> (Browser<'b>, String, String) {
        let user = app.create_user(email).await;
        let mut browser = Browser::new(app);
        let (status, body) =
            browser.post("/v1/client/sign_ins", &[("identifier", email), ("password", "correct horse battery")]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let session = body["client"]["last_active_session_id"].as_str().unwrap().to_owned();
        (browser, user["id"].as_str().unwrap().to_owned(), session)
    }
}

#[tokio::test]
async fn the_frontend_api_lets_members_act_by_their_role() {
    let app = app(Db::Sqlite).await;
    let (mut admin, admin_id, admin_session) = Browser::signed_in(&app, "admin@example.com").await;
    let (status, created) = admin.post("/v1/organizations", &[("name", "Frontend Co")]).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    let org = created["response"]["id"].as_str().unwrap().to_owned();
    assert_eq!(created["response"]["slug"], "frontend-co");
    assert!(created["response"].get("private_metadata").is_none());
    // The client's user embeds the membership, with every permission of the role.
    let m = &created["client"]["sessions"][0]["user"]["organization_memberships"][0];
    assert_eq!((m["role"].as_str(), m["organization"]["id"].as_str()), (Some("org:admin"), Some(org.as_str())));
    assert!(m["permissions"].as_array().unwrap().iter().any(|p| p == "org:sys_memberships:manage"));

    let (mut member, member_id, member_session) = Browser::signed_in(&app, "member@example.com").await;
    let (mut outsider, _, outsider_session) = Browser::signed_in(&app, "outsider@example.com").await;
    let (status, _) = admin
        .post(&format!("/v1/organizations/{org}/memberships"), &[("user_id", &member_id), ("role", "org:member")])
        .await;
    assert_eq!(status, StatusCode::OK);

    // A member may read but not manage; an outsider does not see the organization at all.
    assert_eq!(member.get(&format!("/v1/organizations/{org}/memberships")).await.1["response"]["total_count"], 2);
    for (method, path, form) in [
        (Method::PATCH, format!("/v1/organizations/{org}"), vec![("name", "Mine")]),
        (Method::DELETE, format!("/v1/organizations/{org}"), vec![]),
        (Method::POST, format!("/v1/organizations/{org}/invitations"), vec![("email_address", "x@example.com")]),
        (Method::PATCH, format!("/v1/organizations/{org}/memberships/{member_id}"), vec![("role", "org:admin")]),
        (Method::DELETE, format!("/v1/organizations/{org}/memberships/{admin_id}"), vec![]),
        (Method::GET, format!("/v1/organizations/{org}/invitations"), vec![]),
        (Method::GET, format!("/v1/organizations/{org}/invitations/pending"), vec![]),
        (
            Method::POST,
            format!("/v1/organizations/{org}/invitations/bulk"),
            vec![("email_address", "x@example.com"), ("email_address", "y@example.com"), ("role", "org:member")],
        ),
        (Method::POST, format!("/v1/organizations/{org}/invitations/orginv_any/revoke"), vec![]),
        (Method::POST, format!("/v1/organizations/{org}/memberships"), vec![("user_id", member_id.as_str())]),
    ] {
        let answer = member.send(method.clone(), &path, &form).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "not_allowed_access");
        let answer = outsider.send(method.clone(), &path, &form).await;
        assert_error(&answer, StatusCode::NOT_FOUND, "resource_not_found");
    }
    assert_error(&outsider.get(&format!("/v1/organizations/{org}")).await, StatusCode::NOT_FOUND, "resource_not_found");

    // Tokens: a member's for the organization carries it; an outsider's request is refused.
    let (_, token) =
        member.post(&format!("/v1/client/sessions/{member_session}/tokens"), &[("organization_id", &org)]).await;
    let (_, claims) = decode(token["jwt"].as_str().unwrap());
    assert_eq!(
        (claims["o"]["id"].as_str(), claims["o"]["rol"].as_str()),
        (Some(org.as_str()), Some("member")),
        "{claims}"
    );
    let refused =
        outsider.post(&format!("/v1/client/sessions/{outsider_session}/tokens"), &[("organization_id", &org)]).await;
    assert_error(&refused, StatusCode::NOT_FOUND, "resource_not_found");
    let refused = outsider
        .post(&format!("/v1/client/sessions/{outsider_session}/touch"), &[("active_organization_id", &org)])
        .await;
    assert_error(&refused, StatusCode::NOT_FOUND, "resource_not_found");

    // Touch makes it active for every later token; empty goes back to the personal account.
    let (status, touched) = admin
        .post(
            &format!("/v1/client/sessions/{admin_session}/touch"),
            &[("active_organization_id", &org), ("intent", "select_org")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{touched}");
    assert_eq!(touched["response"]["last_active_organization_id"], org.as_str());
    let (_, token) = admin.post(&format!("/v1/client/sessions/{admin_session}/tokens"), &[]).await;
    assert_eq!(decode(token["jwt"].as_str().unwrap()).1["o"]["rol"], "admin");
    admin.post(&format!("/v1/client/sessions/{admin_session}/touch"), &[("active_organization_id", "")]).await;
    let (_, token) = admin.post(&format!("/v1/client/sessions/{admin_session}/tokens"), &[]).await;
    let claims = decode(token["jwt"].as_str().unwrap()).1;
    assert!(claims.get("o").is_none(), "{claims}");

    // The admin invites by email; the invitee, signed in, sees and accepts it.
    let (status, inv) =
        admin.post(&format!("/v1/organizations/{org}/invitations"), &[("email_address", "outsider@example.com")]).await;
    assert_eq!(status, StatusCode::OK, "{inv}");
    assert!(inv["response"]["url"].is_null(), "the link goes only to the mailbox");
    let inv_id = inv["response"]["id"].as_str().unwrap().to_owned();
    let (status, bulk) = admin
        .post(
            &format!("/v1/organizations/{org}/invitations/bulk"),
            &[("email_address", "bulk1@example.com"), ("email_address", "bulk2@example.com"), ("role", "org:member")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    let invited: Vec<_> = bulk["response"].as_array().unwrap().iter().map(|i| i["email_address"].clone()).collect();
    assert_eq!(invited, [json!("bulk1@example.com"), json!("bulk2@example.com")]);
    let bad = admin
        .post(
            &format!("/v1/organizations/{org}/invitations/bulk"),
            &[("email_address", "bulk3@example.com"), ("email_address", "not an address"), ("role", "org:member")],
        )
        .await;
    assert_eq!(bad.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.1);
    let (_, pending) = admin.get(&format!("/v1/organizations/{org}/invitations/pending")).await;
    assert_eq!(pending["response"]["total_count"], 3, "the one bad address made no invitation: {pending}");
    let (_, mine) = outsider.get("/v1/me/organization_invitations").await;
    assert_eq!(mine["response"]["data"][0]["id"], inv_id.as_str());
    assert_error(
        &member.post(&format!("/v1/me/organization_invitations/{inv_id}/accept"), &[]).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
    let (status, accepted) = outsider.post(&format!("/v1/me/organization_invitations/{inv_id}/accept"), &[]).await;
    assert_eq!((status, accepted["response"]["status"].as_str()), (StatusCode::OK, Some("accepted")), "{accepted}");
    assert_error(
        &outsider.post(&format!("/v1/me/organization_invitations/{inv_id}/accept"), &[]).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );
    let (_, mine) = outsider.get("/v1/me/organization_memberships?paginated=true").await;
    assert_eq!(mine["response"]["total_count"], 1);

    // Roles are listed for members; the admin changes a role, and the last admin cannot leave.
    let (_, roles) = member.get(&format!("/v1/organizations/{org}/roles")).await;
    assert_eq!(roles["response"]["total_count"], 2);
    let (status, promoted) = admin
        .send(Method::PATCH, &format!("/v1/organizations/{org}/memberships/{member_id}"), &[("role", "org:admin")])
        .await;
    assert_eq!((status, promoted["response"]["role"].as_str()), (StatusCode::OK, Some("org:admin")), "{promoted}");
    let (status, _) = member.send(Method::DELETE, &format!("/v1/me/organization_memberships/{org}"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_error(
        &admin.send(Method::DELETE, &format!("/v1/me/organization_memberships/{org}"), &[]).await,
        StatusCode::FORBIDDEN,
        "organization_minimum_permissions_needed",
    );
    let (status, deleted) = admin.send(Method::DELETE, &format!("/v1/organizations/{org}"), &[]).await;
    assert_eq!((status, deleted["response"]["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{deleted}");
    // The Backend API still answers on the same paths with the secret key.
    assert_error(&app.get(&format!("/v1/organizations/{org}")).await, StatusCode::NOT_FOUND, "resource_not_found");
}

#[tokio::test]
async fn a_custom_role_that_manages_members_cannot_grant_admin() {
    let app = app(Db::Sqlite).await;
    let (_, perms) = app.get("/v1/organization_permissions").await;
    let manage =
        perms["data"].as_array().unwrap().iter().find(|p| p["key"] == "org:sys_memberships:manage").unwrap()["id"]
            .clone();
    let read = perms["data"].as_array().unwrap().iter().find(|p| p["key"] == "org:sys_memberships:read").unwrap()["id"]
        .clone();
    app.post("/v1/organization_roles", json!({"key": "org:manager", "name": "Manager", "permissions": [manage, read]}))
        .await;
    let (org, _) = org_with_admin(&app, "boss@example.com").await;
    let (mut manager, manager_id, _) = Browser::signed_in(&app, "manager@example.com").await;
    app.post(&format!("/v1/organizations/{org}/memberships"), json!({"user_id": manager_id, "role": "org:manager"}))
        .await;
    let promote = manager
        .send(Method::PATCH, &format!("/v1/organizations/{org}/memberships/{manager_id}"), &[("role", "org:admin")])
        .await;
    assert_error(&promote, StatusCode::FORBIDDEN, "not_allowed_access");
    let invite = manager
        .post(
            &format!("/v1/organizations/{org}/invitations"),
            &[("email_address", "x@example.com"), ("role", "org:admin")],
        )
        .await;
    assert_error(&invite, StatusCode::FORBIDDEN, "not_allowed_access");
    let (status, _) = manager
        .post(
            &format!("/v1/organizations/{org}/invitations"),
            &[("email_address", "x@example.com"), ("role", "org:member")],
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn creating_organizations_and_invitations_on_the_frontend_api_is_rate_limited() {
    let app = spawn_app_with(Db::Sqlite, |c| c.allow_localhost_origins = true).await;
    let (mut admin, _, _) = Browser::signed_in(&app, "limited@example.com").await;
    let mut created = 0;
    let refused = loop {
        let answer = admin.post("/v1/organizations", &[("name", &format!("Limited {created}"))]).await;
        if answer.0 != StatusCode::OK {
            break answer;
        }
        created += 1;
        assert!(created <= 5, "more organizations than the per-IP creation limit allows");
    };
    assert_error(&refused, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    // Invitations take from the same bucket: the next one is refused as well, and sends nothing.
    let (_, orgs) = app.get("/v1/organizations").await;
    let org = orgs["data"][0]["id"].as_str().unwrap().to_owned();
    let invite =
        admin.post(&format!("/v1/organizations/{org}/invitations"), &[("email_address", "flood@example.com")]).await;
    assert_error(&invite, StatusCode::TOO_MANY_REQUESTS, "too_many_requests");
    let (_, pending) = app.get(&format!("/v1/organizations/{org}/invitations")).await;
    assert_eq!(pending["total_count"], 0);
}
