//! Faults inside history writes: recording a scanned payment, importing records after a fresh
//! start, and applying the server's statuses one by one or as a batch.
//!
//! Invariants, on the database as a restarted process finds it:
//! - a write that returned `Ok` is there (no lost acknowledged record or status);
//! - a write that failed left nothing half done: a batch is all or none, an import that failed
//!   raised no ATC and dropped no key;
//! - a retry after a fault whose outcome the caller did not see is harmless (a record is not
//!   written twice, a status not applied twice);
//! - the monthly rollup always equals a rebuild from the records;
//! - the database opens and passes `integrity_check`.

mod failpoints_support;
#[path = "fixtures/support.rs"]
mod support;

use failpoints_support::{arm, clean, crashes};
use std::collections::BTreeMap;
use std::path::Path;
use support::*;
use wallet_core::card::Scheme;
use wallet_core::history::{Filter, Imported, StatsQuery, Status};
use wallet_core::ledger::{Channel, KeyLedger};
use wallet_core::store::{Store, StoreError};

/// A wallet with one card, keys 1..=10, and taps with ATCs 1..=`taps` (pending).
fn wallet_with_taps(home: &Path, taps: u16) {
    let mut s = open(home);
    s.install_card(perso("c", Scheme::Visa, 1..=10)).unwrap();
    let mut seen = Vec::new();
    for _ in 0..taps {
        s.consume_next("c", &mut sealer("c", 1_000, None, &mut seen))
            .unwrap();
    }
}

/// id -> (ATC, channel, status) of every record.
fn records(s: &Store) -> BTreeMap<i64, (u16, Channel, Status)> {
    s.records(&Filter::default(), None, 500)
        .unwrap()
        .records
        .into_iter()
        .map(|r| (r.id, (r.atc, r.channel, r.status)))
        .collect()
}

/// Reopen, check integrity and that the rollup matches the records; return the records.
fn check_after_restart(home: &Path) -> BTreeMap<i64, (u16, Channel, Status)> {
    let mut s = open(home);
    s.integrity_check().expect("integrity_check");
    let q = StatsQuery::default();
    let kept = s.monthly_totals(&q).unwrap();
    s.rebuild_monthly_totals().unwrap();
    assert_eq!(
        s.monthly_totals(&q).unwrap(),
        kept,
        "the rollup drifted from the records"
    );
    records(&s)
}

fn statuses(recs: &BTreeMap<i64, (u16, Channel, Status)>) -> Vec<Status> {
    recs.values().map(|(_, _, st)| *st).collect()
}

#[test]
fn a_failed_status_update_changes_nothing_and_can_be_retried() {
    for action in ["return", "panic"] {
        let home = tempfile::tempdir().unwrap();
        {
            let _clean = clean();
            wallet_with_taps(home.path(), 2);
        }
        let id = *check_after_restart(home.path()).keys().next().unwrap();
        {
            let _armed = arm("history::set_status::before_commit", action);
            let mut s = open(home.path());
            if action == "panic" {
                crashes(action, || s.set_status(id, Status::Approved));
            } else {
                let err = s.set_status(id, Status::Approved).unwrap_err();
                assert!(matches!(err, StoreError::Sqlite(_)), "{err:?}");
            }
        }
        assert_eq!(
            statuses(&check_after_restart(home.path())),
            [Status::Pending; 2]
        );
        let _clean = clean();
        assert!(open(home.path()).set_status(id, Status::Approved).unwrap());
        let after = check_after_restart(home.path());
        assert_eq!(
            after[&id].2,
            Status::Approved,
            "{action}: the acknowledged status stays"
        );
    }
}

/// The third of five answers fails: none is applied (a batch is one transaction), and the
/// whole batch applied again afterwards changes each record once.
#[test]
fn a_sync_batch_is_all_or_nothing() {
    for action in ["2*off->return", "2*off->panic"] {
        let home = tempfile::tempdir().unwrap();
        {
            let _clean = clean();
            wallet_with_taps(home.path(), 5);
        }
        let ids: Vec<i64> = check_after_restart(home.path()).into_keys().collect();
        let outcome = [
            Status::Approved,
            Status::Declined,
            Status::Approved,
            Status::Reversed,
            Status::Expired,
        ];
        let batch: Vec<(i64, Status)> = ids.iter().copied().zip(outcome).collect();
        {
            let _armed = arm("history::apply_statuses::update", action);
            let mut s = open(home.path());
            if action.ends_with("panic") {
                crashes(action, || s.apply_statuses(&batch));
            } else {
                let err = s.apply_statuses(&batch).unwrap_err();
                assert!(matches!(err, StoreError::Sqlite(_)), "{err:?}");
            }
        }
        assert_eq!(
            statuses(&check_after_restart(home.path())),
            [Status::Pending; 5],
            "{action}: nothing of a failed batch"
        );
        let _clean = clean();
        let mut s = open(home.path());
        assert_eq!(s.apply_statuses(&batch).unwrap(), 5);
        assert_eq!(
            s.apply_statuses(&batch).unwrap(),
            0,
            "a replayed batch changes nothing"
        );
        drop(s);
        assert_eq!(statuses(&check_after_restart(home.path())), outcome);
    }
}

/// A scanned payment: a fault before the commit leaves nothing (the retry records it); a fault
/// after the commit leaves the record, which the retry finds instead of writing it twice.
#[test]
fn a_scanned_payment_is_recorded_once_whatever_fails() {
    for (point, action, committed) in [
        ("history::record::before_commit", "return", false),
        ("history::record::before_commit", "panic", false),
        ("history::record::after_commit", "return", true),
        ("history::record::after_commit", "panic", true),
    ] {
        let what = format!("{point}={action}");
        let home = tempfile::tempdir().unwrap();
        {
            let _clean = clean();
            wallet_with_taps(home.path(), 1);
        }
        let payment = draft("c", Channel::QrScanned, 0, 2_350, Some("Dumpling House"));
        {
            let _armed = arm(point, action);
            let mut s = open(home.path());
            if action == "panic" {
                crashes(&what, || s.record(&payment));
            } else {
                let err = s.record(&payment).unwrap_err();
                assert!(matches!(err, StoreError::Sqlite(_)), "{what}: {err:?}");
            }
        }
        let scanned = |recs: &BTreeMap<i64, (u16, Channel, Status)>| {
            recs.values()
                .filter(|(_, ch, _)| *ch == Channel::QrScanned)
                .count()
        };
        assert_eq!(
            scanned(&check_after_restart(home.path())),
            usize::from(committed),
            "{what}"
        );
        // The caller did not get Ok, so it retries.
        let _clean = clean();
        let mut s = open(home.path());
        match s.record(&payment) {
            Ok(_) => assert!(!committed, "{what}: written twice"),
            Err(StoreError::DuplicateRecord { .. }) => assert!(committed, "{what}"),
            Err(e) => panic!("{what}: retry failed: {e}"),
        }
        drop(s);
        assert_eq!(
            scanned(&check_after_restart(home.path())),
            1,
            "{what}: exactly once"
        );
    }
}

/// A restore from the server fails at its third record or just before its commit: nothing is
/// imported, the card's last ATC stays, no key is dropped; running it again imports it all.
#[test]
fn a_failed_import_raises_no_atc_and_drops_no_key() {
    for (point, action) in [
        ("history::import::record", "2*off->return"),
        ("history::import::record", "2*off->panic"),
        ("history::import::before_commit", "return"),
        ("history::import::before_commit", "panic"),
    ] {
        let what = format!("{point}={action}");
        let home = tempfile::tempdir().unwrap();
        {
            let _clean = clean();
            wallet_with_taps(home.path(), 1);
        }
        // The server knows taps with ATCs 2..=5 this device has forgotten.
        let restore: Vec<Imported> = (2..=5)
            .map(|atc| Imported {
                draft: draft("c", Channel::Nfc, atc, 500, None),
                status: Status::Approved,
                created_at_ms: 1_735_689_600_000 + i64::from(atc),
            })
            .collect();
        {
            let _armed = arm(point, action);
            let mut s = open(home.path());
            if action.ends_with("panic") {
                crashes(&what, || s.import(restore.clone()));
            } else {
                let err = s.import(restore.clone()).unwrap_err();
                assert!(matches!(err, StoreError::Sqlite(_)), "{what}: {err:?}");
            }
        }
        assert_eq!(
            check_after_restart(home.path()).len(),
            1,
            "{what}: nothing imported"
        );
        {
            let s = open(home.path());
            assert_eq!(s.card("c").unwrap().last_atc, Some(1), "{what}");
            assert_eq!(s.remaining("c").unwrap(), 9, "{what}: no key dropped");
        }
        let _clean = clean();
        let mut s = open(home.path());
        let summary = s.import(restore.clone()).unwrap();
        assert_eq!((summary.inserted, summary.skipped), (4, 0), "{what}");
        let again = s.import(restore).unwrap();
        assert_eq!(
            (again.inserted, again.skipped),
            (0, 4),
            "{what}: a rerun is harmless"
        );
        assert_eq!(s.card("c").unwrap().last_atc, Some(5));
        assert_eq!(
            s.remaining("c").unwrap(),
            5,
            "keys at or below ATC 5 are gone"
        );
        let mut seen = Vec::new();
        assert_eq!(
            s.consume_next("c", &mut sealer("c", 1, None, &mut seen)),
            Ok(6)
        );
        drop(s);
        assert_eq!(check_after_restart(home.path()).len(), 6);
    }
}

/// Faults at random on every history write point, over a run of payments and sync answers,
/// with a restart after each: every write that returned `Ok` is there afterwards, with the
/// status last acknowledged.
#[test]
fn random_faults_never_lose_an_acknowledged_write() {
    let home = tempfile::tempdir().unwrap();
    {
        let _clean = clean();
        let mut s = open(home.path());
        s.install_card(perso("c", Scheme::UnionPay, 1..=40))
            .unwrap();
    }
    // What the caller was told: record id -> status.
    let mut acknowledged: BTreeMap<i64, Status> = BTreeMap::new();
    let mut faults = 0;
    for step in 0u16..60 {
        let _armed = arm("ledger::before_commit", "20%return");
        for point in [
            "ledger::after_commit",
            "history::record::before_commit",
            "history::record::after_commit",
            "history::set_status::before_commit",
            "history::apply_statuses::update",
        ] {
            fail::cfg(point, "20%panic").unwrap();
        }
        let mut s = open(home.path());
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match step % 3 {
            0 => {
                let mut seen = Vec::new();
                let atc = s
                    .consume_next("c", &mut sealer("c", 700, None, &mut seen))
                    .map_err(|e| e.to_string())?;
                let id = records(&s)
                    .into_iter()
                    .find(|(_, (a, ch, _))| *a == atc && *ch == Channel::Nfc)
                    .map(|(id, _)| id)
                    .expect("the ledger's record");
                Ok(vec![(id, Status::Pending)])
            }
            1 => {
                let d = draft("c", Channel::QrScanned, step, 900, Some("Kiosk"));
                Ok(vec![(
                    s.record(&d).map_err(|e| e.to_string())?,
                    Status::Pending,
                )])
            }
            _ => {
                let batch: Vec<(i64, Status)> = acknowledged
                    .iter()
                    .filter(|(_, st)| **st == Status::Pending)
                    .take(3)
                    .map(|(id, _)| (*id, Status::Approved))
                    .collect();
                s.apply_statuses(&batch).map_err(|e| e.to_string())?;
                Ok(batch)
            }
        }));
        match result {
            Ok(Ok(acks)) => acknowledged.extend(acks),
            Ok(Err::<_, String>(_)) | Err(_) => faults += 1,
        }
        drop(s);
        let found = check_after_restart(home.path());
        for (id, status) in &acknowledged {
            let got = found.get(id).map(|r| r.2);
            assert_eq!(got, Some(*status), "step {step}: acknowledged record {id}");
        }
    }
    assert!(faults > 5, "the faults must have fired ({faults})");
    eprintln!(
        "{} acknowledged writes kept across {faults} faults",
        acknowledged.len()
    );
}
