//! The sandbox's test cards: funding PANs a wallet can provision, each with a fixed outcome.
//!
//! The numbers are made up (Luhn-valid, in each scheme's IIN range) and belong to no real
//! account. `wallet-sandbox test-cards --json` prints this list.

use serde::Serialize;
use wallet_core::card::Scheme;

/// What the token service does with a card.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Behaviour {
    /// Tokenize answers APPROVED.
    Approve,
    /// Tokenize answers REQUIRE_IDV; an OTP (from the sandbox outbox) approves.
    Otp,
    /// Eligible, but tokenize answers DECLINED.
    Decline,
    /// Eligibility refuses it (the issuer does not take part in the wallet).
    Ineligible,
}

#[derive(Debug, Clone, Serialize)]
pub struct TestCard {
    pub pan: &'static str,
    /// `MM/YY`, as printed on the card.
    pub expiry: &'static str,
    pub name: &'static str,
    pub scheme: Scheme,
    pub behaviour: Behaviour,
    /// One line for people: what happens when you provision it.
    pub note: &'static str,
}

const fn card(
    pan: &'static str,
    expiry: &'static str,
    name: &'static str,
    scheme: Scheme,
    behaviour: Behaviour,
    note: &'static str,
) -> TestCard {
    TestCard {
        pan,
        expiry,
        name,
        scheme,
        behaviour,
        note,
    }
}

use Behaviour::*;
use Scheme::*;

/// The catalogue. Expiry dates are far enough ahead to stay valid for years; one card is
/// expired on purpose.
pub const CARDS: &[TestCard] = &[
    card(
        "6212340000000001",
        "12/35",
        "LI LEI",
        UnionPay,
        Approve,
        "UnionPay debit, approved",
    ),
    card(
        "6234560000000000001",
        "12/35",
        "HAN MEIMEI",
        UnionPay,
        Approve,
        "UnionPay 19-digit, approved",
    ),
    card(
        "6212340000000019",
        "12/35",
        "WANG FANG",
        UnionPay,
        Otp,
        "UnionPay, needs an SMS/email OTP",
    ),
    card(
        "6234560000000000019",
        "12/35",
        "ZHANG WEI",
        UnionPay,
        Otp,
        "UnionPay 19-digit, needs an OTP",
    ),
    card(
        "6212340000000027",
        "12/35",
        "LIU YANG",
        UnionPay,
        Decline,
        "UnionPay, tokenize declined",
    ),
    card(
        "6212340000000035",
        "12/35",
        "CHEN JING",
        UnionPay,
        Ineligible,
        "UnionPay, issuer not in the wallet",
    ),
    card(
        "4000123400000008",
        "12/35",
        "ALEX DOE",
        Visa,
        Approve,
        "Visa, approved",
    ),
    card(
        "4000123400000016",
        "12/35",
        "SAM DOE",
        Visa,
        Otp,
        "Visa, needs an OTP",
    ),
    card(
        "4000123400000024",
        "12/35",
        "JO DOE",
        Visa,
        Decline,
        "Visa, tokenize declined",
    ),
    card(
        "4000123400000032",
        "12/35",
        "KIM DOE",
        Visa,
        Ineligible,
        "Visa, issuer not in the wallet",
    ),
    card(
        "4000123400000040",
        "01/20",
        "OLD DOE",
        Visa,
        Approve,
        "Visa, expired in January 2020",
    ),
    card(
        "5204730000000005",
        "12/35",
        "MARIA ROSSI",
        Mastercard,
        Approve,
        "Mastercard, approved",
    ),
    card(
        "5204730000000013",
        "12/35",
        "LUCA ROSSI",
        Mastercard,
        Otp,
        "Mastercard, needs an OTP",
    ),
    card(
        "5204730000000021",
        "12/35",
        "ANNA ROSSI",
        Mastercard,
        Decline,
        "Mastercard, tokenize declined",
    ),
    card(
        "2221000000000009",
        "12/35",
        "PAOLO ROSSI",
        Mastercard,
        Approve,
        "Mastercard 2-series, approved",
    ),
    card(
        "5204730000000039",
        "12/35",
        "GIULIA ROSSI",
        Mastercard,
        Ineligible,
        "Mastercard, issuer not in the wallet",
    ),
];

/// The test card with this PAN.
pub fn find(pan: &str) -> Option<&'static TestCard> {
    CARDS.iter().find(|c| c.pan == pan)
}

/// The first card of `scheme` with `behaviour` that has not expired (for tests and demos).
pub fn pick(scheme: Scheme, behaviour: Behaviour) -> Option<&'static TestCard> {
    CARDS
        .iter()
        .find(|c| c.scheme == scheme && c.behaviour == behaviour && c.expiry != EXPIRED.expiry)
}

/// The card that is past its expiry date.
pub const EXPIRED: &TestCard = &CARDS[10];

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::token::pan::{luhn_valid, scheme_of};

    #[test]
    fn every_card_is_luhn_valid_in_its_scheme_and_unique() {
        for c in CARDS {
            assert!(luhn_valid(c.pan), "{}", c.pan);
            assert_eq!(scheme_of(c.pan), Some(c.scheme), "{}", c.pan);
            assert_eq!(CARDS.iter().filter(|o| o.pan == c.pan).count(), 1);
        }
        assert!(CARDS.iter().any(|c| c.pan.len() == 19));
        assert_eq!(EXPIRED.expiry, "01/20");
    }

    #[test]
    fn every_scheme_has_every_outcome() {
        for s in [UnionPay, Visa, Mastercard] {
            for b in [Approve, Otp, Decline, Ineligible] {
                assert!(pick(s, b).is_some(), "{s:?} {b:?}");
            }
        }
    }
}
