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
            println!("{}", printable(&text()));
        }
    }

    /// A note for people (never on stdout, so `--json` output stays clean).
    pub fn note(&self, text: &str) {
        eprintln!("{}", printable(text));
    }

    pub fn warn(&self, text: &str) {
        eprintln!("warning: {}", printable(text));
    }

    /// An error that is not a [`ClientError`] but has a kind scripts can
    /// branch on (`--json`: `{"error": {"kind", "message"}}`).
    pub fn error_kind(&self, kind: &str, message: &str) {
        if self.json {
            println!(
                "{}",
                serde_json::json!({ "error": { "kind": kind, "message": message } })
            );
        } else {
            eprintln!("qrlogin: {}", printable(message));
        }
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

/// Left-aligned columns separated by two spaces, with a header line; no
/// trailing spaces.
pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let mut out = vec![line(headers.to_vec())];
    out.extend(
        rows.iter()
            .map(|row| line(row.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

/// Text for a terminal: anything the server sent (device names, browsers,
/// site names) may hold escape sequences that would rewrite the screen, or
/// bidirectional overrides that reorder what is shown. Control characters
/// other than line breaks and tabs, and Unicode format characters, are
/// shown as `\u{..}` escapes instead.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let format_char = matches!(c,
            '\u{AD}' | '\u{61C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}');
        if (c.is_control() && c != '\n' && c != '\t') || format_char {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_bidi_overrides_from_the_server_are_shown_not_obeyed() {
        assert_eq!(printable("Pixel 8\n\tok"), "Pixel 8\n\tok");
        assert_eq!(printable("x\u{1b}[2Jy"), "x\\u{1b}[2Jy");
        assert_eq!(printable("abc\u{202E}gpj.exe"), "abc\\u{202e}gpj.exe");
        assert_eq!(printable("bell\u{7}\u{9b}"), "bell\\u{7}\\u{9b}");
        assert_eq!(printable("Jürgen’s iPhone"), "Jürgen’s iPhone");
    }

    #[test]
    fn table_columns_line_up_under_their_headers() {
        let text = table(
            &["ID", "DEVICE"],
            vec![
                vec!["s1".into(), "Pixel".into()],
                vec!["long-id".into(), "Mac".into()],
            ],
        );
        assert_eq!(text, "ID       DEVICE\ns1       Pixel\nlong-id  Mac");
    }
}
