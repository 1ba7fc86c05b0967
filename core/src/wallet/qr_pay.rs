//! Paying a scanned merchant-presented code: the wallet spends the card's next single-use key
//! on a cryptogram over the amount and currency of the code, and the token service has the
//! issuer authorise it (`POST /v1/qr/pay`).
//!
//! The cryptogram covers the same fields as a tap (EMV AC data), filled from the code:
//! amount (9F02) and currency (5F2A) from IDs 54/53, today's date, a device-generated
//! unpredictable number. The terminal country (9F1A) and TVR are zeros — a merchant code gives
//! the country as alpha-2 and no terminal verified anything — and the issuer verifies with the
//! same convention.

use super::{Inner, Tracking, Wallet, WalletError};
use crate::card::CardProfile;
use crate::emv::bcd;
use crate::emv::crypto::{Key16, sha256};
use crate::emv::cvn::{AcInput, Verification};
use crate::history::Status;
use crate::ledger::{Channel, TxnDraft};
use crate::money::parse_amount;
use crate::qr::cpm::{CID_ARQC, CPM_AIP};
use crate::qr::{self, mpm};
use crate::store::CardStatus;
use crate::token::api::{AuthorizeRequest, QrPay};
use std::time::SystemTime;

/// The outcome of paying a merchant code, as history records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPayment {
    pub card_id: String,
    pub atc: u16,
    pub amount_minor: u64,
    /// ISO 4217 numeric.
    pub currency: u16,
    pub merchant: Option<String>,
    pub approved: bool,
    /// ISO 8583 response code from the issuer (00 approved).
    pub response_code: String,
    pub reason: String,
}

impl Wallet {
    /// Pay the merchant code `payload`. `amount` is needed when the code carries none (a static
    /// code) and must agree with it otherwise. `card_id` picks the card; by default the first
    /// active card of the code's scheme, in priority order.
    pub fn pay_merchant_qr(
        &self,
        payload: &str,
        amount: Option<&str>,
        card_id: Option<&str>,
    ) -> Result<MerchantPayment, WalletError> {
        let report = qr::scan_str(payload)?;
        if report.kind != qr::Kind::Mpm || !report.payable.can_pay {
            return Err(WalletError::QrInvalid {
                reason: report.payable.reason,
            });
        }
        let scheme = report
            .payable
            .scheme
            .ok_or_else(|| WalletError::QrInvalid {
                reason: "no card scheme can pay this code".into(),
            })?;
        let code = mpm::decode(payload)?;
        let currency: u16 = code
            .currency()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| WalletError::QrInvalid {
                reason: "the code has no transaction currency (ID 53)".into(),
            })?;
        let amount_minor = match (code.amount(), amount) {
            (Some(in_code), Some(given)) => {
                let a = parse_amount(in_code, currency).map_err(invalid)?;
                if parse_amount(given, currency).map_err(invalid)? != a {
                    return Err(WalletError::InvalidInput {
                        reason: format!("the code asks for {in_code}, not {given}"),
                    });
                }
                a
            }
            (Some(in_code), None) => {
                parse_amount(in_code, currency).map_err(|e| WalletError::QrInvalid {
                    reason: e.to_string(),
                })?
            }
            (None, Some(given)) => parse_amount(given, currency).map_err(invalid)?,
            (None, None) => {
                return Err(WalletError::InvalidInput {
                    reason: "the code has no amount: enter one".into(),
                });
            }
        };
        if amount_minor == 0 {
            return Err(WalletError::InvalidInput {
                reason: "amount must be above zero".into(),
            });
        }
        let merchant = code.merchant_name().map(str::to_owned);

        // Spend the key and record the payment (pending) in one transaction.
        let (profile, request, spent) = {
            let mut guard = self.lock_inner();
            let Inner { store, engine, .. } = &mut *guard;
            let profile = pick_card(store, scheme, card_id)?;
            if !crate::token::is_token_card(store, &profile.id)? {
                return Err(WalletError::NotConfigured {
                    what: format!(
                        "card {} is a local test card; QR payments are authorised by the token \
                         service, so provision a card from it",
                        profile.id
                    ),
                });
            }
            let now = SystemTime::now();
            let cdcvm = engine.is_unlocked(now);
            let un = random_un()?;
            let input = |atc: u16| AcInput {
                amount: bcd::amount(amount_minor).unwrap_or_default(),
                amount_other: [0; 6],
                terminal_country: [0; 2],
                tvr: [0; 5],
                currency: bcd::code_n3(currency).unwrap_or_default(),
                date: today(now),
                txn_type: 0x00,
                un,
                aip: CPM_AIP,
                atc,
                iad: profile.cvn.iad(
                    profile.dki,
                    Verification {
                        cdcvm_performed: cdcvm,
                        arqc_returned: true,
                    },
                ),
            };
            let mut built = None;
            let mut spent = None;
            let mut ledger = Tracking {
                inner: store,
                spent: &mut spent,
            };
            crate::ledger::KeyLedger::consume_next(
                &mut ledger,
                &profile.id,
                &mut |atc: u16, key: &Key16| {
                    let ac_input = input(atc);
                    let cryptogram = profile.cvn.arqc(key, &ac_input);
                    let draft = TxnDraft {
                        card_id: profile.id.clone(),
                        channel: Channel::QrScanned,
                        atc,
                        amount_minor: Some(amount_minor),
                        currency: Some(currency),
                        country: None,
                        unpredictable_number: un,
                        cryptogram_sha256: sha256(&cryptogram),
                        cdcvm,
                        merchant: merchant.clone(),
                    };
                    built = Some(authorize_request(&profile, &ac_input, cryptogram));
                    draft
                },
            )?;
            let request = built.ok_or_else(|| WalletError::Internal {
                reason: "ledger committed without sealing".into(),
            })?;
            (profile, request, spent)
        };
        if let Some(draft) = &spent {
            self.after_spend(draft);
        }
        let atc = request.atc;
        let token_ref = self.with_token(|p, s| Ok(p.token_card(s, &profile.id)?.token_ref))?;
        let pay = QrPay {
            token_ref,
            merchant_payload: payload.to_owned(),
            merchant_name: merchant.clone(),
            payment: request,
        };
        // A lost answer leaves the record pending; sync asks the server what happened.
        let answer = self.with_token(|p, s| p.qr_pay(s, &pay))?;
        let status = if answer.approved {
            Status::Approved
        } else {
            Status::Declined
        };
        self.settle(&profile.id, atc, status)?;
        Ok(MerchantPayment {
            card_id: profile.id,
            atc,
            amount_minor,
            currency,
            merchant,
            approved: answer.approved,
            response_code: answer.response_code,
            reason: answer.reason,
        })
    }
}

fn invalid(e: crate::money::AmountError) -> WalletError {
    WalletError::InvalidInput {
        reason: e.to_string(),
    }
}

fn pick_card(
    store: &crate::store::Store,
    scheme: crate::card::Scheme,
    card_id: Option<&str>,
) -> Result<CardProfile, WalletError> {
    let cards = store.cards()?;
    let entry = match card_id {
        Some(id) => cards
            .into_iter()
            .find(|e| e.profile.id == id)
            .ok_or_else(|| WalletError::UnknownCard { id: id.to_owned() })?,
        None => cards
            .into_iter()
            .find(|e| e.status == CardStatus::Active && e.profile.scheme == scheme)
            .ok_or_else(|| WalletError::QrInvalid {
                reason: format!("no active {} card in the wallet", scheme.name()),
            })?,
    };
    if entry.status != CardStatus::Active {
        return Err(WalletError::CardNotActive {
            card: entry.profile.id,
        });
    }
    if entry.profile.scheme != scheme {
        return Err(WalletError::QrInvalid {
            reason: format!(
                "this code is paid by {} cards, not {}",
                scheme.name(),
                entry.profile.scheme.name()
            ),
        });
    }
    Ok(entry.profile)
}

fn authorize_request(p: &CardProfile, input: &AcInput, cryptogram: [u8; 8]) -> AuthorizeRequest {
    AuthorizeRequest {
        scheme: p.scheme,
        pan: p.token_pan.clone(),
        psn: p.psn,
        cid: CID_ARQC,
        cryptogram: cryptogram.to_vec(),
        amount: input.amount.to_vec(),
        amount_other: input.amount_other.to_vec(),
        terminal_country: input.terminal_country.to_vec(),
        tvr: input.tvr.to_vec(),
        currency: input.currency.to_vec(),
        date: input.date.to_vec(),
        txn_type: input.txn_type,
        un: input.un.to_vec(),
        aip: input.aip.to_vec(),
        atc: input.atc,
        iad: input.iad.clone(),
    }
}

fn random_un() -> Result<[u8; 4], WalletError> {
    let mut un = [0u8; 4];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut un).map_err(|_| {
        WalletError::Internal {
            reason: "the system random generator failed".into(),
        }
    })?;
    Ok(un)
}

fn today(now: SystemTime) -> [u8; 3] {
    let ms = now
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(0));
    let (y, m, d, ..) = crate::store::clock::civil_from_ms(ms);
    bcd::date(
        u16::try_from(y).unwrap_or(2000),
        u8::try_from(m).unwrap_or(1),
        u8::try_from(d).unwrap_or(1),
    )
    .unwrap_or_default()
}
