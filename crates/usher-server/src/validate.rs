//! Input rules shared by the handlers. Each returns the clean value or a Clerk 422.

use serde::Deserialize;
use serde_json::{Map, Value};
use unicode_normalization::UnicodeNormalization as _;

use crate::{error::ApiError, store::Page};

/// Longest accepted name, external id or locale, in characters.
const MAX_TEXT: usize = 256;
/// Largest accepted metadata object, serialised (Clerk's limit is 8 KB per object).
const MAX_METADATA_BYTES: usize = 8 * 1024;
/// Most list items returned at once.
pub const MAX_LIMIT: i64 = 500;
/// Deepest offset accepted; beyond it a page is surely empty and the scan only costs.
const MAX_OFFSET: i64 = 10_000_000;

/// Characters that hide or reorder text, which have no place in a name or an identifier: control
/// characters, bidirectional controls (U+202E makes `moc.evil` read `live.com`), zero-width and
/// other invisible format characters, and the line and paragraph separators.
pub fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{2028}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}')
}

/// An email address: one `@`, a non-empty local part, a dotted domain, no spaces, ≤ 320 chars.
/// NFKC-normalised first, so a full-width `ａ@ｅｘａｍｐｌｅ.ｃｏｍ` is the address it looks like.
pub fn email(param: &str, raw: &str) -> Result<String, ApiError> {
    let normalized: String = raw.trim().nfkc().collect();
    let value = normalized.trim();
    let valid = value.len() <= 320
        && value.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && local.len() <= 64
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains("..")
        })
        && !value.chars().any(|c| c.is_whitespace() || hidden(c) || matches!(c, '<' | '>' | ',' | ';' | '"'));
    if valid {
        Ok(value.to_owned())
    } else {
        Err(ApiError::format(param, format!("{param} must be a valid email address.")))
    }
}

/// A sign-in identifier as typed, in the form identifiers are stored in: trimmed and
/// NFKC-normalised, so the full-width spelling of an address finds the account it looks like.
pub fn identifier(raw: &str) -> String {
    let normalized: String = raw.trim().nfkc().collect();
    normalized.trim().to_owned()
}

/// A phone number in E.164 form (`+` and 7 to 15 digits); spaces, dashes and parentheses are dropped.
pub fn phone(param: &str, raw: &str) -> Result<String, ApiError> {
    let compact: String = raw.chars().filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.')).collect();
    let digits = compact.strip_prefix('+').unwrap_or("");
    if (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        Ok(compact)
    } else {
        Err(ApiError::format(
            param,
            format!("{param} must be a valid phone number in international format, e.g. +15555550100."),
        ))
    }
}

/// A username: 4 to 64 letters, digits, `-` or `_`.
pub fn username(raw: &str) -> Result<String, ApiError> {
    let len = raw.chars().count();
    if !(4..=64).contains(&len) {
        return Err(ApiError::invalid(
            "form_username_invalid_length",
            "username",
            "Usernames must be between 4 and 64 characters long.",
        ));
    }
    if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        return Err(ApiError::invalid(
            "form_username_invalid_character",
            "username",
            "Usernames may contain only letters, digits, '-' and '_'.",
        ));
    }
    Ok(raw.to_owned())
}

/// A free-text field (names, external id, locale): at most 256 characters, no control or
/// invisible characters ([`hidden`]).
pub fn text(param: &str, raw: &str) -> Result<String, ApiError> {
    if raw.chars().count() > MAX_TEXT {
        return Err(ApiError::invalid(
            "form_param_exceeds_allowed_size",
            param,
            format!("{param} must be at most {MAX_TEXT} characters."),
        ));
    }
    if raw.chars().any(hidden) {
        return Err(ApiError::format(param, format!("{param} must not contain control or invisible characters.")));
    }
    Ok(raw.to_owned())
}

/// An optional free-text field.
pub fn opt_text(param: &str, raw: Option<String>) -> Result<Option<String>, ApiError> {
    raw.map(|r| text(param, &r)).transpose()
}

/// A metadata object of at most 8 KB.
pub fn metadata(param: &str, map: Map<String, Value>) -> Result<Map<String, Value>, ApiError> {
    let size = serde_json::to_vec(&map).map_or(usize::MAX, |v| v.len());
    if size > MAX_METADATA_BYTES {
        return Err(ApiError::invalid(
            "form_param_exceeds_allowed_size",
            param,
            format!("{param} must be at most {MAX_METADATA_BYTES} bytes when serialised."),
        ));
    }
    Ok(map)
}

/// `limit` and `offset` as Clerk's lists take them.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    /// 1..=500, default 10.
    pub limit: Option<i64>,
    /// ≥ 0, default 0.
    pub offset: Option<i64>,
}

impl Paging {
    /// The validated page.
    pub fn page(&self) -> Result<Page, ApiError> {
        let limit = self.limit.unwrap_or(10);
        let offset = self.offset.unwrap_or(0);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "limit",
                format!("limit must be between 1 and {MAX_LIMIT}."),
            ));
        }
        if !(0..=MAX_OFFSET).contains(&offset) {
            return Err(ApiError::invalid(
                "form_param_value_invalid",
                "offset",
                format!("offset must be between 0 and {MAX_OFFSET}."),
            ));
        }
        Ok(Page { limit, offset })
    }
}

/// Merges `patch` into `target` recursively; `null` values remove keys.
pub fn merge(target: &mut Map<String, Value>, patch: Map<String, Value>) {
    for (key, value) in patch {
        match value {
            Value::Null => {
                target.remove(&key);
            }
            Value::Object(inner) => match target.get_mut(&key) {
                Some(Value::Object(existing)) => merge(existing, inner),
                _ => {
                    let mut fresh = Map::new();
                    merge(&mut fresh, inner);
                    target.insert(key, Value::Object(fresh));
                }
            },
            other => {
                target.insert(key, other);
            }
        }
    }
}

/// Deserializes an optional JSON object given as an object (JSON bodies) or as its JSON text
/// (form bodies, where every value is a string).
pub fn json_object_or_text<'de, D>(de: D) -> Result<Option<serde_json::Map<String, serde_json::Value>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::{Deserialize as _, de::Error as _};
    match Option::<serde_json::Value>::deserialize(de)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Object(map)) => Ok(Some(map)),
        Some(serde_json::Value::String(text)) if text.trim().is_empty() => Ok(None),
        Some(serde_json::Value::String(text)) => match serde_json::from_str(&text) {
            Ok(serde_json::Value::Object(map)) => Ok(Some(map)),
            _ => Err(D::Error::custom("expected a JSON object")),
        },
        Some(_) => Err(D::Error::custom("expected a JSON object")),
    }
}

/// Deserializes a boolean given as `true`/`false` or as the text `"true"`/`"false"` (forms).
pub fn bool_or_text<'de, D: serde::Deserializer<'de>>(de: D) -> Result<Option<bool>, D::Error> {
    use serde::{Deserialize as _, de::Error as _};
    match Option::<serde_json::Value>::deserialize(de)? {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::Bool(b)) => Ok(Some(b)),
        Some(serde_json::Value::String(s)) => match s.as_str() {
            "true" | "on" | "1" => Ok(Some(true)),
            "false" | "off" | "0" | "" => Ok(Some(false)),
            _ => Err(D::Error::custom("expected true or false")),
        },
        Some(_) => Err(D::Error::custom("expected true or false")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invisible_and_reordering_characters_are_refused_and_emails_are_nfkc() {
        for bad in ["ad\u{202E}min", "a\u{200B}b", "\u{FEFF}ada", "line\u{2028}break", "x\u{2066}y"] {
            assert!(text("first_name", bad).is_err(), "{bad:?}");
            assert!(email("email_address", &format!("{bad}@example.com")).is_err(), "{bad:?}");
        }
        assert_eq!(text("first_name", "Zoë 山田").unwrap(), "Zoë 山田");
        assert_eq!(email("email_address", "\u{FF41}da@\u{FF45}xample.com").unwrap(), "ada@example.com");
    }

    #[test]
    fn identifiers_are_nfkc() {
        assert_eq!(identifier(" \u{FF41}da@\u{FF25}xample.com "), "ada@Example.com");
        assert_eq!(identifier("ada_l"), "ada_l");
    }

    #[test]
    fn emails() {
        for ok in ["a@b.co", "first.last+tag@sub.example.com"] {
            assert!(email("e", ok).is_ok(), "{ok}");
        }
        for bad in ["", "a", "a@b", "@b.co", "a@@b.co", "a b@c.co", "a@.co", "a@b..co", "<a@b.co>"] {
            assert!(email("e", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn phones_and_usernames() {
        assert_eq!(phone("p", "+1 (555) 555-0100").unwrap(), "+15555550100");
        assert!(phone("p", "5555550100").is_err());
        assert!(username("ada_l").is_ok());
        assert!(username("ada").is_err());
        assert!(username("ada lovelace").is_err());
    }

    #[test]
    fn merge_is_deep_and_null_removes() {
        let mut target = json!({"a": {"b": 1, "c": 2}, "d": 3}).as_object().unwrap().clone();
        let patch =
            json!({"a": {"b": null, "e": {"f": null, "g": 1}}, "d": null, "h": [1]}).as_object().unwrap().clone();
        merge(&mut target, patch);
        assert_eq!(Value::Object(target), json!({"a": {"c": 2, "e": {"g": 1}}, "h": [1]}));
    }

    #[test]
    fn paging_bounds() {
        assert!(Paging { limit: Some(0), offset: None }.page().is_err());
        assert!(Paging { limit: Some(501), offset: None }.page().is_err());
        assert!(Paging { limit: None, offset: Some(-1) }.page().is_err());
        assert_eq!(Paging::default().page().unwrap(), Page { limit: 10, offset: 0 });
    }
}
