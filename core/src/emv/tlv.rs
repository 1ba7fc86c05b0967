//! BER-TLV as EMV uses it (EMV Book 3 Annex B): 1–3 byte tags, definite lengths only.
//!
//! Parsing borrows from the input and is bounded in depth and size, so a hostile terminal or a
//! malformed QR code cannot make it recurse or allocate without limit.

use std::fmt;

/// Deepest nesting of constructed objects accepted.
pub const MAX_DEPTH: usize = 8;
/// Largest single value accepted (bytes).
pub const MAX_VALUE_LEN: usize = 65_535;

/// A tag, its bytes packed big-endian into a `u32` (`0x9F26`, `0x77`, `0xBF0C`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tag(pub u32);

impl fmt::Debug for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Tag({:X})", self.0)
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}", self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TlvError {
    #[error("TLV data ends inside an object")]
    Truncated,
    #[error("tag longer than 3 bytes")]
    TagTooLong,
    #[error("indefinite length is not allowed")]
    IndefiniteLength,
    #[error("length field longer than supported")]
    LengthTooLong,
    #[error("value longer than {MAX_VALUE_LEN} bytes")]
    TooLarge,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("primitive object where a constructed one was expected")]
    NotConstructed,
}

/// One parsed object; `value` borrows the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub tag: Tag,
    pub value: &'a [u8],
}

impl Tag {
    /// Constructed objects have bit 6 of the first tag byte set.
    pub fn is_constructed(self) -> bool {
        self.first_byte() & 0x20 != 0
    }

    /// The tag's bytes as they appear on the wire.
    pub fn to_bytes(self) -> Vec<u8> {
        let bytes = self.0.to_be_bytes();
        bytes[self.leading_zero_bytes()..].to_vec()
    }

    /// Append the tag's wire bytes to `out` without an intermediate allocation.
    pub fn write_to(self, out: &mut Vec<u8>) {
        let bytes = self.0.to_be_bytes();
        out.extend_from_slice(&bytes[self.leading_zero_bytes()..]);
    }

    /// Read one tag from the start of `data`: the tag and how many bytes it took.
    pub fn parse(data: &[u8]) -> Result<(Tag, usize), TlvError> {
        let (&first, rest) = data.split_first().ok_or(TlvError::Truncated)?;
        let mut tag = u32::from(first);
        if first & 0x1F != 0x1F {
            return Ok((Tag(tag), 1));
        }
        // Subsequent bytes: bit 8 set means another byte follows. EMV tags stop at 3 bytes.
        for (i, &b) in rest.iter().enumerate() {
            tag = (tag << 8) | u32::from(b);
            if b & 0x80 == 0 {
                return Ok((Tag(tag), i + 2));
            }
            if i + 2 == 3 {
                return Err(TlvError::TagTooLong);
            }
        }
        Err(TlvError::Truncated)
    }

    fn leading_zero_bytes(self) -> usize {
        // Tag(0) still has one byte on the wire.
        ((self.0.leading_zeros() / 8) as usize).min(3)
    }

    fn first_byte(self) -> u8 {
        self.0.to_be_bytes()[self.leading_zero_bytes()]
    }
}

impl<'a> Tlv<'a> {
    /// The objects inside a constructed object (one level).
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, TlvError> {
        if !self.tag.is_constructed() {
            return Err(TlvError::NotConstructed);
        }
        parse_all(self.value)
    }
}

/// Read a definite length from the start of `data`: the length and how many bytes it took.
fn parse_length(data: &[u8]) -> Result<(usize, usize), TlvError> {
    let (&first, rest) = data.split_first().ok_or(TlvError::Truncated)?;
    if first < 0x80 {
        return Ok((usize::from(first), 1));
    }
    let n = usize::from(first & 0x7F);
    match n {
        0 => Err(TlvError::IndefiniteLength),
        1..=3 => {
            let bytes = rest.get(..n).ok_or(TlvError::Truncated)?;
            let len = bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len > MAX_VALUE_LEN {
                return Err(TlvError::TooLarge);
            }
            Ok((len, n + 1))
        }
        _ => Err(TlvError::LengthTooLong),
    }
}

/// An iterator over the objects at one level of `data`, skipping `00`/`FF` padding. It stops
/// after the first error, which it yields.
#[derive(Debug, Clone)]
pub struct Objects<'a> {
    rest: &'a [u8],
    failed: bool,
}

/// Iterate over the objects at one level without allocating (see [`parse_all`]).
pub fn objects(data: &[u8]) -> Objects<'_> {
    Objects {
        rest: data,
        failed: false,
    }
}

impl<'a> Iterator for Objects<'a> {
    type Item = Result<Tlv<'a>, TlvError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        // EMV Book 3 Annex B: 00 and FF may pad before, between and after objects.
        let start = self.rest.iter().position(|&b| b != 0x00 && b != 0xFF)?;
        let data = self.rest.get(start..).unwrap_or_default();
        match parse_object(data) {
            Ok((tlv, used)) => {
                self.rest = data.get(used..).unwrap_or_default();
                Some(Ok(tlv))
            }
            Err(e) => {
                self.failed = true;
                Some(Err(e))
            }
        }
    }
}

/// One object at the start of `data` (no padding skipped): the object and the bytes it took.
pub fn parse_object(data: &[u8]) -> Result<(Tlv<'_>, usize), TlvError> {
    let (tag, tag_len) = Tag::parse(data)?;
    let (len, len_len) = parse_length(data.get(tag_len..).unwrap_or_default())?;
    let start = tag_len + len_len;
    let value = data.get(start..start + len).ok_or(TlvError::Truncated)?;
    Ok((Tlv { tag, value }, start + len))
}

/// Parse a sequence of objects at one level. `00`/`FF` padding between objects is skipped,
/// as EMV allows.
pub fn parse_all(data: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    objects(data).collect()
}

/// Depth-first search for the first object with `tag`, descending into constructed objects
/// (bounded by [`MAX_DEPTH`]).
pub fn find(data: &[u8], tag: Tag) -> Result<Option<&[u8]>, TlvError> {
    find_at(data, tag, 1)
}

fn find_at(data: &[u8], tag: Tag, depth: usize) -> Result<Option<&[u8]>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    for object in objects(data) {
        let object = object?;
        if object.tag == tag {
            return Ok(Some(object.value));
        }
        if object.tag.is_constructed()
            && let Some(found) = find_at(object.value, tag, depth + 1)?
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Check a whole tree: every object well formed, constructed objects parsed recursively, at
/// most [`MAX_DEPTH`] levels.
pub fn validate(data: &[u8]) -> Result<(), TlvError> {
    validate_at(data, 1)
}

fn validate_at(data: &[u8], depth: usize) -> Result<(), TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError::TooDeep);
    }
    for object in objects(data) {
        let object = object?;
        if object.tag.is_constructed() {
            validate_at(object.value, depth + 1)?;
        }
    }
    Ok(())
}

/// Append a definite length in its shortest form.
fn write_length(out: &mut Vec<u8>, len: usize) {
    match len {
        0..=0x7F => out.push(len as u8),
        0x80..=0xFF => out.extend_from_slice(&[0x81, len as u8]),
        0x100..=0xFFFF => out.extend_from_slice(&[0x82, (len >> 8) as u8, len as u8]),
        0x1_0000..=0xFF_FFFF => {
            out.extend_from_slice(&[0x83, (len >> 16) as u8, (len >> 8) as u8, len as u8])
        }
        // Valid BER, though [`parse_all`] refuses values this large.
        _ => {
            out.push(0x84);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}

/// Append `tag`, its length and `value` to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: Tag, value: &[u8]) {
    out.reserve(value.len() + 8);
    tag.write_to(out);
    write_length(out, value.len());
    out.extend_from_slice(value);
}

/// `tag | length | value` as a new buffer.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 5);
    encode_into(&mut out, tag, value);
    out
}

/// Builds a TLV tree in one buffer; constructed objects are written in place (their length is
/// patched when the closure returns), so nesting costs no intermediate allocation.
///
/// ```
/// use wallet_core::emv::tlv::{Tag, TlvBuilder};
/// let fci = TlvBuilder::new()
///     .constructed(Tag(0x6F), |b| {
///         b.add(Tag(0x84), b"2PAY.SYS.DDF01");
///     })
///     .finish();
/// assert_eq!(fci[0], 0x6F);
/// ```
#[derive(Debug, Default, Clone)]
pub struct TlvBuilder {
    buf: Vec<u8>,
}

impl TlvBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }

    /// Add a primitive (or pre-encoded constructed) object.
    pub fn add(&mut self, tag: Tag, value: &[u8]) -> &mut Self {
        encode_into(&mut self.buf, tag, value);
        self
    }

    /// Add an object only when there is a value.
    pub fn add_opt(&mut self, tag: Tag, value: Option<&[u8]>) -> &mut Self {
        if let Some(value) = value {
            self.add(tag, value);
        }
        self
    }

    /// Append bytes that are already TLV-encoded.
    pub fn raw(&mut self, encoded: &[u8]) -> &mut Self {
        self.buf.extend_from_slice(encoded);
        self
    }

    /// Add a constructed object whose children `build` writes.
    pub fn constructed(&mut self, tag: Tag, build: impl FnOnce(&mut TlvBuilder)) -> &mut Self {
        tag.write_to(&mut self.buf);
        // Reserve the largest length form we expect (82 xx xx) and shrink afterwards.
        let len_at = self.buf.len();
        self.buf.extend_from_slice(&[0, 0, 0]);
        let start = self.buf.len();
        build(self);
        let len = self.buf.len() - start;
        let mut len_bytes = Vec::with_capacity(5);
        write_length(&mut len_bytes, len);
        self.buf.splice(len_at..start, len_bytes);
        self
    }

    pub fn len(&self) -> usize {
        self.buf.len()
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn finish(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.buf)
    }
}

/// Tags the card and terminal both use (EMV Book 3 Annex A, contactless books).
pub mod tags {
    use super::Tag;

    pub const AID: Tag = Tag(0x4F);
    pub const APP_LABEL: Tag = Tag(0x50);
    pub const TRACK2: Tag = Tag(0x57);
    pub const PAN: Tag = Tag(0x5A);
    pub const RESPONSE_TEMPLATE_2: Tag = Tag(0x77);
    pub const RESPONSE_TEMPLATE_1: Tag = Tag(0x80);
    pub const RECORD_TEMPLATE: Tag = Tag(0x70);
    pub const FCI_TEMPLATE: Tag = Tag(0x6F);
    pub const APP_TEMPLATE: Tag = Tag(0x61);
    pub const AIP: Tag = Tag(0x82);
    pub const COMMAND_TEMPLATE: Tag = Tag(0x83);
    pub const DF_NAME: Tag = Tag(0x84);
    pub const APP_PRIORITY: Tag = Tag(0x87);
    pub const CDOL1: Tag = Tag(0x8C);
    pub const CDOL2: Tag = Tag(0x8D);
    pub const AFL: Tag = Tag(0x94);
    pub const TVR: Tag = Tag(0x95);
    pub const TXN_DATE: Tag = Tag(0x9A);
    pub const TXN_TYPE: Tag = Tag(0x9C);
    pub const FCI_PROPRIETARY: Tag = Tag(0xA5);
    pub const FCI_DISCRETIONARY: Tag = Tag(0xBF0C);
    pub const EXPIRY: Tag = Tag(0x5F24);
    pub const ISSUER_COUNTRY: Tag = Tag(0x5F28);
    pub const TXN_CURRENCY: Tag = Tag(0x5F2A);
    pub const LANGUAGE: Tag = Tag(0x5F2D);
    pub const PSN: Tag = Tag(0x5F34);
    pub const TXN_CURRENCY_EXPONENT: Tag = Tag(0x5F36);
    pub const AMOUNT: Tag = Tag(0x9F02);
    pub const AMOUNT_OTHER: Tag = Tag(0x9F03);
    pub const IAD: Tag = Tag(0x9F10);
    pub const TERMINAL_COUNTRY: Tag = Tag(0x9F1A);
    pub const TXN_TIME: Tag = Tag(0x9F21);
    pub const AC: Tag = Tag(0x9F26);
    pub const CID: Tag = Tag(0x9F27);
    pub const KERNEL_ID: Tag = Tag(0x9F2A);
    pub const TERMINAL_TYPE: Tag = Tag(0x9F35);
    pub const ATC: Tag = Tag(0x9F36);
    pub const UN: Tag = Tag(0x9F37);
    pub const PDOL: Tag = Tag(0x9F38);
    pub const LOG_ENTRY: Tag = Tag(0x9F4D);
    pub const TTQ: Tag = Tag(0x9F66);
    pub const CTQ: Tag = Tag(0x9F6C);
    pub const FORM_FACTOR: Tag = Tag(0x9F6E);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(s: &str) -> Vec<u8> {
        hex::decode(s.replace(' ', "")).unwrap()
    }

    #[test]
    fn tags_of_one_two_and_three_bytes() {
        assert_eq!(Tag::parse(&[0x82, 0x02]), Ok((Tag(0x82), 1)));
        assert_eq!(Tag::parse(&[0x9F, 0x26]), Ok((Tag(0x9F26), 2)));
        assert_eq!(Tag::parse(&[0xDF, 0x81, 0x29]), Ok((Tag(0xDF8129), 3)));
        assert_eq!(
            Tag::parse(&[0xDF, 0x81, 0x81, 0x01]),
            Err(TlvError::TagTooLong)
        );
        assert_eq!(Tag::parse(&[0x9F]), Err(TlvError::Truncated));
        assert_eq!(Tag::parse(&[]), Err(TlvError::Truncated));
        assert_eq!(Tag(0xDF8129).to_bytes(), vec![0xDF, 0x81, 0x29]);
        assert_eq!(Tag(0x00).to_bytes(), vec![0x00]);
        assert!(Tag(0x77).is_constructed());
        assert!(Tag(0xBF0C).is_constructed());
        assert!(!Tag(0x9F26).is_constructed());
    }

    #[test]
    fn lengths_of_one_to_three_bytes() {
        for len in [0usize, 1, 127, 128, 255, 256, 4000, MAX_VALUE_LEN] {
            let value = vec![0xAB; len];
            let enc = encode(Tag(0x9F10), &value);
            let all = parse_all(&enc).unwrap();
            assert_eq!(
                all,
                vec![Tlv {
                    tag: Tag(0x9F10),
                    value: &value
                }],
                "len {len}"
            );
        }
        assert_eq!(encode(Tag(0x84), &[0; 128])[1..3], [0x81, 0x80]);
        assert_eq!(encode(Tag(0x84), &[0; 256])[1..4], [0x82, 0x01, 0x00]);
        // 83-form accepted up to the size limit.
        let mut three = vec![0x84, 0x83, 0x00, 0x00, 0x02, 0xAA, 0xBB];
        assert_eq!(parse_all(&three).unwrap()[0].value, &[0xAA, 0xBB]);
        three[3] = 0x01; // 0x000102 = 258 bytes, truncated
        assert_eq!(parse_all(&three), Err(TlvError::Truncated));
    }

    #[test]
    fn bad_lengths() {
        assert_eq!(
            parse_all(&h("84 80 00 00")),
            Err(TlvError::IndefiniteLength)
        );
        assert_eq!(
            parse_all(&h("84 84 00 00 00 01 00")),
            Err(TlvError::LengthTooLong)
        );
        assert_eq!(parse_all(&h("84 83 01 00 00")), Err(TlvError::TooLarge));
        assert_eq!(parse_all(&h("84 05 01 02")), Err(TlvError::Truncated));
        assert_eq!(parse_all(&h("84 81")), Err(TlvError::Truncated));
        assert_eq!(parse_all(&h("84")), Err(TlvError::Truncated));
    }

    #[test]
    fn padding_is_skipped() {
        let data = h("00 00 82 02 1980 FF FF 00 94 04 08010100 00");
        let all = parse_all(&data).unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].tag, Tag(0x82));
        assert_eq!(all[1].value, &h("08010100")[..]);
        assert!(parse_all(&[0x00, 0xFF, 0x00]).unwrap().is_empty());
        assert!(parse_all(&[]).unwrap().is_empty());
    }

    #[test]
    fn find_descends_into_templates() {
        // A PPSE FCI: 6F{84, A5{BF0C{61{4F, 87}}}}
        let fci =
            h("6F 1E 84 0E 325041592E5359532E4444463031 A5 0C BF0C 09 61 07 4F 05 A000000333");
        assert_eq!(find(&fci, Tag(0x4F)).unwrap(), Some(&h("A000000333")[..]));
        assert_eq!(find(&fci, Tag(0x84)).unwrap(), Some(&b"2PAY.SYS.DDF01"[..]));
        assert_eq!(find(&fci, Tag(0x87)).unwrap(), None);
        let a5 = parse_all(&fci).unwrap()[0].children().unwrap()[1];
        assert_eq!(a5.tag, Tag(0xA5));
        assert_eq!(
            parse_all(&fci).unwrap()[0].children().unwrap()[0].children(),
            Err(TlvError::NotConstructed)
        );
        validate(&fci).unwrap();
    }

    #[test]
    fn depth_is_bounded() {
        let mut data = encode(Tag(0x9F26), &[1; 8]);
        for _ in 0..MAX_DEPTH - 1 {
            data = encode(Tag(0x77), &data);
        }
        assert_eq!(find(&data, Tag(0x9F26)).unwrap(), Some(&[1u8; 8][..]));
        validate(&data).unwrap();
        let deeper = encode(Tag(0x77), &data);
        assert_eq!(find(&deeper, Tag(0x9F26)), Err(TlvError::TooDeep));
        assert_eq!(validate(&deeper), Err(TlvError::TooDeep));
    }

    #[test]
    fn builder_nests_in_place() {
        let long = vec![0x11; 300];
        let out = TlvBuilder::new()
            .constructed(Tag(0x77), |b| {
                b.add(Tag(0x82), &[0x19, 0x80])
                    .add(Tag(0x9F10), &long)
                    .constructed(Tag(0xA5), |_| {});
            })
            .add_opt(Tag(0x9F6C), None)
            .finish();
        let mut expected_inner = encode(Tag(0x82), &[0x19, 0x80]);
        encode_into(&mut expected_inner, Tag(0x9F10), &long);
        encode_into(&mut expected_inner, Tag(0xA5), &[]);
        assert_eq!(out, encode(Tag(0x77), &expected_inner));
    }
}
