//! Clerk's JWT-template shortcode language.
//!
//! A claim string that is exactly one `{{ expr }}` becomes the *typed* value of `expr` (object,
//! array, number, bool, string or null). Any other string with shortcodes is interpolation and
//! stays a string, each shortcode replaced by its text (`null` for null, compact JSON for objects
//! and arrays). `expr` is operands joined by `||`: the first operand that is neither null nor
//! `false` wins, else the last one. Operands are dot paths into the context
//! (`user.public_metadata.plan`) or literals: `'single-quoted'` (with `\'` and `\\` escapes),
//! JSON numbers, `true`, `false`, `null`. Unknown paths are null. Malformed shortcodes are kept as
//! text by [`render`] and reported by [`validate`]. Object keys are never rendered, as in Clerk.

use std::fmt::{self, Write as _};

use serde_json::{Number, Value};

/// Renders a template's claims against `context` (`{"user": {...}, "session": {...}, ...}`).
pub(crate) fn render(claims: &Value, context: &Value) -> Value {
    match claims {
        Value::String(s) => render_string(s, context),
        Value::Array(items) => items.iter().map(|v| render(v, context)).collect(),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), render(v, context))).collect()),
        other => other.clone(),
    }
}

/// Checks the shortcode syntax of every string in `claims`; the error names the first malformed
/// shortcode, the claim holding it and what is wrong with it.
pub(crate) fn validate(claims: &Value) -> Result<(), String> {
    check(claims).map_err(|bad| bad.to_string())
}

/// Shared by every path lookup that finds nothing, so evaluation can hand out references.
static NULL: Value = Value::Null;

fn render_string(s: &str, context: &Value) -> Value {
    let mut pieces = Pieces { rest: s };
    let first = match pieces.next() {
        Some(Piece::Code(operands)) if pieces.rest.is_empty() => return evaluate(&operands, context).clone(),
        first => first,
    };
    let mut out = String::with_capacity(s.len());
    for piece in first.into_iter().chain(pieces) {
        match piece {
            Piece::Text(text) | Piece::Malformed { text, .. } => out.push_str(text),
            Piece::Code(operands) => push_text(&mut out, evaluate(&operands, context)),
        }
    }
    Value::String(out)
}

/// The text form used by interpolation: strings bare, everything else as compact JSON.
fn push_text(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        // Writing into a String cannot fail.
        other => _ = write!(out, "{other}"),
    }
}

fn evaluate<'v>(operands: &'v [Operand<'_>], context: &'v Value) -> &'v Value {
    let mut value = &NULL;
    for operand in operands {
        value = match operand {
            Operand::Path(path) => lookup(context, path),
            Operand::Literal(literal) => literal,
        };
        if !matches!(value, Value::Null | Value::Bool(false)) {
            break;
        }
    }
    value
}

/// Walks object keys only: a segment applied to anything but an object (arrays included) is null.
fn lookup<'v>(context: &'v Value, path: &str) -> &'v Value {
    path.split('.').try_fold(context, |value, key| value.as_object()?.get(key)).unwrap_or(&NULL)
}

/// A part of a claim string, as produced by [`Pieces`].
#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Text(&'a str),
    Code(Vec<Operand<'a>>),
    /// A `{{…}}` (or an unterminated `{{…`) that does not parse; rendered verbatim.
    Malformed {
        text: &'a str,
        reason: Reason<'a>,
    },
}

#[derive(Debug, PartialEq)]
enum Operand<'a> {
    /// Dot-separated, already checked by [`is_path`]; split again at lookup time to avoid a Vec.
    Path(&'a str),
    Literal(Value),
}

#[derive(Debug, PartialEq)]
enum Reason<'a> {
    Unclosed,
    Empty,
    EmptyOperand,
    UnclosedQuote,
    BadOperand(&'a str),
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Unclosed => f.write_str("is never closed with \"}}\""),
            Reason::Empty => f.write_str("is empty"),
            Reason::EmptyOperand => f.write_str("has an empty operand next to \"||\""),
            Reason::UnclosedQuote => f.write_str("has a string literal without its closing quote"),
            Reason::BadOperand(operand) => write!(
                f,
                "has {operand:?}, which is neither a path (like user.public_metadata.plan) \
                 nor a literal ('text', 30, true, false or null)"
            ),
        }
    }
}

/// Splits a claim string into text and shortcodes lazily, so a string without `{{` costs one scan.
struct Pieces<'a> {
    rest: &'a str,
}

impl<'a> Iterator for Pieces<'a> {
    type Item = Piece<'a>;

    fn next(&mut self) -> Option<Piece<'a>> {
        let rest = self.rest;
        if rest.is_empty() {
            return None;
        }
        match rest.find("{{") {
            Some(0) => Some(self.shortcode()),
            Some(start) => {
                self.rest = &rest[start..];
                Some(Piece::Text(&rest[..start]))
            }
            None => {
                self.rest = "";
                Some(Piece::Text(rest))
            }
        }
    }
}

impl<'a> Pieces<'a> {
    /// Consumes the shortcode `self.rest` starts with. It ends at the first `}}`, even inside a
    /// quoted literal: simple to explain, and a literal can't hold `}}` anyway (it is malformed).
    fn shortcode(&mut self) -> Piece<'a> {
        let rest = self.rest;
        let Some(len) = rest[2..].find("}}") else {
            self.rest = "";
            return Piece::Malformed { text: rest, reason: Reason::Unclosed };
        };
        let end = 2 + len + 2;
        self.rest = &rest[end..];
        match parse_expr(&rest[2..2 + len]) {
            Ok(operands) => Piece::Code(operands),
            Err(reason) => Piece::Malformed { text: &rest[..end], reason },
        }
    }
}

fn parse_expr(expr: &str) -> Result<Vec<Operand<'_>>, Reason<'_>> {
    if expr.trim().is_empty() {
        return Err(Reason::Empty);
    }
    let mut operands = Vec::new();
    let mut rest = expr;
    loop {
        let (operand, tail) = next_operand(rest)?;
        operands.push(parse_operand(operand.trim())?);
        match tail {
            Some(tail) => rest = tail,
            None => return Ok(operands),
        }
    }
}

/// Splits off the text before the first `||` outside a quoted literal, and what follows it.
fn next_operand(expr: &str) -> Result<(&str, Option<&str>), Reason<'_>> {
    let bytes = expr.as_bytes();
    let mut quoted = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            // The escaped byte can't close the literal. Skipping a lone byte of a multi-byte
            // character is harmless: only ASCII bytes are compared and sliced at.
            b'\\' if quoted => i += 1,
            b'\'' => quoted = !quoted,
            b'|' if !quoted && bytes.get(i + 1) == Some(&b'|') => return Ok((&expr[..i], Some(&expr[i + 2..]))),
            _ => {}
        }
        i += 1;
    }
    if quoted { Err(Reason::UnclosedQuote) } else { Ok((expr, None)) }
}

fn parse_operand(text: &str) -> Result<Operand<'_>, Reason<'_>> {
    let literal = match text {
        "" => return Err(Reason::EmptyOperand),
        "true" => Some(Value::Bool(true)),
        "false" => Some(Value::Bool(false)),
        "null" => Some(Value::Null),
        _ => match text.strip_prefix('\'') {
            Some(body) => string_literal(body).map(Value::String),
            None => number(text),
        },
    };
    match literal {
        Some(value) => Ok(Operand::Literal(value)),
        None if is_path(text) => Ok(Operand::Path(text)),
        None => Err(Reason::BadOperand(text)),
    }
}

/// `body` follows the opening quote; the closing quote must end the operand.
fn string_literal(body: &str) -> Option<String> {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next()? {
                escaped @ ('\'' | '\\') => out.push(escaped),
                // Not an escape we know: keep the backslash, as a user who typed it expects.
                other => {
                    out.push('\\');
                    out.push(other);
                }
            },
            '\'' => return chars.as_str().is_empty().then_some(out),
            c => out.push(c),
        }
    }
    None
}

/// JSON's number grammar, so `inf`, `NaN`, `+1`, `1.` and out-of-range `1e400` are not numbers.
fn number(text: &str) -> Option<Value> {
    if !text.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return None;
    }
    serde_json::from_str::<Number>(text).ok().map(Value::Number)
}

/// Segments of `[A-Za-z0-9_]+` joined by dots. The first must not start with a digit: context
/// roots are names (`user`, `session`, `org`), and `1.2.3` is far likelier a typo than a path.
fn is_path(text: &str) -> bool {
    let segment_ok = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
    !text.starts_with(|c: char| c.is_ascii_digit()) && text.split('.').all(segment_ok)
}

/// The first malformed shortcode found by [`check`], with where it sits in the claims.
struct Bad<'a> {
    shortcode: &'a str,
    reason: Reason<'a>,
    /// Innermost step first: steps are added while the recursion unwinds.
    location: Vec<Step<'a>>,
}

enum Step<'a> {
    Key(&'a str),
    Index(usize),
}

impl<'a> Bad<'a> {
    fn within(mut self, step: Step<'a>) -> Self {
        self.location.push(step);
        self
    }
}

impl fmt::Display for Bad<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // An unclosed `{{` runs to the end of the claim, which may be long.
        const MAX_CHARS: usize = 60;
        let mut shortcode: String = self.shortcode.chars().take(MAX_CHARS).collect();
        if shortcode.len() < self.shortcode.len() {
            shortcode.push('…');
        }
        write!(f, "the shortcode {shortcode:?} ")?;
        if !self.location.is_empty() {
            f.write_str("in claim \"")?;
            for (i, step) in self.location.iter().rev().enumerate() {
                match step {
                    Step::Key(key) if i == 0 => f.write_str(key)?,
                    Step::Key(key) => write!(f, ".{key}")?,
                    Step::Index(index) => write!(f, "[{index}]")?,
                }
            }
            f.write_str("\" ")?;
        }
        write!(f, "{}", self.reason)
    }
}

fn check(value: &Value) -> Result<(), Bad<'_>> {
    match value {
        Value::String(s) => match (Pieces { rest: s }).find(|p| matches!(p, Piece::Malformed { .. })) {
            Some(Piece::Malformed { text, reason }) => Err(Bad { shortcode: text, reason, location: Vec::new() }),
            _ => Ok(()),
        },
        Value::Array(items) => {
            items.iter().enumerate().try_for_each(|(i, v)| check(v).map_err(|bad| bad.within(Step::Index(i))))
        }
        Value::Object(map) => map.iter().try_for_each(|(k, v)| check(v).map_err(|bad| bad.within(Step::Key(k)))),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Value {
        json!({
            "user": {
                "id": "user_1",
                "first_name": "Ada",
                "last_name": null,
                "primary_email_address": "ada@example.com",
                "email_verified": true,
                "public_metadata": {
                    "a": {"b": 1},
                    "plan": "pro",
                    "age": null,
                    "years": 42,
                    "score": 2.5,
                    "zero": 0,
                    "empty": "",
                    "flags": {"beta": false},
                    "roles": ["admin", "dev"],
                    "2fa": true
                }
            },
            "session": {"id": "sess_1", "actor": null},
            "org": null
        })
    }

    fn r(claims: Value) -> Value {
        render(&claims, &context())
    }

    #[test]
    fn a_lone_shortcode_keeps_its_type() {
        assert_eq!(r(json!("{{user.public_metadata.flags}}")), json!({"beta": false}));
        assert_eq!(r(json!("{{user.public_metadata.roles}}")), json!(["admin", "dev"]));
        assert_eq!(r(json!("{{user.public_metadata.years}}")), json!(42));
        assert_eq!(r(json!("{{user.public_metadata.score}}")), json!(2.5));
        assert_eq!(r(json!("{{user.email_verified}}")), json!(true));
        assert_eq!(r(json!("{{user.first_name}}")), json!("Ada"));
        assert_eq!(r(json!("{{session}}")), json!({"id": "sess_1", "actor": null}));
    }

    #[test]
    fn whitespace_inside_the_braces_is_ignored() {
        assert_eq!(r(json!("{{ user.public_metadata.years }}")), json!(42));
        assert_eq!(r(json!("{{\n\tuser.public_metadata.years ||  7\t}}")), json!(42));
    }

    #[test]
    fn dot_paths_walk_nested_metadata() {
        assert_eq!(r(json!("{{user.public_metadata.a.b}}")), json!(1));
        assert_eq!(r(json!("{{user.public_metadata.a}}")), json!({"b": 1}));
        assert_eq!(r(json!("{{user.public_metadata.2fa}}")), json!(true), "later segments may start with a digit");
    }

    #[test]
    fn missing_paths_are_null() {
        assert_eq!(r(json!("{{user.nickname}}")), Value::Null);
        assert_eq!(r(json!("{{user.public_metadata.a.b.c}}")), Value::Null, "walking into a number");
        assert_eq!(r(json!("{{user.id.length}}")), Value::Null, "walking into a string");
        assert_eq!(r(json!("{{user.public_metadata.roles.0}}")), Value::Null, "arrays are not indexed");
        assert_eq!(r(json!("{{org.id}}")), Value::Null, "walking into null");
        assert_eq!(r(json!("{{nothing}}")), Value::Null);
        assert_eq!(render(&json!("{{user.id}}"), &json!("not an object")), Value::Null);
    }

    #[test]
    fn interpolation_always_makes_a_string() {
        assert_eq!(r(json!("{{user.last_name}} {{user.first_name}}")), json!("null Ada"));
        assert_eq!(r(json!("age: {{user.public_metadata.years}}")), json!("age: 42"));
        assert_eq!(r(json!("{{user.public_metadata.score}}!")), json!("2.5!"));
        assert_eq!(r(json!("verified={{user.email_verified}}")), json!("verified=true"));
        assert_eq!(r(json!("m={{user.public_metadata.a}}")), json!("m={\"b\":1}"));
        assert_eq!(r(json!("r={{user.public_metadata.roles}}")), json!("r=[\"admin\",\"dev\"]"));
        assert_eq!(r(json!("{{user.id}}{{user.public_metadata.years}}")), json!("user_142"), "two shortcodes");
        assert_eq!(r(json!(" {{user.public_metadata.years}}")), json!(" 42"), "outer whitespace is text");
        assert_eq!(r(json!("héllo {{ user.first_name }} ✓")), json!("héllo Ada ✓"));
    }

    #[test]
    fn fallback_to_a_number() {
        assert_eq!(r(json!("{{user.public_metadata.age || 30}}")), json!(30), "the path is null");
        assert_eq!(r(json!("{{user.public_metadata.nope || 30}}")), json!(30), "the path is missing");
        assert_eq!(r(json!("{{user.public_metadata.years || 30}}")), json!(42), "the path has a value");
        assert_eq!(r(json!("{{user.public_metadata.age || -1.5}}")), json!(-1.5));
        assert_eq!(r(json!("{{user.public_metadata.age || 1e3}}")), json!(1000.0));
    }

    #[test]
    fn fallback_to_a_string_literal() {
        assert_eq!(r(json!("{{user.public_metadata.tier || 'guest'}}")), json!("guest"));
        assert_eq!(r(json!("{{user.public_metadata.plan || 'guest'}}")), json!("pro"));
        assert_eq!(r(json!("{{user.nope || 'a || b'}}")), json!("a || b"), "|| inside quotes is text");
        assert_eq!(r(json!(r"{{user.nope || 'it\'s'}}")), json!("it's"));
        assert_eq!(r(json!(r"{{'back\\slash \n'}}")), json!(r"back\slash \n"), "unknown escapes kept");
        assert_eq!(r(json!("{{ 'ünï ✓' }}")), json!("ünï ✓"));
        assert_eq!(r(json!("hi {{user.nickname || 'friend'}}!")), json!("hi friend!"));
    }

    #[test]
    fn false_is_skipped_but_zero_and_empty_string_are_not() {
        assert_eq!(r(json!("{{user.public_metadata.flags.beta || 'x'}}")), json!("x"));
        assert_eq!(r(json!("{{false || 1}}")), json!(1));
        // Unlike JavaScript's `||`, only null and false fall through.
        assert_eq!(r(json!("{{user.public_metadata.zero || 1}}")), json!(0));
        assert_eq!(r(json!("{{user.public_metadata.empty || 'x'}}")), json!(""));
        assert_eq!(r(json!("{{'' || 'x'}}")), json!(""));
    }

    #[test]
    fn a_chain_of_three_operands() {
        let chain = "{{user.last_name || user.public_metadata.age || user.first_name}}";
        assert_eq!(r(json!(chain)), json!("Ada"));
        assert_eq!(r(json!("{{user.last_name || user.public_metadata.years || user.first_name}}")), json!(42));
        assert_eq!(r(json!("{{user.last_name || null || false}}")), json!(false), "none qualifies: the last");
        assert_eq!(r(json!("{{user.nope || user.last_name || null}}")), Value::Null);
        assert_eq!(r(json!("name: {{user.last_name || user.nope || 'n/a'}}")), json!("name: n/a"));
    }

    #[test]
    fn lone_literals() {
        assert_eq!(r(json!("{{30}}")), json!(30));
        assert_eq!(r(json!("{{-1.5}}")), json!(-1.5));
        assert_eq!(r(json!("{{true}}")), json!(true));
        assert_eq!(r(json!("{{false}}")), json!(false));
        assert_eq!(r(json!("{{null}}")), Value::Null);
        assert_eq!(r(json!("{{'guest'}}")), json!("guest"));
        assert_eq!(r(json!("{{18446744073709551615}}")), json!(u64::MAX));
    }

    #[test]
    fn non_string_claims_and_plain_strings_are_kept() {
        let claims = json!({
            "n": 1, "f": -2.5, "t": true, "nil": null, "obj": {}, "arr": [],
            "plain": "plain", "braces": "{x} }} { }", "pipes": "a || b", "quote": "it's"
        });
        assert_eq!(r(claims.clone()), claims);
    }

    #[test]
    fn nested_claims_are_rendered_but_keys_are_not() {
        let claims = json!({
            "nested": {"list": ["{{user.id}}", 2, {"e": "{{user.primary_email_address}}"}, ["{{user.public_metadata.a.b}}"]]},
            "{{user.id}}": "key"
        });
        let rendered = json!({
            "nested": {"list": ["user_1", 2, {"e": "ada@example.com"}, [1]]},
            "{{user.id}}": "key"
        });
        assert_eq!(r(claims), rendered);
    }

    #[test]
    fn a_supabase_template_renders() {
        let claims = json!({
            "aud": "authenticated", "role": "authenticated", "email": "{{user.primary_email_address}}",
            "app_metadata": {}, "user_metadata": {}
        });
        assert_eq!(validate(&claims), Ok(()));
        assert_eq!(
            r(claims),
            json!({
                "aud": "authenticated", "role": "authenticated", "email": "ada@example.com",
                "app_metadata": {}, "user_metadata": {}
            })
        );
    }

    const MALFORMED: &[&str] = &[
        "{{user.id",
        "x {{ user.id } y",
        "{{}}",
        "{{   }}",
        "{{ user..id }}",
        "{{ .user }}",
        "{{ user. }}",
        "{{user.id || }}",
        "{{ || user.id }}",
        "{{ a |||| b }}",
        "{{'open}}",
        "{{ 'a' 'b' }}",
        "{{ 'a'b }}",
        "{{user-id}}",
        "{{ user id }}",
        "{{ a | b }}",
        "{{ 01 }}",
        "{{ 1.2.3 }}",
        "{{ 1e400 }}",
        "{{ +1 }}",
        "{{ - }}",
        "{{ user.{{id}} }}",
        "{{{{user.id}}}}",
        "{{{user.id}}}",
        "a {{ b c }} d",
    ];

    #[test]
    fn malformed_shortcodes_stay_text_and_fail_validation() {
        for &bad in MALFORMED {
            assert_eq!(r(json!(bad)), json!(bad), "{bad}");
            assert!(validate(&json!(bad)).is_err(), "{bad}");
            assert!(validate(&json!({"x": [1, {"y": bad}]})).is_err(), "nested {bad}");
        }
    }

    #[test]
    fn only_the_malformed_shortcode_is_left_as_text() {
        let claim = json!("{{user.first_name}} {{user-id}} {{ user.public_metadata.years }}");
        assert_eq!(r(claim.clone()), json!("Ada {{user-id}} 42"));
        assert!(validate(&claim).is_err());
    }

    #[test]
    fn validation_accepts_good_syntax_and_unknown_paths() {
        let claims = json!({
            "a": "plain", "b": "}} alone", "c": "{single}", "d": "{{user.id}}", "e": "{{ no.such.path }}",
            "f": "x {{ user.a || 'b' || 3 || true || null }} y", "g": [1, true, null, {}], "h": "{{ inf }}",
            "i": "{{ _private }}", "j": "{{'}'}}"
        });
        assert_eq!(validate(&claims), Ok(()));
        assert_eq!(validate(&json!("{{user.id}}")), Ok(()));
        assert_eq!(validate(&json!(3)), Ok(()));
    }

    #[test]
    fn validation_messages_name_the_shortcode_the_claim_and_the_problem() {
        let err = validate(&json!({"a": {"b": [1, "x {{ user-id }} y"]}})).unwrap_err();
        assert_eq!(
            err,
            "the shortcode \"{{ user-id }}\" in claim \"a.b[1]\" has \"user-id\", which is neither a path \
             (like user.public_metadata.plan) nor a literal ('text', 30, true, false or null)"
        );
        let err = validate(&json!({"name": "{{user.first_name"})).unwrap_err();
        assert_eq!(err, "the shortcode \"{{user.first_name\" in claim \"name\" is never closed with \"}}\"");
        let err = validate(&json!(["{{}}"])).unwrap_err();
        assert_eq!(err, "the shortcode \"{{}}\" in claim \"[0]\" is empty");
        let err = validate(&json!("{{ a || }}")).unwrap_err();
        assert_eq!(err, "the shortcode \"{{ a || }}\" has an empty operand next to \"||\"");
        let err = validate(&json!({"q": "{{ 'oops }}"})).unwrap_err();
        assert!(err.contains("without its closing quote"), "{err}");
    }

    #[test]
    fn long_unclosed_shortcodes_are_shortened_in_messages() {
        let claim = format!("{{{{ {}", "é".repeat(200));
        let err = validate(&json!({"k": claim})).unwrap_err();
        assert!(err.contains('…'), "{err}");
        assert!(err.chars().count() < 150, "{err}");
    }

    #[test]
    fn deep_nesting_is_fine() {
        let depth = 120; // serde_json refuses to parse deeper than 128.
        let text = format!("{}\"{{{{user.id}}}}\"{}", "[".repeat(depth), "]".repeat(depth));
        let claims: Value = serde_json::from_str(&text).unwrap();
        let expected: Value = serde_json::from_str(&text.replace("{{user.id}}", "user_1")).unwrap();
        assert_eq!(r(claims.clone()), expected);
        assert_eq!(validate(&claims), Ok(()));
    }

    /// xorshift64: deterministic, so a failure reproduces without extra crates.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n as u64) as usize
        }
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let alphabet: Vec<char> = "{{}}||''..\\ aub_1-é".chars().collect();
        let words = ["{{", "}}", "user", "first_name", "public_metadata", "||", "'x'", "30", "true"];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..600 {
            let mut text = String::new();
            for _ in 0..rng.below(32) {
                // Whole words now and then, so well-formed shortcodes show up too.
                if rng.below(4) == 0 {
                    text.push_str(words[rng.below(words.len())]);
                } else {
                    text.push(alphabet[rng.below(alphabet.len())]);
                }
            }
            let rendered = r(json!(text));
            let valid = validate(&json!({"k": [text.clone()]}));
            if !text.contains("{{") {
                assert_eq!(rendered, json!(text), "round {round}: {text:?}");
                assert_eq!(valid, Ok(()), "round {round}: {text:?}");
            }
            if valid.is_err() {
                assert!(rendered.is_string(), "round {round}: {text:?} -> {rendered}");
            }
        }
    }
}
