//! The card's flows: PPSE listing, CDCVM window, field sessions, key spending.

mod hce_support;

use hce_support::*;
use std::collections::HashSet;
use std::time::Duration;
use wallet_core::card::{AID_UNIONPAY_CREDIT, AID_UNIONPAY_DEBIT, Scheme};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::{Cvn, Verification};
use wallet_core::emv::tlv::{self, Tag};
use wallet_core::hce::Engine;
use wallet_core::ledger::{KeyLedger, LedgerError, MemoryLedger, TxnDraft};

const UN: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// Run PPSE -> SELECT -> GPO for a qVSDC/qPBOC card; returns the GPO response.
fn quick_tap(
    engine: &mut Engine,
    ledger: &mut MemoryLedger,
    aid: &[u8],
    amount: u64,
    cvm: bool,
) -> Vec<u8> {
    engine.deactivate();
    assert_eq!(sw(&engine.process(&select_ppse(), ledger, t0())), 0x9000);
    assert_eq!(sw(&engine.process(&select(aid), ledger, t0())), 0x9000);
    engine.process(&gpo(&pdol_data(amount, ttq(cvm), UN)), ledger, t0())
}

/// PPSE -> SELECT -> GPO -> READ RECORDs -> GENERATE AC (ARQC requested) for M/Chip.
fn mchip_tap(engine: &mut Engine, ledger: &mut MemoryLedger, amount: u64) -> Vec<u8> {
    engine.deactivate();
    let aid = wallet_core::card::AID_MASTERCARD;
    assert_eq!(sw(&engine.process(&select_ppse(), ledger, t0())), 0x9000);
    assert_eq!(sw(&engine.process(&select(&aid), ledger, t0())), 0x9000);
    let r = engine.process(&gpo(&[]), ledger, t0());
    assert_eq!(sw(&r), 0x9000);
    assert_eq!(
        sw(&engine.process(&read_record(1, 1), ledger, t0())),
        0x9000
    );
    assert_eq!(
        sw(&engine.process(&read_record(2, 1), ledger, t0())),
        0x9000
    );
    engine.process(&generate_ac(0x80, &cdol1_data(amount, UN)), ledger, t0())
}

#[test]
fn ppse_lists_every_aid_default_first_with_priorities() {
    let visa = profile("v", Scheme::Visa, Cvn::Visa22);
    let up = profile("u", Scheme::UnionPay, Cvn::UnionPay01);
    let up2 = unionpay_credit("u2");
    let mc = profile("m", Scheme::Mastercard, Cvn::Mastercard20);
    let visa_again = profile("v2", Scheme::Visa, Cvn::Visa18);
    let mut engine = Engine::new(vec![
        up.clone(),
        visa.clone(),
        mc.clone(),
        up2.clone(),
        visa_again,
    ])
    .unwrap();
    let mut ledger = MemoryLedger::new();
    let r = engine.process(&select_ppse(), &mut ledger, t0());
    assert_eq!(sw(&r), 0x9000);
    let fci = data(&r);
    assert_eq!(
        tlv::find(fci, Tag(0x84)).unwrap(),
        Some(&b"2PAY.SYS.DDF01"[..])
    );
    let dir = tlv::find(fci, Tag(0xBF0C)).unwrap().unwrap();
    let entries: Vec<_> = tlv::parse_all(dir).unwrap();
    // The second Visa card shares the first one's AID: it is not listed twice.
    assert_eq!(entries.len(), 4);
    let expect = [
        (up.aid.clone(), 1u8, 7u8),
        (visa.aid.clone(), 2, 3),
        (mc.aid.clone(), 3, 2),
        (up2.aid.clone(), 4, 7),
    ];
    for (entry, (aid, prio, kernel)) in entries.iter().zip(expect) {
        assert_eq!(entry.tag, Tag(0x61));
        let v = entry.value;
        assert_eq!(tlv::find(v, Tag(0x4F)).unwrap(), Some(aid.as_slice()));
        assert_eq!(tlv::find(v, Tag(0x87)).unwrap(), Some(&[prio][..]));
        assert_eq!(tlv::find(v, Tag(0x9F2A)).unwrap(), Some(&[kernel][..]));
        assert!(tlv::find(v, Tag(0x50)).unwrap().is_some());
    }
}

#[test]
fn select_aid_returns_fci_with_pdol_and_supports_partial_names() {
    let up = profile("u", Scheme::UnionPay, Cvn::UnionPay01);
    let up2 = unionpay_credit("u2");
    let mut engine = Engine::new(vec![up, up2]).unwrap();
    let mut ledger = MemoryLedger::new();
    let r = engine.process(&select(&AID_UNIONPAY_DEBIT), &mut ledger, t0());
    assert_eq!(sw(&r), 0x9000);
    assert_eq!(find(&r, 0x84), Some(AID_UNIONPAY_DEBIT.to_vec()));
    let pdol = find(&r, 0x9F38).expect("PDOL in FCI");
    assert!(
        pdol.starts_with(&[0x9F, 0x66, 0x04]),
        "TTQ first in the PDOL"
    );
    // Partial name (RID + 3 bytes): first occurrence, then the next one, then none.
    let partial = &AID_UNIONPAY_DEBIT[..7];
    let r = engine.process(&select(partial), &mut ledger, t0());
    assert_eq!(find(&r, 0x84), Some(AID_UNIONPAY_DEBIT.to_vec()));
    let mut next = select(partial);
    next[3] = 0x02;
    let r = engine.process(&next, &mut ledger, t0());
    assert_eq!(find(&r, 0x84), Some(AID_UNIONPAY_CREDIT.to_vec()));
    assert_eq!(sw(&engine.process(&next, &mut ledger, t0())), 0x6A82);
}

#[test]
fn short_le_gets_6cxx_with_the_exact_length() {
    let mut engine = Engine::new(vec![profile("v", Scheme::Visa, Cvn::Visa22)]).unwrap();
    let mut ledger = MemoryLedger::new();
    let full = engine.process(&select(&wallet_core::card::AID_VISA), &mut ledger, t0());
    let mut short = select(&wallet_core::card::AID_VISA);
    *short.last_mut().unwrap() = 0x05;
    let r = engine.process(&short, &mut ledger, t0());
    assert_eq!(r, vec![0x6C, (full.len() - 2) as u8]);
}

#[test]
fn quick_profiles_put_cdcvm_in_the_iad_inside_the_window() {
    for (scheme, cvn) in [
        (Scheme::Visa, Cvn::Visa22),
        (Scheme::Visa, Cvn::Visa18),
        (Scheme::UnionPay, Cvn::UnionPay01),
    ] {
        let p = profile("c", scheme, cvn);
        let mut ledger = ledger_for(&[(&p, 10)]);
        let mut engine = Engine::new(vec![p.clone()]).unwrap();

        // Locked, at the limit: no CVM, the IAD says so.
        let r = quick_tap(&mut engine, &mut ledger, &p.aid, 5_000, false);
        assert_eq!(sw(&r), 0x9000, "{cvn:?}");
        let no_cvm = Verification {
            cdcvm_performed: false,
            arqc_returned: true,
        };
        assert_eq!(find(&r, 0x9F10), Some(cvn.iad(p.dki, no_cvm)), "{cvn:?}");
        assert_eq!(find(&r, 0x9F6C), Some(vec![0x00, 0x00]));
        assert_eq!(find(&r, 0x9F27), Some(vec![0x80]));
        assert!(!ledger.records[0].cdcvm);

        // Locked, above the limit: 6986 "see phone", no key spent.
        let before = ledger.remaining("c").unwrap();
        let r = quick_tap(&mut engine, &mut ledger, &p.aid, 5_001, false);
        assert_eq!(r, vec![0x69, 0x86], "{cvn:?}");
        // Locked, below the limit but the reader requires a CVM: same.
        let r = quick_tap(&mut engine, &mut ledger, &p.aid, 100, true);
        assert_eq!(r, vec![0x69, 0x86], "{cvn:?}");
        assert_eq!(ledger.remaining("c").unwrap(), before);

        // Unlocked: above the limit goes through and the covered IAD says CDCVM performed.
        engine.unlock_for_payment(t0() + Duration::from_secs(30));
        let r = quick_tap(&mut engine, &mut ledger, &p.aid, 100_000, true);
        assert_eq!(sw(&r), 0x9000);
        let cdcvm = Verification {
            cdcvm_performed: true,
            arqc_returned: true,
        };
        assert_eq!(find(&r, 0x9F10), Some(cvn.iad(p.dki, cdcvm)), "{cvn:?}");
        assert_ne!(
            cvn.iad(p.dki, cdcvm),
            cvn.iad(p.dki, no_cvm),
            "{cvn:?}: CDCVM must change the covered IAD"
        );
        assert_eq!(find(&r, 0x9F6C), Some(vec![0x00, 0x80]));
        assert!(ledger.records.last().unwrap().cdcvm);
        // Below the limit inside the window: still CDCVM performed.
        let r = quick_tap(&mut engine, &mut ledger, &p.aid, 100, false);
        assert_eq!(find(&r, 0x9F10), Some(cvn.iad(p.dki, cdcvm)));

        // The window closes at `until` …
        let late = t0() + Duration::from_secs(30);
        assert!(!engine.is_unlocked(late));
        engine.deactivate();
        engine.process(&select(&p.aid), &mut ledger, late);
        assert_eq!(
            engine.process(&gpo(&pdol_data(100_000, ttq(true), UN)), &mut ledger, late),
            vec![0x69, 0x86]
        );
        // … and lock() closes it at once.
        engine.unlock_for_payment(t0() + Duration::from_secs(30));
        engine.lock();
        assert_eq!(
            quick_tap(&mut engine, &mut ledger, &p.aid, 100_000, true),
            vec![0x69, 0x86]
        );
    }
}

#[test]
fn mchip_asks_for_a_second_tap_outside_the_window() {
    for cvn in [Cvn::Mastercard20, Cvn::Mastercard21] {
        let p = profile("m", Scheme::Mastercard, cvn);
        let mut ledger = ledger_for(&[(&p, 10)]);
        let mut engine = Engine::new(vec![p.clone()]).unwrap();

        let r = mchip_tap(&mut engine, &mut ledger, 2_000);
        assert_eq!(sw(&r), 0x9000);
        assert_eq!(find(&r, 0x9F27), Some(vec![0x80]));
        assert_eq!(find(&r, 0xDF4B), Some(vec![0x00, 0x00, 0x00]));
        let no_cvm = Verification {
            cdcvm_performed: false,
            arqc_returned: true,
        };
        assert_eq!(find(&r, 0x9F10), Some(cvn.iad(p.dki, no_cvm)));

        // Above the limit, locked: AAC + POSCII "OD-CVM required" (kernel 2 shows SEE PHONE).
        let r = mchip_tap(&mut engine, &mut ledger, 9_999);
        assert_eq!(sw(&r), 0x9000);
        assert_eq!(find(&r, 0x9F27), Some(vec![0x00]));
        assert_eq!(find(&r, 0xDF4B), Some(vec![0x00, 0x01, 0x00]));

        // Second tap after the cardholder unlocked: ARQC, CDCVM in the covered IAD.
        engine.unlock_for_payment(t0() + Duration::from_secs(60));
        let r = mchip_tap(&mut engine, &mut ledger, 9_999);
        assert_eq!(find(&r, 0x9F27), Some(vec![0x80]));
        assert_eq!(find(&r, 0xDF4B), Some(vec![0x00, 0x10, 0x00]));
        let cdcvm = Verification {
            cdcvm_performed: true,
            arqc_returned: true,
        };
        assert_eq!(find(&r, 0x9F10), Some(cvn.iad(p.dki, cdcvm)));
        assert!(ledger.records.last().unwrap().cdcvm);
        assert_eq!(ledger.records.len(), 3);
    }
}

#[test]
fn deactivate_ends_the_session() {
    let p = profile("v", Scheme::Visa, Cvn::Visa22);
    let mut ledger = ledger_for(&[(&p, 3)]);
    let mut engine = Engine::new(vec![p.clone()]).unwrap();
    assert_eq!(
        sw(&engine.process(&select(&p.aid), &mut ledger, t0())),
        0x9000
    );
    engine.deactivate();
    assert_eq!(
        engine.process(&gpo(&pdol_data(100, ttq(false), UN)), &mut ledger, t0()),
        vec![0x69, 0x85]
    );
    assert_eq!(
        sw(&quick_tap(&mut engine, &mut ledger, &p.aid, 100, false)),
        0x9000
    );
    assert_eq!(
        sw(&engine.process(&read_record(1, 1), &mut ledger, t0())),
        0x9000
    );
    engine.deactivate();
    assert_eq!(
        engine.process(&read_record(1, 1), &mut ledger, t0()),
        vec![0x69, 0x85]
    );
    assert_eq!(
        engine.process(&[0x80, 0xCA, 0x9F, 0x36, 0x00], &mut ledger, t0()),
        vec![0x69, 0x85]
    );
    assert_eq!(ledger.remaining("v").unwrap(), 2);
}

#[test]
fn a_second_gpo_in_one_selection_is_refused() {
    let p = profile("u", Scheme::UnionPay, Cvn::UnionPay01);
    let mut ledger = ledger_for(&[(&p, 3)]);
    let mut engine = Engine::new(vec![p.clone()]).unwrap();
    assert_eq!(
        sw(&quick_tap(&mut engine, &mut ledger, &p.aid, 100, false)),
        0x9000
    );
    assert_eq!(
        engine.process(&gpo(&pdol_data(100, ttq(false), UN)), &mut ledger, t0()),
        vec![0x69, 0x85]
    );
    assert_eq!(ledger.remaining("u").unwrap(), 2);
}

#[test]
fn keys_are_spent_once_in_atc_order_across_many_taps() {
    let cards = [
        profile("u", Scheme::UnionPay, Cvn::UnionPay01),
        profile("v", Scheme::Visa, Cvn::Visa22),
        profile("m", Scheme::Mastercard, Cvn::Mastercard21),
    ];
    for p in &cards {
        let n = 40;
        let mut ledger = ledger_for(&[(p, n)]);
        let mut engine = Engine::new(vec![p.clone()]).unwrap();
        let mut atcs = Vec::new();
        let mut cryptograms = HashSet::new();
        for i in 0..n {
            let r = if p.scheme == Scheme::Mastercard {
                mchip_tap(&mut engine, &mut ledger, 100 + u64::from(i))
            } else {
                quick_tap(&mut engine, &mut ledger, &p.aid, 100 + u64::from(i), false)
            };
            assert_eq!(sw(&r), 0x9000);
            let atc = u16::from_be_bytes(find(&r, 0x9F36).unwrap().try_into().unwrap());
            atcs.push(atc);
            assert!(cryptograms.insert(find(&r, 0x9F26).unwrap()));
            // GET DATA reports the ATC just spent.
            let g = engine.process(&[0x80, 0xCA, 0x9F, 0x36, 0x00], &mut ledger, t0());
            assert_eq!(
                g,
                [&[0x9F, 0x36, 0x02][..], &atc.to_be_bytes(), &[0x90, 0x00]].concat()
            );
        }
        assert_eq!(atcs, (1..=n).collect::<Vec<_>>(), "{:?}", p.scheme);
        assert_eq!(ledger.records.len(), usize::from(n));
        assert_eq!(ledger.remaining(&p.id).unwrap(), 0);
        // The record carries what the terminal sent and the hash of what left the card.
        let last = ledger.records.last().unwrap();
        assert_eq!(last.amount_minor, Some(100 + u64::from(n - 1)));
        assert_eq!((last.currency, last.country), (Some(156), Some(156)));
        assert_eq!(last.unpredictable_number, UN);

        // Exhausted: a status word and no cryptogram.
        let r = if p.scheme == Scheme::Mastercard {
            mchip_tap(&mut engine, &mut ledger, 100)
        } else {
            quick_tap(&mut engine, &mut ledger, &p.aid, 100, false)
        };
        assert_eq!(r, vec![0x69, 0x85], "{:?}", p.scheme);
        assert_eq!(ledger.records.len(), usize::from(n));
    }
}

#[test]
fn the_cryptogram_hash_in_the_record_matches_the_response() {
    let p = profile("v", Scheme::Visa, Cvn::Visa18);
    let mut ledger = ledger_for(&[(&p, 1)]);
    let mut engine = Engine::new(vec![p.clone()]).unwrap();
    let r = quick_tap(&mut engine, &mut ledger, &p.aid, 1234, false);
    let ac = find(&r, 0x9F26).unwrap();
    let digest = ring::digest::digest(&ring::digest::SHA256, &ac);
    assert_eq!(
        ledger.records[0].cryptogram_sha256.as_slice(),
        digest.as_ref()
    );
}

/// A ledger whose commit fails after `seal` ran: the computed cryptogram must not leave.
struct FailingLedger {
    inner: MemoryLedger,
    sealed: Vec<[u8; 32]>,
}

impl KeyLedger for FailingLedger {
    fn consume_next(
        &mut self,
        card_id: &str,
        seal: &mut dyn FnMut(u16, &Key16) -> TxnDraft,
    ) -> Result<u16, LedgerError> {
        let mut record = None;
        self.inner.consume_next(card_id, &mut |atc, key| {
            let d = seal(atc, key);
            record = Some(d.cryptogram_sha256);
            d
        })?;
        self.sealed.extend(record);
        Err(LedgerError::Storage("disk full".into()))
    }
    fn remaining(&self, card_id: &str) -> Result<usize, LedgerError> {
        self.inner.remaining(card_id)
    }
}

#[test]
fn a_failed_commit_releases_no_cryptogram() {
    let p = profile("v", Scheme::Visa, Cvn::Visa22);
    let mut ledger = FailingLedger {
        inner: ledger_for(&[(&p, 2)]),
        sealed: Vec::new(),
    };
    let mut engine = Engine::new(vec![p.clone()]).unwrap();
    engine.process(&select(&p.aid), &mut ledger, t0());
    let r = engine.process(&gpo(&pdol_data(100, ttq(false), UN)), &mut ledger, t0());
    assert_eq!(r, vec![0x6F, 0x00]);
    assert_eq!(
        ledger.sealed.len(),
        1,
        "the cryptogram was computed inside seal"
    );
    // Nothing to read, nothing to GET DATA: the session did not advance.
    assert_eq!(
        engine.process(&read_record(1, 1), &mut ledger, t0()),
        vec![0x69, 0x85]
    );
}

#[test]
fn unknown_or_inactive_cards_answer_6985() {
    let p = profile("v", Scheme::Visa, Cvn::Visa22);
    let mut ledger = MemoryLedger::new(); // the ledger has never heard of the card
    let mut engine = Engine::new(vec![p.clone()]).unwrap();
    assert_eq!(
        quick_tap(&mut engine, &mut ledger, &p.aid, 100, false),
        vec![0x69, 0x85]
    );
}

#[test]
fn invalid_profiles_are_refused_and_the_old_cards_stay() {
    let good = profile("v", Scheme::Visa, Cvn::Visa22);
    let mut engine = Engine::new(vec![good.clone()]).unwrap();
    for (field, bad) in [
        ("pan", {
            let mut p = good.clone();
            p.token_pan = "41111".into();
            p
        }),
        ("pan digits", {
            let mut p = good.clone();
            p.token_pan = "4111x11111111111".into();
            p
        }),
        ("expiry", {
            let mut p = good.clone();
            p.expiry = "3013".into();
            p
        }),
        ("aid", {
            let mut p = good.clone();
            p.aid = vec![0xA0];
            p
        }),
        ("country", {
            let mut p = good.clone();
            p.issuer_country = 1000;
            p
        }),
    ] {
        assert!(engine.set_cards(vec![bad]).is_err(), "{field}");
    }
    assert_eq!(
        engine.cards().map(|c| c.id.clone()).collect::<Vec<_>>(),
        vec!["v".to_owned()]
    );
    assert!(Engine::new(Vec::new()).is_ok());
    let mut empty = Engine::new(Vec::new()).unwrap();
    assert_eq!(
        empty.process(&select_ppse(), &mut MemoryLedger::new(), t0()),
        vec![0x6A, 0x82]
    );
}
