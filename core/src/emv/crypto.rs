//! EMV symmetric cryptography: double-length 3DES keys, ISO 9797-1 MAC algorithm 3, ICC master
//! key derivation (options A and B) and session keys (EMV common session key, Mastercard SKD,
//! UnionPay qPBOC). The block cipher is RustCrypto's `des`; `ring` has no DES.

use zeroize::Zeroizing;

/// A double-length (16-byte) 3DES key. Wiped on drop; no `Debug`, `Display` or `Clone` so it
/// cannot end up in a log or be copied by accident.
pub struct Key16(Zeroizing<[u8; 16]>);

impl Key16 {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// From 32 hex digits; `None` otherwise.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let mut b = Zeroizing::new([0u8; 16]);
        hex::decode_to_slice(hex, &mut b[..]).ok()?;
        Some(Self(b))
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// An explicit copy, for the few places that must hand a key on (personalisation).
    pub fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }
}

/// ISO 9797-1 padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Method 1: zeros to a block boundary (none if already aligned).
    Method1,
    /// Method 2: `80` then zeros (always at least one byte).
    Method2,
}

/// ECB 3DES (EDE, K1 K2 K1) encryption of one block.
pub fn tdes_encrypt_block(key: &Key16, block: &[u8; 8]) -> [u8; 8] {
    todo!("emv helper {:?} {block:?}", key.as_bytes().len())
}

/// ISO 9797-1 MAC algorithm 3 ("retail MAC"): single-DES CBC-MAC under K1, final block
/// decrypted with K2 and encrypted with K1. Full 8 bytes.
pub fn mac_retail(key: &Key16, data: &[u8], padding: Padding) -> [u8; 8] {
    todo!("emv helper {:?} {data:?} {padding:?}", key.as_bytes().len())
}

/// EMV Book 2 A1.4.1 option A: ICC master key from the issuer master key, the rightmost 16
/// digits of PAN||PSN, and its complement; DES parity set.
pub fn icc_master_key_option_a(imk: &Key16, pan: &str, psn: u8) -> Key16 {
    todo!("emv helper {:?} {pan} {psn}", imk.as_bytes().len())
}

/// EMV Book 2 A1.4.2 option B (SHA-1 based); equals option A when PAN||PSN has ≤ 16 digits.
pub fn icc_master_key_option_b(imk: &Key16, pan: &str, psn: u8) -> Key16 {
    todo!("emv helper {:?} {pan} {psn}", imk.as_bytes().len())
}

/// EMV Book 2 A1.3 common session key: R = ATC || 00 00 00 00 00 00.
pub fn session_key_emv_csk(icc_mk: &Key16, atc: u16) -> Key16 {
    todo!("emv helper {:?} {atc}", icc_mk.as_bytes().len())
}

/// Mastercard SKD: R = ATC || 00 00 || UN.
pub fn session_key_mastercard_skd(icc_mk: &Key16, atc: u16, un: [u8; 4]) -> Key16 {
    todo!("emv helper {:?} {atc} {un:?}", icc_mk.as_bytes().len())
}

/// UnionPay qPBOC: SK = E(00×6 || ATC) || E(00×6 || ATC ⊕ FFFF) under the UDK.
pub fn session_key_unionpay(udk: &Key16, atc: u16) -> Key16 {
    todo!("emv helper {:?} {atc}", udk.as_bytes().len())
}

/// Constant-time equality, for MACs and cryptograms.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}
