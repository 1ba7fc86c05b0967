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

use crate::logging;
use jni::JNIEnv;
use jni::objects::{JByteArray, JObject};
use jni::sys::{JNI_VERSION_1_6, jbyteArray, jint};
use std::any::Any;
use std::ffi::c_void;
use std::panic::{AssertUnwindSafe, catch_unwind};
use wallet_core::emv::apdu::StatusWord;

/// Test builds only: the APDU and the deactivation reason that panic inside the entry point.
#[cfg(feature = "test-panic")]
mod test_panic {
    /// A proprietary-class command no reader sends: `FF EE 00 00`.
    pub const APDU: [u8; 4] = [0xFF, 0xEE, 0x00, 0x00];
    pub const DEACTIVATION_REASON: i32 = 0x7E57_0001;
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
        crate::registry::process_apdu(&command)
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
    guard_void(&mut env, "NativeHce.deactivate", |_| {
        #[cfg(feature = "test-panic")]
        if reason == test_panic::DEACTIVATION_REASON {
            panic!("test-panic: deactivate asked to panic");
        }
        crate::registry::deactivate(reason);
    });
}

/// Run `body`; turn a panic into a pending `RuntimeException` for the caller.
fn guard_void<'local>(
    env: &mut JNIEnv<'local>,
    what: &str,
    body: impl FnOnce(&mut JNIEnv<'local>),
) {
    if let Err(panic) = catch_unwind(AssertUnwindSafe(|| body(env))) {
        let message = format!(
            "walletcore: internal error in {what}: {}",
            panic_message(&*panic)
        );
        log::error!("{message}");
        throw(env, "java/lang/RuntimeException", &message);
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
