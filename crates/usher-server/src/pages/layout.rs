//! The shared HTML shell of the hosted pages: the page frame with its inline CSS and security
//! headers, form fields with their error wiring, and the error summary.

use std::fmt::Write as _;

use axum::{
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

pub(crate) use crate::html::{escape, url_encode};
use crate::{error::ApiError, state::AppState};

/// A failure to show on a page: what went wrong, for which field, with which status.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    /// The status of the re-rendered page (4xx, or 5xx without details).
    pub(crate) status: StatusCode,
    /// The message for the person (the Clerk error's `long_message`, else `message`).
    pub(crate) message: String,
    /// The form field it is about (the error's `meta.param_name`).
    pub(crate) param: Option<String>,
    /// Seconds to wait, kept from a 429 or 503.
    pub(crate) retry_after: Option<u64>,
}

impl Problem {
    /// What `error` means for the person: its message (a generic one for server failures, which
    /// are logged with a trace id instead), the field it is about, and the status to answer.
    pub(crate) fn of(error: &ApiError) -> Self {
        let status = error.status();
        let retry_after = error.retry_after();
        if status.is_server_error() {
            error.report();
            let message = if status == StatusCode::SERVICE_UNAVAILABLE {
                "The server is busy. Please try again in a moment."
            } else {
                "Something went wrong on our side. Please try again."
            };
            return Self { status, message: message.to_owned(), param: None, retry_after };
        }
        let body = error.body();
        let message = match retry_after {
            Some(seconds) if status == StatusCode::TOO_MANY_REQUESTS => {
                format!("Too many attempts. Try again in {seconds} seconds.")
            }
            _ if body.long_message.is_empty() => body.message.clone(),
            _ => body.long_message.clone(),
        };
        Self { status, message, param: body.param().map(str::to_owned), retry_after }
    }

    /// The field among `names` this problem is about.
    fn field_in<'n>(&self, names: &[&'n str]) -> Option<&'n str> {
        let param = self.param.as_deref()?;
        names.iter().copied().find(|n| *n == param)
    }
}

/// How the fields of one form show a problem and where focus starts.
pub(crate) struct Form<'a> {
    problem: Option<&'a Problem>,
    /// The field to focus: the invalid one, else the first (when `focus_first`).
    focus: Option<&'a str>,
}

impl<'a> Form<'a> {
    /// A form with `names` (in order). With a problem about one of them, that field is invalid
    /// and focused; with a problem about none, the error summary takes focus instead; with no
    /// problem the first field is focused when `focus_first`.
    pub(crate) fn new(problem: Option<&'a Problem>, names: &[&'a str], focus_first: bool) -> Self {
        let focus = match problem {
            Some(p) => p.field_in(names),
            None if focus_first => names.first().copied(),
            None => None,
        };
        Self { problem: problem.filter(|p| p.field_in(names).is_some()), focus }
    }

    /// One labelled input. `attrs` are extra raw attributes (constants only, never input).
    pub(crate) fn input(&self, spec: &Field<'_>, value: Option<&str>) -> String {
        let mut html = String::new();
        let id = spec.id.unwrap_or(spec.name);
        let _ = write!(html, r#"<div class="field"><label for="{id}">{}</label>"#, escape(spec.label));
        let mut described: Vec<String> = Vec::new();
        let invalid = self.problem.and_then(|p| p.param.as_deref()) == Some(spec.name);
        if invalid {
            described.push("error".into());
        }
        if let Some(hint) = spec.hint {
            let _ = write!(html, r#"<p class="hint" id="{id}-hint">{}</p>"#, escape(hint));
            described.push(format!("{id}-hint"));
        }
        let _ = write!(
            html,
            r#"<input id="{id}" name="{}" type="{}" autocomplete="{}""#,
            spec.name, spec.kind, spec.autocomplete
        );
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            let _ = write!(html, r#" value="{}""#, escape(v));
        }
        if spec.required {
            html.push_str(" required");
        }
        if !spec.attrs.is_empty() {
            html.push(' ');
            html.push_str(spec.attrs);
        }
        if invalid {
            html.push_str(r#" aria-invalid="true""#);
        }
        if !described.is_empty() {
            let _ = write!(html, r#" aria-describedby="{}""#, described.join(" "));
        }
        if self.focus == Some(spec.name) {
            html.push_str(" autofocus");
        }
        html.push_str("></div>");
        html
    }
}

/// What an input is.
pub(crate) struct Field<'a> {
    /// The form name (and the Clerk `param_name` it answers to).
    pub(crate) name: &'a str,
    /// The element id when it differs from the name.
    pub(crate) id: Option<&'a str>,
    /// The visible label.
    pub(crate) label: &'a str,
    /// `type`.
    pub(crate) kind: &'a str,
    /// `autocomplete`.
    pub(crate) autocomplete: &'a str,
    /// Adds `required`.
    pub(crate) required: bool,
    /// Help shown under the label, tied with `aria-describedby`.
    pub(crate) hint: Option<&'a str>,
    /// Extra raw attributes (constants).
    pub(crate) attrs: &'a str,
}

impl<'a> Field<'a> {
    /// A required input.
    pub(crate) const fn new(name: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Self {
        Self { name, id: None, label, kind, autocomplete, required: true, hint: None, attrs: "" }
    }

    /// The same input, not required.
    pub(crate) const fn optional(mut self) -> Self {
        self.required = false;
        self
    }

    /// With a hint.
    pub(crate) const fn hint(mut self, hint: &'a str) -> Self {
        self.hint = Some(hint);
        self
    }

    /// With extra raw attributes.
    pub(crate) const fn attrs(mut self, attrs: &'a str) -> Self {
        self.attrs = attrs;
        self
    }

    /// The six-digit code input.
    pub(crate) const fn code() -> Self {
        Self::new("code", "Code", "text", "one-time-code").attrs(r#"inputmode="numeric" maxlength="12""#)
    }
}

/// The error summary (`role="alert"`), focused when no field is to blame.
pub(crate) fn alert(problem: Option<&Problem>, focus: bool) -> String {
    match problem {
        Some(p) => format!(
            r#"<div class="alert" id="error" role="alert" tabindex="-1"{}><p>{}</p></div>"#,
            if focus { " autofocus" } else { "" },
            escape(&p.message)
        ),
        None => String::new(),
    }
}

/// A success message (`role="status"`).
pub(crate) fn status(message: Option<&str>) -> String {
    match message {
        Some(m) => format!(r#"<div class="status" role="status"><p>{}</p></div>"#, escape(m)),
        None => String::new(),
    }
}

/// A hidden input; nothing when the value is absent.
pub(crate) fn hidden(name: &str, value: Option<&str>) -> String {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => format!(r#"<input type="hidden" name="{name}" value="{}">"#, escape(v)),
        None => String::new(),
    }
}

/// Whether a form built for `problem` has the summary take focus (no field to blame).
pub(crate) fn alert_focus(problem: Option<&Problem>, names: &[&str]) -> bool {
    problem.is_some_and(|p| p.field_in(names).is_none())
}

/// A complete page: `heading` is the `<h1>`, `body` already-escaped HTML.
pub(crate) fn page(state: &AppState, status: StatusCode, title: &str, heading: &str, body: &str) -> Response {
    let app = escape(&state.config.application_name);
    let html = format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="same-origin">
<title>{title} · {app}</title>
<style>{CSS}</style>
</head>
<body>
<main>
<p class="app">{app}</p>
<h1>{heading}</h1>
{body}
</main>
</body>
</html>
"#,
        title = escape(title),
        heading = escape(heading),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Not `no-referrer`: under it browsers send `Origin: null` with the page's own form posts,
    // which the origin check must refuse. `same-origin` still keeps URLs from other sites.
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(state)) {
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// No script but usher's own files (`/pages/passkey.js`, for WebAuthn; no inline script, so
/// injected markup cannot run any), no external anything; forms may only post to usher and (since browsers apply
/// `form-action` to the redirect after a post) lead to the allowed origins.
fn content_security_policy(state: &AppState) -> String {
    let mut targets = String::from("'self'");
    let clean =
        |o: &str| o.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '.' | '-' | '[' | ']'));
    for origin in state.origins.exact.iter().filter(|o| clean(o)) {
        targets.push(' ');
        targets.push_str(origin);
    }
    if state.origins.localhost {
        targets.push_str(" http://localhost:* http://127.0.0.1:* https://localhost:* https://127.0.0.1:*");
    }
    // The "Continue with …" form is answered with a redirect to the provider, which
    // `form-action` also governs: its sign-in origin (the issuer's, for discovery) is allowed.
    for origin in state.config.oauth_providers.iter().filter_map(|p| p.sign_in_origin()).filter(|o| clean(o)) {
        targets.push(' ');
        targets.push_str(&origin);
    }
    format!(
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src 'self' data:; \
         form-action {targets}; frame-ancestors 'none'; base-uri 'none'"
    )
}

/// `ms` since the epoch as `YYYY-MM-DD HH:MM UTC`.
pub(crate) fn format_time(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

const CSS: &str = r#"
*,*::before,*::after{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:#f4f5f7;color:#1a1d23;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
main{max-width:30rem;margin:2rem auto;padding:1.5rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}
@media (max-width:480px){main{margin:0;border-radius:0;box-shadow:none;min-height:100vh;padding:1.25rem 1rem}}
.app{margin:0 0 .25rem;font-weight:600;color:#4b5160;font-size:.875rem;text-transform:uppercase;letter-spacing:.04em}
h1{font-size:1.5rem;margin:0 0 1rem;line-height:1.25}
h2{font-size:1.125rem;margin:1.75rem 0 .75rem;padding-top:1.25rem;border-top:1px solid #e3e5ea}
p{margin:0 0 1rem;overflow-wrap:anywhere}
.field{margin:0 0 1rem}
label{display:block;font-weight:600;margin:0 0 .25rem}
.hint{margin:0 0 .25rem;font-size:.875rem;color:#4b5160}
input[type=text],input[type=email],input[type=password]{display:block;width:100%;padding:.625rem .75rem;font:inherit;color:inherit;background:#fff;border:1px solid #8a909c;border-radius:8px}
input[aria-invalid=true]{border-color:#b3261e;border-width:2px}
.check{display:flex;gap:.5rem;align-items:flex-start;margin:0 0 1rem}
.check label{font-weight:400;margin:0}
.check input{width:1.25rem;height:1.25rem;margin:.125rem 0 0;flex:none}
button{font:inherit;cursor:pointer;border-radius:8px;padding:.625rem 1rem;border:1px solid #8a909c;background:#fff;color:#1a1d23}
button.primary{width:100%;background:#1d4ed8;border-color:#1d4ed8;color:#fff;font-weight:600}
button.primary:hover{background:#1e40af}
button.link{border:0;background:none;padding:0;color:#1d4ed8;text-decoration:underline}
button.danger{color:#b3261e;border-color:#b3261e}
button.oauth{width:100%;display:flex;align-items:center;justify-content:center;gap:.5rem;margin-bottom:.5rem}
.or{text-align:center}
a{color:#1d4ed8}
:focus{outline:none}
:focus-visible,input:focus,button:focus-visible,a:focus-visible,[tabindex="-1"]:focus{outline:3px solid #f59e0b;outline-offset:2px}
.alert{border:2px solid #b3261e;background:#fdecea;color:#5f1410;border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.status{border:2px solid #1b7f3b;background:#e8f5ec;color:#0f4721;border-radius:8px;padding:.75rem 1rem;margin:0 0 1rem}
.alert p,.status p{margin:0}
.alt{margin:1rem 0 0;text-align:center}
ul.list{list-style:none;margin:0 0 1rem;padding:0}
ul.list li{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;justify-content:space-between;padding:.75rem 0;border-bottom:1px solid #e3e5ea}
ul.list li form{margin:0}
.what{overflow-wrap:anywhere;min-width:0}
.tag{display:inline-block;font-size:.75rem;font-weight:600;padding:.125rem .5rem;border-radius:999px;background:#e3e5ea;color:#1a1d23;margin-left:.25rem}
.tag.ok{background:#e8f5ec;color:#0f4721}
.tag.warn{background:#fff4e0;color:#6b4100}
.muted{color:#4b5160;font-size:.875rem}
.row{display:flex;gap:.75rem;flex-wrap:wrap}
.row .field{flex:1 1 10rem;min-width:0}
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_709_251_200_000 + 3_723_000), "2024-03-01 01:02 UTC");
    }
}
