//! Property tests: random event sequences from three users at random times.

use std::time::Duration;

use proptest::prelude::*;
use qrlogin_core::*;
use time::OffsetDateTime;
use time::macros::datetime;

const T0: OffsetDateTime = datetime!(2026-11-25 12:00:00 UTC);
const USERS: [&str; 3] = ["alice", "bob", "carol"];

fn user(i: usize) -> TicketUser {
    TicketUser {
        id: UserId(USERS[i].into()),
        display_name: USERS[i].to_uppercase(),
        avatar_url: None,
    }
}

#[derive(Debug, Clone)]
enum Step {
    Event(Event),
    /// What a store's sweeper does: persist the expiry if it is due.
    Sweep,
}

fn step() -> impl Strategy<Value = Step> {
    let u = 0..USERS.len();
    prop_oneof![
        u.clone()
            .prop_map(|i| Step::Event(Event::Scan { user: user(i) })),
        u.clone().prop_map(|i| Step::Event(Event::Confirm {
            user: user(i).id,
            code: None
        })),
        u.prop_map(|i| Step::Event(Event::Cancel { user: user(i).id })),
        Just(Step::Event(Event::Abort)),
        Just(Step::Event(Event::Exchange)),
        Just(Step::Sweep),
    ]
}

/// Steps with the seconds that pass before each (mostly short, sometimes long).
fn run() -> impl Strategy<Value = Vec<(u64, Step)>> {
    prop::collection::vec((prop_oneof![4 => 0u64..5, 1 => 0u64..150], step()), 1..40)
}

fn lifetimes() -> impl Strategy<Value = Lifetimes> {
    (1u64..130, 1u64..70, 1u64..70).prop_map(|(p, s, c)| Lifetimes {
        pending: Duration::from_secs(p),
        scanned: Duration::from_secs(s),
        confirmed: Duration::from_secs(c),
    })
}

fn requester() -> RequesterInfo {
    RequesterInfo {
        ip: "198.51.100.1".parse().unwrap(),
        user_agent: "ua".into(),
        browser: "b".into(),
        os: "o".into(),
        created_at: T0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn state_machine_invariants_hold_for_any_sequence(lifetimes in lifetimes(), steps in run()) {
        let mut ticket = Ticket::new(
            TicketId::from_random_bytes([3; 16]),
            SecretHash::of("poll"),
            requester(),
            lifetimes,
            T0,
        );
        let mut now = T0;
        let mut exchanges = 0;
        let mut scanner: Option<UserId> = None;

        for (advance, step) in steps {
            now += Duration::from_secs(advance);
            let before = ticket.clone();
            let result = match step {
                Step::Sweep => Ok(before.expire_if_due(now).unwrap_or_else(|| before.clone())),
                Step::Event(event) => {
                    let due = before.is_due(now);
                    let result = before.apply(event.clone(), now);
                    // An expired deadline always wins.
                    if due {
                        prop_assert_eq!(&result, &Err(TransitionError::Expired));
                    }
                    if let Ok(after) = &result {
                        if after.version != before.version {
                            // Nobody but the scanner confirms or cancels.
                            if let Event::Confirm { user, .. } | Event::Cancel { user } = &event {
                                prop_assert_eq!(Some(user), scanner.as_ref());
                            }
                            if matches!(event, Event::Exchange) {
                                exchanges += 1;
                            }
                        }
                    }
                    result
                }
            };

            let Ok(after) = result else {
                continue;
            };
            // A final state never changes.
            if before.is_final() {
                prop_assert_eq!(&after, &before);
            }
            // version goes up by exactly one on a change and never otherwise.
            if after.state != before.state {
                prop_assert_eq!(after.version, before.version + 1);
            } else {
                prop_assert_eq!(&after, &before);
            }
            // The user attached to the ticket never switches.
            if let (Some(a), Some(b)) = (before.state.user(), after.state.user()) {
                prop_assert_eq!(&a.id, &b.id);
            }
            if let TicketState::Scanned { user } = &after.state {
                scanner.get_or_insert_with(|| user.id.clone());
            }
            if let TicketState::Confirmed { user } | TicketState::Consumed { user } = &after.state {
                prop_assert_eq!(Some(&user.id), scanner.as_ref());
            }
            ticket = after;
        }
        // At most one exchange ever succeeds.
        prop_assert!(exchanges <= 1);
        prop_assert_eq!(exchanges == 1, ticket.status() == TicketStatus::Consumed);
    }

    #[test]
    fn two_users_never_both_win_a_scan(first in 0usize..3, second in 0usize..3, gap in 0u64..200) {
        let t = Ticket::new(TicketId::from_random_bytes([4; 16]), SecretHash::of("p"), requester(), Lifetimes::default(), T0);
        let now = T0 + Duration::from_secs(gap);
        if let Ok(scanned) = t.apply(Event::Scan { user: user(first) }, now) {
            let again = scanned.apply(Event::Scan { user: user(second) }, now);
            if first == second {
                prop_assert_eq!(again, Ok(scanned));
            } else {
                prop_assert_eq!(again, Err(TransitionError::AlreadyScanned));
            }
        }
    }

    #[test]
    fn login_qr_parse_never_panics_and_round_trips(text in "\\PC{0,80}") {
        if let Ok(qr) = LoginQr::parse(&text) {
            prop_assert_eq!(LoginQr::parse(&qr.to_string()), Ok(qr));
        }
    }

    #[test]
    fn login_qr_built_from_any_id_parses_back(bytes in any::<[u8; 16]>(), port in 1u16..) {
        let origin = Origin::parse(&format!("https://login.example.com:{port}")).unwrap();
        let qr = LoginQr::new(origin, TicketId::from_random_bytes(bytes));
        prop_assert_eq!(LoginQr::parse(&qr.to_string()), Ok(qr));
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// With number matching on, a ticket only reaches `confirmed` through the
    /// right number, and any wrong pick by the scanner ends it for good.
    #[test]
    fn number_matching_confirms_only_with_the_code(
        seed in any::<[u8; 8]>(),
        picks in prop::collection::vec((0usize..3, 0usize..4), 1..6),
    ) {
        let v = Verification::from_random_bytes(seed);
        let mut t = Ticket::new(TicketId::from_random_bytes([5; 16]), SecretHash::of("p"), requester(), Lifetimes::default(), T0)
            .with_verification(v.clone())
            .apply(Event::Scan { user: user(0) }, T0)
            .unwrap();
        for (who, pick) in picks {
            let code = v.choices.get(pick).cloned();
            let before = t.clone();
            let result = t.apply(Event::Confirm { user: user(who).id, code: code.clone() }, T0);
            match (&before.state, &result) {
                (_, Err(_)) => {}
                (TicketState::Scanned { .. }, Ok(after)) => {
                    prop_assert_eq!(who, 0);
                    if code.as_deref() == Some(v.code.as_str()) {
                        prop_assert_eq!(after.status(), TicketStatus::Confirmed);
                    } else {
                        prop_assert_eq!(after.view().reason, Some(CancelReason::WrongCode));
                    }
                }
                (_, Ok(after)) => prop_assert_eq!(after.version, before.version),
            }
            if let Ok(after) = result {
                t = after;
            }
        }
    }
}
