//! Cardholder verification on the phone (CDCVM).
//!
//! The wallet opens a window with [`super::Engine::unlock_for_payment`] after the user has
//! authenticated (BiometricPrompt or device credential). Inside the window every cryptogram
//! says "CDCVM performed" in the CVR, inside the IAD that the cryptogram covers — never only in
//! tags a man in the middle could flip (the CTQ attack in EMVerify, Basin et al. 2021).
//!
//! Outside the window a tap that needs a CVM is answered so that the terminal asks the
//! cardholder to look at the phone, who unlocks and taps again:
//! - Visa qVSDC: GPO status word `6986`. EMV Book C-3 maps it to outcome Try Again with the
//!   "See Phone" message; MohamedHassanNasr/emv `contactless_k3.h` keeps 6984/6985/6986 as the
//!   three distinct GPO refusals and builds the CHECK_PHONE outcome for the last.
//! - UnionPay qPBOC: the same `6986` [inferred: kernel C-7 follows C-3's GPO outcomes; no public
//!   UnionPay source confirms it].
//! - Mastercard M/Chip: the amount is only known at GENERATE AC (CDOL1), so the card answers
//!   that command with an AAC and POS Cardholder Interaction Information DF4B byte 2 bit 1
//!   ("OD-CVM required"). Kernel 2 (Book C-2 S910.71–72, as MohamedHassanNasr/emv implements
//!   it) then ends the transaction with the phone message and restarts for a second tap.
//!   The AAC is a real cryptogram, so it spends a single-use key like any other.
//!
//! No CVM is needed when the amount is at or below the card's CVM limit and the terminal does
//! not ask for one (TTQ byte 2 bit 7 for qVSDC/qPBOC).

/// What the card does about cardholder verification on one cryptogram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cvm {
    /// Inside the unlock window: the CVR says CDCVM performed.
    Cdcvm,
    /// Below the limit and not asked for: no CVM.
    NotRequired,
    /// Needed but not done: ask the cardholder to check the phone.
    SeePhone,
}

pub(crate) fn decide(
    unlocked: bool,
    amount_minor: u64,
    cvm_limit_minor: u64,
    terminal_requires_cvm: bool,
) -> Cvm {
    if unlocked {
        Cvm::Cdcvm
    } else if amount_minor > cvm_limit_minor || terminal_requires_cvm {
        Cvm::SeePhone
    } else {
        Cvm::NotRequired
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_and_limit() {
        assert_eq!(decide(true, 1_000_000, 5_000, false), Cvm::Cdcvm);
        assert_eq!(decide(true, 100, 5_000, false), Cvm::Cdcvm);
        assert_eq!(decide(false, 5_000, 5_000, false), Cvm::NotRequired);
        assert_eq!(decide(false, 5_001, 5_000, false), Cvm::SeePhone);
        assert_eq!(decide(false, 100, 5_000, true), Cvm::SeePhone);
    }
}
