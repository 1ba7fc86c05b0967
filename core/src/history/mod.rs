//! The local transaction ledger the user sees.
