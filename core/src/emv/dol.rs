//! Data object lists (PDOL, CDOL1, …): tag + length pairs without values (EMV Book 3 §5.4).

use super::tlv::{Tag, TlvError};

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

/// Parse a DOL (the value of 9F38, 8C, 8D, …).
pub fn parse(dol: &[u8]) -> Result<Vec<DolEntry>, DolError> {
    todo!("emv helper {dol:?}")
}

/// Sum of the lengths the DOL asks for.
pub fn data_len(dol: &[DolEntry]) -> usize {
    dol.iter().map(|e| e.len).sum()
}

/// Terminal side: concatenate the values `lookup` gives for each entry, each fitted to its
/// length as EMV Book 3 §5.4 says (numeric tags left-padded with zeros / truncated on the left,
/// others right-padded with zeros / truncated on the right; unknown tags give zeros).
pub fn build_data<'v>(dol: &[DolEntry], lookup: impl Fn(Tag) -> Option<&'v [u8]>) -> Vec<u8> {
    todo!("emv helper {dol:?} {:?}", lookup(Tag(0)))
}

/// Card side: cut DOL data back into `(tag, value)`; the total length must match exactly.
pub fn split<'a>(dol: &[DolEntry], data: &'a [u8]) -> Result<Vec<(Tag, &'a [u8])>, DolError> {
    todo!("emv helper {dol:?} {data:?}")
}
