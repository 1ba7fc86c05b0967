//! The other side of a payment: what a wallet talks to, run on a desktop.
