//! THREAT_MODEL.md promises that every threat names the test that fails if
//! its defense is removed. This keeps that promise honest: every numbered
//! threat names at least one test, and every test it names exists.

use std::path::{Path, PathBuf};

/// Where a bare `file.rs::test` reference may live, in search order.
const RUST_TEST_DIRS: [&str; 6] = [
    "server/tests/api",
    "server/tests/scale",
    "server/src",
    "client/tests/e2e",
    "core/tests",
    "src-tauri/src",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("core/ sits in the repo root")
        .to_path_buf()
}

fn threat_model() -> String {
    std::fs::read_to_string(repo().join("THREAT_MODEL.md")).expect("THREAT_MODEL.md exists")
}

/// `file.rs::test_name` references written in backticks.
fn rust_references(text: &str) -> Vec<(String, String)> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter_map(|code| code.split_once(".rs::"))
        // `file.rs::{memory,redis}::name`: the test's own name is the last part.
        .map(|(file, path)| (file, path.rsplit("::").next().unwrap_or(path)))
        .filter(|(_, name)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        .map(|(file, name)| (format!("{file}.rs"), name.to_string()))
        .filter(|(file, name)| !(file == "file.rs" && name == "test_name"))
        .collect()
}

/// `` `tests/browser/x.test.mjs` "test title" `` references (the title may
/// wrap across lines in the Markdown).
fn js_references(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(".mjs` \"") {
        let file_start = rest[..start].rfind('`').expect("opening backtick") + 1;
        let file = format!("{}.mjs", &rest[file_start..start]);
        let after = &rest[start + ".mjs` \"".len()..];
        let end = after.find('"').expect("closing quote of a test title");
        let title = after[..end]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        found.push((file, title));
        rest = &after[end..];
    }
    found
}

fn rust_file_for(file: &str) -> Option<PathBuf> {
    let root = repo();
    if file.contains('/') {
        return Some(root.join(file)).filter(|p| p.exists());
    }
    RUST_TEST_DIRS
        .iter()
        .map(|dir| root.join(dir).join(file))
        .find(|p| p.exists())
}

fn defines_rust_fn(source: &str, name: &str) -> bool {
    source.contains(&format!("fn {name}(")) || source.contains(&format!("fn {name}<"))
}

#[test]
fn every_test_the_threat_model_names_exists() {
    let text = threat_model();
    let mut missing = Vec::new();
    let rust = rust_references(&text);
    assert!(rust.len() > 20, "found only {} references", rust.len());
    for (file, name) in &rust {
        let found = rust_file_for(file)
            .and_then(|path| std::fs::read_to_string(path).ok())
            .is_some_and(|source| defines_rust_fn(&source, name));
        if !found {
            missing.push(format!("{file}::{name}"));
        }
    }
    for (file, title) in js_references(&text) {
        let source = std::fs::read_to_string(repo().join(&file)).unwrap_or_default();
        let flat = source.split_whitespace().collect::<Vec<_>>().join(" ");
        if !flat.contains(&title) {
            missing.push(format!("{file} \"{title}\""));
        }
    }
    assert!(
        missing.is_empty(),
        "THREAT_MODEL.md names tests that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn every_numbered_threat_names_a_test() {
    let text = threat_model();
    let sections: Vec<&str> = text.split("\n## ").skip(1).collect();
    let numbered: Vec<&str> = sections
        .iter()
        .copied()
        .filter(|s| s.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert!(numbered.len() >= 13, "expected the 13 threats of issue #10");
    for section in numbered {
        let title = section.lines().next().unwrap_or_default();
        assert!(
            !rust_references(section).is_empty() || !js_references(section).is_empty(),
            "threat `{title}` names no test"
        );
    }
}

#[test]
fn the_reference_parsers_find_what_they_should() {
    let text = "see `flow.rs::full_flow` and `core/src/qr.rs::origin_eq`, not `LoginQr::parse`;\n\
                `n.rs::{memory,redis}::a_wrong_pick`;\n\
                `tests/browser/login.test.mjs` \"serves the\n page\".";
    assert_eq!(
        rust_references(text),
        vec![
            ("flow.rs".to_string(), "full_flow".to_string()),
            ("core/src/qr.rs".to_string(), "origin_eq".to_string()),
            ("n.rs".to_string(), "a_wrong_pick".to_string()),
        ]
    );
    assert_eq!(
        js_references(text),
        vec![(
            "tests/browser/login.test.mjs".to_string(),
            "serves the page".to_string()
        )]
    );
}
