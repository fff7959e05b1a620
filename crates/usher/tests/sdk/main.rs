//! The SDK against a real usher server on port 0: verification (the forged-token table of
//! security.md §F), the JWKS cache, and the Backend API client's error mapping.

#![allow(unreachable_pub)]

mod client;
mod server;
mod verify;
