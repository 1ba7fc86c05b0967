//! The EMVCo MPM data object layout: `ID (2 digits) | length (2 digits, 01–99) | value`.
//!
//! Lengths count characters (the EMVCo annex example gives `0104最佳运输` — 4 characters,
//! 12 UTF-8 bytes — and its CRC only matches that reading). Some producers count UTF-8 bytes
//! instead, so the reader can run in either [`Unit`]; the decoder tries characters first.
//!
//! The reader never panics and allocates only the output vector (and a message on a fault):
//! values borrow the input, and characters are counted as it goes, without an index table.

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
    // In ASCII text characters are bytes, and byte arithmetic is cheaper.
    let unit = if s.is_ascii() { Unit::Bytes } else { unit };
    let mut out = Vec::with_capacity(24);
    let (mut byte, mut offset) = (0, 0);
    while let Some(rest) = s.get(byte..).filter(|r| !r.is_empty()) {
        match read_one(rest, offset, unit) {
            Ok((obj, bytes, units)) => {
                out.push(obj);
                byte += bytes;
                offset += units;
            }
            Err(fault) => return (out, Some(fault)),
        }
    }
    (out, None)
}

/// One object at the start of `rest`: the object, and the bytes and units it spans.
fn read_one(rest: &str, offset: usize, unit: Unit) -> Result<(Object<'_>, usize, usize), Fault> {
    let header = advance(rest, 4, unit).map_err(|_| Fault::TruncatedHeader { offset })?;
    // Digits are ASCII, so checking bytes is checking characters; text only for messages.
    let bytes = rest.as_bytes();
    let id = two_digits(bytes, 0).ok_or_else(|| Fault::NonNumericId {
        id: lossy(rest, 0, advance(rest, 2, unit).unwrap_or(header)),
        offset,
    })?;
    let n = two_digits(bytes, 2).ok_or_else(|| Fault::NonNumericLength {
        id,
        len: lossy(rest, 2, header),
        offset,
    })?;
    if n == 0 {
        return Err(Fault::ZeroLength { id, offset });
    }
    let n = usize::from(n);
    let body = rest
        .get(header..)
        .ok_or(Fault::SplitCharacter { id, offset })?;
    let value_len = advance(body, n, unit).map_err(|has| Fault::Overrun { id, needs: n, has })?;
    let value = body
        .get(..value_len)
        .ok_or(Fault::SplitCharacter { id, offset })?;
    Ok((Object { id, value, offset }, header + value_len, 4 + n))
}

/// Bytes spanned by the first `n` units of `s`, or how many units it has when fewer.
fn advance(s: &str, n: usize, unit: Unit) -> Result<usize, usize> {
    match unit {
        Unit::Bytes if n <= s.len() => Ok(n),
        Unit::Bytes => Err(s.len()),
        Unit::Chars => match s.char_indices().nth(n) {
            Some((i, _)) => Ok(i),
            None => match s.chars().count() {
                count if count == n => Ok(s.len()),
                count => Err(count),
            },
        },
    }
}

/// For error messages: bytes as text even when they cut a character.
fn lossy(s: &str, from: usize, to: usize) -> String {
    String::from_utf8_lossy(s.as_bytes().get(from..to).unwrap_or_default()).into_owned()
}

fn two_digits(bytes: &[u8], at: usize) -> Option<u8> {
    match bytes.get(at..at + 2)? {
        &[a @ b'0'..=b'9', b @ b'0'..=b'9'] => Some((a - b'0') * 10 + (b - b'0')),
        _ => None,
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
