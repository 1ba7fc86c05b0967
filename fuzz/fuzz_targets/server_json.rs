//! Every answer a lying token service can send, as the client parses it: no panic from the
//! JSON parsing of each response type or JWE plaintext; what parses serialises and parses back
//! equal; JWKs the server publishes either convert to a P-256 point or are skipped; key
//! material that is not 32 hex digits is refused; and a card profile from the server either
//! builds a card image or is refused with an error — never a panic in the card engine.
//!
//! Input: the first byte chooses the type, the rest is the JSON body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fmt::Debug;
use wallet_core::emv::crypto::Key16;
use wallet_core::hce::Engine;
use wallet_core::token::api::{
    AuthorizeResponse, CredentialPayload, DeviceRegistered, Eligible, ErrorBody, Events,
    IdvSelected, Jwks, KeyBatch, ProvisioningStatus, Sealed, TokenStatus, TokenizeResult,
    TxnRecord, WireKey,
};

/// Parse; what parses must survive a round trip unchanged.
fn round_trip<T: DeserializeOwned + Serialize + PartialEq + Debug>(json: &[u8]) {
    if let Ok(value) = serde_json::from_slice::<T>(json) {
        let again = serde_json::to_vec(&value).expect("serialises");
        let back: T = serde_json::from_slice(&again).expect("parses back");
        assert_eq!(back, value);
        let _ = format!("{value:?}");
    }
}

fn keys(wire: &[WireKey]) {
    for k in wire {
        let parsed = Key16::from_hex(&k.key.0);
        let is_hex = k.key.0.len() == 32 && k.key.0.bytes().all(|b| b.is_ascii_hexdigit());
        assert_eq!(
            parsed.is_some(),
            is_hex,
            "key hex accepted or refused wrongly"
        );
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, json)) = data.split_first() else {
        return;
    };
    match which % 13 {
        0 => round_trip::<ErrorBody>(json),
        1 => round_trip::<DeviceRegistered>(json),
        2 => round_trip::<Eligible>(json),
        3 => round_trip::<TokenizeResult>(json),
        4 => round_trip::<IdvSelected>(json),
        5 => round_trip::<ProvisioningStatus>(json),
        6 => round_trip::<Sealed>(json),
        7 => round_trip::<TokenStatus>(json),
        8 => round_trip::<Events>(json),
        9 => round_trip::<TxnRecord>(json),
        10 => round_trip::<AuthorizeResponse>(json),
        11 => {
            if let Ok(jwks) = serde_json::from_slice::<Jwks>(json) {
                for k in &jwks.keys {
                    if let Some(point) = k.to_sec1() {
                        assert_eq!(point.len(), 65, "uncompressed P-256 point");
                        let _ = k.thumbprint();
                    }
                }
            }
        }
        _ => {
            if let Ok(batch) = serde_json::from_slice::<KeyBatch>(json) {
                keys(&batch.keys);
            }
            if let Ok(payload) = serde_json::from_slice::<CredentialPayload>(json) {
                keys(&payload.keys);
                let _ = format!("{:?}", payload.profile);
                let _ = Engine::new(vec![payload.profile]);
            }
        }
    }
});
