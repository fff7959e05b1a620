//! The admin console's roles and permissions screens, driven like a browser without scripts;
//! what they did is checked through the Backend API (whose role routes run the same code and
//! now record named audit entries too) and the audit log.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    admin::{audit, signed_in_admin},
    helpers::{Db, TestApp, assert_error, decode, spawn_app},
    pages::{Answer, Browser, app},
};

/// Posts `form` plus the admin's forgery token.
async fn post(admin: &Browser<'_>, csrf: &str, path: &str, form: &[(&str, &str)]) -> Answer {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(form);
    admin.post(path, &all).await
}

/// The permission with `key`, as the Backend API lists it.
async fn permission(app: &TestApp, key: &str) -> Option<Value> {
    let (_, list) = app.get("/v1/organization_permissions?limit=500").await;
    list["data"].as_array().unwrap().iter().find(|p| p["key"] == key).cloned()
}

/// The role with `key`, as the Backend API lists it.
async fn role(app: &TestApp, key: &str) -> Option<Value> {
    let (_, list) = app.get("/v1/organization_roles?limit=500").await;
    list["data"].as_array().unwrap().iter().find(|r| r["key"] == key).cloned()
}

fn keys(role: &Value) -> Vec<&str> {
    role["permissions"].as_array().unwrap().iter().map(|p| p["key"].as_str().unwrap()).collect()
}

#[tokio::test]
async fn an_admin_creates_edits_and_deletes_roles_and_permissions_from_the_console() {
    let app = app().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    let page = admin.get("/admin/roles").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("org:admin") && page.body.contains("org:sys_memberships:manage"), "{}", page.body);
    let csrf = page.input("csrf").expect("the forms carry a token");

    // A permission: bad keys refused beside the field, as typed; no token, nothing done.
    for bad in ["invoices:create", "org:sys_invoices:create", "org:Invoices:create"] {
        let refused = post(&admin, &csrf, "/admin/permissions", &[("key", bad), ("name", "Create invoices")]).await;
        assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", refused.body);
        assert!(refused.body.contains("id=\"permission-key-error\""), "{bad}: {}", refused.body);
        assert!(refused.body.contains(&format!("value=\"{bad}\"")), "the form comes back as typed");
    }
    let nameless = post(&admin, &csrf, "/admin/permissions", &[("key", "org:invoices:create"), ("name", " ")]).await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nameless.body.contains("id=\"permission-name-error\""), "{}", nameless.body);
    let forged = admin.post("/admin/permissions", &[("key", "org:invoices:create"), ("name", "Create invoices")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert!(permission(&app, "org:invoices:create").await.is_none(), "nothing was created");
    let created = post(
        &admin,
        &csrf,
        "/admin/permissions",
        &[("key", "org:invoices:create"), ("name", "Create invoices"), ("description", "Bill customers")],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(created.location(), "/admin/roles?done=permission_created#permissions");
    let perm = permission(&app, "org:invoices:create").await.expect("created");
    assert_eq!((perm["name"].as_str(), perm["type"].as_str()), (Some("Create invoices"), Some("user")));
    let perm_id = perm["id"].as_str().unwrap().to_owned();
    let again = post(&admin, &csrf, "/admin/permissions", &[("key", "org:invoices:create"), ("name", "Again")]).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "a key is unique: {}", again.body);
    let read_id = permission(&app, "org:sys_memberships:read").await.unwrap()["id"].as_str().unwrap().to_owned();

    // A role: refusals beside the field, then created with the permission ticked.
    let bad_key = post(
        &admin,
        &csrf,
        "/admin/roles",
        &[("key", "billing"), ("name", "Billing team"), ("permissions", perm_id.as_str())],
    )
    .await;
    assert_eq!(bad_key.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad_key.body);
    assert!(bad_key.body.contains("id=\"role-key-error\"") && bad_key.body.contains("org:&lt;name&gt;"));
    assert!(bad_key.body.contains("value=\"Billing team\""), "the name typed is kept");
    let unknown = post(
        &admin,
        &csrf,
        "/admin/roles",
        &[("key", "org:billing"), ("name", "Billing"), ("permissions", "perm_nope")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(unknown.body.contains("id=\"role-permissions-error\""), "{}", unknown.body);
    assert!(role(&app, "org:billing").await.is_none());
    let created = post(
        &admin,
        &csrf,
        "/admin/roles",
        &[("key", "org:billing"), ("name", "Billing"), ("description", "Money"), ("permissions", perm_id.as_str())],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let wire = role(&app, "org:billing").await.expect("created");
    let role_id = wire["id"].as_str().unwrap().to_owned();
    assert_eq!(created.location(), format!("/admin/roles/{role_id}?done=role_created"));
    assert_eq!((wire["name"].as_str(), wire["description"].as_str()), (Some("Billing"), Some("Money")));
    assert_eq!(keys(&wire), ["org:invoices:create"]);
    let base = format!("/admin/roles/{role_id}");
    let page = admin.get(&format!("{base}?done=role_created")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Role created") && page.body.contains("value=\"Billing\""), "{}", page.body);

    // Edit: name, description, permissions (one taken, a system one given); a blank name is
    // refused beside the field and nothing changes.
    let blank = post(&admin, &csrf, &base, &[("name", ""), ("description", "X"), ("permissions", &read_id)]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", blank.body);
    assert!(blank.body.contains("id=\"name-error\"") && blank.body.contains("aria-invalid=\"true\""));
    assert_eq!(keys(&role(&app, "org:billing").await.unwrap()), ["org:invoices:create"], "nothing changed");
    let saved =
        post(&admin, &csrf, &base, &[("name", "Finance"), ("description", "Invoices"), ("permissions", &read_id)])
            .await;
    assert_eq!((saved.status, saved.location()), (StatusCode::SEE_OTHER, format!("{base}?done=role_saved").as_str()));
    let wire = role(&app, "org:billing").await.unwrap();
    assert_eq!((wire["name"].as_str(), wire["description"].as_str()), (Some("Finance"), Some("Invoices")));
    assert_eq!(keys(&wire), ["org:sys_memberships:read"]);
    let both = post(
        &admin,
        &csrf,
        &base,
        &[("name", "Finance"), ("description", "Invoices"), ("permissions", &read_id), ("permissions", &perm_id)],
    )
    .await;
    assert_eq!(both.status, StatusCode::SEE_OTHER, "{}", both.body);
    assert_eq!(keys(&role(&app, "org:billing").await.unwrap()), ["org:invoices:create", "org:sys_memberships:read"]);

    // The admin role keeps its system permissions: its page sends them, a hand-made post
    // without them is refused.
    let admin_role = role(&app, "org:admin").await.unwrap();
    let admin_role_id = admin_role["id"].as_str().unwrap();
    let admin_page = admin.get(&format!("/admin/roles/{admin_role_id}")).await;
    assert!(admin_page.body.contains("disabled"), "the system permissions are ticked for good");
    let stripped = post(&admin, &csrf, &format!("/admin/roles/{admin_role_id}"), &[("name", "Admin")]).await;
    assert_eq!(stripped.status, StatusCode::BAD_REQUEST, "{}", stripped.body);
    assert!(stripped.body.contains("cannot be taken from org:admin"), "{}", stripped.body);
    assert_eq!(keys(&role(&app, "org:admin").await.unwrap()), keys(&admin_role), "nothing changed");

    // Deleting: never a default role, nor one a member holds, with the reason said.
    let member_role = role(&app, "org:member").await.unwrap();
    let default =
        post(&admin, &csrf, &format!("/admin/roles/{}/delete", member_role["id"].as_str().unwrap()), &[]).await;
    assert_eq!(default.status, StatusCode::BAD_REQUEST, "{}", default.body);
    assert!(default.body.contains("cannot be deleted"), "{}", default.body);
    let owner = app.create_user("owner@example.com").await["id"].as_str().unwrap().to_owned();
    let clerk = app.create_user("clerk@example.com").await["id"].as_str().unwrap().to_owned();
    let (_, org) = app.post("/v1/organizations", json!({"name": "Acme", "created_by": owner})).await;
    let org = org["id"].as_str().unwrap().to_owned();
    let (status, m) = app
        .post(&format!("/v1/organizations/{org}/memberships"), json!({"user_id": clerk, "role": "org:billing"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{m}");
    // The member holds the custom permission, in its membership and in its session token.
    assert_eq!(m["permissions"], json!(["org:invoices:create", "org:sys_memberships:read"]));
    let (_, session) = app.post("/v1/sessions", json!({"user_id": clerk, "active_organization_id": org})).await;
    let (_, token) = app.post(&format!("/v1/sessions/{}/tokens", session["id"].as_str().unwrap()), json!({})).await;
    let (_, claims) = decode(token["jwt"].as_str().unwrap());
    assert_eq!((claims["o"]["rol"].as_str(), claims["o"]["per"].as_str()), (Some("billing"), Some("create")));
    let held = post(&admin, &csrf, &format!("{base}/delete"), &[]).await;
    assert_eq!(held.status, StatusCode::BAD_REQUEST, "{}", held.body);
    assert!(held.body.contains("org:billing is assigned to 1 member"), "{}", held.body);
    assert!(role(&app, "org:billing").await.is_some());
    app.call(Method::DELETE, &format!("/v1/organizations/{org}/memberships/{clerk}"), None).await;
    let deleted = post(&admin, &csrf, &format!("{base}/delete"), &[]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, "/admin/roles?done=role_deleted"));
    assert!(role(&app, "org:billing").await.is_none());
    assert_eq!(admin.get(&base).await.status, StatusCode::NOT_FOUND);

    // Permissions: a system one stays, a custom one goes.
    let system = post(&admin, &csrf, &format!("/admin/permissions/{read_id}/delete"), &[]).await;
    assert_eq!(system.status, StatusCode::BAD_REQUEST, "{}", system.body);
    assert!(system.body.contains("is a system permission"), "{}", system.body);
    let gone = post(&admin, &csrf, &format!("/admin/permissions/{perm_id}/delete"), &[]).await;
    assert_eq!(gone.status, StatusCode::SEE_OTHER, "{}", gone.body);
    assert!(permission(&app, "org:invoices:create").await.is_none());
    assert!(admin.get("/admin/roles?done=permission_deleted").await.body.contains("Permission deleted"));

    // Each write is a named entry by the admin; none is a generic one.
    let by_admin = audit(&app, &format!("actor_id={admin_id}")).await;
    let mut actions: Vec<(&str, &str, &str)> = by_admin
        .iter()
        .filter(|e| e["action"].as_str().is_some_and(|a| a.starts_with("role.") || a.starts_with("permission.")))
        .map(|e| {
            (e["action"].as_str().unwrap(), e["subject_id"].as_str().unwrap(), e["detail"].as_str().unwrap_or_default())
        })
        .collect();
    actions.sort_unstable();
    let update_detail = "org:billing +org:sys_memberships:read -org:invoices:create";
    let mut expected = vec![
        ("permission.created", perm_id.as_str(), "org:invoices:create"),
        ("permission.deleted", perm_id.as_str(), "org:invoices:create"),
        ("role.created", role_id.as_str(), "org:billing"),
        ("role.deleted", role_id.as_str(), "org:billing"),
        ("role.updated", role_id.as_str(), update_detail),
        ("role.updated", role_id.as_str(), "org:billing +org:invoices:create"),
    ];
    expected.sort_unstable();
    assert_eq!(actions, expected);
    let named =
        |e: &&Value| e["action"].as_str().is_some_and(|a| a.starts_with("role.") || a.starts_with("permission."));
    assert!(by_admin.iter().filter(named).all(|e| e["actor_type"] == "admin"));
    // The audit page offers the new actions in its filter and lists them.
    let log = admin.get("/admin/audit?action=permission.created").await;
    assert_eq!(log.status, StatusCode::OK);
    assert!(log.body.contains(&perm_id), "{}", log.body);
}

#[tokio::test]
async fn the_creator_role_of_new_organizations_is_not_deleted() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let manage = permission(&app, "org:sys_memberships:manage").await.unwrap()["id"].clone();
    let (status, owner) =
        app.post("/v1/organization_roles", json!({"key": "org:owner", "name": "Owner", "permissions": [manage]})).await;
    assert_eq!(status, StatusCode::OK, "{owner}");
    let id = owner["id"].as_str().unwrap();
    let (status, s) = app.patch("/v1/instance/organization_settings", json!({"creator_role_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let csrf = admin.get("/admin/roles").await.input("csrf").unwrap();
    let refused = post(&admin, &csrf, &format!("/admin/roles/{id}/delete"), &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("creators of new organizations get"), "{}", refused.body);
    let api = app.call(Method::DELETE, &format!("/v1/organization_roles/{id}"), None).await;
    assert_error(&api, StatusCode::BAD_REQUEST, "organization_role_is_default");
    assert!(role(&app, "org:owner").await.is_some());
}

#[tokio::test]
async fn only_an_instance_admin_reaches_the_role_screens() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let csrf = admin.get("/admin/roles").await.input("csrf").unwrap();
    let member_role = role(&app, "org:member").await.unwrap()["id"].as_str().unwrap().to_owned();
    let read = permission(&app, "org:sys_memberships:read").await.unwrap()["id"].as_str().unwrap().to_owned();
    app.create_user("plain@example.com").await;
    let plain = Browser::new(&app);
    assert_eq!(plain.sign_in("plain@example.com", None).await.status, StatusCode::SEE_OTHER);
    for path in ["/admin/roles".to_owned(), format!("/admin/roles/{member_role}")] {
        let answer = plain.get(&path).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "GET {path}");
        assert!(!answer.body.contains("org:sys_memberships:manage"), "nothing of the roles is shown");
    }
    let writes = [
        ("/admin/roles".to_owned(), vec![("key", "org:sneaky"), ("name", "Sneaky")]),
        ("/admin/permissions".to_owned(), vec![("key", "org:sneaky:do"), ("name", "Sneaky")]),
        (format!("/admin/roles/{member_role}"), vec![("name", "Renamed")]),
        (format!("/admin/roles/{member_role}/delete"), vec![]),
        (format!("/admin/permissions/{read}/delete"), vec![]),
    ];
    for (path, form) in &writes {
        let answer = post(&plain, &csrf, path, form).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "POST {path}: {}", answer.body);
        assert!(answer.body.contains("Only instance admins"), "POST {path}");
    }
    assert!(role(&app, "org:sneaky").await.is_none() && permission(&app, "org:sneaky:do").await.is_none());
    assert_eq!(role(&app, "org:member").await.unwrap()["name"], "Member");
    // The admin's own token from another origin is refused too.
    let foreign = admin
        .post_from("/admin/roles", &[("csrf", &csrf), ("key", "org:x"), ("name", "X")], "https://evil.example")
        .await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    assert!(role(&app, "org:x").await.is_none());
}

/// The Backend API's role routes answer as before, and now each write is a named audit entry
/// by the secret key instead of a generic `backend.write`.
async fn backend_api_role_writes_are_named(db: Db) {
    let app = spawn_app(db).await;
    let (status, perm) =
        app.post("/v1/organization_permissions", json!({"key": "org:reports:read", "name": "Read reports"})).await;
    assert_eq!(status, StatusCode::OK, "{perm}");
    assert_eq!(
        (perm["object"].as_str(), perm["key"].as_str(), perm["type"].as_str()),
        (Some("permission"), Some("org:reports:read"), Some("user"))
    );
    let perm_id = perm["id"].as_str().unwrap().to_owned();
    let (status, renamed) =
        app.patch(&format!("/v1/organization_permissions/{perm_id}"), json!({"description": "All of them"})).await;
    assert_eq!((status, renamed["description"].as_str()), (StatusCode::OK, Some("All of them")));
    let (status, r) = app
        .post("/v1/organization_roles", json!({"key": "org:analyst", "name": "Analyst", "permissions": [perm_id]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!((r["object"].as_str(), r["is_creator_eligible"].as_bool()), (Some("role"), Some(false)));
    assert_eq!(keys(&r), ["org:reports:read"]);
    let role_id = r["id"].as_str().unwrap().to_owned();
    let (_, patched) = app.patch(&format!("/v1/organization_roles/{role_id}"), json!({"name": "Analysts"})).await;
    assert_eq!((patched["name"].as_str(), keys(&patched)), (Some("Analysts"), vec!["org:reports:read"]));
    let bad = app.patch(&format!("/v1/organization_roles/{role_id}"), json!({"name": ""})).await;
    assert_error(&bad, StatusCode::UNPROCESSABLE_ENTITY, "form_param_format_invalid");
    let (_, removed) =
        app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), None).await;
    assert_eq!(removed["permissions"], json!([]));
    let (_, added) = app.post(&format!("/v1/organization_roles/{role_id}/permissions/{perm_id}"), json!({})).await;
    assert_eq!(keys(&added), ["org:reports:read"]);
    let (status, gone) = app.call(Method::DELETE, &format!("/v1/organization_roles/{role_id}"), None).await;
    assert_eq!((status, gone), (StatusCode::OK, json!({"object": "role", "id": role_id, "deleted": true})));
    let (status, gone) = app.call(Method::DELETE, &format!("/v1/organization_permissions/{perm_id}"), None).await;
    assert_eq!((status, gone), (StatusCode::OK, json!({"object": "permission", "id": perm_id, "deleted": true})));

    let entries = audit(&app, "actor_type=secret_key").await;
    let mut named: Vec<(&str, &str)> = entries
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["detail"].as_str().unwrap_or_default()))
        .filter(|(a, _)| a.starts_with("role.") || a.starts_with("permission."))
        .collect();
    named.sort_unstable();
    assert_eq!(
        named,
        [
            ("permission.created", "org:reports:read"),
            ("permission.deleted", "org:reports:read"),
            ("permission.updated", "org:reports:read"),
            ("role.created", "org:analyst"),
            ("role.deleted", "org:analyst"),
            ("role.updated", "org:analyst"),
            ("role.updated", "org:analyst +org:reports:read"),
            ("role.updated", "org:analyst -org:reports:read"),
        ]
    );
    let generic: Vec<&Value> = entries
        .iter()
        .filter(|e| e["action"] == "backend.write" && e["outcome"] == "success")
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains("organization_roles") || d.contains("permissions")))
        .collect();
    assert!(generic.is_empty(), "no generic entry beside the named ones: {generic:?}");
}

#[tokio::test]
async fn backend_api_role_writes_are_named_sqlite() {
    backend_api_role_writes_are_named(Db::Sqlite).await;
}

#[tokio::test]
async fn backend_api_role_writes_are_named_postgres() {
    if crate::helpers::skip_postgres() {
        return;
    }
    backend_api_role_writes_are_named(Db::Postgres).await;
}
