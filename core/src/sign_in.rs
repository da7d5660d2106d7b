//! The rules of a sign-in around the ticket: what a Confirm came to under
//! number matching and what "Was this you? — No" does in each ticket state.
//! (A sign-in record's status at a given time is
//! [`SignInRecord::status_at`](crate::wire::SignInRecord::status_at), beside
//! the record.) Pure functions; the server carries them out.

use crate::ticket::{CancelledBy, Ticket, TicketState, UserId};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ticket::TicketUser;

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
}
