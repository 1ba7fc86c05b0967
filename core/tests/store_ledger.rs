//! The durable key ledger: each key handed out once, in ATC order, with its record committed
//! before `consume_next` returns — across reopen, threads, connections and failures in `seal`.

#[path = "fixtures/support.rs"]
mod support;

use std::collections::BTreeSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use support::*;
use wallet_core::card::Scheme;
use wallet_core::history::{Filter, Status};
use wallet_core::ledger::{Channel, KeyLedger, LedgerError};

#[test]
fn keys_come_in_atc_order_with_their_records() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Visa, [3, 4, 9, 10]))
        .unwrap();
    let mut seen = Vec::new();
    for want in [3, 4, 9, 10] {
        assert_eq!(
            s.consume_next("c", &mut sealer("c", 250, Some("Tea House"), &mut seen))
                .unwrap(),
            want
        );
    }
    assert_eq!(
        seen,
        [3, 4, 9, 10].map(|a| (a, test_key("c", a))),
        "each ATC with its own key"
    );
    assert_eq!(
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen)),
        Err(LedgerError::Exhausted("c".into()))
    );
    assert_eq!(seen.len(), 4);
    assert_eq!(s.remaining("c"), Ok(0));
    assert_eq!(s.remaining("x"), Err(LedgerError::UnknownCard("x".into())));
    assert_eq!(
        s.consume_next("x", &mut sealer("x", 1, None, &mut seen)),
        Err(LedgerError::UnknownCard("x".into()))
    );

    let page = s.records(&Filter::default(), None, 10).unwrap();
    let atcs: Vec<u16> = page.records.iter().map(|r| r.atc).collect();
    assert_eq!(atcs, [10, 9, 4, 3], "newest first");
    let r = &page.records[0];
    assert_eq!(
        (r.status, r.channel, r.amount_minor),
        (Status::Pending, Channel::Nfc, Some(250))
    );
    assert_eq!(r.merchant.as_deref(), Some("Tea House"));
    let key10 = wallet_core::emv::crypto::Key16::from_bytes(test_key("c", 10));
    assert_eq!(r.cryptogram_sha256, fake_cryptogram_hash(&key10, 10));
    assert_eq!(s.card("c").unwrap().last_atc, Some(10));
}

#[test]
fn keys_are_never_reused_across_reopen_and_a_dropped_response_burns_one() {
    let home = tempfile::tempdir().unwrap();
    {
        let mut s = open(home.path());
        s.install_card(perso("c", Scheme::UnionPay, 0..=20))
            .unwrap();
        let mut seen = Vec::new();
        assert_eq!(
            s.consume_next("c", &mut sealer("c", 1, None, &mut seen))
                .unwrap(),
            0
        );
        // "Crash" between consume and respond: the ATC is dropped, never sent to a terminal.
        let _lost = s
            .consume_next("c", &mut sealer("c", 1, None, &mut seen))
            .unwrap();
        // The store goes away without any orderly shutdown.
        std::mem::forget(s);
    }
    let mut used = BTreeSet::from([0u16, 1]);
    for _ in 0..4 {
        let mut s = open(home.path());
        assert_eq!(
            s.remaining("c").unwrap(),
            21 - used.len(),
            "the burnt key is gone"
        );
        let mut seen = Vec::new();
        let atc = s
            .consume_next("c", &mut sealer("c", 1, None, &mut seen))
            .unwrap();
        assert!(used.insert(atc), "ATC {atc} handed out twice");
        assert_eq!(
            atc,
            *used.iter().max().unwrap(),
            "always above every ATC used before"
        );
    }
    let s = open(home.path());
    assert_eq!(
        s.count_records(&Filter::default()).unwrap(),
        used.len() as u64,
        "one record per key spent"
    );
    s.integrity_check().unwrap();
}

#[test]
fn nothing_is_spent_when_seal_fails() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Visa, 1..=3)).unwrap();

    // A seal closure that panics (e.g. a bug in the card engine): no cryptogram left the core,
    // so the key stays unspent and no record appears.
    let panicked = catch_unwind(AssertUnwindSafe(|| {
        let _ = s.consume_next("c", &mut |_atc, _key| panic!("engine bug"));
    }));
    assert!(panicked.is_err());
    assert_eq!(s.remaining("c"), Ok(3));

    // A record that names another card or ATC is refused, and nothing is committed.
    let err = s
        .consume_next("c", &mut |atc, _key| {
            draft("other", Channel::Nfc, atc, 1, None)
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::Storage(_)), "{err:?}");
    let err = s
        .consume_next("c", &mut |atc, _key| {
            draft("c", Channel::Nfc, atc + 1, 1, None)
        })
        .unwrap_err();
    assert!(matches!(err, LedgerError::Storage(_)), "{err:?}");
    assert_eq!(s.remaining("c"), Ok(3));
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 0);

    let mut seen = Vec::new();
    assert_eq!(
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen)),
        Ok(1)
    );
}

#[test]
fn concurrent_connections_never_share_a_key() {
    let home = tempfile::tempdir().unwrap();
    {
        let mut s = open(home.path());
        s.install_card(perso("c", Scheme::Visa, 1..=200)).unwrap();
    }
    let dir = home.path().to_path_buf();
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let dir = dir.clone();
            std::thread::spawn(move || {
                // Each thread has its own connection, as separate processes would.
                let mut s = open(&dir);
                let mut got = Vec::new();
                loop {
                    let mut seen = Vec::new();
                    let result = s.consume_next("c", &mut sealer("c", 1, None, &mut seen));
                    match result {
                        Ok(atc) => {
                            assert_eq!(seen, [(atc, test_key("c", atc))]);
                            got.push(atc);
                        }
                        Err(LedgerError::Exhausted(_)) => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    let mut all: Vec<u16> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let n = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!((n, all.len()), (200, 200), "every key used exactly once");
    let s = open(&dir);
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 200);
}

#[test]
fn imported_taps_retire_their_atcs() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Visa, 1..=10)).unwrap();
    // The server knows of a tap with ATC 4 this device has no record of (e.g. restored wallet).
    let tap = wallet_core::history::Imported {
        draft: draft("c", Channel::Nfc, 4, 500, None),
        status: Status::Approved,
        created_at_ms: 1_700_000_000_000,
    };
    let sum = s.import([tap.clone()]).unwrap();
    assert_eq!((sum.inserted, sum.skipped), (1, 0));
    assert_eq!(s.remaining("c"), Ok(6), "keys 1..=4 can no longer be used");
    let mut seen = Vec::new();
    assert_eq!(
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen)),
        Ok(5)
    );
    // Importing again is a no-op.
    let sum = s.import([tap]).unwrap();
    assert_eq!((sum.inserted, sum.skipped), (0, 1));
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 2);
}
