//! Provisioning: the token-service client and the persisted provisioning state machine.
//!
//! - [`api`]: the wallet–server API (paths and bodies), shared with the sandbox server.
//! - [`jwe`]: ECDH-ES + A256GCM compact JWE and P-256 JWKs.
//! - [`sign`]: request signatures; [`device`]: the device's signing and agreement keys.
//! - [`pan`]: Luhn, scheme detection and a zeroizing PAN.
//! - [`client`]: the blocking HTTPS client with the pinned CA.
//! - [`Provisioner`]: the provisioning state machine and card lifecycle, persisted in the
//!   wallet database ([`schema`]); [`policy`]: when to replenish single-use keys.

pub mod api;
mod b64;
pub mod client;
mod db;
pub mod device;
mod error;
pub mod jwe;
pub mod pan;
pub mod policy;
mod provisioner;
pub mod schema;
pub mod sign;
pub mod state;

pub use b64::{decode as b64_decode, encode as b64_encode};
pub use error::TokenError;
pub use policy::KeyPolicy;
pub use provisioner::{CardInput, Provisioner, SyncReport, TokenConfig};
pub use state::{CardState, Provisioning, ProvisioningState, TokenCard};

/// Whether `card_id` came from a token service (its lifecycle and payments go through it) or
/// was personalised locally (a desktop test card).
pub fn is_token_card(store: &crate::store::Store, card_id: &str) -> Result<bool, TokenError> {
    Ok(db::card_ids(store.connection())?
        .iter()
        .any(|id| id == card_id))
}
