//! The sign-in use cases that span services: scan, confirm (and record who
//! confirmed), the page's exchange (consume, look up the user, sign, record;
//! or for an OpenID Connect authorization, record the grant and mint a code),
//! "Was this you? — No", and checking a web token the exchange handed out.
//! The rules they follow are `qrlogin-core`'s ([`ConfirmOutcome`],
//! [`RevokeStep`]); the HTTP layer only maps their results.

use std::net::IpAddr;

use qrlogin_core::oidc::{AuthorizationBinding, AuthorizationRedirect};
use qrlogin_core::{
    Event, ExchangeResponse, RevokeOutcome, RevokeStep, RevokedToken, ScanResponse, SecretHash,
    SignInRecord, SiteInfo, Ticket, TicketId, TicketState, TicketStatus, TransitionError, UserId,
    UserProfile,
};

use crate::AppState;
use crate::accounts::{self, AccountError};
use crate::db::grants::{GrantRef, NewCode};
use crate::db::sign_ins::{IssuedTokenRecord, Recorded};
use crate::db::users::User;
use crate::db::{AppSession, DbError};
use crate::oidc::{CODE_LIFETIME, REFRESH_TOKEN_LIFETIME, authorize};
use crate::requester::same_network;
use crate::tickets::{PageAccess, TicketError};
use crate::tokens::{TokenError, VerifiedToken};
use crate::{profile, random};

/// How many times a revoke looks at the ticket again when the page moved
/// it on in between (each round means the page made progress).
const REVOKE_ROUNDS: usize = 4;

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error(transparent)]
    Ticket(#[from] TicketError),
    #[error(transparent)]
    Account(#[from] AccountError),
    #[error(transparent)]
    Db(#[from] DbError),
    /// "Was this you?" for a sign-in that is not the user's (or not one).
    #[error("no such sign-in on your account")]
    NotTheirs,
    #[error("the user who confirmed no longer exists")]
    UserGone,
    /// A web token that does not verify (signature, issuer, expiry).
    #[error(transparent)]
    Token(#[from] TokenError),
    #[error("this sign-in was revoked by its user; sign in again")]
    TokenRevoked,
    #[error("the account of this token no longer exists")]
    TokenUserGone,
    /// At the exchange, the app session that confirmed was signed out (or
    /// its user turned QR sign-in off): the ticket is cancelled.
    #[error(
        "the app that confirmed this sign-in has been signed out (or QR sign-in was turned off); \
         start again"
    )]
    ConfirmingSessionEnded,
    /// The user answered "Was this you? — No" while the exchange ran.
    #[error("the user declined this sign-in in the app")]
    Declined,
}

pub type SignInResult<T> = Result<T, SignInError>;

/// The app scanned a code: the ticket becomes `scanned` by this user; the
/// answer says who is asking, from where, and for which site.
pub async fn scan(
    state: &AppState,
    session: &AppSession,
    id: &TicketId,
    scanner_ip: IpAddr,
) -> SignInResult<ScanResponse> {
    accounts::require_qr_login(session)?;
    let user = profile::ticket_user(&session.user);
    let ticket = state.tickets.apply(id, Event::Scan { user }).await?;
    Ok(ScanResponse {
        status: ticket.status(),
        site: site_of(state, &ticket),
        scanner_ip,
        same_network: same_network(ticket.requester.ip, scanner_ip),
        verification_choices: ticket.verification_choices(),
        requester: ticket.requester,
        expires_at: ticket.expires_at,
    })
}

/// Who is asking, as the app shows it: for an OpenID Connect sign-in the
/// client's registered name and the origin of its redirect URI; else this
/// server's site name and the origin of the page that made the code.
fn site_of(state: &AppState, ticket: &Ticket) -> SiteInfo {
    match ticket.purpose.authorization() {
        Some(binding) => SiteInfo {
            name: binding.client_name.clone(),
            origin: origin_of(&binding.redirect_uri),
        },
        None => SiteInfo {
            name: state.settings.site_name.clone(),
            origin: state.settings.audience(ticket.site_origin.as_deref()),
        },
    }
}

/// `scheme://host[:port]` of an absolute URL.
fn origin_of(url: &str) -> String {
    let rest_at = url.find("://").map_or(0, |i| i + 3);
    let end = url[rest_at..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| rest_at + i);
    url[..end].to_string()
}

/// The scanning user tapped Confirm (with the number they picked, under
/// number matching). The confirming session is recorded first, so that a
/// ticket is never `confirmed` without a record the user can see and revoke
/// (a failed write leaves the ticket as it was).
pub async fn confirm(
    state: &AppState,
    session: &AppSession,
    id: &TicketId,
    code: Option<String>,
) -> SignInResult<TicketStatus> {
    accounts::require_qr_login(session)?;
    let current = state.tickets.current(id).await?;
    let recorded =
        matches!(&current.state, TicketState::Scanned { user } if user.id == session.user.id);
    if recorded {
        state
            .db
            .sign_ins()
            .record_confirmation(&current, session)
            .await?;
    }
    let ticket = state
        .tickets
        .confirm(current, session.user.id.clone(), code)
        .await?;
    // Only the confirm that wrote the record names the confirming session
    // (a repeat keeps the first).
    if recorded {
        state.accounts.remember_confirmation(*id, session);
    }
    Ok(ticket.status())
}

/// The page trades its confirmed ticket for an access token, exactly once —
/// if the app session that confirmed is still signed in, and unless the user
/// said "Was this you? — No" before the token left.
pub async fn exchange(state: &AppState, access: &PageAccess) -> SignInResult<Exchanged> {
    let records = state.db.sign_ins();
    let current = state.tickets.load_for_page(access).await?;
    if let Some(binding) = current.purpose.authorization() {
        let redirect_to = finish(state, access, &current, binding).await?;
        return Ok(Exchanged::Redirect(AuthorizationRedirect { redirect_to }));
    }
    let confirming = require_confirming_session(state, access, &current).await?;
    let (ticket_user, ticket) = state.tickets.exchange(access, current).await?;
    let user = match confirming.filter(|user| user.id == ticket_user.id) {
        Some(user) => user,
        // Confirmed between the load and the consume: look the user up.
        None => state
            .accounts
            .get(&ticket_user.id)
            .await?
            .ok_or(SignInError::UserGone)?,
    };
    let profile = profile::profile(&user, &state.settings.public_url);
    let now = state.clock.now();
    let audience = state.settings.audience(ticket.site_origin.as_deref());
    let token = state.tokens.issue(&profile, &audience, now);
    // Recorded before the token leaves: a sign-in the user cannot see and
    // revoke is never handed out; one they revoked since the consume
    // hands out nothing (and its token is on the revocation list anyway).
    let record = IssuedTokenRecord {
        id: &token.jti,
        expires_at: token.expires_at,
        client: None,
    };
    let recorded = records
        .record_exchange(&access.id, &user.id, &ticket.requester, record, now)
        .await?;
    if recorded == Recorded::Revoked {
        return Err(SignInError::Declined);
    }
    Ok(Exchanged::Token(ExchangeResponse {
        access_token: token.jwt,
        token_type: "Bearer".into(),
        expires_in: token.expires_in,
        user: profile,
    }))
}

/// What the page's exchange hands out.
#[derive(Debug)]
pub enum Exchanged {
    /// The SDK's sign-in: an access token.
    Token(ExchangeResponse),
    /// A ticket bound to an OpenID Connect authorization request: where to
    /// send the browser (the client's redirect URI with the code, or with
    /// `access_denied`).
    Redirect(AuthorizationRedirect),
}

/// The page that holds the poll secret of a ticket bound to an
/// authorization request finishes it: a confirmed ticket is consumed (once)
/// and becomes a code in the redirect; a cancelled or expired one becomes
/// `access_denied`. The confirming app session must still be live, as for
/// the SDK's exchange.
async fn finish(
    state: &AppState,
    access: &PageAccess,
    current: &Ticket,
    binding: &AuthorizationBinding,
) -> SignInResult<String> {
    if matches!(
        current.state,
        TicketState::Cancelled { .. } | TicketState::Expired
    ) {
        return Ok(authorize::denied_redirect(state, binding));
    }
    require_confirming_session(state, access, current).await?;
    let records = state.db.sign_ins();
    let (user, ticket) = match state.tickets.exchange(access, current.clone()).await {
        Ok(done) => done,
        Err(TicketError::Transition(TransitionError::Expired)) => {
            return Ok(authorize::denied_redirect(state, binding));
        }
        Err(e) => return Err(e.into()),
    };
    let now = state.clock.now();
    let code = random::token();
    let grant = GrantRef {
        ticket_id: ticket.id.to_string(),
        client_id: binding.client_id.clone(),
        user_id: user.id.0.clone(),
        auth_time: now,
    };
    // The grant (the sign-in the user sees and can revoke) is recorded
    // before the code leaves; it lives as long as its longest token can.
    let lifetime = if binding.scope.contains("offline_access") {
        REFRESH_TOKEN_LIFETIME
    } else {
        state.oidc.token_lifetime + CODE_LIFETIME
    };
    let grant_id = format!("grant:{}", ticket.id);
    let record = IssuedTokenRecord {
        id: &grant_id,
        expires_at: now + lifetime,
        client: Some((&binding.client_id, &binding.client_name)),
    };
    let recorded = records
        .record_exchange(&ticket.id, &user.id, &ticket.requester, record, now)
        .await?;
    if recorded == Recorded::Revoked {
        return Err(SignInError::Declined);
    }
    // A revoke from here on finds the grant recorded and revokes it, and
    // the token endpoint refuses the code of a revoked grant.
    state
        .db
        .grants()
        .insert_code(NewCode {
            hash: &SecretHash::of(&code),
            grant: &grant,
            request: binding,
            expires_at: now + CODE_LIFETIME,
        })
        .await?;
    Ok(authorize::response_redirect(
        state,
        &binding.redirect_uri,
        &[("code", &code)],
        binding.state.as_deref(),
    ))
}

/// At the exchange, a confirmed ticket's confirming app session must still
/// be signed in and its user still allow QR sign-in; otherwise the ticket is
/// cancelled and nothing is handed out. Returns the confirming user of a
/// confirmed ticket (read with the check), `None` for other states.
async fn require_confirming_session(
    state: &AppState,
    access: &PageAccess,
    current: &Ticket,
) -> SignInResult<Option<User>> {
    let TicketState::Confirmed { user } = &current.state else {
        return Ok(None);
    };
    // Confirmed on this instance a moment ago: the session cache knows
    // whether that session is still live, as it does for every app call.
    // (Two of the user's own devices confirming at the very same moment
    // may both write and remember; the record keeps the first: either
    // device is theirs.)
    if let Some(session) = state
        .accounts
        .confirming_session(&access.id)
        .filter(|session| session.user.id == user.id && session.qr_login_enabled)
    {
        return Ok(Some(session.user));
    }
    match state.db.sign_ins().confirming_user(&access.id).await? {
        Some((confirming, true)) => Ok(Some(confirming)),
        _ => {
            let cancel = Event::Cancel {
                user: user.id.clone(),
            };
            state.tickets.apply_for_page(access, cancel).await?;
            Err(SignInError::ConfirmingSessionEnded)
        }
    }
}

/// The user's exchanged sign-ins, newest first.
pub async fn list(state: &AppState, user: &UserId) -> SignInResult<Vec<SignInRecord>> {
    Ok(state.db.sign_ins().list(user).await?)
}

/// "Was this you? — No" for `user`'s sign-in by `ticket_id`: revokes the web
/// token if the page got one (or is getting one right now), otherwise
/// cancels the ticket (reason `declined`) so the page never gets one.
pub async fn revoke(
    state: &AppState,
    ticket_id: &TicketId,
    user: &UserId,
) -> SignInResult<RevokeOutcome> {
    let records = state.db.sign_ins();
    for _ in 0..REVOKE_ROUNDS {
        let ticket = match state.tickets.current(ticket_id).await {
            Ok(ticket) => ticket,
            // Long gone from the ticket store: the record alone decides.
            Err(TicketError::NotFound) => {
                let now = state.clock.now();
                return match records.revoke_exchanged(ticket_id, user, now).await? {
                    true => Ok(RevokeOutcome::Revoked),
                    false => Err(SignInError::NotTheirs),
                };
            }
            Err(e) => return Err(e.into()),
        };
        match RevokeStep::for_state(&ticket.state, user) {
            RevokeStep::CancelTicket => {
                let cancel = Event::Cancel { user: user.clone() };
                match state.tickets.apply(ticket_id, cancel).await {
                    Ok(_) => return Ok(RevokeOutcome::Cancelled),
                    // The page exchanged (or gave up) in between: look again.
                    Err(TicketError::Transition(
                        TransitionError::AlreadyConsumed | TransitionError::Cancelled,
                    )) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            RevokeStep::AlreadyCancelled => return Ok(RevokeOutcome::Cancelled),
            // Exchanged, or being exchanged: the record (written at the
            // confirm) is marked, and the exchange reads it back before the
            // token leaves.
            RevokeStep::RevokeToken => {
                return match records.revoke(ticket_id, user, state.clock.now()).await? {
                    true => Ok(RevokeOutcome::Revoked),
                    false => Err(SignInError::NotTheirs),
                };
            }
            RevokeStep::NotTheirs => return Err(SignInError::NotTheirs),
        }
    }
    Err(SignInError::NotTheirs)
}

/// A web access token from the exchange, checked: signed by this server,
/// not expired, not revoked by its user, and — when a browser page asks
/// (`origin`, its `Origin` header) — issued for that page's origin.
pub async fn verify_web_token(
    state: &AppState,
    jwt: &str,
    origin: Option<&str>,
) -> SignInResult<VerifiedToken> {
    let token = state.tokens.verify(jwt, state.clock.now())?;
    if origin.is_some_and(|origin| origin != token.audience) {
        return Err(SignInError::Token(TokenError::WrongAudience));
    }
    if state.db.sign_ins().is_revoked(&token.jti).await? {
        return Err(SignInError::TokenRevoked);
    }
    Ok(token)
}

/// The user a verified web token signs in, fresh from the database.
pub async fn web_user(state: &AppState, token: &VerifiedToken) -> SignInResult<UserProfile> {
    let user = state
        .accounts
        .get(&UserId(token.subject.clone()))
        .await?
        .ok_or(SignInError::TokenUserGone)?;
    Ok(profile::profile(&user, &state.settings.public_url))
}

/// Revoked web tokens that have not expired yet.
pub async fn revoked_tokens(state: &AppState) -> SignInResult<Vec<RevokedToken>> {
    Ok(state.db.sign_ins().revoked(state.clock.now()).await?)
}

#[cfg(test)]
mod origin_tests {
    use super::origin_of;

    #[test]
    fn origins_of_redirect_uris() {
        assert_eq!(
            origin_of("https://app.example/cb?x=1"),
            "https://app.example"
        );
        assert_eq!(
            origin_of("http://127.0.0.1:5173/callback"),
            "http://127.0.0.1:5173"
        );
        assert_eq!(origin_of("https://app.example"), "https://app.example");
    }
}
