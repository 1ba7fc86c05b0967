//! Card numbers: the Luhn check, which scheme a number belongs to, and a PAN type that lives
//! only in zeroizing memory.
//!
//! Both sides use this: the wallet rejects a mistyped number before encrypting it, the token
//! service rejects one that slipped through, and the token vault makes Luhn-valid token PANs.

use crate::card::Scheme;
use zeroize::Zeroizing;

/// Shortest and longest PAN ISO/IEC 7812 allows.
pub const PAN_MIN_DIGITS: usize = 12;
pub const PAN_MAX_DIGITS: usize = 19;

/// Why a card number was refused. Carries no digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PanError {
    #[error("card number must be {PAN_MIN_DIGITS} to {PAN_MAX_DIGITS} digits")]
    Length,
    #[error("card number may contain only digits (spaces are ignored)")]
    NotDigits,
    #[error("card number fails the Luhn check (mistyped?)")]
    Luhn,
    #[error("card number belongs to no supported scheme (UnionPay, Visa, Mastercard)")]
    UnknownScheme,
}

/// A funding PAN. Wiped on drop; no `Debug`, `Display` or `Clone`.
pub struct Pan(Zeroizing<String>);

impl Pan {
    /// Parse what a user typed (ASCII digits, spaces ignored), check length and Luhn.
    pub fn parse(input: &[u8]) -> Result<Self, PanError> {
        let mut digits = Zeroizing::new(String::with_capacity(PAN_MAX_DIGITS));
        for &b in input {
            match b {
                b'0'..=b'9' => {
                    if digits.len() == PAN_MAX_DIGITS {
                        return Err(PanError::Length);
                    }
                    digits.push(char::from(b));
                }
                b' ' => {}
                _ => return Err(PanError::NotDigits),
            }
        }
        if digits.len() < PAN_MIN_DIGITS {
            return Err(PanError::Length);
        }
        if !luhn_valid(&digits) {
            return Err(PanError::Luhn);
        }
        Ok(Self(digits))
    }

    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The scheme the issuer identification number says, if supported.
    pub fn scheme(&self) -> Result<Scheme, PanError> {
        scheme_of(&self.0).ok_or(PanError::UnknownScheme)
    }

    /// Last four digits, which cards, receipts and PCI DSS allow to be shown.
    pub fn suffix(&self) -> String {
        let d = self.0.as_str();
        d.get(d.len().saturating_sub(4)..)
            .unwrap_or_default()
            .to_owned()
    }
}

/// Luhn (ISO/IEC 7812-1 annex B) over ASCII digits; false for anything else or an empty string.
pub fn luhn_valid(digits: &str) -> bool {
    !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && luhn_sum(digits, false).is_multiple_of(10)
}

/// The check digit that makes `body` (digits, without the check digit) Luhn-valid.
pub fn luhn_check_digit(body: &str) -> Option<char> {
    if !body.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum = luhn_sum(body, true);
    char::from_digit((10 - sum % 10) % 10, 10)
}

/// Luhn sum from the right; `double_first` when the rightmost digit is the one to double
/// (i.e. the check digit is not yet appended).
fn luhn_sum(digits: &str, double_first: bool) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if (i % 2 == 0) == double_first {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum()
}

/// Scheme from the leading digits: UnionPay 62 / 81, Visa 4, Mastercard 51–55 and 2221–2720.
pub fn scheme_of(digits: &str) -> Option<Scheme> {
    let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
    match (prefix(1)?, prefix(2)?, prefix(4)?) {
        (4, _, _) => Some(Scheme::Visa),
        (_, 51..=55, _) | (_, _, 2221..=2720) => Some(Scheme::Mastercard),
        (_, 62 | 81, _) => Some(Scheme::UnionPay),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_numbers() {
        // Published test numbers (Visa/Mastercard developer test cards, UnionPay's 19-digit).
        for ok in [
            "4111111111111111",
            "5555555555554444",
            "6250941006528599",
            "6212345678901265",
        ] {
            assert!(luhn_valid(ok), "{ok}");
        }
        assert!(!luhn_valid("4111111111111112"));
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("41111x1111111111"));
    }

    #[test]
    fn check_digit_completes_body() {
        for body in ["411111111111111", "621234567890126", "622126000000000000"] {
            let mut pan = body.to_owned();
            pan.push(luhn_check_digit(body).unwrap());
            assert!(luhn_valid(&pan), "{pan}");
        }
    }

    #[test]
    fn parse_rejects_bad_input_with_typed_errors() {
        assert_eq!(
            Pan::parse(b"4111 1111 1111 1112").err(),
            Some(PanError::Luhn)
        );
        assert_eq!(
            Pan::parse(b"4111-1111-1111-1111").err(),
            Some(PanError::NotDigits)
        );
        assert_eq!(Pan::parse(b"411111").err(), Some(PanError::Length));
        assert_eq!(Pan::parse(&[b'4'; 40]).err(), Some(PanError::Length));
        let pan = Pan::parse(b"4111 1111 1111 1111").unwrap();
        assert_eq!(pan.digits(), "4111111111111111");
        assert_eq!(pan.suffix(), "1111");
        assert_eq!(pan.scheme(), Ok(Scheme::Visa));
    }

    #[test]
    fn schemes_by_prefix() {
        assert_eq!(scheme_of("6212345678901265"), Some(Scheme::UnionPay));
        assert_eq!(scheme_of("5204731234567890"), Some(Scheme::Mastercard));
        assert_eq!(scheme_of("2221001234567890"), Some(Scheme::Mastercard));
        assert_eq!(scheme_of("4000000000000002"), Some(Scheme::Visa));
        assert_eq!(scheme_of("3400000000000009"), None);
        assert_eq!(scheme_of("4"), None);
    }
}
