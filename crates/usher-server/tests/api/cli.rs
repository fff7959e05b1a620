//! The command line: `serve` refuses bad configs; `jwt-public-key` prints the verifying key.

use std::process::Command;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};

fn usher() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_usher"));
    for var in ["USHER_SECRET_KEY", "USHER_DATABASE_URL", "USHER_LISTEN", "USHER_PUBLIC_URL"] {
        command.env_remove(var);
    }
    command
}

#[test]
fn serve_refuses_to_start_with_missing_or_unsafe_settings() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("usher.toml");
    std::fs::write(&config, "public_url = \"http://auth.example.com\"\n").unwrap();
    let output =
        usher().args(["serve", "--config"]).arg(&config).env("USHER_SECRET_KEY", "sk_live_weak").output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    for needle in ["refusing to start", "database_url", "https", "secret key"] {
        assert!(stderr.contains(needle), "{needle} not in: {stderr}");
    }
    std::fs::write(&config, "databse_url = \"sqlite:///x\"\n").unwrap();
    let output = usher().args(["serve", "--config"]).arg(&config).output().unwrap();
    assert!(String::from_utf8_lossy(&output.stderr).contains("unknown field"), "typos are reported");
}

#[tokio::test]
async fn serve_runs_with_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("usher.toml");
    let db = dir.path().join("prod.db");
    std::fs::write(
        &config,
        format!("version = 1\nlisten = \"127.0.0.1:0\"\ndatabase_url = \"sqlite://{}\"\npublic_url = \"https://auth.example.com\"\n\
             smtp_url = \"smtp://127.0.0.1:2525\"\nsmtp_from = \"auth@example.com\"\n", db.display()),
    )
    .unwrap();
    let mut child = usher()
        .args(["serve", "--config"])
        .arg(&config)
        .env("USHER_SECRET_KEY", "sk_live_0123456789abcdefghij0123456789abcdefghij")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_owned();
    assert!(line.contains("listening on"), "{line}");
    let health = reqwest::get(format!("{url}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn jwt_public_key_prints_the_pem_of_the_published_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = usher().args(["jwt-public-key", "--data-dir"]).arg(dir.path()).output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pem_text = String::from_utf8(output.stdout).unwrap();
    let pem = pem::parse(&pem_text).unwrap();
    assert_eq!(pem.tag(), "PUBLIC KEY");
    // The same data directory's key, read through the store, must be the one in the PEM.
    let rt = tokio::runtime::Runtime::new().unwrap();
    let jwks = rt.block_on(async {
        let store = usher_server::store::SqlStore::open_sqlite(&dir.path().join("usher.db")).await.unwrap();
        let secret = std::fs::read_to_string(dir.path().join("secret_key")).unwrap();
        let sealer = usher_server::seal::Sealer::new(secret.trim(), usher_server::tokens::keys::SEAL_PURPOSE);
        let ring = usher_server::tokens::keys::KeyRing::load(&store, 0, sealer).await.unwrap();
        ring.jwks()
    });
    let modulus = URL_SAFE_NO_PAD.decode(&jwks.keys[0].n).unwrap();
    assert!(pem.contents().windows(modulus.len()).any(|w| w == modulus.as_slice()), "the PEM holds the JWKS modulus");
}

#[tokio::test]
async fn dev_on_postgres_creates_a_data_dir_that_does_not_exist() {
    if crate::helpers::skip_postgres() {
        return;
    }
    let db = crate::helpers::TestDb::new(crate::helpers::Db::Postgres).await;
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("not").join("there");
    let mut child = usher()
        .args(["dev", "--listen", "127.0.0.1:0", "--database-url", &db.url, "--data-dir"])
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().unwrap()));
    let started = lines.map_while(Result::ok).find(|l| l.contains("listening on"));
    let _ = child.kill();
    let output = child.wait_with_output().unwrap();
    assert!(started.is_some(), "usher dev did not start: {}", String::from_utf8_lossy(&output.stderr));
    let key = std::fs::read_to_string(data_dir.join("secret_key")).unwrap();
    assert!(key.trim().starts_with("sk_test_"), "the development key is kept in the new directory");
}

#[test]
fn webhook_endpoints_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        let output = usher().args(["webhooks", "--data-dir"]).arg(dir.path()).args(args).output().unwrap();
        assert!(output.status.success(), "{args:?}: {}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8(output.stdout).unwrap()
    };
    let added = run(&["add", "https://hooks.example.com/x", "--events", "user.created,user.updated"]);
    let (id, secret) = added.trim().split_once(' ').unwrap();
    assert!(id.starts_with("ep_") && secret.starts_with("whsec_"), "{added}");
    let list = run(&["list"]);
    assert!(list.contains(&format!("{id} enabled https://hooks.example.com/x user.created,user.updated")), "{list}");
    let rotated = run(&["rotate-secret", id]);
    assert!(rotated.starts_with(id) && !rotated.contains(secret), "{rotated}");
    let refused =
        usher().args(["webhooks", "--data-dir"]).arg(dir.path()).args(["add", "http://127.0.0.1:9/"]).output().unwrap();
    assert!(!refused.status.success(), "private addresses need --allow-private-addresses");
    run(&["add", "http://127.0.0.1:9/", "--allow-private-addresses"]);
    let missing =
        usher().args(["webhooks", "--data-dir"]).arg(dir.path()).args(["replay", "msg_nope"]).output().unwrap();
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no webhook message"));
}

#[tokio::test]
async fn admins_are_granted_listed_and_removed_by_email_and_the_audit_log_exports_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap().to_owned();
    let store = usher_server::store::SqlStore::open_sqlite(&dir.path().join("usher.db")).await.unwrap();
    let mut user = crate::contract::user("user_cli", "Ops@Example.com", 1);
    user.username = None;
    usher_server::store::UserStore::create_user(&store, &user).await.unwrap();
    store.close().await;
    let run = |args: &[&str]| {
        let output = usher().arg(args[0]).args(["--data-dir", &data]).args(&args[1..]).output().unwrap();
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["admins", "add", "ops@example.com"]);
    assert!(ok, "{err}");
    assert!(out.contains("user_cli") && out.contains("is now an instance admin"), "{out}");
    let (_, out, _) = run(&["admins", "list"]);
    assert_eq!(out.trim(), "user_cli\tOps@Example.com");
    let (ok, _, err) = run(&["admins", "add", "nobody@example.com"]);
    assert!(!ok && err.contains("no user has the email address"), "{err}");
    assert!(run(&["admins", "remove", "ops@example.com"]).0);
    assert!(!run(&["admins", "remove", "ops@example.com"]).0, "not an admin any more");
    let (ok, out, err) = run(&["audit", "export"]);
    assert!(ok, "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let actions: Vec<&str> = lines.iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["admin.granted", "admin.revoked"]);
    assert!(lines.iter().all(|l| l["actor_type"] == "system" && l["subject_id"] == "user_cli"));
}
