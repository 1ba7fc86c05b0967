//! Compact JWEs from a lying server (the credentials and key batches it seals to the device):
//! no panic from `jwe::decrypt` or `jwe::peek_kid`; and a JWE the client itself built decrypts
//! to its plaintext while any single changed character makes it fail — no malleable header,
//! IV, ciphertext or tag, and no non-canonical base64 accepted.
//!
//! Input: first byte even — the rest is the compact JWE text as received; odd — two bytes
//! choose a position, one byte an XOR mask, and the rest is a plaintext to seal and tamper.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::sync::LazyLock;
use wallet_core::token::jwe::{self, AgreementKey};

const KID: &str = "device-1";

/// The device's agreement key: a fixed scalar, so the seeds (sealed to it) stay valid.
static DEVICE: LazyLock<AgreementKey> =
    LazyLock::new(|| AgreementKey::from_bytes(&[0x11; 32]).expect("valid P-256 scalar"));

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let _ = jwe::peek_kid(text);
        let _ = jwe::decrypt(&DEVICE, KID, text);
        return;
    }
    let Some((&[hi, lo, mask], plaintext)) = rest.split_first_chunk::<3>() else {
        return;
    };
    let recipient = DEVICE.public_jwk().with_kid(KID);
    let compact = jwe::encrypt(&recipient, plaintext, None).expect("encrypt to a valid key");
    let opened = jwe::decrypt(&DEVICE, KID, &compact).expect("own JWE decrypts");
    assert_eq!(&opened[..], plaintext);
    assert_eq!(jwe::peek_kid(&compact).as_deref(), Some(KID));
    assert!(jwe::decrypt(&DEVICE, "another-kid", &compact).is_err());

    let mut bytes = compact.clone().into_bytes();
    let at = usize::from(u16::from_be_bytes([hi, lo])) % bytes.len();
    bytes[at] ^= mask;
    let Ok(tampered) = String::from_utf8(bytes) else {
        return;
    };
    if tampered != compact {
        assert!(
            jwe::decrypt(&DEVICE, KID, &tampered).is_err(),
            "a JWE changed at {at} still decrypts"
        );
    }
});
