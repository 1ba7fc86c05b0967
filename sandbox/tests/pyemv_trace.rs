//! Independent check: pyemv recomputes each cryptogram from the APDU trace alone
//! (tests/peers/verify_trace.py). Needs `python3` with pyemv (`pip install pyemv`); the test
//! fails, not skips, when it is missing.

mod support;

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::{ALL_CVNS, Phone};
use wallet_sandbox::issuer::{Issuer, TEST_IMK_HEX};
use wallet_sandbox::terminal::{Outcome, Terminal, Transaction};

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/verify_trace.py")
}

/// Run the peer on one trace; returns its JSON verdict and exit code.
pub fn verify(imk: &str, apdus: &[(Vec<u8>, Vec<u8>)]) -> (Value, i32) {
    let request = json!({
        "imk": imk,
        "apdus": apdus.iter().map(|(c, r)| json!({"c": hex::encode(c), "r": hex::encode(r)})).collect::<Vec<_>>(),
    });
    let mut child = Command::new("python3")
        .arg(script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect(
            "python3 is needed for the pyemv check (apt-get install python3; pip install pyemv)",
        );
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let code = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(
        code, 3,
        "pyemv is missing — install it with `pip install pyemv`: {stderr}"
    );
    assert_ne!(code, 2, "the peer could not read the trace: {stderr}");
    let verdict: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("peer output is not JSON ({e}): {stderr}"));
    (verdict, code)
}

#[test]
fn pyemv_recomputes_every_cryptogram_from_the_trace() {
    let terminal = Terminal::default();
    for (scheme, cvn) in ALL_CVNS {
        let mut issuer = Issuer::with_test_keys();
        let mut phone = Phone::with_card(&mut issuer, "card", scheme, cvn, 3);
        for (amount, unlocked) in [(1_234u64, false), (88_800, true)] {
            if unlocked {
                phone
                    .engine
                    .unlock_for_payment(phone.now + Duration::from_secs(30));
            }
            let out = phone.tap(&terminal, &Transaction::purchase(amount, 156));
            assert_eq!(out.outcome, Outcome::OnlineRequest);
            let (verdict, code) = verify(TEST_IMK_HEX, &out.apdus);
            assert_eq!(verdict["match"], Value::Bool(true), "{cvn:?}: {verdict}");
            assert_eq!(code, 0);
            assert_eq!(verdict["scheme"], scheme.name());
            assert_eq!(verdict["cvn"], format!("{:02X}", cvn.byte()));
            assert_eq!(verdict["card"], hex::encode_upper(out.cryptogram.unwrap()));
            assert_eq!(verdict["atc"], u64::from(out.atc.unwrap()));
        }
    }
}

#[test]
fn pyemv_rejects_a_tampered_trace() {
    let mut issuer = Issuer::with_test_keys();
    let mut phone = Phone::with_card(
        &mut issuer,
        "card",
        wallet_core::card::Scheme::Visa,
        wallet_core::emv::cvn::Cvn::Visa22,
        1,
    );
    let mut out = phone.tap(&Terminal::default(), &Transaction::purchase(500, 156));
    // Change the amount in the GPO command after the fact: the card's 9F26 no longer matches.
    let gpo = out.apdus.iter_mut().find(|(c, _)| c[1] == 0xA8).unwrap();
    gpo.0[7 + 4 + 5] ^= 0x01;
    let (verdict, code) = verify(TEST_IMK_HEX, &out.apdus);
    assert_eq!(verdict["match"], Value::Bool(false), "{verdict}");
    assert_eq!(code, 1);
    // And a different issuer key does not reproduce it either.
    let out = phone_tap_fresh();
    let (verdict, _) = verify("00112233445566778899AABBCCDDEEFF", &out);
    assert_eq!(verdict["match"], Value::Bool(false));
}

fn phone_tap_fresh() -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut issuer = Issuer::with_test_keys();
    let mut phone = Phone::with_card(
        &mut issuer,
        "c",
        wallet_core::card::Scheme::Mastercard,
        wallet_core::emv::cvn::Cvn::Mastercard20,
        1,
    );
    phone
        .tap(&Terminal::default(), &Transaction::purchase(500, 156))
        .apdus
}
