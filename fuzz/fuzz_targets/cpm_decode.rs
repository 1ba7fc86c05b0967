//! Consumer-presented codes from a hostile screen: no panic from `cpm::decode` or `qr::scan`;
//! a valid code has no errors and at least one application with a 5-16 byte AID; the decoded
//! tree, re-encoded without padding, decodes to the same applications and verdict; and the
//! scan report never shows more than the first and last four digits of a PAN.
//!
//! Input: first byte even — the rest is the text as scanned; odd — the rest is BER-TLV and is
//! base64-encoded first, so the fuzzer works on the structure rather than on base64.
#![no_main]

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use wallet_core::emv::tlv;
use wallet_core::qr::cpm::{self, Node};
use wallet_core::qr::{self, Kind, Verdict};

fn encode(nodes: &[Node], out: &mut Vec<u8>) {
    for n in nodes {
        match &n.children {
            Some(kids) => {
                let mut inner = Vec::new();
                encode(kids, &mut inner);
                tlv::encode_into(out, n.tag, &inner);
            }
            None => tlv::encode_into(out, n.tag, &n.value),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let text = if mode & 1 == 1 {
        STANDARD.encode(rest)
    } else {
        match std::str::from_utf8(rest) {
            Ok(t) => t.to_owned(),
            Err(_) => return,
        }
    };
    if let Ok(report) = qr::scan_str(&text) {
        if report.kind == Kind::Cpm {
            for app in &report.fields.applications {
                if let Some(pan) = &app.pan {
                    let shown = pan.bytes().filter(u8::is_ascii_hexdigit).count();
                    assert!(shown <= 8, "report shows {shown} PAN digits");
                }
            }
        }
    }
    let Ok(code) = cpm::decode(&text) else {
        return;
    };
    assert_eq!(
        code.verdict == Verdict::Valid,
        code.errors.is_empty(),
        "{:?}",
        code.errors
    );
    if code.verdict == Verdict::Valid {
        assert!(!code.applications.is_empty());
        assert!(
            code.applications
                .iter()
                .all(|a| (5..=16).contains(&a.aid.len()))
        );
    }
    if code.tree.is_empty() {
        return;
    }
    // Padding between objects and non-minimal lengths go; the meaning must not change.
    let mut canonical = Vec::new();
    encode(&code.tree, &mut canonical);
    let Ok(again) = cpm::decode(&STANDARD.encode(&canonical)) else {
        // Re-encoding can only grow past the input limit by longer length fields.
        assert!(canonical.len() * 4 / 3 > wallet_core::qr::MAX_INPUT_BYTES - 8);
        return;
    };
    let mut twice = Vec::new();
    encode(&again.tree, &mut twice);
    assert_eq!(twice, canonical, "canonical encoding is stable");
    assert_eq!(again.verdict, code.verdict);
    assert_eq!(again.applications, code.applications);
    assert_eq!(again.common, code.common);
});
