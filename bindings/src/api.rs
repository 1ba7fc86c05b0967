//! The `Wallet` object Kotlin holds: a handle on the registered core wallet.

use crate::callbacks::{EventSink, ForeignEventSink, ForeignKeyWrapper, KeyWrapper};
use crate::error::WalletError;
use crate::registry::{self, Reuse};
use crate::types::{
    CardDetails, CardInfo, ExportFormat, HistoryFilter, HistoryPage, MerchantPayment, MonthlyTotal,
    PaymentCode, Provisioning, ScannedQr, StatsQuery, SyncReport, WalletConfig, unix_ms,
};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::history::Filter;
use wallet_core::store::CardStatus;
use wallet_core::wallet::Wallet as CoreWallet;
use zeroize::Zeroizing;

type Result<T> = std::result::Result<T, WalletError>;

pub struct Wallet {
    core: Arc<CoreWallet>,
}

impl Wallet {
    pub fn new(config: WalletConfig, key_wrapper: Box<dyn KeyWrapper>) -> Result<Self> {
        crate::logging::init();
        let config = config.into_core()?;
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

    pub fn cards(&self) -> Result<Vec<CardInfo>> {
        Ok(self.core.cards()?.into_iter().map(Into::into).collect())
    }

    pub fn card(&self, card_id: String) -> Result<CardInfo> {
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
    ) -> Result<CardInfo> {
        crate::test_cards::add(&self.core, scheme, issuer_key_hex.as_deref(), keys)
    }

    pub fn add_card(&self, details: CardDetails) -> Result<Provisioning> {
        let expiry = details.expiry_mm_yy()?;
        // The PAN leaves the UniFFI buffer for memory that is wiped when dropped.
        let pan = Zeroizing::new(details.pan);
        Ok(self
            .core
            .begin_provisioning(&pan, &expiry, &details.cardholder_name)?
            .into())
    }

    pub fn accept_terms(&self, provisioning_id: String) -> Result<Provisioning> {
        Ok(self.core.accept_terms(&provisioning_id)?.into())
    }

    pub fn select_idv_method(
        &self,
        provisioning_id: String,
        method_id: String,
    ) -> Result<Provisioning> {
        Ok(self
            .core
            .select_idv_method(&provisioning_id, &method_id)?
            .into())
    }

    pub fn submit_otp(&self, provisioning_id: String, otp: Vec<u8>) -> Result<Provisioning> {
        let otp = Zeroizing::new(otp);
        let otp = std::str::from_utf8(&otp).map_err(|_| WalletError::InvalidInput {
            reason: "the one-time code must be ASCII digits".into(),
        })?;
        Ok(self.core.submit_otp(&provisioning_id, otp)?.into())
    }

    pub fn resume_provisioning(&self, provisioning_id: String) -> Result<Provisioning> {
        Ok(self.core.resume_provisioning(&provisioning_id)?.into())
    }

    pub fn provisionings(&self) -> Result<Vec<Provisioning>> {
        Ok(self
            .core
            .provisionings()?
            .into_iter()
            .map(Into::into)
            .collect())
    }

    pub fn sync(&self) -> Result<SyncReport> {
        Ok(self.core.sync()?.into())
    }

    pub fn unlock_for_payment(&self, seconds: u32) -> Result<i64> {
        Ok(unix_ms(self.core.unlock_for_payment(seconds)?))
    }

    pub fn lock(&self) -> Result<()> {
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

    pub fn pay_merchant_qr(
        &self,
        payload: String,
        amount: Option<String>,
        card_id: Option<String>,
    ) -> Result<MerchantPayment> {
        Ok(self
            .core
            .pay_merchant_qr(&payload, amount.as_deref(), card_id.as_deref())?
            .into())
    }

    pub fn history(
        &self,
        filter: HistoryFilter,
        limit: u32,
        after: Option<String>,
    ) -> Result<HistoryPage> {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        Ok(self
            .core
            .history(&Filter::from(filter), limit, after.as_deref())?
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

    pub fn export_history(&self, format: ExportFormat, filter: HistoryFilter) -> Result<String> {
        let mut out = Vec::new();
        self.core
            .export_history(format.into(), &Filter::from(filter), &mut out)?;
        String::from_utf8(out).map_err(|_| WalletError::Internal {
            reason: "export produced invalid UTF-8".into(),
        })
    }

    pub fn export_history_to_file(
        &self,
        format: ExportFormat,
        filter: HistoryFilter,
        path: String,
    ) -> Result<u64> {
        let storage = |e: std::io::Error| WalletError::Storage {
            reason: format!("{path}: {e}"),
        };
        let mut out = BufWriter::new(File::create(&path).map_err(storage)?);
        let written = self
            .core
            .export_history(format.into(), &Filter::from(filter), &mut out)?;
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
