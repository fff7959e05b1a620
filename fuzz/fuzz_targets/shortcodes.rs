//! The JWT-template shortcode language: any claim string validates or not without panicking,
//! renders against a context, and a string that does not validate renders as a string (its
//! malformed shortcodes kept as text).
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use usher_server::tokens::fuzzing::{render_shortcodes, validate_shortcodes};

static CONTEXT: LazyLock<Value> = LazyLock::new(|| {
    json!({
        "user": {"id": "user_1", "first_name": null, "public_metadata": {"plan": "pro", "n": 3, "tags": ["a"]}},
        "session": {"id": "sess_1", "actor": null},
        "org": {"id": null},
    })
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let claims = json!({"k": text, "nested": [text, {"x": text}]});
    let valid = validate_shortcodes(&claims).is_ok();
    let rendered = render_shortcodes(&Value::String(text.into()), &CONTEXT);
    if !valid {
        assert!(rendered.is_string(), "{text:?} -> {rendered}");
    }
    // Claims that are JSON themselves go through the same paths.
    if let Ok(value) = serde_json::from_str::<Value>(text) {
        let _ = validate_shortcodes(&value);
        let _ = render_shortcodes(&value, &CONTEXT);
    }
});
