//! The contract for spending single-use keys: "consume durably, then respond".
//!
//! The HCE engine (and the QR presenter) never hold a key pool themselves: they ask a
//! [`KeyLedger`] for the card's next unused key, compute the cryptogram inside the `seal`
//! closure, and hand back the transaction record. The ledger commits the key's consumption and
//! the record in one atomic step and only then returns, so the cryptogram can leave the core.
//! A crash after the commit burns a key; nothing can make a key be used twice.

use crate::card::SessionKey;
use crate::emv::crypto::Key16;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// How a payment was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Nfc,
    QrPresented,
    QrScanned,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Nfc => "nfc",
            Channel::QrPresented => "qr_presented",
            Channel::QrScanned => "qr_scanned",
        }
    }
}

/// What the card side knows about a payment at the moment it produces the cryptogram.
/// Becomes a history record (status `pending`) in the same transaction that consumes the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxnDraft {
    pub card_id: String,
    pub channel: Channel,
    pub atc: u16,
    /// Amount authorised (9F02), minor units, when the terminal sent it.
    pub amount_minor: Option<u64>,
    /// ISO 4217 numeric (5F2A).
    pub currency: Option<u16>,
    /// ISO 3166 numeric terminal country (9F1A).
    pub country: Option<u16>,
    /// Terminal unpredictable number (9F37).
    pub unpredictable_number: [u8; 4],
    /// SHA-256 of the application cryptogram: enough to match a record to an authorisation,
    /// useless for replaying it.
    pub cryptogram_sha256: [u8; 32],
    /// Whether the cryptogram's covered data says CDCVM was performed.
    pub cdcvm: bool,
    /// Merchant name when known (QR), stored encrypted.
    pub merchant: Option<String>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LedgerError {
    #[error("card {0} is not in the wallet")]
    UnknownCard(String),
    #[error("card {0} has no single-use keys left")]
    Exhausted(String),
    #[error("card {0} is not active")]
    Inactive(String),
    #[error("storage failed: {0}")]
    Storage(String),
}

/// Hands out each card's single-use keys in increasing ATC order, exactly once.
pub trait KeyLedger {
    /// Consume `card_id`'s next unused key: call `seal(atc, key)` to compute the cryptogram and
    /// build the record, then commit "key used" and the record atomically. Returns the ATC
    /// spent. An error means nothing was committed and no cryptogram may be released.
    fn consume_next(
        &mut self,
        card_id: &str,
        seal: &mut dyn FnMut(u16, &Key16) -> TxnDraft,
    ) -> Result<u16, LedgerError>;

    /// Unused keys left for `card_id`.
    fn remaining(&self, card_id: &str) -> Result<usize, LedgerError>;
}

/// A ledger in memory, for tests and the compute-only benchmark. Not durable: a real wallet uses
/// the SQLite ledger in [`crate::store`].
#[derive(Default)]
pub struct MemoryLedger {
    keys: HashMap<String, BTreeMap<u16, Key16>>,
    /// Records committed so far, oldest first.
    pub records: Vec<TxnDraft>,
}

impl MemoryLedger {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add_keys(&mut self, card_id: &str, keys: Vec<SessionKey>) {
        let pool = self.keys.entry(card_id.to_owned()).or_default();
        for k in keys {
            pool.insert(k.atc, k.key);
        }
    }
}

impl KeyLedger for MemoryLedger {
    fn consume_next(
        &mut self,
        card_id: &str,
        seal: &mut dyn FnMut(u16, &Key16) -> TxnDraft,
    ) -> Result<u16, LedgerError> {
        let pool = self
            .keys
            .get_mut(card_id)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))?;
        let (atc, key) = pool
            .pop_first()
            .ok_or_else(|| LedgerError::Exhausted(card_id.to_owned()))?;
        let draft = seal(atc, &key);
        self.records.push(draft);
        Ok(atc)
    }

    fn remaining(&self, card_id: &str) -> Result<usize, LedgerError> {
        self.keys
            .get(card_id)
            .map(BTreeMap::len)
            .ok_or_else(|| LedgerError::UnknownCard(card_id.to_owned()))
    }
}
