//! Where a provisioning stands, as the wallet persists it, and what a caller sees of it.

use super::api::{IdvMethod, Terms};
use crate::card::Scheme;
use serde::Serialize;

/// The persisted provisioning states. `outcome_unknown` on [`Provisioning`] marks a request
/// sent without an answer; [`super::Provisioner::resume`] resolves it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProvisioningState {
    /// Card data sent for eligibility; no answer yet.
    New,
    /// The card can be added; terms are waiting for the user.
    Eligible,
    TermsAccepted,
    TokenizeSent,
    /// The issuer wants the cardholder verified; a method must be chosen.
    IdvRequired,
    /// An OTP was sent; waiting for the code.
    IdvPending,
    /// A token exists; its credentials are not on the device yet.
    Approved,
    CredentialsPending,
    /// The card is in the wallet (its lifecycle continues in the card's own state).
    Active,
    Declined,
    /// Ended without a card (refused, or the card data has to be entered again).
    Failed,
}

impl ProvisioningState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::Eligible => "eligible",
            Self::TermsAccepted => "terms_accepted",
            Self::TokenizeSent => "tokenize_sent",
            Self::IdvRequired => "idv_required",
            Self::IdvPending => "idv_pending",
            Self::Approved => "approved",
            Self::CredentialsPending => "credentials_pending",
            Self::Active => "active",
            Self::Declined => "declined",
            Self::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ALL_STATES.into_iter().find(|st| st.as_str() == s)
    }

    /// No further step can change it.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Active | Self::Declined | Self::Failed)
    }
}

const ALL_STATES: [ProvisioningState; 11] = [
    ProvisioningState::New,
    ProvisioningState::Eligible,
    ProvisioningState::TermsAccepted,
    ProvisioningState::TokenizeSent,
    ProvisioningState::IdvRequired,
    ProvisioningState::IdvPending,
    ProvisioningState::Approved,
    ProvisioningState::CredentialsPending,
    ProvisioningState::Active,
    ProvisioningState::Declined,
    ProvisioningState::Failed,
];

/// The request a provisioning has in flight (the outbox entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Eligibility,
    Terms,
    Tokenize,
    SelectIdv,
    SubmitOtp,
    Credentials,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Step::Eligibility => "eligibility",
            Step::Terms => "terms",
            Step::Tokenize => "tokenize",
            Step::SelectIdv => "idv",
            Step::SubmitOtp => "otp",
            Step::Credentials => "credentials",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Step::Eligibility,
            Step::Terms,
            Step::Tokenize,
            Step::SelectIdv,
            Step::SubmitOtp,
            Step::Credentials,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

/// A provisioning as the app shows it. Holds no card data beyond the last four digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provisioning {
    pub id: String,
    pub state: ProvisioningState,
    pub scheme: Option<Scheme>,
    pub pan_suffix: Option<String>,
    pub terms: Option<Terms>,
    pub idv_methods: Vec<IdvMethod>,
    pub idv_method: Option<String>,
    pub otp_attempts_left: Option<u8>,
    /// The card in the wallet once active (the token reference).
    pub card_id: Option<String>,
    /// A request was sent and no answer came back: `resume` finds out what happened.
    pub outcome_unknown: bool,
    pub last_error: Option<String>,
}

/// A card's token lifecycle as the wallet knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardState {
    Active,
    Suspended,
    Deleted,
}

impl CardState {
    pub fn as_str(self) -> &'static str {
        match self {
            CardState::Active => "active",
            CardState::Suspended => "suspended",
            CardState::Deleted => "deleted",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [CardState::Active, CardState::Suspended, CardState::Deleted]
            .into_iter()
            .find(|c| c.as_str() == s)
    }
}

/// A tokenized card's provisioning-side facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenCard {
    pub card_id: String,
    pub token_ref: String,
    pub provisioning_id: String,
    pub state: CardState,
    pub last_issued_atc: u16,
    pub reported_through: u16,
    /// A lifecycle or replenish request is in flight.
    pub pending: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in ALL_STATES {
            assert_eq!(ProvisioningState::parse(s.as_str()), Some(s));
        }
        assert_eq!(Step::parse("otp"), Some(Step::SubmitOtp));
        assert_eq!(CardState::parse("suspended"), Some(CardState::Suspended));
        assert_eq!(ProvisioningState::parse("bogus"), None);
    }
}
