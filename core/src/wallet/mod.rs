//! The facade: one [`Wallet`] owns the store, the card engine and the QR presenter, and is what
//! the CLI and the bindings call.
//!
//! A `Wallet` is `Send + Sync`. The HCE service (JNI, on its binder thread) and the app (UniFFI,
//! on a background executor) share one `Arc<Wallet>`; an interior mutex serialises them. The API
//! is synchronous: callers keep it off the UI thread.

use crate::card::{CardProfile, Personalisation, Scheme, mask_pan};
use crate::emv::apdu::StatusWord;
use crate::emv::crypto::Key16;
use crate::hce::Engine;
use crate::history::Status;
use crate::history::query::{Cursor, Filter, Page};
use crate::history::stats::{MonthlyTotal, StatsQuery};
use crate::ledger::{Channel, KeyLedger, LedgerError, TxnDraft};
use crate::qr::cpm::{PaymentCode, PresentConfig, PresentContext, Presenter};
use crate::store::cards::{CardEntry, CardStatus};
use crate::store::{KeyWrapper, Store, StoreError};
use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod error;
mod provisioning;
mod qr_pay;
pub use error::WalletError;
pub use qr_pay::MerchantPayment;

/// Where the wallet lives and whom it talks to.
#[derive(Debug, Clone)]
pub struct WalletConfig {
    /// Directory of the wallet's files (`wallet.db`). Must exist.
    pub home: PathBuf,
    /// The token service, when cards are provisioned from one.
    pub server: Option<ServerConfig>,
    /// Ask for new single-use keys when a card has this many left (or fewer).
    pub replenish_threshold: u32,
    /// How long a presented payment code may be scanned.
    pub qr_validity: Duration,
}

/// The token service's address and the one CA the wallet trusts for it.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    pub url: String,
    /// PEM of the pinned trust anchor. The platform's store is never consulted.
    pub ca_pem: String,
}

impl WalletConfig {
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Self {
            home: home.into(),
            server: None,
            replenish_threshold: 5,
            qr_validity: Duration::from_secs(60),
        }
    }
}

/// A card as the app shows it: no token PAN beyond its mask and last four digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardInfo {
    pub id: String,
    pub scheme: Scheme,
    pub label: String,
    pub masked_pan: String,
    pub last4: String,
    /// YYMM.
    pub expiry: String,
    pub status: CardStatus,
    pub is_default: bool,
    pub keys_left: u32,
}

impl CardInfo {
    fn from_entry(e: &CardEntry) -> Self {
        let pan = &e.profile.token_pan;
        Self {
            id: e.profile.id.clone(),
            scheme: e.profile.scheme,
            label: e.profile.label.clone(),
            masked_pan: mask_pan(pan),
            last4: pan
                .get(pan.len().saturating_sub(4)..)
                .unwrap_or_default()
                .to_owned(),
            expiry: e.profile.expiry.clone(),
            status: e.status,
            is_default: e.is_default,
            keys_left: u32::try_from(e.remaining_keys).unwrap_or(u32::MAX),
        }
    }
}

/// What the wallet tells the app as it happens (a payment went out, keys run low, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WalletEvent {
    /// A tap released a cryptogram; its history record is `pending`.
    TapCompleted {
        card_id: String,
        atc: u16,
        amount_minor: Option<u64>,
        currency: Option<u16>,
    },
    /// A card is at or below the replenish threshold.
    KeysLow { card_id: String, keys_left: u32 },
    /// A card has no keys left: it cannot pay until the wallet syncs.
    KeysExhausted { card_id: String },
}

/// Receives [`WalletEvent`]s. Called on the thread that caused the event (for taps, the HCE
/// thread): implementations hand off and return quickly.
pub trait EventSink: Send + Sync {
    fn on_event(&self, event: WalletEvent);
}

/// The meta key under which the end of the CDCVM window is kept, so that a restarted process
/// (a tap cold-starting the HCE service, or the CLI's next command) honours a window the user
/// opened moments ago.
const META_CDCVM_UNTIL: &str = "cdcvm_until_ms";

/// The longest CDCVM window a caller may open: a verification is for the payment at hand.
pub const MAX_UNLOCK_SECONDS: u32 = 300;

struct Inner {
    store: Store,
    engine: Engine,
    /// "Pay with this card" from the pay screen: only this card answers terminals.
    pay_with: Option<String>,
}

pub struct Wallet {
    config: WalletConfig,
    wrapper: Arc<dyn KeyWrapper>,
    inner: Mutex<Inner>,
    /// The token service side, opened on first use (see [`provisioning`]).
    token: Mutex<Option<provisioning::TokenSide>>,
    presenter: Presenter,
    events: RwLock<Option<Arc<dyn EventSink>>>,
}

impl std::fmt::Debug for Wallet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Wallet")
            .field("home", &self.config.home)
            .finish_non_exhaustive()
    }
}

impl Wallet {
    /// Open (or create) the wallet in `config.home`, unwrapping its data key with `wrapper`.
    pub fn open(config: WalletConfig, wrapper: Arc<dyn KeyWrapper>) -> Result<Wallet, WalletError> {
        let store = Store::open(&config.home, wrapper.clone())?;
        let mut engine = Engine::new(Vec::new()).map_err(|e| WalletError::Internal {
            reason: e.to_string(),
        })?;
        if let Some(until) = read_unlock(&store)? {
            engine.unlock_for_payment(until);
        }
        let presenter = Presenter::new(PresentConfig {
            validity: config.qr_validity,
        });
        let wallet = Wallet {
            config,
            wrapper,
            token: Mutex::new(None),
            inner: Mutex::new(Inner {
                store,
                engine,
                pay_with: None,
            }),
            presenter,
            events: RwLock::new(None),
        };
        wallet.reload_cards(&mut wallet.lock_inner())?;
        Ok(wallet)
    }

    pub fn config(&self) -> &WalletConfig {
        &self.config
    }

    pub fn set_event_sink(&self, sink: Option<Arc<dyn EventSink>>) {
        match self.events.write() {
            Ok(mut slot) => *slot = sink,
            Err(poisoned) => *poisoned.into_inner() = sink,
        }
    }

    // ---- cards ------------------------------------------------------------------------------

    /// Every card not deleted, default first.
    pub fn cards(&self) -> Result<Vec<CardInfo>, WalletError> {
        let inner = self.lock_inner();
        Ok(inner
            .store
            .cards()?
            .iter()
            .filter(|e| e.status != CardStatus::Deleted)
            .map(CardInfo::from_entry)
            .collect())
    }

    pub fn card(&self, id: &str) -> Result<CardInfo, WalletError> {
        let inner = self.lock_inner();
        Ok(CardInfo::from_entry(&inner.store.card(id)?))
    }

    /// The static profile of a card (token PAN included): for the terminal simulator and the
    /// provisioning client, never for display.
    pub fn card_profile(&self, id: &str) -> Result<CardProfile, WalletError> {
        Ok(self.lock_inner().store.card(id)?.profile)
    }

    /// Install a personalised card (its profile and single-use keys) in one transaction.
    pub fn install_card(&self, perso: Personalisation) -> Result<CardInfo, WalletError> {
        let id = perso.profile.id.clone();
        let mut inner = self.lock_inner();
        inner.store.install_card(perso)?;
        self.reload_cards(&mut inner)?;
        Ok(CardInfo::from_entry(&inner.store.card(&id)?))
    }

    /// Add single-use keys to a card (replenishment); ATCs must lie beyond any ever used.
    pub fn add_keys(
        &self,
        card_id: &str,
        keys: Vec<crate::card::SessionKey>,
    ) -> Result<u32, WalletError> {
        let mut inner = self.lock_inner();
        let added = inner.store.add_keys(card_id, keys)?;
        Ok(u32::try_from(added).unwrap_or(u32::MAX))
    }

    pub fn set_default_card(&self, id: &str) -> Result<(), WalletError> {
        let mut inner = self.lock_inner();
        inner.store.set_default_card(id)?;
        self.reload_cards(&mut inner)
    }

    // ---- paying -----------------------------------------------------------------------------

    /// The cardholder has just been verified on the device (biometric or device credential):
    /// for `seconds` (at most [`MAX_UNLOCK_SECONDS`]), cryptograms say CDCVM performed.
    pub fn unlock_for_payment(&self, seconds: u32) -> Result<SystemTime, WalletError> {
        if seconds == 0 || seconds > MAX_UNLOCK_SECONDS {
            return Err(WalletError::InvalidInput {
                reason: format!("unlock window must be 1..={MAX_UNLOCK_SECONDS} seconds"),
            });
        }
        let until = SystemTime::now() + Duration::from_secs(u64::from(seconds));
        let mut inner = self.lock_inner();
        write_unlock(&mut inner.store, Some(until))?;
        inner.engine.unlock_for_payment(until);
        Ok(until)
    }

    /// Close the CDCVM window now.
    pub fn lock(&self) -> Result<(), WalletError> {
        let mut inner = self.lock_inner();
        inner.engine.lock();
        write_unlock(&mut inner.store, None)
    }

    pub fn is_unlocked(&self) -> bool {
        self.lock_inner().engine.is_unlocked(SystemTime::now())
    }

    /// Answer one C-APDU from the NFC reader. Never fails: problems are status words. A
    /// cryptogram in the answer has already been committed as spent.
    pub fn process_apdu(&self, apdu: &[u8]) -> Vec<u8> {
        let mut spent = None;
        let response = {
            let mut guard = self.lock_inner();
            let Inner { store, engine, .. } = &mut *guard;
            let mut ledger = Tracking {
                inner: store,
                spent: &mut spent,
            };
            engine.process(apdu, &mut ledger, SystemTime::now())
        };
        if let Some(draft) = spent {
            self.after_spend(&draft);
        }
        response
    }

    /// Only `card_id` answers terminals from now on (the pay screen's "pay with this card"),
    /// or every active card again with `None`. Not persisted: a restart offers all cards.
    pub fn select_card_for_payment(&self, card_id: Option<&str>) -> Result<(), WalletError> {
        let mut inner = self.lock_inner();
        if let Some(id) = card_id {
            let entry = inner.store.card(id)?;
            if entry.status != CardStatus::Active {
                return Err(WalletError::CardNotActive {
                    card: id.to_owned(),
                });
            }
        }
        inner.pay_with = card_id.map(str::to_owned);
        self.reload_cards(&mut inner)
    }

    /// The card with this token PAN and PSN, as a terminal read it.
    pub fn card_id_for_pan(&self, pan: &str, psn: u8) -> Result<Option<String>, WalletError> {
        Ok(self
            .lock_inner()
            .store
            .cards()?
            .into_iter()
            .find(|e| {
                crate::emv::crypto::ct_eq(e.profile.token_pan.as_bytes(), pan.as_bytes())
                    && e.profile.psn == psn
            })
            .map(|e| e.profile.id))
    }

    /// Record the issuer's answer for the payment `card_id` made with `atc` — a tap or a paid
    /// code: every payment spends one key, so card and ATC name one record. Idempotent: a
    /// repeated or late answer for a record already settled changes nothing. Returns whether a
    /// pending record was updated.
    pub fn settle(&self, card_id: &str, atc: u16, status: Status) -> Result<bool, WalletError> {
        let mut inner = self.lock_inner();
        let pending = inner.store.pending()?;
        let Some(record) = pending
            .iter()
            .find(|r| r.card_id == card_id && r.atc == atc)
        else {
            return Ok(false);
        };
        Ok(inner.store.set_status(record.id, status)?)
    }

    /// The NFC field went away: end the card session.
    pub fn deactivate(&self) {
        self.lock_inner().engine.deactivate();
    }

    /// Answer for a poisoned or failed call, for FFI layers: "no precise diagnosis".
    pub fn internal_error_response() -> Vec<u8> {
        StatusWord::NO_PRECISE_DIAGNOSIS.to_bytes().to_vec()
    }

    // ---- QR -----------------------------------------------------------------------------------

    /// Issue a consumer-presented payment code for `card_id` (the default card when `None`),
    /// spending one single-use key. Show it until `expires_at`, then call again.
    pub fn present_qr(&self, card_id: Option<&str>) -> Result<PaymentCode, WalletError> {
        let (code, spent) = {
            let mut guard = self.lock_inner();
            let Inner { store, engine, .. } = &mut *guard;
            let profile = match card_id {
                Some(id) => {
                    let entry = store.card(id)?;
                    if entry.status != CardStatus::Active {
                        return Err(WalletError::CardNotActive {
                            card: id.to_owned(),
                        });
                    }
                    entry.profile
                }
                None => store.default_card()?.ok_or(WalletError::NoCards)?.profile,
            };
            let now = SystemTime::now();
            let ctx = PresentContext {
                now_unix: unix_seconds(now),
                cdcvm: engine.is_unlocked(now),
            };
            let mut spent = None;
            let mut ledger = Tracking {
                inner: store,
                spent: &mut spent,
            };
            let code = self.presenter.issue(&mut ledger, &[&profile], ctx)?;
            (code, spent)
        };
        if let Some(draft) = spent {
            self.after_spend(&draft);
        }
        Ok(code)
    }

    // ---- history ------------------------------------------------------------------------------

    /// A page of history, newest first; pass the previous page's `next` as `after`.
    pub fn history(
        &self,
        filter: &Filter,
        limit: usize,
        after: Option<&str>,
    ) -> Result<Page, WalletError> {
        let cursor = after.map(Cursor::parse).transpose()?;
        Ok(self
            .lock_inner()
            .store
            .records(filter, cursor.as_ref(), limit)?)
    }

    pub fn history_stats(&self, q: &StatsQuery) -> Result<Vec<MonthlyTotal>, WalletError> {
        Ok(self.lock_inner().store.monthly_totals(q)?)
    }

    /// Stream the history matching `filter` to `out`; returns how many records were written.
    pub fn export_history(
        &self,
        format: ExportFormat,
        filter: &Filter,
        out: &mut dyn Write,
    ) -> Result<u64, WalletError> {
        let inner = self.lock_inner();
        Ok(match format {
            ExportFormat::Csv => inner.store.export_csv(out, filter)?,
            ExportFormat::Json => inner.store.export_json(out, filter)?,
        })
    }

    pub fn delete_transaction(&self, id: i64) -> Result<bool, WalletError> {
        Ok(self.lock_inner().store.delete_record(id)?)
    }

    pub fn clear_history(&self) -> Result<u64, WalletError> {
        Ok(self.lock_inner().store.clear_history()?)
    }

    /// Run `f` with the store, for the modules layered on the facade (provisioning, sync).
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        f(&mut self.lock_inner().store)
    }

    // ---- internals ----------------------------------------------------------------------------

    /// A panic elsewhere must not brick payments: the store is transactional and the engine is
    /// reset, so a poisoned lock is taken over rather than propagated.
    fn lock_inner(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => {
                let mut g = poisoned.into_inner();
                g.engine.deactivate();
                self.inner.clear_poison();
                g
            }
        }
    }

    /// Give the engine the active cards, default first.
    fn reload_cards(&self, inner: &mut Inner) -> Result<(), WalletError> {
        let profiles = inner
            .store
            .cards()?
            .into_iter()
            .filter(|e| e.status == CardStatus::Active)
            .filter(|e| inner.pay_with.as_ref().is_none_or(|id| *id == e.profile.id))
            .map(|e| e.profile)
            .collect();
        inner
            .engine
            .set_cards(profiles)
            .map_err(|e| WalletError::Internal {
                reason: format!("a stored card profile is unusable: {e}"),
            })
    }

    fn after_spend(&self, draft: &TxnDraft) {
        log::info!("wallet: card {} spent ATC {}", draft.card_id, draft.atc);
        // One verification, one payment: a cryptogram that carried CDCVM used the window up,
        // so a second tap (a relay, or the phone left on a reader) needs the cardholder again.
        // A payment code on screen keeps it: the pay screen refreshes the code while open.
        if draft.cdcvm
            && draft.channel != Channel::QrPresented
            && let Err(e) = self.lock()
        {
            log::warn!("wallet: could not close the CDCVM window: {e}");
        }
        let sink = match self.events.read() {
            Ok(s) => s.clone(),
            Err(p) => p.into_inner().clone(),
        };
        // Counting the pool is a query: only pay for it when someone listens.
        let Some(sink) = sink else { return };
        let keys_left = self
            .lock_inner()
            .store
            .remaining_keys(&draft.card_id)
            .map_or(0, |n| u32::try_from(n).unwrap_or(u32::MAX));
        if draft.channel == Channel::Nfc {
            sink.on_event(WalletEvent::TapCompleted {
                card_id: draft.card_id.clone(),
                atc: draft.atc,
                amount_minor: draft.amount_minor,
                currency: draft.currency,
            });
        }
        if keys_left == 0 {
            sink.on_event(WalletEvent::KeysExhausted {
                card_id: draft.card_id.clone(),
            });
        } else if keys_left <= self.config.replenish_threshold {
            sink.on_event(WalletEvent::KeysLow {
                card_id: draft.card_id.clone(),
                keys_left,
            });
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    Json,
}

/// Lends the store to the engine as its ledger and notes what was spent, so events fire after
/// the lock is released.
struct Tracking<'a> {
    inner: &'a mut Store,
    spent: &'a mut Option<TxnDraft>,
}

impl KeyLedger for Tracking<'_> {
    fn consume_next(
        &mut self,
        card_id: &str,
        seal: &mut dyn FnMut(u16, &Key16) -> TxnDraft,
    ) -> Result<u16, LedgerError> {
        let mut last = None;
        let atc = self.inner.consume_next(card_id, &mut |atc, key| {
            let draft = seal(atc, key);
            last = Some(draft.clone());
            draft
        })?;
        *self.spent = last;
        Ok(atc)
    }

    fn remaining(&self, card_id: &str) -> Result<usize, LedgerError> {
        self.inner.remaining(card_id)
    }
}

fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn read_unlock(store: &Store) -> Result<Option<SystemTime>, WalletError> {
    let ms: Option<i64> = store
        .connection()
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            [META_CDCVM_UNTIL],
            |r| r.get(0),
        )
        .map(Some)
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            e => Err(StoreError::from(e)),
        })?;
    Ok(ms
        .and_then(|ms| u64::try_from(ms).ok())
        .map(|ms| UNIX_EPOCH + Duration::from_millis(ms))
        .filter(|until| *until > SystemTime::now()))
}

fn write_unlock(store: &mut Store, until: Option<SystemTime>) -> Result<(), WalletError> {
    store.write(|tx, _| {
        match until {
            Some(t) => {
                let ms = t
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
                tx.execute(
                    "INSERT INTO meta(key, value) VALUES (?1, ?2)
                     ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    rusqlite::params![META_CDCVM_UNTIL, ms],
                )?;
            }
            None => {
                tx.execute("DELETE FROM meta WHERE key = ?1", [META_CDCVM_UNTIL])?;
            }
        }
        Ok(())
    })?;
    Ok(())
}
