//! EMV numeric formats (EMV Book 3 §4.3): `n` (BCD, right-aligned, zero-padded on the left)
//! and `cn` (BCD, left-aligned, padded on the right with `F`). Amounts, currency and country
//! codes, dates and PANs all travel this way.

/// `value` as `len` bytes of format n; `None` if it has more than `2 × len` digits.
pub fn encode_n(value: u64, len: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; len];
    let mut rest = value;
    for byte in out.iter_mut().rev() {
        let lo = (rest % 10) as u8;
        let hi = ((rest / 10) % 10) as u8;
        *byte = (hi << 4) | lo;
        rest /= 100;
    }
    (rest == 0).then_some(out)
}

/// The value of format-n bytes; `None` if a nibble is not a decimal digit or the value does
/// not fit a `u64`.
pub fn decode_n(bytes: &[u8]) -> Option<u64> {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .try_fold(0u64, |acc, d| {
            if d > 9 {
                return None;
            }
            acc.checked_mul(10)?.checked_add(u64::from(d))
        })
}

/// Amount, authorised / other (9F02, 9F03): n12 in minor units; `None` above 999 999 999 999.
pub fn amount(minor_units: u64) -> Option<[u8; 6]> {
    fixed(minor_units)
}

/// Currency (5F2A) or country (9F1A, 5F28) code: ISO 4217 / ISO 3166 numeric as n3 in two
/// bytes (`156` → `01 56`); `None` above 999.
pub fn code_n3(code: u16) -> Option<[u8; 2]> {
    if code > 999 {
        return None;
    }
    fixed(u64::from(code))
}

/// Transaction date (9A), YYMMDD; `None` for an impossible month or day.
pub fn date(year: u16, month: u8, day: u8) -> Option<[u8; 3]> {
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let yy = u64::from(year % 100);
    fixed(yy * 10_000 + u64::from(month) * 100 + u64::from(day))
}

/// Transaction time (9F21), HHMMSS; `None` for an impossible time.
pub fn time(hour: u8, minute: u8, second: u8) -> Option<[u8; 3]> {
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    fixed(u64::from(hour) * 10_000 + u64::from(minute) * 100 + u64::from(second))
}

fn fixed<const N: usize>(value: u64) -> Option<[u8; N]> {
    encode_n(value, N)?.try_into().ok()
}

/// Decimal digits as format cn (PAN 5A): packed left-aligned, an odd count padded with `F`.
/// `None` if a character is not a decimal digit.
pub fn encode_cn(digits: &str) -> Option<Vec<u8>> {
    let nibbles: Vec<u8> = digits
        .bytes()
        .map(|c| c.is_ascii_digit().then(|| c - b'0'))
        .collect::<Option<_>>()?;
    Some(
        nibbles
            .chunks(2)
            .map(|p| (p.first().copied().unwrap_or(0x0F) << 4) | p.get(1).copied().unwrap_or(0x0F))
            .collect(),
    )
}

/// The digits of format-cn bytes, up to the first `F`; `None` if another non-digit appears.
pub fn decode_cn(bytes: &[u8]) -> Option<String> {
    let mut out = String::with_capacity(bytes.len() * 2);
    for d in bytes.iter().flat_map(|b| [b >> 4, b & 0x0F]) {
        match d {
            0..=9 => out.push(char::from(b'0' + d)),
            0x0F => break,
            _ => return None,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric() {
        assert_eq!(amount(1234), Some([0, 0, 0, 0, 0x12, 0x34]));
        assert_eq!(amount(999_999_999_999), Some([0x99; 6]));
        assert_eq!(amount(1_000_000_000_000), None);
        assert_eq!(code_n3(156), Some([0x01, 0x56]));
        assert_eq!(code_n3(1000), None);
        assert_eq!(date(2026, 5, 1), Some([0x26, 0x05, 0x01]));
        assert_eq!(date(2026, 13, 1), None);
        assert_eq!(time(23, 59, 7), Some([0x23, 0x59, 0x07]));
        assert_eq!(time(24, 0, 0), None);
        assert_eq!(decode_n(&[0x01, 0x56]), Some(156));
        assert_eq!(decode_n(&[0x1A]), None);
        assert_eq!(decode_n(&[0x99; 10]), None); // 20 digits overflow a u64
        assert_eq!(decode_n(&[0x99; 9]), Some(999_999_999_999_999_999));
        assert_eq!(encode_n(0, 0), Some(vec![]));
        assert_eq!(encode_n(1, 0), None);
    }

    #[test]
    fn compressed_numeric() {
        assert_eq!(
            encode_cn("6212345678901234567"),
            Some(vec![
                0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x7F
            ])
        );
        assert_eq!(encode_cn("1234"), Some(vec![0x12, 0x34]));
        assert_eq!(encode_cn("12a4"), None);
        assert_eq!(decode_cn(&[0x62, 0x12, 0x7F, 0xFF]), Some("62127".into()));
        assert_eq!(decode_cn(&[0x6A]), None);
    }
}
