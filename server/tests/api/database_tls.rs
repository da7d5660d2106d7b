//! TLS to PostgreSQL: `sslmode=require` works (the local test server speaks
//! TLS with Debian's snakeoil certificate), so a database across a network
//! is reached over an encrypted connection.

use reqwest::StatusCode;

use crate::{fresh_postgres_schema, spawn_app_at};

#[tokio::test]
async fn postgres_with_sslmode_require_serves_sign_ins() {
    let url = format!("{}&sslmode=require", fresh_postgres_schema().await);
    let app = spawn_app_at(tempfile::tempdir().unwrap(), url, &[]).await;
    let health = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
    let ticket = app.confirmed_ticket().await;
    assert_eq!(app.exchange(&ticket).await.status(), StatusCode::OK);
}

/// A `rediss://` URL reaches a Redis that only speaks TLS (a redis-server of
/// the test's own with a fresh self-signed certificate, trusted through
/// `SSL_CERT_FILE`), and the tickets live there.
#[tokio::test]
async fn redis_over_tls_holds_the_tickets() {
    use std::process::{Command, Stdio};
    let dir = tempfile::tempdir().unwrap();
    let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
    let ca = dir.path().join("ca.pem");
    make_ca_and_server_cert(dir.path(), &ca, &key, &cert);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut redis = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .args(["--tls-port", &port.to_string(), "--tls-auth-clients", "no"])
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed");
    let server = Command::new(env!("CARGO_BIN_EXE_qrlogin-server"))
        .args(["--listen", "127.0.0.1:0", "--demo"])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.path().join("t.db").display()))
        .arg("--redis-url")
        .arg(format!("rediss://localhost:{port}"))
        .env("SSL_CERT_FILE", &ca)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut server = KillOnDrop(server);
    let url = crate::cli::read_listen_url(server.0.stdout.take().unwrap());
    let client = reqwest::Client::new();
    let mut healthy = false;
    for _ in 0..50 {
        let health = client.get(format!("{url}/healthz")).send().await;
        if health.is_ok_and(|r| r.status() == StatusCode::OK) {
            healthy = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(healthy, "the server never reached Redis over TLS");
    let created = client
        .post(format!("{url}/api/v1/qr"))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let _ = redis.kill();
    let _ = redis.wait();
}

struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A throw-away CA (`ca`) and a certificate for localhost / 127.0.0.1 signed
/// by it (`cert`, `key`), made with the openssl command.
fn make_ca_and_server_cert(
    dir: &std::path::Path,
    ca: &std::path::Path,
    key: &std::path::Path,
    cert: &std::path::Path,
) {
    use std::process::{Command, Stdio};
    let ca_key = dir.join("ca-key.pem");
    let csr = dir.join("server.csr");
    let ext = dir.join("server.ext");
    std::fs::write(&ext, "subjectAltName=DNS:localhost,IP:127.0.0.1\n").unwrap();
    let steps: [Vec<std::ffi::OsString>; 3] = [
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=qrlogin test CA",
            "-keyout",
        ]
        .iter()
        .map(Into::into)
        .chain([ca_key.clone().into(), "-out".into(), ca.into()])
        .collect(),
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
        ]
        .iter()
        .map(Into::into)
        .chain([key.into(), "-out".into(), csr.clone().into()])
        .collect(),
        ["x509", "-req", "-days", "1", "-in"]
            .iter()
            .map(Into::into)
            .chain([
                csr.into(),
                "-CA".into(),
                ca.into(),
                "-CAkey".into(),
                ca_key.into(),
                "-CAcreateserial".into(),
                "-extfile".into(),
                ext.into(),
                "-out".into(),
                cert.into(),
            ])
            .collect(),
    ];
    for args in steps {
        let status = Command::new("openssl")
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl must be installed");
        assert!(status.success(), "openssl {args:?}");
    }
}
