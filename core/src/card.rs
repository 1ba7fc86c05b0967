//! What a personalised card is: its static profile (no secrets) and, at personalisation time,
//! its batch of single-use session keys.
//!
//! This is the contract between the issuer (sandbox or token service) that personalises a card,
//! the store that keeps it, and the HCE engine that answers with it.

use crate::emv::crypto::Key16;
use crate::emv::cvn::Cvn;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    UnionPay,
    Visa,
    Mastercard,
}

/// UnionPay debit (qPBOC).
pub const AID_UNIONPAY_DEBIT: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01];
/// UnionPay credit (qPBOC).
pub const AID_UNIONPAY_CREDIT: [u8; 8] = [0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x02];
/// Visa credit/debit (qVSDC).
pub const AID_VISA: [u8; 7] = [0xA0, 0x00, 0x00, 0x00, 0x03, 0x10, 0x10];
/// Mastercard credit/debit (M/Chip).
pub const AID_MASTERCARD: [u8; 7] = [0xA0, 0x00, 0x00, 0x00, 0x04, 0x10, 0x10];
/// The proximity payment system environment every contactless reader selects first.
pub const PPSE: &[u8] = b"2PAY.SYS.DDF01";

/// Every AID the card engine answers to. The Android `apduservice.xml` must list exactly these
/// (plus the PPSE); a test derives the check from this list so the two cannot drift.
pub const ALL_AIDS: [&[u8]; 4] = [
    &AID_UNIONPAY_DEBIT,
    &AID_UNIONPAY_CREDIT,
    &AID_VISA,
    &AID_MASTERCARD,
];

impl Scheme {
    pub fn name(self) -> &'static str {
        match self {
            Scheme::UnionPay => "unionpay",
            Scheme::Visa => "visa",
            Scheme::Mastercard => "mastercard",
        }
    }
}

impl std::str::FromStr for Scheme {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "unionpay" | "upi" | "cup" => Ok(Scheme::UnionPay),
            "visa" => Ok(Scheme::Visa),
            "mastercard" | "mc" => Ok(Scheme::Mastercard),
            other => Err(format!(
                "unknown scheme '{other}' (unionpay, visa, mastercard)"
            )),
        }
    }
}

/// The static data of one card: what the card answers with, never a key.
///
/// `token_pan` is the payment token, not the funding PAN; it is still personal data, so `Debug`
/// masks it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardProfile {
    /// Wallet-local identifier, stable for the card's life.
    pub id: String,
    pub scheme: Scheme,
    #[serde(with = "hex::serde")]
    pub aid: Vec<u8>,
    /// Application label (tag 50), ASCII.
    pub label: String,
    /// Token PAN, decimal digits.
    pub token_pan: String,
    /// Expiry as YYMM.
    pub expiry: String,
    /// PAN sequence number (5F34).
    pub psn: u8,
    pub cvn: Cvn,
    /// Derivation key index, carried in the IAD.
    pub dki: u8,
    /// Above this amount (minor units) a tap needs CDCVM.
    pub cvm_limit_minor: u64,
    /// ISO 3166 numeric country of the issuer (5F28).
    pub issuer_country: u16,
}

impl fmt::Debug for CardProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CardProfile")
            .field("id", &self.id)
            .field("scheme", &self.scheme)
            .field("aid", &hex::encode_upper(&self.aid))
            .field("token_pan", &mask_pan(&self.token_pan))
            .field("psn", &self.psn)
            .field("cvn", &self.cvn)
            .finish_non_exhaustive()
    }
}

/// `6212 **** **** 4567`-style masking for logs and display: first 4 and last 4 digits.
pub fn mask_pan(pan: &str) -> String {
    // By characters, not bytes: a non-ASCII string must mask, never panic on a char boundary.
    let chars: Vec<char> = pan.chars().collect();
    let n = chars.len();
    if n <= 8 {
        return "*".repeat(n);
    }
    chars[..4]
        .iter()
        .chain(std::iter::repeat_n(&'*', n - 8))
        .chain(&chars[n - 4..])
        .collect()
}

/// One pre-derived single-use session key and the ATC it belongs to.
pub struct SessionKey {
    pub atc: u16,
    pub key: Key16,
}

/// Everything an issuer hands over when it personalises a card.
pub struct Personalisation {
    pub profile: CardProfile,
    /// Keys for a contiguous, increasing range of ATCs.
    pub keys: Vec<SessionKey>,
}

#[cfg(test)]
mod tests {
    use super::mask_pan;

    #[test]
    fn masks_by_character() {
        assert_eq!(mask_pan("6212345678901234567"), "6212***********4567");
        assert_eq!(mask_pan("41111111"), "********");
        assert_eq!(mask_pan(""), "");
        // Not a PAN, but it must not panic.
        assert_eq!(mask_pan("卡号卡号卡号卡号卡号"), "卡号卡号**卡号卡号");
    }
}
