//! The other side of a payment, run on a desktop: a token service and issuer host a wallet
//! provisions cards from and a terminal authorises against.
//!
//! - [`server`]: the HTTPS API (`/v1`), its database, PKI and failpoints.
//! - [`catalogue`]: the test cards; [`vault`]: token PAN ↔ PAN.
//! - [`issuer`]: issuer master keys, personalisation, ARQC verification.
//! - [`terminal`]: a contactless POS kernel simulator; [`vpcd`]: the PC/SC virtual-card bridge.

pub mod catalogue;
pub mod issuer;
pub mod server;
pub mod terminal;
pub mod vault;
pub mod vpcd;
