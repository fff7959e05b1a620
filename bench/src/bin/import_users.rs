//! `usher users import` of a 100,000-row Clerk dashboard export (or as many rows as the first
//! argument says), into a fresh PostgreSQL database and a fresh SQLite file: the first import,
//! the re-run that changes nothing, and `usher users export`. Digests are imported as they
//! are (checked for their format, never re-hashed), so the rows share one well-formed bcrypt
//! and one argon2id digest (hashing 100,000 passwords would measure the hash, not the import).

use std::{process::Command, time::Instant};

use sqlx::{Connection as _, PgConnection};
use usher_bench::usher_bin;

const HEADER: &str = "id,first_name,last_name,username,primary_email_address,primary_phone_number,\
verified_email_addresses,unverified_email_addresses,verified_phone_numbers,unverified_phone_numbers,\
totp_secret,password_digest,password_hasher";

/// Well-formed digests (bcrypt cost 10, argon2id with OWASP's parameters).
const BCRYPT: &str = "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy";
const ARGON2ID: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c2l4dGVlbiBieXRlIHNsdA$Y2dM8yQk7zQ0v3Xo7i8d0q8m0sF0b1mKqfSx8j0sY8Q";

fn csv(rows: usize) -> String {
    let mut out = String::with_capacity(rows * 200);
    out.push_str(HEADER);
    out.push('\n');
    for n in 0..rows {
        let (digest, hasher) = if n % 2 == 0 { (BCRYPT, "bcrypt") } else { (ARGON2ID, "argon2id") };
        let phone = if n % 3 == 0 { format!("+1555{n:07}") } else { String::new() };
        out.push_str(&format!(
            "user_import{n},First{n},Last{n},name{n},user{n}@example.com,{phone},user{n}@example.com,,{phone},,,\"{digest}\",{hasher}\n"
        ));
    }
    out
}

fn usher(db_url: &str, args: &[&str]) -> f64 {
    let started = Instant::now();
    let output = Command::new(usher_bin())
        .args(["users", "--database-url", db_url])
        .args(args)
        .env("USHER_SECRET_KEY", "sk_test_importbench0123456789abcdefghijklmnop")
        .env("RUST_LOG", "warn")
        .output()
        .expect("run usher");
    let seconds = started.elapsed().as_secs_f64();
    assert!(output.status.success(), "usher {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    eprintln!("{}", String::from_utf8_lossy(&output.stdout).trim());
    seconds
}

fn measure(label: &str, db_url: &str, file: &str, rows: usize) {
    let first = usher(db_url, &["import", file, "--keep-ids", "--quiet"]);
    let again = usher(db_url, &["import", file, "--keep-ids", "--quiet"]);
    let export = usher(db_url, &["export", "--output", "/dev/null"]);
    let rate = |s: f64| rows as f64 / s;
    println!(
        "| {label} | {first:.1} s ({:.0} rows/s) | {again:.1} s ({:.0} rows/s) | {export:.1} s |",
        rate(first),
        rate(again)
    );
}

#[tokio::main]
async fn main() {
    let rows: usize =
        std::env::args().nth(1).map_or(100_000, |n| n.replace('_', "").parse().expect("a number of rows"));
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("users.csv");
    std::fs::write(&file, csv(rows)).expect("write the CSV");
    let file = file.to_str().expect("utf-8 path").to_owned();
    println!("{rows} rows of Clerk's export format, 500 per transaction");
    println!();
    println!("| database | import | re-run (unchanged) | export |");
    println!("| --- | ---: | ---: | ---: |");

    let sqlite = format!("sqlite://{}", dir.path().join("usher.db").display());
    measure("SQLite", &sqlite, &file, rows);

    let admin =
        std::env::var("USHER_BENCH_POSTGRES_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let name = format!("usher_bench_import_{}", std::process::id());
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
    let mut conn = PgConnection::connect(&admin).await.expect("PostgreSQL");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.expect("create database");
    let url = format!("{base}/{name}");
    let outcome = std::panic::catch_unwind(|| measure("PostgreSQL", &url, &file, rows));
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await.expect("drop");
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
