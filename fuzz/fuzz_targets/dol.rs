//! DOLs and DOL data from the other side: no panic; build and split agree on lengths.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::emv::dol;

fuzz_target!(|data: &[u8]| {
    // First byte: where the DOL ends and the DOL data begins.
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let (list, values) = rest.split_at(usize::from(cut).min(rest.len()));
    let Ok(entries) = dol::parse(list) else {
        return;
    };
    assert!(dol::data_len(&entries) <= dol::MAX_DATA_LEN);
    assert_eq!(dol::parse(&dol::encode(&entries)).as_ref(), Ok(&entries));

    // Terminal side: fill every entry from the remaining bytes.
    let built = dol::build_data(&entries, |_| Some(values));
    assert_eq!(built.len(), dol::data_len(&entries));
    let parts = dol::split(&entries, &built).expect("built data has the DOL's length");
    assert_eq!(parts.len(), entries.len());

    // Card side: the terminal's data as it came.
    match dol::split(&entries, values) {
        Ok(parts) => assert_eq!(
            parts.iter().map(|(_, v)| v.len()).sum::<usize>(),
            values.len()
        ),
        Err(dol::DolError::WrongLength { expected, got }) => assert_ne!(expected, got),
        Err(e) => panic!("unexpected {e:?}"),
    }
});
