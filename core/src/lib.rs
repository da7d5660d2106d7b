//! QR Login's core: the ticket state machine and the protocol's types.
//!
//! This crate does no networking, reads no clock, draws no randomness and
//! stores nothing. Time arrives as a `now` argument, randomness as bytes, and
//! every transition returns a new [`Ticket`] for the caller to persist with a
//! compare-and-swap on its `version`. The server and the app-side client both
//! build on these types, so the wire format is defined exactly once.

pub mod error;
pub mod oidc;
pub mod qr;
pub mod secret;
pub mod sign_in;
pub mod ticket;
pub mod wire;

pub use error::{ApiError, ErrorCode, TransitionError};
pub use qr::{LoginQr, Origin, QrParseError};
pub use secret::{ParseIdError, PollSecret, SecretHash, SessionToken, TicketId};
pub use sign_in::{ConfirmOutcome, RevokeStep};
pub use ticket::{
    CancelledBy, Event, Lifetimes, Ticket, TicketPurpose, TicketState, TicketUser, UserId,
    Verification,
};
pub use wire::*;
