//! User list latency with 100,000 users on PostgreSQL (or as many as the first argument says:
//! `list_users 1000000`): through `GET /v1/users` the first page, deep pages in both orders, an
//! email filter, substring searches of terms in one user, in about 0.1 %, 0.6 % and 1 % of
//! them and in a fifth, and the counts; through the admin console (`GET /admin/users`, signed
//! in as an instance admin) its first page, searches and a deep page. The users are inserted
//! with SQL in one statement per table (creating them through the API would spend the run on
//! Argon2), with varied names and addresses (md5-derived local parts on five common domains,
//! `n % 5` picking the domain), so a trigram is not in every row as with `userN@…`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection as _, PgConnection};
use usher_bench::{load, ms, process_cpu, start_usher, try_process_cpu};

const PHASE: Duration = Duration::from_secs(8);

#[tokio::main]
async fn main() {
    let admin =
        std::env::var("USHER_BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("usher_bench_{}", std::process::id());
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
    let url = format!("{base}/{name}");
    let mut conn = PgConnection::connect(&admin).await.expect("PostgreSQL");
    // Databases left by an earlier run that was killed are dropped first.
    let stale: Vec<(String,)> = sqlx::query_as("SELECT datname FROM pg_database WHERE datname LIKE 'usher_bench_%'")
        .fetch_all(&mut conn)
        .await
        .expect("list databases");
    for (old,) in stale {
        sqlx::query(&format!("DROP DATABASE IF EXISTS {old} WITH (FORCE)"))
            .execute(&mut conn)
            .await
            .expect("drop stale");
    }
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");

    // Run the benchmark in its own task so that a panic in it still reaches the DROP below.
    let kept = url.clone();
    let outcome = tokio::spawn(async move { run(&url).await.map_err(|e| e.to_string()) }).await;
    // USHER_BENCH_KEEP_DATABASE=1 keeps the filled database for bench/user_statements.sh (the
    // next run drops it, as it drops any left behind).
    if std::env::var_os("USHER_BENCH_KEEP_DATABASE").is_some() && matches!(outcome, Ok(Ok(()))) {
        eprintln!("kept the database: {kept}");
        return;
    }
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop database");
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(e)) => panic!("benchmark failed: {e}"),
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}

/// How many users: the first argument, else 100,000.
fn users() -> i64 {
    std::env::args().nth(1).map_or(100_000, |n| n.replace('_', "").parse().expect("a number of users"))
}

async fn run(url: &str) -> Result<(), Box<dyn std::error::Error>> {
    let users = users();
    let usher = start_usher(&[("USHER_DATABASE_URL", url), ("USHER_BACKEND_RATE_LIMIT", "0")]);
    // usher has run its migrations; fill the tables directly.
    let mut db = PgConnection::connect(url).await?;
    let now: i64 = 1_790_000_000_000;
    let inserting = std::time::Instant::now();
    sqlx::query(
        "INSERT INTO users (id, first_name, last_name, username, username_lower, primary_email_address_id, created_at, updated_at) \
         SELECT 'user_bench' || n, initcap(substr(md5('f' || n), 1, 8)), initcap(substr(md5('l' || n), 1, 10)), \
         'name' || n, 'name' || n, 'idn_bench' || n, $1 + n, $1 + n \
         FROM generate_series(1, $2) AS n",
    )
    .bind(now)
    .bind(users)
    .execute(&mut db)
    .await?;
    sqlx::query(
        "INSERT INTO email_addresses (id, user_id, email_address, email_lower, verified, strategy, created_at, updated_at) \
         SELECT 'idn_bench' || n, 'user_bench' || n, e, e, 1, 'admin', $1 + n, $1 + n FROM ( \
           SELECT n, substr(md5('e' || n), 1, 12) || n || '@' || \
             (ARRAY['gmail.com', 'example.com', 'outlook.com', 'yahoo.com', 'company.io'])[n % 5 + 1] AS e \
           FROM generate_series(1, $2) AS n) AS g",
    )
    .bind(now)
    .bind(users)
    .execute(&mut db)
    .await?;
    eprintln!(
        "inserted {users} users with their emails (indexes included): {:.1} s",
        inserting.elapsed().as_secs_f64()
    );
    let filled = std::time::Instant::now();
    sqlx::query("VACUUM ANALYZE").execute(&mut db).await?;
    eprintln!("VACUUM ANALYZE: {:.1} s", filled.elapsed().as_secs_f64());

    let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let console = console_cookies(&http, &usher.url, &usher.secret).await?;
    println!("{users} users on PostgreSQL; 4 connections, {} s per row", PHASE.as_secs());
    println!();
    // CPU time per request of usher and of the PostgreSQL backends serving this database: on a
    // machine shared with other work, latency follows whatever else runs, CPU time much less.
    println!("| request | req/s | p50 ms | p95 ms | p99 ms | errors | usher CPU ms/req | PostgreSQL CPU ms/req |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    // One user's address and last name, for the filter and for substring searches of them.
    let (address, last_name): (String, String) = sqlx::query_as(
        "SELECT e.email_lower, u.last_name FROM users u JOIN email_addresses e ON e.id = u.primary_email_address_id \
         WHERE u.id = 'user_bench' || $1",
    )
    .bind(users * 7 / 9)
    .fetch_one(&mut db)
    .await?;
    let page = |path: &str| format!("{path}&limit=10");
    let rows: Vec<(String, String, bool)> = vec![
        ("first page, limit=10".into(), "/v1/users?limit=10".into(), false),
        ("deep page, offset=1000".into(), "/v1/users?limit=10&offset=1000".into(), false),
        ("deep page, offset=users/2".into(), format!("/v1/users?limit=10&offset={}", users / 2), false),
        (
            "deep page, offset=users/2, oldest first".into(),
            format!("/v1/users?limit=10&offset={}&order_by=created_at", users / 2),
            false,
        ),
        ("last page, offset=users-10".into(), format!("/v1/users?limit=10&offset={}", users - 10), false),
        ("email_address filter".into(), format!("/v1/users?email_address={address}"), false),
        ("query: part of one email".into(), page(&format!("/v1/users?query={}", &address[2..10])), false),
        (
            "query: part of one last name".into(),
            page(&format!("/v1/users?query={}", last_name[1..8].to_lowercase())),
            false,
        ),
        // n ending in 113 (yahoo.com is n % 5 = 3): 0.1 % of users, with trigrams (`@ya`, `hoo`)
        // in a fifth of them.
        ("query: 0.1 % of users (113@yahoo)".into(), page("/v1/users?query=113@yahoo"), false),
        ("query: 0.1 %, oldest first".into(), page("/v1/users?query=113@yahoo&order_by=created_at"), false),
        // Three hex digits: in about 0.6 % of the md5-derived names and local parts.
        ("query: 0.6 % of users (fab)".into(), page("/v1/users?query=fab"), false),
        ("query: 1 % of users (13@yahoo)".into(), page("/v1/users?query=13@yahoo"), false),
        ("query: a fifth of all users (gmail.com)".into(), page("/v1/users?query=gmail.com"), false),
        ("count".into(), "/v1/users/count".into(), false),
        ("count with query (one email)".into(), format!("/v1/users/count?query={}", &address[2..10]), false),
        ("count with query (0.1 %)".into(), "/v1/users/count?query=113@yahoo".into(), false),
        ("console: users, first page".into(), "/admin/users".into(), true),
        ("console: search, part of one email".into(), format!("/admin/users?q={}", &address[2..10]), true),
        ("console: search, 0.1 % (113@yahoo)".into(), "/admin/users?q=113@yahoo".into(), true),
        ("console: search, 0.6 % (fab)".into(), "/admin/users?q=fab".into(), true),
        ("console: search, a fifth (gmail.com)".into(), "/admin/users?q=gmail.com".into(), true),
        ("console: page users/50 (offset users/2)".into(), format!("/admin/users?page={}", users / 50), true),
    ];
    for (label, path, in_console) in rows {
        let target = format!("{}{path}", usher.url);
        let (client, secret, cookies) = (http.clone(), usher.secret.clone(), console.clone());
        let request = move || {
            let get = client.get(&target);
            if in_console { get.header("cookie", cookies.clone()) } else { get.bearer_auth(&secret) }
        };
        let probe = request().send().await?;
        let status = probe.status();
        let body = probe.text().await?;
        if in_console {
            assert!(status.is_success() && body.contains("<table"), "{label}: {status} {body}");
        } else {
            let json: Value = serde_json::from_str(&body)?;
            assert!(json.is_array() || json["total_count"].is_number(), "{label}: {body}");
        }
        let (usher_before, postgres_before) = (process_cpu(usher.pid), backends_cpu(&mut db).await?);
        let summary = load(4, PHASE, 20_000, move || {
            let request = request.clone();
            async move { request().send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        let usher_cpu = process_cpu(usher.pid).saturating_sub(usher_before);
        let postgres_cpu = backends_cpu(&mut db)
            .await?
            .iter()
            .map(|(pid, after)| after.saturating_sub(postgres_before.get(pid).copied().unwrap_or_default()))
            .sum::<Duration>();
        let per_request = |cpu: Duration| format!("{:.2}", cpu.as_secs_f64() * 1000.0 / summary.done.max(1) as f64);
        println!(
            "| {label} | {:.0} | {} | {} | {} | {} | {} | {} |",
            summary.per_second,
            ms(summary.p50),
            ms(summary.p95),
            ms(summary.p99),
            summary.errors,
            per_request(usher_cpu),
            per_request(postgres_cpu)
        );
    }
    Ok(())
}

/// CPU time used so far by each PostgreSQL backend connected to this database but `db`'s own
/// (usher's pool), from `/proc/<pid>/stat`; a backend gone meanwhile is left out.
async fn backends_cpu(db: &mut PgConnection) -> Result<HashMap<i32, Duration>, sqlx::Error> {
    let pids: Vec<(i32,)> = sqlx::query_as(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(db)
    .await?;
    Ok(pids.into_iter().filter_map(|(pid,)| Some((pid, try_process_cpu(pid as u32)?))).collect())
}

/// The cookies of a browser signed in to the console: an instance admin created through the
/// Backend API signs in on the hosted page, as a person would.
async fn console_cookies(
    http: &reqwest::Client,
    url: &str,
    secret: &str,
) -> Result<String, Box<dyn std::error::Error>> {
    const EMAIL: &str = "console.admin@bench.example";
    const PASSWORD: &str = "bench console password 1";
    let user: Value = http
        .post(format!("{url}/v1/users"))
        .bearer_auth(secret)
        .json(&serde_json::json!({"email_address": [EMAIL], "password": PASSWORD}))
        .send()
        .await?
        .json()
        .await?;
    let id = user["id"].as_str().ok_or_else(|| format!("no user: {user}"))?;
    let granted = http
        .post(format!("{url}/v1/instance_admins"))
        .bearer_auth(secret)
        .json(&serde_json::json!({"user_id": id}))
        .send()
        .await?;
    assert!(granted.status().is_success(), "instance admin: {}", granted.text().await?);
    let signed_in = http
        .post(format!("{url}/sign-in"))
        .header("origin", url)
        .form(&[("identifier", EMAIL), ("password", PASSWORD), ("redirect_url", "/admin")])
        .send()
        .await?;
    let cookies: Vec<String> = signed_in
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok()?.split(';').next().map(str::to_owned))
        .filter(|pair| !pair.ends_with('='))
        .collect();
    assert!(signed_in.status().is_redirection() && !cookies.is_empty(), "sign-in: {}", signed_in.status());
    Ok(cookies.join("; "))
}
