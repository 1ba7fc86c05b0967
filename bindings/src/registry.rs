//! The one place both FFI paths find the open wallet.
//!
//! Placeholder until the core's `Wallet` facade lands: no wallet can be opened yet, so the card
//! is absent and every command is refused.

use wallet_core::emv::apdu::StatusWord;

/// Answer one command APDU with the wallet the HCE service is attached to.
pub fn process_apdu(_command: &[u8]) -> Vec<u8> {
    log::warn!("NativeHce: no wallet attached; refusing the command");
    StatusWord::CONDITIONS_NOT_SATISFIED.to_bytes().to_vec()
}

/// The reader went away.
pub fn deactivate(reason: i32) {
    log::debug!("NativeHce: deactivated (reason {reason}) with no wallet attached");
}
