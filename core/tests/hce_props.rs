//! Property tests: whatever a reader sends, the card does not panic, and a key is spent
//! exactly when a cryptogram leaves the card.

mod hce_support;

use hce_support::*;
use proptest::prelude::*;
use std::time::Duration;
use wallet_core::card::{AID_MASTERCARD, AID_UNIONPAY_DEBIT, AID_VISA, Scheme};
use wallet_core::emv::cvn::Cvn;
use wallet_core::emv::tlv::{self, Tag};
use wallet_core::hce::Engine;
use wallet_core::ledger::{KeyLedger, MemoryLedger};

fn cards() -> Vec<wallet_core::card::CardProfile> {
    vec![
        profile("u", Scheme::UnionPay, Cvn::UnionPay01),
        profile("v", Scheme::Visa, Cvn::Visa22),
        profile("m", Scheme::Mastercard, Cvn::Mastercard21),
    ]
}

fn keys_left(ledger: &MemoryLedger) -> usize {
    ["u", "v", "m"]
        .iter()
        .map(|id| ledger.remaining(id).unwrap_or(0))
        .sum()
}

/// One thing a reader (or the field) can do.
#[derive(Debug, Clone)]
enum Op {
    Raw(Vec<u8>),
    SelectPpse,
    Select(Vec<u8>),
    Gpo(Vec<u8>),
    WellFormedGpo {
        amount: u64,
        ttq: [u8; 4],
        un: [u8; 4],
    },
    ReadRecord(u8, u8),
    GenerateAc(u8, Vec<u8>),
    WellFormedGenerateAc {
        p1: u8,
        amount: u64,
    },
    GetData(u8, u8),
    Deactivate,
    Unlock,
    Lock,
}

fn op() -> impl Strategy<Value = Op> {
    let aid = prop_oneof![
        Just(AID_VISA.to_vec()),
        Just(AID_MASTERCARD.to_vec()),
        Just(AID_UNIONPAY_DEBIT.to_vec()),
        proptest::collection::vec(any::<u8>(), 0..20),
    ];
    // Valid commands are weighted up so that whole taps (and cryptograms) happen often.
    let reader_ttq = prop_oneof![Just(ttq(false)), Just(ttq(true)), any::<[u8; 4]>()];
    prop_oneof![
        2 => proptest::collection::vec(any::<u8>(), 0..300).prop_map(Op::Raw),
        2 => Just(Op::SelectPpse),
        4 => aid.prop_map(Op::Select),
        1 => proptest::collection::vec(any::<u8>(), 0..60).prop_map(Op::Gpo),
        4 => (0u64..10_000, reader_ttq, any::<[u8; 4]>())
            .prop_map(|(amount, ttq, un)| Op::WellFormedGpo { amount, ttq, un }),
        2 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::ReadRecord(a, b)),
        1 => (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..50)).prop_map(|(p1, d)| Op::GenerateAc(p1, d)),
        3 => (prop_oneof![Just(0x80u8), Just(0x40), Just(0x00), any::<u8>()], 0u64..10_000)
            .prop_map(|(p1, amount)| Op::WellFormedGenerateAc { p1, amount }),
        1 => (any::<u8>(), any::<u8>()).prop_map(|(a, b)| Op::GetData(a, b)),
        1 => Just(Op::Deactivate),
        1 => Just(Op::Unlock),
        1 => Just(Op::Lock),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_and_never_spend_a_key(apdus in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 1..30)) {
        let mut ledger = ledger_for(&cards().iter().map(|c| (c, 5)).collect::<Vec<_>>());
        let mut engine = Engine::new(cards()).unwrap();
        for apdu in apdus {
            let r = engine.process(&apdu, &mut ledger, t0());
            prop_assert!(r.len() >= 2);
        }
        prop_assert_eq!(keys_left(&ledger), 15);
        prop_assert!(ledger.records.is_empty());
    }

    #[test]
    fn a_key_is_spent_exactly_when_a_cryptogram_leaves(ops in proptest::collection::vec(op(), 1..40)) {
        let mut ledger = ledger_for(&cards().iter().map(|c| (c, 20)).collect::<Vec<_>>());
        let mut engine = Engine::new(cards()).unwrap();
        let mut seen_atcs = std::collections::HashSet::new();
        for op in ops {
            let before = keys_left(&ledger);
            let apdu = match op {
                Op::Raw(b) => b,
                Op::SelectPpse => select_ppse(),
                Op::Select(aid) => select(&aid),
                Op::Gpo(d) => gpo(&d),
                Op::WellFormedGpo { amount, ttq: t, un } => gpo(&pdol_data(amount, t, un)),
                Op::ReadRecord(p1, p2) => vec![0x00, 0xB2, p1, p2, 0x00],
                Op::GenerateAc(p1, d) => generate_ac(p1, &d),
                Op::WellFormedGenerateAc { p1, amount } => generate_ac(p1, &cdol1_data(amount, [9; 4])),
                Op::GetData(p1, p2) => vec![0x80, 0xCA, p1, p2, 0x00],
                Op::Deactivate => { engine.deactivate(); continue; }
                Op::Unlock => { engine.unlock_for_payment(t0() + Duration::from_secs(30)); continue; }
                Op::Lock => { engine.lock(); continue; }
            };
            let r = engine.process(&apdu, &mut ledger, t0());
            prop_assert!(r.len() >= 2);
            let ok = r.ends_with(&[0x90, 0x00]);
            let cryptogram = ok && tlv::find(&r[..r.len() - 2], Tag(0x9F26)).ok().flatten().is_some();
            let spent = before - keys_left(&ledger);
            prop_assert_eq!(spent, usize::from(cryptogram), "response {:02X?}", r);
            if cryptogram {
                let atc = tlv::find(&r[..r.len() - 2], Tag(0x9F36)).ok().flatten().map(<[u8]>::to_vec);
                let id = ledger.records.last().map(|d| (d.card_id.clone(), d.atc));
                prop_assert!(atc.is_some());
                prop_assert!(seen_atcs.insert(id), "an ATC was used twice");
            } else if !ok {
                prop_assert_eq!(r.len(), 2, "an error carries no data");
            }
        }
    }
}
