//! Faults inside credential installation and replenishment: a disk error or a crash after the
//! card and keys are staged, after they were read back and checked, after the switch to
//! `active` but before the commit — and a storage layer that corrupts what it writes.
//!
//! Invariant: a card is either fully installed (profile, every key, `active`) or not there at
//! all; no staged card, no orphan key, and the wallet's other cards are untouched. Replenishment
//! is all or nothing. The database opens and passes `integrity_check` after every fault.

mod failpoints_support;
#[path = "fixtures/support.rs"]
mod support;

use failpoints_support::{arm, clean, crashes};
use std::path::Path;
use support::*;
use wallet_core::card::Scheme;
use wallet_core::ledger::KeyLedger;
use wallet_core::store::{Store, StoreError};

const INSTALL_POINTS: [&str; 3] = [
    "cards::install::staged",
    "cards::install::verified",
    "cards::install::switched",
];

fn count(s: &Store, sql: &str) -> i64 {
    s.connection().query_row(sql, [], |r| r.get(0)).unwrap()
}

/// What a restarted process finds: exactly `cards`, each complete with `keys` unused keys.
fn check_after_restart(home: &Path, cards: &[(&str, usize)]) {
    let s = open(home);
    s.integrity_check().expect("integrity_check");
    let listed: Vec<(String, usize)> = s
        .cards()
        .unwrap()
        .into_iter()
        .map(|c| (c.profile.id, c.remaining_keys))
        .collect();
    let want: Vec<(String, usize)> = cards.iter().map(|(id, n)| (id.to_string(), *n)).collect();
    assert_eq!(listed, want, "cards after restart");
    assert_eq!(
        count(&s, "SELECT count(*) FROM cards"),
        cards.len() as i64,
        "no staged card"
    );
    assert_eq!(
        count(&s, "SELECT count(*) FROM cards WHERE status <> 'active'"),
        0,
        "every card is active"
    );
    let keys: usize = cards.iter().map(|(_, n)| n).sum();
    assert_eq!(
        count(&s, "SELECT count(*) FROM session_keys") as usize,
        keys,
        "no orphan keys"
    );
    if let Some((first, _)) = cards.first() {
        assert!(s.card(first).unwrap().is_default);
    }
}

#[test]
fn a_fault_anywhere_in_installation_leaves_no_trace() {
    for point in INSTALL_POINTS {
        for action in ["return", "panic"] {
            let what = format!("{point}={action}");
            let home = tempfile::tempdir().unwrap();
            open(home.path())
                .install_card(perso("a", Scheme::UnionPay, 1..=3))
                .unwrap();
            {
                let _armed = arm(point, action);
                let mut s = open(home.path());
                let mut install = || s.install_card(perso("b", Scheme::Visa, 1..=5));
                if action == "panic" {
                    crashes(&what, install);
                } else {
                    let err = install().expect_err(&what);
                    assert!(matches!(err, StoreError::Sqlite(_)), "{what}: {err:?}");
                }
            }
            // The other card is intact; the new one is not there at all.
            check_after_restart(home.path(), &[("a", 3)]);
            let s = open(home.path());
            assert!(
                matches!(s.card("b"), Err(StoreError::UnknownCard(_))),
                "{what}"
            );
            drop(s);

            // Installing again works, and the card pays from its first key.
            let _clean = clean();
            let mut s = open(home.path());
            s.install_card(perso("b", Scheme::Visa, 1..=5))
                .expect(&what);
            let mut seen = Vec::new();
            assert_eq!(
                s.consume_next("b", &mut sealer("b", 100, None, &mut seen)),
                Ok(1)
            );
            assert_eq!(
                seen,
                [(1, test_key("b", 1))],
                "{what}: the key installed is the key used"
            );
            drop(s);
            check_after_restart(home.path(), &[("a", 3), ("b", 4)]);
        }
    }
}

/// The install reads back what it wrote before switching the card on. A storage layer that
/// silently changes a key on its way to disk (here a trigger flips a byte of every key
/// inserted) makes the install fail whole, rather than leave a card that would answer
/// terminals with cryptograms the issuer cannot verify.
#[test]
fn a_key_corrupted_on_write_fails_the_install_whole() {
    let _clean = clean();
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("a", Scheme::UnionPay, 1..=3)).unwrap();
    s.connection()
        .execute_batch(
            "CREATE TRIGGER corrupt_keys AFTER INSERT ON session_keys BEGIN
                 UPDATE session_keys SET key = CAST(X'00' || substr(key, 2) AS BLOB)
                 WHERE id = NEW.id;
             END;",
        )
        .unwrap();
    let err = s
        .install_card(perso("b", Scheme::Mastercard, 1..=4))
        .expect_err("a corrupted key must fail the install");
    assert!(
        matches!(
            err,
            StoreError::Unsealable { .. } | StoreError::InvalidCard(_)
        ),
        "{err:?}"
    );
    s.connection()
        .execute_batch("DROP TRIGGER corrupt_keys")
        .unwrap();
    drop(s);
    check_after_restart(home.path(), &[("a", 3)]);
}

#[test]
fn a_fault_in_replenishment_adds_nothing() {
    for action in ["return", "panic"] {
        let home = tempfile::tempdir().unwrap();
        {
            let _clean = clean();
            let mut s = open(home.path());
            s.install_card(perso("a", Scheme::Mastercard, 1..=2))
                .unwrap();
            let mut seen = Vec::new();
            s.consume_next("a", &mut sealer("a", 100, None, &mut seen))
                .unwrap();
        }
        {
            let _armed = arm("cards::add_keys::before_commit", action);
            let mut s = open(home.path());
            let mut add = || s.add_keys("a", keys("a", 3..=10));
            if action == "panic" {
                crashes(action, add);
            } else {
                assert!(matches!(add(), Err(StoreError::Sqlite(_))));
            }
        }
        check_after_restart(home.path(), &[("a", 1)]);
        let _clean = clean();
        let mut s = open(home.path());
        assert_eq!(
            s.add_keys("a", keys("a", 3..=10)).unwrap(),
            9,
            "{action}: retry adds all"
        );
        let mut seen = Vec::new();
        let atcs: Vec<u16> = (0..9)
            .map(|_| {
                s.consume_next("a", &mut sealer("a", 100, None, &mut seen))
                    .unwrap()
            })
            .collect();
        assert_eq!(atcs, [2, 3, 4, 5, 6, 7, 8, 9, 10]);
    }
}
