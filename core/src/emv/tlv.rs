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
        todo!("emv helper")
    }
    /// The tag's bytes as they appear on the wire.
    pub fn to_bytes(self) -> Vec<u8> {
        todo!("emv helper")
    }
}

impl<'a> Tlv<'a> {
    /// The objects inside a constructed object (one level).
    pub fn children(&self) -> Result<Vec<Tlv<'a>>, TlvError> {
        todo!("emv helper")
    }
}

/// Parse a sequence of objects at one level. `00`/`FF` padding between objects is skipped,
/// as EMV allows.
pub fn parse_all(data: &[u8]) -> Result<Vec<Tlv<'_>>, TlvError> {
    todo!("emv helper {data:?}")
}

/// Depth-first search for the first object with `tag`, descending into constructed objects
/// (bounded by [`MAX_DEPTH`]).
pub fn find(data: &[u8], tag: Tag) -> Result<Option<&[u8]>, TlvError> {
    todo!("emv helper {data:?} {tag}")
}

/// Append `tag`, its length and `value` to `out`.
pub fn encode_into(out: &mut Vec<u8>, tag: Tag, value: &[u8]) {
    todo!("emv helper {out:?} {tag} {value:?}")
}

/// `tag | length | value` as a new buffer.
pub fn encode(tag: Tag, value: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 5);
    encode_into(&mut out, tag, value);
    out
}
