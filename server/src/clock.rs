//! [`Clock`]: the one source of wall-clock time in the server. Production
//! reads the system clock; tests use a manual clock that they move forward
//! ([`Clock::advance`]), so expiry is tested in microseconds, without sleeps.
//! Services take `now` from here and hand it to `qrlogin-core`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use time::OffsetDateTime;
use tokio::sync::watch;

/// Wall-clock time, shared by every part of one server. Cheap to clone.
#[derive(Clone)]
pub struct Clock(Arc<Source>);

enum Source {
    System,
    /// Moves only when told to; every move is announced on the channel, so
    /// that waits on a deadline wake up and look again.
    Manual {
        now: Mutex<OffsetDateTime>,
        moved: watch::Sender<()>,
    },
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self(Arc::new(Source::System))
    }

    /// A clock standing at `start` until [`advance`](Self::advance)d.
    pub fn manual(start: OffsetDateTime) -> Self {
        let (moved, _) = watch::channel(());
        Self(Arc::new(Source::Manual {
            now: Mutex::new(start),
            moved,
        }))
    }

    pub fn now(&self) -> OffsetDateTime {
        match &*self.0 {
            Source::System => OffsetDateTime::now_utc(),
            Source::Manual { now, .. } => *now.lock().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Moves a manual clock forward by `by`; the system clock ignores it.
    pub fn advance(&self, by: Duration) {
        if let Source::Manual { now, moved } = &*self.0 {
            {
                let mut now = now.lock().unwrap_or_else(|e| e.into_inner());
                *now += by;
            }
            moved.send_replace(());
        }
    }

    /// Resolves once `deadline` has passed on this clock.
    pub async fn sleep_until(&self, deadline: OffsetDateTime) {
        match &*self.0 {
            Source::System => {
                let left = Duration::try_from(deadline - self.now()).unwrap_or_default();
                // A millisecond more, so that the deadline has surely passed.
                tokio::time::sleep(left + Duration::from_millis(1)).await;
            }
            Source::Manual { moved, .. } => {
                let mut moved = moved.subscribe();
                while self.now() <= deadline {
                    if moved.changed().await.is_err() {
                        std::future::pending::<()>().await;
                    }
                }
            }
        }
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &*self.0 {
            Source::System => f.write_str("Clock::System"),
            Source::Manual { .. } => write!(f, "Clock::Manual({})", self.now()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_its_sleepers_when_moved_past_the_deadline() {
        let start = OffsetDateTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        let clock = Clock::manual(start);
        let deadline = start + Duration::from_secs(120);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(deadline).await }
        });
        clock.advance(Duration::from_secs(60));
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "60 s is not past the deadline");
        clock.advance(Duration::from_secs(61));
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("woken by the move")
            .unwrap();
        assert_eq!(clock.now(), start + Duration::from_secs(121));
    }

    #[test]
    fn the_system_clock_ignores_advance() {
        let clock = Clock::system();
        let before = clock.now();
        clock.advance(Duration::from_secs(3600));
        assert!(clock.now() - before < time::Duration::minutes(1));
    }
}
