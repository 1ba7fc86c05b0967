//! Faults on the whole tap path — the wallet facade, the SQLite ledger, the card engine — with
//! the sandbox terminal kernel reading the card and the sandbox issuer verifying every
//! cryptogram that reaches it (and declining a replayed ATC).
//!
//! For every fault point and every scheme: the faulty tap releases no cryptogram, the wallet
//! survives (a panic poisons its lock; it recovers), a restarted wallet pays on with ATCs that
//! only go up, every cryptogram the terminal gets is approved, and a burnt key shows in the
//! history as a pending payment. And one CDCVM verification never authorises two released
//! cryptograms, whatever failed in between.

#[path = "../../core/tests/failpoints_support/mod.rs"]
mod failpoints_support;

use failpoints_support::{arm, clean};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::store::SoftwareKeyWrapper;
use wallet_core::wallet::{Wallet, WalletConfig};
use wallet_sandbox::issuer::{CardRequest, Issuer, cdcvm_of};
use wallet_sandbox::terminal::{Outcome, TapOutcome, Terminal, TerminalConfig, Transaction};

/// Each point with the actions tried there, and whether the fault spends the key.
const FAULTS: [(&str, &str, bool); 6] = [
    ("ledger::before_commit", "1*return", false),
    ("ledger::before_commit", "1*panic", false),
    ("ledger::after_commit", "1*return", true),
    ("ledger::after_commit", "1*panic", true),
    ("hce::before_respond", "1*return", true),
    ("hce::before_respond", "1*panic", true),
];

fn open(dir: &Path) -> Wallet {
    let wrapper = SoftwareKeyWrapper::in_dir(dir).unwrap();
    Wallet::open(WalletConfig::new(dir), Arc::new(wrapper)).expect("the wallet opens")
}

/// One tap; `None` when the wallet panicked under it (what the JNI layer turns into 6F00).
fn tap(wallet: &Wallet, amount_minor: u64) -> Option<TapOutcome> {
    let out = catch_unwind(AssertUnwindSafe(|| {
        Terminal::new(TerminalConfig::default())
            .tap(&Transaction::purchase(amount_minor, 156), &mut |c| {
                wallet.process_apdu(c)
            })
    }))
    .ok();
    wallet.deactivate();
    out
}

fn history_atcs(wallet: &Wallet) -> Vec<u16> {
    let mut atcs: Vec<u16> = wallet
        .history(&Default::default(), 100, None)
        .unwrap()
        .records
        .iter()
        .map(|r| r.atc)
        .collect();
    atcs.sort_unstable();
    atcs
}

#[test]
fn every_fault_on_the_tap_path_keeps_atcs_unique_and_the_issuer_approving() {
    for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
        for (point, action, burns) in FAULTS {
            let what = format!("{scheme:?} {point}={action}");
            let dir = tempfile::tempdir().unwrap();
            let mut issuer = Issuer::with_test_keys();
            let mut req = CardRequest::new("c1", scheme);
            req.key_count = 6;
            {
                let _clean = clean();
                open(dir.path())
                    .install_card(issuer.personalise(&req).unwrap())
                    .unwrap();
            }
            {
                let _armed = arm(point, action);
                let wallet = open(dir.path());
                match tap(&wallet, 1_200) {
                    None => assert!(action.ends_with("panic"), "{what}: unexpected panic"),
                    Some(out) => {
                        assert!(action.ends_with("return"), "{what}: the fault did not fire");
                        assert_ne!(out.outcome, Outcome::OnlineRequest, "{what}");
                        assert!(out.cryptogram.is_none() && out.auth.is_none(), "{what}");
                    }
                }
                // The same process carries on: a panic poisoned the lock, the wallet took it over.
                let expected: Vec<u16> = if burns { vec![1] } else { vec![] };
                assert_eq!(history_atcs(&wallet), expected, "{what}: burnt keys");
            }

            let _clean = clean();
            let wallet = open(dir.path());
            let mut last = u16::from(burns);
            for _ in 0..3 {
                let out = tap(&wallet, 1_500).expect("no fault armed");
                assert_eq!(out.outcome, Outcome::OnlineRequest, "{what}");
                let atc = out.atc.unwrap();
                assert_eq!(atc, last + 1, "{what}: the next key, never an earlier one");
                last = atc;
                let verdict = issuer.authorise(out.auth.as_ref().unwrap());
                assert!(verdict.is_approved(), "{what}: issuer says {verdict:?}");
            }
            drop(wallet);
            let wallet = open(dir.path());
            assert_eq!(
                history_atcs(&wallet),
                (1..=last).collect::<Vec<_>>(),
                "{what}: one record per spent key"
            );
            assert_eq!(wallet.cards().unwrap()[0].keys_left, u32::from(6 - last));
        }
    }
}

/// The cardholder verifies once; the tap it was for hits a fault; the phone may restart. Taps
/// above the CVM limit then get at most one cryptogram that says CDCVM, and only the issuer's
/// view (the CVR inside the IAD the cryptogram covers) is trusted for that.
#[test]
fn one_verification_never_authorises_two_released_cryptograms() {
    for (point, action, _) in FAULTS {
        let what = format!("{point}={action}");
        let dir = tempfile::tempdir().unwrap();
        let mut issuer = Issuer::with_test_keys();
        let req = CardRequest::new("c1", Scheme::Visa);
        {
            let _armed = arm(point, action);
            let wallet = open(dir.path());
            wallet
                .install_card(issuer.personalise(&req).unwrap())
                .unwrap();
            wallet.unlock_for_payment(60).unwrap();
            if let Some(out) = tap(&wallet, 9_000) {
                assert!(
                    out.cryptogram.is_none(),
                    "{what}: the fault released a cryptogram"
                );
            }
        }
        let _clean = clean();
        let wallet = open(dir.path());
        let mut verified = 0;
        for _ in 0..3 {
            let out = tap(&wallet, 9_000).expect("no fault armed");
            match out.outcome {
                Outcome::OnlineRequest => {
                    let auth = out.auth.as_ref().unwrap();
                    assert_eq!(
                        cdcvm_of(auth),
                        Some(true),
                        "{what}: above the limit without CDCVM"
                    );
                    assert!(issuer.authorise(auth).is_approved(), "{what}");
                    verified += 1;
                }
                Outcome::SeePhone => {}
                other => panic!("{what}: {other:?}"),
            }
        }
        assert!(
            verified <= 1,
            "{what}: one verification paid {verified} times"
        );
    }
}
