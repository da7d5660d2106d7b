//! The `qrlogin` binary against a real server: login → scan → confirm or
//! cancel, whoami, logout, decode, and its exit codes.

use qrlogin_core::TicketStatus;

use crate::support::server::qr_png;
use crate::support::{Cli, TestServer};

#[tokio::test]
async fn scanning_a_screenshot_and_confirming_signs_the_browser_in() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    let login = cli.login(&server.url, "alice");
    login.assert_ok();
    assert_eq!(login.json()["user"]["display_name"], "Alice Example");
    assert!(
        login.stderr.contains("insecure-storage"),
        "{}",
        login.stderr
    );

    let ticket = server.create_ticket().await;
    let png = qr_png(cli.config_dir(), "page.png", &ticket.qr_url);
    let scan = cli.run(
        &["--json", "scan", "--image", png.to_str().unwrap(), "--yes"],
        "",
    );
    scan.assert_ok();
    let out = scan.json();
    assert_eq!(out["answer"], "confirmed");
    assert_eq!(out["request"]["qr"], ticket.qr_url);
    assert_eq!(out["request"]["site"], server.url);
    assert_eq!(out["request"]["requester"]["ip"], "127.0.0.1");
    assert!(
        out["request"]["requester"]["browser"]
            .as_str()
            .unwrap()
            .contains("Firefox"),
        "{out}"
    );

    let status = server.status(&ticket).await;
    assert_eq!(status.status, TicketStatus::Confirmed);
    assert_eq!(status.user.unwrap().display_name, "Alice Example");
}

#[tokio::test]
async fn scanning_and_cancelling_cancels_the_ticket() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    cli.login(&server.url, "bob").assert_ok();
    let ticket = server.create_ticket().await;
    let scan = cli.run(&["scan", "--url", &ticket.qr_url, "--cancel"], "");
    scan.assert_ok();
    assert!(
        scan.stdout.contains("Firefox"),
        "shows who is asking: {}",
        scan.stdout
    );
    assert!(scan.stdout.contains("Cancelled"), "{}", scan.stdout);
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Cancelled);
}

#[tokio::test]
async fn without_a_terminal_or_answer_flag_the_sign_in_is_cancelled_not_confirmed() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    cli.login(&server.url, "alice").assert_ok();
    let ticket = server.create_ticket().await;
    let scan = cli.run(&["scan", "--url", &ticket.qr_url], "y\n");
    assert_ne!(scan.code, 0);
    assert!(scan.stderr.contains("--yes"), "{}", scan.stderr);
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Cancelled);
}

#[tokio::test]
async fn whoami_uses_the_saved_session_and_logout_revokes_it() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    cli.login(&server.url, "alice").assert_ok();
    let token = cli
        .saved_token()
        .expect("token saved in the insecure store");
    assert_eq!(server.me_status(&token).await, 200);

    let who = cli.run(&["--json", "whoami"], "");
    who.assert_ok();
    assert_eq!(who.json()["user"]["username"], "alice");
    assert_eq!(who.json()["server"], server.url);

    let out = cli.run(&["--json", "logout"], "");
    out.assert_ok();
    assert_eq!(out.json()["revoked_on_server"], true);
    assert_eq!(server.me_status(&token).await, 401, "token revoked");
    assert_eq!(cli.saved_token(), None, "token deleted locally");
    assert!(!cli.config_dir().join("account.json").exists());

    let who = cli.run(&["whoami"], "");
    assert_eq!(who.code, 3, "not signed in: {}", who.stderr);
    assert!(who.stderr.contains("not signed in"), "{}", who.stderr);
}

#[tokio::test]
async fn wrong_password_exits_8_and_saves_nothing() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    let run = cli.run(
        &[
            "--json",
            "login",
            "--server",
            &server.url,
            "--username",
            "alice",
            "--password-stdin",
        ],
        "wrong\n",
    );
    assert_eq!(run.code, 8, "{}", run.stderr);
    assert_eq!(run.json()["error"]["kind"], "invalid_credentials");
    assert!(!cli.config_dir().join("account.json").exists());
    assert_eq!(cli.saved_token(), None);
}

#[tokio::test]
async fn unreachable_server_exits_6_with_a_message_naming_it() {
    let cli = Cli::new(true);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let run = cli.run(
        &[
            "login",
            "--server",
            &url,
            "--username",
            "alice",
            "--password-stdin",
        ],
        "demo\n",
    );
    assert_eq!(run.code, 6, "{}", run.stderr);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert!(run.stderr.contains("Could not reach"), "{}", run.stderr);
}

#[test]
fn scan_before_login_exits_3() {
    let cli = Cli::new(true);
    let run = cli.run(
        &[
            "scan",
            "--url",
            "http://127.0.0.1:1/q/AAECAwQFBgcICQoLDA0ODw",
            "--yes",
        ],
        "",
    );
    assert_eq!(run.code, 3, "{}", run.stderr);
}

/// `scan --camera` runs the client's camera loop, the one the desktop app
/// runs: with `QRLOGIN_FAKE_CAMERA` playing a folder where a code of another
/// server comes first, it picks the signed-in server's code and confirms.
#[tokio::test]
async fn the_camera_loop_picks_the_signed_in_servers_code_and_confirms() {
    let server = TestServer::start().await;
    let cli = Cli::new(true);
    cli.login(&server.url, "alice").assert_ok();
    let ticket = server.create_ticket().await;
    let frames = cli.scratch("frames");
    std::fs::create_dir(&frames).unwrap();
    qr_png(
        &frames,
        "a-another-server.png",
        "https://login.example.net/q/AAECAwQFBgcICQoLDA0ODw",
    );
    qr_png(&frames, "b-the-page.png", &ticket.qr_url);
    let scan = cli.run_with_env(
        &["--json", "scan", "--camera", "0", "--yes"],
        "",
        &[("QRLOGIN_FAKE_CAMERA", &frames)],
    );
    scan.assert_ok();
    assert_eq!(scan.json()["request"]["qr"], ticket.qr_url);
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Confirmed);
}

/// This machine (and CI) has no camera: the error names the camera and
/// points to --image.
#[test]
fn scan_from_a_camera_that_is_not_there_exits_9_and_suggests_an_image() {
    let cli = Cli::new(true);
    std::fs::write(
        cli.config_dir().join("account.json"),
        r#"{"server":"http://127.0.0.1:1","username":"a","user":{"id":"u","username":"a","display_name":"A","avatar_url":null},"token_storage":"file"}"#,
    )
    .unwrap();
    std::fs::write(
        cli.config_dir().join("tokens.json"),
        r#"{"a http://127.0.0.1:1":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#,
    )
    .unwrap();
    let run = cli.run(&["scan", "--camera", "7"], "");
    assert_eq!(run.code, 9, "{}", run.stderr);
    assert!(run.stderr.contains("camera 7"), "{}", run.stderr);
    assert!(run.stderr.contains("--image"), "{}", run.stderr);
}

#[test]
fn decode_prints_each_code_and_exits_1_when_an_image_has_none() {
    let cli = Cli::new(true);
    let text = "https://login.example.com/q/AAECAwQFBgcICQoLDA0ODw";
    let png = qr_png(cli.config_dir(), "code.png", text);
    let run = cli.run(&["decode", png.to_str().unwrap()], "");
    run.assert_ok();
    assert_eq!(run.stdout.trim(), text);

    let blank = cli.scratch("blank.png");
    image::GrayImage::from_pixel(200, 100, image::Luma([255]))
        .save(&blank)
        .unwrap();
    let run = cli.run(&["decode", blank.to_str().unwrap()], "");
    assert_eq!(run.code, 1);
    assert!(run.stdout.is_empty());
    assert!(run.stderr.contains("no QR code found"), "{}", run.stderr);

    let run = cli.run(
        &["decode", cli.scratch("missing.png").to_str().unwrap()],
        "",
    );
    assert_eq!(run.code, 9, "{}", run.stderr);
}

/// The OS keyring (Secret Service): saved at login, read back by a new
/// process (`whoami`), deleted at logout. CI runs this inside
/// `scripts/with-keyring`; elsewhere, without a keyring, login must fail
/// with `keyring_unavailable` and say how to fix it.
#[tokio::test]
async fn keyring_keeps_the_token_between_processes_and_logout_deletes_it() {
    use qrlogin_client::{KeyringStore, Origin, TokenStore};
    let server = TestServer::start().await;
    let cli = Cli::new(false);
    let login = cli.login(&server.url, "alice");
    if std::env::var_os("QRLOGIN_IN_KEYRING_SESSION").is_none() && login.code != 0 {
        assert_eq!(login.code, 7, "{}", login.stdout);
        assert_eq!(login.json()["error"]["kind"], "keyring_unavailable");
        assert!(
            login.json()["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--insecure-storage")
        );
        return;
    }
    login.assert_ok();
    assert_eq!(login.json()["token_storage"], "keyring");
    assert!(!cli.config_dir().join("tokens.json").exists());
    let origin = Origin::parse(&server.url).unwrap();
    let token = KeyringStore
        .load(&origin, "alice")
        .unwrap()
        .expect("token in the keyring");
    assert_eq!(server.me_status(token.expose()).await, 200);

    let who = cli.run(&["--json", "whoami"], "");
    who.assert_ok();
    assert_eq!(who.json()["user"]["username"], "alice");

    cli.run(&["logout"], "").assert_ok();
    assert_eq!(KeyringStore.load(&origin, "alice").unwrap(), None);
    assert_eq!(server.me_status(token.expose()).await, 401);
}
