//! The OpenAPI document (`GET /v1/openapi.json`) and the router cannot drift apart: every
//! `.route(…)` in `src/api/` is in the document with the same methods, and every operation in
//! the document is answered by a handler on a real server (a method it does not list gets 405).
//! Whether the answers match the document's schemas is schemathesis's job (`scripts/test`).

use std::collections::BTreeSet;

use reqwest::{Method, StatusCode};
use serde_json::Value;

use crate::helpers::{Db, spawn_app};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// `/v1/users/{user_id}` and `/v1/users/{id}` are the same route.
fn normalise(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') && seg.ends_with('}') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// The `(method, path)` of every `.route("…", …)` call in the API modules' source.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/api");
    let mut files = Vec::new();
    // The hosted pages serve one Frontend API path, the emailed link (`/v1/verify`).
    let pages = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/pages");
    let mut dirs = vec![root.clone(), pages.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path)
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path)
            }
        }
    }
    let mut routes = BTreeSet::new();
    for file in files {
        // The Backend API's router is nested under /v1.
        let prefix = if file.starts_with(root.join("backend")) { "/v1" } else { "" };
        let text = std::fs::read_to_string(&file).unwrap();
        for (start, _) in text.match_indices(".route(\"") {
            let call = &text[start + ".route(".len()..];
            let path = call[1..].split('"').next().unwrap();
            if file.starts_with(&pages) && !path.starts_with("/v1/") {
                continue;
            }
            // The call's text up to its closing parenthesis.
            let mut depth = 1;
            let end = call
                .char_indices()
                .find(|&(_, c)| {
                    depth += match c {
                        '(' => 1,
                        ')' => -1,
                        _ => 0,
                    };
                    depth == 0
                })
                .unwrap()
                .0;
            let methods: Vec<&str> = METHODS
                .into_iter()
                .filter(|m| {
                    call[..end]
                        .match_indices(&format!("{m}("))
                        .any(|(i, _)| !call[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
                })
                .collect();
            assert!(!methods.is_empty(), "no method found in the route {path} of {}", file.display());
            for method in methods {
                routes.insert((method.to_owned(), normalise(&format!("{prefix}{path}"))));
            }
        }
    }
    routes
}

fn operations(document: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            ops.insert((method.clone(), normalise(path)));
        }
    }
    ops
}

#[tokio::test]
async fn the_document_is_public_and_names_exactly_the_routes_in_the_source() {
    let app = spawn_app(Db::Sqlite).await;
    let response = app.http.get(format!("{}/v1/openapi.json", app.url)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "no key needed");
    let document: Value = response.json().await.unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let documented = operations(&document);
    let in_source = routes_in_source();
    assert!(in_source.len() > 40, "the source scan found the routes: {in_source:?}");
    let missing: Vec<_> = in_source.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&in_source).collect();
    assert!(missing.is_empty(), "routes missing from the OpenAPI document: {missing:?}");
    assert!(extra.is_empty(), "operations in the OpenAPI document the source has no route for: {extra:?}");
    // Every schema referenced is defined.
    let text = document.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().unwrap();
        assert!(document["components"]["schemas"].get(name).is_some(), "undefined schema {name}");
    }
}

#[tokio::test]
async fn every_documented_operation_is_served_and_every_other_method_is_refused() {
    let app = spawn_app(Db::Sqlite).await;
    let document = app.get("/v1/openapi.json").await.1;
    for (path, item) in document["paths"].as_object().unwrap() {
        let concrete = path
            .split('/')
            .map(|seg| if seg.starts_with('{') { "x_unknown" } else { seg })
            .collect::<Vec<_>>()
            .join("/");
        for method in METHODS {
            let (status, body) =
                app.call(Method::from_bytes(method.to_uppercase().as_bytes()).unwrap(), &concrete, None).await;
            let no_route = status == StatusCode::NOT_FOUND
                && body["errors"][0]["long_message"].as_str().is_some_and(|m| m.contains("No route"));
            if item.get(method).is_some() {
                assert!(status != StatusCode::METHOD_NOT_ALLOWED && !no_route, "{method} {path}: {status} {body}");
                assert!(!status.is_server_error(), "{method} {path}: {status} {body}");
            } else {
                assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path} is not documented: {body}");
            }
        }
    }
}
