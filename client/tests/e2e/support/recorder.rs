//! A plain HTTP listener on another port that records every request it gets
//! (request line and headers) and answers 200 `{}`: the "other server" a
//! malicious QR code could point at.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

pub struct Recorder {
    pub origin: String,
    requests: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Recorder {
    pub async fn start() -> Self {
        Self::answering(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into(),
        )
        .await
    }

    /// A recorder that answers every request with the raw HTTP `response`.
    pub async fn answering(response: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind recorder");
        let origin = format!(
            "http://{}",
            listener.local_addr().expect("recorder address")
        );
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let seen = seen.clone();
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 16 * 1024];
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    seen.lock()
                        .expect("recorder lock")
                        .push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let _ = socket.write_all(response.as_bytes()).await;
                });
            }
        });
        Recorder {
            origin,
            requests,
            task,
        }
    }

    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("recorder lock").clone()
    }

    /// Proves the recorder works: a request sent to it is seen.
    pub async fn self_test(&self) {
        reqwest::get(format!("{}/probe", self.origin))
            .await
            .expect("request to the recorder");
        assert!(self.requests().iter().any(|r| r.starts_with("GET /probe")));
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}
