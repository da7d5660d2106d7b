//! The subcommands. Each is a few lines over `qrlogin_client::Session`.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use qrlogin_client::{
    AccountFile, ClientError, FileTokenStore, KeyringStore, Session, TokenStorage, TokenStore,
    decode,
};
use serde_json::json;

use crate::output::Output;
use crate::{
    Cli, Command, DecodeArgs, LoginArgs, SessionsAction, SignInsAction, exit, manage, scan,
};

pub async fn run(cli: Cli, out: &Output) -> Result<ExitCode> {
    let ctx = Config {
        account_file: account_file(&cli)?,
        insecure_storage: cli.insecure_storage,
    };
    match cli.command {
        Command::Login(args) => login(&ctx, args, out).await,
        Command::Scan(args) => scan::scan(&ctx, args, out).await,
        Command::Whoami => whoami(&ctx, out).await,
        Command::Logout => logout(&ctx, out).await,
        Command::Sessions(args) => match args.action {
            None => manage::sessions(&ctx, out).await,
            Some(SessionsAction::Revoke { id }) => manage::revoke_session(&ctx, &id, out).await,
        },
        Command::SignIns(args) => match args.action {
            None => manage::sign_ins(&ctx, out).await,
            Some(SignInsAction::Revoke { id }) => manage::revoke_sign_in(&ctx, &id, out).await,
        },
        Command::QrLogin { switch } => manage::qr_login(&ctx, switch, out).await,
        Command::Decode(args) => decode_files(args, out).await,
    }
}

pub struct Config {
    account_file: AccountFile,
    insecure_storage: bool,
}

fn account_file(cli: &Cli) -> Result<AccountFile> {
    let path = match &cli.config_dir {
        Some(dir) => dir.join("account.json"),
        None => AccountFile::default_path()?,
    };
    Ok(AccountFile::new(path))
}

impl Config {
    /// The token store for an account kept in `storage`.
    fn store(&self, storage: TokenStorage) -> Arc<dyn TokenStore> {
        match storage {
            TokenStorage::Keyring => Arc::new(KeyringStore::new()),
            TokenStorage::File => {
                Arc::new(FileTokenStore::new(self.account_file.insecure_token_path()))
            }
        }
    }

    /// The saved session, or `NotSignedIn`.
    pub async fn session(&self) -> Result<Session> {
        let storage = self
            .account_file
            .load()?
            .map(|a| a.token_storage)
            .ok_or(ClientError::NotSignedIn)?;
        Session::restore(self.account_file.clone(), self.store(storage))
            .await?
            .ok_or_else(|| ClientError::NotSignedIn.into())
    }
}

async fn login(ctx: &Config, args: LoginArgs, out: &Output) -> Result<ExitCode> {
    let server = qrlogin_client::ApiClient::parse_server(&args.server)?;
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        line.trim_end_matches(['\n', '\r']).to_string()
    } else {
        rpassword::prompt_password(format!("Password for {} on {server}: ", args.username))
            .context("reading the password (use --password-stdin when there is no terminal)")?
    };
    let storage = if ctx.insecure_storage {
        out.warn(&format!(
            "--insecure-storage: the sign-in token is kept in {} (readable only by you, but not encrypted).",
            ctx.account_file.insecure_token_path().display()
        ));
        TokenStorage::File
    } else {
        TokenStorage::Keyring
    };
    // Signing in again replaces the previous account: revoke it first.
    if let Ok(previous) = ctx.session().await {
        let _ = previous.sign_out().await;
    }
    let device = args.device_name.unwrap_or_else(default_device_name);
    let session = Session::sign_in(
        &server.to_string(),
        &args.username,
        &password,
        &device,
        ctx.store(storage),
        storage,
        ctx.account_file.clone(),
    )
    .await?;
    let user = session.user();
    out.result(session.account(), || {
        format!(
            "Signed in to {} as {} ({}). Token kept in {}.",
            session.server(),
            user.display_name,
            user.username,
            ctx.store(storage).describe()
        )
    });
    Ok(ExitCode::SUCCESS)
}

fn default_device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "this computer".into());
    format!("qrlogin CLI on {host}")
}

async fn whoami(ctx: &Config, out: &Output) -> Result<ExitCode> {
    let mut session = ctx.session().await?;
    let user = session.me().await?;
    out.result(
        &json!({ "server": session.server(), "user": user, "token_storage": session.account().token_storage }),
        || format!("{} ({}) on {}", user.display_name, user.username, session.server()),
    );
    Ok(ExitCode::SUCCESS)
}

async fn logout(ctx: &Config, out: &Output) -> Result<ExitCode> {
    let session = match ctx.session().await {
        Ok(s) => s,
        Err(e)
            if matches!(
                e.downcast_ref::<ClientError>(),
                Some(ClientError::NotSignedIn)
            ) =>
        {
            // An account file without a token (or nothing at all): tidy up.
            ctx.account_file.delete()?;
            out.result(&json!({ "signed_out": false }), || {
                "Not signed in.".to_string()
            });
            return Ok(ExitCode::SUCCESS);
        }
        Err(e) => return Err(e),
    };
    let outcome = session.sign_out().await?;
    if let Some(note) = &outcome.note {
        out.warn(note);
    }
    out.result(
        &json!({ "signed_out": true, "server": session.server(), "revoked_on_server": outcome.revoked_on_server }),
        || format!("Signed out of {}.", session.server()),
    );
    Ok(ExitCode::SUCCESS)
}

async fn decode_files(args: DecodeArgs, out: &Output) -> Result<ExitCode> {
    let many = args.files.len() > 1;
    let mut report = Vec::new();
    let mut all_found = true;
    for path in args.files {
        let owned = path.clone();
        let texts = tokio::task::spawn_blocking(move || decode::decode_file(&owned))
            .await
            .context("decoding the image")??;
        if texts.is_empty() {
            all_found = false;
            out.note(&format!("{}: no QR code found", path.display()));
        }
        if !out.is_json() {
            for text in &texts {
                if many {
                    println!("{}: {text}", path.display());
                } else {
                    println!("{text}");
                }
            }
        }
        report.push(json!({ "file": path, "codes": texts }));
    }
    if out.is_json() {
        out.result(&report, String::new);
    }
    Ok(if all_found {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(exit::NO_CODE_FOUND)
    })
}
