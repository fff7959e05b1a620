//! The `Cookie` header reader shared by the server and the SDK (`usher_types::token::cookie`),
//! and the server's wrapper over a `HeaderMap`: arbitrary header values and cookie names. A value
//! found is a `;`-free slice of one header value that followed `name=` (never built from anything
//! else), and the wrapper agrees with the reader.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header::COOKIE};
use libfuzzer_sys::fuzz_target;
use usher_server::http::cookies::{CLIENT_COOKIE, cookie as server_cookie};
use usher_types::token::{SESSION_COOKIE, cookie};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // The first line is a cookie name; the others are Cookie header values, as HTTP/2 clients
    // send several.
    let mut lines = text.split('\n');
    let name = lines.next().unwrap_or_default();
    let values: Vec<&str> = lines.collect();
    let mut headers = HeaderMap::new();
    for v in &values {
        if let Ok(value) = HeaderValue::from_str(v) {
            headers.append(COOKIE, value);
        }
    }
    for name in [CLIENT_COOKIE, SESSION_COOKIE, name] {
        if let Some(found) = cookie(values.iter().copied(), name) {
            assert!(!found.contains(';'), "{found:?}");
            let start = found.as_ptr() as usize;
            assert!(
                values.iter().any(|v| {
                    let base = v.as_ptr() as usize;
                    start >= base && start + found.len() <= base + v.len() && v[..start - base].ends_with('=')
                }),
                "{found:?} is not a slice of a header value after '='"
            );
        }
        let visible: Vec<&str> = headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).collect();
        assert_eq!(server_cookie(&headers, name), cookie(visible, name));
    }
});
