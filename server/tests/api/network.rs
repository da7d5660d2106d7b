//! The scan answer's context for the confirm screen: which site is asking
//! (`site`), the app's own address (`scanner_ip`), and whether the browser
//! that shows the QR is on the app's network (`same_network`). A relayed QR
//! (phishing) is shown on the attacker's browser, on another network.

use qrlogin_core::{CreateTicketResponse, ScanResponse};
use reqwest::StatusCode;

use crate::{Db, TestApp, spawn_app, spawn_app_with};

/// `POST /api/v1/qr` as if from `ip` (behind the trusted proxy).
async fn create_from(app: &TestApp, ip: &str) -> CreateTicketResponse {
    let response = app
        .client
        .post(app.url("/api/v1/qr"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    response.json().await.unwrap()
}

/// Alice scans `ticket` from `ip` (behind the trusted proxy).
async fn scan_from(
    app: &TestApp,
    token: &str,
    ticket: &CreateTicketResponse,
    ip: &str,
) -> ScanResponse {
    let response = app
        .client
        .post(app.url(&format!("/api/v1/qr/{}/scan", ticket.id)))
        .header("x-forwarded-for", ip)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn on_loopback_the_app_and_the_browser_share_a_network_and_the_site_is_the_public_host() {
    let app = spawn_app().await;
    let alice = app.sign_in("alice").await;
    let ticket = app.create().await;
    let response = app.app_call(&alice, &ticket.id.to_string(), "scan").await;
    let scan: ScanResponse = response.json().await.unwrap();
    assert!(scan.same_network);
    assert_eq!(scan.scanner_ip.to_string(), "127.0.0.1");
    assert_eq!(scan.requester.ip.to_string(), "127.0.0.1");
    assert_eq!(scan.site.origin, app.base);
    let host = reqwest::Url::parse(&app.base)
        .unwrap()
        .host_str()
        .unwrap()
        .to_string();
    assert_eq!(scan.site.name, host);
}

#[tokio::test]
async fn a_browser_on_another_network_is_flagged_with_the_apps_own_address() {
    let app = spawn_app_with(
        Db::Sqlite,
        &["--trust-proxy", "--site-name", "Example Shop"],
    )
    .await;
    let alice = app.sign_in("alice").await;

    let relayed = create_from(&app, "203.0.113.7").await;
    let scan = scan_from(&app, &alice, &relayed, "198.51.100.9").await;
    assert!(
        !scan.same_network,
        "a browser at another address is another network"
    );
    assert_eq!(scan.scanner_ip.to_string(), "198.51.100.9");
    assert_eq!(scan.requester.ip.to_string(), "203.0.113.7");
    assert_eq!(scan.site.name, "Example Shop");
    assert_eq!(scan.site.origin, app.base);

    let at_home = create_from(&app, "198.51.100.9").await;
    assert!(
        scan_from(&app, &alice, &at_home, "198.51.100.9")
            .await
            .same_network
    );
}

#[tokio::test]
async fn ipv6_clients_share_a_network_within_one_64() {
    let app = spawn_app_with(Db::Sqlite, &["--trust-proxy"]).await;
    let alice = app.sign_in("alice").await;
    let same_64 = create_from(&app, "2001:db8:5:6::1").await;
    let scan = scan_from(&app, &alice, &same_64, "2001:db8:5:6:aaaa::2").await;
    assert!(scan.same_network);
    assert_eq!(scan.scanner_ip.to_string(), "2001:db8:5:6:aaaa::2");
    let other_64 = create_from(&app, "2001:db8:5:7::1").await;
    assert!(
        !scan_from(&app, &alice, &other_64, "2001:db8:5:6:aaaa::2")
            .await
            .same_network
    );
}
