//! Every (state, event) pair with its expected outcome.

use super::*;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-25 12:00:00 UTC);

fn user(name: &str) -> TicketUser {
    TicketUser {
        id: UserId(name.to_lowercase()),
        display_name: format!("{name} Example"),
        avatar_url: None,
    }
}

fn alice() -> TicketUser {
    user("Alice")
}

fn bob() -> TicketUser {
    user("Bob")
}

fn requester() -> RequesterInfo {
    RequesterInfo {
        ip: "127.0.0.1".parse().unwrap(),
        user_agent: "test".into(),
        browser: "Test".into(),
        os: "Test".into(),
        created_at: T0,
    }
}

fn fresh() -> Ticket {
    Ticket::new(
        TicketId::from_random_bytes([1; 16]),
        SecretHash::of("secret"),
        requester(),
        Lifetimes::default(),
        T0,
    )
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A ticket in each state, reached through real transitions.
fn in_state(status: TicketStatus) -> Ticket {
    let t = fresh();
    let a = alice();
    match status {
        TicketStatus::Pending => t,
        TicketStatus::Scanned => t.apply(Event::Scan { user: a }, T0).unwrap(),
        TicketStatus::Confirmed => in_state(TicketStatus::Scanned)
            .apply(
                Event::Confirm {
                    user: a.id,
                    code: None,
                },
                T0,
            )
            .unwrap(),
        TicketStatus::Consumed => in_state(TicketStatus::Confirmed)
            .apply(Event::Exchange, T0)
            .unwrap(),
        TicketStatus::Cancelled => t.apply(Event::Abort, T0).unwrap(),
        TicketStatus::Expired => t.expire_if_due(T0 + secs(120)).unwrap(),
    }
}

fn events() -> Vec<(&'static str, Event)> {
    vec![
        ("scan by alice", Event::Scan { user: alice() }),
        ("scan by bob", Event::Scan { user: bob() }),
        (
            "confirm by alice",
            Event::Confirm {
                user: alice().id,
                code: None,
            },
        ),
        (
            "confirm by bob",
            Event::Confirm {
                user: bob().id,
                code: None,
            },
        ),
        ("cancel by alice", Event::Cancel { user: alice().id }),
        ("cancel by bob", Event::Cancel { user: bob().id }),
        ("abort", Event::Abort),
        ("exchange", Event::Exchange),
    ]
}

/// Expected outcome: `Ok(Some(status))` = moved to status, `Ok(None)` = unchanged.
type Outcome = Result<Option<TicketStatus>, TransitionError>;

fn expected(state: TicketStatus, event: &str) -> Outcome {
    use TicketStatus as S;
    use TransitionError as E;
    match (state, event) {
        (S::Pending, "scan by alice" | "scan by bob") => Ok(Some(S::Scanned)),
        (S::Pending, e) if e.starts_with("confirm") || e.starts_with("cancel") => {
            Err(E::NotScanned)
        }
        (S::Pending, "abort") => Ok(Some(S::Cancelled)),
        (S::Pending, "exchange") => Err(E::NotConfirmed),

        (S::Scanned, "scan by alice") => Ok(None),
        (S::Scanned, "scan by bob") => Err(E::AlreadyScanned),
        (S::Scanned, "confirm by alice") => Ok(Some(S::Confirmed)),
        (S::Scanned, "cancel by alice") => Ok(Some(S::Cancelled)),
        (S::Scanned, "confirm by bob" | "cancel by bob") => Err(E::NotYours),
        (S::Scanned, "abort") => Ok(Some(S::Cancelled)),
        (S::Scanned, "exchange") => Err(E::NotConfirmed),

        (S::Confirmed, "scan by alice") => Err(E::AlreadyConfirmed),
        (S::Confirmed, "scan by bob") => Err(E::AlreadyScanned),
        (S::Confirmed, "confirm by alice") => Ok(None),
        (S::Confirmed, "cancel by alice") => Ok(Some(S::Cancelled)),
        (S::Confirmed, "confirm by bob" | "cancel by bob") => Err(E::NotYours),
        (S::Confirmed, "abort") => Ok(Some(S::Cancelled)),
        (S::Confirmed, "exchange") => Ok(Some(S::Consumed)),

        (S::Consumed, _) => Err(E::AlreadyConsumed),
        (S::Cancelled, "abort") => Ok(None),
        (S::Cancelled, _) => Err(E::Cancelled),
        (S::Expired, _) => Err(E::Expired),
        (s, e) => panic!("no expectation for {s} + {e}"),
    }
}

#[test]
fn every_state_and_event_pair_has_its_expected_outcome() {
    let mut checked = 0;
    for status in TicketStatus::ALL {
        let before = in_state(status);
        assert_eq!(before.status(), status);
        for (name, event) in events() {
            let got = before.apply(event, T0 + secs(1));
            let outcome: Outcome = got
                .as_ref()
                .map_err(|e| *e)
                .map(|after| (after.version != before.version).then_some(after.status()));
            assert_eq!(outcome, expected(status, name), "{status} + {name}");
            if let Ok(after) = got {
                match outcome {
                    Ok(Some(_)) => assert_eq!(after.version, before.version + 1),
                    _ => assert_eq!(after, before, "a no-op must not change anything"),
                }
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 6 * 8);
}

#[test]
fn new_ticket_is_pending_at_version_one_with_pending_deadline() {
    let t = fresh();
    assert_eq!(t.state, TicketState::Pending);
    assert_eq!(t.version, 1);
    assert_eq!(t.expires_at, T0 + secs(120));
}

#[test]
fn each_state_gets_its_own_lifetime() {
    let lifetimes = Lifetimes {
        pending: secs(10),
        scanned: secs(20),
        confirmed: secs(30),
    };
    let t = Ticket::new(
        TicketId::from_random_bytes([2; 16]),
        SecretHash::of("s"),
        requester(),
        lifetimes,
        T0,
    );
    assert_eq!(t.expires_at, T0 + secs(10));
    let scanned = t
        .apply(Event::Scan { user: alice() }, T0 + secs(5))
        .unwrap();
    assert_eq!(scanned.expires_at, T0 + secs(25));
    let confirmed = scanned
        .apply(
            Event::Confirm {
                user: alice().id,
                code: None,
            },
            T0 + secs(6),
        )
        .unwrap();
    assert_eq!(confirmed.expires_at, T0 + secs(36));
}

#[test]
fn any_event_past_the_deadline_is_expired() {
    for status in [
        TicketStatus::Pending,
        TicketStatus::Scanned,
        TicketStatus::Confirmed,
    ] {
        let t = in_state(status);
        for (name, event) in events() {
            assert_eq!(
                t.apply(event, t.expires_at),
                Err(TransitionError::Expired),
                "{status} + {name} at the deadline"
            );
        }
    }
}

#[test]
fn expire_if_due_bumps_version_once_and_only_when_due() {
    let t = fresh();
    assert_eq!(t.expire_if_due(T0 + secs(119)), None);
    let expired = t.expire_if_due(T0 + secs(120)).unwrap();
    assert_eq!(expired.state, TicketState::Expired);
    assert_eq!(expired.version, 2);
    assert_eq!(expired.expire_if_due(T0 + secs(999)), None);
}

#[test]
fn confirmed_ticket_is_consumed_by_the_first_exchange_only() {
    let confirmed = in_state(TicketStatus::Confirmed);
    let consumed = confirmed.apply(Event::Exchange, T0 + secs(2)).unwrap();
    assert_eq!(consumed.state, TicketState::Consumed { user: alice() });
    assert_eq!(
        consumed.apply(Event::Exchange, T0 + secs(3)),
        Err(TransitionError::AlreadyConsumed)
    );
}

#[test]
fn bob_cannot_confirm_alices_scan() {
    let scanned = in_state(TicketStatus::Scanned);
    assert_eq!(
        scanned.apply(
            Event::Confirm {
                user: bob().id,
                code: None
            },
            T0
        ),
        Err(TransitionError::NotYours)
    );
}

#[test]
fn cancel_records_who_cancelled() {
    let by_alice = in_state(TicketStatus::Scanned)
        .apply(Event::Cancel { user: alice().id }, T0)
        .unwrap();
    assert_eq!(
        by_alice.state,
        TicketState::Cancelled {
            by: CancelledBy::User(alice().id)
        }
    );
    let by_page = fresh().apply(Event::Abort, T0).unwrap();
    assert_eq!(
        by_page.state,
        TicketState::Cancelled {
            by: CancelledBy::Page
        }
    );
}

#[test]
fn view_shows_display_name_but_no_user_id() {
    let view = in_state(TicketStatus::Scanned).view();
    assert_eq!(view.status, TicketStatus::Scanned);
    let json = serde_json::to_string(&view).unwrap();
    assert!(json.contains("Alice Example"));
    assert!(!json.contains("\"alice\""));
    assert!(fresh().view().user.is_none());
}

#[test]
fn ticket_round_trips_through_json_for_stores() {
    for status in TicketStatus::ALL {
        let t = in_state(status);
        let back: Ticket = serde_json::from_str(&serde_json::to_string(&t).unwrap()).unwrap();
        assert_eq!(back, t);
    }
}

mod number_matching {
    use super::*;

    fn verified() -> Ticket {
        fresh().with_verification(Verification::from_random_bytes([7, 1, 2, 3, 4, 5, 6, 8]))
    }

    fn scanned() -> Ticket {
        verified().apply(Event::Scan { user: alice() }, T0).unwrap()
    }

    fn confirm(code: Option<&str>) -> Event {
        Event::Confirm {
            user: alice().id,
            code: code.map(str::to_string),
        }
    }

    #[test]
    fn choices_are_three_distinct_two_digit_numbers_including_the_code() {
        for seed in 0..=255u8 {
            let bytes = [seed, seed.wrapping_mul(7), 3, seed, 9, seed, 1, seed];
            let v = Verification::from_random_bytes(bytes);
            assert!(v.choices.contains(&v.code));
            let mut sorted = v.choices.to_vec();
            sorted.sort();
            sorted.dedup();
            assert_eq!(sorted.len(), 3, "{:?}", v.choices);
            for c in &v.choices {
                let n: u8 = c.parse().unwrap();
                assert!((10..100).contains(&n));
            }
        }
    }

    #[test]
    fn the_code_sits_at_each_position_for_some_seed() {
        let positions: std::collections::HashSet<usize> = (0..=2u8)
            .map(|p| {
                let v = Verification::from_random_bytes([1, 2, 3, 4, 5, 6, 0, p]);
                v.choices.iter().position(|c| *c == v.code).unwrap()
            })
            .collect();
        assert_eq!(positions.len(), 3);
    }

    #[test]
    fn the_page_sees_the_code_only_while_scanned() {
        let code = verified().verification.unwrap().code;
        assert_eq!(verified().view().verification_code, None);
        assert_eq!(scanned().view().verification_code, Some(code.clone()));
        let confirmed = scanned().apply(confirm(Some(&code)), T0).unwrap();
        assert_eq!(confirmed.status(), TicketStatus::Confirmed);
        assert_eq!(confirmed.view().verification_code, None);
    }

    #[test]
    fn confirm_without_a_number_is_refused_and_changes_nothing() {
        assert_eq!(
            scanned().apply(confirm(None), T0),
            Err(TransitionError::VerificationRequired)
        );
    }

    #[test]
    fn a_wrong_number_cancels_and_tells_the_page_why() {
        let v = verified().verification.unwrap();
        let wrong = v.choices.iter().find(|c| **c != v.code).unwrap();
        let after = scanned().apply(confirm(Some(wrong)), T0).unwrap();
        assert_eq!(
            after.state,
            TicketState::Cancelled {
                by: CancelledBy::WrongCode(alice().id)
            }
        );
        assert_eq!(after.view().reason, Some(CancelReason::WrongCode));
        assert_eq!(
            after.apply(confirm(Some(&v.code)), T0),
            Err(TransitionError::Cancelled)
        );
    }

    #[test]
    fn another_user_cannot_burn_the_ticket_with_a_wrong_number() {
        let event = Event::Confirm {
            user: bob().id,
            code: Some("00".into()),
        };
        assert_eq!(scanned().apply(event, T0), Err(TransitionError::NotYours));
    }

    #[test]
    fn without_number_matching_a_code_is_ignored() {
        let t = in_state(TicketStatus::Scanned);
        let after = t.apply(confirm(Some("12")), T0).unwrap();
        assert_eq!(after.status(), TicketStatus::Confirmed);
    }

    #[test]
    fn the_code_never_shows_in_debug_output() {
        let v = Verification::from_random_bytes([9; 8]);
        let shown = format!("{v:?}");
        assert!(shown.contains("code: \"<redacted>\""), "{shown}");
    }
}
