//! Social / OpenID Connect sign-in: configuration, the environment's `user_settings.social`.

use std::process::Command;

use usher_server::config::{
    Secret,
    oauth::{FileProvider, validate_all},
};

use crate::helpers::{Db, spawn_app_with};

fn provider(spec: &str) -> usher_server::config::oauth::OAuthProvider {
    let mut entry = FileProvider::parse_spec(spec).unwrap();
    entry.client_secret = Some(Secret::new("test-client-secret"));
    validate_all(vec![entry], true).unwrap().remove(0)
}

#[tokio::test]
async fn the_environment_lists_the_enabled_providers_as_clerk_does() {
    let app = spawn_app_with(Db::Sqlite, |c| {
        c.oauth_providers = vec![
            provider("strategy=oauth_github,client_id=gh"),
            provider("strategy=oauth_custom_corp,client_id=c,issuer=http://127.0.0.1:9,name=Corp ID"),
        ];
    })
    .await;
    let env: serde_json::Value =
        app.http.get(format!("{}/v1/environment", app.url)).send().await.unwrap().json().await.unwrap();
    let social = &env["user_settings"]["social"];
    assert_eq!(social["oauth_github"]["strategy"], "oauth_github");
    assert_eq!(social["oauth_github"]["name"], "GitHub");
    assert_eq!(social["oauth_github"]["enabled"], true);
    assert_eq!(social["oauth_github"]["authenticatable"], true);
    assert_eq!(social["oauth_custom_corp"]["name"], "Corp ID");
    assert_eq!(social.as_object().unwrap().len(), 2);
    assert!(!env.to_string().contains("test-client-secret"));
}

#[test]
fn dev_refuses_an_unknown_strategy_a_missing_secret_and_a_remote_http_issuer() {
    let run = |spec: &str, secret: Option<&str>| {
        let dir = tempfile::tempdir().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_usher"));
        command.args(["dev", "--listen", "127.0.0.1:0", "--data-dir"]).arg(dir.path()).args(["--oauth-provider", spec]);
        command.env_remove("USHER_SECRET_KEY").env_remove("USHER_DATABASE_URL").env_remove("USHER_OAUTH_PROVIDERS");
        command.env_remove("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET");
        if let Some(s) = secret {
            command.env("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET", s);
        }
        let output = command.output().unwrap();
        assert!(!output.status.success());
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    assert!(run("strategy=oauth_myspace,client_id=x", None).contains("unknown strategy"));
    assert!(
        run("strategy=oauth_custom_t,client_id=x,issuer=http://127.0.0.1:9", None)
            .contains("USHER_OAUTH_CUSTOM_T_CLIENT_SECRET")
    );
    let remote = run("strategy=oauth_custom_t,client_id=x,issuer=http://id.example.com", Some("shh-value"));
    assert!(remote.contains("https") && !remote.contains("shh-value"), "{remote}");
}
