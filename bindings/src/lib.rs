//! `libwallet_ffi.so`: the one native library the Android app loads.
//!
//! - UniFFI (over JNA) carries the app's API, described in `udl/wallet.udl` (package
//!   `org.walletcore.ffi`): [`api::Wallet`] and the records in [`types`].
//! - Plain JNI carries the HCE hot path ([`jni_hce`], class `org.walletcore.sdk.NativeHce`), so
//!   the payment service answers a tap without loading JNA.
//! - Both reach the same wallet through [`registry`].

mod api;
mod callbacks;
mod error;
mod jni_hce;
mod jni_key_wrapper;
mod logging;
mod registry;
mod test_cards;
mod types;

use api::{Wallet, parse_qr};
use callbacks::{EventSink, KeyWrapper};
use error::{KeyWrapperError, WalletError};
use logging::{LogLevel, LogSink};
use types::{
    CardDetails, CardInfo, CardStatus, Channel, ExportFormat, HistoryFilter, HistoryPage,
    IdvMethod, MerchantPayment, Month, MonthlyTotal, PaymentCode, Provisioning, ProvisioningState,
    QrKind, QrMatrix, QrVerdict, ScannedQr, ServerConfig, StatsQuery, Sum, SyncReport, Terms,
    Transaction, TxnStatus, WalletConfig, WalletEvent,
};
use wallet_core::card::Scheme;

uniffi::include_scaffolding!("wallet");

fn library_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}

fn supported_aids() -> Vec<Vec<u8>> {
    wallet_core::card::ALL_AIDS
        .iter()
        .map(|aid| aid.to_vec())
        .collect()
}

fn set_log_sink(sink: Option<Box<dyn LogSink>>, max_level: LogLevel) {
    logging::set_log_sink(sink, max_level);
}
