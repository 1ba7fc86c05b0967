//! A tap on the card side, PPSE to cryptogram, per scheme:
//! - `tap/<scheme>`: compute only, keys in memory (MemoryLedger). Target ≤ 100 µs median.
//! - `tap_durable/<scheme>`: the same with the SQLite store as the ledger, so the key and the
//!   history record are committed (synchronous=FULL) before the answer. Target ≤ 5 ms median.
//!
//! - `wallet_tap/<scheme>`: the whole `Wallet::process_apdu` path the HCE service calls
//!   (facade lock, engine, SQLite ledger, events), with a realistic pool of 20 keys per card.
//!
//! `cargo bench -p wallet-core --bench tap -- --warm-up-time 1 --measurement-time 3`

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::Instant;
use std::time::{Duration, SystemTime};
use wallet_core::card::Personalisation;
use wallet_core::card::{
    AID_MASTERCARD, AID_UNIONPAY_DEBIT, AID_VISA, CardProfile, PPSE, Scheme, SessionKey,
};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::ledger::MemoryLedger;
use wallet_core::store::{SoftwareKeyWrapper, Store};

const TEST_IMK: &str = "0123456789ABCDEFFEDCBA9876543210";

fn profile(scheme: Scheme, cvn: Cvn, aid: &[u8], pan: &str) -> CardProfile {
    CardProfile {
        id: scheme.name().to_owned(),
        scheme,
        aid: aid.to_vec(),
        label: scheme.name().to_owned(),
        token_pan: pan.to_owned(),
        expiry: "3012".to_owned(),
        psn: 1,
        cvn,
        dki: 1,
        cvm_limit_minor: 5_000,
        issuer_country: 156,
    }
}

fn apdu(header: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut c = header.to_vec();
    c.push(data.len() as u8);
    c.extend_from_slice(data);
    c.push(0x00);
    c
}

/// The commands one reader sends, in order.
fn script(p: &CardProfile) -> Vec<Vec<u8>> {
    let covered: Vec<u8> = [
        &[0, 0, 0, 0, 0x12, 0x34][..], // amount
        &[0; 6],                       // other
        &[0x01, 0x56],                 // country
        &[0; 5],                       // TVR
        &[0x01, 0x56],                 // currency
        &[0x25, 0x01, 0x01],           // date
        &[0x00],                       // type
        &[0xDE, 0xAD, 0xBE, 0xEF],     // UN
    ]
    .concat();
    let mut s = vec![
        apdu([0x00, 0xA4, 0x04, 0x00], PPSE),
        apdu([0x00, 0xA4, 0x04, 0x00], &p.aid),
    ];
    if p.scheme == Scheme::Mastercard {
        s.push(apdu([0x80, 0xA8, 0x00, 0x00], &[0x83, 0x00]));
        s.push(vec![0x00, 0xB2, 0x01, 0x0C, 0x00]);
        s.push(vec![0x00, 0xB2, 0x01, 0x14, 0x00]);
        let cdol1 = [covered.as_slice(), &[0x22, 0x3F, 0x00, 0x00]].concat();
        s.push(apdu([0x80, 0xAE, 0x80, 0x00], &cdol1));
    } else {
        let pdol = [&[0x36, 0x80, 0x40, 0x00][..], &covered].concat();
        let template = [&[0x83, pdol.len() as u8][..], &pdol].concat();
        s.push(apdu([0x80, 0xA8, 0x00, 0x00], &template));
        s.push(vec![0x00, 0xB2, 0x01, 0x0C, 0x00]);
    }
    s
}

fn bench_taps(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let imk = Key16::from_hex(TEST_IMK).expect("test key");
    let cards = [
        profile(
            Scheme::UnionPay,
            Cvn::UnionPay01,
            &AID_UNIONPAY_DEBIT,
            "6212345678901234569",
        ),
        profile(Scheme::Visa, Cvn::Visa22, &AID_VISA, "4761739001010010"),
        profile(
            Scheme::Mastercard,
            Cvn::Mastercard20,
            &AID_MASTERCARD,
            "5413330089010012",
        ),
    ];
    for p in cards {
        let mk = p.cvn.icc_master_key(&imk, &p.token_pan, p.psn);
        let key = p.cvn.session_key(&mk, 1, [0; 4]);
        let commands = script(&p);
        let mut engine = Engine::new(vec![p.clone()]).expect("profile");
        c.bench_function(&format!("tap/{}", p.scheme.name()), |b| {
            b.iter_batched(
                // One fresh key per tap, set up outside the measurement.
                || {
                    let mut ledger = MemoryLedger::new();
                    ledger.add_keys(
                        &p.id,
                        vec![SessionKey {
                            atc: 1,
                            key: key.duplicate(),
                        }],
                    );
                    ledger
                },
                |mut ledger| {
                    engine.deactivate();
                    let mut last = Vec::new();
                    for cmd in &commands {
                        last = engine.process(black_box(cmd), &mut ledger, now);
                    }
                    assert!(
                        ledger.records.len() == 1 && last.ends_with(&[0x90, 0x00]),
                        "tap failed"
                    );
                    last
                },
                BatchSize::SmallInput,
            )
        });
    }
}

fn bench_durable_taps(c: &mut Criterion) {
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_735_689_600);
    let imk = Key16::from_hex(TEST_IMK).expect("test key");
    let cards = [
        profile(
            Scheme::UnionPay,
            Cvn::UnionPay01,
            &AID_UNIONPAY_DEBIT,
            "6212345678901234569",
        ),
        profile(Scheme::Visa, Cvn::Visa22, &AID_VISA, "4761739001010010"),
        profile(
            Scheme::Mastercard,
            Cvn::Mastercard20,
            &AID_MASTERCARD,
            "5413330089010012",
        ),
    ];
    let home = tempfile::tempdir().expect("temp dir");
    let wrapper = Arc::new(SoftwareKeyWrapper::in_dir(home.path()).expect("key wrapper"));
    let mut store = Store::open(home.path(), wrapper).expect("store");
    for p in cards {
        let mk = p.cvn.icc_master_key(&imk, &p.token_pan, p.psn);
        let mut next_atc = 1u16;
        let key_for = |atc: u16| SessionKey {
            atc,
            key: p.cvn.session_key(&mk, atc, [0; 4]),
        };
        store
            .install_card(Personalisation {
                profile: p.clone(),
                keys: vec![key_for(next_atc)],
            })
            .expect("install");
        let commands = script(&p);
        let mut engine = Engine::new(vec![p.clone()]).expect("profile");
        c.bench_function(&format!("tap_durable/{}", p.scheme.name()), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // Top the card up with this tap's key outside the measurement.
                    if store.remaining_keys(&p.id).expect("remaining") == 0 {
                        next_atc = next_atc.checked_add(1).expect("ATC space");
                        store
                            .add_keys(&p.id, vec![key_for(next_atc)])
                            .expect("replenish");
                    }
                    engine.deactivate();
                    let start = Instant::now();
                    let mut last = Vec::new();
                    for cmd in &commands {
                        last = engine.process(black_box(cmd), &mut store, now);
                    }
                    total += start.elapsed();
                    assert!(last.ends_with(&[0x90, 0x00]), "tap failed: {last:02X?}");
                }
                total
            })
        });
    }
}

fn bench_wallet_taps(c: &mut Criterion) {
    use wallet_core::wallet::{Wallet, WalletConfig};

    let imk = Key16::from_hex(TEST_IMK).expect("test key");
    let mut group = c.benchmark_group("wallet_tap");
    group.sample_size(30);
    for p in [
        profile(Scheme::Visa, Cvn::Visa22, &AID_VISA, "4761739001010010"),
        profile(
            Scheme::Mastercard,
            Cvn::Mastercard20,
            &AID_MASTERCARD,
            "5413330089010012",
        ),
    ] {
        let dir = tempfile::tempdir().expect("temp dir");
        let wrapper = SoftwareKeyWrapper::in_dir(dir.path()).expect("wrapper");
        let wallet = Wallet::open(WalletConfig::new(dir.path()), Arc::new(wrapper)).expect("open");
        let mk = p.cvn.icc_master_key(&imk, &p.token_pan, p.psn);
        let key_for = |atc: u16| SessionKey {
            atc,
            key: p.cvn.session_key(&mk, atc, [0; 4]),
        };
        const POOL: u16 = 20;
        wallet
            .install_card(Personalisation {
                profile: p.clone(),
                keys: (1..=POOL).map(key_for).collect(),
            })
            .expect("install");
        let mut next_atc = POOL + 1;
        let commands = script(&p);
        group.bench_function(p.scheme.name(), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    // Replenish outside the measurement, as sync does between payments.
                    if wallet.card(&p.id).expect("card").keys_left < u32::from(POOL) / 2 {
                        let keys = (next_atc..next_atc + POOL / 2).map(key_for).collect();
                        next_atc += POOL / 2;
                        wallet.add_keys(&p.id, keys).expect("replenish");
                    }
                    wallet.deactivate();
                    let start = Instant::now();
                    let mut last = Vec::new();
                    for cmd in &commands {
                        last = wallet.process_apdu(black_box(cmd));
                    }
                    total += start.elapsed();
                    assert!(last.ends_with(&[0x90, 0x00]), "tap failed: {last:02X?}");
                }
                total
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_taps, bench_durable_taps, bench_wallet_taps);
criterion_main!(benches);
