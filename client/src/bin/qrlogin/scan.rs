//! `qrlogin scan`: read a login code, show who is asking (and where from),
//! then confirm — with the page's number when number matching is on — or
//! cancel.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result};
use qrlogin_client::{ClientError, LoginRequest, Session, decode};
use serde_json::json;
use time::format_description::well_known::Rfc2822;

use crate::context::Context;
use crate::output::Output;
use crate::prompt::{Pick, number_question, parse_pick, parse_yes};
use crate::{ScanArgs, exit};

/// How often an unclear answer to the number question is asked again.
const NUMBER_TRIES: usize = 3;

enum Answer {
    /// Confirm, with the picked number when number matching is on.
    Confirm(Option<String>),
    Cancel,
}

pub async fn scan(ctx: &Context, args: ScanArgs, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let text = match (&args.image, args.camera, &args.url) {
        (Some(path), _, _) => code_in_image(&session, path).await?,
        (_, Some(index), _) => crate::camera::read_code(&session, index, out).await?,
        (_, _, Some(url)) => url.clone(),
        (None, None, None) => unreachable!("clap requires one source"),
    };
    let request = session.begin_login(&text).await?;
    if out.is_json() {
        if let Some(warning) = request.different_network_warning() {
            out.note(&warning);
        }
    } else {
        print!(
            "{}",
            describe_request(&request, &session.user().display_name)
        );
    }
    let code = if request.needs_verification_code() {
        args.code.clone()
    } else {
        if args.code.is_some() {
            out.warn("--code is ignored: this server does not use number matching.");
        }
        None
    };

    let answer = if args.cancel {
        Answer::Cancel
    } else if args.yes {
        if request.needs_verification_code() && code.is_none() {
            session.cancel(&request).await?;
            out.error_kind(
                "verification_required",
                "this server uses number matching, so --yes needs the number the sign-in page shows: pass it with --code NN. The sign-in was cancelled; reload the page and scan again.",
            );
            return Ok(ExitCode::from(exit::USAGE));
        }
        Answer::Confirm(code)
    } else if std::io::stdin().is_terminal() {
        ask(&request, code)?
    } else {
        session.cancel(&request).await?;
        anyhow::bail!(
            "not confirmed: there is no terminal to ask on, so the sign-in was cancelled (pass --yes or --cancel)"
        );
    };

    let picked = match &answer {
        Answer::Confirm(code) => {
            session.confirm(&request, code.as_deref()).await?;
            code.clone()
        }
        Answer::Cancel => {
            session.cancel(&request).await?;
            None
        }
    };
    let confirmed = matches!(answer, Answer::Confirm(_));
    let ticket_id = request.qr.id.to_string();
    let report = json!({
        "request": request,
        "answer": if confirmed { "confirmed" } else { "cancelled" },
        "verification_code": picked,
        "sign_in_id": ticket_id,
        "warning": request.different_network_warning(),
    });
    out.result(&report, || {
        if confirmed {
            format!(
                "Confirmed: the browser is now signed in to {} ({}).\n{}",
                request.site_name,
                request.site,
                was_this_you(&ticket_id)
            )
        } else {
            "Cancelled: the browser was not signed in.".to_string()
        }
    });
    Ok(ExitCode::SUCCESS)
}

/// The line printed after a confirmed sign-in.
fn was_this_you(ticket_id: &str) -> String {
    format!("Was this you? If not, run: qrlogin sign-ins revoke {ticket_id}")
}

/// Decodes an image and picks the code to act on ([`decode::pick_code`]):
/// a login code of the signed-in server if there is one, else the first
/// code (which the session then refuses with a precise reason).
async fn code_in_image(session: &Session, path: &Path) -> Result<String> {
    let owned = path.to_path_buf();
    let texts = tokio::task::spawn_blocking(move || decode::decode_file(&owned))
        .await
        .context("decoding the image")??;
    let picked =
        decode::pick_code(&texts, &session.code_check()).ok_or(ClientError::NoCodeFound)?;
    Ok(picked.into_text())
}

/// The confirm screen, as text: the site, who is asking, and the warning
/// when the browser is on another network.
fn describe_request(request: &LoginRequest, you: &str) -> String {
    let r = &request.requester;
    let when = r
        .created_at
        .format(&Rfc2822)
        .unwrap_or_else(|_| r.created_at.to_string());
    let deadline = request
        .expires_at
        .format(&Rfc2822)
        .unwrap_or_else(|_| request.expires_at.to_string());
    let mut text = format!(
        "Sign in to {} ({})?\n\
         \x20 as:         {you}\n\
         \x20 browser:    {}\n\
         \x20 system:     {}\n\
         \x20 IP address: {}\n\
         \x20 asked at:   {when}\n\
         \x20 answer by:  {deadline}\n",
        request.site_name, request.site, r.browser, r.os, r.ip
    );
    if let Some(warning) = request.different_network_warning() {
        text.push_str(&warning);
        text.push('\n');
    }
    text.push_str("Only confirm if you are signing in on that browser right now.\n");
    text
}

/// Asks on the terminal. With number matching on (and no --code), picking
/// the page's number is the confirmation; otherwise a plain y/N.
fn ask(request: &LoginRequest, code: Option<String>) -> Result<Answer> {
    match (&request.verification_choices, code) {
        (Some(choices), None) => ask_number(choices),
        (_, code) => Ok(
            if parse_yes(&read_answer("Confirm this sign-in? [y/N] ")?) {
                Answer::Confirm(code)
            } else {
                Answer::Cancel
            },
        ),
    }
}

fn ask_number(choices: &[String; 3]) -> Result<Answer> {
    let question = format!("{} (Enter to cancel) ", number_question(choices).trim_end());
    for _ in 0..NUMBER_TRIES {
        match parse_pick(&read_answer(&question)?, choices) {
            Pick::Number(n) => return Ok(Answer::Confirm(Some(n))),
            Pick::Cancel => return Ok(Answer::Cancel),
            Pick::Unclear => println!("Type 1, 2 or 3, or the number itself."),
        }
    }
    println!("No number picked.");
    Ok(Answer::Cancel)
}

/// One line from the terminal; end of input reads as an empty answer.
fn read_answer(question: &str) -> Result<String> {
    print!("{question}");
    std::io::stdout().flush().ok();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading your answer")?;
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrlogin_client::{LoginQr, Origin, RequesterInfo};
    use qrlogin_core::TicketId;
    use time::macros::datetime;

    fn request(same_network: bool) -> LoginRequest {
        LoginRequest {
            qr: LoginQr::new(
                Origin::parse("https://login.example.com").unwrap(),
                TicketId::from_random_bytes([3; 16]),
            ),
            site: "https://login.example.com".into(),
            site_name: "Example Shop".into(),
            requester: RequesterInfo {
                ip: "203.0.113.7".parse().unwrap(),
                user_agent: "Mozilla/5.0".into(),
                browser: "Firefox 133".into(),
                os: "Linux".into(),
                created_at: datetime!(2026-11-25 12:00:00 UTC),
            },
            expires_at: datetime!(2026-11-25 12:01:00 UTC),
            scanner_ip: "198.51.100.2".parse().unwrap(),
            same_network,
            verification_choices: None,
        }
    }

    #[test]
    fn the_prompt_names_the_site_and_who_is_asking() {
        let text = describe_request(&request(true), "Alice");
        assert!(
            text.starts_with("Sign in to Example Shop (https://login.example.com)?\n"),
            "{text}"
        );
        for part in ["Alice", "Firefox 133", "Linux", "203.0.113.7", "2026"] {
            assert!(text.contains(part), "{part}: {text}");
        }
        assert!(!text.contains("Warning"), "{text}");
    }

    #[test]
    fn a_request_from_another_network_gets_the_warning_line() {
        let text = describe_request(&request(false), "Alice");
        assert!(
            text.contains(
                "\nWarning: this sign-in request comes from a different network (203.0.113.7) than this device (198.51.100.2). If you did not just open this page yourself, cancel.\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn after_a_confirm_the_revoke_command_names_the_sign_in() {
        assert_eq!(
            was_this_you("AQEB"),
            "Was this you? If not, run: qrlogin sign-ins revoke AQEB"
        );
    }
}
