//! The admin console (`/admin`), the audit log and actor tokens, driven over real HTTP: the
//! console like a browser without scripts, the Backend API with the secret key.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::{
    helpers::{Db, TestApp, decode, spawn_app_with},
    pages::{Browser, PASSWORD, app, redeem},
};

/// The audit log's entries (newest first) matching `query`.
pub(crate) async fn audit(app: &TestApp, query: &str) -> Vec<Value> {
    let (status, page) = app.get(&format!("/v1/audit_log?limit=500&{query}")).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["data"].as_array().unwrap().clone()
}

/// A user made an instance admin through the Backend API, signed in on the hosted page.
pub(crate) async fn signed_in_admin<'a>(app: &'a TestApp, email: &str) -> (String, Browser<'a>) {
    let user = app.create_user(email).await;
    let id = user["id"].as_str().unwrap().to_owned();
    let (status, granted) = app.post("/v1/instance_admins", json!({"user_id": id})).await;
    assert_eq!((status, granted["user_id"].as_str()), (StatusCode::OK, Some(id.as_str())), "{granted}");
    let b = Browser::new(app);
    let answer = b.sign_in(email, Some("/admin")).await;
    assert_eq!((answer.status, answer.location()), (StatusCode::SEE_OTHER, "/admin"), "{}", answer.body);
    (id, b)
}

/// The `(methods, path)` of every `.route(…)` in the console's source files (every file of
/// `src/pages/admin/`), so a route or a screen added there is covered here without anyone
/// remembering to list it.
fn console_routes() -> Vec<(Vec<&'static str>, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages/admin");
    let mut text = String::new();
    for file in std::fs::read_dir(&dir).unwrap() {
        let path = file.unwrap().path();
        if path.extension().is_some_and(|e| e == "rs") {
            text.push_str(&std::fs::read_to_string(&path).unwrap());
        }
    }
    let mut routes = Vec::new();
    for (start, _) in text.match_indices(".route(\"") {
        let call = &text[start + ".route(\"".len()..];
        let path = &call[..call.find('"').unwrap()];
        let rest = &call[..call.find('\n').unwrap()];
        let mut methods = Vec::new();
        if rest.contains("get(") {
            methods.push("GET");
        }
        if rest.contains("post(") {
            methods.push("POST");
        }
        assert!(!methods.is_empty(), "{rest}");
        let concrete = path.split('/').map(|seg| if seg.starts_with('{') { "user_x" } else { seg }).collect::<Vec<_>>();
        routes.push((methods, concrete.join("/")));
    }
    assert!(routes.len() >= 10, "the console's routes were found: {routes:?}");
    routes
}

#[tokio::test]
async fn every_console_route_refuses_anyone_but_an_instance_admin() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    app.create_user("plain@example.com").await;
    let plain = Browser::new(&app);
    assert_eq!(plain.sign_in("plain@example.com", None).await.status, StatusCode::SEE_OTHER);
    let signed_out = Browser::new(&app);
    let csrf = admin.get("/admin/users/new").await.input("csrf").expect("the admin's forms carry a token");
    for (methods, path) in console_routes() {
        for method in methods {
            let answer = match method {
                "GET" => plain.get(&path).await,
                _ => plain.post(&path, &[("csrf", csrf.as_str())]).await,
            };
            assert_eq!(answer.status, StatusCode::FORBIDDEN, "{method} {path}: {}", answer.body);
            assert!(answer.body.contains("Only instance admins"), "{method} {path}");
            let answer = match method {
                "GET" => signed_out.get(&path).await,
                _ => signed_out.post(&path, &[]).await,
            };
            assert_eq!(answer.status, StatusCode::SEE_OTHER, "{method} {path} signed out");
            assert_eq!(answer.location(), "/sign-in?redirect_url=%2Fadmin");
        }
    }
    let denied = audit(&app, "action=admin.denied").await;
    assert!(!denied.is_empty() && denied.iter().all(|e| e["outcome"] == "failure"));
    // The admin gets in.
    let page = admin.get("/admin/users").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
}

#[tokio::test]
async fn console_posts_need_the_session_token_and_the_own_origin() {
    let app = app().await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let target = app.create_user("target@example.com").await;
    let id = target["id"].as_str().unwrap();
    let ban = format!("/admin/users/{id}/ban");
    let refused = admin.post(&ban, &[]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("no longer valid"));
    let forged = admin.post(&ban, &[("csrf", "forged")]).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let csrf = admin.get("/admin/users/new").await.input("csrf").unwrap();
    let foreign = admin.post_from(&ban, &[("csrf", csrf.as_str())], "https://evil.example").await;
    assert_eq!(foreign.status, StatusCode::FORBIDDEN);
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(user["banned"], false, "nothing was done");
    // Another admin session's token is not this one's.
    let (_, other) = signed_in_admin(&app, "other.admin@example.com").await;
    let other_csrf = other.get("/admin/users/new").await.input("csrf").unwrap();
    assert_ne!(other_csrf, csrf);
    assert_eq!(admin.post(&ban, &[("csrf", other_csrf.as_str())]).await.status, StatusCode::FORBIDDEN);
    let done = admin.post(&ban, &[("csrf", csrf.as_str())]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
}

#[tokio::test]
async fn an_admin_finds_bans_edits_and_impersonates_a_user_and_the_audit_log_shows_it() {
    let app = app().await;
    let (admin_id, admin) = signed_in_admin(&app, "admin@example.com").await;
    let target = app.create_user("jane.target@example.com").await;
    let id = target["id"].as_str().unwrap().to_owned();
    app.create_user("someone.else@example.com").await;
    let victim = Browser::new(&app);
    assert_eq!(victim.sign_in("jane.target@example.com", None).await.status, StatusCode::SEE_OTHER);

    // Search by part of the email, and the filters.
    let found = admin.get("/admin/users?q=e.targ").await;
    assert_eq!(found.status, StatusCode::OK);
    assert!(
        found.body.contains(&format!("/admin/users/{id}")) && !found.body.contains("someone.else"),
        "{}",
        found.body
    );
    let banned = admin.get("/admin/users?banned=yes").await;
    assert!(!banned.body.contains("jane.target"));
    let bad = admin.get("/admin/users?created_from=yesterday").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let page = admin.get(&format!("/admin/users/{id}")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("jane.target@example.com") && page.body.contains("sign_in.succeeded"), "history");
    let csrf = page.input("csrf").unwrap();
    let post = |path: String, extra: Vec<(&'static str, String)>| {
        let mut form = vec![("csrf", csrf.clone())];
        form.extend(extra);
        let admin = &admin;
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            admin.post(&path, &form).await
        }
    };

    // Metadata as JSON, checked.
    let invalid = post(format!("/admin/users/{id}/metadata"), vec![("public_metadata", "{not json".into())]).await;
    assert_eq!(invalid.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", invalid.body);
    assert!(invalid.body.contains("public_metadata is not valid JSON"));
    let array = post(format!("/admin/users/{id}/metadata"), vec![("public_metadata", "[1]".into())]).await;
    assert_eq!(array.status, StatusCode::UNPROCESSABLE_ENTITY);
    let saved = post(
        format!("/admin/users/{id}/metadata"),
        vec![("public_metadata", r#"{"plan":"pro"}"#.into()), ("private_metadata", "".into())],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let (_, user) = app.get(&format!("/v1/users/{id}")).await;
    assert_eq!(user["public_metadata"], json!({"plan": "pro"}));

    // Sign in as the user: a link for another browser, whose session carries `act`.
    let shown = post(format!("/admin/users/{id}/impersonate"), vec![]).await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);
    let href = shown.body.split("id=\"impersonation-link\" href=\"").nth(1).unwrap().split('"').next().unwrap();
    let href = href.replace("&amp;", "&");
    let path = &href[href.find("/sign-in").unwrap()..];
    let support = Browser::new(&app);
    let signed = redeem(&support, path).await;
    assert_eq!(signed.status, StatusCode::SEE_OTHER, "{}", signed.body);
    let (_, claims) = decode(&support.cookie("__session").unwrap());
    assert_eq!((claims["sub"].as_str(), &claims["act"]), (Some(id.as_str()), &json!({"sub": admin_id})));
    // An impersonation session never enters the console, even as an admin's account.
    assert_eq!(support.get("/admin/users").await.status, StatusCode::FORBIDDEN);
    let marked = admin.get(&format!("/admin/users/{id}")).await;
    assert!(marked.body.contains(&format!("impersonated by {admin_id}")), "the session is marked");

    // Revoke one session, then ban: signed out everywhere, and sign-in refused.
    let sessions_before = app.get(&format!("/v1/sessions?user_id={id}&status=active")).await.1;
    let victim_session = sessions_before.as_array().unwrap().iter().find(|s| s["actor"].is_null()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let revoked = post(format!("/admin/users/{id}/sessions/{victim_session}/revoke"), vec![]).await;
    assert_eq!(revoked.status, StatusCode::SEE_OTHER, "{}", revoked.body);
    assert_eq!(victim.get("/user").await.status, StatusCode::SEE_OTHER, "the revoked browser is signed out");
    let not_theirs = post(format!("/admin/users/{id}/sessions/sess_nope/revoke"), vec![]).await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND);
    assert_eq!(post(format!("/admin/users/{id}/ban"), vec![]).await.status, StatusCode::SEE_OTHER);
    assert_eq!(support.get("/user").await.status, StatusCode::SEE_OTHER, "bans end every session");
    let again = Browser::new(&app).sign_in("jane.target@example.com", None).await;
    assert_eq!(again.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", again.body);

    // Delete takes the id typed again.
    let unconfirmed = post(format!("/admin/users/{id}/delete"), vec![("confirm", "yes".into())]).await;
    assert_eq!(unconfirmed.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Every action is in the log, by the admin, and the console's audit view shows them.
    let by_admin = audit(&app, &format!("actor_id={admin_id}")).await;
    let actions: Vec<&str> = by_admin.iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["user.banned", "session.revoked", "actor_token.created", "user.metadata_updated"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(by_admin.iter().filter(|e| e["action"] != "sign_in.succeeded").all(|e| e["actor_type"] == "admin"));
    let started = audit(&app, &format!("action=impersonation.started&subject_id={id}")).await;
    assert_eq!(started.len(), 1);
    assert_eq!(
        (started[0]["actor_id"].as_str(), started[0]["impersonator_id"].as_str()),
        (Some(id.as_str()), Some(admin_id.as_str()))
    );
    let failed = audit(&app, &format!("action=sign_in.failed&subject_id={id}")).await;
    assert_eq!(failed[0]["reason"], "user_banned");
    let view = admin.get(&format!("/admin/audit?subject_id={id}&action=user.banned")).await;
    assert_eq!(view.status, StatusCode::OK);
    assert!(view.body.contains("user.banned") && view.body.contains("1 entries"), "{}", view.body);
    // Signing keys: a rotation adds a published key and keeps the old one.
    let before = app.jwks().await["keys"].as_array().unwrap().len();
    let rotated = post("/admin/keys/rotate".to_owned(), vec![]).await;
    assert_eq!(
        (rotated.status, rotated.location()),
        (StatusCode::SEE_OTHER, "/admin/keys?done=rotated"),
        "{}",
        rotated.body
    );
    assert_eq!(app.jwks().await["keys"].as_array().unwrap().len(), before + 1);
    let keys = admin.get("/admin/keys").await;
    assert!(keys.body.contains(&format!("{} published keys", before + 1)), "{}", keys.body);
    assert_eq!(audit(&app, "action=signing_key.rotated").await.len(), 1);
    let created = post("/admin/users".to_owned(), vec![("email_address", "made.here@example.com".into())]).await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    assert_eq!(audit(&app, "action=user.created").await.len(), 1);
}

#[tokio::test]
async fn security_events_and_backend_writes_are_recorded_without_secrets() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.frontend_rate_limits = false;
        c.lockout_attempts = 2;
    })
    .await;
    let user = app.create_user("events@example.com").await;
    let id = user["id"].as_str().unwrap().to_owned();
    let b = Browser::new(&app);
    let wrong = "wrong password 123";
    // The log is ordered by time: each step happens a moment after the one before.
    let tick = || app.clock.advance_ms(10);
    b.post("/sign-in", &[("identifier", "events@example.com"), ("password", wrong)]).await;
    tick();
    b.post("/sign-in", &[("identifier", "nobody@example.com"), ("password", wrong)]).await;
    tick();
    let failed = audit(&app, "action=sign_in.failed").await;
    let reasons: Vec<&str> = failed.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["identifier_not_found", "form_password_incorrect"]);
    assert_eq!(failed[1]["subject_id"], id.as_str());
    assert_eq!(failed[1]["client_ip"], "127.0.0.1");
    b.post("/sign-in", &[("identifier", "events@example.com"), ("password", wrong)]).await;
    assert_eq!(audit(&app, &format!("action=user.locked&subject_id={id}")).await.len(), 1, "the second failure locks");
    let (status, _) = app.post(&format!("/v1/users/{id}/unlock"), json!({})).await;
    assert_eq!(status, StatusCode::OK);
    let unlocked = audit(&app, "action=user.unlocked").await;
    assert_eq!(
        (unlocked[0]["actor_type"].as_str(), unlocked[0]["subject_id"].as_str()),
        (Some("secret_key"), Some(id.as_str()))
    );
    assert_eq!(b.sign_in("events@example.com", None).await.status, StatusCode::SEE_OTHER);
    assert_eq!(audit(&app, "action=sign_in.succeeded").await[0]["detail"], "password");

    // A write with no named event of its own is recorded as what it was.
    tick();
    let (status, _) = app.patch(&format!("/v1/users/{id}"), json!({"first_name": "Eve"})).await;
    assert_eq!(status, StatusCode::OK);
    tick();
    let (status, _) = app.patch("/v1/users/user_missing", json!({"first_name": "Eve"})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let writes = audit(&app, "action=backend.write").await;
    assert_eq!(writes[0]["detail"], "PATCH /v1/users/{id}");
    assert_eq!((writes[0]["outcome"].as_str(), writes[0]["reason"].as_str()), (Some("failure"), Some("404")));
    assert_eq!((writes[1]["subject_id"].as_str(), writes[1]["outcome"].as_str()), (Some(id.as_str()), Some("success")));
    // A created record is the subject of its write.
    tick();
    let other = app.create_user("created@example.com").await;
    assert_eq!(audit(&app, "action=backend.write").await[0]["subject_id"], other["id"]);
    // Reads are not writes; unauthenticated calls are not recorded.
    let before = audit(&app, "").await.len();
    app.get("/v1/users").await;
    app.http.post(format!("{}/v1/users", app.url)).json(&json!({})).send().await.unwrap();
    assert_eq!(audit(&app, "").await.len(), before);

    // A password set by the Backend API is a password change, and no password is ever logged.
    let (status, _) = app.patch(&format!("/v1/users/{id}"), json!({"password": "another good one 42"})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(audit(&app, "action=password.changed").await.len(), 1);
    let (status, export) = app.get("/v1/audit_log/export").await;
    assert_eq!(status, StatusCode::OK);
    let text = export.as_str().unwrap();
    let lines: Vec<Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), audit(&app, "").await.len());
    assert!(lines.windows(2).all(|w| w[0]["created_at"].as_i64() <= w[1]["created_at"].as_i64()), "oldest first");
    for secret in [wrong, PASSWORD, "another good one 42"] {
        assert!(!text.contains(secret), "{secret} is in the log");
    }

    // Bad filters are a client's mistake.
    let (status, body) = app.get("/v1/audit_log?action=nope").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["errors"][0]["meta"]["param_name"], "action");
    assert_eq!(app.get("/v1/audit_log?limit=0").await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, page) = app.get("/v1/audit_log?limit=2&offset=1").await;
    assert_eq!(page["data"].as_array().unwrap().len(), 2);
    assert_eq!(page["total_count"].as_i64().unwrap() as usize, lines.len());
}

#[tokio::test]
async fn actor_tokens_sign_in_once_with_the_act_claim_and_can_be_revoked() {
    let app = app().await;
    let user = app.create_user("acted.on@example.com").await;
    let id = user["id"].as_str().unwrap();
    let (status, bad) = app.post("/v1/actor_tokens", json!({"user_id": id, "actor": {"name": "x"}})).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["errors"][0]["meta"]["param_name"], "actor");
    let (status, missing) =
        app.post("/v1/actor_tokens", json!({"user_id": "user_nope", "actor": {"sub": "user_s"}})).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{missing}");

    let (status, token) = app
        .post("/v1/actor_tokens", json!({"user_id": id, "actor": {"sub": "user_support"}, "expires_in_seconds": 600}))
        .await;
    assert_eq!(status, StatusCode::OK, "{token}");
    assert_eq!((token["object"].as_str(), token["status"].as_str()), (Some("actor_token"), Some("pending")));
    assert_eq!(token["actor"], json!({"sub": "user_support"}));
    assert!(token["token"].is_string() && token["id"].as_str().unwrap().starts_with("act_"));
    let url = token["url"].as_str().unwrap();
    let b = Browser::new(&app);
    assert_eq!(redeem(&b, &url[url.find("/sign-in").unwrap()..]).await.status, StatusCode::SEE_OTHER);
    let (_, claims) = decode(&b.cookie("__session").unwrap());
    assert_eq!(claims["act"], json!({"sub": "user_support"}));
    let (_, sessions) = app.get(&format!("/v1/sessions?user_id={id}")).await;
    let session = &sessions.as_array().unwrap()[0];
    assert_eq!(session["actor"], json!({"sub": "user_support"}));
    let lifetime = session["expire_at"].as_i64().unwrap() - session["created_at"].as_i64().unwrap();
    assert!(lifetime <= 1800 * 1000, "an impersonation session lasts at most 30 minutes by default");

    let (_, second) = app.post("/v1/actor_tokens", json!({"user_id": id, "actor": {"sub": "user_support"}})).await;
    let revoke = format!("/v1/actor_tokens/{}/revoke", second["id"].as_str().unwrap());
    let (status, revoked) = app.post(&revoke, json!({})).await;
    assert_eq!((status, revoked["status"].as_str()), (StatusCode::OK, Some("revoked")), "{revoked}");
    assert!(revoked["token"].is_null());
    let url = second["url"].as_str().unwrap();
    let refused = redeem(&Browser::new(&app), &url[url.find("/sign-in").unwrap()..]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    // Sign-in tokens are not actor tokens.
    let (_, sit) = app.post("/v1/sign_in_tokens", json!({"user_id": id})).await;
    let (status, _) = app.post(&format!("/v1/actor_tokens/{}/revoke", sit["id"].as_str().unwrap()), json!({})).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn instance_admins_through_the_backend_api() {
    let app = app().await;
    let user = app.create_user("grant.me@example.com").await;
    let id = user["id"].as_str().unwrap();
    assert_eq!(app.post("/v1/instance_admins", json!({"user_id": "user_nope"})).await.0, StatusCode::NOT_FOUND);
    assert_eq!(app.post("/v1/instance_admins", json!({"user_id": id})).await.0, StatusCode::OK);
    let (_, list) = app.get("/v1/instance_admins").await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["user_id"], id);
    let (status, deleted) = app.call(reqwest::Method::DELETE, &format!("/v1/instance_admins/{id}"), None).await;
    assert_eq!((status, deleted["deleted"].as_bool()), (StatusCode::OK, Some(true)), "{deleted}");
    assert_eq!(
        app.call(reqwest::Method::DELETE, &format!("/v1/instance_admins/{id}"), None).await.0,
        StatusCode::NOT_FOUND
    );
    let granted = audit(&app, &format!("subject_id={id}&action=admin.granted&action=admin.revoked")).await;
    assert_eq!(granted.len(), 2, "granted and revoked, each with its change: {granted:?}");
    // The refused second revoke changed nothing: it is the Backend API's failed write.
    let refused = audit(&app, "action=backend.write&outcome=failure").await;
    let refused: Vec<_> = refused.iter().filter(|e| e["detail"] == "DELETE /v1/instance_admins/{user_id}").collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0]["reason"], "404");
}
