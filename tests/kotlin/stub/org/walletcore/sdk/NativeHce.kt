package org.walletcore.sdk

/**
 * JVM stand-in for the Android SDK's `org.walletcore.sdk.NativeHce` (same name, same native
 * methods), so the tests call the exact JNI symbols the payment service calls.
 */
object NativeHce {
    init {
        System.loadLibrary("wallet_ffi")
    }

    /** One command APDU in, response data + status word out. Never throws. */
    @JvmStatic external fun processApdu(apdu: ByteArray): ByteArray

    /** `HostApduService.onDeactivated(reason)`. */
    @JvmStatic external fun deactivate(reason: Int)
}
