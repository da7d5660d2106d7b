//! Health, metrics, JWKS, OpenAPI, the embedded page and SDK, CORS.

use reqwest::StatusCode;

use crate::{Db, spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_checks_database_and_store() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"], "ok");
    assert_eq!(body["ticket_store"], "ok");
}

#[tokio::test]
async fn metrics_count_tickets_by_state_and_request_latency() {
    let app = spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    assert_eq!(app.exchange(&ticket).await.status(), StatusCode::OK);
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("qrlogin_tickets_total{state=\"pending\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("qrlogin_tickets_total{state=\"consumed\"} 1"),
        "{text}"
    );
    assert!(text.contains(
        "qrlogin_http_request_duration_seconds_count{method=\"POST\",route=\"/api/v1/qr/{id}/exchange\",status=\"200\"} 1"
    ), "{text}");
}

#[tokio::test]
async fn jwks_publishes_one_ed25519_key() {
    let app = spawn_app().await;
    let jwks: serde_json::Value = app
        .client
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["crv"], "Ed25519");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()));
    assert!(
        key.get("d").is_none(),
        "the private part must never be published"
    );
}

#[tokio::test]
async fn signing_key_survives_a_restart() {
    let first = spawn_app().await;
    let kid = |app: &crate::TestApp| {
        let url = app.url("/.well-known/jwks.json");
        let client = app.client.clone();
        async move {
            let jwks: serde_json::Value =
                client.get(url).send().await.unwrap().json().await.unwrap();
            jwks["keys"][0]["kid"].as_str().unwrap().to_string()
        }
    };
    let before = kid(&first).await;
    let crate::TestApp { server, dir, .. } = first;
    server.unwrap().shutdown().await.unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let second = crate::spawn_app_at(dir, url, &[]).await;
    assert_eq!(kid(&second).await, before);
}

/// Every route of the contract, as (method, OpenAPI path).
const CONTRACT: [(&str, &str); 23] = [
    ("post", "/api/v1/qr"),
    ("get", "/api/v1/qr/{id}"),
    ("delete", "/api/v1/qr/{id}"),
    ("get", "/api/v1/qr/{id}/events"),
    ("post", "/api/v1/qr/{id}/exchange"),
    ("post", "/api/v1/app/sessions"),
    ("get", "/api/v1/app/me"),
    ("delete", "/api/v1/app/sessions/current"),
    ("post", "/api/v1/qr/{id}/scan"),
    ("post", "/api/v1/qr/{id}/confirm"),
    ("post", "/api/v1/qr/{id}/cancel"),
    ("get", "/api/v1/app/sessions"),
    ("delete", "/api/v1/app/sessions/{id}"),
    ("get", "/api/v1/app/sign-ins"),
    ("post", "/api/v1/app/sign-ins/{id}/revoke"),
    ("get", "/api/v1/app/settings"),
    ("patch", "/api/v1/app/settings"),
    ("get", "/api/v1/web/me"),
    ("get", "/api/v1/web/revoked"),
    ("get", "/healthz"),
    ("get", "/metrics"),
    ("get", "/.well-known/jwks.json"),
    ("get", "/avatars/{file}"),
];

#[tokio::test]
async fn openapi_lists_every_api_route() {
    let app = spawn_app().await;
    let spec: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(spec["openapi"].as_str().unwrap().starts_with("3."));
    let paths = spec["paths"].as_object().unwrap();
    for (method, path) in CONTRACT {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} missing from the OpenAPI document"
        );
    }
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for dto in [
        "CreateTicketResponse",
        "StatusView",
        "ExchangeResponse",
        "SignInRequest",
        "ScanResponse",
        "SessionList",
        "SignInList",
        "RevokeResponse",
        "AccountSettings",
        "RevocationList",
        "ApiError",
    ] {
        assert!(schemas.contains_key(dto), "schema {dto} missing");
    }
    let listed: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        listed,
        CONTRACT.len(),
        "the document lists routes the test does not know"
    );
    // And every listed route really exists (answers something other than the 404 fallback).
    for (method, path) in CONTRACT {
        let url = app.url(
            &path
                .replace("{id}", "AAAAAAAAAAAAAAAAAAAAAA")
                .replace("{file}", "x.svg"),
        );
        let response = app
            .client
            .request(method.to_uppercase().parse().unwrap(), url)
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::NOT_FOUND {
            let body: qrlogin_core::ApiError = response.json().await.unwrap();
            assert_ne!(body.message, "no such route", "{method} {path}");
        }
    }
}

#[tokio::test]
async fn pages_are_served_with_strict_headers() {
    let app = spawn_app().await;
    for (path, content_type) in [
        ("/", "text/html; charset=utf-8"),
        ("/q/AAAAAAAAAAAAAAAAAAAAAA", "text/html; charset=utf-8"),
        ("/sdk/qrlogin.js", "text/javascript; charset=utf-8"),
        ("/static/qrlogin.js", "text/javascript; charset=utf-8"),
        ("/static/index.html", "text/html; charset=utf-8"),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        let headers = response.headers();
        assert_eq!(headers["content-type"], content_type, "{path}");
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(headers["x-frame-options"], "DENY");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
}

#[tokio::test]
async fn the_qr_landing_page_answers_404_for_a_malformed_id() {
    let app = spawn_app().await;
    let response = app
        .client
        .get(app.url("/q/not-an-id"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let response = app
        .client
        .get(app.url("/static/nope.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn cors_allows_configured_origins_on_the_web_side_only() {
    let app = spawn_app_with(Db::Sqlite, &["--allowed-origin", "https://shop.example"]).await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/qr"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "https://shop.example"
    );

    let create = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("origin", "https://shop.example")
        .send()
        .await
        .unwrap();
    assert_eq!(create.status(), StatusCode::CREATED);
    assert_eq!(
        create.headers()["access-control-allow-origin"],
        "https://shop.example"
    );
    let exposed = create.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap();
    assert!(exposed.to_ascii_lowercase().contains("date"), "{exposed}");
    assert!(create.headers().contains_key("date"));

    let stranger = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert!(
        !stranger
            .headers()
            .contains_key("access-control-allow-origin")
    );

    let app_side = app
        .client
        .post(app.url("/api/v1/app/sessions"))
        .header("origin", "https://shop.example")
        .json(&serde_json::json!({"username": "alice", "password": "demo"}))
        .send()
        .await
        .unwrap();
    assert!(
        !app_side
            .headers()
            .contains_key("access-control-allow-origin")
    );

    // The signed-in page asks who it is, and a relying party for the
    // revocation list, from the allowed origin.
    for path in ["/api/v1/web/me", "/api/v1/web/revoked"] {
        let preflight = app
            .client
            .request(reqwest::Method::OPTIONS, app.url(path))
            .header("origin", "https://shop.example")
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
            .await
            .unwrap();
        assert!(preflight.status().is_success(), "{path}");
        assert_eq!(
            preflight.headers()["access-control-allow-origin"],
            "https://shop.example",
            "{path}"
        );
    }
    let settings = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v1/app/settings"))
        .header("origin", "https://shop.example")
        .header("access-control-request-method", "PATCH")
        .send()
        .await
        .unwrap();
    assert!(
        !settings
            .headers()
            .contains_key("access-control-allow-origin")
    );
}

#[tokio::test]
async fn https_deployments_send_strict_transport_security() {
    let https = crate::spawn_app_with(
        crate::Db::Sqlite,
        &["--public-url", "https://login.example.com"],
    )
    .await;
    for path in ["/", "/healthz", "/api/v1/qr/nope"] {
        let response = https
            .client
            .get(format!(
                "http://{}{path}",
                https.server.as_ref().unwrap().addr
            ))
            .send()
            .await
            .unwrap();
        let hsts = response.headers().get("strict-transport-security");
        assert_eq!(
            hsts.and_then(|v| v.to_str().ok()),
            Some("max-age=63072000; includeSubDomains"),
            "{path}"
        );
    }
    // Plain-http (loopback) deployments must not pin browsers to https.
    let plain = crate::spawn_app().await;
    let response = plain.client.get(plain.url("/")).send().await.unwrap();
    assert!(
        response
            .headers()
            .get("strict-transport-security")
            .is_none()
    );
}

/// The SQLite database holds password and token hashes: it and the
/// write-ahead log files beside it are readable by their owner only.
#[cfg(unix)]
#[tokio::test]
async fn the_database_files_are_private_to_their_owner() {
    use std::os::unix::fs::PermissionsExt as _;
    let app = crate::spawn_app().await;
    let ticket = app.confirmed_ticket().await;
    assert_eq!(app.exchange(&ticket).await.status(), 200);
    for file in ["test.db", "test.db-wal", "test.db-shm"] {
        let meta = std::fs::metadata(app.dir.path().join(file))
            .unwrap_or_else(|e| panic!("{file}: {e} (the database runs in WAL mode)"));
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{file}");
    }
}

#[tokio::test]
async fn app_link_documents_are_served_when_the_app_is_configured() {
    let print = "14:6D:E9:83:C5:73:06:50:D8:EE:B9:95:2F:34:FC:64:16:A0:83:42:E6:1D:BE:A8:8A:04:96:B2:3F:CF:44:E5";
    let app = crate::spawn_app_with(
        crate::Db::Sqlite,
        &[
            "--android-app-id",
            "org.qrlogin.app",
            "--android-cert-sha256",
            print,
            "--ios-app-id",
            "ABCDE12345.org.qrlogin.app",
        ],
    )
    .await;
    let android = app
        .client
        .get(app.url("/.well-known/assetlinks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(android.status(), 200);
    assert_eq!(android.headers()["content-type"], "application/json");
    let android: serde_json::Value = android.json().await.unwrap();
    assert_eq!(android[0]["target"]["namespace"], "android_app");
    assert_eq!(android[0]["target"]["package_name"], "org.qrlogin.app");
    assert_eq!(android[0]["target"]["sha256_cert_fingerprints"][0], print);
    let apple = app
        .client
        .get(app.url("/.well-known/apple-app-site-association"))
        .send()
        .await
        .unwrap();
    assert_eq!(apple.status(), 200);
    let apple: serde_json::Value = apple.json().await.unwrap();
    assert_eq!(
        apple["applinks"]["details"][0]["appIDs"][0],
        "ABCDE12345.org.qrlogin.app"
    );
    assert_eq!(
        apple["applinks"]["details"][0]["components"][0]["/"],
        "/q/*"
    );

    let plain = crate::spawn_app().await;
    let none = plain
        .client
        .get(plain.url("/.well-known/assetlinks.json"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        none.status(),
        404,
        "nothing to serve without an app identity"
    );
}
