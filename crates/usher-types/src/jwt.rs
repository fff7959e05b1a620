//! JWT templates and the JSON Web Key Set.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A JWT template: claims with shortcodes, minted with `getToken({ template })`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct JwtTemplate {
    /// Always `"jwt_template"`.
    pub object: String,
    /// `jtmp_…`.
    pub id: String,
    /// Unique name; the `{template}` path segment when minting.
    pub name: String,
    /// The claims, with `{{…}}` shortcodes.
    pub claims: Value,
    /// Token lifetime in seconds.
    pub lifetime: i64,
    /// Seconds subtracted from `nbf` to tolerate clock skew.
    pub allowed_clock_skew: i64,
    /// Whether tokens are signed with the template's own key instead of the instance key.
    pub custom_signing_key: bool,
    /// `RS256` for the instance key; the template's algorithm otherwise.
    pub signing_algorithm: String,
    /// Creation time, ms since the epoch.
    pub created_at: i64,
    /// Last change, ms since the epoch.
    pub updated_at: i64,
}

/// A public RSA signing key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Jwk {
    /// Key id; matches the `kid` header of the tokens it signed.
    pub kid: String,
    /// Always `RS256`.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub use_: String,
    /// Always `RSA`.
    pub kty: String,
    /// Modulus, base64url without padding.
    pub n: String,
    /// Public exponent, base64url without padding (`AQAB`).
    pub e: String,
}

/// `{"keys":[…]}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Jwks {
    /// The keys that verify tokens currently in circulation.
    pub keys: Vec<Jwk>,
}
