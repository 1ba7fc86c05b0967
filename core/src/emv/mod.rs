//! EMV building blocks shared by the card (`hce`) and, in the sandbox, the terminal and issuer.

pub mod apdu;
pub mod bcd;
pub mod crypto;
pub mod cvn;
pub mod dol;
pub mod tlv;
