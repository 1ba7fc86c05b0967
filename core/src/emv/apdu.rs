//! ISO 7816-4 command and response APDUs.

use std::fmt;

/// An ISO 7816-4 status word.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct StatusWord(pub u16);

impl StatusWord {
    pub const OK: Self = Self(0x9000);
    pub const WRONG_LENGTH: Self = Self(0x6700);
    pub const CONDITIONS_NOT_SATISFIED: Self = Self(0x6985);
    pub const WRONG_DATA: Self = Self(0x6A80);
    pub const FILE_NOT_FOUND: Self = Self(0x6A82);
    pub const RECORD_NOT_FOUND: Self = Self(0x6A83);
    pub const INCORRECT_P1P2: Self = Self(0x6A86);
    pub const REFERENCED_DATA_NOT_FOUND: Self = Self(0x6A88);
    pub const INS_NOT_SUPPORTED: Self = Self(0x6D00);
    pub const CLA_NOT_SUPPORTED: Self = Self(0x6E00);
    pub const NO_PRECISE_DIAGNOSIS: Self = Self(0x6F00);

    pub fn to_bytes(self) -> [u8; 2] {
        self.0.to_be_bytes()
    }
}

impl fmt::Debug for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SW {:04X}", self.0)
    }
}

impl fmt::Display for StatusWord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04X}", self.0)
    }
}

/// A parsed command APDU (cases 1–4, short and extended). `data` borrows the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Command<'a> {
    pub cla: u8,
    pub ins: u8,
    pub p1: u8,
    pub p2: u8,
    pub data: &'a [u8],
    /// Expected response length; `Some(256)` for a short Le of `00`, `Some(65536)` for an
    /// extended Le of `0000`.
    pub le: Option<usize>,
}

impl<'a> Command<'a> {
    /// Parse raw bytes. Fewer than 4 bytes, or an Lc/Le that does not match the length,
    /// is [`StatusWord::WRONG_LENGTH`].
    pub fn parse(raw: &'a [u8]) -> Result<Self, StatusWord> {
        todo!("emv helper {raw:?}")
    }

    /// Encode (short form when it fits, extended otherwise); the terminal side uses this.
    pub fn to_bytes(&self) -> Vec<u8> {
        todo!("emv helper")
    }
}

/// `data | SW1 SW2`.
pub fn response(data: &[u8], sw: StatusWord) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(&sw.to_bytes());
    out
}

/// Split a response APDU into data and status word; `None` if shorter than 2 bytes.
pub fn split_response(raw: &[u8]) -> Option<(&[u8], StatusWord)> {
    let (data, sw) = raw.split_at_checked(raw.len().checked_sub(2)?)?;
    Some((data, StatusWord(u16::from_be_bytes([sw[0], sw[1]]))))
}
