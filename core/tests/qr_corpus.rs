//! The QR corpus: 147 real-world and malformed payloads (fixtures/qr-corpus.jsonl, each with
//! its source) and the verdict and fields expected for each. Every mismatch is reported, not
//! just the first.

use serde_json::{Value, json};
use wallet_core::emv::tlv::Tag;
use wallet_core::qr::{self, cpm};

const CORPUS: &str = include_str!("fixtures/qr-corpus.jsonl");

fn entries() -> Vec<Value> {
    CORPUS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("corpus line is JSON"))
        .collect()
}

#[test]
fn corpus_has_147_entries_each_with_a_source() {
    let all = entries();
    assert_eq!(all.len(), 147);
    for e in &all {
        assert!(e["source"].is_object(), "{} has no source", e["id"]);
    }
}

#[test]
fn every_corpus_entry_matches_its_expected_verdict_and_fields() {
    let mut mismatches = Vec::new();
    let mut compared = 0;
    for e in entries() {
        let id = e["id"].as_str().unwrap_or("?").to_owned();
        let payload = e["payload"].as_str().unwrap_or_default();
        let expected = &e["expected"];
        let got = match e["mode"].as_str() {
            Some("MPM") => mpm_view(payload),
            Some("CPM") => cpm_view(payload),
            other => panic!("{id}: unknown mode {other:?}"),
        };
        let Some(got) = got else {
            mismatches.push(format!("{id}: scan refused the payload"));
            continue;
        };
        for (key, want) in expected.as_object().expect("expected is an object") {
            let have = got.get(key).unwrap_or(&Value::Null);
            compared += 1;
            if have != want {
                mismatches.push(format!("{id}.{key}: expected {want}, got {have}"));
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} mismatches:\n{}",
        mismatches.len(),
        mismatches.join("\n")
    );
    // 142 MPM entries × 19 keys + 5 CPM entries × 4 keys: the comparison really ran.
    assert_eq!(compared, 142 * 19 + 5 * 4);
}

/// The report in the corpus's vocabulary.
fn mpm_view(payload: &str) -> Option<Value> {
    let report = qr::scan_str(payload).ok()?;
    let code = qr::mpm::decode(payload).ok()?;
    let f = &report.fields;
    let guids: serde_json::Map<String, Value> = f
        .merchant_accounts
        .iter()
        .map(|a| (a.id.clone(), json!(a.guid)))
        .collect();
    Some(json!({
        "verdict": report.verdict,
        "crc_ok": report.crc_ok,
        "crc_stated": f.crc_stated,
        "crc_calc": f.crc_calc,
        "merchant_name": f.merchant_name,
        "merchant_city": f.merchant_city,
        "country": f.country,
        "currency": f.currency,
        "amount": f.amount,
        "mcc": f.mcc,
        "point_of_initiation": f.point_of_initiation,
        "payload_format_indicator": f.payload_format_indicator,
        "merchant_account_guids": guids,
        "reserved_network_ids": f.reserved_network_ids,
        "schemes": report.schemes,
        "errors": report.errors,
        "warnings": report.warnings,
        "length_chars": code.length_chars,
        "length_utf8_bytes": code.length_bytes,
    }))
}

fn cpm_view(payload: &str) -> Option<Value> {
    let report = qr::scan_str(payload).ok()?;
    let code = cpm::decode(payload).ok()?;
    let parsed = !code.tree.is_empty();
    Some(json!({
        "verdict": report.verdict,
        "errors": report.errors,
        "applications": parsed.then(|| code.applications.iter().map(|a| json!({
            "aid": hex::encode_upper(&a.aid),
            "label": a.label,
            "has_63": a.transaction.is_some(),
        })).collect::<Vec<_>>()),
        "tlv": parsed.then(|| tree(&code.tree)),
    }))
}

fn tree(nodes: &[cpm::Node]) -> Value {
    Value::Array(
        nodes
            .iter()
            .map(|n| {
                let mut o = json!({ "tag": tag_hex(n.tag), "len": n.value.len() });
                match &n.children {
                    Some(kids) => o["children"] = tree(kids),
                    None => {
                        o["hex"] = json!(hex::encode_upper(&n.value));
                        if let Some(text) = printable(&n.value) {
                            o["text"] = json!(text);
                        }
                    }
                }
                o
            })
            .collect(),
    )
}

fn tag_hex(tag: Tag) -> String {
    format!("{:X}", tag.0)
}

/// The corpus shows a text rendering for values that are printable ASCII (labels, names).
fn printable(v: &[u8]) -> Option<String> {
    (!v.is_empty()
        && v.iter().all(|b| (0x20..0x7F).contains(b))
        && v.iter().any(u8::is_ascii_alphabetic))
    .then(|| String::from_utf8_lossy(v).into_owned())
}
