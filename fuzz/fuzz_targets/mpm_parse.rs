//! Whatever a camera reads, as an EMVCo merchant-presented code: no panic from `qr::scan` or
//! `mpm::decode`; the report agrees with the decoder; and a code the decoder calls valid, once
//! turned back into a builder payload, builds to a payload that decodes valid to the same
//! merchant (objects in ID order) and builds again to the same string.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::qr::mpm::{self, Account, MerchantPayload};
use wallet_core::qr::{self, Kind, Verdict};

fuzz_target!(|data: &[u8]| {
    // Raw bytes, as a file or a camera hands them over.
    let scanned = qr::scan(data);
    let Ok(text) = std::str::from_utf8(data) else {
        assert!(scanned.is_err(), "non-UTF-8 input must be refused");
        return;
    };
    let report = qr::scan_str(text);
    assert_eq!(report, scanned, "scan and scan_str disagree");
    if let Ok(report) = &report {
        assert_eq!(report.valid, report.verdict.is_valid());
        assert!(
            !report.payable.can_pay || report.valid,
            "an invalid code is payable"
        );
        assert!(!report.to_json().is_empty());
    }

    // The MPM decoder on its own, whatever the input starts with.
    let Ok(code) = mpm::decode(text) else {
        return;
    };
    assert_eq!(code.is_valid(), code.verdict.is_valid());
    if code.verdict.is_valid() {
        assert!(code.crc.ok, "a valid code has a correct CRC");
        assert!(
            code.errors.is_empty(),
            "a valid code has no errors: {:?}",
            code.errors
        );
    }
    if let Ok(report) = &report
        && report.kind == Kind::Mpm
    {
        assert_eq!(
            report.verdict, code.verdict,
            "the report judges the code as the decoder does"
        );
    }
    if !code.verdict.is_valid() {
        return;
    }
    let Some(merchant) = MerchantPayload::from_code(&code) else {
        return;
    };
    // The builder is stricter than the decoder (digits, lengths, control characters): refusing
    // is fine, emitting something that does not read back is not.
    let Ok(payload) = merchant.build() else {
        return;
    };
    let again = mpm::decode(&payload).expect("a built payload is decodable");
    assert_eq!(
        again.verdict,
        Verdict::Valid,
        "built {payload:?}: {:?}",
        again.errors
    );
    assert!(
        again.warnings.is_empty(),
        "built {payload:?}: {:?}",
        again.warnings
    );
    // The builder emits objects in ID order; everything else reads back as given.
    let mut canonical = merchant;
    canonical.accounts.sort_by_key(|a| match a {
        Account::Network { id, .. } | Account::Template { id, .. } => *id,
    });
    canonical.unreserved.sort_by_key(|(id, _)| *id);
    assert_eq!(
        MerchantPayload::from_code(&again).as_ref(),
        Some(&canonical),
        "built {payload:?}"
    );
    assert_eq!(
        canonical.build().as_deref(),
        Ok(payload.as_str()),
        "a built payload is canonical"
    );
});
