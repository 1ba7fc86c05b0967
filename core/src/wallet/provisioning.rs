//! The facade's side of the token service: provisioning steps, lifecycle, sync, replenishment.
//!
//! The provisioner talks to the network, so it never runs under the lock a tap needs: it has
//! its own connection to the wallet database (SQLite in WAL mode serialises the short write
//! transactions of both) behind its own mutex. After it changes cards, the engine reloads them.

use super::{Wallet, WalletError};
use crate::store::{CardStatus, Store};
use crate::token::api::codes;
use crate::token::client::ClientError;
use crate::token::{CardInput, Provisioner, Provisioning, SyncReport, TokenConfig, TokenError};

/// The provisioner and its own database connection.
pub(super) struct TokenSide {
    pub provisioner: Provisioner,
    pub store: Store,
}

impl Wallet {
    /// Run `f` with the provisioner, opening it (and its connection) on first use; then give
    /// the engine the cards as they now are.
    pub(super) fn with_token<T>(
        &self,
        f: impl FnOnce(&mut Provisioner, &mut Store) -> Result<T, TokenError>,
    ) -> Result<T, WalletError> {
        let mut slot = match self.token.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        if slot.is_none() {
            let server = self
                .config
                .server
                .as_ref()
                .ok_or(WalletError::NotConfigured {
                    what: "token service URL and CA".into(),
                })?;
            let config = TokenConfig::new(server.url.clone(), server.ca_pem.clone().into_bytes());
            let provisioner = Provisioner::new(config).map_err(WalletError::from)?;
            let store = Store::open(&self.config.home, self.wrapper.clone())?;
            *slot = Some(TokenSide { provisioner, store });
        }
        let Some(side) = slot.as_mut() else {
            return Err(WalletError::Internal {
                reason: "token service connection missing".into(),
            });
        };
        let out = f(&mut side.provisioner, &mut side.store);
        drop(slot);
        self.reload_cards(&mut self.lock_inner())?;
        Ok(out?)
    }

    /// Step 1 of adding a card: the card data goes to the token service as a JWE and is
    /// forgotten. `pan` is ASCII digits; the caller wipes its copy.
    pub fn begin_provisioning(
        &self,
        pan: &[u8],
        expiry_mm_yy: &str,
        name: &str,
    ) -> Result<Provisioning, WalletError> {
        self.with_token(|p, s| {
            p.begin(
                s,
                CardInput {
                    pan,
                    expiry: expiry_mm_yy,
                    name,
                },
            )
        })
    }

    pub fn accept_terms(&self, provisioning_id: &str) -> Result<Provisioning, WalletError> {
        self.with_token(|p, s| p.accept_terms(s, provisioning_id))
    }

    pub fn select_idv_method(
        &self,
        provisioning_id: &str,
        method_id: &str,
    ) -> Result<Provisioning, WalletError> {
        self.with_token(|p, s| p.select_idv(s, provisioning_id, method_id))
    }

    pub fn submit_otp(
        &self,
        provisioning_id: &str,
        otp: &str,
    ) -> Result<Provisioning, WalletError> {
        self.with_token(|p, s| p.submit_otp(s, provisioning_id, otp))
    }

    /// Settle a provisioning whose last request got no answer.
    pub fn resume_provisioning(&self, provisioning_id: &str) -> Result<Provisioning, WalletError> {
        self.with_token(|p, s| p.resume(s, provisioning_id))
    }

    pub fn provisionings(&self) -> Result<Vec<Provisioning>, WalletError> {
        self.with_token(|p, s| p.provisionings(s))
    }

    /// Suspend, resume or delete a card. A card from the token service changes there first
    /// (its keys are wiped here either way); a local test card changes only here.
    pub fn set_card_status(&self, id: &str, status: CardStatus) -> Result<(), WalletError> {
        if self.config.server.is_some() && self.is_token_card(id)? {
            let reason = "CUSTOMER_REQUEST";
            return self.with_token(|p, s| {
                match status {
                    CardStatus::Suspended => p.suspend(s, id, reason),
                    CardStatus::Active => p.resume_card(s, id),
                    CardStatus::Deleted => p.delete(s, id, reason),
                }
                .map(drop)
            });
        }
        let mut inner = self.lock_inner();
        inner.store.set_card_status(id, status)?;
        self.reload_cards(&mut inner)
    }

    /// Events, lifecycle requests left mid-way, replenishment and payment statuses.
    pub fn sync(&self) -> Result<SyncReport, WalletError> {
        self.with_token(|p, s| p.sync(s))
    }

    /// Ask for more keys for `card_id` when the policy says so. Never called on the payment
    /// path; a failure is reported and retried at the next sync.
    pub fn replenish_if_needed(&self, card_id: &str) -> Result<usize, WalletError> {
        self.with_token(|p, s| p.replenish_if_needed(s, card_id))
    }

    /// Whether the card came from a token service (its lifecycle and payments go through it).
    pub fn is_token_card(&self, card_id: &str) -> Result<bool, WalletError> {
        Ok(crate::token::is_token_card(
            &self.lock_inner().store,
            card_id,
        )?)
    }
}

impl From<TokenError> for WalletError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::InvalidPan(_)
            | TokenError::InvalidExpiry
            | TokenError::InvalidName
            | TokenError::InvalidOtp
            | TokenError::ReenterCard => WalletError::InvalidInput {
                reason: e.to_string(),
            },
            TokenError::Refused {
                code,
                message,
                attempts_left: Some(left),
            } if code == codes::OTP_INCORRECT => {
                log::info!("token: OTP refused: {message}");
                WalletError::OtpRejected {
                    attempts_left: u32::from(left),
                }
            }
            TokenError::Refused { code, message, .. } => WalletError::Declined {
                reason: format!("{message} ({code})"),
            },
            TokenError::OutcomeUnknown { .. } | TokenError::CardOutcomeUnknown { .. } => {
                WalletError::Network {
                    reason: e.to_string(),
                }
            }
            TokenError::WrongState { .. } | TokenError::UnknownProvisioning(_) => {
                WalletError::InvalidInput {
                    reason: e.to_string(),
                }
            }
            TokenError::UnknownCard(id) => WalletError::UnknownCard { id },
            TokenError::OtherServer(_) => WalletError::NotConfigured {
                what: e.to_string(),
            },
            TokenError::BadCredentials(reason) => WalletError::Server { status: 0, reason },
            TokenError::Client(c) => c.into(),
            TokenError::Store(s) => s.into(),
            TokenError::Device(reason) => WalletError::Internal { reason },
        }
    }
}

impl From<ClientError> for WalletError {
    fn from(e: ClientError) -> Self {
        WalletError::Network {
            reason: e.to_string(),
        }
    }
}
