//! The rules of a sign-in around the ticket: what a Confirm came to under
//! number matching, what "Was this you? — No" does in each ticket state, and
//! what a sign-in record's status is at a given time. Pure functions; the
//! server carries them out.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::ticket::{CancelledBy, Ticket, TicketState, UserId};
use crate::wire::SignInRecord;

/// What a Confirm led to, read off the ticket it produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    /// The sign-in is confirmed: record it, then tell the app.
    Confirmed,
    /// The user picked a number that is not the page's: the ticket is now
    /// cancelled and the app is told that the code may have been relayed.
    WrongCode,
}

impl ConfirmOutcome {
    /// The outcome of a Confirm that produced `after` without an error.
    /// (A Confirm on a cancelled ticket is refused by the state machine, so
    /// a `WrongCode` cancel here can only be this Confirm's.)
    pub fn of(after: &Ticket) -> Self {
        match after.state {
            TicketState::Cancelled {
                by: CancelledBy::WrongCode(_),
            } => Self::WrongCode,
            _ => Self::Confirmed,
        }
    }
}

/// What "Was this you? — No" by `user` does to a ticket, by its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeStep {
    /// The page has no token yet: cancel the ticket so it never gets one.
    CancelTicket,
    /// The ticket was already cancelled by this user: nothing left to do.
    AlreadyCancelled,
    /// The page received a token: put it on the revocation list.
    RevokeToken,
    /// Not a sign-in of this user (or never completed): answer "no such
    /// sign-in", the same as for someone else's.
    NotTheirs,
}

impl RevokeStep {
    pub fn for_state(state: &TicketState, user: &UserId) -> Self {
        match state {
            TicketState::Scanned { user: scanner } | TicketState::Confirmed { user: scanner }
                if &scanner.id == user =>
            {
                Self::CancelTicket
            }
            TicketState::Consumed { user: scanner } if &scanner.id == user => Self::RevokeToken,
            TicketState::Cancelled {
                by: CancelledBy::User(canceller) | CancelledBy::WrongCode(canceller),
            } if canceller == user => Self::AlreadyCancelled,
            _ => Self::NotTheirs,
        }
    }
}

/// A recorded sign-in's status, as the app lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum SignInStatus {
    /// The browser holds a token that still works.
    Active,
    /// The user signed that browser out.
    Revoked,
    /// The token ran out by itself.
    Expired,
}

impl SignInRecord {
    /// Revoked wins over expired: the user's own act is what they remember.
    pub fn status_at(&self, now: OffsetDateTime) -> SignInStatus {
        if self.revoked_at.is_some() {
            SignInStatus::Revoked
        } else if now >= self.expires_at {
            SignInStatus::Expired
        } else {
            SignInStatus::Active
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;
    use std::time::Duration;

    use super::*;
    use crate::ticket::TicketUser;
    use crate::wire::RequesterInfo;

    fn user(id: &str) -> TicketUser {
        TicketUser {
            id: UserId(id.into()),
            display_name: id.into(),
            avatar_url: None,
        }
    }

    #[test]
    fn revoke_cancels_a_ticket_not_yet_exchanged() {
        let alice = UserId("alice".into());
        for state in [
            TicketState::Scanned {
                user: user("alice"),
            },
            TicketState::Confirmed {
                user: user("alice"),
            },
        ] {
            assert_eq!(
                RevokeStep::for_state(&state, &alice),
                RevokeStep::CancelTicket
            );
        }
    }

    #[test]
    fn revoke_of_an_exchanged_ticket_revokes_its_token() {
        let state = TicketState::Consumed {
            user: user("alice"),
        };
        assert_eq!(
            RevokeStep::for_state(&state, &UserId("alice".into())),
            RevokeStep::RevokeToken
        );
    }

    #[test]
    fn revoke_after_the_users_own_cancel_is_done_already() {
        let alice = UserId("alice".into());
        for by in [
            CancelledBy::User(alice.clone()),
            CancelledBy::WrongCode(alice.clone()),
        ] {
            let state = TicketState::Cancelled { by };
            assert_eq!(
                RevokeStep::for_state(&state, &alice),
                RevokeStep::AlreadyCancelled
            );
        }
    }

    #[test]
    fn revoke_of_someone_elses_or_an_unfinished_ticket_is_not_theirs() {
        let bob = UserId("bob".into());
        for state in [
            TicketState::Pending,
            TicketState::Expired,
            TicketState::Scanned {
                user: user("alice"),
            },
            TicketState::Confirmed {
                user: user("alice"),
            },
            TicketState::Consumed {
                user: user("alice"),
            },
            TicketState::Cancelled {
                by: CancelledBy::Page,
            },
            TicketState::Cancelled {
                by: CancelledBy::User(UserId("alice".into())),
            },
        ] {
            assert_eq!(
                RevokeStep::for_state(&state, &bob),
                RevokeStep::NotTheirs,
                "{state:?}"
            );
        }
    }

    fn record(expires_at: OffsetDateTime, revoked_at: Option<OffsetDateTime>) -> SignInRecord {
        SignInRecord {
            id: "t".into(),
            requester: RequesterInfo {
                ip: Ipv4Addr::LOCALHOST.into(),
                user_agent: String::new(),
                browser: String::new(),
                os: String::new(),
                created_at: expires_at,
            },
            device_name: "phone".into(),
            signed_in_at: expires_at,
            expires_at,
            revoked_at,
        }
    }

    #[test]
    fn a_sign_in_is_active_until_its_token_expires() {
        let t = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let rec = record(t, None);
        assert_eq!(
            rec.status_at(t - Duration::from_secs(1)),
            SignInStatus::Active
        );
        assert_eq!(rec.status_at(t), SignInStatus::Expired);
    }

    #[test]
    fn a_revoked_sign_in_stays_revoked_after_expiry() {
        let t = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let rec = record(t, Some(t - Duration::from_secs(5)));
        assert_eq!(
            rec.status_at(t - Duration::from_secs(1)),
            SignInStatus::Revoked
        );
        assert_eq!(
            rec.status_at(t + Duration::from_secs(1)),
            SignInStatus::Revoked
        );
    }
}
