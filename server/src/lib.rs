//! QR Login server: creates QR tickets, moves them through their states with
//! `qrlogin-core`'s state machine, pushes every change to the waiting page
//! (SSE or long-poll), and hands the page its credentials exactly once.
//!
//! [`app`] builds the whole router from an [`AppState`]; [`server::start`]
//! binds it (tests use port 0 and a fresh database); `main.rs` only parses
//! the command line.
//!
//! Layers, from the outside in: [`http`] (router, extractors, handlers, the
//! one mapping of domain errors to HTTP) → services ([`tickets`],
//! [`accounts`], [`sign_ins`], [`oidc`], [`tokens`], [`limits`], [`streams`]), which
//! return domain errors and follow `qrlogin-core`'s rules → persistence
//! ([`db`] for SQL, [`store`] for tickets). Time comes from one [`Clock`].

pub mod accounts;
pub mod app_links;
pub mod avatar;
pub mod clock;
pub mod config;
pub mod db;
pub mod http;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod oidc;
pub mod passwords;
pub mod profile;
mod qr_svg;
mod random;
pub mod requester;
pub mod serve;
pub mod server;
pub mod sign_ins;
pub mod store;
pub mod streams;
pub mod tickets;
pub mod tokens;

use std::sync::Arc;

use axum::http::HeaderValue;
use qrlogin_core::Origin;
use tokio_util::sync::CancellationToken;

pub use clock::Clock;
pub use config::{
    ClientsArgs, ClientsCommand, Command, Config, KeysArgs, KeysCommand, ServeArgs, UsersArgs,
    UsersCommand,
};
pub use http::app;
pub use server::{RunningServer, StartError, start};

/// Settings the handlers read, validated once at start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The origin in every QR code and absolute URL.
    pub public_url: Origin,
    /// The site's name on confirm screens.
    pub site_name: String,
    pub trust_proxy: bool,
    /// Origins allowed to call the web-side API with CORS.
    pub allowed_origins: Vec<HeaderValue>,
    /// The phone app's identity, for App Links / Universal Links.
    pub app_links: app_links::AppLinks,
}

impl Settings {
    /// The request's `Origin` when it is the public URL or an allowed
    /// origin (as text, e.g. `https://shop.example.com`); else `None`.
    pub fn known_origin(&self, headers: &axum::http::HeaderMap) -> Option<String> {
        let origin = headers.get(axum::http::header::ORIGIN)?;
        let text = origin.to_str().ok()?;
        let known = text == self.public_url.to_string() || self.allowed_origins.contains(origin);
        known.then(|| text.to_string())
    }

    /// Who a web token of `ticket_origin` is for: that origin, else the public URL.
    pub fn audience(&self, ticket_origin: Option<&str>) -> String {
        ticket_origin.map_or_else(|| self.public_url.to_string(), str::to_string)
    }
}

/// Everything a handler needs. Cloned for every request (axum's `State`),
/// so it is one `Arc`: one reference count to bump, not one per service.
#[derive(Clone)]
pub struct AppState(Arc<Services>);

impl AppState {
    pub fn new(services: Services) -> Self {
        Self(Arc::new(services))
    }
}

impl std::ops::Deref for AppState {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// The services behind [`AppState`].
pub struct Services {
    pub settings: Arc<Settings>,
    /// The one source of wall-clock time.
    pub clock: Clock,
    /// The SQL pool, shared by every table owner.
    pub db: db::Database,
    pub accounts: accounts::Accounts,
    pub tickets: tickets::Tickets,
    pub tokens: Arc<tokens::TokenIssuer>,
    /// The OpenID Provider's id_token keys and lifetimes.
    pub oidc: Arc<oidc::Provider>,
    pub metrics: Arc<metrics::Metrics>,
    /// Rate limits: ticket creation, password attempts, app actions.
    pub limits: Arc<limits::Limits>,
    /// Open event streams and long-polls, capped per client and in total.
    pub streams: Arc<streams::StreamSlots>,
    /// Cancelled on SIGINT/SIGTERM: open event streams and long-polls end.
    pub shutdown: CancellationToken,
}
