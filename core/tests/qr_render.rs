//! Every PNG this code writes must decode with an independent reader, ZBar's `zbarimg`
//! (Debian package zbar-tools), back to the exact payload. The test fails, not skips, when
//! zbarimg is missing.

use std::process::Command;
use wallet_core::qr::render::{Ecc, QrSymbol, RenderError, RenderOptions};

const CORPUS: &str = include_str!("fixtures/qr-corpus.jsonl");

fn zbarimg(png: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("code.png");
    std::fs::write(&path, png).expect("write png");
    let out = Command::new("zbarimg")
        .args(["--raw", "--quiet", "-Sbinary"])
        .arg(&path)
        .output()
        .unwrap_or_else(|e| {
            panic!("zbarimg did not run ({e}); install it: apt-get install zbar-tools")
        });
    assert!(
        out.status.success(),
        "zbarimg found no code: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut text = String::from_utf8(out.stdout).expect("zbarimg output is UTF-8");
    // zbarimg ends each symbol with a newline.
    if text.ends_with('\n') {
        text.pop();
    }
    text
}

/// Corpus payloads that are valid, by mode.
fn corpus_payloads(mode: &str) -> Vec<String> {
    CORPUS
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["mode"] == mode && e["expected"]["verdict"] == "valid")
        .filter_map(|e| e["payload"].as_str().map(str::to_owned))
        .collect()
}

fn assert_round_trip(payload: &str, options: RenderOptions, scale: u32) {
    let symbol = QrSymbol::encode(payload.as_bytes(), options).expect("encodes");
    let png = symbol.png(scale).expect("png");
    assert_eq!(
        zbarimg(&png),
        payload,
        "ecc {:?}, scale {scale}",
        options.ecc
    );
}

#[test]
fn mpm_pngs_decode_to_the_exact_payload() {
    let payloads = corpus_payloads("MPM");
    // Short and long ones, and the EMVCo annex example with Chinese (UTF-8 in byte mode).
    let annex = payloads
        .iter()
        .find(|p| p.contains("北京"))
        .expect("annex example in corpus");
    let longest = payloads.iter().max_by_key(|p| p.len()).expect("payloads");
    let shortest = payloads.iter().min_by_key(|p| p.len()).expect("payloads");
    for (p, scale) in [(annex, 4), (longest, 3), (shortest, 2), (annex, 8)] {
        assert_round_trip(p, RenderOptions::default(), scale);
    }
    for ecc in [Ecc::L, Ecc::Q, Ecc::H] {
        assert_round_trip(annex, RenderOptions { ecc, quiet_zone: 4 }, 4);
    }
}

#[test]
fn cpm_pngs_decode_to_the_exact_payload() {
    for (p, scale) in corpus_payloads("CPM").iter().zip([3, 5, 10]) {
        assert_round_trip(p, RenderOptions::default(), scale);
    }
}

#[test]
fn issued_payment_code_pngs_decode_to_the_exact_payload() {
    use wallet_core::card::{AID_UNIONPAY_CREDIT, CardProfile, Scheme, SessionKey};
    use wallet_core::emv::crypto::Key16;
    use wallet_core::emv::cvn::Cvn;
    use wallet_core::ledger::MemoryLedger;
    use wallet_core::qr::cpm::{PresentContext, Presenter};

    let card = CardProfile {
        id: "up".into(),
        scheme: Scheme::UnionPay,
        aid: AID_UNIONPAY_CREDIT.to_vec(),
        label: "UnionPay Credit".into(),
        token_pan: "6212345678901234567".into(),
        expiry: "3012".into(),
        psn: 1,
        cvn: Cvn::UnionPay01,
        dki: 1,
        cvm_limit_minor: 100_000,
        issuer_country: 156,
    };
    let mut ledger = MemoryLedger::new();
    ledger.add_keys(
        "up",
        (1..=3)
            .map(|atc| SessionKey {
                atc,
                key: Key16::from_bytes([atc as u8; 16]),
            })
            .collect(),
    );
    let ctx = PresentContext {
        now_unix: 1_800_000_000,
        cdcvm: true,
    };
    for scale in [2, 4, 7] {
        let code = Presenter::default()
            .issue(&mut ledger, &[&card], ctx)
            .expect("issues");
        assert_round_trip(&code.payload, RenderOptions::default(), scale);
    }
}

#[test]
fn matrix_svg_and_terminal_agree_with_the_symbol() {
    let payload = "00020101021115312031041800520446JDBMSZZXE44BFS0520458125303418580\
                   2LA5915JDBMSZZXE44BFS06009Vientiane63043F88";
    let symbol = QrSymbol::encode(payload.as_bytes(), RenderOptions::default()).expect("encodes");
    let m = symbol.matrix();
    assert_eq!(m.width, symbol.size() + 8);
    assert_eq!(m.modules.len(), m.width * m.width);
    // Quiet zone light, finder pattern corner dark.
    assert!((0..m.width).all(|i| !m.is_dark(i, 0) && !m.is_dark(0, i) && !m.is_dark(i, 3)));
    assert!(m.is_dark(4, 4) && m.is_dark(10, 4) && !m.is_dark(5, 5));

    let svg = symbol.svg();
    assert!(
        svg.starts_with("<svg") && svg.contains(&format!("viewBox=\"0 0 {w} {w}\"", w = m.width)),
        "{svg:.200}"
    );

    let term = symbol.terminal(true);
    assert_eq!(term.lines().count(), m.width.div_ceil(2));
    assert!(term.lines().all(|l| l.chars().count() == m.width));
}

#[test]
fn oversize_and_bad_options_are_typed_errors() {
    assert_eq!(
        QrSymbol::encode(b"", RenderOptions::default()).err(),
        Some(RenderError::Empty)
    );
    let big = vec![b'x'; 2400];
    assert_eq!(
        QrSymbol::encode(&big, RenderOptions::default()).err(),
        Some(RenderError::TooLarge(2400))
    );
    let s = QrSymbol::encode(b"hello", RenderOptions::default()).expect("encodes");
    assert_eq!(s.png(0).err(), Some(RenderError::Scale));
    assert_eq!(s.png(1000).err(), Some(RenderError::Scale));
}
