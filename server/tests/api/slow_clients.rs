//! Connections that never finish their request head are closed (slowloris).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::spawn_app;

fn addr(base: &str) -> String {
    base.trim_start_matches("http://").to_string()
}

#[tokio::test]
async fn a_client_that_dribbles_its_headers_is_disconnected() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(addr(&app.base)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    // Keep sending a header byte now and then, never the blank line.
    let closed = async {
        let mut buf = [0u8; 1024];
        loop {
            tokio::select! {
                read = stream.read(&mut buf) => match read {
                    Ok(0) | Err(_) => return started.elapsed(),
                    // hyper may answer 408 before closing.
                    Ok(_) => continue,
                },
                () = tokio::time::sleep(Duration::from_secs(1)) => {
                    if stream.write_all(b"X-A: b\r\n").await.is_err() {
                        return started.elapsed();
                    }
                }
            }
        }
    };
    let took = tokio::time::timeout(Duration::from_secs(30), closed)
        .await
        .expect("the server kept a half-sent request open for 30 s");
    assert!(
        took >= Duration::from_secs(5),
        "closed after only {took:?}: real clients must get time"
    );
}

#[tokio::test]
async fn a_complete_request_on_the_same_kind_of_connection_is_answered() {
    let app = spawn_app().await;
    let mut stream = TcpStream::connect(addr(&app.base)).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
