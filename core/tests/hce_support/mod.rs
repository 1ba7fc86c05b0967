//! Shared by the `hce_*` tests: cards personalised from the EMV test issuer key, and the
//! commands a reader sends, built by hand so each test shows its bytes.

#![allow(dead_code)]

use std::time::{Duration, SystemTime};
use wallet_core::card::{
    AID_MASTERCARD, AID_UNIONPAY_CREDIT, AID_UNIONPAY_DEBIT, AID_VISA, CardProfile, PPSE, Scheme,
    SessionKey,
};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::emv::tlv::{self, Tag};
use wallet_core::ledger::MemoryLedger;

pub const TEST_IMK: &str = "0123456789ABCDEFFEDCBA9876543210";

/// A fixed clock: 2025-01-01T00:00:00Z.
pub fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600)
}

pub fn profile(id: &str, scheme: Scheme, cvn: Cvn) -> CardProfile {
    let (aid, pan) = match scheme {
        Scheme::UnionPay => (AID_UNIONPAY_DEBIT.to_vec(), "6212345678901234560"),
        Scheme::Visa => (AID_VISA.to_vec(), "4761739001010010"),
        Scheme::Mastercard => (AID_MASTERCARD.to_vec(), "5413330089010012"),
    };
    CardProfile {
        id: id.to_owned(),
        scheme,
        aid,
        label: format!("{} test", scheme.name()),
        token_pan: pan.to_owned(),
        expiry: "3012".to_owned(),
        psn: 1,
        cvn,
        dki: 1,
        cvm_limit_minor: 5_000,
        issuer_country: 156,
    }
}

pub fn unionpay_credit(id: &str) -> CardProfile {
    let mut p = profile(id, Scheme::UnionPay, Cvn::UnionPay01);
    p.aid = AID_UNIONPAY_CREDIT.to_vec();
    p.token_pan = "6212345678901234578".to_owned();
    p
}

/// Session keys for ATCs `first..first+n`, derived from the test issuer key.
pub fn keys(p: &CardProfile, first: u16, n: u16) -> Vec<SessionKey> {
    let imk = Key16::from_hex(TEST_IMK).expect("test key");
    let mk = p.cvn.icc_master_key(&imk, &p.token_pan, p.psn);
    (first..first + n)
        .map(|atc| SessionKey {
            atc,
            key: p.cvn.session_key(&mk, atc, [0; 4]),
        })
        .collect()
}

pub fn ledger_for(cards: &[(&CardProfile, u16)]) -> MemoryLedger {
    let mut ledger = MemoryLedger::new();
    for (p, n) in cards {
        ledger.add_keys(&p.id, keys(p, 1, *n));
    }
    ledger
}

pub fn select(name: &[u8]) -> Vec<u8> {
    let mut c = vec![0x00, 0xA4, 0x04, 0x00, name.len() as u8];
    c.extend_from_slice(name);
    c.push(0x00);
    c
}

pub fn select_ppse() -> Vec<u8> {
    select(PPSE)
}

/// Amount n12 BCD from minor units.
pub fn n12(v: u64) -> [u8; 6] {
    let s = format!("{v:012}");
    let mut out = [0u8; 6];
    hex::decode_to_slice(s, &mut out).expect("12 digits");
    out
}

/// PDOL data for the qVSDC/qPBOC PDOL: TTQ, amount, other, country, TVR, currency, date,
/// type, UN.
pub fn pdol_data(amount: u64, ttq: [u8; 4], un: [u8; 4]) -> Vec<u8> {
    let mut d = ttq.to_vec();
    d.extend_from_slice(&n12(amount));
    d.extend_from_slice(&[0; 6]);
    d.extend_from_slice(&[0x01, 0x56]);
    d.extend_from_slice(&[0; 5]);
    d.extend_from_slice(&[0x01, 0x56]);
    d.extend_from_slice(&[0x25, 0x01, 0x01]);
    d.push(0x00);
    d.extend_from_slice(&un);
    d
}

/// TTQ of a reader doing qVSDC/qPBOC online with CDCVM support; `cvm` sets "CVM required".
pub fn ttq(cvm: bool) -> [u8; 4] {
    [0x36, 0x80 | if cvm { 0x40 } else { 0 }, 0x40, 0x00]
}

pub fn gpo(pdol_data: &[u8]) -> Vec<u8> {
    let mut c = vec![
        0x80,
        0xA8,
        0x00,
        0x00,
        (pdol_data.len() + 2) as u8,
        0x83,
        pdol_data.len() as u8,
    ];
    c.extend_from_slice(pdol_data);
    c.push(0x00);
    c
}

/// CDOL1 data for the M/Chip CDOL1: the eight covered fields, terminal type, CVM results.
pub fn cdol1_data(amount: u64, un: [u8; 4]) -> Vec<u8> {
    let mut d = n12(amount).to_vec();
    d.extend_from_slice(&[0; 6]);
    d.extend_from_slice(&[0x01, 0x56]);
    d.extend_from_slice(&[0; 5]);
    d.extend_from_slice(&[0x01, 0x56]);
    d.extend_from_slice(&[0x25, 0x01, 0x01]);
    d.push(0x00);
    d.extend_from_slice(&un);
    d.push(0x22);
    d.extend_from_slice(&[0x3F, 0x00, 0x00]);
    d
}

pub fn generate_ac(p1: u8, data: &[u8]) -> Vec<u8> {
    let mut c = vec![0x80, 0xAE, p1, 0x00, data.len() as u8];
    c.extend_from_slice(data);
    c.push(0x00);
    c
}

pub fn read_record(sfi: u8, record: u8) -> Vec<u8> {
    vec![0x00, 0xB2, record, (sfi << 3) | 0x04, 0x00]
}

pub fn sw(r: &[u8]) -> u16 {
    assert!(
        r.len() >= 2,
        "response shorter than a status word: {r:02X?}"
    );
    u16::from_be_bytes([r[r.len() - 2], r[r.len() - 1]])
}

pub fn data(r: &[u8]) -> &[u8] {
    &r[..r.len() - 2]
}

/// First object with `tag` anywhere in a response's data.
pub fn find(r: &[u8], tag: u32) -> Option<Vec<u8>> {
    tlv::find(data(r), Tag(tag))
        .ok()
        .flatten()
        .map(<[u8]>::to_vec)
}
