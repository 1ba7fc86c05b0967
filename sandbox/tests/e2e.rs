//! Terminal <-> card <-> issuer, per scheme and cryptogram version.

mod support;

use std::time::Duration;
use support::{ALL_CVNS, Phone};
use wallet_core::card::Scheme;
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Verification;
use wallet_core::ledger::KeyLedger;
use wallet_sandbox::issuer::{DeclineReason, Issuer, Verdict, luhn_valid};
use wallet_sandbox::terminal::{Outcome, Terminal, Transaction};

#[test]
fn every_scheme_is_approved_by_the_issuer() {
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut phone = Phone::with_card(&mut issuer, "card", scheme, cvn, 5);
        let terminal = Terminal::default();
        for (i, amount) in [1_234u64, 4_999, 1].into_iter().enumerate() {
            let txn = Transaction::purchase(amount, 156);
            let out = phone.tap(&terminal, &txn);
            assert_eq!(
                out.outcome,
                Outcome::OnlineRequest,
                "{cvn:?}: {:?}",
                out.outcome
            );
            assert_eq!(out.scheme, Some(scheme));
            assert_eq!(out.cvn, Some(cvn));
            assert_eq!(out.atc, Some(i as u16 + 1));
            assert_eq!(out.cid, Some(0x80));
            assert!(!out.cdcvm_indicated);
            let pan = out.pan.clone().unwrap();
            assert!(luhn_valid(&pan), "{pan}");
            assert_eq!(pan.len(), if scheme == Scheme::UnionPay { 19 } else { 16 });
            assert_eq!(out.psn, Some(1));
            assert_eq!(out.expiry.as_deref(), Some("3012"));
            let json = out.to_json();
            for key in [
                "scheme",
                "aid",
                "pan",
                "psn",
                "atc",
                "cvn",
                "cryptogram",
                "outcome",
                "apdus",
            ] {
                assert!(!json[key].is_null(), "{key} missing from {json}");
            }
            assert_eq!(json["cvn"], format!("{:02X}", cvn.byte()));
            assert_eq!(json["apdus"].as_array().unwrap().len(), out.apdus.len());
            let auth = out.auth.clone().expect("authorisation request");
            assert_eq!(issuer.authorise(&auth), Verdict::Approved, "{cvn:?}");
            // The same cryptogram again is a replay.
            assert_eq!(
                issuer.authorise(&auth),
                Verdict::Declined(DeclineReason::ReplayedAtc),
                "{cvn:?}"
            );
            // What the phone recorded matches what the terminal saw.
            let rec = phone.ledger.records.last().unwrap();
            assert_eq!(rec.amount_minor, Some(amount));
            assert_eq!(rec.unpredictable_number, txn.un);
            assert_eq!(rec.atc, out.atc.unwrap());
        }
        assert_eq!(phone.ledger.remaining("card").unwrap(), 2);
    }
}

#[test]
fn tampering_and_foreign_keys_are_declined() {
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut phone = Phone::with_card(&mut issuer, "card", scheme, cvn, 5);
        let terminal = Terminal::default();
        let out = phone.tap(&terminal, &Transaction::purchase(1_000, 156));
        let auth = out.auth.unwrap();

        // A merchant raising the amount after the tap.
        let mut raised = auth.clone();
        raised.input.amount[5] ^= 0x01;
        assert_eq!(
            issuer.authorise(&raised),
            Verdict::Declined(DeclineReason::BadCryptogram),
            "{cvn:?}"
        );
        // Claiming CDCVM in the IAD after the fact (EMVerify's attack, moved to covered data).
        let mut flipped = auth.clone();
        let claimed = cvn.iad(
            1,
            Verification {
                cdcvm_performed: true,
                arqc_returned: true,
            },
        );
        assert_ne!(claimed, flipped.input.iad, "{cvn:?}");
        flipped.input.iad = claimed;
        assert_eq!(
            issuer.authorise(&flipped),
            Verdict::Declined(DeclineReason::BadCryptogram),
            "{cvn:?}"
        );
        let mut flipped = auth.clone();
        flipped.cryptogram[0] ^= 1;
        assert_eq!(
            issuer.authorise(&flipped),
            Verdict::Declined(DeclineReason::BadCryptogram)
        );
        // The genuine one still goes through once.
        assert_eq!(issuer.authorise(&auth), Verdict::Approved, "{cvn:?}");

        // Another issuer's key: the cryptogram does not verify.
        let mut other = Issuer::with_test_keys();
        other.set_master_key(
            scheme,
            Key16::from_hex("00112233445566778899AABBCCDDEEFF").unwrap(),
        );
        let mut foreign = Phone::with_card(&mut other, "x", scheme, cvn, 1);
        let out = foreign.tap(&terminal, &Transaction::purchase(1_000, 156));
        let mut req = out.auth.unwrap();
        // Same PAN as a card this issuer knows, cryptogram from the other key.
        req.pan = auth.pan.clone();
        req.psn = auth.psn;
        req.input.atc = 2;
        assert_eq!(
            issuer.authorise(&req),
            Verdict::Declined(DeclineReason::BadCryptogram),
            "{cvn:?}"
        );
    }
}

#[test]
fn above_the_limit_the_phone_asks_for_cdcvm_then_pays() {
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut phone = Phone::with_card(&mut issuer, "card", scheme, cvn, 5);
        let terminal = Terminal::default();
        let txn = Transaction::purchase(25_000, 156);

        let first = phone.tap(&terminal, &txn);
        assert_eq!(first.outcome, Outcome::SeePhone, "{cvn:?}");
        assert!(first.auth.is_none());

        phone
            .engine
            .unlock_for_payment(phone.now + Duration::from_secs(60));
        let second = phone.tap(&terminal, &txn);
        assert_eq!(second.outcome, Outcome::OnlineRequest, "{cvn:?}");
        assert!(second.cdcvm_indicated, "{cvn:?}");
        assert!(phone.ledger.records.last().unwrap().cdcvm);
        assert_eq!(
            issuer.authorise(&second.auth.unwrap()),
            Verdict::Approved,
            "{cvn:?}"
        );

        // Visa/UnionPay refuse before spending a key; M/Chip spends one on the AAC.
        let spent = if scheme == Scheme::Mastercard { 2 } else { 1 };
        assert_eq!(
            phone.ledger.remaining("card").unwrap(),
            5 - spent,
            "{cvn:?}"
        );
    }
}

#[test]
fn exhausted_cards_produce_no_cryptogram() {
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut phone = Phone::with_card(&mut issuer, "card", scheme, cvn, 1);
        let terminal = Terminal::default();
        assert_eq!(
            phone
                .tap(&terminal, &Transaction::purchase(100, 156))
                .outcome,
            Outcome::OnlineRequest
        );
        let out = phone.tap(&terminal, &Transaction::purchase(100, 156));
        assert!(
            matches!(out.outcome, Outcome::EndApplication(_)),
            "{cvn:?}: {:?}",
            out.outcome
        );
        assert!(out.cryptogram.is_none() && out.auth.is_none());
        let last = out.apdus.last().unwrap();
        assert_eq!(last.1, vec![0x69, 0x85], "{cvn:?}");
    }
}

#[test]
fn the_terminal_follows_priority_and_the_afl() {
    let mut issuer = Issuer::with_test_keys();
    let mut req_v = wallet_sandbox::issuer::CardRequest::new("v", Scheme::Visa);
    req_v.key_count = 2;
    let mut req_m = wallet_sandbox::issuer::CardRequest::new("m", Scheme::Mastercard);
    req_m.key_count = 2;
    let (v, m) = (
        issuer.personalise(&req_v).unwrap(),
        issuer.personalise(&req_m).unwrap(),
    );
    let mut ledger = wallet_core::ledger::MemoryLedger::new();
    ledger.add_keys("v", v.keys);
    ledger.add_keys("m", m.keys);
    // Mastercard is the default card.
    let mut engine = wallet_core::hce::Engine::new(vec![m.profile, v.profile]).unwrap();
    let now = std::time::SystemTime::now();
    let out = Terminal::default().tap(&Transaction::purchase(500, 156), &mut |c| {
        engine.process(c, &mut ledger, now)
    });
    assert_eq!(out.scheme, Some(Scheme::Mastercard));
    let ins: Vec<(u8, u8, u8)> = out.apdus.iter().map(|(c, _)| (c[1], c[2], c[3])).collect();
    assert_eq!(
        ins,
        vec![
            (0xA4, 4, 0),
            (0xA4, 4, 0),
            (0xA8, 0, 0),
            (0xB2, 1, 0x0C),
            (0xB2, 1, 0x14),
            (0xAE, 0x80, 0)
        ]
    );
    assert_eq!(issuer.authorise(&out.auth.unwrap()), Verdict::Approved);
}

#[test]
fn the_issuer_trusts_only_the_covered_cvr_for_cdcvm() {
    use wallet_sandbox::issuer::{CardRequest, cdcvm_of};
    use wallet_sandbox::terminal::TerminalConfig;
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut req = CardRequest::new("card", scheme);
        req.cvn = cvn;
        let perso = issuer.personalise(&req).unwrap();
        // A tampered wallet that believes its CVM limit is huge, and a lenient reader: the
        // card pays 250.00 without CDCVM, and the issuer (limit 50.00) must notice.
        let mut profile = perso.profile.clone();
        profile.cvm_limit_minor = 10_000_000;
        let mut ledger = wallet_core::ledger::MemoryLedger::new();
        ledger.add_keys("card", perso.keys);
        let mut engine = wallet_core::hce::Engine::new(vec![profile]).unwrap();
        let terminal = Terminal::new(TerminalConfig {
            reader_cvm_limit_minor: 10_000_000,
            ..TerminalConfig::default()
        });
        let now = std::time::SystemTime::now();
        let txn = Transaction::purchase(25_000, 156);

        let out = terminal.tap(&txn, &mut |c| engine.process(c, &mut ledger, now));
        let auth = out.auth.expect("ARQC");
        assert_eq!(cdcvm_of(&auth), Some(false));
        assert_eq!(
            issuer.authorise(&auth),
            Verdict::Declined(DeclineReason::CardholderNotVerified),
            "{cvn:?}"
        );

        engine.unlock_for_payment(now + Duration::from_secs(30));
        engine.deactivate();
        let out = terminal.tap(&txn, &mut |c| engine.process(c, &mut ledger, now));
        let auth = out.auth.expect("ARQC");
        assert_eq!(cdcvm_of(&auth), Some(true));
        assert_eq!(issuer.authorise(&auth), Verdict::Approved, "{cvn:?}");
    }
}
