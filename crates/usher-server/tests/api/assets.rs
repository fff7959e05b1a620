//! The browser script: `/npm/usher.js` and every ES module under `web/usher/`, served as the
//! files in the repository are (the binary embeds them, so a module missing from the server's
//! table, or a stale build, shows up here).

use std::path::{Path, PathBuf};

use reqwest::{StatusCode, header};

use crate::helpers::{Db, assert_error, spawn_app};

fn web() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../web")
}

/// The `.js` files under `dir`, as paths relative to it with `/` separators, sorted.
fn modules(dir: &Path, prefix: &str, out: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).expect("web/usher is readable") {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_str().expect("UTF-8 file name"));
        if entry.file_type().unwrap().is_dir() {
            modules(&entry.path(), &format!("{name}/"), out);
        } else if name.ends_with(".js") {
            out.push(name);
        }
    }
    out.sort();
}

#[tokio::test]
async fn the_entry_and_every_module_under_web_usher_are_served_byte_identical() {
    let app = spawn_app(Db::Sqlite).await;
    let mut files = Vec::new();
    modules(&web().join("usher"), "", &mut files);
    assert!(files.iter().any(|f| f == "stores.js") && files.iter().any(|f| f.starts_with("components/")), "{files:?}");
    let served = std::iter::once(("/npm/usher.js".to_owned(), web().join("usher.js")))
        .chain(files.iter().map(|f| (format!("/npm/usher/{f}"), web().join("usher").join(f))));
    for (path, file) in served {
        // Module scripts are fetched in CORS mode from the app's origin.
        let response = app
            .http
            .get(format!("{}{path}", app.url))
            .header(header::ORIGIN, "https://app.example")
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers().clone();
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript; charset=utf-8", "{path}");
        assert_eq!(headers[header::ACCESS_CONTROL_ALLOW_ORIGIN], "*", "{path}");
        assert_eq!(headers[header::CACHE_CONTROL], "public, max-age=300", "{path}");
        let body = response.bytes().await.unwrap();
        assert!(
            body == std::fs::read(&file).unwrap(),
            "{path} differs from {} (rebuild after editing it)",
            file.display()
        );
    }
}

#[tokio::test]
async fn other_paths_under_npm_get_the_usual_not_found() {
    let app = spawn_app(Db::Sqlite).await;
    for path in ["/npm/usher/missing.js", "/npm/usher/components", "/npm/usher/util"] {
        assert_error(&app.get(path).await, StatusCode::NOT_FOUND, "resource_not_found");
    }
}
