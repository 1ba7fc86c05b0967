//! Kotlin objects the core calls back: the `KeyWrapper` (through UniFFI) and the `EventSink`.

use crate::error::KeyWrapperError;
use crate::types::WalletEvent;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use wallet_core::store::{self, WrapError};
use wallet_core::wallet as core;
use zeroize::Zeroizing;

/// The `KeyWrapper` callback interface of the UDL.
pub trait KeyWrapper: Send + Sync {
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError>;
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyWrapperError>;
}

/// The `EventSink` callback interface of the UDL.
pub trait EventSink: Send + Sync {
    fn on_event(&self, event: WalletEvent);
}

/// What a key wrapper on the other side of an FFI threw last; both the UniFFI adapter below and
/// the JNI one (`jni_key_wrapper`) keep it so that opening can report "invalidated" and "device
/// locked" as their own `WalletException`s.
#[derive(Default)]
pub struct LastWrapError(Mutex<Option<KeyWrapperError>>);

impl LastWrapError {
    pub fn record(&self, e: &KeyWrapperError) {
        match self.0.lock() {
            Ok(mut slot) => *slot = Some(e.clone()),
            Err(poisoned) => *poisoned.into_inner() = Some(e.clone()),
        }
    }

    pub fn take(&self) -> Option<KeyWrapperError> {
        match self.0.lock() {
            Ok(mut slot) => slot.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        }
    }
}

/// A Kotlin `KeyWrapper` (through UniFFI) as the core's [`store::KeyWrapper`].
///
/// The data key crosses to Kotlin in a UniFFI buffer that is freed without being wiped; the
/// unwrapped key coming back is moved into a `Zeroizing` at once.
pub struct ForeignKeyWrapper {
    inner: Box<dyn KeyWrapper>,
    pub last_error: LastWrapError,
}

impl ForeignKeyWrapper {
    pub fn new(inner: Box<dyn KeyWrapper>) -> Self {
        Self {
            inner,
            last_error: LastWrapError::default(),
        }
    }

    fn failed(&self, e: KeyWrapperError) -> WrapError {
        self.last_error.record(&e);
        e.into()
    }
}

impl store::KeyWrapper for ForeignKeyWrapper {
    fn wrap(&self, dek: &[u8]) -> Result<Vec<u8>, WrapError> {
        self.inner.wrap(dek.to_vec()).map_err(|e| self.failed(e))
    }

    fn unwrap(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        match self.inner.unwrap(blob.to_vec()) {
            Ok(key) => Ok(Zeroizing::new(key)),
            Err(e) => Err(self.failed(e)),
        }
    }
}

/// A Kotlin `EventSink` as the core's [`core::EventSink`].
pub struct ForeignEventSink(pub Box<dyn EventSink>);

impl core::EventSink for ForeignEventSink {
    fn on_event(&self, event: core::WalletEvent) {
        // Events fire after a cryptogram was committed and released: a sink that throws (UniFFI
        // reports that as a panic) must not turn a finished tap into a failed one.
        let event = WalletEvent::from(event);
        if catch_unwind(AssertUnwindSafe(|| self.0.on_event(event))).is_err() {
            log::warn!("the app's event sink failed; event dropped");
        }
    }
}
