//! The account subcommands (`login`, `whoami`, `logout`) and `decode`.
//! Each is a few lines over `qrlogin_client::Session`.

use std::io::BufRead;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use qrlogin_client::{ClientError, Session, TokenStorage, decode};
use serde_json::json;

use crate::context::Context;
use crate::output::Output;
use crate::{DecodeArgs, LoginArgs, exit};

pub async fn login(ctx: &Context, args: LoginArgs, out: &Output) -> Result<ExitCode> {
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

pub async fn whoami(ctx: &Context, out: &Output) -> Result<ExitCode> {
    let mut session = ctx.session().await?;
    let user = session.me().await?;
    out.result(
        &json!({ "server": session.server(), "user": user, "token_storage": session.account().token_storage }),
        || format!("{} ({}) on {}", user.display_name, user.username, session.server()),
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn logout(ctx: &Context, out: &Output) -> Result<ExitCode> {
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

pub async fn decode_files(args: DecodeArgs, out: &Output) -> Result<ExitCode> {
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
