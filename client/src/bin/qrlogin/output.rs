//! Human text on stdout/stderr, or JSON on stdout with `--json`.

use qrlogin_client::ClientError;
use serde::Serialize;

pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Self {
        Self { json }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints `value` as JSON with `--json`, else the human `text`.
    pub fn result<T: Serialize>(&self, value: &T, text: impl FnOnce() -> String) {
        if self.json {
            match serde_json::to_string_pretty(value) {
                Ok(json) => println!("{json}"),
                Err(e) => eprintln!("qrlogin: cannot print JSON: {e}"),
            }
        } else {
            println!("{}", text());
        }
    }

    /// A note for people (never on stdout, so `--json` output stays clean).
    pub fn note(&self, text: &str) {
        eprintln!("{text}");
    }

    pub fn warn(&self, text: &str) {
        eprintln!("warning: {text}");
    }

    pub fn error(&self, err: &anyhow::Error) {
        let client = err.downcast_ref::<ClientError>();
        if self.json {
            let body = match client {
                Some(e) => serde_json::json!({ "error": e }),
                None => serde_json::json!({
                    "error": { "kind": "other", "message": format!("{err:#}") }
                }),
            };
            println!("{body}");
        } else {
            eprintln!("qrlogin: {err:#}");
        }
    }
}
