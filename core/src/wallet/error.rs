//! The one error type the facade returns. Every variant says what went wrong and what to do,
//! and none carries a secret (no PAN, key, cryptogram or OTP): it crosses FFI and reaches logs.

use crate::ledger::LedgerError;
use crate::qr::InputError;
use crate::qr::cpm::PresentError;
use crate::store::StoreError;
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    /// The database was damaged and moved aside; opening again starts an empty wallet that
    /// can resync from the server.
    #[error("the wallet database was damaged ({reason}) and moved aside to {}", path.display())]
    Quarantined { path: PathBuf, reason: String },
    #[error(
        "the wallet was written by a newer version (schema {found}, this build reads up to {supported})"
    )]
    NewerSchema { found: u32, supported: u32 },
    /// The data key could not be unwrapped (Android: the Keystore key was invalidated, e.g. by
    /// a biometric enrolment change — the cards must be added again).
    #[error("the wallet's data key is unavailable: {reason}")]
    KeyUnavailable { reason: String },
    #[error("storage failed: {reason}")]
    Storage { reason: String },
    #[error("card {id} is not in the wallet")]
    UnknownCard { id: String },
    #[error("the wallet has no active card")]
    NoCards,
    #[error("card {card} is not active")]
    CardNotActive { card: String },
    #[error("card {card} has no single-use keys left; sync to get more")]
    KeysExhausted { card: String },
    #[error("invalid input: {reason}")]
    InvalidInput { reason: String },
    #[error("not a payable QR code: {reason}")]
    QrInvalid { reason: String },
    #[error("the wallet is not configured: {what}")]
    NotConfigured { what: String },
    #[error("network: {reason}")]
    Network { reason: String },
    #[error("the server answered {status}: {reason}")]
    Server { status: u16, reason: String },
    #[error("declined: {reason}")]
    Declined { reason: String },
    #[error("OTP rejected; {attempts_left} attempts left")]
    OtpRejected { attempts_left: u32 },
    #[error("internal error: {reason}")]
    Internal { reason: String },
}

impl From<StoreError> for WalletError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Quarantined { path, reason } => WalletError::Quarantined { path, reason },
            StoreError::NewerSchema { found, supported } => {
                WalletError::NewerSchema { found, supported }
            }
            StoreError::KeyUnavailable(w) => WalletError::KeyUnavailable {
                reason: w.to_string(),
            },
            StoreError::WrongKey(reason) => WalletError::KeyUnavailable { reason },
            StoreError::UnknownCard(id) => WalletError::UnknownCard { id },
            StoreError::BadCursor | StoreError::Invalid(_) | StoreError::InvalidCard(_) => {
                WalletError::InvalidInput {
                    reason: e.to_string(),
                }
            }
            other => WalletError::Storage {
                reason: other.to_string(),
            },
        }
    }
}

impl From<LedgerError> for WalletError {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::UnknownCard(id) => WalletError::UnknownCard { id },
            LedgerError::Exhausted(card) => WalletError::KeysExhausted { card },
            LedgerError::Inactive(card) => WalletError::CardNotActive { card },
            LedgerError::Storage(reason) => WalletError::Storage { reason },
        }
    }
}

impl From<PresentError> for WalletError {
    fn from(e: PresentError) -> Self {
        match e {
            PresentError::Ledger(l) => l.into(),
            other => WalletError::InvalidInput {
                reason: other.to_string(),
            },
        }
    }
}

impl From<InputError> for WalletError {
    fn from(e: InputError) -> Self {
        WalletError::QrInvalid {
            reason: e.to_string(),
        }
    }
}
