//! Accounts: users (added by the operator), app sign-in with a password, the
//! app sessions that sign-in opens, and the account's own switches.
//!
//! Passwords are argon2id hashes; an unknown name is checked against a dummy
//! hash so that it takes as long as a wrong password. App session tokens are
//! 256-bit random values of which only the SHA-256 is stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use qrlogin_core::{AppSessionInfo, SecretHash, SessionToken, TicketId, UserId};

use crate::clock::Clock;
use crate::db::users::{Inserted, NewUser, User};
use crate::db::{AppSession, Database, DbError};
use crate::passwords::{Hasher, PasswordError};
use crate::random;

/// Longest device name kept (longer ones are cut).
const MAX_DEVICE_NAME_CHARS: usize = 100;

/// How long a looked-up app session is trusted without asking the database
/// again. A revocation on this instance takes effect at once; on another
/// instance sharing the database, within this time.
pub const SESSION_CACHE_TTL: Duration = Duration::from_secs(1);

/// Most sessions remembered at once (the cache is emptied when full).
const SESSION_CACHE_SIZE: usize = 10_000;

/// Recently looked-up sessions by token hash, so that an app's scan and
/// confirm do not each query the database; and which of them confirmed
/// which ticket here, so that the page's exchange right after need not
/// either.
#[derive(Default)]
struct SessionCache {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    sessions: HashMap<SecretHash, (AppSession, Instant)>,
    /// Session id → its token hash, for the sessions above.
    tokens: HashMap<String, SecretHash>,
    /// Ticket → the id of the session that confirmed it on this instance.
    confirmations: HashMap<TicketId, String>,
}

impl SessionCache {
    fn get(&self, token: &SecretHash) -> Option<AppSession> {
        let entries = self.lock();
        let (session, at) = entries.sessions.get(token)?;
        (at.elapsed() < SESSION_CACHE_TTL).then(|| session.clone())
    }

    fn put(&self, token: SecretHash, session: AppSession) {
        let mut entries = self.lock();
        if entries.sessions.len() >= SESSION_CACHE_SIZE {
            entries
                .sessions
                .retain(|_, (_, at)| at.elapsed() < SESSION_CACHE_TTL);
            if entries.sessions.len() >= SESSION_CACHE_SIZE {
                entries.sessions.clear();
            }
            entries.drop_stale_tokens();
        }
        entries.tokens.insert(session.id.clone(), token);
        entries.sessions.insert(token, (session, Instant::now()));
    }

    /// Forgets every cached session of `user` (after a revocation or a
    /// change of their settings).
    fn forget_user(&self, user: &UserId) {
        let mut entries = self.lock();
        entries
            .sessions
            .retain(|_, (session, _)| &session.user.id != user);
        entries.drop_stale_tokens();
    }

    fn remember_confirmation(&self, ticket: TicketId, session: &AppSession) {
        let mut entries = self.lock();
        if entries.confirmations.len() >= SESSION_CACHE_SIZE {
            entries.confirmations.clear();
        }
        entries.confirmations.insert(ticket, session.id.clone());
    }

    /// The session that confirmed `ticket` here, if it is cached and was
    /// read live within [`SESSION_CACHE_TTL`]; asked once per ticket.
    fn confirming_session(&self, ticket: &TicketId) -> Option<AppSession> {
        let mut entries = self.lock();
        let id = entries.confirmations.remove(ticket)?;
        let token = entries.tokens.get(&id)?;
        let (session, at) = entries.sessions.get(token)?;
        (session.id == id && at.elapsed() < SESSION_CACHE_TTL).then(|| session.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        // Every change is a whole insert or removal, so poison is harmless.
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Entries {
    fn drop_stale_tokens(&mut self) {
        let sessions = &self.sessions;
        self.tokens.retain(|_, token| sessions.contains_key(token));
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{0}")]
    Invalid(String),
    #[error("a user named `{0}` already exists")]
    Exists(String),
    #[error("QR sign-in is turned off for this account; turn it on in the app's settings")]
    QrLoginDisabled,
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Password(#[from] PasswordError),
}

#[derive(Clone)]
pub struct Accounts {
    db: Database,
    clock: Clock,
    hasher: Hasher,
    sessions: Arc<SessionCache>,
    /// Verified against when the user does not exist, so that an unknown
    /// name and a wrong password take about the same time.
    dummy_hash: Arc<str>,
}

impl Accounts {
    pub async fn new(db: Database, clock: Clock, hasher: Hasher) -> Result<Self, AccountError> {
        let dummy_hash = hasher.hash("not a real password".into()).await?.into();
        Ok(Self {
            db,
            clock,
            hasher,
            sessions: Arc::default(),
            dummy_hash,
        })
    }

    /// Adds a user. Usernames are case-insensitive (stored lowercase).
    pub async fn add(
        &self,
        username: &str,
        display_name: &str,
        password: String,
        avatar_url: Option<String>,
        email: Option<String>,
    ) -> Result<User, AccountError> {
        let username = normalize_username(username)?;
        let email = email.map(|e| normalize_email(&e)).transpose()?;
        let display_name = display_name.trim();
        if display_name.is_empty() || display_name.chars().count() > 100 {
            return Err(AccountError::Invalid(
                "display name must be 1–100 characters".into(),
            ));
        }
        if password.is_empty() {
            return Err(AccountError::Invalid("password must not be empty".into()));
        }
        let users = self.db.users();
        if users.find_by_username(&username).await?.is_some() {
            return Err(AccountError::Exists(username));
        }
        let password_hash = self.hasher.hash(password).await?;
        let id = UserId(URL_SAFE_NO_PAD.encode(random::bytes::<16>()));
        let inserted = users
            .insert(NewUser {
                id: &id,
                username: &username,
                display_name,
                avatar_url: avatar_url.as_deref(),
                email: email.as_deref(),
                password_hash: &password_hash,
                created_at: self.clock.now(),
            })
            .await?;
        match inserted {
            Inserted::Done => Ok(User {
                id,
                username,
                display_name: display_name.to_string(),
                avatar_url,
                email,
            }),
            Inserted::Duplicate => Err(AccountError::Exists(username)),
        }
    }

    pub async fn list(&self) -> Result<Vec<User>, AccountError> {
        Ok(self.db.users().list().await?)
    }

    pub async fn get(&self, id: &UserId) -> Result<Option<User>, AccountError> {
        Ok(self.db.users().get(id).await?)
    }

    /// Removes a user and their sessions; their unexpired web tokens stay
    /// revoked. False if there was no such user.
    pub async fn remove(&self, username: &str) -> Result<bool, AccountError> {
        let users = self.db.users();
        let username = username.trim().to_lowercase();
        let Some((user, _)) = users.find_by_username(&username).await? else {
            return Ok(false);
        };
        users.delete(&user.id, self.clock.now()).await?;
        self.sessions.forget_user(&user.id);
        Ok(true)
    }

    /// Checks a password and opens an app session. `None` for an unknown user
    /// or a wrong password (indistinguishable, also in timing).
    pub async fn sign_in(
        &self,
        username: &str,
        password: String,
        device_name: &str,
    ) -> Result<Option<(SessionToken, User)>, AccountError> {
        let username = username.trim().to_lowercase();
        let found = self.db.users().find_by_username(&username).await?;
        let hash = found
            .as_ref()
            .map_or_else(|| self.dummy_hash.to_string(), |(_, h)| h.clone());
        let ok = self.hasher.verify(password, hash).await?;
        let Some((user, _)) = found.filter(|_| ok) else {
            return Ok(None);
        };
        let token = SessionToken::from_random_bytes(random::bytes());
        let device = clean_device_name(device_name);
        let id = URL_SAFE_NO_PAD.encode(random::bytes::<16>());
        self.db
            .app_sessions()
            .insert(&id, &user.id, &token.hash(), &device, self.clock.now())
            .await?;
        Ok(Some((token, user)))
    }

    /// The live session for a bearer token; records its use. Answered from
    /// a cache for up to [`SESSION_CACHE_TTL`].
    pub async fn session(&self, token: &SessionToken) -> Result<Option<AppSession>, AccountError> {
        let hash = token.hash();
        if let Some(session) = self.sessions.get(&hash) {
            return Ok(Some(session));
        }
        let found = self
            .db
            .app_sessions()
            .find_live(&hash, self.clock.now())
            .await?;
        if let Some(session) = &found {
            self.sessions.put(hash, session.clone());
        }
        Ok(found)
    }

    /// Revokes a session: its token is refused from now on.
    pub async fn sign_out(&self, session: &AppSession) -> Result<(), AccountError> {
        let sessions = self.db.app_sessions();
        sessions.revoke(&session.id, self.clock.now()).await?;
        self.sessions.forget_user(&session.user.id);
        Ok(())
    }

    /// The user's live app sessions, newest first; `current` marks `session`.
    pub async fn sessions(
        &self,
        session: &AppSession,
    ) -> Result<Vec<AppSessionInfo>, AccountError> {
        let sessions = self.db.app_sessions();
        Ok(sessions.list(&session.user.id, &session.id).await?)
    }

    /// Revokes one of the user's live sessions. False when `session_id` is
    /// not a live session of theirs.
    pub async fn revoke_session(
        &self,
        user: &UserId,
        session_id: &str,
    ) -> Result<bool, AccountError> {
        let sessions = self.db.app_sessions();
        let revoked = sessions
            .revoke_own(user, session_id, self.clock.now())
            .await?;
        self.sessions.forget_user(user);
        Ok(revoked)
    }

    /// Notes that `session` confirmed `ticket` on this instance, for
    /// [`Accounts::confirming_session`].
    pub fn remember_confirmation(&self, ticket: TicketId, session: &AppSession) {
        self.sessions.remember_confirmation(ticket, session);
    }

    /// The app session that confirmed `ticket` on this instance, as the
    /// session cache knows it: live when read within the last
    /// [`SESSION_CACHE_TTL`] and not forgotten since (a sign-out or a change
    /// of settings here forgets at once; one on another instance counts
    /// within that time, as for every app call). `None` when this instance
    /// cannot tell; then ask the database.
    pub fn confirming_session(&self, ticket: &TicketId) -> Option<AppSession> {
        self.sessions.confirming_session(ticket)
    }

    /// Turns QR sign-in on or off for `user`.
    pub async fn set_qr_login_enabled(
        &self,
        user: &UserId,
        enabled: bool,
    ) -> Result<(), AccountError> {
        self.db.users().set_qr_login_enabled(user, enabled).await?;
        self.sessions.forget_user(user);
        Ok(())
    }
}

/// Refuses a scan or confirm when the session's user turned QR sign-in off.
pub fn require_qr_login(session: &AppSession) -> Result<(), AccountError> {
    if session.qr_login_enabled {
        Ok(())
    } else {
        Err(AccountError::QrLoginDisabled)
    }
}

/// A device name as stored and shown in session lists: without control,
/// format or bidirectional-override characters (terminal escapes, U+202E
/// and the like would rewrite what the CLI and the app show), whitespace
/// runs as one space, at most [`MAX_DEVICE_NAME_CHARS`].
fn clean_device_name(name: &str) -> String {
    let kept: String = name
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !is_format_char(*c))
        .collect();
    kept.split(' ')
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(MAX_DEVICE_NAME_CHARS)
        .collect()
}

/// Unicode format characters (general category Cf): invisible, and among
/// them the bidirectional embeddings, overrides and isolates.
fn is_format_char(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{600}'..='\u{605}' | '\u{61C}' | '\u{6DD}' | '\u{70F}' | '\u{890}'..='\u{891}'
        | '\u{8E2}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
        | '\u{110BD}' | '\u{110CD}' | '\u{13430}'..='\u{1343F}' | '\u{1BCA0}'..='\u{1BCA3}'
        | '\u{1D173}'..='\u{1D17A}' | '\u{E0001}' | '\u{E0020}'..='\u{E007F}')
}

fn normalize_username(username: &str) -> Result<String, AccountError> {
    let username = username.trim().to_lowercase();
    let valid = (1..=64).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(username)
    } else {
        Err(AccountError::Invalid(
            "username must be 1–64 letters, digits, '.', '_' or '-'".into(),
        ))
    }
}

/// An email address as set by the operator: one `@` between a local part
/// and a domain, at most 254 characters, no spaces or control characters.
fn normalize_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim();
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if valid {
        Ok(email.to_string())
    } else {
        Err(AccountError::Invalid(format!(
            "`{email}` is not an email address (name@example.com)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DatabaseTarget;

    fn session(id: &str, user: &str) -> AppSession {
        AppSession {
            id: id.into(),
            user: User {
                id: UserId(user.into()),
                username: user.into(),
                display_name: user.into(),
                avatar_url: None,
                email: None,
            },
            device_name: "Pixel 8".into(),
            qr_login_enabled: true,
        }
    }

    #[test]
    fn the_confirming_session_is_known_once_and_never_after_its_user_is_forgotten() {
        let cache = SessionCache::default();
        let (kept, forgotten) = (
            TicketId::from_random_bytes([1; 16]),
            TicketId::from_random_bytes([2; 16]),
        );
        let alice = session("s-alice", "alice");
        let bob = session("s-bob", "bob");
        cache.put(SecretHash::of("alice's token"), alice.clone());
        cache.put(SecretHash::of("bob's token"), bob.clone());
        cache.remember_confirmation(kept, &alice);
        cache.remember_confirmation(forgotten, &bob);
        cache.forget_user(&bob.user.id);
        assert_eq!(
            cache.confirming_session(&forgotten).map(|s| s.id),
            None,
            "signed out"
        );
        assert_eq!(
            cache.confirming_session(&kept).map(|s| s.id),
            Some(alice.id)
        );
        assert!(
            cache.confirming_session(&kept).is_none(),
            "asked once per ticket"
        );
        let unknown = TicketId::from_random_bytes([3; 16]);
        assert!(cache.confirming_session(&unknown).is_none());
    }

    #[test]
    fn emails_are_checked() {
        assert_eq!(normalize_email(" a@b.example ").unwrap(), "a@b.example");
        for bad in [
            "",
            "a",
            "a@b",
            "@b.example",
            "a@@b.example",
            "a b@c.example",
        ] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn usernames_are_normalized_and_checked() {
        assert_eq!(normalize_username(" Alice ").unwrap(), "alice");
        assert!(normalize_username("").is_err());
        assert!(normalize_username("a b").is_err());
        assert!(normalize_username(&"a".repeat(65)).is_err());
    }

    #[test]
    fn device_names_lose_escapes_and_bidi_overrides() {
        assert_eq!(clean_device_name("Pixel 8"), "Pixel 8");
        assert_eq!(
            clean_device_name("evil\u{1b}[2J\u{1b}]0;owned\u{7}phone"),
            "evil[2J]0;ownedphone"
        );
        assert_eq!(clean_device_name("abc\u{202E}gpj.exe"), "abcgpj.exe");
        assert_eq!(clean_device_name("a\u{2066}b\u{2069}\u{200B}c"), "abc");
        assert_eq!(clean_device_name("  two\n\tlines  "), "two lines");
        assert_eq!(clean_device_name(&"é".repeat(150)).chars().count(), 100);
        assert_eq!(clean_device_name("Jürgen’s iPhone"), "Jürgen’s iPhone");
    }

    async fn accounts() -> (Accounts, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let target = DatabaseTarget::Sqlite(dir.path().join("t.db"));
        let db = Database::connect(&target).await.unwrap();
        (
            Accounts::new(db, Clock::system(), Hasher::new(2))
                .await
                .unwrap(),
            dir,
        )
    }

    /// Median wall time of `rounds` sign-ins of `username` with a wrong password.
    async fn median_sign_in(accounts: &Accounts, username: &str, rounds: usize) -> f64 {
        let mut times = Vec::with_capacity(rounds);
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            let signed_in = accounts
                .sign_in(username, "wrong password".into(), "test")
                .await
                .unwrap();
            times.push(start.elapsed().as_secs_f64());
            assert!(signed_in.is_none());
        }
        times.sort_by(f64::total_cmp);
        times[rounds / 2]
    }

    #[tokio::test]
    async fn the_dummy_hash_costs_as_much_as_a_real_one() {
        // Through sign_in itself: an unknown name is checked against the
        // dummy hash, a known one against its own. Same algorithm and
        // parameters (asserted on the PHC strings), so the same work; the
        // medians of real sign-ins agree within a wide factor (argon2 takes
        // tens of ms; a missing hash check would take microseconds).
        let (accounts, _dir) = accounts().await;
        let alice = accounts
            .add("alice", "Alice", "correct horse".into(), None, None)
            .await
            .unwrap();
        let (_, real) = accounts
            .db
            .users()
            .find_by_username(&alice.username)
            .await
            .unwrap()
            .unwrap();
        let (dummy, real) = (
            argon2::PasswordHash::new(&accounts.dummy_hash).unwrap(),
            argon2::PasswordHash::new(&real).unwrap(),
        );
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(dummy.params, real.params);

        let known = median_sign_in(&accounts, "alice", 5).await;
        let unknown = median_sign_in(&accounts, "nobody", 5).await;
        let ratio = known / unknown;
        assert!(
            (0.25..4.0).contains(&ratio),
            "known {known:.4} s vs unknown {unknown:.4} s"
        );
    }
}
