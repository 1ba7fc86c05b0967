//! The other side of a payment: what a wallet talks to, run on a desktop.

pub mod issuer;
pub mod terminal;
pub mod vpcd;
