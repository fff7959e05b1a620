//! Where a browser may be sent after signing in, up or out: one validator for every flow.
//!
//! A target is either a same-origin path (`/dashboard?x=1`) or an absolute `http(s)` URL whose
//! origin — scheme, host and port, compared exactly after parsing — is usher's own or allowed.
//! Everything else (`//evil`, `/\evil`, `javascript:`, userinfo tricks, look-alike hosts) is
//! refused, so usher is never an open redirect.

use url::Url;

/// The origin allowlist.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    /// Exact origins, normalised by [`parse_origin`].
    pub exact: Vec<String>,
    /// Also any `http(s)://localhost:*` / `http(s)://127.0.0.1:*` (development only).
    pub localhost: bool,
}

impl Origins {
    /// Whether `origin` (as a browser sends it in `Origin`) is allowed.
    pub fn allows(&self, origin: &str) -> bool {
        let Some(normal) = parse_origin(origin) else { return false };
        if self.exact.contains(&normal) {
            return true;
        }
        self.localhost
            && Url::parse(&normal).is_ok_and(|u| {
                matches!(u.scheme(), "http" | "https")
                    && matches!(u.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"))
            })
    }

    /// `target` if it is safe to redirect to, else `None`.
    pub fn safe_redirect(&self, target: &str) -> Option<String> {
        let target = target.trim();
        if target.is_empty() || target.len() > 2048 || target.chars().any(|c| c.is_control() || c == '\\') {
            return None;
        }
        if target.starts_with('/') {
            // A path on the current origin. `//host` and `/\host` are protocol-relative URLs to
            // another host in browsers, so the second character must not be a slash.
            return (!target.starts_with("//")).then(|| target.to_owned());
        }
        let url = Url::parse(target).ok()?;
        if !matches!(url.scheme(), "http" | "https") || !url.username().is_empty() || url.password().is_some() {
            return None;
        }
        self.allows(&url.origin().ascii_serialization()).then(|| url.to_string())
    }
}

/// `scheme://host[:port]` of an `http(s)` origin, normalised (lower case, default port
/// dropped, IDNs in punycode); `None` for anything else, including a URL with a path.
pub fn parse_origin(text: &str) -> Option<String> {
    let url = Url::parse(text.trim()).ok()?;
    let bare = matches!(url.path(), "" | "/") && url.query().is_none() && url.fragment().is_none();
    let plain = url.username().is_empty() && url.password().is_none();
    (matches!(url.scheme(), "http" | "https") && url.host().is_some() && bare && plain)
        .then(|| url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> Origins {
        Origins { exact: vec!["https://app.example.com".into(), "http://127.0.0.1:8787".into()], localhost: false }
    }

    #[test]
    fn open_redirect_attempts_are_refused() {
        let o = origins();
        for bad in [
            "https://evil.example",
            "//evil.example",
            "https://app.example.com.evil.example",
            "https://app.example.com@evil.example",
            "/\\evil.example",
            "https:/evil.example",
            "%2F%2Fevil.example",
            "https://evil.example#@app.example.com",
            "https://APP.example.com.evil.example/",
            "https://аpp.example.com/", // Cyrillic а
            "javascript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox",
            "http://app.example.com/",      // wrong scheme
            "https://app.example.com:444/", // wrong port
            "/ok\r\nSet-Cookie: x=1",
            "",
        ] {
            assert_eq!(o.safe_redirect(bad), None, "{bad:?} was accepted");
        }
    }

    #[test]
    fn allowed_origins_and_paths_pass() {
        let o = origins();
        assert_eq!(o.safe_redirect("/dashboard?x=1").as_deref(), Some("/dashboard?x=1"));
        assert_eq!(o.safe_redirect("https://APP.example.com/a").as_deref(), Some("https://app.example.com/a"));
        assert_eq!(o.safe_redirect("https://app.example.com:443/").as_deref(), Some("https://app.example.com/"));
        assert_eq!(o.safe_redirect("http://127.0.0.1:8787/x").as_deref(), Some("http://127.0.0.1:8787/x"));
    }

    #[test]
    fn localhost_mode_allows_any_local_port_only() {
        let o = Origins { exact: vec![], localhost: true };
        assert!(o.allows("http://localhost:3000"));
        assert!(o.allows("http://127.0.0.1:4321"));
        assert!(o.allows("https://localhost:4321"), "usher dev with TLS serves https apps too");
        assert!(!o.allows("https://localhost.evil.example"));
        assert!(!o.allows("http://127.0.0.1.evil.example"));
        assert!(!o.allows("null"));
    }

    /// Whatever the input, an accepted target is a same-origin path or a URL on an allowed origin.
    #[test]
    fn accepted_targets_always_stay_on_allowed_origins() {
        let o = origins();
        let pieces = [
            "/",
            "//",
            "\\",
            ":",
            "@",
            ".",
            "#",
            "?",
            "%2F",
            "%5C",
            "https:",
            "http:",
            "javascript:",
            "app.example.com",
            "evil.example",
            "127.0.0.1:8787",
            ":443",
            "\t",
            " ",
            "a",
            "xn--pp-",
            "\u{430}",
        ];
        let prefixes = ["", "https://", "http://", "https://app.example.com", "/", "//", "https:/"];
        let mut bytes = [0u8; 4096];
        aws_lc_rs::rand::fill(&mut bytes).unwrap();
        let mut random = bytes.iter().copied().cycle();
        for _ in 0..20_000 {
            let mut candidate = prefixes[usize::from(random.next().unwrap()) % prefixes.len()].to_owned();
            for _ in 0..usize::from(random.next().unwrap() % 6) {
                candidate.push_str(pieces[usize::from(random.next().unwrap()) % pieces.len()]);
            }
            let Some(target) = o.safe_redirect(&candidate) else { continue };
            let relative = target.starts_with('/') && !target.starts_with("//") && !target.contains('\\');
            let allowed = Url::parse(&target).is_ok_and(|u| o.exact.contains(&u.origin().ascii_serialization()));
            assert!(relative || allowed, "{candidate:?} was accepted as {target:?}");
        }
    }

    #[test]
    fn origins_parse_strictly() {
        assert_eq!(parse_origin("https://App.Example.com:443").as_deref(), Some("https://app.example.com"));
        assert_eq!(parse_origin("https://app.example.com/path"), None);
        assert_eq!(parse_origin("ftp://app.example.com"), None);
        assert_eq!(parse_origin("app.example.com"), None);
    }
}
