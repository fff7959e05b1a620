//! Tokens: the instance's signing keys, compact JWS encoding, session tokens and JWT templates.

pub mod jwt;
pub mod keys;
pub mod mint;
pub(crate) mod shortcodes;

pub use mint::{Minter, RESERVED_CLAIMS, ensure_live, mint_session_token, mint_template_token};
