//! The errors Kotlin sees: `WalletException` and `KeyWrapperException`.

use wallet_core::store::WrapError;
use wallet_core::wallet::WalletError as CoreError;

#[derive(Debug, thiserror::Error)]
pub enum WalletError {
    #[error("the wallet database was damaged ({reason}) and moved aside to {path}")]
    Quarantined { path: String, reason: String },
    #[error(
        "the wallet was written by a newer version (schema {found}, this build reads up to {supported})"
    )]
    NewerSchema { found: u32, supported: u32 },
    #[error("the wallet's key was invalidated: {reason}")]
    KeyInvalidated { reason: String },
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
    #[error("card {card} has no single-use keys left")]
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

impl WalletError {
    /// The variant's name, as Kotlin's `WalletException.<Name>` spells it; the JNI side starts
    /// its exception messages with it.
    pub fn variant(&self) -> &'static str {
        match self {
            WalletError::Quarantined { .. } => "Quarantined",
            WalletError::NewerSchema { .. } => "NewerSchema",
            WalletError::KeyInvalidated { .. } => "KeyInvalidated",
            WalletError::KeyUnavailable { .. } => "KeyUnavailable",
            WalletError::Storage { .. } => "Storage",
            WalletError::UnknownCard { .. } => "UnknownCard",
            WalletError::NoCards => "NoCards",
            WalletError::CardNotActive { .. } => "CardNotActive",
            WalletError::KeysExhausted { .. } => "KeysExhausted",
            WalletError::InvalidInput { .. } => "InvalidInput",
            WalletError::QrInvalid { .. } => "QrInvalid",
            WalletError::NotConfigured { .. } => "NotConfigured",
            WalletError::Network { .. } => "Network",
            WalletError::Server { .. } => "Server",
            WalletError::Declined { .. } => "Declined",
            WalletError::OtpRejected { .. } => "OtpRejected",
            WalletError::Internal { .. } => "Internal",
        }
    }

    /// Refine a "key unavailable" with what the key wrapper actually threw: Kotlin must tell
    /// "start afresh" (invalidated) from "retry" or "broken", which the core's error keeps
    /// only as text.
    pub fn with_wrapper_error(self, thrown: Option<KeyWrapperError>) -> Self {
        match (self, thrown) {
            (
                WalletError::KeyUnavailable { .. },
                Some(KeyWrapperError::KeyInvalidated { reason }),
            ) => WalletError::KeyInvalidated { reason },
            (other, _) => other,
        }
    }
}

impl From<CoreError> for WalletError {
    fn from(e: CoreError) -> Self {
        match e {
            CoreError::Quarantined { path, reason } => WalletError::Quarantined {
                path: path.display().to_string(),
                reason,
            },
            CoreError::NewerSchema { found, supported } => {
                WalletError::NewerSchema { found, supported }
            }
            CoreError::KeyUnavailable { reason } => WalletError::KeyUnavailable { reason },
            CoreError::Storage { reason } => WalletError::Storage { reason },
            CoreError::UnknownCard { id } => WalletError::UnknownCard { id },
            CoreError::NoCards => WalletError::NoCards,
            CoreError::CardNotActive { card } => WalletError::CardNotActive { card },
            CoreError::KeysExhausted { card } => WalletError::KeysExhausted { card },
            CoreError::InvalidInput { reason } => WalletError::InvalidInput { reason },
            CoreError::QrInvalid { reason } => WalletError::QrInvalid { reason },
            CoreError::NotConfigured { what } => WalletError::NotConfigured { what },
            CoreError::Network { reason } => WalletError::Network { reason },
            CoreError::Server { status, reason } => WalletError::Server { status, reason },
            CoreError::Declined { reason } => WalletError::Declined { reason },
            CoreError::OtpRejected { attempts_left } => WalletError::OtpRejected { attempts_left },
            CoreError::Internal { reason } => WalletError::Internal { reason },
        }
    }
}

/// Thrown by a Kotlin `KeyWrapper`; the same three cases as the core's [`WrapError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyWrapperError {
    #[error("key invalidated: {reason}")]
    KeyInvalidated { reason: String },
    #[error("key unavailable: {reason}")]
    Unavailable { reason: String },
    #[error("key wrapping failed: {reason}")]
    Failed { reason: String },
}

impl From<KeyWrapperError> for WrapError {
    fn from(e: KeyWrapperError) -> Self {
        match e {
            KeyWrapperError::KeyInvalidated { .. } => WrapError::KeyInvalidated,
            KeyWrapperError::Unavailable { reason } => WrapError::Unavailable(reason),
            KeyWrapperError::Failed { reason } => WrapError::Failed(reason),
        }
    }
}

/// A Kotlin `KeyWrapper` threw something other than `KeyWrapperException` (a
/// `KeyStoreException`, a `RuntimeException`): UniFFI hands us its description.
impl From<uniffi::UnexpectedUniFFICallbackError> for KeyWrapperError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyWrapperError::Failed {
            reason: first_line(&e.reason).to_owned(),
        }
    }
}

/// The first line of a foreign exception's description (UniFFI passes the whole stack trace).
pub fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or_default()
}
