//! Amounts: decimal text <-> minor units, by the ISO 4217 exponent of the currency.
//!
//! Terminals carry amounts in minor units (9F02 is n12); people and QR codes write decimals
//! ("12.34"). Getting the exponent wrong charges a Japanese customer a hundred times too much,
//! so the exponent comes from one table.

/// ISO 4217 minor-unit exponent for a numeric currency code. Two decimals unless listed.
pub fn exponent(currency: u16) -> u32 {
    match currency {
        // no minor unit: CLP, ISK, JPY, KRW, PYG, UGX, VND, XAF, XOF, XPF, BIF, DJF, GNF, KMF,
        // RWF, VUV
        152 | 352 | 392 | 410 | 600 | 800 | 704 | 950 | 952 | 953 | 108 | 262 | 324 | 174 | 646
        | 548 => 0,
        // three decimals: BHD, IQD, JOD, KWD, LYD, OMR, TND
        48 | 368 | 400 | 414 | 434 | 512 | 788 => 3,
        _ => 2,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("amount '{0}' is not a non-negative decimal number")]
    NotANumber(String),
    #[error("amount '{text}' has more than {exponent} decimals for currency {currency:03}")]
    TooPrecise {
        text: String,
        exponent: u32,
        currency: u16,
    },
    #[error("amount '{0}' is too large")]
    TooLarge(String),
}

/// The largest amount a terminal can send: 9F02 is 12 BCD digits.
pub const MAX_MINOR: u64 = 999_999_999_999;

/// `"12.34"` in currency 156 -> `1234`. Accepts `"12"`, `"12.3"`, `"12.30"`; rejects signs,
/// exponents, separators and more decimals than the currency has.
pub fn parse_amount(text: &str, currency: u16) -> Result<u64, AmountError> {
    let exp = exponent(currency);
    let bad = || AmountError::NotANumber(text.to_owned());
    let (whole, frac) = match text.split_once('.') {
        Some((w, f)) => (w, f),
        None => (text, ""),
    };
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || (text.contains('.') && frac.is_empty())
    {
        return Err(bad());
    }
    let frac = frac.trim_end_matches('0');
    if frac.len() > exp as usize {
        return Err(AmountError::TooPrecise {
            text: text.to_owned(),
            exponent: exp,
            currency,
        });
    }
    let too_large = || AmountError::TooLarge(text.to_owned());
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| too_large())?
    };
    let mut minor = whole.checked_mul(10u64.pow(exp)).ok_or_else(too_large)?;
    if !frac.is_empty() {
        let f: u64 = frac.parse().map_err(|_| bad())?;
        minor = minor
            .checked_add(f * 10u64.pow(exp - frac.len() as u32))
            .ok_or_else(too_large)?;
    }
    if minor > MAX_MINOR {
        return Err(too_large());
    }
    Ok(minor)
}

/// `1234` in currency 156 -> `"12.34"`.
pub fn format_amount(minor: u64, currency: u16) -> String {
    let exp = exponent(currency);
    if exp == 0 {
        return minor.to_string();
    }
    let unit = 10u64.pow(exp);
    format!(
        "{}.{:0width$}",
        minor / unit,
        minor % unit,
        width = exp as usize
    )
}

/// ISO 4217 alphabetic code for the currencies a wallet in this market meets most; the numeric
/// code otherwise.
pub fn currency_label(currency: u16) -> String {
    let code = match currency {
        156 => "CNY",
        344 => "HKD",
        446 => "MOP",
        901 => "TWD",
        840 => "USD",
        978 => "EUR",
        826 => "GBP",
        392 => "JPY",
        410 => "KRW",
        702 => "SGD",
        458 => "MYR",
        764 => "THB",
        704 => "VND",
        360 => "IDR",
        608 => "PHP",
        36 => "AUD",
        124 => "CAD",
        756 => "CHF",
        48 => "BHD",
        _ => return format!("{currency:03}"),
    };
    code.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_by_exponent() {
        assert_eq!(parse_amount("12.34", 156), Ok(1234));
        assert_eq!(parse_amount("12", 156), Ok(1200));
        assert_eq!(parse_amount("12.3", 156), Ok(1230));
        assert_eq!(parse_amount("0.01", 840), Ok(1));
        assert_eq!(parse_amount(".5", 840), Ok(50));
        assert_eq!(parse_amount("1500", 392), Ok(1500));
        assert_eq!(parse_amount("1.500", 48), Ok(1500));
        assert_eq!(parse_amount("12.340", 156), Ok(1234));
    }

    #[test]
    fn rejects_what_a_terminal_could_not_send() {
        for bad in [
            "", ".", "-1", "+1", "1e3", "1,000", "12.", "abc", "1.2.3", " 1",
        ] {
            assert!(parse_amount(bad, 156).is_err(), "{bad:?}");
        }
        assert!(matches!(
            parse_amount("15.5", 392),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_amount("1.234", 156),
            Err(AmountError::TooPrecise { .. })
        ));
        assert!(matches!(
            parse_amount("10000000000.00", 156),
            Err(AmountError::TooLarge(_))
        ));
        assert!(matches!(
            parse_amount("99999999999999999999999", 156),
            Err(AmountError::TooLarge(_))
        ));
    }

    #[test]
    fn formats_and_round_trips() {
        assert_eq!(format_amount(1234, 156), "12.34");
        assert_eq!(format_amount(5, 156), "0.05");
        assert_eq!(format_amount(1500, 392), "1500");
        assert_eq!(format_amount(1500, 48), "1.500");
        for (m, c) in [(0u64, 156u16), (1, 840), (123_456, 392), (999, 414)] {
            assert_eq!(parse_amount(&format_amount(m, c), c), Ok(m));
        }
    }
}
