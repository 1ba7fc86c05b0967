//! Provisioning errors: typed, and free of card data, OTPs and keys.

use super::client::ClientError;
use super::pan::PanError;
use super::state::ProvisioningState;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("card number refused: {0}")]
    InvalidPan(#[from] PanError),
    #[error("expiry must be MM/YY")]
    InvalidExpiry,
    #[error("cardholder name must be 1 to 26 printable characters")]
    InvalidName,
    #[error("OTP must be 4 to 8 digits")]
    InvalidOtp,
    /// The token service said no; `code` is its error code (see `api::codes`).
    #[error("the token service refused: {message} ({code})")]
    Refused {
        code: String,
        message: String,
        attempts_left: Option<u8>,
    },
    /// A request got no answer. Its outcome is recorded as unknown; `resume` settles it.
    #[error("no answer from the token service for {step} of provisioning {id}; resume later")]
    OutcomeUnknown { id: String, step: &'static str },
    /// Lifecycle or replenish request without an answer; retried on the next sync.
    #[error("no answer from the token service for {step} of card {card_id}; it is retried on sync")]
    CardOutcomeUnknown { card_id: String, step: &'static str },
    #[error("provisioning {id} is {state:?}; cannot {action}")]
    WrongState {
        id: String,
        state: ProvisioningState,
        action: &'static str,
    },
    #[error("no provisioning {0}")]
    UnknownProvisioning(String),
    #[error("card {0} did not come from a token service")]
    UnknownCard(String),
    #[error("{0} belongs to another token service than the one configured")]
    OtherServer(String),
    #[error("the card data was lost with the answer; enter the card again")]
    ReenterCard,
    #[error("the token service answered something invalid: {0}")]
    BadCredentials(String),
    #[error(transparent)]
    Client(ClientError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("device keys: {0}")]
    Device(String),
}

impl From<rusqlite::Error> for TokenError {
    fn from(e: rusqlite::Error) -> Self {
        TokenError::Store(StoreError::from(e))
    }
}
