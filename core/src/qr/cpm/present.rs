//! Issuing a consumer-presented payment code: the QR a cashier scans instead of a tap.
//!
//! Each code spends one single-use key per card it lists, through the same
//! [`KeyLedger`] as a tap: the key and ATC are consumed durably, with a pending history record,
//! before the cryptogram exists outside the ledger's `seal` call. The cryptogram is computed
//! like a tap's ARQC for the card's CVN, over what a CPM code can carry: the amount and the
//! terminal data are unknown when the code is shown, so they are zeros, and the ATC, the
//! device-generated unpredictable number (9F37), the AIP (82) and the IAD (9F10) — all in the
//! payload — make it unique. The issuer verifies it from the payload alone.
//!
//! A code is valid for a configurable window (60 s by default); refreshing issues a new code
//! with the next key. An expired, unused code's ATC stays in the ledger as a pending record and
//! reaches the server at sync like any other.

use super::decode::{
    CPV01, TAG_AC, TAG_AID, TAG_AIP, TAG_APP_SPECIFIC, TAG_APPLICATION, TAG_ATC, TAG_CID, TAG_IAD,
    TAG_LABEL, TAG_LAST4, TAG_PAYLOAD_FORMAT, TAG_PSN, TAG_TRACK2, TAG_UN,
};
use crate::card::CardProfile;
use crate::emv::crypto::{Key16, sha256};
use crate::emv::cvn::{AcInput, Verification};
use crate::emv::tlv;
use crate::ledger::{Channel, KeyLedger, LedgerError, TxnDraft};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::time::Duration;

/// AIP sent in a CPM code: no offline data authentication, no CVM list — an online-only
/// payment credential (the UnionPay CPM sample in the QR corpus sends 0000 too).
pub const CPM_AIP: [u8; 2] = [0x00, 0x00];
/// Cryptogram information data: an ARQC.
pub const CID_ARQC: u8 = 0x80;
/// Track 2 service code: international, IC card, normal authorisation, no restrictions.
const SERVICE_CODE: &str = "201";
/// More cards than this in one code makes a symbol hard to scan from a phone screen.
pub const MAX_CARDS: usize = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentConfig {
    /// How long a code may be scanned after it is issued.
    pub validity: Duration,
}

impl Default for PresentConfig {
    fn default() -> Self {
        Self {
            validity: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PresentError {
    #[error("a payment code needs 1 to {MAX_CARDS} cards, got {0}")]
    CardCount(usize),
    #[error("card {0}: token PAN or expiry is not usable in track 2 data")]
    BadCardData(String),
    #[error("the system random generator failed")]
    Random,
    #[error(transparent)]
    Ledger(#[from] LedgerError),
}

/// A payment code ready to show. `Debug` leaves the payload out: it carries the token and a
/// live cryptogram.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentCode {
    /// Base64 CPM payload: what the QR symbol encodes.
    pub payload: String,
    /// The card of the first (preferred) application.
    pub card_id: String,
    /// ATC spent for that card.
    pub atc: u16,
    /// Every (card, ATC) this code spent, in priority order.
    pub spent: Vec<(String, u16)>,
    /// Unix seconds.
    pub issued_at: u64,
    /// Unix seconds; the code must not be shown from then on.
    pub expires_at: u64,
}

impl std::fmt::Debug for PaymentCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaymentCode")
            .field("card_id", &self.card_id)
            .field("atc", &self.atc)
            .field("issued_at", &self.issued_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl PaymentCode {
    pub fn is_expired(&self, now_unix: u64) -> bool {
        now_unix >= self.expires_at
    }

    /// Seconds left to show it (0 once expired).
    pub fn seconds_left(&self, now_unix: u64) -> u64 {
        self.expires_at.saturating_sub(now_unix)
    }
}

/// Issues payment codes.
#[derive(Debug, Clone, Default)]
pub struct Presenter {
    pub config: PresentConfig,
}

/// What the device knows when it shows a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PresentContext {
    pub now_unix: u64,
    /// The cardholder was verified on the device (inside the unlock window): goes into the CVR,
    /// which the cryptogram covers.
    pub cdcvm: bool,
}

impl Presenter {
    pub fn new(config: PresentConfig) -> Self {
        Self { config }
    }

    /// Issue a code listing `cards` in priority order, spending one key of each.
    pub fn issue(
        &self,
        ledger: &mut dyn KeyLedger,
        cards: &[&CardProfile],
        ctx: PresentContext,
    ) -> Result<PaymentCode, PresentError> {
        if cards.is_empty() || cards.len() > MAX_CARDS {
            return Err(PresentError::CardCount(cards.len()));
        }
        // Fail before spending anything when a card could not be listed anyway.
        for card in cards {
            track2(card).ok_or_else(|| PresentError::BadCardData(card.id.clone()))?;
            if ledger.remaining(&card.id)? == 0 {
                return Err(LedgerError::Exhausted(card.id.clone()).into());
            }
        }
        let mut payload = tlv::encode(TAG_PAYLOAD_FORMAT, CPV01);
        let mut spent = Vec::with_capacity(cards.len());
        for card in cards {
            let un = unpredictable_number()?;
            let mut template = None;
            let mut seal = |atc: u16, key: &Key16| {
                let (app, cryptogram) = application_template(card, atc, key, un, ctx.cdcvm);
                template = Some(app);
                TxnDraft {
                    card_id: card.id.clone(),
                    channel: Channel::QrPresented,
                    atc,
                    amount_minor: None,
                    currency: None,
                    country: None,
                    unpredictable_number: un,
                    cryptogram_sha256: sha256(&cryptogram),
                    cdcvm: ctx.cdcvm,
                    merchant: None,
                }
            };
            let atc = ledger.consume_next(&card.id, &mut seal)?;
            // `seal` ran (consume_next returned Ok only after committing what it built).
            let app = template
                .ok_or_else(|| LedgerError::Storage("ledger committed without sealing".into()))?;
            payload.extend_from_slice(&app);
            spent.push((card.id.clone(), atc));
        }
        let (card_id, atc) = spent.first().cloned().ok_or(PresentError::CardCount(0))?;
        Ok(PaymentCode {
            payload: STANDARD.encode(&payload),
            card_id,
            atc,
            spent,
            issued_at: ctx.now_unix,
            expires_at: ctx.now_unix.saturating_add(self.config.validity.as_secs()),
        })
    }

    /// A fresh code (next key) to replace `old`, e.g. when it expires while still on screen.
    pub fn refresh(
        &self,
        ledger: &mut dyn KeyLedger,
        cards: &[&CardProfile],
        ctx: PresentContext,
    ) -> Result<PaymentCode, PresentError> {
        self.issue(ledger, cards, ctx)
    }
}

/// Template 61 for one card, and the ARQC it carries.
fn application_template(
    card: &CardProfile,
    atc: u16,
    key: &Key16,
    un: [u8; 4],
    cdcvm: bool,
) -> (Vec<u8>, [u8; 8]) {
    let iad = card.cvn.iad(
        card.dki,
        Verification {
            cdcvm_performed: cdcvm,
            arqc_returned: true,
        },
    );
    let input = AcInput {
        amount: [0; 6],
        amount_other: [0; 6],
        terminal_country: [0; 2],
        tvr: [0; 5],
        currency: [0; 2],
        date: [0; 3],
        txn_type: 0,
        un,
        aip: CPM_AIP,
        atc,
        iad: iad.clone(),
    };
    let arqc = card.cvn.arqc(key, &input);

    let mut txn = Vec::with_capacity(64);
    tlv::encode_into(&mut txn, TAG_AC, &arqc);
    tlv::encode_into(&mut txn, TAG_CID, &[CID_ARQC]);
    tlv::encode_into(&mut txn, TAG_IAD, &iad);
    tlv::encode_into(&mut txn, TAG_ATC, &atc.to_be_bytes());
    tlv::encode_into(&mut txn, TAG_AIP, &CPM_AIP);
    tlv::encode_into(&mut txn, TAG_UN, &un);

    let mut app = Vec::with_capacity(128);
    tlv::encode_into(&mut app, TAG_AID, &card.aid);
    if !card.label.is_empty() && card.label.is_ascii() {
        tlv::encode_into(&mut app, TAG_LABEL, card.label.as_bytes());
    }
    tlv::encode_into(&mut app, TAG_TRACK2, &track2(card).unwrap_or_default());
    tlv::encode_into(&mut app, TAG_PSN, &[card.psn]);
    if let Some(last4) = last4(&card.token_pan) {
        tlv::encode_into(&mut app, TAG_LAST4, &last4);
    }
    tlv::encode_into(&mut app, TAG_APP_SPECIFIC, &txn);
    (tlv::encode(TAG_APPLICATION, &app), arqc)
}

/// Track-2 equivalent data: PAN `D` YYMM service code, padded with `F` to whole bytes.
fn track2(card: &CardProfile) -> Option<Vec<u8>> {
    let pan_ok = (12..=19).contains(&card.token_pan.len())
        && card.token_pan.bytes().all(|b| b.is_ascii_digit());
    let exp_ok = card.expiry.len() == 4 && card.expiry.bytes().all(|b| b.is_ascii_digit());
    if !pan_ok || !exp_ok {
        return None;
    }
    let mut nibbles = format!("{}D{}{SERVICE_CODE}", card.token_pan, card.expiry);
    if nibbles.len() % 2 == 1 {
        nibbles.push('F');
    }
    hex::decode(nibbles).ok()
}

/// 9F25: the PAN's last four digits, BCD.
fn last4(pan: &str) -> Option<[u8; 2]> {
    let tail = pan.get(pan.len().checked_sub(4)?..)?;
    let mut out = [0u8; 2];
    hex::decode_to_slice(tail, &mut out).ok()?;
    Some(out)
}

fn unpredictable_number() -> Result<[u8; 4], PresentError> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut un = [0u8; 4];
    SystemRandom::new()
        .fill(&mut un)
        .map_err(|_| PresentError::Random)?;
    Ok(un)
}
