//! Issue #10 from the command line, against a real server: number matching
//! (`--code`), the different-network warning, sessions, sign-ins with
//! "Was this you?", and turning QR sign-in off. The CLI keeps its token in
//! the OS keyring (CI runs the tests inside `scripts/with-keyring`).

use qrlogin_core::{CancelReason, CreateTicketResponse, ErrorCode, TicketStatus};

use crate::support::{Cli, TestServer};

/// A CLI signed in as `user` with its token in the OS keyring.
fn signed_in(server: &TestServer, user: &str) -> Cli {
    let cli = Cli::new(false);
    cli.login(&server.url, user).assert_ok();
    cli
}

/// The number the page shows once the ticket is scanned: another app
/// session of the same user scans first (scanning again as the same user is
/// allowed), then the page's view is read.
async fn page_number(server: &TestServer, user: &str, ticket: &CreateTicketResponse) -> String {
    let phone = server.app_sign_in(user, "phone").await;
    assert_eq!(server.scan_with(&phone, ticket).await, 200);
    server
        .status(ticket)
        .await
        .verification_code
        .expect("with --verification-code the scanned page shows a number")
}

fn choices(run: &crate::support::cli::Run) -> Vec<String> {
    run.json()["request"]["verification_choices"]
        .as_array()
        .expect("three choices")
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn number_matching_with_the_page_number_confirms() {
    let server = TestServer::start_with(&["--verification-code"]).await;
    let cli = signed_in(&server, "alice");
    let ticket = server.create_ticket().await;
    let number = page_number(&server, "alice", &ticket).await;

    let scan = cli.run(
        &[
            "--json",
            "scan",
            "--url",
            &ticket.qr_url,
            "--yes",
            "--code",
            &number,
        ],
        "",
    );
    scan.assert_ok();
    assert_eq!(scan.json()["answer"], "confirmed");
    assert!(choices(&scan).contains(&number), "{}", scan.stdout);
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Confirmed);
}

#[tokio::test]
async fn number_matching_with_a_wrong_pick_cancels_and_fails() {
    let server = TestServer::start_with(&["--verification-code"]).await;
    let cli = signed_in(&server, "alice");
    let ticket = server.create_ticket().await;
    let number = page_number(&server, "alice", &ticket).await;
    let wrong = if number == "10" { "11" } else { "10" };

    let scan = cli.run(
        &["scan", "--url", &ticket.qr_url, "--yes", "--code", wrong],
        "",
    );
    assert_eq!(scan.code, 5, "{}\n{}", scan.stdout, scan.stderr);
    assert!(
        scan.stderr.contains("cancelled") && scan.stderr.contains("number"),
        "{}",
        scan.stderr
    );
    let status = server.status(&ticket).await;
    assert_eq!(status.status, TicketStatus::Cancelled);
    assert_eq!(status.reason, Some(CancelReason::WrongCode));
}

#[tokio::test]
async fn number_matching_with_yes_but_no_code_is_a_usage_error_that_cancels() {
    let server = TestServer::start_with(&["--verification-code"]).await;
    let cli = signed_in(&server, "alice");
    let ticket = server.create_ticket().await;

    let scan = cli.run(&["--json", "scan", "--url", &ticket.qr_url, "--yes"], "");
    assert_eq!(scan.code, 2, "{}\n{}", scan.stdout, scan.stderr);
    let error = &scan.json()["error"];
    assert_eq!(error["kind"], "verification_required");
    assert!(
        error["message"].as_str().unwrap().contains("--code"),
        "{error}"
    );
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Cancelled);
}

#[tokio::test]
async fn a_browser_on_another_network_gets_a_warning_naming_both_addresses() {
    let server = TestServer::start_with(&["--trust-proxy", "--site-name", "Example Shop"]).await;
    let cli = signed_in(&server, "alice");

    let far = server.create_ticket_from(Some("203.0.113.7")).await;
    let scan = cli.run(&["scan", "--url", &far.qr_url, "--cancel"], "");
    scan.assert_ok();
    assert!(
        scan.stdout
            .contains(&format!("Sign in to Example Shop ({})?", server.url)),
        "{}",
        scan.stdout
    );
    assert!(
        scan.stdout.contains(
            "Warning: this sign-in request comes from a different network (203.0.113.7) than this device (127.0.0.1). If you did not just open this page yourself, cancel."
        ),
        "{}",
        scan.stdout
    );

    let near = server.create_ticket().await;
    let scan = cli.run(&["--json", "scan", "--url", &near.qr_url, "--cancel"], "");
    scan.assert_ok();
    assert_eq!(scan.json()["request"]["same_network"], true);
    assert_eq!(scan.json()["request"]["site_name"], "Example Shop");
    assert!(scan.json()["warning"].is_null(), "{}", scan.stdout);
}

#[tokio::test]
async fn sessions_lists_this_device_and_revoking_another_ends_its_token() {
    let server = TestServer::start().await;
    let cli = signed_in(&server, "alice");
    let phone = server.app_sign_in("alice", "Alice's phone").await;

    let list = cli.run(&["--json", "sessions"], "");
    list.assert_ok();
    let sessions = list.json()["sessions"].as_array().unwrap().clone();
    assert_eq!(sessions.len(), 2, "{}", list.stdout);
    let other = sessions
        .iter()
        .find(|s| s["device_name"] == "Alice's phone")
        .expect("the phone's session");
    assert_eq!(other["current"], false);
    let this = sessions.iter().find(|s| s["current"] == true).unwrap();
    let table = cli.run(&["sessions"], "");
    table.assert_ok();
    assert!(table.stdout.contains("(this device)"), "{}", table.stdout);
    assert!(table.stdout.contains("Alice's phone"), "{}", table.stdout);

    let own = cli.run(&["sessions", "revoke", this["id"].as_str().unwrap()], "");
    assert_eq!(own.code, 2, "{}", own.stderr);
    assert!(own.stderr.contains("qrlogin logout"), "{}", own.stderr);

    assert_eq!(server.me_status(&phone).await, 200);
    let revoke = cli.run(&["sessions", "revoke", other["id"].as_str().unwrap()], "");
    revoke.assert_ok();
    assert_eq!(
        server.me_status(&phone).await,
        401,
        "the phone is signed out"
    );
    cli.run(&["whoami"], "").assert_ok();

    let again = cli.run(
        &[
            "--json",
            "sessions",
            "revoke",
            other["id"].as_str().unwrap(),
        ],
        "",
    );
    assert_eq!(again.code, 10, "{}", again.stdout);
    assert_eq!(again.json()["error"]["kind"], "unknown_id");
}

#[tokio::test]
async fn a_sign_in_is_listed_and_revoking_it_ends_the_web_token() {
    let server = TestServer::start().await;
    let cli = signed_in(&server, "alice");
    let ticket = server.create_ticket().await;
    let scan = cli.run(&["scan", "--url", &ticket.qr_url, "--yes"], "");
    scan.assert_ok();
    let id = ticket.id.to_string();
    assert!(
        scan.stdout.contains(&format!(
            "Was this you? If not, run: qrlogin sign-ins revoke {id}"
        )),
        "{}",
        scan.stdout
    );
    let web = server.exchange(&ticket).await;
    assert_eq!(server.web_me(&web.access_token).await.0, 200);

    let list = cli.run(&["--json", "sign-ins"], "");
    list.assert_ok();
    let record = list.json()["sign_ins"][0].clone();
    assert_eq!(record["id"], id.as_str(), "{}", list.stdout);
    assert_eq!(record["status"], "active");
    assert_eq!(record["requester"]["browser"], "Firefox 133");
    let table = cli.run(&["sign-ins"], "");
    assert!(
        table.stdout.contains("Firefox 133 on Linux"),
        "{}",
        table.stdout
    );

    let revoke = cli.run(&["--json", "sign-ins", "revoke", &id], "");
    revoke.assert_ok();
    assert_eq!(revoke.json()["outcome"], "revoked");
    let (status, body) = server.web_me(&web.access_token).await;
    assert_eq!(status, 401);
    assert_eq!(body.expect("error body").error, ErrorCode::TokenRevoked);

    let list = cli.run(&["--json", "sign-ins"], "");
    assert_eq!(list.json()["sign_ins"][0]["status"], "revoked");
}

#[tokio::test]
async fn with_qr_login_off_a_scan_is_refused_until_it_is_on_again() {
    let server = TestServer::start().await;
    let cli = signed_in(&server, "bob");

    let off = cli.run(&["--json", "qr-login", "off"], "");
    off.assert_ok();
    assert_eq!(off.json()["qr_login_enabled"], false);
    let status = cli.run(&["qr-login", "status"], "");
    assert!(status.stdout.contains("off"), "{}", status.stdout);

    let ticket = server.create_ticket().await;
    let scan = cli.run(&["scan", "--url", &ticket.qr_url, "--yes"], "");
    assert_eq!(scan.code, 5, "{}", scan.stderr);
    assert!(scan.stderr.contains("turned off"), "{}", scan.stderr);
    assert!(
        scan.stderr.contains("qrlogin qr-login on"),
        "{}",
        scan.stderr
    );
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Pending);

    cli.run(&["qr-login", "on"], "").assert_ok();
    cli.run(&["scan", "--url", &ticket.qr_url, "--yes"], "")
        .assert_ok();
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Confirmed);
}
