//! The local transaction ledger the user sees: one record per tap or QR payment, written in the
//! same SQLite transaction that spent its key (see [`crate::store`]'s `KeyLedger`).
//!
//! - **Writes** ([`write`](mod@write)): the ledger inserts taps and presented codes as
//!   `pending`; [`Store::record`] adds scanned-code payments; [`Store::import`] restores records
//!   from the server after a fresh start. A unique index on (card, ATC) — (card, cryptogram hash)
//!   for scanned codes — makes every insert idempotent: re-importing or retrying never duplicates.
//! - **Sync**: [`Store::pending`] lists what to ask the server about; [`Store::set_status`] and
//!   [`Store::apply_statuses`] apply answers. Applying an answer twice is a no-op and sync only
//!   ever updates statuses, so an interrupted sync loses and duplicates nothing.
//! - **Queries** ([`query`]): newest first, keyset pagination with an opaque [`Cursor`], filters.
//! - **Stats** ([`stats`]): monthly totals from a rollup table kept in step with every write.
//! - **Export** ([`export`]): CSV and JSON streamed row by row to any `Write`.
//!
//! [`Store::record`]: crate::store::Store::record
//! [`Store::import`]: crate::store::Store::import
//! [`Store::pending`]: crate::store::Store::pending
//! [`Store::set_status`]: crate::store::Store::set_status
//! [`Store::apply_statuses`]: crate::store::Store::apply_statuses
//!
//! # Searching encrypted merchant names
//!
//! Merchant and note are sealed per row, so SQLite cannot search them. The text filter decrypts
//! and matches (case-insensitive substring) while walking newest-first through the rows the
//! other filters select, and stops after [`SEARCH_SCAN_BUDGET`] candidate rows even if the page
//! is not full; the returned cursor continues the walk. The trade-off, chosen deliberately: no
//! blind index means the file leaks nothing about which records share a merchant, and substring
//! search works in every script (Chinese merchant names have no word boundaries to tokenise);
//! the cost is time linear in the rows scanned (≈ the budget per page at worst), which is fine
//! for a phone-sized history and bounded for a huge one. A keyed blind index of normalised
//! tokens would make search O(matches) but reveal equal merchants across records to anyone
//! holding the file, and only match whole tokens.

pub mod export;
pub mod query;
pub mod stats;
pub mod write;

pub use crate::ledger::Channel;
pub use query::{Cursor, Filter, Page, SEARCH_SCAN_BUDGET};
pub use stats::{Month, MonthlyTotal, StatsQuery, Sum};
pub use write::{ImportSummary, Imported};

use serde::{Deserialize, Serialize};

/// A record's place in the payment's life. Only the server moves it on from `pending`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Approved,
    Declined,
    Reversed,
    Expired,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Pending,
        Status::Approved,
        Status::Declined,
        Status::Reversed,
        Status::Expired,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approved => "approved",
            Status::Declined => "declined",
            Status::Reversed => "reversed",
            Status::Expired => "expired",
        }
    }

    pub(crate) fn code(self) -> i64 {
        match self {
            Status::Pending => 0,
            Status::Approved => 1,
            Status::Declined => 2,
            Status::Reversed => 3,
            Status::Expired => 4,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<Self> {
        Status::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Allowed moves: `pending` to any outcome; `approved` to `reversed`; `expired` to the
    /// server's late verdict (`approved`/`declined`/`reversed`) — the server is the authority on
    /// whether a code was used. `declined` and `reversed` are final.
    pub fn can_become(self, to: Status) -> bool {
        use Status::*;
        match (self, to) {
            (a, b) if a == b => true,
            (Pending, _) => true,
            (Approved, Reversed) => true,
            (Expired, Approved | Declined | Reversed) => true,
            _ => false,
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Status::ALL
            .into_iter()
            .find(|st| st.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown status '{s}' (pending, approved, declined, reversed, expired)")
            })
    }
}

pub(crate) fn channel_code(c: Channel) -> i64 {
    match c {
        Channel::Nfc => 0,
        Channel::QrPresented => 1,
        Channel::QrScanned => 2,
    }
}

pub(crate) fn channel_from_code(code: i64) -> Option<Channel> {
    [Channel::Nfc, Channel::QrPresented, Channel::QrScanned]
        .into_iter()
        .find(|c| channel_code(*c) == code)
}

/// Parse `nfc`, `qr_presented`, `qr_scanned` (as the CLI and exports spell them).
pub fn parse_channel(s: &str) -> Result<Channel, String> {
    [Channel::Nfc, Channel::QrPresented, Channel::QrScanned]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| format!("unknown channel '{s}' (nfc, qr_presented, qr_scanned)"))
}

/// One payment as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    pub id: i64,
    pub card_id: String,
    pub channel: Channel,
    pub status: Status,
    pub amount_minor: Option<u64>,
    /// ISO 4217 numeric.
    pub currency: Option<u16>,
    /// ISO 3166 numeric.
    pub country: Option<u16>,
    pub merchant: Option<String>,
    pub note: Option<String>,
    pub atc: u16,
    #[serde(with = "hex::serde")]
    pub unpredictable_number: [u8; 4],
    #[serde(with = "hex::serde")]
    pub cryptogram_sha256: [u8; 32],
    pub cdcvm: bool,
    /// Unix milliseconds, UTC.
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_and_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::from_code(s.code()), Some(s));
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            assert!(s.can_become(s));
        }
        assert!(Status::from_code(9).is_none());
        assert!(!Status::Declined.can_become(Status::Approved));
        assert!(!Status::Reversed.can_become(Status::Pending));
        assert!(!Status::Approved.can_become(Status::Pending));
        for c in [Channel::Nfc, Channel::QrPresented, Channel::QrScanned] {
            assert_eq!(channel_from_code(channel_code(c)), Some(c));
            assert_eq!(parse_channel(c.as_str()), Ok(c));
        }
    }
}
