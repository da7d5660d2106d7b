//! The `sign_ins` table: which app session confirmed a ticket (written at
//! the confirm), which web token the page received for it (written at the
//! exchange), and the revocation list of those tokens ("Was this you? — No").
//!
//! One row per ticket. The confirm and the exchange each upsert their half,
//! so the row is complete whichever of the two writes lands first.

use qrlogin_core::{RequesterInfo, RevokedToken, SignInRecord, Ticket, TicketId, UserId};
use sqlx::Row;
use time::OffsetDateTime;

use super::app_sessions::AppSession;
use super::group_commit::{Confirmation, Exchange, Record, Requester, Written};
use super::users::{User, user_from_row};
use super::{DbError, Pools, decode_error, from_secs};

/// Most sign-ins listed.
pub const LIST_LIMIT: i64 = 50;

/// Shown when the confirming session's name is not recorded.
const UNKNOWN_DEVICE: &str = "unknown device";

/// Whether a sign-in was still wanted when its token was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    Live,
    /// The user said "Was this you? — No" first.
    Revoked,
}

/// The web token handed out for a sign-in, as recorded.
pub struct IssuedTokenRecord<'a> {
    /// The token's `jti` (for an OpenID Connect grant: the grant's own id).
    pub id: &'a str,
    pub expires_at: OffsetDateTime,
    /// The OpenID Connect client the sign-in was for, if one: (id, name).
    pub client: Option<(&'a str, &'a str)>,
}

pub struct SignIns<'p> {
    pools: &'p Pools,
}

impl<'p> SignIns<'p> {
    pub(super) fn new(pools: &'p Pools) -> Self {
        Self { pools }
    }

    /// Records which app session is confirming `ticket` — before the ticket
    /// becomes `confirmed`, so that every confirmed ticket has its record.
    /// A repeat confirm from another session of the same user keeps the first.
    /// Committed with whatever other records wait at the same moment.
    pub async fn record_confirmation(
        &self,
        ticket: &Ticket,
        session: &AppSession,
    ) -> Result<(), DbError> {
        self.pools
            .group_commit
            .write(Record::Confirmation(Confirmation {
                ticket_id: ticket.id.to_string(),
                user_id: session.user.id.0.clone(),
                app_session_id: session.id.clone(),
                device_name: session.device_name.clone(),
                requester: requester_row(&ticket.requester),
            }))
            .await?;
        Ok(())
    }

    /// Records the web token the page received for `ticket` at `now`, and
    /// answers in the same statement whether the user has already said
    /// "Was this you? — No" to this sign-in (then nothing may leave; the
    /// recorded token is on the revocation list all the same). A revoke
    /// after this statement finds the token recorded and revokes it.
    /// Committed with whatever other records wait at the same moment, and
    /// before this returns.
    pub async fn record_exchange(
        &self,
        ticket: &TicketId,
        user: &UserId,
        requester: &RequesterInfo,
        token: IssuedTokenRecord<'_>,
        now: OffsetDateTime,
    ) -> Result<Recorded, DbError> {
        let written = self
            .pools
            .group_commit
            .write(Record::Exchange(Exchange {
                ticket_id: ticket.to_string(),
                user_id: user.0.clone(),
                requester: requester_row(requester),
                signed_in_at: now.unix_timestamp(),
                token_id: token.id.to_string(),
                token_expires_at: token.expires_at.unix_timestamp(),
                client: token
                    .client
                    .map(|(id, name)| (id.to_string(), name.to_string())),
            }))
            .await?;
        let revoked = match written {
            Written::Exchange(Some(revoked)) => revoked,
            // The row was not this exchange's to complete (never happens
            // for a ticket consumed once): go by the row as it is.
            _ => self.is_ticket_revoked(ticket).await?,
        };
        Ok(if revoked {
            Recorded::Revoked
        } else {
            Recorded::Live
        })
    }

    /// The user who confirmed `ticket`, and whether the app session that
    /// confirmed it is still signed in and the user still allows QR sign-in;
    /// `None` when no confirm was recorded (or its session or user is gone).
    pub async fn confirming_user(
        &self,
        ticket: &TicketId,
    ) -> Result<Option<(User, bool)>, DbError> {
        let row = sqlx::query(
            "SELECT u.id, u.username, u.display_name, u.avatar_url, u.email,
                    CASE WHEN s.revoked_at IS NULL AND u.qr_login_enabled THEN 1 ELSE 0 END AS live
             FROM sign_ins r
             JOIN app_sessions s ON s.id = r.app_session_id
             JOIN users u ON u.id = r.user_id
             WHERE r.ticket_id = $1",
        )
        .bind(ticket.to_string())
        .fetch_optional(&self.pools.reader)
        .await?;
        row.map(|row| Ok((user_from_row(&row)?, row.try_get::<i64, _>("live")? != 0)))
            .transpose()
    }

    /// "Was this you? — No" on `user`'s sign-in `ticket`, whether or not its
    /// exchange has written the token yet: an exchange that reads this back
    /// hands out nothing, and a token already handed out is on the
    /// revocation list. False when there is no such sign-in of theirs; true
    /// again for one revoked before.
    pub async fn revoke(
        &self,
        ticket: &TicketId,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<bool, DbError> {
        self.mark_revoked(ticket, user, now, false).await
    }

    /// True when the user said "Was this you? — No" to `ticket`.
    pub async fn is_ticket_revoked(&self, ticket: &TicketId) -> Result<bool, DbError> {
        let row = sqlx::query(
            "SELECT ticket_id FROM sign_ins WHERE ticket_id = $1 AND revoked_at IS NOT NULL",
        )
        .bind(ticket.to_string())
        .fetch_optional(&self.pools.reader)
        .await?;
        Ok(row.is_some())
    }

    /// The user's exchanged sign-ins, newest first, at most [`LIST_LIMIT`].
    pub async fn list(&self, user: &UserId) -> Result<Vec<SignInRecord>, DbError> {
        let rows = sqlx::query(
            "SELECT ticket_id, device_name, requester_ip, requester_user_agent, requester_browser,
                    requester_os, requested_at, signed_in_at, token_expires_at, revoked_at,
                    client_name
             FROM sign_ins WHERE user_id = $1 AND signed_in_at IS NOT NULL
             ORDER BY signed_in_at DESC, requested_at DESC, ticket_id
             LIMIT $2",
        )
        .bind(&user.0)
        .bind(LIST_LIMIT)
        .fetch_all(&self.pools.reader)
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
    ) -> Result<bool, DbError> {
        self.mark_revoked(ticket, user, now, true).await
    }

    /// Sets `revoked_at` on `user`'s row for `ticket` (only an exchanged one
    /// with `exchanged_only`); true when the row is revoked now or was before.
    async fn mark_revoked(
        &self,
        ticket: &TicketId,
        user: &UserId,
        now: OffsetDateTime,
        exchanged_only: bool,
    ) -> Result<bool, DbError> {
        let ticket = ticket.to_string();
        let update = if exchanged_only {
            "UPDATE sign_ins SET revoked_at = $1
             WHERE ticket_id = $2 AND user_id = $3 AND signed_in_at IS NOT NULL
                 AND revoked_at IS NULL"
        } else {
            "UPDATE sign_ins SET revoked_at = $1
             WHERE ticket_id = $2 AND user_id = $3 AND revoked_at IS NULL"
        };
        let done = sqlx::query(update)
            .bind(now.unix_timestamp())
            .bind(&ticket)
            .bind(&user.0)
            .execute(&self.pools.writer)
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
        .fetch_optional(&self.pools.reader)
        .await?;
        Ok(earlier.is_some())
    }

    /// Whether the OpenID Connect grant of `ticket` (its sign-in) exists for
    /// `client` and has not been revoked.
    pub async fn grant_live(&self, ticket: &str, client: &str) -> Result<bool, DbError> {
        let row = sqlx::query(
            "SELECT ticket_id FROM sign_ins
             WHERE ticket_id = $1 AND client_id = $2 AND revoked_at IS NULL",
        )
        .bind(ticket)
        .bind(client)
        .fetch_optional(&self.pools.reader)
        .await?;
        Ok(row.is_some())
    }

    /// Revokes the grant of `ticket` whoever asks (a replayed code, a reused
    /// refresh token, the client's own revocation): its refresh and access
    /// tokens stop working.
    pub async fn revoke_grant(&self, ticket: &str, now: OffsetDateTime) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE sign_ins SET revoked_at = $1 WHERE ticket_id = $2 AND revoked_at IS NULL",
        )
        .bind(now.unix_timestamp())
        .bind(ticket)
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// Puts one token (`jti`, valid until `expires_at`) on the revocation
    /// list (RFC 7009 revocation of an access token).
    pub async fn revoke_token(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<(), DbError> {
        sqlx::query(
            "INSERT INTO token_revocations (token_id, token_expires_at, revoked_at)
             VALUES ($1, $2, $3) ON CONFLICT (token_id) DO NOTHING",
        )
        .bind(jti)
        .bind(expires_at.unix_timestamp())
        .bind(now.unix_timestamp())
        .execute(&self.pools.writer)
        .await?;
        Ok(())
    }

    /// True when the web token `jti` was revoked.
    pub async fn is_revoked(&self, jti: &str) -> Result<bool, DbError> {
        let row = sqlx::query(
            "SELECT token_id FROM sign_ins WHERE token_id = $1 AND revoked_at IS NOT NULL
             UNION ALL
             SELECT token_id FROM token_revocations WHERE token_id = $1",
        )
        .bind(jti)
        .fetch_optional(&self.pools.reader)
        .await?;
        Ok(row.is_some())
    }

    /// Revoked web tokens that have not expired yet at `now`, soonest
    /// expiry first.
    pub async fn revoked(&self, now: OffsetDateTime) -> Result<Vec<RevokedToken>, DbError> {
        let rows = sqlx::query(
            "SELECT token_id, token_expires_at FROM sign_ins
             WHERE revoked_at IS NOT NULL AND token_expires_at > $1
             UNION
             SELECT token_id, token_expires_at FROM token_revocations
             WHERE token_expires_at > $1
             ORDER BY token_expires_at, token_id",
        )
        .bind(now.unix_timestamp())
        .fetch_all(&self.pools.reader)
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

fn requester_row(requester: &RequesterInfo) -> Requester {
    Requester {
        ip: requester.ip.to_string(),
        user_agent: requester.user_agent.clone(),
        browser: requester.browser.clone(),
        os: requester.os.clone(),
        requested_at: requester.created_at.unix_timestamp(),
    }
}

fn record_from_row(row: &sqlx::any::AnyRow) -> Result<SignInRecord, DbError> {
    let ip: String = row.try_get("requester_ip")?;
    let ip = ip.parse().map_err(|e| DbError::Query(decode_error(e)))?;
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
        client_name: row.try_get("client_name")?,
    })
}
