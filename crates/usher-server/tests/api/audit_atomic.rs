//! An audited write and its audit-log entry commit together or not at all: with a trigger that
//! refuses every insert into `audit_log`, each write answers a 5xx and changes nothing; without
//! it, the same writes succeed with exactly one entry each. Over real HTTP, on both databases.

use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::{AnyPool, Executor as _};

use crate::{
    admin::{audit, signed_in_admin},
    helpers::{Db, TestApp, skip_postgres, spawn_app_with},
    pages::Browser,
};

/// Makes every insert into `audit_log` fail (`true`) or work again (`false`).
async fn refuse_audit(app: &TestApp, db: Db, refuse: bool) {
    sqlx::any::install_default_drivers();
    let pool = AnyPool::connect(app.database_url()).await.expect("connect");
    let sql = match (db, refuse) {
        (Db::Sqlite, true) => {
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log BEGIN SELECT RAISE(ABORT, 'audit refused'); END;"
        }
        (Db::Postgres, true) => {
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'audit refused'; END $$ \
             LANGUAGE plpgsql; \
             CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION refuse_audit();"
        }
        (Db::Sqlite, false) => "DROP TRIGGER refuse_audit;",
        (Db::Postgres, false) => "DROP TRIGGER refuse_audit ON audit_log; DROP FUNCTION refuse_audit();",
    };
    pool.execute(sql).await.expect("trigger");
    pool.close().await;
}

/// A Backend API answer to a write whose audit entry could not be written: a 500 in Clerk's
/// error format that says nothing of the cause.
fn assert_refused(what: &str, (status, body): &(StatusCode, Value)) {
    assert_eq!(*status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {body}");
    assert_eq!(body["errors"][0]["code"], "internal_clerk_error", "{what}: {body}");
    assert!(!body.to_string().contains("audit"), "{what} leaks the cause: {body}");
}

/// What the representative writes act on.
struct Fixture {
    user: String,
    session: String,
    organization: String,
    member: String,
}

impl Fixture {
    async fn new(app: &TestApp) -> Self {
        let user = app.create_user("target@example.com").await["id"].as_str().unwrap().to_owned();
        // Another user's session: the ban ends the target's own.
        let (_, session) = app.user_with_session("signed.in@example.com").await;
        let (status, org) = app.post("/v1/organizations", json!({"name": "Acme"})).await;
        assert_eq!(status, StatusCode::OK, "{org}");
        let member = app.create_user("member@example.com").await["id"].as_str().unwrap().to_owned();
        Self { user, session, organization: org["id"].as_str().unwrap().to_owned(), member }
    }

    /// Runs every write through the Backend API; `(what, answer)` per write.
    async fn write(&self, app: &TestApp) -> Vec<(&'static str, (StatusCode, Value))> {
        let org = &self.organization;
        vec![
            ("ban", app.post(&format!("/v1/users/{}/ban", self.user), json!({})).await),
            (
                "metadata",
                app.patch(&format!("/v1/users/{}/metadata", self.user), json!({"public_metadata": {"plan": "pro"}}))
                    .await,
            ),
            ("organization", app.post("/v1/organizations", json!({"name": "Globex", "slug": "globex"})).await),
            (
                "membership",
                app.post(
                    &format!("/v1/organizations/{org}/memberships"),
                    json!({"user_id": self.member, "role": "org:member"}),
                )
                .await,
            ),
            ("endpoint", app.post("/v1/webhooks/endpoints", json!({"url": "https://hooks.example.com/in"})).await),
            ("template", app.post("/v1/jwt_templates", json!({"name": "hasura", "claims": {"role": "user"}})).await),
            ("revoke", app.post(&format!("/v1/sessions/{}/revoke", self.session), json!({})).await),
        ]
    }

    /// Which of the writes are in the database.
    async fn applied(&self, app: &TestApp) -> Vec<&'static str> {
        let user = app.get(&format!("/v1/users/{}", self.user)).await.1;
        let orgs = app.get("/v1/organizations?query=globex").await.1;
        let members = app.get(&format!("/v1/organizations/{}/memberships", self.organization)).await.1;
        let endpoints = app.get("/v1/webhooks/endpoints").await.1;
        let templates = app.get("/v1/jwt_templates").await.1;
        let session = app.get(&format!("/v1/sessions/{}", self.session)).await.1;
        let has = |list: &Value, pred: &dyn Fn(&Value) -> bool| {
            let items = list.get("data").unwrap_or(list);
            items.as_array().is_some_and(|a| a.iter().any(pred))
        };
        [
            ("ban", user["banned"] == true),
            ("metadata", user["public_metadata"]["plan"] == "pro"),
            ("organization", has(&orgs, &|o| o["slug"] == "globex")),
            ("membership", has(&members, &|m| m["public_user_data"]["user_id"] == self.member.as_str())),
            ("endpoint", has(&endpoints, &|e| e["url"] == "https://hooks.example.com/in")),
            ("template", has(&templates, &|t| t["name"] == "hasura")),
            ("revoke", session["status"] == "revoked"),
        ]
        .into_iter()
        .filter_map(|(what, done)| done.then_some(what))
        .collect()
    }
}

async fn writes_and_their_entries_commit_together(db: Db) {
    let app = spawn_app_with(db, |c| c.frontend_rate_limits = false).await;
    let (_, admin) = signed_in_admin(&app, "admin@example.com").await;
    let fixture = Fixture::new(&app).await;
    let before: Vec<Value> = audit(&app, "").await.iter().map(|e| e["id"].clone()).collect();

    refuse_audit(&app, db, true).await;
    for (what, answer) in fixture.write(&app).await {
        assert_refused(what, &answer);
    }
    // The console too: its ban answers an error page and bans no one.
    let refused_ban = console_ban(&admin, &fixture.member).await;
    assert!(refused_ban.is_server_error(), "console ban: {refused_ban}");
    assert_eq!(fixture.applied(&app).await, Vec::<&str>::new(), "nothing is kept without its audit entry");
    let member = app.get(&format!("/v1/users/{}", fixture.member)).await.1;
    assert_eq!(member["banned"], false, "the console's ban was not kept");
    assert_eq!(audit(&app, "").await.len(), before.len());

    refuse_audit(&app, db, false).await;
    for (what, (status, body)) in fixture.write(&app).await {
        assert_eq!(status, StatusCode::OK, "{what}: {body}");
    }
    assert_eq!(console_ban(&admin, &fixture.member).await, StatusCode::SEE_OTHER);
    assert_eq!(fixture.applied(&app).await.len(), 7);
    // Entries of one millisecond have no order among themselves: the new ones are those whose
    // ids are new.
    let entries = audit(&app, "").await;
    let actions: Vec<&str> =
        entries.iter().filter(|e| !before.contains(&e["id"])).map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions.len(), 8, "one entry per write: {actions:?}");
    for action in [
        "user.banned",
        "user.metadata_updated",
        "organization.created",
        "organization_membership.created",
        "webhook_endpoint.created",
        "jwt_template.created",
        "session.revoked",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert_eq!(actions.iter().filter(|a| **a == "user.banned").count(), 2, "{actions:?}");
}

/// Bans `user_id` from the admin console; the answer's status.
async fn console_ban(admin: &Browser<'_>, user_id: &str) -> StatusCode {
    let csrf = admin.get("/admin/users/new").await.input("csrf").unwrap();
    admin.post(&format!("/admin/users/{user_id}/ban"), &[("csrf", csrf.as_str())]).await.status
}

#[tokio::test]
async fn writes_and_their_entries_commit_together_on_sqlite() {
    writes_and_their_entries_commit_together(Db::Sqlite).await;
}

#[tokio::test]
async fn writes_and_their_entries_commit_together_on_postgres() {
    if skip_postgres() {
        return;
    }
    writes_and_their_entries_commit_together(Db::Postgres).await;
}
