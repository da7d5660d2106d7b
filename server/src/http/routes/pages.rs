//! The hosted page, the SDK and their assets, embedded from `server/web/`.

use axum::extract::{Path, State};
use axum::http::header::{ACCESS_CONTROL_ALLOW_ORIGIN, CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use include_dir::{Dir, include_dir};
use qrlogin_core::TicketId;

use crate::AppState;
use crate::http::error::AppError;

static WEB: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The content type for a file name.
fn content_type(name: &str) -> &'static str {
    let ext = name.rsplit('.').next().unwrap_or_default();
    match ext {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "json" | "map" => "application/json",
        "woff2" => "font/woff2",
        "ts" | "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

fn file(status: StatusCode, name: &str) -> Response {
    match WEB.get_file(name) {
        Some(f) => (
            status,
            [
                (CONTENT_TYPE, content_type(name)),
                (CACHE_CONTROL, "no-cache"),
            ],
            f.contents(),
        )
            .into_response(),
        None => AppError::not_found(format!("{name} is not part of this build")).into_response(),
    }
}

/// An HTML page of `server/web/` with each `{{name}}` replaced by its value,
/// HTML-escaped.
pub fn template(status: StatusCode, name: &str, values: &[(&str, &str)]) -> Response {
    let Some(text) = WEB.get_file(name).and_then(|f| f.contents_utf8()) else {
        return AppError::not_found(format!("{name} is not part of this build")).into_response();
    };
    let mut page = text.to_string();
    for (key, value) in values {
        page = page.replace(&format!("{{{{{key}}}}}"), &escape_html(value));
    }
    (
        status,
        [
            (CONTENT_TYPE, content_type(name)),
            (CACHE_CONTROL, "no-store"),
        ],
        page,
    )
        .into_response()
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `/`: the hosted demo login page.
pub async fn index() -> Response {
    file(StatusCode::OK, "index.html")
}

/// `/sdk/qrlogin.js`.
pub async fn sdk() -> Response {
    public(file(StatusCode::OK, "qrlogin.js"))
}

/// `/sdk/qrlogin.d.ts`.
pub async fn sdk_types() -> Response {
    public(file(StatusCode::OK, "qrlogin.d.ts"))
}

/// `/sdk/qrlogin/{file}`: the SDK's modules, which `/sdk/qrlogin.js` imports
/// (and their generated types, `wire.d.ts`).
pub async fn sdk_module(Path(name): Path<String>) -> Response {
    public(file(StatusCode::OK, &format!("qrlogin/{name}")))
}

/// Readable from any origin: other sites load the SDK as an ES module (a
/// CORS request), relying parties in browsers read the discovery document.
/// The API calls the SDK makes are still limited to `--allowed-origin`.
pub fn public(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    response
}

/// `/q/{id}`: a phone's camera opened the QR link — tell the person to use
/// the app. A malformed id gets the same page with status 404.
pub async fn qr_landing(Path(id): Path<String>) -> Response {
    let status = match TicketId::parse(&id) {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::NOT_FOUND,
    };
    file(status, "q.html")
}

/// `/.well-known/assetlinks.json` (Android App Links), when configured.
pub async fn assetlinks(State(state): State<AppState>) -> Response {
    well_known(state.settings.app_links.assetlinks())
}

/// `/.well-known/apple-app-site-association` (Universal Links), when configured.
pub async fn apple_app_site_association(State(state): State<AppState>) -> Response {
    well_known(state.settings.app_links.apple_app_site_association())
}

fn well_known(document: Option<serde_json::Value>) -> Response {
    match document {
        Some(doc) => (
            [
                (CONTENT_TYPE, "application/json"),
                (CACHE_CONTROL, "public, max-age=3600"),
            ],
            doc.to_string(),
        )
            .into_response(),
        None => AppError::not_found(
            "no phone app is configured on this server (--android-app-id, --ios-app-id)",
        )
        .into_response(),
    }
}

/// `/static/<path>`: every file of `server/web/`.
pub async fn asset(Path(path): Path<String>) -> Response {
    file(StatusCode::OK, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_types_fit_the_files() {
        assert_eq!(content_type("index.html"), "text/html; charset=utf-8");
        assert_eq!(content_type("qrlogin.js"), "text/javascript; charset=utf-8");
        assert_eq!(content_type("qrlogin.d.ts"), "text/plain; charset=utf-8");
        assert_eq!(content_type("style.css"), "text/css; charset=utf-8");
        assert_eq!(content_type("x"), "application/octet-stream");
    }

    #[test]
    fn templates_escape_their_values() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

    #[test]
    fn the_page_and_sdk_are_embedded() {
        assert!(WEB.get_file("authorize.html").is_some());
        assert!(WEB.get_file("oauth-error.html").is_some());
        assert!(WEB.get_file("index.html").is_some());
        assert!(WEB.get_file("q.html").is_some());
        assert!(WEB.get_file("qrlogin.js").is_some());
        assert!(WEB.get_file("qrlogin/session.js").is_some());
    }
}
