//! A lean HTTP/1.1 client: one keep-alive hyper connection per worker, no
//! pool, no URL parsing, so the load generator spends little CPU per request.

use std::net::SocketAddr;

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;

/// One open connection.
pub struct Conn {
    sender: SendRequest<Full<Bytes>>,
    host: HeaderValue,
}

/// What a request carries besides method and path.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    Bearer(&'a str),
}

impl Conn {
    pub async fn open(addr: SocketAddr) -> anyhow::Result<Self> {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(connection);
        Ok(Self {
            sender,
            host: HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// Sends a request and returns the response with its body unread (for
    /// event streams and long bodies).
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<Response<Incoming>> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(HOST, self.host.clone());
        if let Auth::Bearer(token) = auth {
            request = request.header(AUTHORIZATION, format!("Bearer {token}"));
        }
        let body = match body {
            Some(value) => {
                request = request.header(CONTENT_TYPE, "application/json");
                Full::new(Bytes::from(serde_json::to_vec(&value)?))
            }
            None => Full::new(Bytes::new()),
        };
        self.sender.ready().await.context("connection closed")?;
        Ok(self.sender.send_request(request.body(body)?).await?)
    }

    /// Sends a request and reads the whole answer.
    pub async fn call(
        &mut self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        let response = self.send(method, path, auth, body).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }

    /// Like [`Conn::call`], failing unless the status is `expected`.
    pub async fn expect(
        &mut self,
        expected: StatusCode,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<serde_json::Value>,
    ) -> anyhow::Result<Bytes> {
        let (status, bytes) = self.call(method.clone(), path, auth, body).await?;
        if status != expected {
            anyhow::bail!(
                "{method} {path}: {status} {}",
                String::from_utf8_lossy(&bytes)
            );
        }
        Ok(bytes)
    }
}

impl Conn {
    /// `POST path` with a form body and HTTP Basic client credentials (the
    /// OAuth token endpoint); returns the status and the body.
    pub async fn post_form(
        &mut self,
        path: &str,
        basic: (&str, &str),
        form: String,
    ) -> anyhow::Result<(StatusCode, Bytes)> {
        use base64::Engine as _;
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", basic.0, basic.1));
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(HOST, self.host.clone())
            .header(AUTHORIZATION, format!("Basic {credentials}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))?;
        self.sender.ready().await.context("connection closed")?;
        let response = self.sender.send_request(request).await?;
        let status = response.status();
        let bytes = response.into_body().collect().await?.to_bytes();
        Ok((status, bytes))
    }
}

/// Signs `username` in to the app (argon2 on the server) and returns the
/// app session token.
pub async fn sign_in(conn: &mut Conn, username: &str, password: &str) -> anyhow::Result<String> {
    let body = json!({"username": username, "password": password, "device_name": "bench"});
    let bytes = conn
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/app/sessions",
            Auth::None,
            Some(body),
        )
        .await?;
    let answer: qrlogin_core::SignInResponse = serde_json::from_slice(&bytes)?;
    Ok(answer.token.expose().to_string())
}
