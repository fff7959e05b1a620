//! The Frontend API's JSON as clerk-js 6's resources read it (`fromJSON` of `Environment`,
//! `Client`, `Session`, `User`, `SignUp`, …; see the audit table in `docs/clerk-js.md`), and
//! the request conventions clerk-js adds to every call (`_clerk_session_id`,
//! `__clerk_api_version`, `_clerk_js_version`, `_method`).

use reqwest::StatusCode;
use serde_json::Value;

use crate::frontend::{Browser, app};

/// clerk-js's query string on every Frontend API call.
const CLERK_JS: &str = "__clerk_api_version=2025-11-10&_clerk_js_version=6.40.0";

fn has(value: &Value, path: &str) -> bool {
    path.split('.').try_fold(value, |v, key| v.get(key)).is_some()
}

fn at<'a>(value: &'a Value, path: &str) -> &'a Value {
    path.split('.').try_fold(value, |v, key| v.get(key)).unwrap_or_else(|| panic!("{path} missing in {value}"))
}

#[tokio::test]
async fn the_environment_has_every_field_clerk_js_reads_and_disables_what_usher_lacks() {
    let app = app().await;
    let mut b = Browser::new(&app);
    let (status, env) = b.get(&format!("/v1/environment?{CLERK_JS}")).await;
    assert_eq!(status, StatusCode::OK, "{env}");
    for path in [
        "auth_config.single_session_mode",
        "auth_config.claimed_at",
        "auth_config.reverification",
        "auth_config.preferred_channels",
        "auth_config.session_minter",
        "display_config.captcha_heartbeat_interval_ms",
        "display_config.instance_environment_type",
        "display_config.preferred_sign_in_strategy",
        "user_settings.enterprise_sso.self_serve_sso",
        "user_settings.sign_in.second_factor.enabled",
        "user_settings.sign_up.legal_consent_enabled",
        "user_settings.password_settings.allowed_special_characters",
        "user_settings.username_settings.min_length",
        "user_settings.passkey_settings.allow_autofill",
        "user_settings.attack_protection.enumeration_protection.enabled",
        "organization_settings.domains.enrollment_modes",
        "organization_settings.organization_creation_defaults.enabled",
        "commerce_settings.billing.stripe_publishable_key",
        "commerce_settings.billing.user.has_paid_plans",
        "commerce_settings.billing.organization.has_paid_plans",
        "api_keys_settings.user_api_keys_enabled",
        "api_keys_settings.orgs_api_keys_enabled",
        "protect_config.tokens_invalid_before",
        "partitioned_cookies",
        "client_debug_mode",
    ] {
        assert!(has(&env, path), "{path} missing");
    }
    // What usher lacks is there and off, so the components hide it.
    for (path, off) in [
        ("maintenance_mode", Value::Bool(false)),
        ("partitioned_cookies", Value::Bool(false)),
        ("auth_config.session_minter", Value::Bool(false)),
        ("user_settings.attributes.phone_number.enabled", Value::Bool(false)),
        ("user_settings.attributes.web3_wallet.enabled", Value::Bool(false)),
        ("user_settings.sign_up.captcha_enabled", Value::Bool(false)),
        ("user_settings.enterprise_sso.enabled", Value::Bool(false)),
        ("display_config.captcha_public_key", Value::Null),
        ("commerce_settings.billing.stripe_publishable_key", Value::Null),
        ("commerce_settings.billing.user.enabled", Value::Bool(false)),
        ("commerce_settings.billing.organization.enabled", Value::Bool(false)),
        ("api_keys_settings.user_api_keys_enabled", Value::Bool(false)),
        ("api_keys_settings.orgs_api_keys_enabled", Value::Bool(false)),
    ] {
        assert_eq!(at(&env, path), &off, "{path}");
    }
    // What usher has is on: authenticator apps and backup codes, organizations.
    assert_eq!(at(&env, "user_settings.sign_in.second_factor.enabled"), &Value::Bool(true));
    assert_eq!(at(&env, "user_settings.attributes.authenticator_app.used_for_second_factor"), &Value::Bool(true));
    assert_eq!(at(&env, "organization_settings.enabled"), &Value::Bool(true));
    assert_eq!(at(&env, "user_settings.actions.create_organization"), &Value::Bool(true));

    // clerk-js's `POST ?_method=PATCH` on every load: answered with the same environment, as
    // Clerk answers it.
    let (status, patched) = b.post(&format!("/v1/environment?_method=PATCH&{CLERK_JS}"), &[]).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched, env);
}

#[tokio::test]
async fn the_client_session_user_and_sign_up_have_clerk_js_fields() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut b = Browser::new(&app);
    let (status, body) = b.sign_in("ada@example.com", "correct horse battery").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let client = &body["client"];
    assert!(has(client, "last_authentication_strategy"), "{client}");
    assert!(client["cookie_expires_at"].is_i64());
    let session = &client["sessions"][0];
    for path in ["factor_verification_age", "last_active_token.jwt", "tasks", "actor", "last_active_organization_id"] {
        assert!(has(session, path), "session.{path}");
    }
    let public = &session["public_user_data"];
    assert_eq!(public["identifier"], "ada@example.com");
    assert!(has(public, "username") && public["image_url"].is_string() && public["has_image"].is_boolean());
    let user = &session["user"];
    assert!(user.get("private_metadata").is_none(), "no private metadata in the browser");
    for path in [
        "organization_memberships",
        "external_accounts",
        "enterprise_accounts",
        "passkeys",
        "web3_wallets",
        "create_organization_enabled",
        "create_organizations_limit",
        "delete_self_enabled",
        "legal_accepted_at",
    ] {
        assert!(has(user, path), "user.{path}");
    }
    let email = &user["email_addresses"][0];
    assert_eq!(email["matches_sso_connection"], false);
    assert!(has(email, "verification.error") && has(email, "verification.verified_at_client"), "{email}");

    // A sign-up, as clerk-js's `SignUp` reads it: `has_password` (not the user's
    // `password_enabled`), every identifier field, and the verification's next step.
    let mut c = Browser::new(&app);
    let (status, body) = c
        .post("/v1/client/sign_ups", &[("email_address", "new@example.com"), ("password", "violet-Kestrel-4417-orbit")])
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let id = body["response"]["id"].as_str().unwrap().to_owned();
    let (status, body) =
        c.post(&format!("/v1/client/sign_ups/{id}/prepare_verification"), &[("strategy", "email_code")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let sign_up = &body["response"];
    assert_eq!(sign_up["has_password"], true);
    assert!(sign_up.get("password_enabled").is_none());
    for path in ["username", "phone_number", "web3_wallet", "legal_accepted_at", "locale", "external_account_strategy"]
    {
        assert!(has(sign_up, path), "sign_up.{path}");
    }
    let verification = &sign_up["verifications"]["email_address"];
    assert_eq!(verification["status"], "unverified");
    assert_eq!(verification["next_action"], "needs_attempt");
    assert_eq!(verification["supported_strategies"], serde_json::json!(["email_code", "email_link"]));
}

#[tokio::test]
async fn clerk_session_id_names_the_acting_session_and_must_be_the_clients() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    app.create_user("bob@example.com").await;
    let mut ada = Browser::new(&app);
    let (_, body) = ada.sign_in("ada@example.com", "correct horse battery").await;
    let ada_session = Browser::session_id(&body);
    let mut bob = Browser::new(&app);
    let (_, body) = bob.sign_in("bob@example.com", "correct horse battery").await;
    let bob_session = Browser::session_id(&body);

    // Its own session: the request acts as it.
    let (status, me) = ada.get(&format!("/v1/me?{CLERK_JS}&_clerk_session_id={ada_session}")).await;
    assert_eq!(status, StatusCode::OK, "{me}");
    assert_eq!(me["response"]["email_addresses"][0]["email_address"], "ada@example.com");
    // Another client's session (a valid, live one) or one that does not exist: refused, never
    // used — neither as that session nor silently as the browser's own.
    for other in [bob_session.as_str(), "sess_nosuchsession"] {
        let (status, body) = ada.get(&format!("/v1/me?{CLERK_JS}&_clerk_session_id={other}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}: {body}");
        assert_eq!(body["errors"][0]["code"], "resource_not_found", "{body}");
        let (status, _) = ada.post(&format!("/v1/organizations?_clerk_session_id={other}"), &[("name", "Evil")]).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{other}");
    }
    let (_, memberships) = app.get("/v1/organization_memberships?limit=10").await;
    assert_eq!(memberships["total_count"], 0, "nothing was created as anyone: {memberships}");
    // Empty means "not given", as clerk-js never sends it so.
    let (status, _) = ada.get("/v1/me?_clerk_session_id=").await;
    assert_eq!(status, StatusCode::OK);

    // Its own session once ended: signed out, as without the parameter.
    let (status, _) = ada.post(&format!("/v1/client/sessions/{ada_session}/end"), &[]).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = ada.get(&format!("/v1/me?_clerk_session_id={ada_session}")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
}

#[tokio::test]
async fn organization_switcher_calls_create_and_switch_with_clerk_js_conventions() {
    let app = app().await;
    app.create_user("ada@example.com").await;
    let mut b = Browser::new(&app);
    let (_, body) = b.sign_in("ada@example.com", "correct horse battery").await;
    let session = Browser::session_id(&body);
    let q = format!("{CLERK_JS}&_clerk_session_id={session}");
    // What <OrganizationSwitcher/> loads when it opens.
    for path in ["organization_memberships", "organization_invitations", "organization_suggestions"] {
        let (status, list) = b.get(&format!("/v1/me/{path}?limit=10&offset=0&paginated=true&{q}")).await;
        assert_eq!(status, StatusCode::OK, "{path}: {list}");
        assert_eq!(list["response"]["total_count"], 0, "{path}");
    }
    // "Create organization".
    let (status, body) = b.post(&format!("/v1/organizations?{q}"), &[("name", "Acme Rockets")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let org = &body["response"];
    let org_id = org["id"].as_str().unwrap().to_owned();
    assert_eq!((org["object"].as_str(), org["slug"].as_str()), (Some("organization"), Some("acme-rockets")));
    for path in ["image_url", "has_image", "public_metadata", "admin_delete_enabled", "max_allowed_memberships"] {
        assert!(has(org, path), "organization.{path}");
    }
    assert!(org.get("private_metadata").is_none());
    // The creator's membership is in the client's user, as clerk-js finds the active one there.
    let membership = &body["client"]["sessions"][0]["user"]["organization_memberships"][0];
    assert_eq!(membership["organization"]["id"], org_id.as_str());
    assert_eq!(membership["role"], "org:admin");
    for path in
        ["role_name", "permissions", "public_metadata", "public_user_data.identifier", "public_user_data.user_id"]
    {
        assert!(has(membership, path), "membership.{path}");
    }
    // `setActive({organization})`: the touch with `active_organization_id`; the token says so.
    let (status, body) =
        b.post(&format!("/v1/client/sessions/{session}/touch?{q}"), &[("active_organization_id", &org_id)]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["last_active_organization_id"], org_id.as_str());
    let (_, claims) = crate::helpers::decode(body["response"]["last_active_token"]["jwt"].as_str().unwrap());
    assert_eq!(claims["o"]["id"], org_id.as_str(), "{claims}");
    // Back to the personal account: clerk-js sends the field empty.
    let (status, body) =
        b.post(&format!("/v1/client/sessions/{session}/touch?{q}"), &[("active_organization_id", "")]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["response"]["last_active_organization_id"], Value::Null);
    let (_, claims) = crate::helpers::decode(body["response"]["last_active_token"]["jwt"].as_str().unwrap());
    assert!(claims.get("o").is_none() && claims.get("org_id").is_none(), "{claims}");
}
