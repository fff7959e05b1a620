//! `GET /v1/users` latency with 100,000 users on PostgreSQL (or as many as the first argument
//! says: `list_users 1000000`): first page, a deep page, an email filter, substring searches and
//! the count. The users are inserted with SQL in one statement per table (creating them
//! through the API would spend the run on Argon2), with varied names and addresses (md5-derived
//! local parts on five common domains), so a trigram is not in every row as with `userN@…`.

use std::time::Duration;

use serde_json::Value;
use sqlx::{Connection as _, PgConnection};
use usher_bench::{load, ms, start_usher};

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
    let outcome = tokio::spawn(async move { run(&url).await.map_err(|e| e.to_string()) }).await;
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

    let http = reqwest::Client::new();
    println!("{users} users on PostgreSQL; 4 connections, {} s per row", PHASE.as_secs());
    println!();
    println!("| request | req/s | p50 ms | p95 ms | p99 ms | errors |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    let deep = format!("/v1/users?limit=10&offset={}", users / 2);
    // One user's address and last name, for the filter and for substring searches of them.
    let (address, last_name): (String, String) = sqlx::query_as(
        "SELECT e.email_lower, u.last_name FROM users u JOIN email_addresses e ON e.id = u.primary_email_address_id \
         WHERE u.id = 'user_bench' || $1",
    )
    .bind(users * 7 / 9)
    .fetch_one(&mut db)
    .await?;
    let email = format!("/v1/users?email_address={address}");
    let rare = format!("/v1/users?query={}&limit=10", &address[2..10]);
    let name = format!("/v1/users?query={}&limit=10", last_name[1..8].to_lowercase());
    let rare_count = rare.replace("/v1/users?", "/v1/users/count?");
    for (label, path) in [
        ("first page, limit=10", "/v1/users?limit=10"),
        ("deep page, offset=users/2", deep.as_str()),
        ("email_address filter", email.as_str()),
        ("query: part of one email", rare.as_str()),
        ("query: part of one last name", name.as_str()),
        ("query: a fifth of all emails (gmail.com)", "/v1/users?query=gmail.com&limit=10"),
        ("count", "/v1/users/count"),
        ("count with query", rare_count.as_str()),
    ] {
        let (client, target, secret) = (http.clone(), format!("{}{path}", usher.url), usher.secret.clone());
        let probe: Value = client.get(&target).bearer_auth(&secret).send().await?.json().await?;
        assert!(probe.is_array() || probe["total_count"].is_number(), "{label}: {probe}");
        let summary = load(4, PHASE, 20_000, move || {
            let (client, target, secret) = (client.clone(), target.clone(), secret.clone());
            async move { client.get(&target).bearer_auth(&secret).send().await.is_ok_and(|r| r.status().is_success()) }
        })
        .await;
        println!(
            "| {label} | {:.0} | {} | {} | {} | {} |",
            summary.per_second,
            ms(summary.p50),
            ms(summary.p95),
            ms(summary.p99),
            summary.errors
        );
    }
    Ok(())
}
