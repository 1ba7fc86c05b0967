//! BER-TLV from a hostile terminal or QR code: no panic, and whatever parses re-encodes to
//! the same objects.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::emv::tlv::{self, Tag};

fuzz_target!(|data: &[u8]| {
    // The first three bytes choose a tag to look for; all of the input is parsed.
    let wanted = Tag(data
        .iter()
        .take(3)
        .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)));
    let found = tlv::find(data, wanted);
    let valid = tlv::validate(data);
    if let Ok(objects) = tlv::parse_all(data) {
        let mut encoded = Vec::new();
        for object in &objects {
            tlv::encode_into(&mut encoded, object.tag, object.value);
            if let Ok(children) = object.children() {
                assert!(children.iter().all(|c| c.value.len() <= object.value.len()));
            }
        }
        assert_eq!(tlv::parse_all(&encoded).as_ref(), Ok(&objects));
        // A fully valid tree must let `find` answer without error.
        if valid.is_ok() {
            assert!(found.is_ok());
        }
    } else {
        assert!(valid.is_err());
    }
});
