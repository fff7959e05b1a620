//! The admin console's JWT templates and instance settings, over real HTTP like a browser
//! without scripts: what the console saves is what the Backend API reads, its preview is the
//! claims of a really minted token, and a settings change applies at once.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    admin::{audit, signed_in_admin},
    helpers::decode,
    pages::{Answer, Browser, app},
};

/// The text of the element with id `id`, unescaped.
fn element_text(answer: &Answer, id: &str) -> String {
    let at = answer.body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in {}", answer.body));
    let start = at + answer.body[at..].find('>').unwrap() + 1;
    let end = start + answer.body[start..].find("</").unwrap();
    answer.body[start..end]
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The template named `name`, read through the Backend API.
async fn template_named(app: &crate::helpers::TestApp, name: &str) -> Option<Value> {
    let (status, list) = app.get("/v1/jwt_templates").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().unwrap().iter().find(|t| t["name"] == name).cloned()
}

#[tokio::test]
async fn an_admin_creates_edits_and_deletes_a_template_and_bad_claims_are_shown_not_saved() {
    let app = app().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    let page = admin.get("/admin/templates/new").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let csrf = page.input("csrf").unwrap();
    let form = |name: &'static str, claims: &'static str, lifetime: &'static str| {
        vec![
            ("csrf", csrf.clone()),
            ("name", name.to_owned()),
            ("claims", claims.to_owned()),
            ("lifetime", lifetime.to_owned()),
            ("allowed_clock_skew", "5".to_owned()),
            ("signing_algorithm", "RS256".to_owned()),
            ("intent", "save".to_owned()),
        ]
    };
    let post = async |path: &str, fields: &[(&str, String)]| {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        admin.post(path, &fields).await
    };

    // Invalid JSON: the form comes back as typed, the error beside the claims, nothing saved.
    let bad = post("/admin/templates", &form("hasura", "{\"role\": ", "60")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    assert!(bad.body.contains("id=\"claims-error\""), "{}", bad.body);
    assert!(bad.body.contains("claims must be valid JSON"), "{}", bad.body);
    assert!(bad.body.contains("{&quot;role&quot;: </textarea>"), "the text is kept: {}", bad.body);
    // The Backend API's own checks: reserved claims, shortcodes, lifetime.
    let reserved = post("/admin/templates", &form("hasura", "{\"sub\": \"x\"}", "60")).await;
    assert!(
        reserved.body.contains("id=\"claims-error\"") && reserved.body.contains("set by the server"),
        "{}",
        reserved.body
    );
    let shortcode = post("/admin/templates", &form("hasura", "{\"a\": \"{{user.id\"}", "60")).await;
    assert!(shortcode.body.contains("id=\"claims-error\""), "{}", shortcode.body);
    let lifetime = post("/admin/templates", &form("hasura", "{}", "5")).await;
    assert!(lifetime.body.contains("id=\"lifetime-error\""), "{}", lifetime.body);
    assert!(template_named(&app, "hasura").await.is_none(), "nothing was saved");

    // Create.
    let created = post(
        "/admin/templates",
        &form("hasura", "{\"role\": \"user\", \"email\": \"{{user.primary_email_address}}\"}", "120"),
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let template = template_named(&app, "hasura").await.expect("created");
    let id = template["id"].as_str().unwrap().to_owned();
    assert_eq!(created.location(), format!("/admin/templates/{id}?done=created"));
    assert_eq!((template["lifetime"].as_i64(), template["claims"]["role"].as_str()), (Some(120), Some("user")));
    let list = admin.get("/admin/templates").await;
    assert!(list.body.contains(&format!("href=\"/admin/templates/{id}\">hasura</a>")), "{}", list.body);

    // Edit; a bad edit leaves the stored template as it was.
    let path = format!("/admin/templates/{id}");
    let bad_edit = post(&path, &form("hasura", "[1, 2]", "120")).await;
    assert!(bad_edit.body.contains("claims must be a JSON object"), "{}", bad_edit.body);
    let edited = post(&path, &form("hasura-v2", "{\"role\": \"admin\"}", "300")).await;
    assert_eq!((edited.status, edited.location()), (StatusCode::SEE_OTHER, format!("{path}?done=saved").as_str()));
    let (_, stored) = app.get(&format!("/v1/jwt_templates/{id}")).await;
    assert_eq!((stored["name"].as_str(), stored["lifetime"].as_i64()), (Some("hasura-v2"), Some(300)));
    assert_eq!(stored["claims"], json!({"role": "admin"}));
    let page = admin.get(&format!("{path}?done=saved")).await;
    assert!(page.body.contains("Template saved") && page.body.contains("&quot;admin&quot;"), "{}", page.body);

    // A forged form changes nothing.
    let mut forged = form("forged", "{}", "60");
    forged[0].1 = "forged".into();
    assert_eq!(post(&path, &forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(post(&format!("{path}/delete"), &[("confirm", "hasura-v2".into())]).await.status, StatusCode::FORBIDDEN);
    let (_, stored) = app.get(&format!("/v1/jwt_templates/{id}")).await;
    assert_eq!(stored["name"], "hasura-v2");

    // Delete needs the name typed.
    let unconfirmed = post(&format!("{path}/delete"), &[("csrf", csrf.clone()), ("confirm", "hasura".into())]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", unconfirmed.body);
    assert!(template_named(&app, "hasura-v2").await.is_some());
    let deleted = post(&format!("{path}/delete"), &[("csrf", csrf.clone()), ("confirm", "hasura-v2".into())]).await;
    assert_eq!((deleted.status, deleted.location()), (StatusCode::SEE_OTHER, "/admin/templates?done=deleted"));
    assert!(template_named(&app, "hasura-v2").await.is_none());

    // Each change is in the audit log with the admin as the actor.
    for action in ["jwt_template.created", "jwt_template.updated", "jwt_template.deleted"] {
        let entries = audit(&app, &format!("action={action}")).await;
        assert_eq!(entries.len(), 1, "{action}: {entries:?}");
        assert_eq!(
            (entries[0]["actor_type"].as_str(), entries[0]["actor_id"].as_str(), entries[0]["subject_id"].as_str()),
            (Some("admin"), Some(admin_id.as_str()), Some(id.as_str())),
            "{action}"
        );
    }
}

#[tokio::test]
async fn the_preview_is_the_claims_of_a_minted_token_and_previews_unsaved_text() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let user = app.create_user("ada@example.com").await;
    let user_id = user["id"].as_str().unwrap().to_owned();
    app.patch(&format!("/v1/users/{user_id}"), json!({"first_name": "Ada", "public_metadata": {"tier": "pro"}})).await;
    // Ada signs in and creates an organization, which becomes active in her session.
    let ada = Browser::new(&app);
    assert_eq!(ada.sign_in("ada@example.com", None).await.status, StatusCode::SEE_OTHER);
    let csrf_less = ada.post("/organizations/create", &[("name", "Analytical Engines")]).await;
    assert_eq!(csrf_less.status, StatusCode::SEE_OTHER, "{}", csrf_less.body);
    let (_, sessions) = app.get(&format!("/v1/sessions?user_id={user_id}&status=active")).await;
    let session = &sessions.as_array().unwrap()[0];
    let session_id = session["id"].as_str().unwrap();
    let org_id = session["last_active_organization_id"].as_str().expect("an active organization").to_owned();

    let claims = json!({
        "email": "{{user.primary_email_address}}",
        "name": "{{user.first_name}}",
        "tier": "{{user.public_metadata.tier || 'free'}}",
        "org": {"slug": "{{org.slug}}", "role": "{{org.role}}"},
        "aud": "my-api",
    });
    let (status, template) = app
        .post("/v1/jwt_templates", json!({"name": "api", "claims": claims, "lifetime": 600, "allowed_clock_skew": 10}))
        .await;
    assert_eq!(status, StatusCode::OK, "{template}");
    let id = template["id"].as_str().unwrap();
    let path = format!("/admin/templates/{id}");
    let csrf = admin.get(&path).await.input("csrf").unwrap();
    let claims_text = claims.to_string();
    let preview = |claims_text: String, who: String, org: String| {
        let csrf = csrf.clone();
        let path = path.clone();
        let admin = &admin;
        async move {
            let fields = [
                ("csrf", csrf.as_str()),
                ("name", "api"),
                ("claims", claims_text.as_str()),
                ("lifetime", "600"),
                ("allowed_clock_skew", "10"),
                ("user", who.as_str()),
                ("organization_id", org.as_str()),
                ("intent", "preview"),
            ];
            admin.post(&path, &fields).await
        }
    };

    // By email, with her organization: the claims of a token minted for her session.
    let shown = preview(claims_text.clone(), "Ada@Example.com".into(), org_id.clone()).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let previewed: Value = serde_json::from_str(&element_text(&shown, "preview-claims")).unwrap();
    let (status, token) = app.post(&format!("/v1/sessions/{session_id}/tokens/api"), json!({})).await;
    assert_eq!(status, StatusCode::OK, "{token}");
    let (_, minted) = decode(token["jwt"].as_str().unwrap());
    let strip = |mut v: Value| {
        let map = v.as_object_mut().unwrap();
        for moment in ["iat", "exp", "nbf", "jti"] {
            assert!(map.remove(moment).is_some(), "{moment} is set");
        }
        v
    };
    assert_eq!(previewed["exp"].as_i64().unwrap() - previewed["iat"].as_i64().unwrap(), 600);
    assert_eq!(previewed["iat"].as_i64().unwrap() - previewed["nbf"].as_i64().unwrap(), 10);
    assert_eq!(strip(previewed.clone()), strip(minted.clone()));
    assert_eq!(previewed["org"], json!({"slug": "analytical-engines", "role": "org:admin"}));
    assert_eq!((previewed["sub"].as_str(), previewed["tier"].as_str()), (Some(user_id.as_str()), Some("pro")));
    assert!(app.get("/v1/audit_log?action=jwt_template.updated").await.1["data"].as_array().unwrap().is_empty());

    // Unsaved text is what is previewed, and it stays unsaved.
    let edited = preview(r#"{"who": "{{user.first_name}}!"}"#.into(), user_id.clone(), String::new()).await;
    assert_eq!(edited.status, StatusCode::OK, "{}", edited.body);
    let previewed: Value = serde_json::from_str(&element_text(&edited, "preview-claims")).unwrap();
    assert_eq!(previewed["who"], "Ada!");
    assert!(previewed.get("org").is_none());
    let (_, stored) = app.get(&format!("/v1/jwt_templates/{id}")).await;
    assert_eq!(stored["claims"], claims, "a preview saves nothing");

    // Unknown users, organizations she is not in, and bad claims are said beside their fields.
    let nobody = preview(claims_text.clone(), "nobody@example.com".into(), String::new()).await;
    assert!(nobody.body.contains("id=\"user-error\""), "{}", nobody.body);
    assert!(!nobody.body.contains("preview-claims"));
    let (_, other) = app.post("/v1/organizations", json!({"name": "Elsewhere"})).await;
    let outsider = preview(claims_text.clone(), user_id.clone(), other["id"].as_str().unwrap().into()).await;
    assert!(outsider.body.contains("id=\"organization_id-error\""), "{}", outsider.body);
    let bad = preview("{\"exp\": 1}".into(), user_id.clone(), String::new()).await;
    assert!(bad.body.contains("id=\"claims-error\""), "{}", bad.body);
    // A preview is a console post like any other: the token is required.
    let forged = admin.post(&path, &[("claims", "{}"), ("user", user_id.as_str()), ("intent", "preview")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_settings_change_applies_at_once_and_is_audited() {
    let app = app().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    app.create_user("ada@example.com").await;
    let ada = Browser::new(&app);
    assert_eq!(ada.sign_in("ada@example.com", None).await.status, StatusCode::SEE_OTHER);

    let page = admin.get("/admin/settings").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("Set at start") && page.body.contains("read-only"), "{}", page.body);
    assert!(page.body.contains("Acme &lt;Portal&gt;"), "the configured name, escaped: {}", page.body);
    let csrf = page.input("csrf").unwrap();
    let creator_role = page.body.split("name=\"creator_role_id\"").nth(1).unwrap();
    let role_id = creator_role.split("value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();

    // Organizations off: creating one is refused at once.
    let off = admin
        .post(
            "/admin/settings",
            &[
                ("csrf", csrf.as_str()),
                ("max_allowed_memberships", "7"),
                ("admin_delete_enabled", "on"),
                ("creator_role_id", &role_id),
            ],
        )
        .await;
    assert_eq!((off.status, off.location()), (StatusCode::SEE_OTHER, "/admin/settings?done=saved"), "{}", off.body);
    let (_, settings) = app.get("/v1/instance/organization_settings").await;
    assert_eq!((settings["enabled"].as_bool(), settings["max_allowed_memberships"].as_i64()), (Some(false), Some(7)));
    let refused = ada.post("/organizations/create", &[("name", "Acme")]).await;
    assert_ne!(refused.status, StatusCode::SEE_OTHER, "{}", refused.body);
    let (_, orgs) = app.get("/v1/organizations").await;
    assert_eq!(orgs["total_count"], 0, "{orgs}");

    // Validation is the Backend API's: nothing is stored when a field is refused.
    let bad = admin
        .post("/admin/settings", &[("csrf", csrf.as_str()), ("enabled", "on"), ("max_allowed_memberships", "-1")])
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let forged = admin.post("/admin/settings", &[("csrf", "forged"), ("enabled", "on")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let (_, settings) = app.get("/v1/instance/organization_settings").await;
    assert_eq!(settings["enabled"], false);

    // On again: creating works.
    let on = admin
        .post("/admin/settings", &[("csrf", csrf.as_str()), ("enabled", "on"), ("max_allowed_memberships", "0")])
        .await;
    assert_eq!(on.status, StatusCode::SEE_OTHER, "{}", on.body);
    assert_eq!(ada.post("/organizations/create", &[("name", "Acme")]).await.status, StatusCode::SEE_OTHER);

    let entries = audit(&app, "action=instance_settings.updated").await;
    assert_eq!(entries.len(), 2, "{entries:?}");
    // Entries made within one millisecond of the test's clock have no order among them.
    assert!(entries.iter().all(|e| e["actor_type"] == "admin" && e["actor_id"] == admin_id.as_str()), "{entries:?}");
    assert!(entries.iter().any(|e| e["detail"].as_str().unwrap().contains("enabled=false")), "{entries:?}");
    // The Backend API's change is the same flow, recorded with the secret key as the actor.
    let (status, _) = app.patch("/v1/instance/organization_settings", json!({"slug_disabled": true})).await;
    assert_eq!(status, StatusCode::OK);
    let entries = audit(&app, "action=instance_settings.updated").await;
    let by_key = entries.iter().filter(|e| e["actor_type"] == "secret_key").count();
    assert_eq!((entries.len(), by_key), (3, 1), "{entries:?}");
}
