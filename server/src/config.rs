//! The command line (clap derive). Every flag also reads a `QRLOGIN_*`
//! environment variable; `--help` text comes from the doc comments.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

/// QR Login server: sign in on a web page by scanning its QR code with an app.
#[derive(Debug, Clone, Parser)]
#[command(
    name = "qrlogin-server",
    version,
    args_conflicts_with_subcommands = true
)]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of `serve`, the default command.
    #[command(flatten)]
    pub serve: ServeArgs,
}

impl Config {
    /// The command to run; `serve` when none was named.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

// Parsed once at start; boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the login server (the default).
    Serve(ServeArgs),
    /// Manage the users who can sign in to the app.
    Users(UsersArgs),
    /// Manage the OpenID Connect clients (relying parties) that may use
    /// this server as their OpenID Provider.
    Clients(ClientsArgs),
    /// Manage the id_token signing keys.
    Keys(KeysArgs),
}

/// Where users and app sessions are kept.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// `sqlite://PATH` (created on first start) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        env = "QRLOGIN_DATABASE_URL",
        default_value = "sqlite://qrlogin.db"
    )]
    pub database_url: String,
}

/// [`DatabaseArgs`] of the management commands (`users`, `clients`,
/// `keys`): `--database-url` may come before or after their subcommand
/// (`clients --database-url URL add …` or `clients add … --database-url URL`).
#[derive(Debug, Clone, Args)]
pub struct ManagedDatabaseArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`: the server's database.
    #[arg(
        long,
        global = true,
        env = "QRLOGIN_DATABASE_URL",
        default_value = "sqlite://qrlogin.db"
    )]
    pub database_url: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, env = "QRLOGIN_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The origin browsers and the app use to reach this server, e.g.
    /// `https://login.example.com`; it goes into every QR code. Plain http is
    /// allowed only for loopback. Default: http://<listen address>.
    #[arg(long, env = "QRLOGIN_PUBLIC_URL")]
    pub public_url: Option<String>,

    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Seed the demo users alice and bob (password `demo`). Never in production.
    #[arg(long, env = "QRLOGIN_DEMO")]
    pub demo: bool,

    /// Time to scan a new code (seconds, fractions allowed, or e.g. `500ms`).
    #[arg(long, env = "QRLOGIN_PENDING_LIFETIME", default_value = "120", value_parser = parse_duration)]
    pub pending_lifetime: Duration,

    /// Time for the scanning user to confirm or cancel.
    #[arg(long, env = "QRLOGIN_SCANNED_LIFETIME", default_value = "60", value_parser = parse_duration)]
    pub scanned_lifetime: Duration,

    /// Time for the page to exchange a confirmed code for its token.
    #[arg(long, env = "QRLOGIN_CONFIRMED_LIFETIME", default_value = "60", value_parser = parse_duration)]
    pub confirmed_lifetime: Duration,

    /// Lifetime of the access tokens (JWT) handed out by exchange.
    #[arg(long, env = "QRLOGIN_ACCESS_TOKEN_LIFETIME", default_value = "900", value_parser = parse_duration)]
    pub access_token_lifetime: Duration,

    /// Ed25519 signing key (PKCS#8 PEM); created with mode 0600 if missing.
    /// Default: `qrlogin-jwt.pem` beside the SQLite file, or in the working
    /// directory for PostgreSQL.
    #[arg(long, env = "QRLOGIN_JWT_KEY")]
    pub jwt_key: Option<PathBuf>,

    /// Take the client address from X-Forwarded-For (last entry, as added by
    /// your reverse proxy). Only set this behind a proxy you run.
    #[arg(long, env = "QRLOGIN_TRUST_PROXY")]
    pub trust_proxy: bool,

    /// An origin (e.g. `https://shop.example`) whose pages may call the
    /// web-side API with CORS. Repeat for several; comma-separated in the env var.
    #[arg(
        long = "allowed-origin",
        env = "QRLOGIN_ALLOWED_ORIGINS",
        value_delimiter = ','
    )]
    pub allowed_origins: Vec<String>,

    /// The site's name on the app's confirm screen ("Sign in to …").
    /// Default: the public URL's host.
    #[arg(long, env = "QRLOGIN_SITE_NAME")]
    pub site_name: Option<String>,

    /// The Android app's package name, to serve `/.well-known/assetlinks.json`
    /// (App Links: a phone's camera opens sign-in codes in the app).
    #[arg(long, env = "QRLOGIN_ANDROID_APP_ID")]
    pub android_app_id: Option<String>,

    /// SHA-256 fingerprint of the Android app's signing certificate
    /// (`AB:CD:…`; repeatable; `QRLOGIN_ANDROID_CERT_SHA256` comma-separated).
    #[arg(
        long = "android-cert-sha256",
        env = "QRLOGIN_ANDROID_CERT_SHA256",
        value_delimiter = ','
    )]
    pub android_cert_sha256: Vec<String>,

    /// The iOS app's `TEAMID.bundle.id`, to serve
    /// `/.well-known/apple-app-site-association` (Universal Links).
    #[arg(long, env = "QRLOGIN_IOS_APP_ID")]
    pub ios_app_id: Option<String>,

    /// Number matching: after the scan the page shows a two-digit number and
    /// the app must pick it among three; a wrong pick cancels the sign-in.
    #[arg(long, env = "QRLOGIN_VERIFICATION_CODE")]
    pub verification_code: bool,

    /// Event streams and long-polls one client (IPv4 address or IPv6 /64)
    /// may hold open at once; more answer 429 with Retry-After. 0: no limit.
    #[arg(long, env = "QRLOGIN_MAX_STREAMS_PER_IP", default_value_t = 16)]
    pub max_streams_per_ip: usize,

    /// Event streams and long-polls open at once on this instance, from all
    /// clients together; more answer 429 with Retry-After. 0: no limit.
    #[arg(long, env = "QRLOGIN_MAX_STREAMS", default_value_t = 10_000)]
    pub max_streams: usize,

    /// Password hashes (sign-in checks, `users add`) computed at once; each
    /// takes ~19 MiB. Past it a sign-in waits up to 2 s, then is answered
    /// 503 `busy` with Retry-After. Default: 2 × CPU cores.
    #[arg(long, env = "QRLOGIN_MAX_CONCURRENT_HASHES", default_value_t = crate::passwords::Hasher::default_limit())]
    pub max_concurrent_hashes: usize,

    /// Most tickets held at once (in memory, or live in Redis with
    /// `--redis-url`); creating more answers 503.
    #[arg(long, env = "QRLOGIN_MAX_TICKETS", default_value_t = 100_000)]
    pub max_tickets: usize,

    /// Keep tickets in Redis (`redis://[:password@]host:port[/db]`) instead of
    /// memory, so several instances behind a load balancer share them.
    #[arg(long, env = "QRLOGIN_REDIS_URL")]
    pub redis_url: Option<String>,

    /// Start of every Redis key and channel name (letters, digits, `_ - . :`).
    #[arg(long, env = "QRLOGIN_REDIS_PREFIX", default_value = "qrlogin")]
    pub redis_prefix: String,

    /// Sign-in codes one client (IPv4 address or IPv6 /64) may create per
    /// minute on this instance; more answer 429 with Retry-After. 0: no limit.
    #[arg(long, env = "QRLOGIN_CREATE_RATE", default_value_t = 60)]
    pub create_rate: u32,

    /// How many codes a client may create at once before the rate applies.
    /// IPv6 /56 and /48 networks get 4× and 16× a client's rate and burst.
    #[arg(long, env = "QRLOGIN_CREATE_BURST", default_value_t = 30)]
    pub create_burst: u32,

    /// Most codes one client may hold waiting for a scan: creating more
    /// within one pending lifetime answers 429 with Retry-After. 0 (or
    /// `--create-rate 0`): no cap.
    #[arg(long, env = "QRLOGIN_MAX_PENDING_PER_CLIENT", default_value_t = 50)]
    pub max_pending_per_client: u32,

    /// Failed app sign-in attempts (`POST /api/v1/app/sessions`) one client
    /// (IPv4 address or IPv6 /64) may make per minute; more answer 429 with
    /// Retry-After, and attempts while refused extend the wait. 0: no limit.
    #[arg(long, env = "QRLOGIN_SIGN_IN_RATE", default_value_t = 30)]
    pub sign_in_rate: u32,

    /// How many failed sign-in attempts a client may make at once.
    #[arg(long, env = "QRLOGIN_SIGN_IN_BURST", default_value_t = 30)]
    pub sign_in_burst: u32,

    /// Failed sign-in attempts per minute on one account name (whether it
    /// exists or not) from one client: once the burst is used up, that
    /// client is locked out of that account until its budget refills (the
    /// owner on another network is not). 0: no limit.
    #[arg(long, env = "QRLOGIN_ACCOUNT_SIGN_IN_RATE", default_value_t = 2)]
    pub account_sign_in_rate: u32,

    /// How many failed sign-in attempts a client may make on one account
    /// before the lockout.
    #[arg(long, env = "QRLOGIN_ACCOUNT_SIGN_IN_BURST", default_value_t = 10)]
    pub account_sign_in_burst: u32,

    /// Failed sign-in attempts per minute on one account name from all
    /// clients together (guessing spread over many addresses). 0: no limit.
    #[arg(long, env = "QRLOGIN_ACCOUNT_WIDE_SIGN_IN_RATE", default_value_t = 20)]
    pub account_wide_sign_in_rate: u32,

    /// How many failed sign-in attempts an account takes from all clients
    /// together before every client must wait.
    #[arg(
        long,
        env = "QRLOGIN_ACCOUNT_WIDE_SIGN_IN_BURST",
        default_value_t = 100
    )]
    pub account_wide_sign_in_burst: u32,

    /// Scans, confirms and cancels one app session may make per minute.
    /// 0: no limit.
    #[arg(long, env = "QRLOGIN_SCAN_RATE", default_value_t = 120)]
    pub scan_rate: u32,

    /// How many scans, confirms and cancels an app session may make at once.
    #[arg(long, env = "QRLOGIN_SCAN_BURST", default_value_t = 60)]
    pub scan_burst: u32,
}

#[derive(Debug, Clone, Args)]
pub struct UsersArgs {
    #[command(flatten)]
    pub database: ManagedDatabaseArgs,

    #[command(subcommand)]
    pub command: UsersCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum UsersCommand {
    /// Add a user (asks for the password, or reads it from stdin).
    Add {
        /// Login name (letters, digits, `.`, `_`, `-`; case-insensitive).
        username: String,
        /// Name shown to the page while the user confirms. Default: the username.
        #[arg(long)]
        display_name: Option<String>,
        /// Picture shown next to the display name (absolute URL).
        #[arg(long)]
        avatar_url: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The user's email address, given to OpenID Connect clients
        /// (scope `email`) as verified.
        #[arg(long)]
        email: Option<String>,
    },
    /// List users.
    List,
    /// Remove a user and all of their app sessions.
    Remove { username: String },
}

#[derive(Debug, Clone, Args)]
pub struct ClientsArgs {
    #[command(flatten)]
    pub database: ManagedDatabaseArgs,

    #[command(subcommand)]
    pub command: ClientsCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum ClientsCommand {
    /// Register a client; prints `{"client_id": ..., "client_secret": ...}`
    /// (the secret is shown this once and stored hashed).
    Add {
        /// The site's name, shown on the app's confirm screen.
        #[arg(long)]
        name: String,
        /// Where the client receives the code (repeatable). https://, or
        /// http:// on 127.0.0.1, [::1] or localhost (any port matches).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// A client without a secret (a browser or native app): must use PKCE.
        #[arg(long)]
        public: bool,
        /// How its id_tokens are signed.
        #[arg(long, default_value = "RS256", value_parser = parse_alg)]
        id_token_alg: qrlogin_core::oidc::IdTokenAlg,
    },
    /// List clients (id, kind, id_token algorithm, name, redirect URIs).
    List,
    /// Remove a client with its codes and refresh tokens.
    Remove { client_id: String },
}

fn parse_alg(text: &str) -> Result<qrlogin_core::oidc::IdTokenAlg, String> {
    qrlogin_core::oidc::IdTokenAlg::parse(text)
        .ok_or_else(|| format!("`{text}` is not one of RS256, ES256, EdDSA"))
}

#[derive(Debug, Clone, Args)]
pub struct KeysArgs {
    #[command(flatten)]
    pub database: ManagedDatabaseArgs,

    /// The server's JWT key; the id_token keys live beside it. Default:
    /// `qrlogin-jwt.pem` beside the SQLite file (as for the server).
    #[arg(long, global = true, env = "QRLOGIN_JWT_KEY")]
    pub jwt_key: Option<PathBuf>,

    #[command(subcommand)]
    pub command: KeysCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
    /// Create new id_token signing keys; the old public keys stay in the
    /// JWKS until the tokens they signed have expired. Restart the server
    /// (every instance) to sign with the new keys.
    Rotate,
}

/// Parses `90`, `1.5`, `1.5s` or `500ms` into a duration.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else {
        (text.strip_suffix('s').unwrap_or(text), 1.0)
    };
    let value: f64 = number
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a duration (try 90, 1.5 or 500ms)"))?;
    let secs = value * scale;
    if !secs.is_finite() || secs <= 0.0 || secs > 86_400.0 * 365.0 {
        return Err(format!("`{text}` is out of range"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_seconds_fractions_and_milliseconds() {
        assert_eq!(parse_duration("120"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("1.5"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert!(parse_duration("0").is_err());
        assert!(parse_duration("-1").is_err());
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("NaN").is_err());
    }

    #[test]
    fn serve_is_the_default_command() {
        let config = Config::try_parse_from(["qrlogin-server", "--demo"]).unwrap();
        match config.into_command() {
            Command::Serve(args) => {
                assert!(args.demo);
                assert_eq!(args.listen.to_string(), "127.0.0.1:8080");
            }
            other => panic!("expected serve, got {other:?}"),
        }
    }

    #[test]
    fn users_add_parses() {
        let config = Config::try_parse_from([
            "qrlogin-server",
            "users",
            "add",
            "carol",
            "--display-name",
            "Carol C",
            "--password-stdin",
        ])
        .unwrap();
        assert!(matches!(
            config.into_command(),
            Command::Users(UsersArgs {
                command: UsersCommand::Add {
                    password_stdin: true,
                    ..
                },
                ..
            })
        ));
    }

    #[test]
    fn management_commands_take_the_database_before_or_after_the_subcommand() {
        for args in [
            &[
                "qrlogin-server",
                "clients",
                "--database-url",
                "sqlite://x.db",
                "list",
            ][..],
            &[
                "qrlogin-server",
                "clients",
                "list",
                "--database-url",
                "sqlite://x.db",
            ][..],
            &[
                "qrlogin-server",
                "users",
                "list",
                "--database-url",
                "sqlite://x.db",
            ][..],
        ] {
            let config = Config::try_parse_from(args).unwrap();
            let url = match config.into_command() {
                Command::Clients(c) => c.database.database_url,
                Command::Users(u) => u.database.database_url,
                other => panic!("{other:?}"),
            };
            assert_eq!(url, "sqlite://x.db", "{args:?}");
        }
    }

    #[test]
    fn allowed_origins_repeat() {
        let config = Config::try_parse_from([
            "qrlogin-server",
            "serve",
            "--allowed-origin",
            "https://a.example",
            "--allowed-origin",
            "https://b.example",
        ])
        .unwrap();
        let Command::Serve(args) = config.into_command() else {
            panic!("expected serve")
        };
        assert_eq!(args.allowed_origins.len(), 2);
    }
}
