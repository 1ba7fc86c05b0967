//! Command APDUs from a hostile reader: no panic, only 6700 as an error, and what parses
//! re-encodes to the same command.
#![no_main]

use libfuzzer_sys::fuzz_target;
use wallet_core::emv::apdu::{Command, StatusWord};

fuzz_target!(|data: &[u8]| {
    match Command::parse(data) {
        Ok(cmd) => {
            assert!(cmd.data.len() < data.len());
            assert!(cmd.le.is_none_or(|n| (1..=65_536).contains(&n)));
            assert_eq!(Command::parse(&cmd.to_bytes()), Ok(cmd));
        }
        Err(sw) => assert_eq!(sw, StatusWord::WRONG_LENGTH),
    }
});
