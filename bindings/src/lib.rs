//! `libwallet_ffi.so`: the one native library the Android app loads.
//!
//! - UniFFI (over JNA) carries the app's API, described in `udl/wallet.udl` (package
//!   `org.walletcore.ffi`).
//! - Plain JNI carries the HCE hot path ([`jni_hce`], class `org.walletcore.sdk.NativeHce`), so
//!   the payment service answers a tap without loading JNA.
//! - Both reach the same wallet through [`registry`].

mod jni_hce;
mod logging;
mod registry;

pub use logging::{LogLevel, LogSink};
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
