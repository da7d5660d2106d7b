//! The OpenID Provider under load: whole authorization-code flows (the QR
//! page, the bound code, scan, confirm, the page's exchange for the
//! redirect, the token request) and the token endpoint alone, for a client
//! with RS256 id_tokens and one with EdDSA, next to hello world in the same
//! run.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use hyper::{Method, StatusCode};
use qrlogin_core::CreateTicketResponse;
use qrlogin_core::oidc::form_encode;
use serde_json::json;

use crate::flow::{self, Ticket};
use crate::http::{self, Auth, Conn};
use crate::load::{self, Bounds, Outcome};
use crate::procs::{self, Proc, Store};
use crate::report;

#[derive(Debug, Clone, Args)]
pub struct Options {
    #[command(flatten)]
    binaries: crate::Binaries,
    /// Concurrent connections (workers) of the load generator.
    #[arg(long, default_value_t = 32)]
    workers: usize,
    /// Longest a phase runs.
    #[arg(long, default_value = "4s", value_parser = crate::parse_duration)]
    time: Duration,
    /// Most jobs (flows or token requests) in a phase.
    #[arg(long, default_value_t = 100_000)]
    max: usize,
}

const REDIRECT: &str = "https://rp.example/callback";

/// A confidential client registered for the run.
#[derive(Debug, Clone)]
struct Client {
    alg: &'static str,
    id: String,
    secret: String,
}

impl Client {
    /// The query of an authorization request (openid profile, a nonce).
    fn query(&self) -> String {
        format!(
            "response_type=code&scope=openid%20profile&client_id={}&redirect_uri={}&state=s&nonce=n",
            form_encode(&self.id),
            form_encode(REDIRECT)
        )
    }
}

fn register(binary: &Path, dir: &Path, alg: &'static str) -> anyhow::Result<Client> {
    let output = std::process::Command::new(binary)
        .args(["clients", "add", "--name", &format!("Bench {alg}")])
        .args(["--redirect-uri", REDIRECT, "--id-token-alg", alg])
        .arg("--database-url")
        .arg(format!("sqlite://{}", dir.join("users.db").display()))
        .env("RUST_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        output.status.success(),
        "clients add: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let printed: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    Ok(Client {
        alg,
        id: printed["client_id"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        secret: printed["client_secret"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    })
}

/// From the QR page to the code in the redirect: five calls.
async fn code(conn: &mut Conn, client: &Client, app_token: &str) -> anyhow::Result<String> {
    let query = client.query();
    conn.expect(
        StatusCode::OK,
        Method::GET,
        &format!("/oauth2/authorize?{query}"),
        Auth::None,
        None,
    )
    .await?;
    let bytes = conn
        .expect(
            StatusCode::CREATED,
            Method::POST,
            "/api/v1/qr",
            Auth::None,
            Some(json!({ "authorization": query })),
        )
        .await?;
    let created: CreateTicketResponse = serde_json::from_slice(&bytes)?;
    let ticket = Ticket {
        id: created.id.to_string(),
        secret: created.poll_secret.expose().to_string(),
    };
    flow::app_call(conn, &ticket, "scan", app_token).await?;
    flow::app_call(conn, &ticket, "confirm", app_token).await?;
    let path = format!("/api/v1/qr/{}/exchange", ticket.id);
    let bytes = conn
        .expect(
            StatusCode::OK,
            Method::POST,
            &path,
            Auth::Bearer(&ticket.secret),
            None,
        )
        .await?;
    let answer: serde_json::Value = serde_json::from_slice(&bytes)?;
    let redirect = answer["redirect_to"].as_str().unwrap_or_default();
    let code = redirect
        .split(['?', '&'])
        .find_map(|pair| pair.strip_prefix("code="))
        .ok_or_else(|| anyhow::anyhow!("no code in {redirect}"))?;
    Ok(code.to_string())
}

/// `POST /oauth2/token` for a code.
async fn token(conn: &mut Conn, client: &Client, code: &str) -> anyhow::Result<()> {
    let form = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}",
        form_encode(code),
        form_encode(REDIRECT)
    );
    let (status, body) = conn
        .post_form("/oauth2/token", (&client.id, &client.secret), form)
        .await?;
    anyhow::ensure!(
        status == StatusCode::OK,
        "token: {status} {}",
        String::from_utf8_lossy(&body)
    );
    Ok(())
}

async fn flows(
    server: &Proc,
    bounds: Bounds,
    client: Arc<Client>,
    app_token: Arc<str>,
) -> anyhow::Result<Outcome<()>> {
    load::run(
        &[server.addr()],
        &[server],
        bounds,
        move |mut conns: load::Conns, _| {
            let (client, app_token) = (client.clone(), app_token.clone());
            async move {
                let result = match code(&mut conns[0], &client, &app_token).await {
                    Ok(code) => token(&mut conns[0], &client, &code).await,
                    Err(e) => Err(e),
                };
                (conns, result)
            }
        },
    )
    .await
}

/// Codes made ahead (each up to its redirect), for the token phase.
async fn codes(
    server: &Proc,
    bounds: Bounds,
    client: Arc<Client>,
    app_token: Arc<str>,
) -> anyhow::Result<Arc<Vec<String>>> {
    let mut outcome = load::run(
        &[server.addr()],
        &[server],
        bounds,
        move |mut conns: load::Conns, _| {
            let (client, app_token) = (client.clone(), app_token.clone());
            async move {
                let result = code(&mut conns[0], &client, &app_token).await;
                (conns, result)
            }
        },
    )
    .await?;
    Ok(Arc::new(std::mem::take(&mut outcome.results)))
}

async fn tokens(
    server: &Proc,
    bounds: Bounds,
    client: Arc<Client>,
    codes: Arc<Vec<String>>,
) -> anyhow::Result<Outcome<()>> {
    let bounds = Bounds {
        max_count: bounds.max_count.min(codes.len()),
        ..bounds
    };
    load::run(
        &[server.addr()],
        &[server],
        bounds,
        move |mut conns: load::Conns, i| {
            let (client, codes) = (client.clone(), codes.clone());
            async move {
                let result = token(&mut conns[0], &client, &codes[i]).await;
                (conns, result)
            }
        },
    )
    .await
}

pub async fn run(options: Options) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let binary = options.binaries.server();
    let hello = procs::hello().await?;
    let server =
        procs::qrlogin_server(&binary, "qrlogin-server", dir.path(), &Store::Memory).await?;
    let clients = [
        register(&binary, dir.path(), "RS256")?,
        register(&binary, dir.path(), "EdDSA")?,
    ];
    let mut conn = Conn::open(server.addr()).await?;
    let app_token: Arc<str> = http::sign_in(&mut conn, "alice", "demo").await?.into();
    let bounds = Bounds {
        workers: options.workers,
        max_count: options.max,
        max_time: options.time,
    };
    let warm = Bounds {
        max_time: Duration::from_secs(1),
        ..bounds
    };
    crate::api::hello_phase(&hello, warm, crate::api::Floor::Post).await?;
    let floor_before = crate::api::hello_phase(&hello, bounds, crate::api::Floor::Post).await?;
    let mut rows = Vec::new();
    for client in clients {
        let client = Arc::new(client);
        flows(&server, warm, client.clone(), app_token.clone()).await?;
        let flow = flows(&server, bounds, client.clone(), app_token.clone()).await?;
        // Codes live 60 s: make them, then spend them at once.
        let made = codes(&server, bounds, client.clone(), app_token.clone()).await?;
        let token = tokens(&server, bounds, client.clone(), made).await?;
        rows.push((client.alg, flow, token));
    }
    let floor_after = crate::api::hello_phase(&hello, bounds, crate::api::Floor::Post).await?;
    let floor = (floor_before.rate() + floor_after.rate()) / 2.0;
    println!("## OpenID Provider");
    println!();
    println!(
        "Authorization-code flows end to end (the QR page, the bound code, scan, confirm, \
         the page's exchange for the redirect, `POST /oauth2/token`: 6 calls) and the token \
         endpoint alone, {} keep-alive connections, each phase up to {}; hello world's `POST` \
         floor in the same run: {}.",
        options.workers,
        report::span(options.time),
        report::rate(floor),
    );
    println!();
    println!(
        "| id_token | phase | done | errors | rate | vs hello | p50 | p99 | server CPU each |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (alg, flow, token) in &rows {
        for (name, outcome, calls) in [
            ("whole flow (6 calls)", flow, 6.0),
            ("`/oauth2/token` alone", token, 1.0),
        ] {
            println!(
                "| {alg} | {name} | {} | {} | {} | {} | {} | {} | {} |",
                report::thousands(outcome.done as u64),
                outcome.errors,
                report::rate(outcome.rate()),
                report::percent(outcome.rate() * calls, floor),
                report::ms(outcome.quantile(0.5)),
                report::ms(outcome.quantile(0.99)),
                report::us(outcome.server_cpu_per_job()),
            );
            if let Some(error) = &outcome.first_error {
                eprintln!("{alg} {name}: first error: {error}");
            }
        }
    }
    Ok(())
}
