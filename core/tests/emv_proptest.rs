//! Property tests for the EMV parsers: arbitrary bytes never panic them, and what the
//! encoders write parses back to what went in.

use proptest::prelude::*;
use wallet_core::emv::apdu::Command;
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::{AcInput, Cvn};
use wallet_core::emv::tlv::{self, Tag, TlvBuilder};
use wallet_core::emv::{bcd, dol};

/// Tags as EMV writes them: never starting with the `00`/`FF` padding bytes.
fn tag() -> impl Strategy<Value = Tag> {
    let first = any::<u8>().prop_filter("not padding", |b| *b != 0x00 && *b != 0xFF);
    prop_oneof![
        first
            .clone()
            .prop_filter("one byte", |b| b & 0x1F != 0x1F)
            .prop_map(|b| Tag(u32::from(b))),
        (first.clone(), 0u8..0x80).prop_map(|(b, c)| Tag(u32::from(b | 0x1F) << 8 | u32::from(c))),
        (first, 0x80u8..=0xFF, 0u8..0x80).prop_map(|(b, c, d)| Tag(u32::from(b | 0x1F) << 16
            | u32::from(c) << 8
            | u32::from(d))),
    ]
    .prop_filter("not FF-led", |t| t.to_bytes()[0] != 0xFF)
}

fn primitive_tag() -> impl Strategy<Value = Tag> {
    tag().prop_filter("primitive", |t| !t.is_constructed())
}

fn ac_input(iad: Vec<u8>) -> AcInput {
    AcInput {
        amount: [0; 6],
        amount_other: [0; 6],
        terminal_country: [0; 2],
        tvr: [0; 5],
        currency: [0; 2],
        date: [0; 3],
        txn_type: 0,
        un: [0; 4],
        aip: [0; 2],
        atc: 1,
        iad,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..600), t in any::<u32>()) {
        let _ = tlv::parse_all(&data);
        let _ = tlv::find(&data, Tag(t & 0xFF_FFFF));
        let _ = tlv::validate(&data);
        let _ = tlv::parse_object(&data);
        let _ = tlv::objects(&data).count();
        if let Ok(objects) = tlv::parse_all(&data) {
            for o in objects {
                let _ = o.children();
            }
        }
        let _ = Command::parse(&data);
        if let Ok(entries) = dol::parse(&data) {
            let _ = dol::split(&entries, &data);
            let _ = dol::build_data(&entries, |_| Some(&data[..]));
        }
        let _ = bcd::decode_n(&data);
        let _ = bcd::decode_cn(&data);
        let _ = Cvn::from_iad(&data);
        let key = Key16::from_bytes([7; 16]);
        for cvn in Cvn::ALL {
            let _ = cvn.cdcvm_performed(&data);
            let _ = cvn.arqc(&key, &ac_input(data.clone()));
        }
    }

    /// Nested well-formed trees of random depth parse; find and validate respect MAX_DEPTH.
    #[test]
    fn nesting_is_bounded(depth in 1usize..12, leaf in proptest::collection::vec(any::<u8>(), 0..40)) {
        let mut data = tlv::encode(Tag(0x9F26), &leaf);
        for _ in 1..depth {
            data = tlv::encode(Tag(0x77), &data);
        }
        let found = tlv::find(&data, Tag(0x9F26));
        if depth <= tlv::MAX_DEPTH {
            prop_assert_eq!(found, Ok(Some(&leaf[..])));
            prop_assert_eq!(tlv::validate(&data), Ok(()));
        } else {
            prop_assert_eq!(found, Err(tlv::TlvError::TooDeep));
        }
    }

    #[test]
    fn tlv_encode_then_parse(
        objects in proptest::collection::vec((primitive_tag(), proptest::collection::vec(any::<u8>(), 0..300)), 0..8),
        padding in proptest::collection::vec(prop_oneof![Just(0x00u8), Just(0xFF)], 0..4),
    ) {
        let mut data = Vec::new();
        for (t, v) in &objects {
            data.extend_from_slice(&padding);
            tlv::encode_into(&mut data, *t, v);
        }
        data.extend_from_slice(&padding);
        let parsed = tlv::parse_all(&data).unwrap();
        prop_assert_eq!(parsed.len(), objects.len());
        for (p, (t, v)) in parsed.iter().zip(&objects) {
            prop_assert_eq!(p.tag, *t);
            prop_assert_eq!(p.value, &v[..]);
            prop_assert_eq!(Tag::parse(&t.to_bytes()), Ok((*t, t.to_bytes().len())));
        }
        // Wrapped in a template, each object is found by its tag.
        let wrapped = TlvBuilder::new().constructed(Tag(0x70), |b| { b.raw(&data); }).finish();
        if let Some((t, v)) = objects.first() {
            prop_assert_eq!(tlv::find(&wrapped, *t), Ok(Some(&v[..])));
        }
    }

    #[test]
    fn apdu_encode_then_parse(
        cla in any::<u8>(), ins in any::<u8>(), p1 in any::<u8>(), p2 in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..400),
        le in proptest::option::of(1usize..=65_536),
    ) {
        let cmd = Command { cla, ins, p1, p2, data: &data, le };
        let raw = cmd.to_bytes();
        prop_assert_eq!(Command::parse(&raw), Ok(cmd));
    }

    /// Whatever parses re-encodes to something that parses to the same command.
    #[test]
    fn apdu_parse_is_stable(raw in proptest::collection::vec(any::<u8>(), 0..300)) {
        if let Ok(cmd) = Command::parse(&raw) {
            let again = cmd.to_bytes();
            prop_assert_eq!(Command::parse(&again), Ok(cmd));
        }
    }

    #[test]
    fn dol_round_trips(
        entries in proptest::collection::vec((tag(), 0usize..=255), 0..4),
        values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 4),
    ) {
        let entries: Vec<dol::DolEntry> = entries.into_iter().map(|(tag, len)| dol::DolEntry { tag, len }).collect();
        let encoded = dol::encode(&entries);
        prop_assert_eq!(dol::parse(&encoded), Ok(entries.clone()));
        let data = dol::build_data(&entries, |t| {
            entries.iter().position(|e| e.tag == t).map(|i| &values[i][..])
        });
        prop_assert_eq!(data.len(), dol::data_len(&entries));
        let parts = dol::split(&entries, &data).unwrap();
        prop_assert_eq!(parts.len(), entries.len());
        for ((t, v), e) in parts.iter().zip(&entries) {
            prop_assert_eq!(*t, e.tag);
            prop_assert_eq!(v.len(), e.len);
        }
        if !data.is_empty() {
            prop_assert!(dol::split(&entries, &data[1..]).is_err());
        }
    }

    #[test]
    fn bcd_round_trips(value in 0u64..1_000_000_000_000, digits in "[0-9]{0,19}") {
        prop_assert_eq!(bcd::decode_n(&bcd::amount(value).unwrap()), Some(value));
        prop_assert_eq!(bcd::decode_cn(&bcd::encode_cn(&digits).unwrap()), Some(digits));
    }
}
