//! Clerk's error body: `{"errors":[{message,long_message,code,meta}],"clerk_trace_id"}`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// One error in a [`ClerkErrors`] body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClerkError {
    /// A short message, safe to show to a person.
    pub message: String,
    /// A longer message with more detail.
    #[serde(default)]
    pub long_message: String,
    /// A stable machine-readable code such as `form_identifier_exists`.
    pub code: String,
    /// Extra detail; `param_name` names the offending request parameter.
    #[serde(default)]
    pub meta: Map<String, Value>,
}

impl ClerkError {
    /// An error with `code`, a short message, and a longer one.
    pub fn new(code: &str, message: &str, long_message: impl Into<String>) -> Self {
        Self { message: message.into(), long_message: long_message.into(), code: code.into(), meta: Map::new() }
    }

    /// Names the request parameter the error is about (`meta.param_name`).
    pub fn with_param(mut self, param: &str) -> Self {
        self.meta.insert("param_name".into(), Value::String(param.into()));
        self
    }

    /// The `meta.param_name` of this error, if any.
    pub fn param(&self) -> Option<&str> {
        self.meta.get("param_name").and_then(Value::as_str)
    }
}

/// The body of every error response of the Backend and Frontend APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ClerkErrors {
    /// The errors; never empty.
    pub errors: Vec<ClerkError>,
    /// Free-form metadata; usher always sends `{}`.
    #[serde(default)]
    pub meta: Map<String, Value>,
    /// An id for finding the request in the server's logs.
    #[serde(default)]
    pub clerk_trace_id: Option<String>,
}
