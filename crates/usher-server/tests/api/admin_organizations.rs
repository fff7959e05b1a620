//! The admin console's organization and webhook screens, driven like a browser without
//! scripts; what they did is checked through the Backend API, the audit log and a real webhook
//! receiver on port 0.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::{audit, signed_in_admin},
    helpers::{Db, TestApp, spawn_app_with},
    pages::{Answer, Browser, app},
    webhooks::{fast, receiver, valid_signatures},
};

/// Posts `form` plus the admin's forgery token.
async fn post(admin: &Browser<'_>, csrf: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(form);
    admin.post(path, &all).await
}

async fn csrf_of(admin: &Browser<'_>) -> String {
    admin.get("/admin/organizations").await.input("csrf").expect("the console's forms carry a token")
}

async fn memberships(app: &TestApp, org: &str) -> Vec<(String, String)> {
    let (status, list) = app.get(&format!("/v1/organizations/{org}/memberships")).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (m["public_user_data"]["user_id"].as_str().unwrap().to_owned(), m["role"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[tokio::test]
async fn an_admin_runs_an_organization_its_members_and_invitations_from_the_console() {
    let app = app().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    let owner = app.create_user("owner@example.com").await["id"].as_str().unwrap().to_owned();
    let member = app.create_user("member@example.com").await["id"].as_str().unwrap().to_owned();
    let csrf = csrf_of(&admin).await;

    // Create, with bad input refused clearly.
    let nameless = post(&admin, &csrf, "/admin/organizations", &[("name", "  ")]).await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", nameless.body);
    let bad_max =
        post(&admin, &csrf, "/admin/organizations", &[("name", "Acme"), ("max_allowed_memberships", "many")]).await;
    assert_eq!(bad_max.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad_max.body.contains("max_allowed_memberships must be a whole number"), "{}", bad_max.body);
    let nobody = post(&admin, &csrf, "/admin/organizations", &[("name", "Acme"), ("user", "ghost@example.com")]).await;
    assert_eq!(nobody.status, StatusCode::UNPROCESSABLE_ENTITY);
    let forged = admin.post("/admin/organizations", &[("name", "Forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v1/organizations").await.1["total_count"], 0, "nothing was created");
    let created =
        post(&admin, &csrf, "/admin/organizations", &[("name", "Acme Corp"), ("user", "owner@example.com")]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let org = created.location().strip_prefix("/admin/organizations/").unwrap().split('?').next().unwrap().to_owned();
    let (_, wire) = app.get(&format!("/v1/organizations/{org}")).await;
    assert_eq!((wire["name"].as_str(), wire["slug"].as_str()), (Some("Acme Corp"), Some("acme-corp")));
    assert_eq!(memberships(&app, &org).await, [(owner.clone(), "org:admin".to_owned())]);

    // The list searches by name, slug or id.
    post(&admin, &csrf, "/admin/organizations", &[("name", "Other Inc")]).await;
    for q in ["acme", "ACME-c", org.as_str()] {
        let found = admin.get(&format!("/admin/organizations?q={q}")).await;
        assert!(found.body.contains(&org) && !found.body.contains("Other Inc"), "{q}: {}", found.body);
    }
    let page = admin.get(&format!("/admin/organizations/{org}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("owner@example.com") && page.body.contains("Acme Corp"));
    assert_eq!(admin.get("/admin/organizations/org_missing").await.status, StatusCode::NOT_FOUND);

    // Members: add by email, refuse a second time and unknown roles, change roles, keep an admin.
    let base = format!("/admin/organizations/{org}");
    let added =
        post(&admin, &csrf, &format!("{base}/members"), &[("user", "Member@Example.com"), ("role", "org:member")])
            .await;
    assert_eq!(added.status, StatusCode::SEE_OTHER, "{}", added.body);
    let twice = post(&admin, &csrf, &format!("{base}/members"), &[("user", &member), ("role", "org:member")]).await;
    assert_eq!(twice.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", twice.body);
    let unknown = post(&admin, &csrf, &format!("{base}/members"), &[("user", &admin_id), ("role", "org:boss")]).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    let demote = post(&admin, &csrf, &format!("{base}/members/{owner}/role"), &[("role", "org:member")]).await;
    assert_eq!(demote.status, StatusCode::FORBIDDEN, "the last admin stays one");
    assert!(demote.body.contains("at least one member with the admin role"), "{}", demote.body);
    let remove_last = post(&admin, &csrf, &format!("{base}/members/{owner}/remove"), &[]).await;
    assert_eq!(remove_last.status, StatusCode::FORBIDDEN);
    let promote = post(&admin, &csrf, &format!("{base}/members/{member}/role"), &[("role", "org:admin")]).await;
    assert_eq!(promote.status, StatusCode::SEE_OTHER, "{}", promote.body);
    let removed = post(&admin, &csrf, &format!("{base}/members/{owner}/remove"), &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{}", removed.body);
    assert_eq!(memberships(&app, &org).await, [(member.clone(), "org:admin".to_owned())]);

    // Invitations: invite (mailed), list, revoke.
    let bad_email = post(&admin, &csrf, &format!("{base}/invitations"), &[("email_address", "not-an-email")]).await;
    assert_eq!(bad_email.status, StatusCode::UNPROCESSABLE_ENTITY);
    let invited = post(
        &admin,
        &csrf,
        &format!("{base}/invitations"),
        &[("email_address", "newcomer@example.com"), ("role", "org:member")],
    )
    .await;
    assert_eq!(invited.status, StatusCode::SEE_OTHER, "{}", invited.body);
    let (_, pending) = app.get(&format!("/v1/organizations/{org}/invitations?status=pending")).await;
    let invitation = pending["data"][0].clone();
    assert_eq!(
        (invitation["email_address"].as_str(), invitation["inviter_user_id"].as_str()),
        (Some("newcomer@example.com"), Some(admin_id.as_str()))
    );
    let page = admin.get(&base).await;
    assert!(page.body.contains("newcomer@example.com"), "the page lists the pending invitation");
    let inv = invitation["id"].as_str().unwrap();
    let revoked = post(&admin, &csrf, &format!("{base}/invitations/{inv}/revoke"), &[]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    let (_, after) = app.get(&format!("/v1/organizations/{org}/invitations/{inv}")).await;
    assert_eq!(after["status"], "revoked");
    let again = post(&admin, &csrf, &format!("{base}/invitations/{inv}/revoke"), &[]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);

    // Metadata as JSON, checked.
    let invalid = post(&admin, &csrf, &format!("{base}/metadata"), &[("public_metadata", "{oops")]).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
    assert!(invalid.body.contains("public_metadata is not valid JSON"), "{}", invalid.body);
    let saved = post(
        &admin,
        &csrf,
        &format!("{base}/metadata"),
        &[("public_metadata", r#"{"plan":"team"}"#), ("private_metadata", r#"{"crm":7}"#)],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, wire) = app.get(&format!("/v1/organizations/{org}")).await;
    assert_eq!((&wire["public_metadata"], &wire["private_metadata"]), (&json!({"plan": "team"}), &json!({"crm": 7})));

    // Roles: the instance's, with their permissions.
    let roles = admin.get("/admin/roles").await;
    assert_eq!(roles.status, StatusCode::OK);
    assert!(roles.body.contains("org:admin") && roles.body.contains("org:sys_memberships:manage"), "{}", roles.body);

    // Delete takes the id typed again.
    let unconfirmed = post(&admin, &csrf, &format!("{base}/delete"), &[("confirm", "yes")]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = post(&admin, &csrf, &format!("{base}/delete"), &[("confirm", &org)]).await;
    assert_eq!(
        (deleted.status, deleted.location()),
        (StatusCode::SEE_OTHER, "/admin/organizations?done=deleted"),
        "{}",
        deleted.body
    );
    assert_eq!(app.get(&format!("/v1/organizations/{org}")).await.0, StatusCode::NOT_FOUND);

    // Each action is in the audit log, by the admin, about the organization.
    let by_admin = audit(&app, &format!("actor_id={admin_id}&subject_id={org}")).await;
    // (Steps may share a millisecond, so the order is not asserted.)
    let mut actions: Vec<&str> = by_admin.iter().map(|e| e["action"].as_str().unwrap()).collect();
    actions.sort_unstable();
    let mut expected = [
        "organization.created",
        "organization_membership.created",
        "organization_membership.updated",
        "organization_membership.deleted",
        "organization_invitation.created",
        "organization_invitation.revoked",
        "organization.updated",
        "organization.deleted",
    ];
    expected.sort_unstable();
    assert_eq!(actions, expected);
    assert!(by_admin.iter().all(|e| e["actor_type"] == "admin" && e["outcome"] == "success"));
}

#[tokio::test]
async fn the_backend_api_shares_the_flows_and_names_its_entries() {
    let app = app().await;
    let user = app.create_user("bapi.owner@example.com").await["id"].as_str().unwrap().to_owned();
    let (status, org) = app.post("/v1/organizations", json!({"name": "Shared", "created_by": user})).await;
    assert_eq!((status, org["members_count"].clone()), (StatusCode::OK, json!(1)), "{org}");
    let id = org["id"].as_str().unwrap();
    let (status, _) =
        app.patch(&format!("/v1/organizations/{id}/memberships/{user}"), json!({"role": "org:member"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "the last admin rule holds on this path too");
    let entries = audit(&app, &format!("subject_id={id}&action=organization.created")).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["actor_type"], "secret_key");
}

/// The endpoint id in a page's links (`/admin/webhooks/ep_…`).
fn endpoint_id(body: &str) -> String {
    let at = body.find("/admin/webhooks/ep_").expect("a link to the endpoint") + "/admin/webhooks/".len();
    body[at..].split(['"', '/', '?']).next().unwrap().to_owned()
}

fn secret(body: &str) -> String {
    body.split("id=\"webhook-secret\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_admin_manages_webhook_endpoints_and_replays_from_the_delivery_log() {
    let app = spawn_app_with(Db::Sqlite, fast).await;
    let (r, url) = receiver().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    let csrf = csrf_of(&admin).await;

    // The URL is checked as the Backend API checks it; nothing is made without the token.
    let bad = post(&admin, &csrf, "/admin/webhooks", &[("url", "ftp://example.com/hook")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("only http and https URLs are allowed"), "{}", bad.body);
    let unknown_event =
        post(&admin, &csrf, "/admin/webhooks", &[("url", &url), ("event_types", "organization.exploded")]).await;
    assert_eq!(unknown_event.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.post("/admin/webhooks", &[("url", &url)]).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get("/v1/webhooks/endpoints").await.1.as_array().unwrap().len(), 0);

    let created = post(
        &admin,
        &csrf,
        "/admin/webhooks",
        &[("url", &url), ("description", "CRM sync"), ("event_types", "organization.created")],
    )
    .await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let first_secret = secret(&created.body);
    assert!(first_secret.starts_with("whsec_"));
    let endpoint = endpoint_id(&created.body);
    let (_, wire) = app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await;
    assert_eq!(
        (wire["event_types"].clone(), wire["description"].clone()),
        (json!(["organization.created"]), json!("CRM sync"))
    );
    assert!(!admin.get(&format!("/admin/webhooks/{endpoint}")).await.body.contains(&first_secret), "shown once");

    // A console change sends the event the Backend API would; the log shows its delivery.
    post(&admin, &csrf, "/admin/organizations", &[("name", "Hooked")]).await;
    let got = r.wait_for("organization.created", |got| !got.is_empty()).await;
    assert_eq!(got[0].json()["type"], "organization.created");
    assert_eq!(valid_signatures(&got[0], &first_secret), 1);
    let message = got[0].id.clone();
    let mut log = admin.get(&format!("/admin/webhooks/{endpoint}")).await;
    for _ in 0..200 {
        if log.body.contains("succeeded") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        log = admin.get(&format!("/admin/webhooks/{endpoint}")).await;
    }
    assert!(log.body.contains(&message) && log.body.contains("organization.created"), "{}", log.body);
    assert!(log.body.contains("succeeded") && log.body.contains("<td>204</td>"), "{}", log.body);

    // Replay sends the same message again.
    let replayed = post(&admin, &csrf, &format!("/admin/webhooks/{endpoint}/messages/{message}/replay"), &[]).await;
    assert_eq!(replayed.status, StatusCode::SEE_OTHER, "{}", replayed.body);
    let got = r.wait_for("the replay", |got| got.len() == 2).await;
    assert_eq!(got[1].id, message);
    let missing = post(&admin, &csrf, &format!("/admin/webhooks/{endpoint}/messages/msg_nope/replay"), &[]).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);

    // Edit, disable, enable, rotate.
    let edit = format!("/admin/webhooks/{endpoint}/edit");
    let bad_edit = post(&admin, &csrf, &edit, &[("url", "not a url")]).await;
    assert_eq!(bad_edit.status, StatusCode::UNPROCESSABLE_ENTITY);
    let edited = post(&admin, &csrf, &edit, &[("url", &url), ("description", "Everything")]).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{}", edited.body);
    let (_, wire) = app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await;
    assert_eq!((wire["event_types"].clone(), wire["description"].clone()), (json!([]), json!("Everything")));
    post(&admin, &csrf, &format!("/admin/webhooks/{endpoint}/disable"), &[]).await;
    assert_eq!(app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await.1["enabled"], false);
    post(&admin, &csrf, &format!("/admin/webhooks/{endpoint}/enable"), &[]).await;
    assert_eq!(app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await.1["enabled"], true);
    let rotated = post(&admin, &csrf, &format!("/admin/webhooks/{endpoint}/rotate_secret"), &[]).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second_secret = secret(&rotated.body);
    assert!(second_secret.starts_with("whsec_") && second_secret != first_secret);

    // Delete takes the id typed again.
    let delete = format!("/admin/webhooks/{endpoint}/delete");
    assert_eq!(post(&admin, &csrf, &delete, &[("confirm", "ep")]).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(post(&admin, &csrf, &delete, &[("confirm", &endpoint)]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(app.get(&format!("/v1/webhooks/endpoints/{endpoint}")).await.0, StatusCode::NOT_FOUND);

    let entries = audit(&app, &format!("actor_id={admin_id}")).await;
    let actions: Vec<&str> = entries.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in [
        "webhook_endpoint.created",
        "webhook_message.replayed",
        "webhook_endpoint.updated",
        "webhook_endpoint.secret_rotated",
        "webhook_endpoint.deleted",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let toggles: Vec<&Value> =
        entries.iter().filter(|e| e["action"] == "webhook_endpoint.updated").map(|e| &e["detail"]).collect();
    assert!(toggles.contains(&&json!("disabled")) && toggles.contains(&&json!("enabled")), "{toggles:?}");
    assert!(!serde_json::to_string(&entries).unwrap().contains("whsec_"), "no secret in the log");
}

#[tokio::test]
async fn a_private_webhook_url_is_refused_where_the_backend_api_refuses_it() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let csrf = csrf_of(&admin).await;
    let refused = post(&admin, &csrf, "/admin/webhooks", &[("url", "http://127.0.0.1:9/hook")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(refused.body.contains("private addresses are not allowed"), "{}", refused.body);
    let (status, _) = app.post("/v1/webhooks/endpoints", json!({"url": "http://127.0.0.1:9/hook"})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
}
