//! The redirect validator: whatever it accepts is a same-origin path (never `//` or `/\`) or an
//! http(s) URL on an allowed origin, with no control characters and no userinfo.
#![no_main]

use libfuzzer_sys::fuzz_target;
use url::Url;
use usher_server::origins::{Origins, parse_origin};

fuzz_target!(|data: &[u8]| {
    let Ok(target) = std::str::from_utf8(data) else { return };
    let origins = Origins { exact: vec!["https://app.test".into(), "http://localhost:3000".into()], localhost: false };
    let _ = parse_origin(target);
    let Some(safe) = origins.safe_redirect(target) else { return };
    assert!(!safe.chars().any(|c| c.is_control() || c == '\\'), "{safe:?}");
    if safe.starts_with('/') {
        assert!(!safe.starts_with("//"), "{safe:?}");
        // A browser resolving it against usher's origin stays there.
        let base = Url::parse("https://usher.test/").unwrap();
        let resolved = base.join(&safe).expect("a safe path resolves");
        assert_eq!(resolved.origin(), base.origin(), "{safe:?}");
    } else {
        let url = Url::parse(&safe).expect("a safe URL parses");
        assert!(url.username().is_empty() && url.password().is_none(), "{safe:?}");
        assert!(origins.exact.contains(&url.origin().ascii_serialization()), "{safe:?}");
    }
});
