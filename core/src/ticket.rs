//! The QR ticket state machine.
//!
//! A [`Ticket`] is immutable: [`Ticket::apply`] returns the next ticket (with
//! `version + 1`) or a [`TransitionError`]. The caller owns the clock and
//! persists the result with a compare-and-swap on `version`.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use crate::error::TransitionError;
use crate::oidc::AuthorizationBinding;
use crate::secret::{SecretHash, TicketId};
use crate::wire::{CancelReason, PublicUser, RequesterInfo, StatusView, TicketStatus};

/// A user's stable id (opaque text chosen by the server's user store).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UserId(pub String);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The signed-in app user acting on a ticket, with what the page may show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketUser {
    pub id: UserId,
    pub display_name: String,
    pub avatar_url: Option<String>,
}

impl TicketUser {
    pub fn public(&self) -> PublicUser {
        PublicUser {
            display_name: self.display_name.clone(),
            avatar_url: self.avatar_url.clone(),
        }
    }
}

/// Who ended a ticket early.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "user")]
pub enum CancelledBy {
    /// The app user who scanned the code declined.
    User(UserId),
    /// The web page gave up (`DELETE /api/v1/qr/{id}`).
    Page,
    /// The scanning user picked a number that is not the one on the page
    /// (number matching): the code may have been relayed by a phisher.
    WrongCode(UserId),
}

impl CancelledBy {
    pub fn reason(&self) -> CancelReason {
        match self {
            Self::User(_) => CancelReason::Declined,
            Self::Page => CancelReason::Aborted,
            Self::WrongCode(_) => CancelReason::WrongCode,
        }
    }
}

/// Number matching: the page shows `code` after the scan; the app offers
/// `choices` (the code and two decoys) and the user must pick the one the
/// page shows. Proves the person holding the phone sees the page.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// Two digits, `10`–`99`.
    pub code: String,
    /// Three distinct two-digit numbers, one of them `code`, in random order.
    pub choices: [String; 3],
}

impl std::fmt::Debug for Verification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verification")
            .field("code", &"<redacted>")
            .field("choices", &self.choices)
            .finish()
    }
}

impl Verification {
    /// Draws the code, two decoys and their order from random bytes.
    pub fn from_random_bytes(bytes: [u8; 8]) -> Self {
        let mut pool: Vec<u16> = (10..100).collect();
        let mut take = |seed: [u8; 2]| {
            let i = usize::from(u16::from_be_bytes(seed)) % pool.len();
            pool.swap_remove(i)
        };
        let code = take([bytes[0], bytes[1]]);
        let decoy_a = take([bytes[2], bytes[3]]);
        let decoy_b = take([bytes[4], bytes[5]]);
        let mut choices = [code, decoy_a, decoy_b];
        let at = usize::from(u16::from_be_bytes([bytes[6], bytes[7]])) % 3;
        choices.swap(0, at);
        Self {
            code: code.to_string(),
            choices: choices.map(|n| n.to_string()),
        }
    }

    /// Whether `picked` is the code (constant time).
    pub fn matches(&self, picked: &str) -> bool {
        use subtle::ConstantTimeEq as _;
        picked.len() == self.code.len() && bool::from(picked.as_bytes().ct_eq(self.code.as_bytes()))
    }
}

/// What a ticket is for: the SDK's sign-in (the page exchanges it for an
/// access token), or an OpenID Connect authorization request (the page
/// exchanges it for a redirect to the client with an authorization code).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum TicketPurpose {
    #[default]
    Sdk,
    Authorization(Box<AuthorizationBinding>),
}

impl TicketPurpose {
    pub fn is_sdk(&self) -> bool {
        matches!(self, Self::Sdk)
    }

    /// The binding of an authorization request, if the ticket serves one.
    pub fn authorization(&self) -> Option<&AuthorizationBinding> {
        match self {
            Self::Sdk => None,
            Self::Authorization(binding) => Some(binding),
        }
    }
}

/// Where a ticket is in its life. Data lives in the state that owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum TicketState {
    Pending,
    Scanned { user: TicketUser },
    Confirmed { user: TicketUser },
    Consumed { user: TicketUser },
    Cancelled { by: CancelledBy },
    Expired,
}

impl TicketState {
    pub fn status(&self) -> TicketStatus {
        match self {
            Self::Pending => TicketStatus::Pending,
            Self::Scanned { .. } => TicketStatus::Scanned,
            Self::Confirmed { .. } => TicketStatus::Confirmed,
            Self::Consumed { .. } => TicketStatus::Consumed,
            Self::Cancelled { .. } => TicketStatus::Cancelled,
            Self::Expired => TicketStatus::Expired,
        }
    }

    /// The app user attached to the ticket, if one has scanned it.
    pub fn user(&self) -> Option<&TicketUser> {
        match self {
            Self::Scanned { user } | Self::Confirmed { user } | Self::Consumed { user } => {
                Some(user)
            }
            Self::Pending | Self::Cancelled { .. } | Self::Expired => None,
        }
    }

    pub fn is_final(&self) -> bool {
        self.status().is_final()
    }
}

/// Something that happens to a ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// An app user scanned the code.
    Scan { user: TicketUser },
    /// The scanning user tapped Confirm; with number matching on, `code` is
    /// the number they picked.
    Confirm { user: UserId, code: Option<String> },
    /// The scanning user tapped Cancel.
    Cancel { user: UserId },
    /// The web page gave up on the ticket.
    Abort,
    /// The web page traded the confirmed ticket for credentials.
    Exchange,
}

/// How long a ticket may stay in each waiting state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifetimes {
    /// Time for someone to scan the code.
    pub pending: Duration,
    /// Time for the scanning user to tap Confirm or Cancel.
    pub scanned: Duration,
    /// Time for the page to exchange a confirmed ticket.
    pub confirmed: Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Self {
            pending: Duration::from_secs(120),
            scanned: Duration::from_secs(60),
            confirmed: Duration::from_secs(60),
        }
    }
}

/// One QR login attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ticket {
    pub id: TicketId,
    pub state: TicketState,
    /// Goes up by one on every change; the store's compare-and-swap key.
    pub version: u64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// Deadline of the current (non-final) state.
    #[serde(with = "time::serde::rfc3339")]
    pub expires_at: OffsetDateTime,
    /// The browser that asked for the code.
    pub requester: RequesterInfo,
    pub poll_secret_hash: SecretHash,
    pub lifetimes: Lifetimes,
    /// Number matching, when the server has it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<Verification>,
    /// What the confirm leads to; tickets stored before this field are `Sdk`.
    #[serde(default, skip_serializing_if = "TicketPurpose::is_sdk")]
    pub purpose: TicketPurpose,
    /// The origin of the page that created the ticket, when the server
    /// knows it as its own or an allowed one (`https://shop.example.com`):
    /// the app names it, and the access token's audience is this origin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub site_origin: Option<String>,
}

impl Ticket {
    /// A fresh `pending` ticket at version 1.
    pub fn new(
        id: TicketId,
        poll_secret_hash: SecretHash,
        requester: RequesterInfo,
        lifetimes: Lifetimes,
        now: OffsetDateTime,
    ) -> Self {
        Self {
            id,
            state: TicketState::Pending,
            version: 1,
            created_at: now,
            expires_at: now + lifetimes.pending,
            requester,
            poll_secret_hash,
            lifetimes,
            verification: None,
            purpose: TicketPurpose::Sdk,
            site_origin: None,
        }
    }

    /// The same ticket created by a page of `origin`.
    pub fn with_site_origin(self, origin: String) -> Self {
        Self {
            site_origin: Some(origin),
            ..self
        }
    }

    /// The same ticket serving an OpenID Connect authorization request.
    pub fn with_authorization(self, binding: AuthorizationBinding) -> Self {
        Self {
            purpose: TicketPurpose::Authorization(Box::new(binding)),
            ..self
        }
    }

    /// The same ticket with number matching on.
    pub fn with_verification(self, verification: Verification) -> Self {
        Self {
            verification: Some(verification),
            ..self
        }
    }

    pub fn status(&self) -> TicketStatus {
        self.state.status()
    }

    pub fn is_final(&self) -> bool {
        self.state.is_final()
    }

    /// True when the current state's deadline has passed and nothing final
    /// happened before it.
    pub fn is_due(&self, now: OffsetDateTime) -> bool {
        !self.is_final() && now >= self.expires_at
    }

    /// The `expired` ticket this one becomes at `now`, if its deadline passed.
    pub fn expire_if_due(&self, now: OffsetDateTime) -> Option<Ticket> {
        self.is_due(now)
            .then(|| self.with_state(TicketState::Expired, self.expires_at))
    }

    /// Applies `event` at `now`. Returns the next ticket; an unchanged clone
    /// (same `version`) when the event repeats what already happened; or why
    /// the event is refused.
    pub fn apply(&self, event: Event, now: OffsetDateTime) -> Result<Ticket, TransitionError> {
        use TicketState as S;

        if self.is_due(now) {
            return Err(TransitionError::Expired);
        }
        let lifetimes = self.lifetimes;
        match (&self.state, event) {
            (S::Consumed { .. }, _) => Err(TransitionError::AlreadyConsumed),
            (S::Expired, _) => Err(TransitionError::Expired),
            (S::Cancelled { .. }, Event::Abort) => Ok(self.clone()),
            (S::Cancelled { .. }, _) => Err(TransitionError::Cancelled),

            (_, Event::Abort) => Ok(self.with_state(
                S::Cancelled {
                    by: CancelledBy::Page,
                },
                now,
            )),

            (S::Pending, Event::Scan { user }) => {
                Ok(self.with_state(S::Scanned { user }, now + lifetimes.scanned))
            }
            (S::Pending, Event::Confirm { .. } | Event::Cancel { .. }) => {
                Err(TransitionError::NotScanned)
            }
            (S::Pending | S::Scanned { .. }, Event::Exchange) => Err(TransitionError::NotConfirmed),

            (S::Scanned { user: scanner }, Event::Scan { user }) => {
                if scanner.id == user.id {
                    Ok(self.clone())
                } else {
                    Err(TransitionError::AlreadyScanned)
                }
            }
            (S::Scanned { user: scanner }, Event::Confirm { user, code }) => {
                Self::require_scanner(scanner, &user)?;
                if let Some(verification) = &self.verification {
                    let code = code.ok_or(TransitionError::VerificationRequired)?;
                    if !verification.matches(&code) {
                        let by = CancelledBy::WrongCode(user);
                        return Ok(self.with_state(S::Cancelled { by }, now));
                    }
                }
                let user = scanner.clone();
                Ok(self.with_state(S::Confirmed { user }, now + lifetimes.confirmed))
            }

            (S::Confirmed { user: scanner }, Event::Scan { user }) => {
                if scanner.id == user.id {
                    Err(TransitionError::AlreadyConfirmed)
                } else {
                    Err(TransitionError::AlreadyScanned)
                }
            }
            (S::Confirmed { user: scanner }, Event::Confirm { user, .. }) => {
                Self::require_scanner(scanner, &user)?;
                Ok(self.clone())
            }
            (S::Confirmed { user }, Event::Exchange) => {
                let user = user.clone();
                Ok(self.with_state(S::Consumed { user }, self.expires_at))
            }

            // The scanner may still back out after confirming, until the page exchanges.
            (
                S::Scanned { user: scanner } | S::Confirmed { user: scanner },
                Event::Cancel { user },
            ) => {
                Self::require_scanner(scanner, &user)?;
                let by = CancelledBy::User(user);
                Ok(self.with_state(S::Cancelled { by }, now))
            }
        }
    }

    fn require_scanner(scanner: &TicketUser, user: &UserId) -> Result<(), TransitionError> {
        if &scanner.id == user {
            Ok(())
        } else {
            Err(TransitionError::NotYours)
        }
    }

    fn with_state(&self, state: TicketState, expires_at: OffsetDateTime) -> Ticket {
        Ticket {
            state,
            version: self.version + 1,
            expires_at,
            ..self.clone()
        }
    }

    /// What the web page may see: no user id, no requester details; the
    /// number to match while scanned; why it ended when cancelled.
    pub fn view(&self) -> StatusView {
        let verification_code = match (&self.state, &self.verification) {
            (TicketState::Scanned { .. }, Some(v)) => Some(v.code.clone()),
            _ => None,
        };
        let reason = match &self.state {
            TicketState::Cancelled { by } => Some(by.reason()),
            _ => None,
        };
        StatusView {
            id: self.id,
            status: self.status(),
            version: self.version,
            expires_at: self.expires_at,
            user: self.state.user().map(TicketUser::public),
            verification_code,
            reason,
        }
    }

    /// The choices the scanning app offers, with number matching on.
    pub fn verification_choices(&self) -> Option<[String; 3]> {
        self.verification.as_ref().map(|v| v.choices.clone())
    }
}

#[cfg(test)]
mod tests;
