//! A hostile reader driving a live card: sequences of APDUs (and field resets, CDCVM unlocks,
//! the clock moving on) against an engine with one card per scheme and a MemoryLedger.
//!
//! Must hold after every command: no panic; an error is exactly two bytes with a status word
//! from the set the engine documents; a key is spent exactly when a well-formed GPO or
//! GENERATE AC answers 9000 with a cryptogram, and then the response's ATC is the ledger's, its
//! cryptogram is the one recorded, the ATC was never seen before, and an ARQC above the CVM
//! limit carries CDCVM.
//!
//! Input: the first byte picks the cryptogram versions (bit 0: Visa CVN 18 instead of '22',
//! bit 1: Mastercard CVN 20 instead of 21). Then a sequence of steps, each a kind byte:
//! `0` + 2-byte length + APDU (extended lengths), `1` field off, `2` unlock for 30 s, `3` lock,
//! `4` one minute passes, and any other value `n`: an APDU of `n` bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;
use std::time::{Duration, SystemTime};
use wallet_core::card::{
    AID_MASTERCARD, AID_UNIONPAY_DEBIT, AID_VISA, CardProfile, Scheme, SessionKey,
};
use wallet_core::emv::apdu::{StatusWord, split_response};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::emv::tlv::{self, Tag};
use wallet_core::hce::Engine;
use wallet_core::ledger::{KeyLedger, MemoryLedger};

const KEYS_PER_CARD: u16 = 6;
const CVM_LIMIT: u64 = 5_000;

/// Every status word the engine may answer (see DESIGN.md "Bad input" and hce/engine.rs); 6Cxx
/// (wrong Le, exact length in SW2) is checked separately. 6F00 is not here: with a memory
/// ledger, nothing can fail inside.
const ALLOWED: [StatusWord; 10] = [
    StatusWord::WRONG_LENGTH,
    StatusWord::CONDITIONS_NOT_SATISFIED,
    StatusWord(0x6986), // "See Phone": CDCVM needed
    StatusWord::WRONG_DATA,
    StatusWord::FILE_NOT_FOUND,
    StatusWord::RECORD_NOT_FOUND,
    StatusWord::INCORRECT_P1P2,
    StatusWord::REFERENCED_DATA_NOT_FOUND,
    StatusWord::INS_NOT_SUPPORTED,
    StatusWord::CLA_NOT_SUPPORTED,
];

fn profile(id: &str, scheme: Scheme, cvn: Cvn) -> CardProfile {
    let (aid, pan) = match scheme {
        Scheme::UnionPay => (AID_UNIONPAY_DEBIT.to_vec(), "6212345678901234560"),
        Scheme::Visa => (AID_VISA.to_vec(), "4761739001010010"),
        Scheme::Mastercard => (AID_MASTERCARD.to_vec(), "5413330089010012"),
    };
    CardProfile {
        id: id.to_owned(),
        scheme,
        aid,
        label: format!("{} fuzz", scheme.name()),
        token_pan: pan.to_owned(),
        expiry: "3012".to_owned(),
        psn: 1,
        cvn,
        dki: 1,
        cvm_limit_minor: CVM_LIMIT,
        issuer_country: 156,
    }
}

/// Keys are arbitrary bytes: this target checks the bookkeeping, the cryptograms are checked
/// against pyemv in core/tests.
fn keys(card: u8) -> Vec<SessionKey> {
    (1..=KEYS_PER_CARD)
        .map(|atc| SessionKey {
            atc,
            key: Key16::from_bytes([card ^ atc as u8; 16]),
        })
        .collect()
}

fn remaining(ledger: &MemoryLedger) -> usize {
    ["u", "v", "m"]
        .iter()
        .map(|id| ledger.remaining(id).unwrap_or(0))
        .sum()
}

fuzz_target!(|data: &[u8]| {
    let Some((&variant, mut rest)) = data.split_first() else {
        return;
    };
    let visa = if variant & 1 == 0 {
        Cvn::Visa22
    } else {
        Cvn::Visa18
    };
    let mastercard = if variant & 2 == 0 {
        Cvn::Mastercard21
    } else {
        Cvn::Mastercard20
    };
    let cards = vec![
        profile("u", Scheme::UnionPay, Cvn::UnionPay01),
        profile("v", Scheme::Visa, visa),
        profile("m", Scheme::Mastercard, mastercard),
    ];
    let mut engine = Engine::new(cards).expect("test profiles are valid");
    let mut ledger = MemoryLedger::new();
    for (i, id) in ["u", "v", "m"].into_iter().enumerate() {
        ledger.add_keys(id, keys(i as u8));
    }
    let mut now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let mut atcs = HashSet::new();

    while let Some((&kind, tail)) = rest.split_first() {
        rest = tail;
        let len = match kind {
            0 => {
                let Some((hi_lo, tail)) = rest.split_first_chunk::<2>() else {
                    return;
                };
                rest = tail;
                usize::from(u16::from_be_bytes(*hi_lo))
            }
            1 => {
                engine.deactivate();
                continue;
            }
            2 => {
                engine.unlock_for_payment(now + Duration::from_secs(30));
                continue;
            }
            3 => {
                engine.lock();
                continue;
            }
            4 => {
                now += Duration::from_secs(60);
                continue;
            }
            n => usize::from(n),
        };
        let (apdu, tail) = rest.split_at(len.min(rest.len()));
        rest = tail;

        let before = remaining(&ledger);
        let records = ledger.records.len();
        let unlocked = engine.is_unlocked(now);
        let response = engine.process(apdu, &mut ledger, now);

        let (body, sw) = split_response(&response).expect("at least a status word");
        if sw != StatusWord::OK {
            assert!(body.is_empty(), "an error carries no data: {response:02X?}");
            assert!(
                ALLOWED.contains(&sw) || sw.sw1() == 0x6C,
                "status word {sw} not in the allowed set"
            );
        }
        let spent = before - remaining(&ledger);
        let cryptogram = (sw == StatusWord::OK)
            .then(|| tlv::find(body, Tag(0x9F26)).ok().flatten())
            .flatten();
        let ins = apdu.get(..2);
        let spends = ins == Some(&[0x80, 0xA8]) || ins == Some(&[0x80, 0xAE]);
        assert_eq!(
            spent,
            usize::from(cryptogram.is_some() && spends),
            "keys spent vs cryptogram out; command {:02X?} -> {response:02X?}",
            apdu.get(..5)
        );
        assert_eq!(ledger.records.len() - records, spent, "one record per key");
        if let (Some(ac), Some(record)) = (cryptogram, ledger.records.last().filter(|_| spent == 1))
        {
            let atc = tlv::find(body, Tag(0x9F36)).ok().flatten();
            assert_eq!(
                atc,
                Some(&record.atc.to_be_bytes()[..]),
                "the ATC sent is the one spent"
            );
            assert!(
                atcs.insert((record.card_id.clone(), record.atc)),
                "ATC used twice"
            );
            let digest = ring::digest::digest(&ring::digest::SHA256, ac);
            assert_eq!(
                digest.as_ref(),
                record.cryptogram_sha256,
                "the record names the cryptogram sent"
            );
            assert!(
                !record.cdcvm || unlocked,
                "CDCVM claimed outside the unlock window"
            );
            let cid = tlv::find(body, Tag(0x9F27)).ok().flatten();
            // GPO (qVSDC/qPBOC) answers carry no 9F27 AAC path: an ARQC is all they return.
            let arqc = cid.is_none_or(|c| c == [0x80]);
            if arqc && record.amount_minor.is_some_and(|a| a > CVM_LIMIT) {
                assert!(record.cdcvm, "an ARQC above the CVM limit without CDCVM");
            }
        }
        // GET DATA ATC answers an ATC this session's cards have really spent.
        if apdu.get(..4) == Some(&[0x80, 0xCA, 0x9F, 0x36]) && sw == StatusWord::OK {
            let atc = tlv::find(body, Tag(0x9F36))
                .ok()
                .flatten()
                .expect("9F36 in GET DATA");
            assert!(
                atcs.iter().any(|(_, a)| a.to_be_bytes() == atc),
                "GET DATA invents an ATC"
            );
        }
    }
});
