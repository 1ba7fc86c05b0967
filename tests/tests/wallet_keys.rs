//! A single-use key is never used twice through the whole wallet: the facade, the SQLite
//! ledger, the HCE engine, the terminal and the issuer together — across reopening the wallet
//! and across a crash between "key consumed" and "response sent".

use std::collections::HashSet;
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::store::SoftwareKeyWrapper;
use wallet_core::wallet::{Wallet, WalletConfig};
use wallet_sandbox::issuer::{CardRequest, Issuer};
use wallet_sandbox::terminal::{Outcome, Terminal, TerminalConfig, Transaction};

fn open(dir: &std::path::Path) -> Wallet {
    let wrapper = SoftwareKeyWrapper::in_dir(dir).unwrap();
    Wallet::open(WalletConfig::new(dir), Arc::new(wrapper)).unwrap()
}

fn tap(wallet: &Wallet, amount_minor: u64) -> wallet_sandbox::terminal::TapOutcome {
    let t = Terminal::new(TerminalConfig::default());
    let out = t.tap(&Transaction::purchase(amount_minor, 156), &mut |c| {
        wallet.process_apdu(c)
    });
    wallet.deactivate();
    out
}

#[test]
fn atcs_strictly_increase_across_reopen_and_every_cryptogram_verifies() {
    for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
        let dir = tempfile::tempdir().unwrap();
        let mut issuer = Issuer::with_test_keys();
        let mut req = CardRequest::new("c1", scheme);
        req.key_count = 8;
        open(dir.path())
            .install_card(issuer.personalise(&req).unwrap())
            .unwrap();

        let mut atcs = Vec::new();
        for round in 0..4 {
            // A fresh process each round: nothing survives but the database.
            let wallet = open(dir.path());
            for _ in 0..2 {
                let out = tap(&wallet, 1_000 + round);
                assert_eq!(out.outcome, Outcome::OnlineRequest, "{scheme:?}");
                let auth = out.auth.as_ref().unwrap();
                assert!(issuer.authorise(auth).is_approved(), "{scheme:?}");
                atcs.push(out.atc.unwrap());
            }
        }
        assert!(atcs.windows(2).all(|w| w[0] < w[1]), "{scheme:?}: {atcs:?}");
        // The ninth tap has no key: a status word, never a reused key.
        let wallet = open(dir.path());
        let out = tap(&wallet, 500);
        assert_ne!(out.outcome, Outcome::OnlineRequest);
        assert!(out.cryptogram.is_none());
    }
}

/// The process dies after the ledger committed the key but before the response reached the
/// terminal. The key is burnt: the next tap uses the next ATC, and the issuer, which never saw
/// the lost cryptogram, approves it.
#[test]
fn a_crash_between_consume_and_respond_burns_the_key_and_never_reuses_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut issuer = Issuer::with_test_keys();
    let mut req = CardRequest::new("c1", Scheme::Visa);
    req.key_count = 5;
    open(dir.path())
        .install_card(issuer.personalise(&req).unwrap())
        .unwrap();

    // The "crash": run the tap in a thread that panics as soon as a GPO answer (the one that
    // carries the cryptogram) comes back, so the terminal never sees it.
    let lost_atc = {
        let wallet = Arc::new(open(dir.path()));
        let w = Arc::clone(&wallet);
        let joined = std::thread::spawn(move || {
            let t = Terminal::new(TerminalConfig::default());
            t.tap(&Transaction::purchase(1_200, 156), &mut |c| {
                let r = w.process_apdu(c);
                if c.get(1) == Some(&0xA8) && r.ends_with(&[0x90, 0x00]) {
                    panic!("power lost after the cryptogram was computed");
                }
                r
            })
        })
        .join();
        assert!(joined.is_err(), "the tap thread must have died");
        // The wallet survives the panic (poisoned lock recovered) and shows the burnt key.
        let page = wallet.history(&Default::default(), 10, None).unwrap();
        assert_eq!(
            page.records.len(),
            1,
            "the consumed key has its pending record"
        );
        page.records[0].atc
    };

    let wallet = open(dir.path());
    let mut seen = HashSet::from([lost_atc]);
    for _ in 0..4 {
        let out = tap(&wallet, 800);
        let atc = out.atc.unwrap();
        assert!(seen.insert(atc), "ATC {atc} used twice");
        assert!(atc > lost_atc);
        assert!(issuer.authorise(out.auth.as_ref().unwrap()).is_approved());
    }
    // Five keys: one burnt, four spent. Nothing left, nothing reused.
    assert_eq!(wallet.cards().unwrap()[0].keys_left, 0);
}

#[test]
fn unlock_window_survives_a_restart_and_lock_closes_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut issuer = Issuer::with_test_keys();
    let req = CardRequest::new("c1", Scheme::Visa);
    let wallet = open(dir.path());
    wallet
        .install_card(issuer.personalise(&req).unwrap())
        .unwrap();
    // Above the 50.00 CVM limit, not unlocked: the phone asks the cardholder.
    assert_eq!(tap(&wallet, 9_000).outcome, Outcome::SeePhone);
    wallet.unlock_for_payment(60).unwrap();
    drop(wallet);
    // A tap that cold-starts the process still sees the window the user just opened.
    let wallet = open(dir.path());
    assert!(wallet.is_unlocked());
    let out = tap(&wallet, 9_000);
    assert_eq!(out.outcome, Outcome::OnlineRequest);
    assert!(issuer.authorise(out.auth.as_ref().unwrap()).is_approved());
    // One verification, one payment: the window closed with the tap it authorised.
    assert!(!wallet.is_unlocked());
    assert_eq!(tap(&wallet, 9_000).outcome, Outcome::SeePhone);
    wallet.unlock_for_payment(60).unwrap();
    wallet.lock().unwrap();
    drop(wallet);
    let wallet = open(dir.path());
    assert!(!wallet.is_unlocked());
    assert_eq!(tap(&wallet, 9_000).outcome, Outcome::SeePhone);
    assert!(wallet.unlock_for_payment(0).is_err());
    assert!(wallet.unlock_for_payment(100_000).is_err());
}
