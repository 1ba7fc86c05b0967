//! EMVCo QR codes: merchant-presented (scan), consumer-presented (show), rendering.
//!
//! - [`scan`]: anything a camera reads — an EMVCo MPM payload, a CPM payload, or one of
//!   China's URL codes — into a [`ScanReport`] (the CLI's `qr parse --json`).
//! - [`mpm`]: decode and build merchant-presented payloads.
//! - [`cpm`]: consumer-presented payment codes: decode, and issue one whose cryptogram comes
//!   from the card's single-use key pool.
//! - [`render`]: QR matrix, SVG, PNG and terminal output.
//! - [`schemes`]: which network a code names and the rule for whether this wallet pays it.

pub mod cpm;
mod crc;
pub mod mpm;
pub mod render;
mod report;
pub mod schemes;
pub mod url;

pub use report::{Fields, Kind, Payability, ScanReport, scan, scan_str};

use serde::Serialize;

/// Largest input accepted anywhere in this module, in bytes. An MPM payload is at most 512
/// characters and a CPM payload for a few cards a few hundred; 1 KiB covers both with room
/// for non-ASCII merchant names while keeping hostile input cheap to reject.
pub const MAX_INPUT_BYTES: usize = 1024;

/// Input that is not a payment code at all (as opposed to a malformed one, which comes back
/// as a report with a non-valid [`Verdict`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    #[error("empty input")]
    Empty,
    #[error("input is {len} bytes; at most {max} accepted")]
    TooLarge { len: usize, max: usize },
    #[error("payload is {chars} characters; EMVCo allows at most {max}")]
    TooLong { chars: usize, max: usize },
    #[error("input is not UTF-8 text (invalid byte at offset {valid_up_to})")]
    NotUtf8 { valid_up_to: usize },
    #[error("not an EMVCo payload or a known payment URL")]
    Unrecognised,
}

/// The overall judgement of a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Well-formed, CRC correct.
    Valid,
    /// Valid once lengths are read as UTF-8 bytes instead of characters.
    ValidLenient,
    /// Well-formed, CRC wrong.
    InvalidCrc,
    /// Well-formed up to a missing CRC object.
    MissingCrc,
    /// The layout is broken (or, for CPM, a required object is missing).
    InvalidStructure,
    /// CPM: not base64.
    InvalidBase64,
    /// CPM: the BER-TLV does not parse.
    InvalidBerTlv,
    /// URL: not one this wallet knows.
    UnknownUrl,
}

impl Verdict {
    pub fn is_valid(self) -> bool {
        matches!(self, Verdict::Valid | Verdict::ValidLenient)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::ValidLenient => "valid_lenient",
            Verdict::InvalidCrc => "invalid_crc",
            Verdict::MissingCrc => "missing_crc",
            Verdict::InvalidStructure => "invalid_structure",
            Verdict::InvalidBase64 => "invalid_base64",
            Verdict::InvalidBerTlv => "invalid_ber_tlv",
            Verdict::UnknownUrl => "unknown_url",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
