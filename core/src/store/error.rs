//! Everything the store and the history can fail with. No variant carries a secret.

use super::wrapper::WrapError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be read as a healthy SQLite file (not a database, malformed,
    /// failed `quick_check`, or missing its data key). It was moved aside to `path`, with its
    /// `-wal`/`-shm`; opening again starts a fresh wallet.
    #[error("the wallet database was damaged ({reason}); it was moved aside to {path}")]
    Quarantined { path: PathBuf, reason: String },
    /// The file was written by a newer walletcore. It was not touched.
    #[error(
        "the wallet database has schema version {found}, this build supports up to {supported}"
    )]
    NewerSchema { found: u32, supported: u32 },
    /// The database or its directory cannot be written (read-only directory or file, missing
    /// directory, permission denied). Nothing was changed.
    #[error("cannot open {path} for writing: {reason}")]
    Unwritable { path: PathBuf, reason: String },
    /// The key wrapper could not unwrap (or wrap) the data key.
    #[error("the data key is unavailable: {0}")]
    KeyUnavailable(#[from] WrapError),
    /// The wrapper returned a key that is not this wallet's data key.
    #[error("the unwrapped data key is not this wallet's: {0}")]
    WrongKey(String),
    /// A sealed value did not authenticate: altered, moved from elsewhere, or another key's.
    #[error("sealed value {table}.{column} of row {row} does not open")]
    Unsealable {
        table: String,
        row: i64,
        column: String,
    },
    #[error("cryptography failed: {0}")]
    Crypto(String),
    /// SQLite reported corruption while the store was open. Close it; the next open runs
    /// `quick_check` and quarantines the file if it fails.
    #[error("the wallet database is corrupt: {0}")]
    Corrupt(String),

    #[error("card {0} is not in the wallet")]
    UnknownCard(String),
    #[error("card {0} is already installed")]
    CardExists(String),
    #[error("invalid personalisation: {0}")]
    InvalidCard(String),
    #[error("invalid session keys for card {card}: {reason}")]
    InvalidKeys { card: String, reason: String },
    #[error("card {card} cannot go from {from} to {to}")]
    CardTransition {
        card: String,
        from: &'static str,
        to: &'static str,
    },

    #[error("no history record {0}")]
    UnknownRecord(i64),
    #[error("record {id} cannot go from {from} to {to}")]
    StatusTransition {
        id: i64,
        from: &'static str,
        to: &'static str,
    },
    #[error("a {0} payment spends a key: the ledger records it, not record()")]
    NeedsLedger(&'static str),
    #[error("a record for card {card} and ATC {atc} already exists")]
    DuplicateRecord { card: String, atc: u16 },
    #[error("invalid history cursor")]
    BadCursor,
    #[error("invalid value: {0}")]
    Invalid(String),

    /// Writing an export failed.
    #[error("export failed: {0}")]
    Io(#[from] std::io::Error),
    #[error("database error: {0}")]
    Sqlite(rusqlite::Error),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode::{DatabaseCorrupt, NotADatabase};
        match e.sqlite_error_code() {
            Some(DatabaseCorrupt | NotADatabase) => StoreError::Corrupt(e.to_string()),
            _ => StoreError::Sqlite(e),
        }
    }
}

impl From<csv::Error> for StoreError {
    fn from(e: csv::Error) -> Self {
        match e.into_kind() {
            csv::ErrorKind::Io(io) => StoreError::Io(io),
            other => StoreError::Io(std::io::Error::other(format!("{other:?}"))),
        }
    }
}

impl From<StoreError> for crate::ledger::LedgerError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::UnknownCard(id) => crate::ledger::LedgerError::UnknownCard(id),
            other => crate::ledger::LedgerError::Storage(other.to_string()),
        }
    }
}
