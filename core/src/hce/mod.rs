//! The contactless card the phone emulates: one state machine per NFC field session.
//!
//! A reader's session runs SELECT PPSE (`2PAY.SYS.DDF01`, every card's AID with its priority,
//! default card first) -> SELECT AID (FCI with the PDOL) -> GET PROCESSING OPTIONS -> READ
//! RECORD (only what the AFL lists) -> GENERATE AC (Mastercard only); GET DATA 9F36 reads the
//! ATC. Profiles:
//!
//! | scheme     | AID                   | kernel | cryptogram        | CVN            |
//! |------------|-----------------------|--------|-------------------|----------------|
//! | UnionPay   | A000000333010101 / 02 | C-7    | GPO response (77) | 01             |
//! | Visa       | A0000000031010        | C-3    | GPO response (77) | 18, '22'       |
//! | Mastercard | A0000000041010        | C-2    | GENERATE AC       | 20, 21         |
//!
//! All three are online-only (no ODA in the AIP). Each cryptogram spends the card's next
//! single-use key through a [`crate::ledger::KeyLedger`], which commits the key as used before
//! the response leaves [`Engine::process`]. How cardholder verification on the phone is
//! signalled is described in [`cvm`].

pub mod cvm;
mod engine;
mod image;
mod scheme;
mod terminal_data;

pub use engine::Engine;
pub use image::ProfileError;
