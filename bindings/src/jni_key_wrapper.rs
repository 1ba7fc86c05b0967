//! A Kotlin `KeyWrapper` called through plain JNI, for `NativeHce.attach`.
//!
//! When a tap starts the process, the HCE service opens the wallet before anything has loaded
//! JNA, so the UniFFI callback machinery is not available. The service hands `attach` the same
//! Kotlin object the app gives `Wallet(config, keyWrapper)` (it implements the generated
//! `org.walletcore.ffi.KeyWrapper`), and this adapter calls its `wrap([B)[B` and `unwrap([B)[B`
//! methods directly. It holds a global reference to the object and the `JavaVM`, so the core may
//! call it on any thread; a thread not known to the JVM is attached for the call.
//!
//! A `KeyWrapperException` the Kotlin method throws is recognised by its class name
//! (`…KeyWrapperException$KeyInvalidated` and so on; `FindClass` would use the wrong class
//! loader on a native thread) and its `reason`; anything else becomes `Failed`.

use crate::callbacks::LastWrapError;
use crate::error::KeyWrapperError;
use jni::objects::{GlobalRef, JByteArray, JObject, JString, JThrowable, JValue};
use jni::{JNIEnv, JavaVM};
use wallet_core::store::{self, WrapError};
use zeroize::Zeroizing;

const EXCEPTION_CLASS: &str = "org.walletcore.ffi.KeyWrapperException$";

pub struct JniKeyWrapper {
    vm: JavaVM,
    object: GlobalRef,
    pub last_error: LastWrapError,
}

type JniResult<T> = jni::errors::Result<T>;

impl JniKeyWrapper {
    pub fn new(env: &JNIEnv<'_>, object: &JObject<'_>) -> JniResult<Self> {
        Ok(Self {
            vm: env.get_java_vm()?,
            object: env.new_global_ref(object)?,
            last_error: LastWrapError::default(),
        })
    }

    /// Call `method([B)[B` with `input`; the result is held in a `Zeroizing` (it may be the data
    /// key) and the Java arrays that carried key material are overwritten before they are let go.
    fn call(
        &self,
        method: &str,
        input: &[u8],
        wipe_input: bool,
    ) -> Result<Zeroizing<Vec<u8>>, KeyWrapperError> {
        let jni_failed = |e: jni::errors::Error| KeyWrapperError::Failed {
            reason: format!("JNI: {e}"),
        };
        let mut env = self.vm.attach_current_thread().map_err(jni_failed)?;
        // A local frame, so a native thread that stays attached does not collect references.
        let outcome = env.with_local_frame(16, |env| -> JniResult<Result<_, KeyWrapperError>> {
            let arg = env.byte_array_from_slice(input)?;
            let result = env.call_method(&self.object, method, "([B)[B", &[JValue::Object(&arg)]);
            if wipe_input {
                wipe(env, &arg);
            }
            match result {
                Ok(value) => {
                    let array = JByteArray::from(value.l()?);
                    if array.is_null() {
                        return Ok(Err(KeyWrapperError::Failed {
                            reason: format!("KeyWrapper.{method} returned null"),
                        }));
                    }
                    let out = Zeroizing::new(env.convert_byte_array(&array)?);
                    if !wipe_input {
                        wipe(env, &array);
                    }
                    Ok(Ok(out))
                }
                Err(jni::errors::Error::JavaException) => {
                    let thrown = env.exception_occurred()?;
                    env.exception_clear()?;
                    Ok(Err(classify(env, &thrown)?))
                }
                Err(e) => Err(e),
            }
        });
        // Nothing may stay pending for whoever called into Rust.
        if env.exception_check().unwrap_or(false) {
            let _ = env.exception_clear();
        }
        outcome.map_err(jni_failed)?
    }

    fn failed(&self, e: KeyWrapperError) -> WrapError {
        self.last_error.record(&e);
        e.into()
    }
}

impl store::KeyWrapper for JniKeyWrapper {
    fn wrap(&self, dek: &[u8]) -> Result<Vec<u8>, WrapError> {
        match self.call("wrap", dek, true) {
            Ok(blob) => Ok(blob.to_vec()),
            Err(e) => Err(self.failed(e)),
        }
    }

    fn unwrap(&self, blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        self.call("unwrap", blob, false).map_err(|e| self.failed(e))
    }
}

/// Overwrite a Java byte array with zeros (best effort: the JVM may have copied it).
fn wipe(env: &mut JNIEnv<'_>, array: &JByteArray<'_>) {
    if let Ok(len) = env.get_array_length(array) {
        let zeros = vec![0i8; usize::try_from(len).unwrap_or(0)];
        let _ = env.set_byte_array_region(array, 0, &zeros);
    }
}

/// Turn what the Kotlin wrapper threw into a [`KeyWrapperError`].
fn classify(env: &mut JNIEnv<'_>, thrown: &JThrowable<'_>) -> JniResult<KeyWrapperError> {
    let class = env
        .call_method(thrown, "getClass", "()Ljava/lang/Class;", &[])?
        .l()?;
    let name = string_result(env, &class, "getName")?.unwrap_or_default();
    // Generated exceptions carry a `reason` property; its getter is the clean text (their
    // `message` is "reason=…").
    let reason = match string_result(env, thrown, "getReason") {
        Ok(Some(reason)) => reason,
        _ => {
            if env.exception_check()? {
                env.exception_clear()?;
            }
            let message = string_result(env, thrown, "getMessage")?.unwrap_or_default();
            let simple = name.rsplit(['.', '$']).next().unwrap_or_default();
            format!("{simple}: {message}")
        }
    };
    Ok(match name.strip_prefix(EXCEPTION_CLASS) {
        Some("KeyInvalidated") => KeyWrapperError::KeyInvalidated { reason },
        Some("Unavailable") => KeyWrapperError::Unavailable { reason },
        _ => KeyWrapperError::Failed { reason },
    })
}

/// `obj.method()` for a method returning a `String` (null -> `None`).
fn string_result(
    env: &mut JNIEnv<'_>,
    obj: &JObject<'_>,
    method: &str,
) -> JniResult<Option<String>> {
    let value = env
        .call_method(obj, method, "()Ljava/lang/String;", &[])?
        .l()?;
    if value.is_null() {
        return Ok(None);
    }
    let s = JString::from(value);
    let text: String = env.get_string(&s)?.into();
    Ok(Some(text))
}
