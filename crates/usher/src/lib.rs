//! # usher — Clerk-style authentication for axum
//!
//! The server side of Clerk's Astro SDK, in Rust idiom, for apps whose users live in an
//! usher server (`usher dev`) — or in Clerk itself: usher speaks Clerk's wire format, so
//! pointing `CLERK_API_URL` at Clerk's Backend API works the same, and nothing usher-specific
//! is in the verification path.
//!
//! ## Quick start
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use usher::{Auth, Usher, UsherConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! // CLERK_SECRET_KEY, PUBLIC_CLERK_PUBLISHABLE_KEY and CLERK_API_URL, as `usher dev` prints them.
//! let usher = Usher::new(UsherConfig::from_env()?)?;
//! let app: Router = Router::new()
//!     .route("/api/route", get(|auth: Auth| async move {
//!         match auth.user_id {
//!             Some(id) => Ok(Json(serde_json::json!({ "userId": id }))),
//!             None => Err((axum::http::StatusCode::UNAUTHORIZED, "Error: No signed in user")),
//!         }
//!     }))
//!     .layer(usher.layer());
//! # let _ = app; Ok(()) }
//! ```
//!
//! ## The Astro SDK, mapped
//!
//! | Clerk Astro SDK | usher |
//! | --- | --- |
//! | `clerkMiddleware(options)` | [`UsherLayer`] (from [`Usher::layer`]): authenticates and attaches [`Auth`], and adds `usher.js` to HTML pages unless `config.ui.inject_script` is off ([`InjectLayer`] does that alone); never blocks |
//! | `clerk()` options, `CLERK_SECRET_KEY`, `PUBLIC_CLERK_PUBLISHABLE_KEY`, `CLERK_API_URL`, `CLERK_JWT_KEY`, `PUBLIC_CLERK_SIGN_IN_URL`, `PUBLIC_CLERK_SIGN_UP_URL` | [`UsherConfig`] ([`UsherConfig::from_env`]); a missing or malformed key is a [`ConfigError`] at startup |
//! | `locals.auth()` → `{ userId, sessionId, orgId, orgRole, orgSlug, orgPermissions, sessionClaims }` | the [`Auth`] extractor, same fields |
//! | `auth().getToken()` / `getToken({ template: 'supabase' })` | [`Auth::get_token`] (the request's token, no network; [`Auth::get_fresh_token`] mints one) / [`Auth::get_token_with_template`] |
//! | `auth().has({ role })` / `has({ permission })` | [`Auth::has`] with [`Check`] |
//! | `auth().redirectToSignIn()` | [`Auth::redirect_to_sign_in`]: a 307 with `redirect_url` |
//! | a route that must be signed in | the [`RequireAuth`] extractor (401 otherwise) |
//! | `locals.currentUser()` | [`CurrentUser`] or [`Auth::current_user`] |
//! | `clerkClient(context)` | [`Usher::client`] → [`BackendClient`] |
//!
//! ## Verification
//!
//! Session tokens come from `Authorization: Bearer …` or the `__session` cookie and are verified
//! without a network call: the JWKS is fetched once from `{CLERK_API_URL}/v1/jwks` and cached
//! (an unknown `kid` causes at most one refetch per `jwks_refetch_interval`, 30 s by default), or
//! `CLERK_JWT_KEY` (PEM) is used with no network at all. RS256 only; `exp`/`nbf`/`iat` with a
//! leeway of at most 5 s; `azp` checked against `authorized_parties`; `iss` must name the
//! publishable key's Frontend API host (unless `check_issuer` is off); template tokens, tokens
//! without `sid` and pending sessions count as signed out. A revoked session's token stays valid
//! until it expires (60 s with usher's default lifetime): that is the price of networkless
//! verification, as with Clerk.
//!
//! Layout: [`config`], [`verify`], [`client`], [`ui`] (the `usher.js` options and tags),
//! `instance` ([`Usher`]), `auth` ([`Auth`]), `axum` ([`UsherLayer`] and the extractors),
//! `inject` ([`InjectLayer`]: the tags on HTML responses).

#![warn(missing_docs, missing_debug_implementations)]

pub mod client;
pub mod config;
pub mod ui;
pub mod verify;

mod auth;
#[cfg(feature = "axum")]
mod axum;
#[cfg(test)]
mod fixtures;
#[cfg(feature = "axum")]
mod inject;
mod instance;

pub use auth::{Auth, Check};
#[cfg(feature = "axum")]
pub use axum::{CurrentUser, RequireAuth, UsherLayer, UsherService};
pub use client::{BackendClient, ClientError};
pub use config::{ConfigError, UsherConfig};
#[cfg(feature = "axum")]
pub use inject::{InjectLayer, InjectService};
pub use instance::Usher;
pub use ui::UiOptions;
pub use usher_types as types;
pub use verify::{SessionClaims, Verifier, VerifyError};
