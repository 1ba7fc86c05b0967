//! The `Wallet` object Kotlin holds: a handle on the registered core wallet.

use crate::callbacks::{EventSink, ForeignEventSink, ForeignKeyWrapper, KeyWrapper};
use crate::error::WalletError;
use crate::registry::{self, Reuse};
use crate::types::{
    Card, ExportFormat, HistoryPage, HistoryQuery, MonthlyTotal, PaymentCode, ScannedQr,
    StatsQuery, WalletConfig, unix_ms,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::history::Filter;
use wallet_core::store::CardStatus;
use wallet_core::wallet::Wallet as CoreWallet;

type Result<T> = std::result::Result<T, WalletError>;

pub struct Wallet {
    core: Arc<CoreWallet>,
}

impl Wallet {
    pub fn new(config: WalletConfig, key_wrapper: Box<dyn KeyWrapper>) -> Result<Self> {
        crate::logging::init();
        let config = config.to_core()?;
        let core = registry::open(config, Reuse::SameConfig, false, |config| {
            let wrapper = Arc::new(ForeignKeyWrapper::new(key_wrapper));
            CoreWallet::open(config, wrapper.clone())
                .map_err(|e| WalletError::from(e).with_wrapper_error(wrapper.last_error.take()))
        })?;
        Ok(Wallet { core })
    }

    pub fn set_event_sink(&self, sink: Option<Box<dyn EventSink>>) {
        self.core.set_event_sink(
            sink.map(|s| Arc::new(ForeignEventSink(s)) as Arc<dyn wallet_core::wallet::EventSink>),
        );
    }

    pub fn cards(&self) -> Result<Vec<Card>> {
        Ok(self.core.cards()?.into_iter().map(Into::into).collect())
    }

    pub fn card(&self, card_id: String) -> Result<Card> {
        Ok(self.core.card(&card_id)?.into())
    }

    pub fn set_default_card(&self, card_id: String) -> Result<()> {
        Ok(self.core.set_default_card(&card_id)?)
    }

    pub fn suspend_card(&self, card_id: String) -> Result<()> {
        Ok(self.core.set_card_status(&card_id, CardStatus::Suspended)?)
    }

    pub fn resume_card(&self, card_id: String) -> Result<()> {
        Ok(self.core.set_card_status(&card_id, CardStatus::Active)?)
    }

    pub fn remove_card(&self, card_id: String) -> Result<()> {
        Ok(self.core.set_card_status(&card_id, CardStatus::Deleted)?)
    }

    pub fn add_test_card(
        &self,
        scheme: Scheme,
        issuer_key_hex: Option<String>,
        keys: u16,
    ) -> Result<Card> {
        crate::test_cards::add(&self.core, scheme, issuer_key_hex.as_deref(), keys)
    }

    pub fn unlock_for_payment(&self, seconds: u32) -> Result<i64> {
        Ok(unix_ms(self.core.unlock_for_payment(seconds)?))
    }

    pub fn lock_payment(&self) -> Result<()> {
        Ok(self.core.lock()?)
    }

    pub fn is_unlocked(&self) -> bool {
        self.core.is_unlocked()
    }

    pub fn select_card_for_payment(&self, card_id: Option<String>) -> Result<()> {
        Ok(self.core.select_card_for_payment(card_id.as_deref())?)
    }

    pub fn process_apdu(&self, apdu: Vec<u8>) -> Vec<u8> {
        self.core.process_apdu(&apdu)
    }

    pub fn deactivate(&self) {
        self.core.deactivate();
    }

    pub fn present_qr(&self, card_id: Option<String>) -> Result<PaymentCode> {
        self.core.present_qr(card_id.as_deref())?.try_into()
    }

    pub fn history(
        &self,
        query: HistoryQuery,
        limit: u32,
        after: Option<String>,
    ) -> Result<HistoryPage> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .core
            .history(&Filter::from(query), limit, after.as_deref())?
            .into())
    }

    pub fn history_stats(&self, query: StatsQuery) -> Result<Vec<MonthlyTotal>> {
        let query = query.try_into()?;
        Ok(self
            .core
            .history_stats(&query)?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn export_history(&self, format: ExportFormat, query: HistoryQuery) -> Result<String> {
        let mut out = Vec::new();
        self.core
            .export_history(format.into(), &Filter::from(query), &mut out)?;
        String::from_utf8(out).map_err(|_| WalletError::Internal {
            reason: "export produced invalid UTF-8".into(),
        })
    }

    pub fn export_history_to_file(
        &self,
        format: ExportFormat,
        query: HistoryQuery,
        path: String,
    ) -> Result<u64> {
        let storage = |e: std::io::Error| WalletError::Storage {
            reason: format!("{path}: {e}"),
        };
        let mut out = BufWriter::new(File::create(&path).map_err(storage)?);
        let written = self
            .core
            .export_history(format.into(), &Filter::from(query), &mut out)?;
        out.flush().map_err(storage)?;
        out.get_ref().sync_all().map_err(storage)?;
        Ok(written)
    }

    pub fn delete_transaction(&self, id: i64) -> Result<bool> {
        Ok(self.core.delete_transaction(id)?)
    }

    pub fn clear_history(&self) -> Result<u64> {
        Ok(self.core.clear_history()?)
    }
}

pub fn parse_qr(text: String) -> Result<ScannedQr> {
    wallet_core::qr::scan_str(&text)
        .map(Into::into)
        .map_err(|e| WalletError::QrInvalid {
            reason: e.to_string(),
        })
}
