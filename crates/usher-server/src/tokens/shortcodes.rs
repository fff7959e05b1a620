//! Clerk's JWT-template shortcode language.
//!
//! A claim string that is exactly one `{{ expr }}` becomes the *typed* value of `expr` (object,
//! array, number, bool, string or null). Any other string with shortcodes is interpolation and
//! stays a string, each shortcode replaced by its text (`null` for null, compact JSON for
//! objects). `expr` is operands joined by `||`: the first operand that is neither null nor
//! `false` wins, else the last one. Operands are dot paths into the context
//! (`user.public_metadata.plan`) or literals: `'single-quoted'`, numbers, `true`, `false`,
//! `null`. Unknown paths are null. Malformed shortcodes are kept as text by [`render`] and
//! reported by [`validate`].

use serde_json::{Map, Number, Value};

/// Renders a template's claims against `context` (`{"user": {...}, "session": {...}, ...}`).
pub(crate) fn render(claims: &Value, context: &Value) -> Value {
    match claims {
        Value::String(s) => render_string(s, context),
        Value::Array(items) => Value::Array(items.iter().map(|v| render(v, context)).collect()),
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), render(v, context))).collect::<Map<_, _>>())
        }
        other => other.clone(),
    }
}

/// Checks the shortcode syntax of every string in `claims`.
pub(crate) fn validate(claims: &Value) -> Result<(), String> {
    match claims {
        Value::String(s) => {
            for piece in pieces(s) {
                if let Piece::Malformed(text) = piece {
                    return Err(format!("the shortcode {text:?} in claims is malformed"));
                }
            }
            Ok(())
        }
        Value::Array(items) => items.iter().try_for_each(validate),
        Value::Object(map) => map.values().try_for_each(validate),
        _ => Ok(()),
    }
}

/// A part of a claim string.
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Code(Vec<Operand<'a>>),
    /// A `{{…}}` (or an unterminated `{{…`) that does not parse; kept verbatim.
    Malformed(&'a str),
}

#[derive(Debug, PartialEq)]
enum Operand<'a> {
    Path(Vec<&'a str>),
    Literal(Value),
}

fn pieces(s: &str) -> Vec<Piece<'_>> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("{{") {
        if start > 0 {
            out.push(Piece::Text(&rest[..start]));
        }
        let after = &rest[start + 2..];
        let Some(len) = after.find("}}") else {
            out.push(Piece::Malformed(&rest[start..]));
            return out;
        };
        let whole = &rest[start..start + 2 + len + 2];
        out.push(match parse_expr(&after[..len]) {
            Some(operands) => Piece::Code(operands),
            None => Piece::Malformed(whole),
        });
        rest = &after[len + 2..];
    }
    if !rest.is_empty() {
        out.push(Piece::Text(rest));
    }
    out
}

fn parse_expr(expr: &str) -> Option<Vec<Operand<'_>>> {
    let operands: Option<Vec<_>> = split_operands(expr)?.into_iter().map(|o| parse_operand(o.trim())).collect();
    operands.filter(|o| !o.is_empty())
}

/// Splits on `||` outside single quotes.
fn split_operands(expr: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let (mut start, mut quoted) = (0, false);
    let bytes = expr.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\'' => quoted = !quoted,
            b'|' if !quoted && bytes.get(i + 1) == Some(&b'|') => {
                parts.push(&expr[start..i]);
                i += 2;
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    if quoted {
        return None;
    }
    parts.push(&expr[start..]);
    Some(parts)
}

fn parse_operand(text: &str) -> Option<Operand<'_>> {
    if text.is_empty() {
        return None;
    }
    if let Some(inner) = text.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        return (!inner.contains('\'')).then(|| Operand::Literal(Value::String(inner.to_owned())));
    }
    match text {
        "true" => return Some(Operand::Literal(Value::Bool(true))),
        "false" => return Some(Operand::Literal(Value::Bool(false))),
        "null" => return Some(Operand::Literal(Value::Null)),
        _ => {}
    }
    if text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return number(text).map(Operand::Literal);
    }
    let segments: Vec<&str> = text.split('.').collect();
    let valid = segments.iter().all(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
    valid.then_some(Operand::Path(segments))
}

fn number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    text.parse::<f64>().ok().filter(|f| f.is_finite()).and_then(Number::from_f64).map(Value::Number)
}

fn evaluate(operands: &[Operand<'_>], context: &Value) -> Value {
    let mut last = Value::Null;
    for operand in operands {
        last = match operand {
            Operand::Literal(v) => v.clone(),
            Operand::Path(segments) => lookup(context, segments),
        };
        if !matches!(last, Value::Null | Value::Bool(false)) {
            return last;
        }
    }
    last
}

fn lookup(context: &Value, segments: &[&str]) -> Value {
    segments.iter().try_fold(context, |value, key| value.as_object()?.get(*key)).cloned().unwrap_or(Value::Null)
}

fn render_string(s: &str, context: &Value) -> Value {
    if !s.contains("{{") {
        return Value::String(s.to_owned());
    }
    let parts = pieces(s);
    if let [Piece::Code(operands)] = parts.as_slice() {
        return evaluate(operands, context);
    }
    let mut out = String::with_capacity(s.len());
    for piece in parts {
        match piece {
            Piece::Text(t) | Piece::Malformed(t) => out.push_str(t),
            Piece::Code(operands) => match evaluate(&operands, context) {
                Value::String(v) => out.push_str(&v),
                other => out.push_str(&other.to_string()),
            },
        }
    }
    Value::String(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Value {
        json!({"user": {
            "id": "user_1", "first_name": "Ada", "last_name": null, "primary_email_address": "ada@example.com",
            "public_metadata": {"plan": "pro", "age": null, "flags": {"beta": false}, "roles": ["a", "b"], "n": 3},
            "email_verified": true
        }})
    }

    fn r(claims: Value) -> Value {
        render(&claims, &context())
    }

    #[test]
    fn a_lone_shortcode_keeps_its_type() {
        assert_eq!(r(json!("{{user.public_metadata.roles}}")), json!(["a", "b"]));
        assert_eq!(r(json!("{{ user.public_metadata.n }}")), json!(3));
        assert_eq!(r(json!("{{user.email_verified}}")), json!(true));
        assert_eq!(r(json!("{{user.public_metadata.flags}}")), json!({"beta": false}));
        assert_eq!(r(json!("{{user.i_dont_exist}}")), Value::Null);
        assert_eq!(r(json!("{{user.id.deeper}}")), Value::Null, "walking into a string is null");
    }

    #[test]
    fn interpolation_makes_strings() {
        assert_eq!(r(json!("{{user.first_name}} {{user.last_name}}")), json!("Ada null"));
        assert_eq!(r(json!("n={{user.public_metadata.n}}")), json!("n=3"));
        assert_eq!(r(json!("roles: {{user.public_metadata.roles}}")), json!("roles: [\"a\",\"b\"]"));
    }

    #[test]
    fn fallbacks_take_the_first_value_that_is_not_null_or_false() {
        assert_eq!(r(json!("{{user.public_metadata.age || 30}}")), json!(30));
        assert_eq!(r(json!("{{user.public_metadata.n || 30}}")), json!(3));
        assert_eq!(r(json!("{{user.public_metadata.tier || 'free'}}")), json!("free"));
        assert_eq!(r(json!("{{user.public_metadata.flags.beta || user.last_name || 'x||y'}}")), json!("x||y"));
        assert_eq!(r(json!("{{user.last_name || false}}")), json!(false), "the last operand when none qualifies");
        assert_eq!(r(json!("{{user.public_metadata.age || -1.5}}")), json!(-1.5));
    }

    #[test]
    fn other_values_and_nesting_are_kept() {
        let claims = json!({"n": 1, "b": true, "nil": null, "nested": {"list": ["{{user.id}}", 2, {"e": "{{user.primary_email_address}}"}]}});
        assert_eq!(
            r(claims),
            json!({"n": 1, "b": true, "nil": null, "nested": {"list": ["user_1", 2, {"e": "ada@example.com"}]}})
        );
    }

    #[test]
    fn a_supabase_template_renders() {
        let claims = json!({"aud": "authenticated", "role": "authenticated", "email": "{{user.primary_email_address}}", "app_metadata": {}, "user_metadata": {}});
        assert_eq!(
            r(claims),
            json!({"aud": "authenticated", "role": "authenticated", "email": "ada@example.com", "app_metadata": {}, "user_metadata": {}})
        );
    }

    #[test]
    fn malformed_shortcodes_stay_text_and_fail_validation() {
        for bad in
            ["{{user.id", "{{}}", "{{ user..id }}", "{{user.id || }}", "{{'open}}", "{{user-id}}", "a {{ b c }} d"]
        {
            assert_eq!(r(json!(bad)), json!(bad), "{bad}");
            assert!(validate(&json!({"x": [bad]})).is_err(), "{bad}");
        }
        for good in ["plain", "}} {", "{{user.id}}", "x {{ user.a || 'b' || 3 }} y", "{single}"] {
            assert!(validate(&json!(good)).is_ok(), "{good}");
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        // A deterministic generator over the characters that matter to the parser.
        let alphabet: Vec<char> = "{}|'. a_1-é".chars().collect();
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..2000 {
            let len = (state % 24) as usize;
            let text: String = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    alphabet[(state % alphabet.len() as u64) as usize]
                })
                .collect();
            let _ = r(json!(text));
            let _ = validate(&json!(text));
        }
    }
}
