//! The module graph of the server crate, read from its source: flows know nothing of HTTP, the
//! APIs and the pages are siblings, and no top-level module reaches back up (no circles).
//! Imports are what follows `crate::` outside comments and test modules.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::Path,
};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The top-level modules each top-level module imports.
fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap();
            let top =
                relative.components().next().unwrap().as_os_str().to_string_lossy().trim_end_matches(".rs").to_owned();
            if top == "lib" || top == "main" {
                continue;
            }
            let text = fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let code: String =
                code.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            let imports = graph.entry(top.clone()).or_default();
            imports.extend(imported(&code).into_iter().filter(|m| *m != top && m != "self"));
        }
    }
    graph
}

/// Top-level module names after each `crate::` (both `crate::a::b` and `crate::{a, b::c}`).
fn imported(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| s.trim_start().chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>();
    let mut found = BTreeSet::new();
    for (at, _) in code.match_indices("crate::") {
        let rest = &code[at + "crate::".len()..];
        if !rest.starts_with('{') {
            found.insert(ident(rest));
            continue;
        }
        let (mut depth, mut item) = (0, String::new());
        for c in rest.chars() {
            match c {
                '{' => {
                    depth += 1;
                    if depth == 2 {
                        found.insert(ident(&item));
                        item.clear();
                    }
                }
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                ',' if depth == 1 => {
                    found.insert(ident(&item));
                    item.clear();
                }
                c if depth == 1 => item.push(c),
                _ => {}
            }
        }
        found.insert(ident(&item));
    }
    found.retain(|m| !m.is_empty());
    found
}

fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_owned()];
    while let Some(module) = stack.pop() {
        for next in graph.get(&module).into_iter().flatten() {
            if next == to {
                return true;
            }
            if seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

#[test]
fn the_reader_finds_both_import_forms() {
    let code = "use crate::{a, b::{c, d}, e::f};\nuse crate::g::h;\nlet x = crate::i::j();";
    let found: Vec<String> = imported(code).into_iter().collect();
    assert_eq!(found, ["a", "b", "e", "g", "i"]);
}

#[test]
fn flows_know_nothing_of_http() {
    let graph = graph();
    let flows = &graph["flows"];
    for edge in ["http", "api", "pages", "router"] {
        assert!(!flows.contains(edge), "flows imports {edge}");
    }
    let text = |dir: &str| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(dir);
        fs::read_dir(dir).unwrap().map(|e| fs::read_to_string(e.unwrap().path()).unwrap()).collect::<String>()
    };
    assert!(!text("flows").contains("axum::"), "flows uses axum types");
}

#[test]
fn the_apis_and_the_pages_are_siblings() {
    let graph = graph();
    assert!(!graph["api"].contains("pages"), "api imports pages");
    assert!(!graph["pages"].contains("api"), "pages imports api");
    for below in ["http", "flows", "store", "tokens"] {
        for above in ["api", "pages", "router"] {
            assert!(!reaches(&graph, below, above), "{below} reaches up to {above}");
        }
    }
}

#[test]
fn no_module_is_in_a_circle() {
    let graph = graph();
    let circles: Vec<(&String, &String)> = graph
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
        .filter(|(from, to)| reaches(&graph, to, from))
        .collect();
    assert!(circles.is_empty(), "imports in circles: {circles:?}");
}
