//! Consumer-presented payment codes: structure, single-use keys, expiry, and cryptograms that an
//! independent issuer (tests/peers/verify_cpm.py: pyemv, and emv_oracle.py's UnionPay
//! computation) verifies from the payload alone.
//!
//! Fails (never skips) when python3, pyemv or cryptography is missing.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use std::io::Write as _;
use std::process::{Command, Stdio};
use wallet_core::card::{
    AID_MASTERCARD, AID_UNIONPAY_CREDIT, AID_VISA, CardProfile, Scheme, SessionKey,
};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::ledger::{Channel, KeyLedger, LedgerError, MemoryLedger};
use wallet_core::qr::cpm::{self, PresentConfig, PresentContext, PresentError, Presenter};
use wallet_core::qr::{self, Verdict};

const IMK: &str = "0123456789ABCDEFFEDCBA9876543210";
const INSTALL_HINT: &str = "install the EMV peers: apt-get install python3 python3-pip && pip install -r tests/peers/requirements.txt";
const NOW: u64 = 1_800_000_000;

fn card(id: &str, cvn: Cvn) -> CardProfile {
    let (scheme, aid, pan, label): (_, &[u8], _, _) = match cvn {
        Cvn::Visa18 | Cvn::Visa22 => (Scheme::Visa, &AID_VISA, "4761739001010010", "VISA CREDIT"),
        Cvn::Mastercard20 | Cvn::Mastercard21 => (
            Scheme::Mastercard,
            &AID_MASTERCARD,
            "5413330089010020",
            "MASTERCARD",
        ),
        Cvn::UnionPay01 => (
            Scheme::UnionPay,
            &AID_UNIONPAY_CREDIT,
            "6212345678901234567",
            "UnionPay Credit",
        ),
    };
    CardProfile {
        id: id.into(),
        scheme,
        aid: aid.to_vec(),
        label: label.into(),
        token_pan: pan.into(),
        expiry: "3012".into(),
        psn: 1,
        cvn,
        dki: 1,
        cvm_limit_minor: 100_000,
        issuer_country: 156,
    }
}

/// Personalise `card` in `ledger` with session keys for ATCs `atcs`, derived from the test
/// IMK the way the issuer does.
fn personalise(ledger: &mut MemoryLedger, card: &CardProfile, atcs: std::ops::RangeInclusive<u16>) {
    let imk = Key16::from_hex(IMK).expect("hex key");
    let mk = card.cvn.icc_master_key(&imk, &card.token_pan, card.psn);
    let keys = atcs
        .map(|atc| SessionKey {
            atc,
            key: card.cvn.session_key(&mk, atc, [0; 4]),
        })
        .collect();
    ledger.add_keys(&card.id, keys);
}

fn ctx(cdcvm: bool) -> PresentContext {
    PresentContext {
        now_unix: NOW,
        cdcvm,
    }
}

/// Ask the independent issuer about each payload.
fn issuer_verdicts(payloads: &[String]) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/verify_cpm.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
    let request = json!({ "imk": IMK, "payloads": payloads });
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("verify_cpm.py ran");
    assert!(
        out.status.success(),
        "verify_cpm.py failed ({}): {}\n{INSTALL_HINT}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let reply: Value = serde_json::from_slice(&out.stdout).expect("verify_cpm.py prints JSON");
    reply["results"].as_array().expect("results").clone()
}

#[test]
fn every_cvn_produces_a_cryptogram_the_issuer_verifies() {
    let cards: Vec<CardProfile> = Cvn::ALL
        .iter()
        .enumerate()
        .map(|(i, cvn)| card(&format!("card-{i}"), *cvn))
        .collect();
    let mut ledger = MemoryLedger::new();
    for c in &cards {
        personalise(&mut ledger, c, 0x0010..=0x0013);
    }
    let presenter = Presenter::default();
    let mut payloads = Vec::new();
    let mut expected_atcs = Vec::new();
    for c in &cards {
        for (n, cdcvm) in [false, true].into_iter().enumerate() {
            let code = presenter
                .issue(&mut ledger, &[c], ctx(cdcvm))
                .expect("issues");
            assert_eq!(code.atc, 0x0010 + n as u16, "refresh takes the next key");
            payloads.push(code.payload);
            expected_atcs.push(vec![(c.token_pan.clone(), code.atc)]);
        }
    }
    // One code listing two cards, each with its own cryptogram.
    let both = presenter
        .issue(&mut ledger, &[&cards[4], &cards[1]], ctx(true))
        .expect("issues");
    assert_eq!(
        both.spent,
        vec![("card-4".to_owned(), 0x0012), ("card-1".to_owned(), 0x0012)]
    );
    payloads.push(both.payload.clone());
    expected_atcs.push(vec![
        (cards[4].token_pan.clone(), 0x0012),
        (cards[1].token_pan.clone(), 0x0012),
    ]);

    let verdicts = issuer_verdicts(&payloads);
    assert_eq!(verdicts.len(), payloads.len());
    let mut cvns_seen = std::collections::BTreeSet::new();
    for ((v, want), payload) in verdicts.iter().zip(&expected_atcs).zip(&payloads) {
        let apps = v["apps"]
            .as_array()
            .unwrap_or_else(|| panic!("issuer could not read {payload}: {v}"));
        assert_eq!(apps.len(), want.len(), "{v}");
        for (app, (pan, atc)) in apps.iter().zip(want) {
            assert_eq!(app["ok"], true, "issuer rejects the cryptogram: {app}");
            assert_eq!(
                (app["pan"].as_str(), app["atc"].as_u64()),
                (Some(pan.as_str()), Some(u64::from(*atc)))
            );
            assert_eq!(app["cid"], "80");
            cvns_seen.insert(app["cvn"].as_str().unwrap_or_default().to_owned());
        }
    }
    assert_eq!(cvns_seen.len(), 5, "{cvns_seen:?}");
}

#[test]
fn a_tampered_code_fails_at_the_issuer() {
    let c = card("up", Cvn::UnionPay01);
    let v = card("visa", Cvn::Visa22);
    let mut ledger = MemoryLedger::new();
    personalise(&mut ledger, &c, 1..=2);
    personalise(&mut ledger, &v, 1..=1);
    let presenter = Presenter::default();
    let mut payloads = Vec::new();
    for card in [&c, &v] {
        let code = presenter
            .issue(&mut ledger, &[card], ctx(false))
            .expect("issues");
        let mut raw = STANDARD.decode(&code.payload).expect("base64");
        // The last byte is the UN's last byte (9F37 closes template 63).
        let last = raw.last_mut().expect("non-empty");
        *last ^= 0x01;
        payloads.push(STANDARD.encode(&raw));
    }
    // A code made without cardholder verification, edited to claim it (the CVR's CDCVM bit).
    let code = presenter
        .issue(&mut ledger, &[&c], ctx(false))
        .expect("issues");
    let iad = cpm::decode(&code.payload).expect("decodes").applications[0]
        .transaction
        .clone()
        .and_then(|t| t.iad)
        .expect("IAD");
    let mut raw = STANDARD.decode(&code.payload).expect("base64");
    let at = raw
        .windows(iad.len())
        .position(|w| w == iad.as_slice())
        .expect("IAD in payload");
    raw[at + 4] |= 0x04;
    let forged = STANDARD.encode(&raw);
    let iad_forged = cpm::decode(&forged).expect("decodes").applications[0]
        .transaction
        .clone()
        .and_then(|t| t.iad)
        .expect("IAD");
    assert_eq!(Cvn::UnionPay01.cdcvm_performed(&iad_forged), Some(true));
    payloads.push(forged);

    let verdicts = issuer_verdicts(&payloads);
    assert_eq!(verdicts.len(), 3);
    for v in verdicts {
        assert_eq!(
            v["apps"][0]["ok"], false,
            "a changed code must not verify: {v}"
        );
    }
    // The untouched original still verifies (the check above is not vacuous).
    assert_eq!(issuer_verdicts(&[code.payload])[0]["apps"][0]["ok"], true);
}

#[test]
fn payload_structure_expiry_and_ledger_records() {
    let c = card("up", Cvn::UnionPay01);
    let mut ledger = MemoryLedger::new();
    personalise(&mut ledger, &c, 5..=6);
    let presenter = Presenter::new(PresentConfig {
        validity: std::time::Duration::from_secs(30),
    });
    let code = presenter
        .issue(&mut ledger, &[&c], ctx(true))
        .expect("issues");
    assert_eq!(
        (code.atc, code.issued_at, code.expires_at),
        (5, NOW, NOW + 30)
    );
    assert!(!code.is_expired(NOW + 29) && code.is_expired(NOW + 30));
    assert_eq!(code.seconds_left(NOW + 10), 20);
    assert!(
        !format!("{code:?}").contains(&code.payload),
        "Debug must not print the payload"
    );
    assert_eq!(Presenter::default().config.validity.as_secs(), 60);

    let decoded = cpm::decode(&code.payload).expect("decodes");
    assert_eq!(decoded.verdict, Verdict::Valid, "{:?}", decoded.errors);
    let [app] = decoded.applications.as_slice() else {
        panic!("one application")
    };
    assert_eq!(app.aid, c.aid);
    assert_eq!(app.label.as_deref(), Some("UnionPay Credit"));
    assert_eq!(app.pan().as_deref(), Some(c.token_pan.as_str()));
    assert_eq!((app.psn, app.last4.as_deref()), (Some(1), Some("4567")));
    assert_eq!(
        hex::encode_upper(app.track2.as_deref().unwrap_or_default()),
        "6212345678901234567D3012201F"
    );
    let txn = app.transaction.as_ref().expect("template 63");
    assert_eq!(
        (txn.atc, txn.cid, txn.aip),
        (Some(5), Some(0x80), Some([0, 0]))
    );
    assert_eq!(
        Cvn::UnionPay01.cdcvm_performed(txn.iad.as_deref().unwrap_or_default()),
        Some(true)
    );

    // The record was committed with the key, before the code existed.
    let [record] = ledger.records.as_slice() else {
        panic!("one record")
    };
    assert_eq!(
        (record.channel, record.atc, record.cdcvm),
        (Channel::QrPresented, 5, true)
    );
    assert_eq!(Some(record.unpredictable_number), txn.un);
    let arqc = txn.cryptogram.expect("9F26");
    assert_eq!(
        record.cryptogram_sha256.as_slice(),
        ring::digest::digest(&ring::digest::SHA256, &arqc).as_ref()
    );
    assert_eq!(ledger.remaining("up"), Ok(1));

    // Refresh spends the next key; the UN is fresh.
    let next = presenter
        .refresh(&mut ledger, &[&c], ctx(true))
        .expect("refreshes");
    assert_eq!(next.atc, 6);
    assert_ne!(next.payload, code.payload);
    assert_eq!(ledger.remaining("up"), Ok(0));

    let report = qr::scan_str(&next.payload).expect("scans");
    assert_eq!(
        (report.kind, report.valid, report.network),
        (qr::Kind::Cpm, true, Some("unionpay"))
    );
    let json = report.to_json();
    assert!(
        json.contains("6212***********4567") && !json.contains(&c.token_pan),
        "{json}"
    );
}

#[test]
fn nothing_is_spent_when_a_code_cannot_be_made() {
    let up = card("up", Cvn::UnionPay01);
    let visa = card("visa", Cvn::Visa18);
    let mut ledger = MemoryLedger::new();
    personalise(&mut ledger, &up, 1..=2);
    ledger.add_keys("visa", vec![]);
    let presenter = Presenter::default();
    let err = presenter
        .issue(&mut ledger, &[&up, &visa], ctx(false))
        .expect_err("visa has no keys");
    assert_eq!(
        err,
        PresentError::Ledger(LedgerError::Exhausted("visa".into()))
    );
    assert_eq!(
        ledger.remaining("up"),
        Ok(2),
        "the UnionPay key must not be burned"
    );

    let mut bad = up.clone();
    bad.token_pan = "62123".into();
    assert_eq!(
        presenter.issue(&mut ledger, &[&bad], ctx(false)),
        Err(PresentError::BadCardData("up".into()))
    );
    assert_eq!(
        presenter.issue(&mut ledger, &[], ctx(false)),
        Err(PresentError::CardCount(0))
    );
    let unknown = card("nope", Cvn::Visa18);
    assert!(matches!(
        presenter.issue(&mut ledger, &[&unknown], ctx(false)),
        Err(PresentError::Ledger(LedgerError::UnknownCard(_)))
    ));
    assert_eq!(ledger.remaining("up"), Ok(2));
    assert!(ledger.records.is_empty());
}
