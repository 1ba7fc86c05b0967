//! Hostile and broken input: a typed error or a non-valid verdict, never a panic.

use proptest::prelude::*;
use wallet_core::qr::{self, InputError, Verdict, cpm, mpm};

/// EMVCo annex example (corpus mpm-009): valid, with non-ASCII values.
const ANNEX: &str = "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A";
/// UnionPay CPM sample (corpus cpm-144).
const CPM_UNIONPAY: &str = "hQVDUFYwMWFWTwigAAADMwEBAlcRYmNgAQBxNnLSMSIBAAABiAFfNAEAYzOfJghWite85mtxi58nAYCfEBEHAAEDoAAAAQgwMDAwMDAwMZ82AhEiggIAAJ83BCJgSI4=";

fn verdict(payload: &str) -> Verdict {
    mpm::decode(payload).expect("is an MPM payload").verdict
}

fn errors(payload: &str) -> Vec<String> {
    qr::scan_str(payload).expect("scans").errors
}

#[test]
fn truncated_payloads_are_never_valid() {
    assert_eq!(verdict(ANNEX), Verdict::Valid);
    for (cut, _) in ANNEX.char_indices().skip(1) {
        let v = verdict(&ANNEX[..cut]);
        assert!(!v.is_valid(), "truncated at {cut}: {v}");
    }
}

#[test]
fn wrong_and_non_numeric_lengths() {
    assert_eq!(
        errors("000201010211520X5812"),
        vec![
            "non-numeric length '0X' for ID 52 at offset 12".to_owned(),
            "no CRC object (ID 63) as last data object".to_owned()
        ]
    );
    // A length one too long swallows the next header and misaligns the rest.
    let v = verdict("00020101021152055812530315663041234");
    assert_eq!(v, Verdict::InvalidStructure);
    assert_eq!(
        errors("0002010102115200")[0],
        "zero length for ID 52 at offset 12"
    );
    assert_eq!(errors("00020101021159")[0], "truncated header at offset 12");
}

#[test]
fn duplicate_ids_and_bad_crc() {
    let dup = ANNEX.replacen("5802CN", "5802CN5802CN", 1);
    assert_eq!(verdict(&dup), Verdict::InvalidStructure);
    assert!(errors(&dup).contains(&"duplicate top-level ID 58".to_owned()));

    let bad_crc = ANNEX.replace("A13A", "A13B");
    assert_eq!(verdict(&bad_crc), Verdict::InvalidCrc);
    let not_hex = ANNEX.replace("A13A", "+13A");
    assert_eq!(verdict(&not_hex), Verdict::InvalidCrc);
    let lower = ANNEX.replace("A13A", "a13a");
    let report = qr::scan_str(&lower).expect("scans");
    assert!(
        report.valid && report.warnings == ["CRC hex in lowercase"],
        "{report:?}"
    );
}

#[test]
fn huge_empty_and_non_utf8_input_are_typed_errors() {
    let huge = "0".repeat(10_000_000);
    assert_eq!(
        qr::scan(huge.as_bytes()),
        Err(InputError::TooLarge {
            len: 10_000_000,
            max: 1024
        })
    );
    assert_eq!(
        qr::scan_str(&huge),
        Err(InputError::TooLarge {
            len: 10_000_000,
            max: 1024
        })
    );
    assert_eq!(
        cpm::decode(&huge),
        Err(InputError::TooLarge {
            len: 10_000_000,
            max: 1024
        })
    );
    // Over EMVCo's 512 characters but under the byte cap.
    assert_eq!(
        mpm::decode(&"0".repeat(600)),
        Err(InputError::TooLong {
            chars: 600,
            max: 512
        })
    );
    assert_eq!(qr::scan(b""), Err(InputError::Empty));
    assert_eq!(
        qr::scan(b"000201\xff\xfe0102"),
        Err(InputError::NotUtf8 { valid_up_to: 6 })
    );
    assert_eq!(qr::scan(b"hello"), Err(InputError::Unrecognised));
}

#[test]
fn base64_garbage_and_broken_cpm() {
    let not_b64 = cpm::decode("hQ!!not base64").expect("decodes to a report");
    assert_eq!(not_b64.verdict, Verdict::InvalidBase64);
    let report = qr::scan_str("hQ!!not base64").expect("scans");
    assert_eq!(
        (report.valid, report.verdict),
        (false, Verdict::InvalidBase64)
    );
    // Valid base64, not BER-TLV (a length running far past the end).
    assert_eq!(
        cpm::decode("hQVD").expect("report").verdict,
        Verdict::InvalidBerTlv
    );
    // Wrong format indicator.
    let wrong = cpm::decode("hQVDUFYwMmEJTwegAAAAVVVV").expect("report");
    assert_eq!(wrong.verdict, Verdict::InvalidStructure);
    assert_eq!(
        wrong.errors,
        vec![cpm::CpmError::WrongFormat("CPV02".into())]
    );
    // Every truncation of a valid code (whole base64 quanta) is rejected.
    let bytes = CPM_UNIONPAY.trim_end_matches('=');
    for cut in (4..bytes.len()).step_by(4) {
        let v = cpm::decode(&bytes[..cut]).expect("report").verdict;
        assert!(!v.is_valid(), "cut at {cut}: {v}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn random_text_never_panics(s in "\\PC{0,700}") {
        let _ = qr::scan_str(&s);
        let _ = mpm::decode(&s);
        let _ = cpm::decode(&s);
    }

    #[test]
    fn random_mpm_like_text_never_panics(s in "(00|0[0-9]|[0-9]{2})[0-9A-Za-z最.]{0,300}") {
        if let Ok(code) = mpm::decode(&s) {
            // A random string is valid only with a matching CRC, which it almost never has.
            prop_assert_eq!(code.verdict.is_valid(), code.crc.ok && code.errors.is_empty());
        }
    }

    #[test]
    fn random_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..1500)) {
        let _ = qr::scan(&b);
        let b64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &b);
        let _ = cpm::decode(&b64);
        let _ = qr::scan_str(&format!("hQ{b64}"));
    }

    #[test]
    fn one_changed_character_is_never_valid(pos in 0usize..260, c in "[ -~]") {
        let chars: Vec<char> = ANNEX.chars().collect();
        // The CRC digits themselves: a case change there is only a warning.
        let pos = pos % (chars.len() - 4);
        let replacement = c.chars().next().unwrap_or('x');
        prop_assume!(chars[pos] != replacement);
        let mut mutated = chars.clone();
        mutated[pos] = replacement;
        let mutated: String = mutated.into_iter().collect();
        prop_assert!(!verdict(&mutated).is_valid(), "{mutated}");
    }

    #[test]
    fn random_cpm_mutations_never_panic(pos in 0usize..200, byte in any::<u8>()) {
        use base64::Engine as _;
        let engine = base64::engine::general_purpose::STANDARD;
        let mut raw = engine.decode(CPM_UNIONPAY).expect("sample is base64");
        let i = pos % raw.len();
        raw[i] = byte;
        let _ = qr::scan_str(&engine.encode(&raw));
    }
}
