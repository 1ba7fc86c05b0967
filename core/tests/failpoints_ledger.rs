//! Faults between "key consumed" and "response sent", on the real SQLite ledger and the card
//! engine: a disk error or a crash before the commit, after the commit, and after the engine got
//! the committed ATC but before it built the response.
//!
//! Invariants checked after every fault, on the database as a restarted process finds it:
//! - a cryptogram leaves the card only with its key durably spent and its record written;
//! - no ATC is ever released twice (a key burnt by a crash stays burnt);
//! - keys spent = records written, `last_atc` = the highest recorded ATC;
//! - the database opens and passes `integrity_check`.

mod failpoints_support;
mod hce_support;

use failpoints_support::{arm, clean, crashes};
use hce_support::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use wallet_core::card::{CardProfile, Personalisation, Scheme};
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::history::{Filter, Status};
use wallet_core::ledger::{Channel, KeyLedger, LedgerError};
use wallet_core::qr::cpm::{PresentConfig, PresentContext, PresentError, Presenter};
use wallet_core::store::{SoftwareKeyWrapper, Store};

/// Keys a card is installed with.
const KEYS: u16 = 6;
/// Keys for the random-fault run: enough taps for every point to fire a few times.
const MANY_KEYS: u16 = 30;

fn open(home: &Path) -> Store {
    let wrapper = Arc::new(SoftwareKeyWrapper::in_dir(home).expect("key file"));
    Store::open(home, wrapper).expect("the database opens")
}

fn card(scheme: Scheme) -> CardProfile {
    match scheme {
        Scheme::UnionPay => profile("c", scheme, Cvn::UnionPay01),
        Scheme::Visa => profile("c", scheme, Cvn::Visa22),
        Scheme::Mastercard => profile("c", scheme, Cvn::Mastercard21),
    }
}

fn install(home: &Path, scheme: Scheme, n: u16) {
    let p = card(scheme);
    let keys = keys(&p, 1, n);
    open(home)
        .install_card(Personalisation { profile: p, keys })
        .expect("install");
}

/// One tap of 12.00 (below the CVM limit): the response that carries the cryptogram, or the
/// error that replaced it.
fn tap(store: &mut Store, engine: &mut Engine, scheme: Scheme) -> Vec<u8> {
    let p = card(scheme);
    engine.deactivate();
    assert_eq!(sw(&engine.process(&select_ppse(), store, t0())), 0x9000);
    assert_eq!(sw(&engine.process(&select(&p.aid), store, t0())), 0x9000);
    match scheme {
        Scheme::Visa | Scheme::UnionPay => {
            engine.process(&gpo(&pdol_data(1_200, ttq(false), [7; 4])), store, t0())
        }
        Scheme::Mastercard => {
            assert_eq!(sw(&engine.process(&gpo(&[]), store, t0())), 0x9000);
            engine.process(&generate_ac(0x80, &cdol1_data(1_200, [7; 4])), store, t0())
        }
    }
}

/// The ATC of a response that released a cryptogram.
fn released_atc(r: &[u8]) -> Option<u16> {
    if sw(r) != 0x9000 {
        return None;
    }
    find(r, 0x9F26)?;
    let atc = find(r, 0x9F36)?;
    Some(u16::from_be_bytes([atc[0], atc[1]]))
}

/// Everything a restarted process finds, checked against what left the card.
fn check_after_restart(home: &Path, installed: u16, released: &[u16]) -> BTreeSet<u16> {
    let s = open(home);
    s.integrity_check().expect("integrity_check");
    let mut atcs = Vec::new();
    let mut cursor = None;
    loop {
        let page = s.records(&Filter::default(), cursor.as_ref(), 100).unwrap();
        atcs.extend(page.records.iter().map(|r| {
            assert_eq!(r.status, Status::Pending);
            r.atc
        }));
        match page.next {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    let recorded: BTreeSet<u16> = atcs.iter().copied().collect();
    assert_eq!(
        recorded.len(),
        atcs.len(),
        "an ATC recorded twice: {atcs:?}"
    );
    let spent = usize::from(installed) - s.remaining("c").unwrap();
    assert_eq!(spent, recorded.len(), "keys spent = records written");
    let unique: BTreeSet<u16> = released.iter().copied().collect();
    assert_eq!(
        unique.len(),
        released.len(),
        "an ATC left the card twice: {released:?}"
    );
    for atc in released {
        assert!(recorded.contains(atc), "released ATC {atc} has no record");
    }
    assert_eq!(s.card("c").unwrap().last_atc, recorded.last().copied());
    recorded
}

/// Arm `point`, tap once (the fault fires), restart, check; then tap cleanly twice, "crashing"
/// (dropping everything) after each release, and check again.
fn fault_during_tap(scheme: Scheme, point: &str, action: &str, burns_key: bool) {
    let what = format!("{scheme:?} {point}={action}");
    let home = tempfile::tempdir().unwrap();
    install(home.path(), scheme, KEYS);
    let mut released = Vec::new();
    {
        let _armed = arm(point, action);
        let mut store = open(home.path());
        let mut engine = Engine::new(vec![card(scheme)]).unwrap();
        if action == "panic" {
            crashes(&what, || tap(&mut store, &mut engine, scheme));
        } else {
            let r = tap(&mut store, &mut engine, scheme);
            assert_eq!(r, [0x6F, 0x00], "{what}: an error and no cryptogram");
        }
    }
    let recorded = check_after_restart(home.path(), KEYS, &released);
    let expected: BTreeSet<u16> = if burns_key { [1].into() } else { [].into() };
    assert_eq!(recorded, expected, "{what}: which keys the fault spent");

    let _clean = clean();
    for round in 0..2 {
        let mut store = open(home.path());
        let mut engine = Engine::new(vec![card(scheme)]).unwrap();
        let r = tap(&mut store, &mut engine, scheme);
        let atc = released_atc(&r).unwrap_or_else(|| panic!("{what}: clean tap {r:02X?}"));
        assert_eq!(atc, 1 + u16::from(burns_key) + round, "{what}: next ATC");
        released.push(atc);
        drop((store, engine));
        check_after_restart(home.path(), KEYS, &released);
    }
}

const SCHEMES: [Scheme; 3] = [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard];

#[test]
fn a_disk_error_before_the_commit_releases_nothing_and_spends_nothing() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "ledger::before_commit", "return", false);
    }
}

#[test]
fn a_crash_before_the_commit_releases_nothing_and_spends_nothing() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "ledger::before_commit", "panic", false);
    }
}

#[test]
fn an_error_after_the_commit_burns_the_key_and_releases_nothing() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "ledger::after_commit", "return", true);
    }
}

#[test]
fn a_crash_after_the_commit_burns_the_key_for_good() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "ledger::after_commit", "panic", true);
    }
}

#[test]
fn an_engine_failure_after_the_commit_burns_the_key_and_answers_6f00() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "hce::before_respond", "return", true);
    }
}

#[test]
fn a_crash_between_commit_and_response_burns_the_key_for_good() {
    for scheme in SCHEMES {
        fault_during_tap(scheme, "hce::before_respond", "panic", true);
    }
}

/// Faults at random on every point of the path, tap after tap until the keys run out, with a
/// restart after every crash: whatever the mix, the invariants hold and every key is
/// accounted for as released or burnt.
#[test]
fn random_faults_on_every_tap_never_reuse_a_key() {
    for scheme in SCHEMES {
        let home = tempfile::tempdir().unwrap();
        install(home.path(), scheme, MANY_KEYS);
        let mut released = Vec::new();
        let mut faults = 0;
        for round in 0.. {
            assert!(round < 200, "keys never ran out");
            let _armed = arm("ledger::before_commit", "25%return");
            fail::cfg("ledger::after_commit", "15%panic").unwrap();
            fail::cfg("hce::before_respond", "15%return").unwrap();
            let mut store = open(home.path());
            if store.remaining("c").unwrap() == 0 {
                break;
            }
            let mut engine = Engine::new(vec![card(scheme)]).unwrap();
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                tap(&mut store, &mut engine, scheme)
            }));
            match outcome.as_deref().map(released_atc) {
                Ok(Some(atc)) => released.push(atc),
                Ok(None) => faults += 1,
                Err(_) => faults += 1,
            }
            drop((store, engine));
            check_after_restart(home.path(), MANY_KEYS, &released);
        }
        let recorded = check_after_restart(home.path(), MANY_KEYS, &released);
        assert_eq!(
            recorded.len(),
            usize::from(MANY_KEYS),
            "{scheme:?}: every key spent once"
        );
        assert!(
            released.windows(2).all(|w| w[0] < w[1]),
            "{scheme:?}: ATCs out of order {released:?}"
        );
        eprintln!("{scheme:?}: {} released, {faults} faults", released.len());
    }
}

/// The presented QR code spends keys through the same ledger.
#[test]
fn a_payment_code_is_issued_only_for_a_committed_key() {
    let home = tempfile::tempdir().unwrap();
    install(home.path(), Scheme::UnionPay, KEYS);
    let p = card(Scheme::UnionPay);
    let presenter = Presenter::new(PresentConfig::default());
    let ctx = PresentContext {
        now_unix: 1_735_689_600,
        cdcvm: false,
    };
    {
        let _armed = arm("ledger::before_commit", "return");
        let mut store = open(home.path());
        let err = presenter.issue(&mut store, &[&p], ctx).unwrap_err();
        assert!(
            matches!(err, PresentError::Ledger(LedgerError::Storage(_))),
            "{err:?}"
        );
    }
    assert!(check_after_restart(home.path(), KEYS, &[]).is_empty());
    {
        let _armed = arm("ledger::after_commit", "panic");
        let mut store = open(home.path());
        crashes("present after commit", || {
            presenter.issue(&mut store, &[&p], ctx)
        });
    }
    assert_eq!(check_after_restart(home.path(), KEYS, &[]), [1].into());
    let _clean = clean();
    let mut store = open(home.path());
    let code = presenter.issue(&mut store, &[&p], ctx).unwrap();
    assert_eq!(code.atc, 2, "the burnt key is not offered again");
    drop(store);
    check_after_restart(home.path(), KEYS, &[2]);
    let s = open(home.path());
    let page = s.records(&Filter::default(), None, 10).unwrap();
    assert!(
        page.records
            .iter()
            .all(|r| r.channel == Channel::QrPresented)
    );
}
