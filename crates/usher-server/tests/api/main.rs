#![allow(unreachable_pub)]

//! Integration tests: one binary driving real servers on port 0 over real HTTP, on real SQLite
//! files and a real PostgreSQL (a fresh database per test, dropped afterwards).
//!
//! PostgreSQL is expected at `USHER_TEST_POSTGRES_URL` (default
//! `postgres://postgres@127.0.0.1:5432/test`); its tests fail when it is unreachable, unless
//! `USHER_SKIP_POSTGRES=1` says to skip them on purpose.

mod assets;
mod audit_atomic;
mod clerk_resources;
mod clerk_rs;
mod cli;
mod contract;
mod dev_browser;
mod durability;
mod edge;
mod frontend;
mod github_standin;
mod handshake;
mod helpers;
mod invitations;
mod jwks;
mod limits;
mod mail;
mod oauth;
mod oidc_standin;
mod openapi;
mod ops;
mod organizations;
mod pages;
mod passkeys;
mod reset;
mod second_factors;
mod sessions;
mod templates;
mod tls;
mod users;
mod webhooks;
// Admin: the console, the audit log, actor tokens.
mod admin;
mod admin_organizations;
mod admin_roles;
mod admin_templates;
