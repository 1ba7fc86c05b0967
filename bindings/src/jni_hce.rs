//! `org.walletcore.sdk.NativeHce`: the HCE hot path as plain JNI.
//!
//! Android's `HostApduService` answers a reader on a binder thread and must not wait for JNA
//! (UniFFI's transport) to load, so the payment service talks to the core through these few
//! entry points only. They reach the same `Wallet` the app opened through UniFFI, via
//! [`crate::registry`].
//!
//! Every entry point is panic-safe: the body runs under `catch_unwind`; a panic becomes the
//! status word 6F00 (`processApdu`) or a `java.lang.RuntimeException`, and nothing unwinds into
//! the JVM. The Kotlin side may declare the methods on an `object` with or without
//! `@JvmStatic`: the second JNI argument (the instance or the class) is unused either way.

use crate::error::WalletError;
use crate::jni_key_wrapper::JniKeyWrapper;
use crate::logging;
use crate::registry::{self, Reuse};
use jni::JNIEnv;
use jni::objects::{JByteArray, JObject, JString};
use jni::sys::{JNI_FALSE, JNI_TRUE, JNI_VERSION_1_6, jboolean, jbyteArray, jint};
use std::any::Any;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use wallet_core::emv::apdu::StatusWord;
use wallet_core::wallet::{Wallet as CoreWallet, WalletConfig};

/// Test builds only: the APDU and the deactivation reason that panic inside the entry point.
#[cfg(feature = "test-panic")]
mod test_panic {
    /// A proprietary-class command no reader sends: `FF EE 00 00`.
    pub const APDU: [u8; 4] = [0xFF, 0xEE, 0x00, 0x00];
    pub const DEACTIVATION_REASON: i32 = 0x7E57_0001;
    pub const DATA_DIR: &str = "/walletcore-test-panic";
}

// A panic trigger in a shipped library would be a remote crash switch: refuse to build one.
#[cfg(all(feature = "test-panic", not(debug_assertions)))]
compile_error!("the test-panic feature is for debug test builds only, never release");

/// Called by the JVM when `System.loadLibrary("wallet_ffi")` loads us (JNA's load does not call
/// it, hence `logging::init` in the UniFFI entry points too).
#[unsafe(no_mangle)]
pub extern "system" fn JNI_OnLoad(_vm: *mut jni::sys::JavaVM, _reserved: *mut c_void) -> jint {
    // Nothing here may unwind into the JVM either.
    let _ = catch_unwind(logging::init);
    JNI_VERSION_1_6
}

/// `external fun processApdu(apdu: ByteArray): ByteArray` — one command APDU in, the response
/// (data and status word) out. Never throws: every failure is a status word.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_walletcore_sdk_NativeHce_processApdu<'local>(
    env: JNIEnv<'local>,
    _this: JObject<'local>,
    apdu: JByteArray<'local>,
) -> jbyteArray {
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        let Ok(command) = env.convert_byte_array(&apdu) else {
            // A null array: Android never passes one, but a caller might.
            return StatusWord::WRONG_LENGTH.to_bytes().to_vec();
        };
        #[cfg(feature = "test-panic")]
        if command == test_panic::APDU {
            panic!("test-panic: processApdu asked to panic");
        }
        registry::process_apdu(&command)
    }));
    let response = outcome.unwrap_or_else(|panic| {
        log::error!(
            "NativeHce.processApdu panicked ({}); answering 6F00",
            panic_message(&*panic)
        );
        StatusWord::NO_PRECISE_DIAGNOSIS.to_bytes().to_vec()
    });
    // The service must get a status word, not an exception: drop anything left pending.
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    match env.byte_array_from_slice(&response) {
        Ok(array) => array.into_raw(),
        // Out of memory: the JVM has an OutOfMemoryError pending, which the caller now sees.
        Err(_) => std::ptr::null_mut(),
    }
}

/// `external fun deactivate(reason: Int)` — `HostApduService.onDeactivated`: the reader went
/// away or selected another service. Ends the card session.
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_walletcore_sdk_NativeHce_deactivate<'local>(
    mut env: JNIEnv<'local>,
    _this: JObject<'local>,
    reason: jint,
) {
    guard(&mut env, "NativeHce.deactivate", (), |_| {
        #[cfg(feature = "test-panic")]
        if reason == test_panic::DEACTIVATION_REASON {
            panic!("test-panic: deactivate asked to panic");
        }
        registry::deactivate(reason);
    });
}

/// `external fun isAttached(): Boolean` — whether taps have a wallet to answer with (one the app
/// opened and still holds, or one `attach` pinned).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_walletcore_sdk_NativeHce_isAttached<'local>(
    mut env: JNIEnv<'local>,
    _this: JObject<'local>,
) -> jboolean {
    guard(&mut env, "NativeHce.isAttached", JNI_FALSE, |_| {
        if registry::hce_wallet().is_some() {
            JNI_TRUE
        } else {
            JNI_FALSE
        }
    })
}

/// `external fun attach(dataDir: String, keyWrapper: KeyWrapper)` — make sure taps have a
/// wallet when the process was started by a tap, before (or without) the app opening one.
/// Reuses the wallet already open for `dataDir` whatever its configuration, else opens it
/// (no server: a tap needs none) with `keyWrapper` called through JNI. Either way the wallet is
/// pinned: it stays open for the rest of the process. Throws `IllegalStateException` whose
/// message starts with the `WalletException` variant name (`"KeysInvalidated: …"`).
#[unsafe(no_mangle)]
pub extern "system" fn Java_org_walletcore_sdk_NativeHce_attach<'local>(
    mut env: JNIEnv<'local>,
    _this: JObject<'local>,
    data_dir: JString<'local>,
    key_wrapper: JObject<'local>,
) {
    guard(&mut env, "NativeHce.attach", (), |env| {
        if let Err(e) = attach(env, &data_dir, &key_wrapper) {
            let message = format!("{}: {e}", e.variant());
            throw(env, "java/lang/IllegalStateException", &message);
        }
    });
}

fn attach(
    env: &mut JNIEnv<'_>,
    data_dir: &JString<'_>,
    key_wrapper: &JObject<'_>,
) -> Result<(), WalletError> {
    logging::init();
    if data_dir.is_null() || key_wrapper.is_null() {
        return Err(WalletError::InvalidInput {
            reason: "attach needs a data directory and a key wrapper".into(),
        });
    }
    let jni_failed = |e: jni::errors::Error| WalletError::Internal {
        reason: format!("JNI: {e}"),
    };
    let home: String = env.get_string(data_dir).map_err(jni_failed)?.into();
    #[cfg(feature = "test-panic")]
    if home == test_panic::DATA_DIR {
        panic!("test-panic: attach asked to panic");
    }
    let wrapper = Arc::new(JniKeyWrapper::new(env, key_wrapper).map_err(jni_failed)?);
    registry::open(WalletConfig::new(home), Reuse::AnyConfig, true, |config| {
        CoreWallet::open(config, wrapper.clone())
            .map_err(|e| WalletError::from(e).with_wrapper_error(wrapper.last_error.take()))
    })?;
    Ok(())
}

/// Run `body`; on a panic, leave a `RuntimeException` pending for the caller and return
/// `on_panic`.
fn guard<'local, R>(
    env: &mut JNIEnv<'local>,
    what: &str,
    on_panic: R,
    body: impl FnOnce(&mut JNIEnv<'local>) -> R,
) -> R {
    match catch_unwind(AssertUnwindSafe(|| body(env))) {
        Ok(r) => r,
        Err(panic) => {
            let message = format!(
                "walletcore: internal error in {what}: {}",
                panic_message(&*panic)
            );
            log::error!("{message}");
            throw(env, "java/lang/RuntimeException", &message);
            on_panic
        }
    }
}

/// Leave `class(message)` pending, replacing whatever else was pending.
fn throw(env: &mut JNIEnv<'_>, class: &str, message: &str) {
    if env.exception_check().unwrap_or(false) {
        let _ = env.exception_clear();
    }
    let _ = env.throw_new(class, message);
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}
