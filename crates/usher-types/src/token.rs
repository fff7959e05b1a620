//! Session tokens: the header categories and the payload (Clerk's v2 session-token claims).
//!
//! The server mints [`SessionTokenClaims`] and the SDK reads them, so both agree on every name.
//! Every claim is optional here because a verifier must also accept v1 tokens and Clerk's own,
//! which lack some of them; which ones are required is the verifier's decision, and the server
//! sets them all (`azp` only when the request had an origin).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, de::DeserializeOwned};
use serde_json::Value;

/// The cookie that carries the browser's current session token to apps.
pub const SESSION_COOKIE: &str = "__session";

/// The value of cookie `name` in `Cookie` header values (`a=1; b=2`), the first if repeated.
/// Both sides read cookies with it: the server `__client`, the SDK `__session`.
///
/// ```
/// let headers = ["a=1; __session=tok", "__session=later"];
/// assert_eq!(usher_types::token::cookie(headers, "__session"), Some("tok"));
/// assert_eq!(usher_types::token::cookie(["a=1"], "__session"), None);
/// ```
pub fn cookie<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    headers
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Header `cat` of session tokens; Clerk's SDKs tell session tokens from others by it.
pub const CATEGORY_SESSION: &str = "cl_B7d4PD111AAA";
/// Header `cat` of JWT-template tokens: SDKs refuse these as session tokens.
pub const CATEGORY_TEMPLATE: &str = "cl_B7d4PD222AAA";

/// The payload of a session token, claims in the order the server writes them.
///
/// Strings are [`Cow`] so the server serialises borrowed values and the SDK reads owned ones.
/// A claim of the wrong type fails deserialisation, except the informational `fva`, `jti` and
/// `v`, which read as absent: no verifier checks them, so an unusual value must not get a
/// token refused.
///
/// ```
/// use usher_types::token::{SessionTokenClaims, SessionTokenStatus};
///
/// let claims: SessionTokenClaims<'_> =
///     serde_json::from_str(r#"{"sub":"user_1","sid":"sess_1","exp":60,"sts":"pending","v":"two"}"#)?;
/// assert_eq!((claims.sub.as_deref(), claims.sts), (Some("user_1"), Some(SessionTokenStatus::Pending)));
/// assert_eq!(claims.v, None, "a wrongly typed informational claim reads as absent");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTokenClaims<'a> {
    /// The impersonator (`{"sub": …}`) when the session was started from an actor token:
    /// Clerk's `act` claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<serde_json::Value>,
    /// The origin the token was minted for (authorized party).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<Cow<'a, str>>,
    /// Expiry, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Features, comma-separated with scope prefixes (`o:invoices`): the order `o.fpm` follows.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub fea: Option<Cow<'a, str>>,
    /// Minutes since the first and the second factor were verified (`-1`: never).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub fva: Option<[i64; 2]>,
    /// Issued at, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The issuer: the instance's Frontend API URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iss: Option<Cow<'a, str>>,
    /// A unique token id.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub jti: Option<Cow<'a, str>>,
    /// Not before, seconds since the epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    /// The active organization, if any. A malformed one reads as absent: no organization.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub o: Option<OrganizationClaim<'a>>,
    /// The session id; only session tokens carry one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Cow<'a, str>>,
    /// The session's status when the token was minted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sts: Option<SessionTokenStatus>,
    /// The user id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<Cow<'a, str>>,
    /// The claims version: `2`.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "lenient")]
    pub v: Option<u8>,
}

/// `o`: the active organization as Clerk's v2 tokens carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganizationClaim<'a> {
    /// `org_…`.
    pub id: Cow<'a, str>,
    /// The slug.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slg: Option<Cow<'a, str>>,
    /// The member's role without the `org:` prefix (`admin`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rol: Option<Cow<'a, str>>,
    /// Permission names (the last part of `org:<feature>:<permission>`), comma-separated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per: Option<Cow<'a, str>>,
    /// One decimal bitmask per organization feature in `fea`, comma-separated; bit `i` is the
    /// `i`-th name in `per`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fpm: Option<Cow<'a, str>>,
}

impl OrganizationClaim<'_> {
    /// Encodes custom permission keys (`org:<feature>:<permission>`) as `(fea, per, fpm)`;
    /// keys of any other form are left out. `None` when no key qualifies.
    ///
    /// ```
    /// use usher_types::token::OrganizationClaim;
    /// let keys = ["org:invoices:create", "org:invoices:read", "org:reports:read"];
    /// let (fea, per, fpm) = OrganizationClaim::encode_permissions(keys).unwrap();
    /// assert_eq!((fea.as_str(), per.as_str(), fpm.as_str()), ("o:invoices,o:reports", "create,read", "3,2"));
    /// ```
    pub fn encode_permissions<'k>(keys: impl IntoIterator<Item = &'k str>) -> Option<(String, String, String)> {
        let mut features: Vec<&str> = Vec::new();
        let mut names: Vec<&str> = Vec::new();
        let mut pairs = Vec::new();
        for key in keys {
            let mut parts = key.split(':');
            let (Some("org"), Some(feature), Some(name), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                continue;
            };
            if feature.is_empty() || name.is_empty() || feature.contains(',') || name.contains(',') {
                continue;
            }
            features.push(feature);
            names.push(name);
            pairs.push((feature, name));
        }
        features.sort_unstable();
        features.dedup();
        names.sort_unstable();
        names.dedup();
        if pairs.is_empty() {
            return None;
        }
        // Bitmasks as decimal integers: u128 holds 128 names, and clients read any length.
        let masks: Vec<String> = features
            .iter()
            .map(|f| {
                pairs
                    .iter()
                    .filter(|(pf, _)| pf == f)
                    .filter_map(|(_, n)| names.iter().position(|x| x == n))
                    .fold(0u128, |m, i| if i < 128 { m | (1 << i) } else { m })
                    .to_string()
            })
            .collect();
        let fea = features.iter().map(|f| format!("o:{f}")).collect::<Vec<_>>().join(",");
        Some((fea, names.join(","), masks.join(",")))
    }
}

/// `sts`: whether the session was active or still had tasks left.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionTokenStatus {
    /// Signed in.
    Active,
    /// Signed in with tasks left (for example choosing an organization): counts as signed out.
    Pending,
    /// A status this version does not know (a newer issuer's); never minted by usher.
    #[serde(other)]
    Unknown,
}

/// A claim that must never get a token refused: a value of the wrong type reads as absent.
fn lenient<'de, D: Deserializer<'de>, T: DeserializeOwned>(d: D) -> Result<Option<T>, D::Error> {
    Ok(T::deserialize(Value::deserialize(d)?).ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn claims_serialise_in_order_without_absent_ones_and_read_back() {
        let claims = SessionTokenClaims {
            act: None,
            azp: None,
            exp: Some(160),
            fea: None,
            fva: Some([0, -1]),
            iat: Some(100),
            iss: Some("http://127.0.0.1:8787".into()),
            jti: Some("abc".into()),
            nbf: Some(95),
            o: None,
            sid: Some("sess_1".into()),
            sts: Some(SessionTokenStatus::Active),
            sub: Some("user_1".into()),
            v: Some(2),
        };
        let text = serde_json::to_string(&claims).unwrap();
        assert_eq!(
            text,
            r#"{"exp":160,"fva":[0,-1],"iat":100,"iss":"http://127.0.0.1:8787","jti":"abc","nbf":95,"sid":"sess_1","sts":"active","sub":"user_1","v":2}"#
        );
        assert_eq!(serde_json::from_str::<SessionTokenClaims<'_>>(&text).unwrap(), claims);
    }

    #[test]
    fn verifiers_stay_tolerant_of_what_they_do_not_check_but_not_of_what_they_do() {
        let read = |v: Value| serde_json::from_value::<SessionTokenClaims<'static>>(v);
        let v1 = read(json!({"sub": "user_1", "sid": "sess_1", "exp": 1, "org_id": "org_1"})).unwrap();
        assert_eq!((v1.v, v1.sts, v1.fva), (None, None, None), "a v1 token has no v, sts or fva");
        let odd = read(json!({"fva": "x", "jti": 7, "v": "two", "sts": "something_new"})).unwrap();
        assert_eq!((odd.fva, odd.jti, odd.v, odd.sts), (None, None, None, Some(SessionTokenStatus::Unknown)));
        for checked in ["sub", "sid", "exp", "nbf", "iat", "azp", "iss", "sts"] {
            assert!(read(json!({ checked: {"wrong": "type"} })).is_err(), "{checked}");
        }
    }
}
