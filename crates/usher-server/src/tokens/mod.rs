//! Tokens: the instance's signing keys, compact JWS encoding, session tokens and JWT templates.

pub mod jwt;
pub mod keys;
pub mod mint;
pub(crate) mod shortcodes;

pub use mint::{
    Minter, RESERVED_CLAIMS, TemplateSubject, ensure_live, mint_session_token, mint_template_token, template_claims,
};

/// The shortcode language's entry points for the fuzz targets in `fuzz/`; not an API.
#[doc(hidden)]
pub mod fuzzing {
    use serde_json::Value;

    /// [`super::shortcodes::render`].
    pub fn render_shortcodes(claims: &Value, context: &Value) -> Value {
        super::shortcodes::render(claims, context)
    }

    /// [`super::shortcodes::validate`].
    pub fn validate_shortcodes(claims: &Value) -> Result<(), String> {
        super::shortcodes::validate(claims)
    }
}
