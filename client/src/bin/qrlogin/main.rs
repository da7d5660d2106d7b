//! `qrlogin`: approve QR Login sign-ins from the command line.
//!
//! ```text
//! qrlogin login --server https://login.example.com --username alice
//! qrlogin scan --image screenshot.png        # shows who is asking, asks Confirm/Cancel
//! qrlogin scan --url TEXT --yes --code 42   # number matching: the number the page shows
//! qrlogin sessions                           # signed-in devices; `sessions revoke ID`
//! qrlogin sign-ins                           # web sign-ins by QR; `sign-ins revoke ID`
//! qrlogin qr-login off                       # refuse QR sign-in for this account
//! qrlogin whoami
//! qrlogin logout
//! qrlogin decode photo.jpg                   # prints every QR text found
//! ```

mod camera;
mod commands;
mod context;
mod exit;
mod manage;
mod output;
mod prompt;
mod scan;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::context::Context;
use crate::output::Output;

/// Approve QR Login sign-ins from the command line: sign in to your login
/// server once, then scan the QR code a web page shows.
#[derive(Debug, Parser)]
#[command(name = "qrlogin", version, after_help = exit::EXIT_CODES_HELP)]
struct Cli {
    /// Print machine-readable JSON on stdout (errors too: {"error": {"kind", "message"}}).
    #[arg(long, global = true)]
    json: bool,

    /// Keep the sign-in token in a file readable only by you (mode 0600)
    /// instead of the OS keyring. Anyone who can read the file can use your
    /// account: use only where no keyring exists.
    #[arg(long, global = true)]
    insecure_storage: bool,

    /// Directory of the account file (default: the OS config directory + /qrlogin).
    #[arg(long, global = true, env = "QRLOGIN_CONFIG_DIR", value_name = "DIR")]
    config_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Sign in to a login server with your user name and password.
    Login(LoginArgs),
    /// Scan a login QR code: show who is asking, then Confirm or Cancel.
    Scan(ScanArgs),
    /// Show who you are signed in as (asks the server).
    Whoami,
    /// Sign out: revoke the token on the server and forget it here.
    Logout,
    /// List the devices signed in to your account; `sessions revoke ID` signs one out.
    Sessions(SessionsArgs),
    /// List the browsers you signed in by QR code; `sign-ins revoke ID` signs one out.
    SignIns(SignInsArgs),
    /// Turn signing in by QR code on or off for your account, or show whether it is on.
    QrLogin {
        #[arg(value_enum)]
        switch: QrLoginSwitch,
    },
    /// Print the text of every QR code found in each image, one per line.
    Decode(DecodeArgs),
}

#[derive(Debug, Args)]
struct LoginArgs {
    /// The login server, e.g. https://login.example.com (plain http only for localhost).
    #[arg(long, env = "QRLOGIN_SERVER")]
    server: String,
    /// Your user name on that server.
    #[arg(long)]
    username: String,
    /// Read the password from the first line of standard input instead of a prompt.
    #[arg(long)]
    password_stdin: bool,
    /// A name for this device in your list of sessions (default: "qrlogin CLI on <host>").
    #[arg(long)]
    device_name: Option<String>,
}

#[derive(Debug, Args)]
#[command(group = clap::ArgGroup::new("source").required(true).multiple(false))]
#[command(group = clap::ArgGroup::new("answer").multiple(false))]
struct ScanArgs {
    /// An image file (PNG or JPEG) showing the login page's QR code: a screenshot or photo.
    #[arg(long, group = "source", value_name = "FILE")]
    image: Option<PathBuf>,
    /// Read the code from camera number N (0 is the first webcam).
    #[arg(long, group = "source", value_name = "N")]
    camera: Option<u32>,
    /// The text of the QR code (https://<server>/q/<code>).
    #[arg(long, group = "source", value_name = "TEXT")]
    url: Option<String>,
    /// Confirm without asking.
    #[arg(long, group = "answer")]
    yes: bool,
    /// Cancel without asking.
    #[arg(long, group = "answer")]
    cancel: bool,
    /// The number the sign-in page shows, when the server uses number
    /// matching (required with --yes there).
    #[arg(long, value_name = "NN", conflicts_with = "cancel")]
    code: Option<String>,
}

#[derive(Debug, Args)]
struct SessionsArgs {
    #[command(subcommand)]
    action: Option<SessionsAction>,
}

#[derive(Debug, Subcommand)]
enum SessionsAction {
    /// Sign out the device with this id (from `qrlogin sessions`).
    Revoke { id: String },
}

#[derive(Debug, Args)]
struct SignInsArgs {
    #[command(subcommand)]
    action: Option<SignInsAction>,
}

#[derive(Debug, Subcommand)]
enum SignInsAction {
    /// "That was not me": sign out the browser of this sign-in (id from
    /// `qrlogin sign-ins`, or printed after `qrlogin scan`).
    Revoke { id: String },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum QrLoginSwitch {
    On,
    Off,
    Status,
}

#[derive(Debug, Args)]
struct DecodeArgs {
    /// Image files (PNG or JPEG).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Output::new(cli.json);
    let result = run(cli, &out).await;
    match result {
        Ok(code) => code,
        Err(err) => {
            out.error(&err);
            exit::for_error(&err)
        }
    }
}

/// Runs one subcommand.
async fn run(cli: Cli, out: &Output) -> anyhow::Result<ExitCode> {
    let ctx = Context::new(cli.config_dir, cli.insecure_storage)?;
    match cli.command {
        Command::Login(args) => commands::login(&ctx, args, out).await,
        Command::Scan(args) => scan::scan(&ctx, args, out).await,
        Command::Whoami => commands::whoami(&ctx, out).await,
        Command::Logout => commands::logout(&ctx, out).await,
        Command::Sessions(args) => match args.action {
            None => manage::sessions(&ctx, out).await,
            Some(SessionsAction::Revoke { id }) => manage::revoke_session(&ctx, &id, out).await,
        },
        Command::SignIns(args) => match args.action {
            None => manage::sign_ins(&ctx, out).await,
            Some(SignInsAction::Revoke { id }) => manage::revoke_sign_in(&ctx, &id, out).await,
        },
        Command::QrLogin { switch } => manage::qr_login(&ctx, switch, out).await,
        Command::Decode(args) => commands::decode_files(args, out).await,
    }
}
