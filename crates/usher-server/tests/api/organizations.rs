//! `/v1/organizations`, their memberships, and the membership lists of users and the instance.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{Db, assert_error, decode, spawn_app};

#[tokio::test]
async fn organizations_are_created_found_by_id_or_slug_updated_and_deleted() {
    let app = spawn_app(Db::Sqlite).await;
    let ada = app.create_user("ada@example.com").await;
    let ada_id = ada["id"].as_str().unwrap();
    let (status, org) = app
        .post(
            "/v1/organizations",
            json!({"name": "Acme Inc.", "created_by": ada_id, "public_metadata": {"plan": "pro", "seats": 3}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{org}");
    assert_eq!(
        (org["object"].as_str(), org["slug"].as_str(), org["members_count"].as_i64()),
        (Some("organization"), Some("acme-inc"), Some(1))
    );
    let id = org["id"].as_str().unwrap();
    assert!(id.starts_with("org_"));
    assert_eq!(app.get("/v1/organizations/acme-inc").await.1["id"], org["id"]);
    assert_eq!(app.get(&format!("/v1/organizations/{id}")).await.1["name"], "Acme Inc.");
    assert_error(&app.get("/v1/organizations/nope").await, StatusCode::NOT_FOUND, "resource_not_found");

    let dup = app.post("/v1/organizations", json!({"name": "Other", "slug": "acme-inc"})).await;
    assert_error(&dup, StatusCode::UNPROCESSABLE_ENTITY, "form_identifier_exists");
    assert_eq!(dup.1["errors"][0]["meta"]["param_name"], "slug");
    assert_error(
        &app.post("/v1/organizations", json!({"slug": "x"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_missing",
    );
    assert_error(
        &app.post("/v1/organizations", json!({"name": "X", "slug": "Bad Slug"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_format_invalid",
    );

    let (status, merged) = app
        .patch(&format!("/v1/organizations/{id}/metadata"), json!({"public_metadata": {"seats": null, "color": "red"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{merged}");
    assert_eq!(merged["public_metadata"], json!({"plan": "pro", "color": "red"}));
    let (_, replaced) = app
        .call(Method::PUT, &format!("/v1/organizations/{id}/metadata"), Some(json!({"public_metadata": {"only": 1}})))
        .await;
    assert_eq!(replaced["public_metadata"], json!({"only": 1}));
    let (_, renamed) = app.patch(&format!("/v1/organizations/{id}"), json!({"name": "Acme", "slug": "acme"})).await;
    assert_eq!((renamed["name"].as_str(), renamed["slug"].as_str()), (Some("Acme"), Some("acme")));

    app.post("/v1/organizations", json!({"name": "Beta"})).await;
    let (_, list) = app.get("/v1/organizations?order_by=name&include_members_count=true").await;
    assert_eq!(list["total_count"], 2);
    assert_eq!((list["data"][0]["name"].as_str(), list["data"][0]["members_count"].as_i64()), (Some("Acme"), Some(1)));
    let (_, found) = app.get("/v1/organizations?query=bet").await;
    assert_eq!((found["total_count"].as_i64(), found["data"][0]["slug"].as_str()), (Some(1), Some("beta")));
    assert!(found["data"][0].get("members_count").is_none());
    assert_error(
        &app.get("/v1/organizations?order_by=bogus").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );

    let logo = app.call(Method::DELETE, &format!("/v1/organizations/{id}/logo"), None).await;
    assert_error(&logo, StatusCode::BAD_REQUEST, "feature_not_supported");

    let (status, deleted) = app.call(Method::DELETE, &format!("/v1/organizations/{id}"), None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (StatusCode::OK, Some(true)));
    assert_error(&app.get(&format!("/v1/organizations/{id}")).await, StatusCode::NOT_FOUND, "resource_not_found");
    assert_eq!(app.get(&format!("/v1/users/{ada_id}/organization_memberships")).await.1["total_count"], 0);
}

#[tokio::test]
async fn memberships_follow_clerks_rules() {
    let app = spawn_app(Db::Sqlite).await;
    let ada = app.create_user("ada@example.com").await["id"].as_str().unwrap().to_owned();
    let bob = app.create_user("bob@example.com").await["id"].as_str().unwrap().to_owned();
    let eve = app.create_user("eve@example.com").await["id"].as_str().unwrap().to_owned();
    let (_, org) =
        app.post("/v1/organizations", json!({"name": "Acme", "created_by": ada, "max_allowed_memberships": 2})).await;
    let id = org["id"].as_str().unwrap();
    let base = format!("/v1/organizations/{id}/memberships");

    let (status, m) = app.post(&base, json!({"user_id": bob, "role": "org:member"})).await;
    assert_eq!(status, StatusCode::OK, "{m}");
    assert_eq!(
        (m["object"].as_str(), m["role"].as_str(), m["role_name"].as_str()),
        (Some("organization_membership"), Some("org:member"), Some("Member"))
    );
    assert_eq!(m["permissions"], json!(["org:sys_memberships:read"]));
    assert_eq!(
        (m["public_user_data"]["identifier"].as_str(), m["organization"]["id"].as_str()),
        (Some("bob@example.com"), Some(id))
    );
    assert_error(
        &app.post(&base, json!({"user_id": bob})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "already_a_member_in_organization",
    );
    assert_error(
        &app.post(&base, json!({"user_id": eve})).await,
        StatusCode::FORBIDDEN,
        "organization_membership_quota_exceeded",
    );
    assert_error(
        &app.post(&base, json!({"user_id": eve, "role": "org:nope"})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "resource_not_found",
    );

    let (_, list) = app.get(&format!("{base}?role=org:admin")).await;
    assert_eq!(
        (list["total_count"].as_i64(), list["data"][0]["public_user_data"]["user_id"].as_str()),
        (Some(1), Some(ada.as_str()))
    );
    let user_at = |offset: i64| {
        let (app, base) = (&app, &base);
        async move {
            let (_, page) = app.get(&format!("{base}?limit=1&offset={offset}")).await;
            page["data"][0]["public_user_data"]["user_id"].as_str().unwrap().to_owned()
        }
    };
    let mut both = [user_at(0).await, user_at(1).await];
    both.sort();
    let mut expected = [ada.clone(), bob.clone()];
    expected.sort();
    assert_eq!(both, expected, "pages neither overlap nor skip");
    assert_eq!(app.get(&format!("/v1/organization_memberships?user_id={bob}")).await.1["total_count"], 1);
    let (_, mine) = app.get(&format!("/v1/users/{ada}/organization_memberships")).await;
    assert_eq!(
        (mine["total_count"].as_i64(), mine["data"][0]["organization"]["slug"].as_str()),
        (Some(1), Some("acme"))
    );
    assert_eq!(mine["data"][0]["permissions"].as_array().unwrap().len(), 6, "admins hold every system permission");

    let demote = app.patch(&format!("{base}/{ada}"), json!({"role": "org:member"})).await;
    assert_error(&demote, StatusCode::FORBIDDEN, "organization_minimum_permissions_needed");
    assert_error(
        &app.call(Method::DELETE, &format!("{base}/{ada}"), None).await,
        StatusCode::FORBIDDEN,
        "organization_minimum_permissions_needed",
    );
    let (status, promoted) = app.patch(&format!("{base}/{bob}"), json!({"role": "org:admin"})).await;
    assert_eq!((status, promoted["role"].as_str()), (StatusCode::OK, Some("org:admin")));
    let (_, meta) = app.patch(&format!("{base}/{bob}/metadata"), json!({"public_metadata": {"team": "red"}})).await;
    assert_eq!(meta["public_metadata"], json!({"team": "red"}));
    let (status, removed) = app.call(Method::DELETE, &format!("{base}/{ada}"), None).await;
    assert_eq!((status, removed["public_user_data"]["user_id"].as_str()), (StatusCode::OK, Some(ada.as_str())));
    assert_error(
        &app.call(Method::DELETE, &format!("{base}/{ada}"), None).await,
        StatusCode::NOT_FOUND,
        "resource_not_found",
    );

    let (status, _) = app.call(Method::DELETE, &format!("/v1/users/{bob}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.get(&base).await.1["total_count"], 0, "deleting a user removes their memberships");
}

#[tokio::test]
async fn session_tokens_carry_the_active_organization_until_it_or_the_membership_goes() {
    let app = spawn_app(Db::Sqlite).await;
    let ada = app.create_user("ada@example.com").await["id"].as_str().unwrap().to_owned();
    let bob = app.create_user("bob@example.com").await["id"].as_str().unwrap().to_owned();
    let (_, org) = app.post("/v1/organizations", json!({"name": "Acme", "created_by": ada})).await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let refused = app.post("/v1/sessions", json!({"user_id": bob, "active_organization_id": org_id})).await;
    assert_error(&refused, StatusCode::UNPROCESSABLE_ENTITY, "not_a_member_in_organization");

    app.post(&format!("/v1/organizations/{org_id}/memberships"), json!({"user_id": bob})).await;
    let (status, session) = app.post("/v1/sessions", json!({"user_id": bob, "active_organization_id": org_id})).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    let sid = session["id"].as_str().unwrap();
    let c = claims(&app, sid).await;
    assert_eq!(c["o"], json!({"id": org_id, "slg": "acme", "rol": "member"}), "system permissions stay out of tokens");
    assert!(c.get("fea").is_none() && c.get("org_id").is_none(), "{c}");

    let (status, _) = app.call(Method::DELETE, &format!("/v1/organizations/{org_id}/memberships/{bob}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(claims(&app, sid).await.get("o").is_none(), "a removed member's next token has no organization");

    let (_, admin_session) = app.post("/v1/sessions", json!({"user_id": ada, "active_organization_id": org_id})).await;
    let admin_sid = admin_session["id"].as_str().unwrap().to_owned();
    assert_eq!(claims(&app, &admin_sid).await["o"]["rol"], "admin");
    app.call(Method::DELETE, &format!("/v1/organizations/{org_id}"), None).await;
    assert!(claims(&app, &admin_sid).await.get("o").is_none(), "a deleted organization's next token has none");
}

/// The claims of a fresh session token for `sid`.
async fn claims(app: &crate::helpers::TestApp, sid: &str) -> serde_json::Value {
    let (status, token) = app.post(&format!("/v1/sessions/{sid}/tokens"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    decode(token["jwt"].as_str().unwrap()).1
}

#[tokio::test]
async fn template_org_shortcodes_render_the_active_organization() {
    let app = spawn_app(Db::Sqlite).await;
    let ada = app.create_user("ada@example.com").await["id"].as_str().unwrap().to_owned();
    let (_, org) = app
        .post("/v1/organizations", json!({"name": "Acme", "created_by": ada, "public_metadata": {"tier": "gold"}}))
        .await;
    let org_id = org["id"].as_str().unwrap().to_owned();
    let (status, t) = app
        .post(
            "/v1/jwt_templates",
            json!({"name": "orgs", "claims": {"oid": "{{org.id}}", "on": "{{org.name}}", "os": "{{org.slug}}",
                   "or": "{{org.role}}", "tier": "{{org.public_metadata.tier}}"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{t}");
    let (_, with_org) = app.post("/v1/sessions", json!({"user_id": ada, "active_organization_id": org_id})).await;
    let (_, token) =
        app.post(&format!("/v1/sessions/{}/tokens/orgs", with_org["id"].as_str().unwrap()), json!({})).await;
    let c = decode(token["jwt"].as_str().unwrap()).1;
    assert_eq!(
        (&c["oid"], &c["on"], &c["os"], &c["or"], &c["tier"]),
        (&json!(org_id), &json!("Acme"), &json!("acme"), &json!("org:admin"), &json!("gold"))
    );
    let (_, personal) = app.post("/v1/sessions", json!({"user_id": ada})).await;
    let (_, token) =
        app.post(&format!("/v1/sessions/{}/tokens/orgs", personal["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(decode(token["jwt"].as_str().unwrap()).1["oid"], serde_json::Value::Null);
}

#[tokio::test]
async fn instance_organization_settings_shape_new_organizations_and_the_environment() {
    let app = crate::helpers::spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.allow_localhost_origins = true;
    })
    .await;
    let (status, defaults) = app.get("/v1/instance/organization_settings").await;
    assert_eq!(status, StatusCode::OK, "{defaults}");
    assert_eq!(
        (defaults["object"].as_str(), defaults["enabled"].as_bool(), defaults["creator_role"].as_str()),
        (Some("organization_settings"), Some(true), Some("org:admin"))
    );

    // A creator role must be able to manage members.
    let (_, perms) = app.get("/v1/organization_permissions").await;
    let id_of = |key: &str| {
        perms["data"].as_array().unwrap().iter().find(|p| p["key"] == key).unwrap()["id"].as_str().unwrap().to_owned()
    };
    let (_, owner) = app
        .post(
            "/v1/organization_roles",
            json!({"key": "org:owner", "name": "Owner", "permissions": [id_of("org:sys_memberships:manage"), id_of("org:sys_memberships:read")]}),
        )
        .await;
    let (_, viewer) = app.post("/v1/organization_roles", json!({"key": "org:viewer", "name": "Viewer"})).await;
    let patch = |body| app.call(reqwest::Method::PATCH, "/v1/instance/organization_settings", Some(body));
    assert_error(
        &patch(json!({"creator_role_id": viewer["id"]})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    assert_error(
        &patch(json!({"domains_enabled": true})).await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "form_param_value_invalid",
    );
    let (status, set) =
        patch(json!({"creator_role_id": owner["id"], "max_allowed_memberships": 3, "admin_delete_enabled": false}))
            .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!((set["creator_role"].as_str(), set["max_allowed_memberships"].as_i64()), (Some("org:owner"), Some(3)));
    assert_eq!(app.get("/v1/instance/organization_settings").await.1, set, "stored");

    // New organizations follow them, from either API.
    let mut browser = crate::frontend::Browser::new(&app);
    app.create_user("settings@example.com").await;
    browser
        .post("/v1/client/sign_ins", &[("identifier", "settings@example.com"), ("password", "correct horse battery")])
        .await;
    let (status, created) = browser.post("/v1/organizations", &[("name", "Settled")]).await;
    assert_eq!(status, StatusCode::OK, "{created}");
    assert_eq!(
        (
            created["response"]["max_allowed_memberships"].as_i64(),
            created["response"]["admin_delete_enabled"].as_bool()
        ),
        (Some(3), Some(false))
    );
    let m = &created["client"]["sessions"][0]["user"]["organization_memberships"][0];
    assert_eq!(m["role"], "org:owner", "the creator gets the configured role");
    let (_, bapi_org) = app.post("/v1/organizations", json!({"name": "Backend"})).await;
    assert_eq!(bapi_org["max_allowed_memberships"], 3);

    let (_, env) = browser.get("/v1/environment").await;
    let env = if env.get("organization_settings").is_some() { env } else { env["response"].clone() };
    assert_eq!(env["organization_settings"]["actions"]["admin_delete"], false);
    assert_eq!(env["organization_settings"]["max_allowed_memberships"], 3);

    // Off: the environment says so and the Frontend API refuses creating one.
    patch(json!({"enabled": false})).await;
    let (_, env) = browser.get("/v1/environment").await;
    let env = if env.get("organization_settings").is_some() { env } else { env["response"].clone() };
    assert_eq!(env["organization_settings"]["enabled"], false);
    let refused = browser.post("/v1/organizations", &[("name", "Refused")]).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "organizations_not_enabled_in_instance");
}
