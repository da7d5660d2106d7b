//! The app token goes only to the server the user signed in to: any other
//! code is refused before a request is made. A recorder on another port
//! proves that nothing reaches it.

use std::sync::Arc;

use qrlogin_client::{AccountFile, ErrorKind, MemoryTokenStore, Session, TokenStorage};
use qrlogin_core::TicketId;

use crate::support::server::qr_png;
use crate::support::{Cli, Recorder, TestServer};

fn hostile_codes(server: &str, recorder: &str) -> Vec<String> {
    let id = TicketId::from_random_bytes([9; 16]);
    let server_port = server.rsplit(':').next().unwrap();
    let recorder_port = recorder.rsplit(':').next().unwrap();
    vec![
        // Another origin on the same host (a different port).
        format!("{recorder}/q/{id}"),
        // Same port, another spelling of the host: a different origin.
        format!("http://localhost:{recorder_port}/q/{id}"),
        format!("http://[::1]:{recorder_port}/q/{id}"),
        // The right server with a different scheme.
        format!("https://127.0.0.1:{server_port}/q/{id}"),
        // Userinfo tricks: looks like the server, goes to the recorder.
        format!("http://127.0.0.1:{server_port}@127.0.0.1:{recorder_port}/q/{id}"),
        // Look-alike hosts and plain-http downgrades of public hosts.
        format!("http://127.0.0.1.{recorder_port}.nip.io/q/{id}"),
        format!("http://login.example.com/q/{id}"),
        format!("https://login.example.com/q/{id}"),
        // Not login codes at all.
        format!("{recorder}/login?next=/q/{id}"),
        format!("{server}/q/{id}?redirect={recorder}"),
        format!("{server}/q/{id}#{recorder}"),
        "WIFI:S:home;T:WPA;P:secret;;".to_string(),
        String::new(),
    ]
}

#[tokio::test]
async fn no_request_reaches_another_server_whatever_the_code_says() {
    let server = TestServer::start().await;
    let recorder = Recorder::start().await;
    let dir = tempfile::tempdir().unwrap();
    let session = Session::sign_in(
        &server.url,
        "alice",
        "demo",
        "",
        Arc::new(MemoryTokenStore::new()),
        TokenStorage::Keyring,
        AccountFile::new(dir.path().join("account.json")),
    )
    .await
    .unwrap();

    for text in hostile_codes(&server.url, &recorder.origin) {
        let err = session.begin_login(&text).await.unwrap_err();
        assert!(
            matches!(
                err.kind(),
                ErrorKind::ForeignOrigin | ErrorKind::NotALoginCode
            ),
            "{text:?} → {err}"
        );
        assert!(err.to_string().contains("Nothing was sent"), "{err}");
    }
    assert_eq!(recorder.requests(), Vec::<String>::new());
    // The recorder does see requests sent to it: the check above can fail.
    recorder.self_test().await;
}

#[tokio::test]
async fn cli_refuses_a_foreign_code_from_an_image_or_text_with_exit_4() {
    let server = TestServer::start().await;
    let recorder = Recorder::start().await;
    let cli = Cli::new(true);
    cli.login(&server.url, "alice").assert_ok();
    let token = cli.saved_token().unwrap();

    let foreign = format!(
        "{}/q/{}",
        recorder.origin,
        TicketId::from_random_bytes([4; 16])
    );
    let png = qr_png(cli.config_dir(), "foreign.png", &foreign);
    let by_image = cli.run(
        &["--json", "scan", "--image", png.to_str().unwrap(), "--yes"],
        "",
    );
    assert_eq!(by_image.code, 4, "{}", by_image.stderr);
    assert_eq!(by_image.json()["error"]["kind"], "foreign_origin");
    let by_text = cli.run(&["scan", "--url", &foreign, "--yes"], "");
    assert_eq!(by_text.code, 4, "{}", by_text.stderr);
    assert!(
        by_text.stderr.contains(&recorder.origin),
        "{}",
        by_text.stderr
    );
    assert!(by_text.stderr.contains(&server.url), "{}", by_text.stderr);

    let requests = recorder.requests();
    assert!(requests.is_empty(), "{requests:?}");
    assert!(requests.iter().all(|r| !r.contains(&token)));
    recorder.self_test().await;
}

/// A server that redirects elsewhere must not lead the token there:
/// redirects are not followed at all.
#[tokio::test]
async fn a_redirect_is_not_followed_so_the_token_stays_home() {
    use qrlogin_client::{ApiClient, Origin};
    use qrlogin_core::SessionToken;

    let elsewhere = Recorder::start().await;
    let redirecting = Recorder::answering(format!(
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: {}/api/v1/app/me\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
        elsewhere.origin
    ))
    .await;
    let api = ApiClient::new(Origin::parse(&redirecting.origin).unwrap()).unwrap();
    let token = SessionToken::from_random_bytes([5; 32]);
    let err = api.me(&token).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ServerError, "{err}");
    assert!(err.to_string().contains("redirect"), "{err}");

    let sent = redirecting.requests();
    assert_eq!(sent.len(), 1);
    assert!(
        sent[0].contains(token.expose()),
        "the token went to its own server"
    );
    assert!(
        elsewhere.requests().is_empty(),
        "{:?}",
        elsewhere.requests()
    );
    elsewhere.self_test().await;
}
