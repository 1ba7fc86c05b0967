//! The EMVCo MPM data object layout: `ID (2 digits) | length (2 digits, 01–99) | value`.
//!
//! Lengths count characters (the EMVCo annex example gives `0104最佳运输` — 4 characters,
//! 12 UTF-8 bytes — and its CRC only matches that reading). Some producers count UTF-8 bytes
//! instead, so the reader can run in either [`Unit`]; the decoder tries characters first.
//!
//! The reader never panics and never allocates per object beyond the output vector: values
//! borrow the input.

use std::fmt;

/// What a length field counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Chars,
    Bytes,
}

/// One data object; `offset` is where its ID starts, in [`Unit`]s from the start of the
/// string that was read (the payload, or a template's value).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Object<'a> {
    pub id: u8,
    pub value: &'a str,
    pub offset: usize,
}

/// Why reading stopped before the end. The messages are the ones the QR corpus expects.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Fault {
    #[error("truncated header at offset {offset}")]
    TruncatedHeader { offset: usize },
    #[error("non-numeric ID '{id}' at offset {offset}")]
    NonNumericId { id: String, offset: usize },
    #[error("non-numeric length '{len}' for ID {id:02} at offset {offset}")]
    NonNumericLength { id: u8, len: String, offset: usize },
    #[error("zero length for ID {id:02} at offset {offset}")]
    ZeroLength { id: u8, offset: usize },
    #[error("value of ID {id:02} overruns payload (needs {needs}, has {has})")]
    Overrun { id: u8, needs: usize, has: usize },
    #[error("value of ID {id:02} ends inside a UTF-8 character at offset {offset}")]
    SplitCharacter { id: u8, offset: usize },
}

/// Read objects until the end of `s` or the first fault. Objects before the fault are kept:
/// a partly readable code still says something useful (its merchant account, its currency).
pub fn read(s: &str, unit: Unit) -> (Vec<Object<'_>>, Option<Fault>) {
    let text = Units::new(s, unit);
    let mut out = Vec::new();
    let mut pos = 0;
    let len = text.len();
    while pos < len {
        match read_one(&text, pos) {
            Ok((obj, next)) => {
                out.push(obj);
                pos = next;
            }
            Err(fault) => return (out, Some(fault)),
        }
    }
    (out, None)
}

/// Does `s` read cleanly as nested data objects? (Templates: 26–51, 62, 64, 80–99.)
pub fn read_all(s: &str, unit: Unit) -> Result<Vec<Object<'_>>, Fault> {
    match read(s, unit) {
        (objs, None) => Ok(objs),
        (_, Some(f)) => Err(f),
    }
}

fn read_one<'a>(text: &Units<'a>, pos: usize) -> Result<(Object<'a>, usize), Fault> {
    let header_end = pos + 4;
    if header_end > text.len() {
        return Err(Fault::TruncatedHeader { offset: pos });
    }
    let id_text = text.slice_lossy(pos, pos + 2);
    let id = two_digits(&id_text).ok_or_else(|| Fault::NonNumericId {
        id: id_text.clone(),
        offset: pos,
    })?;
    let len_text = text.slice_lossy(pos + 2, header_end);
    let n = two_digits(&len_text).ok_or(Fault::NonNumericLength {
        id,
        len: len_text,
        offset: pos,
    })?;
    if n == 0 {
        return Err(Fault::ZeroLength { id, offset: pos });
    }
    let n = usize::from(n);
    let end = header_end + n;
    if end > text.len() {
        return Err(Fault::Overrun {
            id,
            needs: n,
            has: text.len() - header_end,
        });
    }
    let value = text
        .slice(header_end, end)
        .ok_or(Fault::SplitCharacter { id, offset: pos })?;
    Ok((
        Object {
            id,
            value,
            offset: pos,
        },
        end,
    ))
}

fn two_digits(s: &str) -> Option<u8> {
    match s.as_bytes() {
        &[a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
    }
}

/// A string indexed in [`Unit`]s. For character units over non-ASCII text it keeps the byte
/// offset of every character; ASCII text (nearly every real payload) needs no table.
struct Units<'a> {
    s: &'a str,
    /// Byte offset of each character, plus `s.len()`; `None` when units are bytes.
    bounds: Option<Vec<usize>>,
}

impl<'a> Units<'a> {
    fn new(s: &'a str, unit: Unit) -> Self {
        let bounds = (unit == Unit::Chars && !s.is_ascii())
            .then(|| s.char_indices().map(|(i, _)| i).chain([s.len()]).collect());
        Self { s, bounds }
    }

    fn len(&self) -> usize {
        self.bounds.as_ref().map_or(self.s.len(), |b| b.len() - 1)
    }

    fn byte_range(&self, from: usize, to: usize) -> Option<(usize, usize)> {
        match &self.bounds {
            None => Some((from, to)),
            Some(b) => Some((*b.get(from)?, *b.get(to)?)),
        }
    }

    /// `None` when a byte range cuts a character.
    fn slice(&self, from: usize, to: usize) -> Option<&'a str> {
        let (a, b) = self.byte_range(from, to)?;
        self.s.get(a..b)
    }

    /// For error messages: the units as text even when they cut a character.
    fn slice_lossy(&self, from: usize, to: usize) -> String {
        match self.byte_range(from, to) {
            Some((a, b)) => {
                String::from_utf8_lossy(self.s.as_bytes().get(a..b).unwrap_or_default())
                    .into_owned()
            }
            None => String::new(),
        }
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unit::Chars => "characters",
            Unit::Bytes => "UTF-8 bytes",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_in_characters_and_bytes() {
        let s = "0104最佳运输0202北京";
        let (objs, fault) = read(s, Unit::Chars);
        assert_eq!(fault, None);
        assert_eq!(objs[0].value, "最佳运输");
        assert_eq!(
            objs[1],
            Object {
                id: 2,
                value: "北京",
                offset: 8
            }
        );
        let (_, fault) = read(s, Unit::Bytes);
        assert!(
            matches!(fault, Some(Fault::SplitCharacter { id: 1, .. })),
            "{fault:?}"
        );
    }

    #[test]
    fn faults() {
        assert_eq!(
            read("000", Unit::Chars).1,
            Some(Fault::TruncatedHeader { offset: 0 })
        );
        assert_eq!(
            read("0A02xx", Unit::Chars)
                .1
                .map(|f| f.to_string())
                .as_deref(),
            Some("non-numeric ID '0A' at offset 0")
        );
        assert_eq!(
            read("00020101x1", Unit::Chars)
                .1
                .map(|f| f.to_string())
                .as_deref(),
            Some("non-numeric length 'x1' for ID 01 at offset 6")
        );
        assert_eq!(
            read("0100", Unit::Chars).1,
            Some(Fault::ZeroLength { id: 1, offset: 0 })
        );
        assert_eq!(
            read("0105abc", Unit::Chars).1,
            Some(Fault::Overrun {
                id: 1,
                needs: 5,
                has: 3
            })
        );
        assert_eq!(
            read("0é01", Unit::Bytes)
                .1
                .map(|f| f.to_string())
                .as_deref(),
            Some("non-numeric ID '0\u{FFFD}' at offset 0")
        );
    }
}
