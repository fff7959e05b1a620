//! The SDK against a real usher server on port 0 (`usher_server::testing`): verification (the
//! table of forged and invalid tokens in `verify.rs`), the JWKS cache, and the Backend API
//! client's error mapping.

#![allow(unreachable_pub)]

mod client;
mod server;
mod verify;
