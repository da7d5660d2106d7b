//! The library's `Session` against a real server (what the app calls).

use std::sync::Arc;

use qrlogin_client::{AccountFile, ErrorKind, MemoryTokenStore, Session, TokenStorage, TokenStore};
use qrlogin_core::{TicketId, TicketStatus};

use crate::support::TestServer;

struct Signed {
    session: Session,
    store: Arc<MemoryTokenStore>,
    file: AccountFile,
    _dir: tempfile::TempDir,
}

async fn sign_in(server: &TestServer, user: &str) -> Signed {
    let dir = tempfile::tempdir().unwrap();
    let file = AccountFile::new(dir.path().join("account.json"));
    let store = Arc::new(MemoryTokenStore::new());
    let session = Session::sign_in(
        &server.url,
        user,
        "demo",
        "e2e test",
        store.clone(),
        TokenStorage::Keyring,
        file.clone(),
    )
    .await
    .expect("sign in");
    Signed {
        session,
        store,
        file,
        _dir: dir,
    }
}

#[tokio::test]
async fn restored_session_scans_and_confirms() {
    let server = TestServer::start().await;
    let signed = sign_in(&server, "alice").await;
    assert_eq!(signed.session.user().display_name, "Alice Example");
    assert_eq!(signed.session.server().to_string(), server.url);

    let mut restored = Session::restore(signed.file.clone(), signed.store.clone())
        .await
        .unwrap()
        .expect("saved session");
    assert_eq!(restored.me().await.unwrap().username, "alice");

    let ticket = server.create_ticket().await;
    let request = restored.begin_login(&ticket.qr_url).await.unwrap();
    assert_eq!(request.qr.id, ticket.id);
    assert_eq!(request.site, server.url);
    assert_eq!(request.requester.browser, "Firefox 133");
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Scanned);
    restored.confirm(&request, None).await.unwrap();
    assert_eq!(server.status(&ticket).await.status, TicketStatus::Confirmed);
}

#[tokio::test]
async fn bob_can_neither_scan_nor_answer_alices_code() {
    let server = TestServer::start().await;
    let alice = sign_in(&server, "alice").await;
    let bob = sign_in(&server, "bob").await;
    let ticket = server.create_ticket().await;
    let request = alice.session.begin_login(&ticket.qr_url).await.unwrap();

    let err = bob.session.begin_login(&ticket.qr_url).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::AlreadyScanned, "{err}");
    let err = bob.session.confirm(&request, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotYours, "{err}");
    let err = bob.session.cancel(&request).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotYours, "{err}");

    alice.session.cancel(&request).await.unwrap();
    let err = alice.session.confirm(&request, None).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Cancelled, "{err}");
}

#[tokio::test]
async fn a_code_the_server_does_not_know_is_not_found() {
    let server = TestServer::start().await;
    let alice = sign_in(&server, "alice").await;
    let text = format!("{}/q/{}", server.url, TicketId::from_random_bytes([42; 16]));
    let err = alice.session.begin_login(&text).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

#[tokio::test]
async fn wrong_password_is_invalid_credentials_and_stores_nothing() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = AccountFile::new(dir.path().join("account.json"));
    let store = Arc::new(MemoryTokenStore::new());
    let err = Session::sign_in(
        &server.url,
        "alice",
        "nope",
        "",
        store.clone(),
        TokenStorage::Keyring,
        file.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidCredentials);
    assert!(store.is_empty());
    assert_eq!(file.load().unwrap(), None);
}

#[tokio::test]
async fn sign_out_revokes_the_token_and_forgets_it() {
    let server = TestServer::start().await;
    let signed = sign_in(&server, "alice").await;
    let origin = signed.session.server().clone();
    let token = signed.store.load(&origin, "alice").unwrap().unwrap();
    let outcome = signed.session.sign_out().await.unwrap();
    assert!(outcome.revoked_on_server);
    assert_eq!(server.me_status(token.expose()).await, 401);
    assert!(signed.store.is_empty());
    assert_eq!(signed.file.load().unwrap(), None);
    let err = signed.session.clone().me().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::SignedOut, "{err}");
}

#[tokio::test]
async fn sign_out_with_the_server_gone_still_forgets_the_token_and_says_so() {
    let server = TestServer::start().await;
    let signed = sign_in(&server, "alice").await;
    drop(server); // killed
    let outcome = signed.session.sign_out().await.unwrap();
    assert!(!outcome.revoked_on_server);
    let note = outcome.note.unwrap();
    assert!(note.contains("Could not reach"), "{note}");
    assert!(note.contains("deleted from this device"), "{note}");
    assert!(signed.store.is_empty());
    assert_eq!(signed.file.load().unwrap(), None);
}

/// A store that never works, like a machine without a keyring.
#[derive(Debug)]
struct NoKeyring;

impl TokenStore for NoKeyring {
    fn load(
        &self,
        _: &qrlogin_client::Origin,
        _: &str,
    ) -> Result<Option<qrlogin_core::SessionToken>, qrlogin_client::ClientError> {
        Err(self.err())
    }
    fn save(
        &self,
        _: &qrlogin_client::Origin,
        _: &str,
        _: &qrlogin_core::SessionToken,
    ) -> Result<(), qrlogin_client::ClientError> {
        Err(self.err())
    }
    fn delete(
        &self,
        _: &qrlogin_client::Origin,
        _: &str,
    ) -> Result<(), qrlogin_client::ClientError> {
        Err(self.err())
    }
    fn describe(&self) -> String {
        "nowhere".into()
    }
}

impl NoKeyring {
    fn err(&self) -> qrlogin_client::ClientError {
        qrlogin_client::ClientError::KeyringUnavailable {
            detail: "no Secret Service on the session bus".into(),
        }
    }
}

#[tokio::test]
async fn without_a_keyring_sign_in_fails_with_a_message_saying_how_to_fix_it() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = AccountFile::new(dir.path().join("account.json"));
    let err = Session::sign_in(
        &server.url,
        "alice",
        "demo",
        "",
        Arc::new(NoKeyring),
        TokenStorage::Keyring,
        file.clone(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::KeyringUnavailable);
    let text = err.to_string();
    assert!(
        text.contains("keyring") && text.contains("--insecure-storage"),
        "{text}"
    );
    assert_eq!(file.load().unwrap(), None);
}
