//! Data object lists (PDOL, CDOL1, …): tag + length pairs without values (EMV Book 3 §5.4).

use super::tlv::{Tag, TlvError};

/// The most DOL data accepted from one list. A DOL comes from the other side (a card's PDOL
/// reaches the terminal, a terminal's data reaches the card), so its total is bounded before
/// anyone allocates it; real DOLs ask for well under 256 bytes.
pub const MAX_DATA_LEN: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DolEntry {
    pub tag: Tag,
    pub len: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DolError {
    #[error("malformed DOL: {0}")]
    Malformed(#[from] TlvError),
    #[error("DOL data is {got} bytes, the DOL asks for {expected}")]
    WrongLength { expected: usize, got: usize },
}

/// Parse a DOL (the value of 9F38, 8C, 8D, …). Each entry is a BER tag and a one-byte length;
/// a list asking for more than [`MAX_DATA_LEN`] bytes in total is `Malformed(TooLarge)`.
pub fn parse(dol: &[u8]) -> Result<Vec<DolEntry>, DolError> {
    let mut entries = Vec::with_capacity(dol.len() / 2);
    let mut rest = dol;
    let mut total = 0usize;
    while !rest.is_empty() {
        let (tag, used) = Tag::parse(rest)?;
        let (&len, after) = rest
            .get(used..)
            .and_then(|r| r.split_first())
            .ok_or(TlvError::Truncated)?;
        let len = usize::from(len);
        total += len;
        if total > MAX_DATA_LEN {
            return Err(TlvError::TooLarge.into());
        }
        entries.push(DolEntry { tag, len });
        rest = after;
    }
    Ok(entries)
}

/// Sum of the lengths the DOL asks for.
pub fn data_len(dol: &[DolEntry]) -> usize {
    dol.iter().map(|e| e.len).sum()
}

/// Data elements of format n (numeric BCD, right-aligned) that terminals are asked for in
/// DOLs (EMV Book 3 Annex A). §5.4: these are left-padded with zeros / truncated on the left.
const NUMERIC: &[u32] = &[
    0x5F25, // application effective date
    0x5F24, // application expiration date
    0x5F28, // issuer country code
    0x5F2A, // transaction currency code
    0x5F34, // PAN sequence number
    0x5F36, // transaction currency exponent
    0x5F57, // account type
    0x9A,   // transaction date
    0x9C,   // transaction type
    0x9F01, // acquirer identifier
    0x9F02, // amount, authorised
    0x9F03, // amount, other
    0x9F11, // issuer code table index
    0x9F15, // merchant category code
    0x9F1A, // terminal country code
    0x9F21, // transaction time
    0x9F35, // terminal type
    0x9F39, // POS entry mode
    0x9F3C, // transaction reference currency code
    0x9F3D, // transaction reference currency exponent
    0x9F41, // transaction sequence counter
    0x9F42, // application currency code
    0x9F44, // application currency exponent
];

/// Data elements of format cn (compressed numeric, left-aligned, padded with `F`). §5.4:
/// padded on the right with `FF` bytes, truncated on the right.
const COMPRESSED_NUMERIC: &[u32] = &[
    0x5A,   // PAN
    0x9F20, // track 2 discretionary data
];

/// How §5.4 fits a value into the length a DOL entry asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Format n: keep the rightmost bytes, pad on the left with `00`.
    Numeric,
    /// Format cn: keep the leftmost bytes, pad on the right with `FF`.
    CompressedNumeric,
    /// Everything else: keep the leftmost bytes, pad on the right with `00`.
    Other,
}

impl Fit {
    pub fn of(tag: Tag) -> Self {
        if NUMERIC.contains(&tag.0) {
            Fit::Numeric
        } else if COMPRESSED_NUMERIC.contains(&tag.0) {
            Fit::CompressedNumeric
        } else {
            Fit::Other
        }
    }

    /// Append `value` fitted to `len` bytes.
    pub fn write(self, out: &mut Vec<u8>, value: &[u8], len: usize) {
        let pad = len.saturating_sub(value.len());
        match self {
            Fit::Numeric => {
                let keep = value
                    .get(value.len().saturating_sub(len)..)
                    .unwrap_or_default();
                out.resize(out.len() + pad, 0x00);
                out.extend_from_slice(keep);
            }
            Fit::CompressedNumeric | Fit::Other => {
                let keep = value.get(..len).unwrap_or(value);
                out.extend_from_slice(keep);
                let filler = if self == Fit::CompressedNumeric {
                    0xFF
                } else {
                    0x00
                };
                out.resize(out.len() + pad, filler);
            }
        }
    }
}

/// Terminal side: concatenate the values `lookup` gives for each entry, each fitted to its
/// length as EMV Book 3 §5.4 says (numeric tags left-padded with zeros / truncated on the left,
/// others right-padded with zeros / truncated on the right; unknown tags give zeros).
/// Compressed-numeric tags (5A, 9F20) are right-padded with `FF`, as §5.4 says for format cn.
pub fn build_data<'v>(dol: &[DolEntry], lookup: impl Fn(Tag) -> Option<&'v [u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(data_len(dol));
    for entry in dol {
        match lookup(entry.tag) {
            Some(value) => Fit::of(entry.tag).write(&mut out, value, entry.len),
            // §5.4: a data object the terminal does not have is sent as zeros.
            None => out.resize(out.len() + entry.len, 0x00),
        }
    }
    out
}

/// Card side: cut DOL data back into `(tag, value)`; the total length must match exactly.
pub fn split<'a>(dol: &[DolEntry], data: &'a [u8]) -> Result<Vec<(Tag, &'a [u8])>, DolError> {
    let expected = data_len(dol);
    if data.len() != expected {
        return Err(DolError::WrongLength {
            expected,
            got: data.len(),
        });
    }
    let mut rest = data;
    let mut out = Vec::with_capacity(dol.len());
    for entry in dol {
        let (value, after) = rest
            .split_at_checked(entry.len)
            .ok_or(DolError::WrongLength {
                expected,
                got: data.len(),
            })?;
        out.push((entry.tag, value));
        rest = after;
    }
    Ok(out)
}

/// Re-encode a DOL (the inverse of [`parse`]); the card side uses it to publish its PDOL/CDOL.
/// Entry lengths above 255 cannot be expressed and are written as 255.
pub fn encode(dol: &[DolEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(dol.len() * 3);
    for entry in dol {
        entry.tag.write_to(&mut out);
        out.push(entry.len.min(255) as u8);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    /// The common Visa qVSDC PDOL from notes/emv.md (emv-card-simulator profile).
    const VISA_PDOL: &str = "9F66 04 9F02 06 9F03 06 9F1A 02 95 05 5F2A 02 9A 03 9C 01 9F37 04";

    #[test]
    fn parses_and_reencodes_a_pdol() {
        let raw = h(VISA_PDOL);
        let dol = parse(&raw).unwrap();
        assert_eq!(dol.len(), 9);
        assert_eq!(
            dol[0],
            DolEntry {
                tag: Tag(0x9F66),
                len: 4
            }
        );
        assert_eq!(
            dol[4],
            DolEntry {
                tag: Tag(0x95),
                len: 5
            }
        );
        assert_eq!(data_len(&dol), 33);
        assert_eq!(encode(&dol), raw);
        assert!(parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn malformed_dols() {
        assert_eq!(
            parse(&h("9F66")),
            Err(DolError::Malformed(TlvError::Truncated))
        );
        assert_eq!(
            parse(&h("9F")),
            Err(DolError::Malformed(TlvError::Truncated))
        );
        assert_eq!(
            parse(&h("DF818101 04")),
            Err(DolError::Malformed(TlvError::TagTooLong))
        );
        let huge: Vec<u8> = std::iter::repeat_n([0x9F, 0x10, 0xFF], 5)
            .flatten()
            .collect();
        assert_eq!(parse(&huge), Err(DolError::Malformed(TlvError::TooLarge)));
    }

    #[test]
    fn build_fits_values_per_book3_5_4() {
        let dol = parse(&h(
            "9F02 04 9F02 08 9F1A 02 9F66 06 9F66 02 5A 0A 9F37 04 DF01 03 9A 03",
        ))
        .unwrap();
        let amount = h("000000001234");
        let data = build_data(&dol, |tag| match tag.0 {
            0x9F02 => Some(&amount[..]),
            0x9F1A => Some(&[0x01, 0x56][..]),
            0x9F66 => Some(&[0x36, 0x00, 0x40, 0x00][..]),
            0x5A => Some(&[0x62, 0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56][..]),
            0x9A => Some(&[0x26, 0x05, 0x01][..]),
            _ => None,
        });
        let expected = h(concat!(
            "00001234",             // n, truncated on the left
            "0000000000001234",     // n, padded on the left
            "0156",                 // exact
            "360040000000",         // b, padded on the right
            "3600",                 // b, truncated on the right
            "621234567890123456FF", // cn, padded with FF
            "00000000",             // absent: zeros
            "000000",               // unknown tag: zeros
            "260501"
        ));
        assert_eq!(data, expected);
        assert_eq!(data.len(), data_len(&dol));
    }

    #[test]
    fn split_needs_the_exact_length() {
        let dol = parse(&h(VISA_PDOL)).unwrap();
        let data: Vec<u8> = (0..33).collect();
        let parts = split(&dol, &data).unwrap();
        assert_eq!(parts[0], (Tag(0x9F66), &data[0..4]));
        assert_eq!(parts[8], (Tag(0x9F37), &data[29..33]));
        assert_eq!(
            split(&dol, &data[..32]),
            Err(DolError::WrongLength {
                expected: 33,
                got: 32
            })
        );
        let mut long = data.clone();
        long.push(0);
        assert_eq!(
            split(&dol, &long),
            Err(DolError::WrongLength {
                expected: 33,
                got: 34
            })
        );
        assert_eq!(split(&[], &[]), Ok(vec![]));
    }
}
