package org.walletcore.sdk

import org.walletcore.ffi.KeyWrapper

/**
 * JVM stand-in for the Android SDK's `org.walletcore.sdk.NativeHce`, used only while
 * android/wallet-sdk's own file is absent (run.sh compiles that one when it exists, since it
 * imports nothing from android.*). Same name, same native methods.
 */
object NativeHce {
    init {
        System.loadLibrary("wallet_ffi")
    }

    const val DEACTIVATION_LINK_LOSS = 0
    const val DEACTIVATION_DESELECTED = 1

    /** One command APDU in, response data + status word out. Never throws. */
    @JvmStatic external fun processApdu(apdu: ByteArray): ByteArray

    /** `HostApduService.onDeactivated(reason)`. */
    @JvmStatic external fun deactivate(reason: Int)

    /** True while taps have a wallet to answer with. */
    @JvmStatic external fun isAttached(): Boolean

    /** Open (or reuse) the wallet in [dataDir] for taps; pins it for the life of the process. */
    @JvmStatic external fun attach(dataDir: String, keyWrapper: KeyWrapper)
}
