//! Request extractors that answer bad input with Clerk errors instead of axum's plain text.

use axum::{
    body::Bytes,
    extract::{FromRequest, FromRequestParts, Request},
    http::{StatusCode, request::Parts},
};
use serde::de::DeserializeOwned;
use usher_types::ClerkError;

use crate::error::ApiError;

/// A JSON body. An empty body reads as `{}`, because Clerk's SDKs send none when a call has no
/// parameters; required fields are then reported as missing.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = body_bytes(req, state).await?;
        decode_json(&bytes).map(JsonBody)
    }
}

/// Decodes a JSON body as [`JsonBody`] does; public for the fuzz targets in `fuzz/`.
#[doc(hidden)]
pub fn decode_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) { b"{}" } else { bytes };
    // Every body usher takes is an object. serde would also fill a struct from an array (by
    // position), which no client means and which hides mistakes, so only `{` may start one.
    if text.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(ApiError::BadRequest(ClerkError::new(
            "malformed_request",
            "Request body is not a JSON object",
            "The request body must be a JSON object.",
        )));
    }
    let mut de = serde_json::Deserializer::from_slice(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(body_error)?;
    // Anything after the object (a second value, garbage) is refused rather than ignored.
    de.end().map_err(|e| {
        ApiError::BadRequest(ClerkError::new(
            "malformed_request",
            "Request body is not valid JSON",
            format!("The request body has data after its JSON object: {e}"),
        ))
    })?;
    Ok(value)
}

/// Decodes a form body as [`FormOrJson`] does; public for the fuzz targets in `fuzz/`.
#[doc(hidden)]
pub fn decode_form<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_html_form::from_bytes(bytes).map_err(|e| {
        // A field given twice where one value is expected is refused (serde_html_form does),
        // never resolved to the first or last value; say which field it was.
        let long = match repeated_field(bytes) {
            Some(name) => format!("The field {name:?} is given more than once."),
            None => e.to_string(),
        };
        ApiError::BadRequest(ClerkError::new("malformed_request", "Invalid form body", long))
    })
}

/// The first field name that occurs twice in a form body.
fn repeated_field(bytes: &[u8]) -> Option<String> {
    let mut seen = std::collections::HashSet::new();
    url::form_urlencoded::parse(bytes).map(|(name, _)| name.into_owned()).find(|name| !seen.insert(name.clone()))
}

/// The whole body (within the size limit), or Clerk's 413 / 400.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge
        } else {
            ApiError::BadRequest(ClerkError::new("malformed_request", "Unreadable request body", e.body_text()))
        }
    })
}

fn body_error(err: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = err.path().to_string();
    let inner = err.into_inner();
    if inner.is_syntax() || inner.is_eof() {
        return ApiError::BadRequest(ClerkError::new(
            "malformed_request",
            "Request body is not valid JSON",
            format!("The request body could not be parsed as JSON: {inner}"),
        ));
    }
    let message = inner.to_string();
    // serde reports a missing field at the parent's path; its name is in the message.
    if let Some(field) = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next()) {
        let param = if path == "." { field.to_owned() } else { format!("{path}.{field}") };
        return ApiError::invalid("form_param_missing", &param, format!("{param} must be included."));
    }
    let param = if path == "." { "body".to_owned() } else { path };
    let detail = message.split(" at line ").next().unwrap_or(&message);
    ApiError::format(&param, format!("{param} is invalid: {detail}."))
}

/// Query parameters; repeated keys fill `Vec`s (`email_address=a&email_address=b`).
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        serde_html_form::from_str(query).map(Query).map_err(|e| {
            let message = e.to_string();
            ApiError::format("query", format!("The query string is invalid: {message}."))
        })
    }
}

/// Path parameters; a segment that does not decode (bad percent-encoding, invalid UTF-8) is a
/// Clerk 400 rather than axum's plain-text one.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Path::<T>::from_request_parts(parts, state).await.map(|p| Path(p.0)).map_err(|e| {
            ApiError::BadRequest(ClerkError::new("malformed_request", "Invalid path parameter", e.body_text()))
        })
    }
}

/// A Frontend API body: `application/x-www-form-urlencoded` (what clerk-js sends) or JSON.
pub struct FormOrJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for FormOrJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return JsonBody::from_request(req, state).await.map(|JsonBody(v)| Self(v));
        }
        let bytes = body_bytes(req, state).await?;
        decode_form(&bytes).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Body {
        name: Option<String>,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    struct Invite {
        role: Option<String>,
        #[serde(default)]
        email_address: Vec<String>,
    }

    #[test]
    fn a_form_field_given_twice_is_refused_unless_it_is_a_list() {
        let error = decode_form::<Body>(b"name=a&name=b").unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_REQUEST);
        let ApiError::BadRequest(clerk) = error else { panic!("a 400") };
        assert_eq!(clerk.long_message, "The field \"name\" is given more than once.");
        let listed = decode_form::<Invite>(b"email_address=a&email_address=b&role=r").unwrap();
        assert_eq!(listed.email_address, ["a", "b"]);
    }

    #[test]
    fn json_bodies_are_one_object_and_nothing_else() {
        assert_eq!(decode_json::<Body>(b" ").unwrap(), Body { name: None }, "an empty body reads as {{}}");
        assert_eq!(decode_json::<Body>(br#" {"name":"a"} "#).unwrap(), Body { name: Some("a".into()) });
        for bad in [&br#"{"name":"a"} trailing"#[..], br#"{"name":"a"}{}"#, br#"["a"]"#, b"null", b"7"] {
            let error = decode_json::<Body>(bad).unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{}", String::from_utf8_lossy(bad));
        }
    }
}
