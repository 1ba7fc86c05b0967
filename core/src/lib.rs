//! walletcore's core: everything a payment wallet does, with no FFI, HTTP-server or terminal code.
//!
//! - [`emv`]: the encodings and cryptography both sides of a contactless card speak.
//! - [`hce`]: the card the phone emulates (Host Card Emulation).
//! - [`card`]: what a personalised card is; [`ledger`]: the contract for consuming single-use keys.
//! - [`store`], [`history`], [`token`], [`qr`]: storage, the transaction ledger, provisioning, QR codes.

#[macro_use]
mod failpoint;

pub mod card;
pub mod emv;
pub mod hce;
pub mod history;
pub mod ledger;
pub mod money;
pub mod qr;
pub mod store;
pub mod token;
pub mod wallet;
