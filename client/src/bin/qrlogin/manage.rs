//! Looking after the account: `qrlogin sessions`, `qrlogin sign-ins` and
//! `qrlogin qr-login`. Each is a few lines over `qrlogin_client::Session`.

use std::process::ExitCode;

use anyhow::Result;
use qrlogin_client::{AppSessionInfo, RevokeOutcome, SignInRecord};
use serde_json::json;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::context::Context;
use crate::output::{Output, table};
use crate::{QrLoginSwitch, exit};

pub async fn sessions(ctx: &Context, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let sessions = session.list_sessions().await?;
    out.result(&json!({ "sessions": sessions }), || {
        sessions_table(&sessions)
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke_session(ctx: &Context, id: &str, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let id = id.trim();
    let is_this_device = session
        .list_sessions()
        .await?
        .iter()
        .any(|s| s.current && s.id == id);
    if is_this_device {
        out.error_kind(
            "this_device",
            "that is this device's own session: to sign it out, run `qrlogin logout` (it also forgets the token here).",
        );
        return Ok(ExitCode::from(exit::USAGE));
    }
    session.revoke_session(id).await?;
    out.result(&json!({ "revoked": id }), || {
        format!("Signed out session {id}: that device must sign in again.")
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn sign_ins(ctx: &Context, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let sign_ins = session.list_sign_ins().await?;
    let now = OffsetDateTime::now_utc();
    let report: Vec<_> = sign_ins
        .iter()
        .map(|s| {
            let mut value = serde_json::to_value(s).unwrap_or_default();
            value["status"] = json!(sign_in_status(s, now));
            value
        })
        .collect();
    out.result(&json!({ "sign_ins": report }), || {
        sign_ins_table(&sign_ins, now)
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn revoke_sign_in(ctx: &Context, id: &str, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let id = id.trim();
    let outcome = session.revoke_sign_in(id).await?;
    out.result(&json!({ "id": id, "outcome": outcome }), || match outcome {
        RevokeOutcome::Revoked => format!(
            "Signed out: the browser of sign-in {id} can no longer use its sign-in. If it was not you, change your password."
        ),
        RevokeOutcome::Cancelled => format!(
            "Cancelled: sign-in {id} had not finished, so that browser was not signed in."
        ),
    });
    Ok(ExitCode::SUCCESS)
}

pub async fn qr_login(ctx: &Context, switch: QrLoginSwitch, out: &Output) -> Result<ExitCode> {
    let session = ctx.session().await?;
    let settings = match switch {
        QrLoginSwitch::On => session.set_qr_login(true).await?,
        QrLoginSwitch::Off => session.set_qr_login(false).await?,
        QrLoginSwitch::Status => session.settings().await?,
    };
    let user = &session.user().username;
    out.result(&settings, || {
        if settings.qr_login_enabled {
            format!(
                "Signing in with a QR code is on for {user} on {}.",
                session.server()
            )
        } else {
            format!(
                "Signing in with a QR code is off for {user} on {}: scanning a login code with this account is refused. Turn it on with `qrlogin qr-login on`.",
                session.server()
            )
        }
    });
    Ok(ExitCode::SUCCESS)
}

/// Whether a QR sign-in's browser is still signed in.
fn sign_in_status(record: &SignInRecord, now: OffsetDateTime) -> &'static str {
    if record.revoked_at.is_some() {
        "revoked"
    } else if record.expires_at <= now {
        "expired"
    } else {
        "active"
    }
}

fn sessions_table(sessions: &[AppSessionInfo]) -> String {
    if sessions.is_empty() {
        return "No signed-in devices.".into();
    }
    let rows = sessions
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                s.device_name.clone(),
                short_time(s.created_at),
                short_time(s.last_used_at),
                if s.current { "(this device)" } else { "" }.into(),
            ]
        })
        .collect();
    table(&["ID", "DEVICE", "CREATED", "LAST USED", ""], rows)
}

fn sign_ins_table(sign_ins: &[SignInRecord], now: OffsetDateTime) -> String {
    if sign_ins.is_empty() {
        return "No sign-ins by QR code yet.".into();
    }
    let rows = sign_ins
        .iter()
        .map(|s| {
            vec![
                s.id.clone(),
                short_time(s.signed_in_at),
                // The OpenID Connect client the sign-in was for; `-` for the SDK's.
                s.client_name.clone().unwrap_or_else(|| "-".into()),
                format!("{} on {}", s.requester.browser, s.requester.os),
                s.requester.ip.to_string(),
                s.device_name.clone(),
                sign_in_status(s, now).into(),
            ]
        })
        .collect();
    table(
        &[
            "ID",
            "WHEN",
            "SITE",
            "BROWSER",
            "IP",
            "CONFIRMED ON",
            "STATUS",
        ],
        rows,
    )
}

/// `2026-11-25 12:00 UTC`.
fn short_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    t.format(format_description!(
        "[year]-[month]-[day] [hour]:[minute] UTC"
    ))
    .unwrap_or_else(|_| t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    /// A record as the server sends it (fields the wire type gains later
    /// take their defaults).
    fn record() -> SignInRecord {
        serde_json::from_value(json!({
            "id": "AQEBAQEBAQEBAQEBAQEBAQ",
            "requester": {
                "ip": "203.0.113.7",
                "user_agent": "Mozilla/5.0",
                "browser": "Firefox 133",
                "os": "Linux",
                "created_at": "2026-11-25T12:00:00Z",
            },
            "device_name": "Pixel",
            "signed_in_at": "2026-11-25T12:01:00Z",
            "expires_at": "2026-11-25T12:16:00Z",
            "revoked_at": null,
        }))
        .unwrap()
    }

    #[test]
    fn a_sign_in_is_active_until_it_expires_or_is_revoked() {
        let during = datetime!(2026-11-25 12:05:00 UTC);
        let after = datetime!(2026-11-25 12:16:00 UTC);
        assert_eq!(sign_in_status(&record(), during), "active");
        assert_eq!(sign_in_status(&record(), after), "expired");
        let revoked = SignInRecord {
            revoked_at: Some(datetime!(2026-11-25 12:02:00 UTC)),
            ..record()
        };
        assert_eq!(sign_in_status(&revoked, during), "revoked");
        assert_eq!(sign_in_status(&revoked, after), "revoked");
    }

    #[test]
    fn the_sign_ins_table_shows_when_browser_ip_device_and_status() {
        let text = sign_ins_table(&[record()], datetime!(2026-11-25 12:05:00 UTC));
        for part in [
            "AQEBAQEBAQEBAQEBAQEBAQ",
            "2026-11-25 12:01 UTC",
            "Firefox 133 on Linux",
            "203.0.113.7",
            "Pixel",
            "active",
        ] {
            assert!(text.contains(part), "{part}: {text}");
        }
    }

    #[test]
    fn the_sign_ins_table_names_the_openid_client() {
        let oidc = SignInRecord {
            client_name: Some("Grafana".into()),
            ..record()
        };
        let text = sign_ins_table(&[oidc], datetime!(2026-11-25 12:05:00 UTC));
        assert!(text.contains("SITE") && text.contains("Grafana"), "{text}");
    }

    #[test]
    fn the_sessions_table_marks_this_device() {
        let session = |id: &str, current| AppSessionInfo {
            id: id.into(),
            device_name: format!("device {id}"),
            created_at: datetime!(2026-11-25 12:00:00 UTC),
            last_used_at: datetime!(2026-11-25 13:30:00 +01:00),
            current,
        };
        let text = sessions_table(&[session("s1", true), session("s2", false)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[1].contains("s1") && lines[1].ends_with("(this device)"));
        assert!(lines[2].contains("device s2") && !lines[2].contains("this device"));
        assert!(lines[1].contains("2026-11-25 12:30 UTC"), "{text}");
    }
}
