//! The `wallet` binary as a user drives it: the JSON contracts the issues specify, the stdio
//! card protocol, exports, and clear errors for bad input.

use serde_json::Value;
use std::io::Write;
use std::process::{Command, Stdio};

fn wallet(home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_wallet"))
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .expect("run wallet");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(home: &std::path::Path, args: &[&str]) -> String {
    let (code, out, err) = wallet(home, args);
    assert_eq!(code, 0, "wallet {args:?} failed: {err}");
    out
}

#[test]
fn tap_json_carries_what_an_outside_verifier_needs() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    ok(home, &["init"]);
    for scheme in ["unionpay", "visa", "mastercard"] {
        let id = ok(home, &["card", "add-test", "--scheme", scheme]);
        let id = id.trim();
        let tap: Value = serde_json::from_str(&ok(
            home,
            &[
                "tap",
                "--card",
                id,
                "--amount",
                "12.34",
                "--currency",
                "156",
                "--json",
            ],
        ))
        .unwrap();
        for field in [
            "scheme",
            "aid",
            "pan",
            "psn",
            "atc",
            "cvn",
            "cryptogram",
            "outcome",
            "issuer_verdict",
            "apdus",
        ] {
            assert!(!tap[field].is_null(), "{scheme}: no {field} in {tap}");
        }
        assert_eq!(tap["scheme"], scheme);
        assert_eq!(tap["outcome"], "online_request");
        assert_eq!(tap["issuer_verdict"], "approved");
        let apdus = tap["apdus"].as_array().unwrap();
        assert!(apdus.len() >= 3);
        assert!(
            apdus
                .iter()
                .all(|a| a["c"].is_string() && a["r"].is_string())
        );
    }
    let cards: Value = serde_json::from_str(&ok(home, &["cards", "--json"])).unwrap();
    assert_eq!(cards.as_array().unwrap().len(), 3);
    assert_eq!(cards[0]["is_default"], true);
    // Three approved taps in history, newest first, in CSV and JSON.
    let hist: Value = serde_json::from_str(&ok(home, &["history", "--json"])).unwrap();
    let records = hist["records"].as_array().unwrap();
    assert_eq!(records.len(), 3);
    assert!(records.iter().all(|r| r["status"] == "approved"));
    let csv = ok(home, &["history", "export", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let out = dir.path().join("h.json");
    ok(
        home,
        &[
            "history",
            "export",
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    let exported: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert_eq!(exported.as_array().unwrap().len(), 3);
    let stats: Value = serde_json::from_str(&ok(home, &["history", "stats", "--json"])).unwrap();
    assert_eq!(stats[0]["approved"]["total_minor"], 3 * 1234);
}

#[test]
fn apdu_stdio_speaks_the_line_protocol() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    ok(home, &["init"]);
    ok(home, &["card", "add-test", "--scheme", "visa"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_wallet"))
        .arg("--home")
        .arg(home)
        .args(["apdu", "--stdio"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"!poweron\n00A404000E325041592E5359532E444446303100\n00 A4 04 00 07 A0000000031010 00\n\
              80CA9F3600\nnot-hex\n0102\n!reset\n80A80000028300\n!poweroff\n",
        )
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines.len(), 9, "{lines:?}");
    assert_eq!(lines[0], "OK");
    assert!(
        lines[1].starts_with("6F") && lines[1].ends_with("9000"),
        "PPSE: {}",
        lines[1]
    );
    assert!(lines[2].contains("A0000000031010") && lines[2].ends_with("9000"));
    assert_eq!(lines[3], "6A88", "no ATC before the first cryptogram");
    assert!(lines[4].starts_with("ERR"));
    assert_eq!(lines[5], "6700", "two bytes is not an APDU");
    assert_eq!(lines[6], "OK");
    assert_eq!(
        lines[7], "6985",
        "GPO right after a reset: no application selected"
    );
    assert_eq!(lines[8], "OK");
}

#[test]
fn qr_parse_json_contract_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    // The EMVCo MPM spec's own example payload (also in the corpus): valid, CRC ok.
    let mpm = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
    let (code, out, _) = wallet(dir.path(), &["qr", "parse", mpm, "--json"]);
    assert_eq!(code, 0);
    let r: Value = serde_json::from_str(&out).unwrap();
    for f in [
        "kind", "valid", "crc_ok", "network", "warnings", "errors", "fields",
    ] {
        assert!(r.get(f).is_some(), "no {f}");
    }
    assert_eq!(r["kind"], "mpm");
    assert_eq!(r["valid"], true);
    assert_eq!(r["crc_ok"], true);
    assert_eq!(r["fields"]["merchant_name"], "BEST TRANSPORT");
    assert_eq!(r["fields"]["merchant_city"], "BEIJING");
    assert_eq!(r["fields"]["country"], "CN");
    assert_eq!(r["fields"]["currency"], "156");
    assert_eq!(r["fields"]["amount"], "23.72");
    assert_eq!(r["fields"]["mcc"], "4111");
    // A flipped CRC digit: reported, exit code 2.
    let bad = mpm.replace("6304A13A", "6304A13B");
    let (code, out, _) = wallet(dir.path(), &["qr", "parse", &bad, "--json"]);
    assert_eq!(code, 2);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["crc_ok"], false);
    assert_eq!(r["valid"], false);
    // WeChat and Alipay URL codes.
    for (url, network) in [
        ("wxp://f2f0xyz", "wechat_pay"),
        ("HTTPS://QR.ALIPAY.COM/FKX0", "alipay"),
        ("https://qr.95516.com/00010000/0123456789", "unionpay"),
    ] {
        let (_, out, _) = wallet(dir.path(), &["qr", "parse", url, "--json"]);
        let r: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(r["kind"], "url", "{url}");
        assert_eq!(r["network"], network, "{url}");
    }
    // Garbage: a typed error in the JSON, never a crash.
    let (code, out, _) = wallet(dir.path(), &["qr", "parse", "\u{1}\u{2}zz", "--json"]);
    assert_eq!(code, 2);
    let r: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(r["valid"], false);
    assert!(!r["errors"].as_array().unwrap().is_empty());
}

#[test]
fn qr_show_writes_a_png_and_svg_of_the_payment_code() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    ok(home, &["init"]);
    ok(home, &["card", "add-test", "--scheme", "unionpay"]);
    let png = dir.path().join("code.png");
    let svg = dir.path().join("code.svg");
    let shown: Value = serde_json::from_str(&ok(
        home,
        &[
            "qr",
            "show",
            "--png",
            png.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
            "--json",
        ],
    ))
    .unwrap();
    assert!(shown["payload"].as_str().unwrap().len() > 40);
    assert_eq!(std::fs::read(&png).unwrap()[..8], *b"\x89PNG\r\n\x1a\n");
    assert!(std::fs::read_to_string(&svg).unwrap().contains("<svg"));
    // The decoder the cashier's scanner would be: zbarimg reads back the exact payload.
    let z = Command::new("zbarimg")
        .args(["--raw", "-q"])
        .arg(&png)
        .output()
        .expect("zbarimg missing: apt-get install zbar-tools");
    assert_eq!(
        String::from_utf8_lossy(&z.stdout).trim_end(),
        shown["payload"].as_str().unwrap()
    );
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let (code, _, err) = wallet(home, &["cards"]);
    assert_eq!(code, 1);
    assert!(err.contains("init"), "{err}");
    ok(home, &["init"]);
    ok(home, &["card", "add-test", "--scheme", "visa"]);
    for (args, needle) in [
        (&["tap", "--amount", "12.345"][..], "decimals"),
        (&["tap", "--amount=-1"][..], "not a non-negative"),
        (
            &["card", "add-test", "--scheme", "visa", "--issuer-key", "00"][..],
            "32 hex",
        ),
        (&["unlock", "--seconds", "0"][..], "unlock window"),
        (&["history", "--after", "garbage"][..], "cursor"),
        (&["history", "--from", "2026-13-01"][..], "out of range"),
        (&["card", "default", "nope"][..], "not in the wallet"),
    ] {
        let (code, _, err) = wallet(home, args);
        assert_ne!(code, 0, "{args:?}");
        assert!(err.to_lowercase().contains(needle), "{args:?}: {err}");
    }
}
