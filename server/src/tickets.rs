//! The ticket service: loads a ticket, lets `qrlogin-core`'s state machine
//! decide ([`Ticket::apply`], [`Ticket::expire_if_due`]) and persists the
//! result with a compare-and-swap, retrying when another request won the race.
//! No transition rule lives here.

use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use qrlogin_core::oidc::AuthorizationBinding;
use qrlogin_core::{
    ConfirmOutcome, CreateTicketResponse, Event, Lifetimes, LoginQr, Origin, PollSecret,
    RequesterInfo, StatusView, Ticket, TicketId, TicketUser, TransitionError, UserId, Verification,
};
use tokio_util::sync::CancellationToken;
use tracing::instrument;

use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::random;
use crate::store::{StoreError, Swap, TicketStore};

/// Compare-and-swap attempts before giving up with 409 `conflict`. Each
/// failed attempt means another writer made progress, so this is generous.
const MAX_ATTEMPTS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error("no such sign-in code (it may have expired long ago)")]
    NotFound,
    #[error("wrong poll secret for this code")]
    WrongSecret,
    /// The state machine refused the event.
    #[error(transparent)]
    Transition(#[from] TransitionError),
    /// Number matching: the user picked a number that is not the page's; the
    /// ticket is now cancelled (reason `wrong_code`).
    #[error(
        "The number you picked is not the one on the sign-in page, so the sign-in was \
         cancelled. Start again on the page."
    )]
    WrongVerificationCode,
    #[error("too many simultaneous changes, try again")]
    Conflict,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot draw the QR code: {0}")]
    QrCode(String),
}

pub type TicketResult<T> = Result<T, TicketError>;

/// The web page's claim on a ticket: its id and the poll secret it presented.
/// The secret is checked against the stored hash on every load.
pub struct PageAccess {
    pub id: TicketId,
    pub secret: String,
}

impl std::fmt::Debug for PageAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PageAccess")
            .field("id", &self.id)
            .field("secret", &"<redacted>")
            .finish()
    }
}

#[derive(Clone)]
pub struct Tickets {
    store: Arc<dyn TicketStore>,
    lifetimes: Lifetimes,
    public_url: Origin,
    metrics: Arc<Metrics>,
    shutdown: CancellationToken,
    clock: Clock,
    /// Number matching (`--verification-code`): every new ticket gets a code.
    verification_codes: bool,
}

impl Tickets {
    pub fn new(
        store: Arc<dyn TicketStore>,
        lifetimes: Lifetimes,
        public_url: Origin,
        metrics: Arc<Metrics>,
        shutdown: CancellationToken,
        clock: Clock,
    ) -> Self {
        Self {
            store,
            lifetimes,
            public_url,
            metrics,
            shutdown,
            clock,
            verification_codes: false,
        }
    }

    /// The same service with number matching on or off for new tickets.
    pub fn with_verification_codes(self, on: bool) -> Self {
        Self {
            verification_codes: on,
            ..self
        }
    }

    pub fn store(&self) -> &Arc<dyn TicketStore> {
        &self.store
    }

    /// Creates a pending ticket for the browser described by `requester`.
    #[instrument(skip_all)]
    /// `site_origin`: the creating page's origin, when it is the public URL
    /// or an allowed origin (the caller checks).
    pub async fn create(
        &self,
        requester: RequesterInfo,
        site_origin: Option<String>,
        authorization: Option<AuthorizationBinding>,
    ) -> TicketResult<CreateTicketResponse> {
        let poll_secret = PollSecret::from_random_bytes(random::bytes());
        let ticket = loop {
            let id = TicketId::from_random_bytes(random::bytes());
            let mut ticket = Ticket::new(
                id,
                poll_secret.hash(),
                requester.clone(),
                self.lifetimes,
                self.clock.now(),
            );
            if self.verification_codes {
                ticket = ticket.with_verification(Verification::from_random_bytes(random::bytes()));
            }
            if let Some(origin) = &site_origin {
                ticket = ticket.with_site_origin(origin.clone());
            }
            if let Some(binding) = &authorization {
                ticket = ticket.with_authorization(binding.clone());
            }
            match self.store.insert(&ticket).await {
                Ok(()) => break ticket,
                Err(StoreError::Duplicate) => continue,
                Err(e) => return Err(e.into()),
            }
        };
        self.metrics.ticket_entered(ticket.status());
        tracing::info!(ticket = %ticket.id, "ticket created");
        let qr_url = LoginQr::new(self.public_url.clone(), ticket.id).to_string();
        Ok(CreateTicketResponse {
            id: ticket.id,
            poll_secret,
            qr_svg: qr_svg(&qr_url)?,
            qr_url,
            status: ticket.status(),
            version: ticket.version,
            expires_at: ticket.expires_at,
        })
    }

    /// The ticket as it is now, with an overdue deadline persisted as `expired`.
    async fn load(&self, id: &TicketId) -> TicketResult<Ticket> {
        for _ in 0..MAX_ATTEMPTS {
            let ticket = self.store.get(id).await?.ok_or(TicketError::NotFound)?;
            let Some(expired) = ticket.expire_if_due(self.clock.now()) else {
                return Ok(ticket);
            };
            match self
                .store
                .compare_and_swap(ticket.version, &expired)
                .await?
            {
                Swap::Done => {
                    self.metrics.ticket_entered(expired.status());
                    return Ok(expired);
                }
                Swap::Stale => continue,
                Swap::Missing => return Err(TicketError::NotFound),
            }
        }
        Err(TicketError::Conflict)
    }

    /// Loads the ticket for the page that holds its poll secret.
    pub async fn load_for_page(&self, access: &PageAccess) -> TicketResult<Ticket> {
        let ticket = self.load(&access.id).await?;
        check_secret(&ticket, access)?;
        Ok(ticket)
    }

    /// Applies `event` (from the app side) and persists the next ticket.
    #[instrument(skip_all, fields(ticket = %id))]
    pub async fn apply(&self, id: &TicketId, event: Event) -> TicketResult<Ticket> {
        self.apply_checked(id, None, event, |_| Ok(())).await
    }

    /// The scanning user's Confirm, with the number they picked (number
    /// matching), starting from `current` (as [`Tickets::current`] read it:
    /// if it changed since, the ticket is read again). A wrong number
    /// cancels the ticket (the page is told, reason `wrong_code`) and
    /// answers 403 `wrong_verification_code`.
    #[instrument(skip_all, fields(ticket = %current.id))]
    pub async fn confirm(
        &self,
        current: Ticket,
        user: UserId,
        code: Option<String>,
    ) -> TicketResult<Ticket> {
        let id = current.id;
        let event = Event::Confirm { user, code };
        let ticket = self
            .apply_checked(&id, Some(current), event, |_| Ok(()))
            .await?;
        match ConfirmOutcome::of(&ticket) {
            ConfirmOutcome::Confirmed => Ok(ticket),
            ConfirmOutcome::WrongCode => {
                tracing::warn!("wrong verification number picked; sign-in cancelled");
                Err(TicketError::WrongVerificationCode)
            }
        }
    }

    /// Applies `event` for the page that holds the poll secret.
    #[instrument(skip_all, fields(ticket = %access.id))]
    pub async fn apply_for_page(&self, access: &PageAccess, event: Event) -> TicketResult<Ticket> {
        self.apply_checked(&access.id, None, event, |t| check_secret(t, access))
            .await
    }

    /// Trades a confirmed ticket for its user (and the browser that asked),
    /// exactly once: a single compare-and-swap Confirmed → Consumed, which
    /// only one caller can win. Starts from `current` (as
    /// [`Tickets::load_for_page`] read it; if it changed since, the ticket
    /// is read again).
    pub async fn exchange(
        &self,
        access: &PageAccess,
        current: Ticket,
    ) -> TicketResult<(TicketUser, Ticket)> {
        let consumed = self
            .apply_checked(&access.id, Some(current), Event::Exchange, |t| {
                check_secret(t, access)
            })
            .await?;
        // Invariant: the state machine only moves Confirmed{user} to
        // Consumed{user}, so a consumed ticket always has its user.
        let user = consumed
            .state
            .user()
            .cloned()
            .ok_or(TicketError::Conflict)?;
        Ok((user, consumed))
    }

    /// The ticket as it is now (404 `not_found` for an unknown id); for
    /// app-side decisions that depend on its state.
    pub async fn current(&self, id: &TicketId) -> TicketResult<Ticket> {
        self.load(id).await
    }

    /// Applies `event` with a compare-and-swap, read again and retried when
    /// another change came first. `loaded`: the ticket as the caller just
    /// read it through [`Tickets::load`], which saves the first read.
    async fn apply_checked(
        &self,
        id: &TicketId,
        mut loaded: Option<Ticket>,
        event: Event,
        check: impl Fn(&Ticket) -> TicketResult<()>,
    ) -> TicketResult<Ticket> {
        for _ in 0..MAX_ATTEMPTS {
            let current = match loaded.take().filter(|t| t.id == *id) {
                Some(ticket) => ticket,
                None => self.load(id).await?,
            };
            check(&current)?;
            let next = current.apply(event.clone(), self.clock.now())?;
            if next.version == current.version {
                return Ok(next); // a repeat of what already happened
            }
            match self.store.compare_and_swap(current.version, &next).await? {
                Swap::Done => {
                    self.metrics.ticket_entered(next.status());
                    tracing::info!(status = %next.status(), version = next.version, "ticket changed");
                    return Ok(next);
                }
                Swap::Stale => continue,
                Swap::Missing => return Err(TicketError::NotFound),
            }
        }
        Err(TicketError::Conflict)
    }

    /// Long-poll: the ticket once its version is above `after`, once it is
    /// final, or as it is when `wait` runs out (or the server shuts down).
    #[instrument(skip_all, fields(ticket = %access.id))]
    pub async fn wait_for_change(
        &self,
        access: &PageAccess,
        after: u64,
        wait: Duration,
    ) -> TicketResult<Ticket> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut changes = self.store.subscribe(&access.id).await?;
            let ticket = self.load_for_page(access).await?;
            if ticket.version > after || ticket.is_final() {
                return Ok(ticket);
            }
            tokio::select! {
                more = changes.changed() => if !more { backoff().await },
                () = self.clock.sleep_until(ticket.expires_at) => {}
                () = tokio::time::sleep_until(deadline) => return Ok(ticket),
                () = self.shutdown.cancelled() => return Ok(ticket),
            }
        }
    }

    /// Every change of the ticket from `after` on, ending after a final state
    /// (or when the ticket disappears, or the server shuts down). The caller
    /// has checked access with [`Self::load_for_page`] first.
    pub fn changes(
        &self,
        access: PageAccess,
        after: u64,
    ) -> impl Stream<Item = StatusView> + use<> {
        let tickets = self.clone();
        async_stream::stream! {
            let mut last = after;
            loop {
                let Ok(mut changes) = tickets.store.subscribe(&access.id).await else { break };
                let Ok(ticket) = tickets.load_for_page(&access).await else { break };
                if ticket.version > last {
                    last = ticket.version;
                    yield ticket.view();
                }
                if ticket.is_final() {
                    break;
                }
                tokio::select! {
                    more = changes.changed() => if !more { backoff().await },
                    () = tickets.clock.sleep_until(ticket.expires_at) => {}
                    () = tickets.shutdown.cancelled() => break,
                }
            }
        }
    }
}

fn check_secret(ticket: &Ticket, access: &PageAccess) -> TicketResult<()> {
    if ticket.poll_secret_hash.matches(&access.secret) {
        Ok(())
    } else {
        Err(TicketError::WrongSecret)
    }
}

/// A subscription that ended while the ticket still exists (e.g. a shared
/// store lost its connection): poll gently instead of spinning.
async fn backoff() {
    tokio::time::sleep(Duration::from_millis(250)).await;
}

/// The QR code for `url` as an SVG document.
fn qr_svg(url: &str) -> TicketResult<String> {
    crate::qr_svg::qr_svg(url).map_err(|e| TicketError::QrCode(e.to_string()))
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use qrlogin_core::{TicketStatus, UserId};

    use super::*;
    use crate::store::MemoryStore;

    fn service() -> Tickets {
        let store = Arc::new(MemoryStore::new(Duration::from_secs(60), 100));
        Tickets::new(
            store,
            Lifetimes::default(),
            Origin::parse("http://127.0.0.1:8080").unwrap(),
            Arc::default(),
            CancellationToken::new(),
            Clock::system(),
        )
    }

    async fn created(tickets: &Tickets) -> PageAccess {
        let requester = RequesterInfo {
            ip: Ipv4Addr::LOCALHOST.into(),
            user_agent: String::new(),
            browser: "Unknown browser".into(),
            os: "Unknown OS".into(),
            created_at: tickets.clock.now(),
        };
        let created = tickets.create(requester, None, None).await.unwrap();
        PageAccess {
            id: created.id,
            secret: created.poll_secret.expose().to_string(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn long_poll_gives_up_after_its_wait_without_a_change() {
        let tickets = service();
        let access = created(&tickets).await;
        let started = tokio::time::Instant::now();
        let ticket = tickets
            .wait_for_change(&access, 1, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(ticket.version, 1);
        assert_eq!(started.elapsed(), Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn long_poll_returns_as_soon_as_the_ticket_changes() {
        let tickets = service();
        let access = created(&tickets).await;
        let scanner = tickets.clone();
        let id = access.id;
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let user = TicketUser {
                id: UserId("u1".into()),
                display_name: "Alice".into(),
                avatar_url: None,
            };
            scanner.apply(&id, Event::Scan { user }).await.unwrap();
        });
        let started = tokio::time::Instant::now();
        let ticket = tickets
            .wait_for_change(&access, 1, Duration::from_secs(30))
            .await
            .unwrap();
        assert_eq!(ticket.status(), TicketStatus::Scanned);
        assert_eq!(started.elapsed(), Duration::from_secs(5));
    }

    #[tokio::test]
    async fn a_wrong_secret_is_refused_before_any_change() {
        let tickets = service();
        let access = created(&tickets).await;
        let wrong = PageAccess {
            id: access.id,
            secret: "x".repeat(43),
        };
        let err = tickets
            .apply_for_page(&wrong, Event::Abort)
            .await
            .unwrap_err();
        assert!(matches!(err, TicketError::WrongSecret), "{err}");
        assert_eq!(tickets.load_for_page(&access).await.unwrap().version, 1);
    }
}
