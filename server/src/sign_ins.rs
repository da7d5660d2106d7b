//! QR sign-ins in SQL: which app session confirmed a ticket (written at the
//! confirm), which web token the page received for it (written at the
//! exchange), and the revocation list of those tokens ("Was this you? — No").
//!
//! One row per ticket. The confirm and the exchange each upsert their half,
//! so the row is complete whichever of the two writes lands first.

use std::time::Duration;

use qrlogin_core::{
    CancelledBy, ErrorCode, Event, RequesterInfo, RevokeOutcome, RevokedToken, SignInRecord,
    Ticket, TicketId, TicketState, UserId,
};
use sqlx::{AnyPool, Row};
use time::OffsetDateTime;

use crate::error::{AppError, AppResult};
use crate::tickets::Tickets;
use crate::tokens::IssuedToken;
use crate::users::{AppSession, UserError, from_secs};

/// Most sign-ins listed.
pub const LIST_LIMIT: i64 = 50;

/// Shown when the confirming session's name is not recorded.
const UNKNOWN_DEVICE: &str = "unknown device";

/// How many times a revoke looks again for the record of an exchange that
/// the ticket says happened, and how long it waits in between: the exchange
/// writes its record right after consuming the ticket.
const EXCHANGE_RECORD_RETRIES: usize = 5;
const EXCHANGE_RECORD_WAIT: Duration = Duration::from_millis(100);

#[derive(Clone)]
pub struct SignIns {
    pool: AnyPool,
}

impl SignIns {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool }
    }

    /// Records which app session confirmed `ticket` (now `confirmed`).
    /// A repeat confirm from another session of the same user keeps the first.
    pub async fn record_confirmation(
        &self,
        ticket: &Ticket,
        session: &AppSession,
    ) -> Result<(), UserError> {
        let requester = &ticket.requester;
        sqlx::query(
            "INSERT INTO sign_ins (ticket_id, user_id, app_session_id, device_name, requester_ip,
                 requester_user_agent, requester_browser, requester_os, requested_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (ticket_id) DO UPDATE
                 SET app_session_id = excluded.app_session_id, device_name = excluded.device_name
                 WHERE sign_ins.app_session_id IS NULL AND sign_ins.user_id = excluded.user_id",
        )
        .bind(ticket.id.to_string())
        .bind(&session.user.id.0)
        .bind(&session.id)
        .bind(&session.device_name)
        .bind(requester.ip.to_string())
        .bind(&requester.user_agent)
        .bind(&requester.browser)
        .bind(&requester.os)
        .bind(requester.created_at.unix_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records the web token the page received for `ticket` at `now`.
    pub async fn record_exchange(
        &self,
        ticket: &TicketId,
        user: &UserId,
        requester: &RequesterInfo,
        token: &IssuedToken,
        now: OffsetDateTime,
    ) -> Result<(), UserError> {
        sqlx::query(
            "INSERT INTO sign_ins (ticket_id, user_id, requester_ip, requester_user_agent,
                 requester_browser, requester_os, requested_at, signed_in_at, token_id,
                 token_expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
             ON CONFLICT (ticket_id) DO UPDATE
                 SET signed_in_at = excluded.signed_in_at, token_id = excluded.token_id,
                     token_expires_at = excluded.token_expires_at
                 WHERE sign_ins.signed_in_at IS NULL AND sign_ins.user_id = excluded.user_id",
        )
        .bind(ticket.to_string())
        .bind(&user.0)
        .bind(requester.ip.to_string())
        .bind(&requester.user_agent)
        .bind(&requester.browser)
        .bind(&requester.os)
        .bind(requester.created_at.unix_timestamp())
        .bind(now.unix_timestamp())
        .bind(&token.jti)
        .bind(token.expires_at.unix_timestamp())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user's exchanged sign-ins, newest first, at most [`LIST_LIMIT`].
    pub async fn list(&self, user: &UserId) -> Result<Vec<SignInRecord>, UserError> {
        let rows = sqlx::query(
            "SELECT ticket_id, device_name, requester_ip, requester_user_agent, requester_browser,
                    requester_os, requested_at, signed_in_at, token_expires_at, revoked_at
             FROM sign_ins WHERE user_id = $1 AND signed_in_at IS NOT NULL
             ORDER BY signed_in_at DESC, requested_at DESC, ticket_id
             LIMIT $2",
        )
        .bind(&user.0)
        .bind(LIST_LIMIT)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(record_from_row).collect()
    }

    /// Puts the web token of the user's exchanged sign-in `ticket` on the
    /// revocation list. False when there is no such exchanged sign-in of
    /// theirs; true again for one revoked before.
    pub async fn revoke_exchanged(
        &self,
        ticket: &TicketId,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<bool, UserError> {
        let ticket = ticket.to_string();
        let done = sqlx::query(
            "UPDATE sign_ins SET revoked_at = $1
             WHERE ticket_id = $2 AND user_id = $3 AND signed_in_at IS NOT NULL
                 AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(&ticket)
        .bind(&user.0)
        .execute(&self.pool)
        .await?;
        if done.rows_affected() > 0 {
            return Ok(true);
        }
        let earlier = sqlx::query(
            "SELECT ticket_id FROM sign_ins
             WHERE ticket_id = $1 AND user_id = $2 AND revoked_at IS NOT NULL",
        )
        .bind(&ticket)
        .bind(&user.0)
        .fetch_optional(&self.pool)
        .await?;
        Ok(earlier.is_some())
    }

    /// True when the web token `jti` was revoked.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, UserError> {
        let row = sqlx::query(
            "SELECT ticket_id FROM sign_ins WHERE token_id = $1 AND revoked_at IS NOT NULL",
        )
        .bind(jti)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    /// Revoked web tokens that have not expired yet at `now`, soonest
    /// expiry first.
    pub async fn revoked(&self, now: OffsetDateTime) -> Result<Vec<RevokedToken>, UserError> {
        let rows = sqlx::query(
            "SELECT token_id, token_expires_at FROM sign_ins
             WHERE revoked_at IS NOT NULL AND token_expires_at > $1
             ORDER BY token_expires_at, token_id",
        )
        .bind(now.unix_timestamp())
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(RevokedToken {
                    jti: row.try_get("token_id")?,
                    expires_at: from_secs(row.try_get("token_expires_at")?)?,
                })
            })
            .collect()
    }
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<SignInRecord, UserError> {
    let ip: String = row.try_get("requester_ip")?;
    let ip = ip
        .parse()
        .map_err(|e| UserError::Database(sqlx::Error::Decode(Box::new(e))))?;
    let device_name: Option<String> = row.try_get("device_name")?;
    let revoked_at: Option<i64> = row.try_get("revoked_at")?;
    Ok(SignInRecord {
        id: row.try_get("ticket_id")?,
        requester: RequesterInfo {
            ip,
            user_agent: row.try_get("requester_user_agent")?,
            browser: row.try_get("requester_browser")?,
            os: row.try_get("requester_os")?,
            created_at: from_secs(row.try_get("requested_at")?)?,
        },
        device_name: device_name.unwrap_or_else(|| UNKNOWN_DEVICE.into()),
        signed_in_at: from_secs(row.try_get("signed_in_at")?)?,
        expires_at: from_secs(row.try_get("token_expires_at")?)?,
        revoked_at: revoked_at.map(from_secs).transpose()?,
    })
}

/// "Was this you? — No" for `user`'s sign-in by `ticket`: revokes the web
/// token if the page got one, otherwise cancels the ticket (reason
/// `declined`) so the page never gets one. 404 when it is not theirs.
pub async fn revoke(
    tickets: &Tickets,
    sign_ins: &SignIns,
    ticket_id: &TicketId,
    user: &UserId,
) -> AppResult<RevokeOutcome> {
    for _ in 0..=EXCHANGE_RECORD_RETRIES {
        if sign_ins
            .revoke_exchanged(ticket_id, user, OffsetDateTime::now_utc())
            .await?
        {
            return Ok(RevokeOutcome::Revoked);
        }
        let ticket = tickets.current(ticket_id).await.map_err(|e| match e.code {
            ErrorCode::NotFound => not_theirs(),
            _ => e,
        })?;
        match &ticket.state {
            TicketState::Scanned { user: scanner } | TicketState::Confirmed { user: scanner }
                if &scanner.id == user =>
            {
                let cancel = Event::Cancel { user: user.clone() };
                match tickets.apply(ticket_id, cancel).await {
                    Ok(_) => return Ok(RevokeOutcome::Cancelled),
                    // The page exchanged (or gave up) in between: look again.
                    Err(e)
                        if matches!(e.code, ErrorCode::AlreadyConsumed | ErrorCode::Cancelled) => {}
                    Err(e) => return Err(e),
                }
            }
            TicketState::Cancelled {
                by: CancelledBy::User(canceller) | CancelledBy::WrongCode(canceller),
            } if canceller == user => {
                return Ok(RevokeOutcome::Cancelled);
            }
            // Exchanged, but its record is not written yet: wait for it.
            TicketState::Consumed { user: scanner } if &scanner.id == user => {
                tokio::time::sleep(EXCHANGE_RECORD_WAIT).await;
            }
            _ => return Err(not_theirs()),
        }
    }
    Err(not_theirs())
}

fn not_theirs() -> AppError {
    AppError::not_found("no such sign-in on your account")
}
