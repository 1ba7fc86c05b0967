package org.walletcore.sdk

import org.walletcore.ffi.KeyWrapper

/**
 * The contactless hot path: plain JNI into `libwallet_ffi.so`, never JNA, so a tap never waits for
 * JNA to load or marshal. It reaches the same wallet as the UniFFI API through one registry in the
 * native library.
 *
 * No `android.*` import on purpose: the JVM tests in `tests/kotlin` compile this file as it is and
 * drive the host library through the very same native methods the service calls.
 */
object NativeHce {
    init {
        System.loadLibrary("wallet_ffi")
    }

    /** `HostApduService.DEACTIVATION_LINK_LOSS`: the field went away mid-transaction. */
    const val DEACTIVATION_LINK_LOSS = 0

    /** `HostApduService.DEACTIVATION_DESELECTED`: the reader selected another AID. */
    const val DEACTIVATION_DESELECTED = 1

    /**
     * One command APDU in, one response APDU (data + SW1 SW2) out. Never throws: bad input gets an
     * ISO 7816 status word, no attached wallet gets 6985, a panic in the core gets 6F00.
     */
    @JvmStatic external fun processApdu(apdu: ByteArray): ByteArray

    /** Ends the card session (reason: [DEACTIVATION_LINK_LOSS] or [DEACTIVATION_DESELECTED]). */
    @JvmStatic external fun deactivate(reason: Int)

    /** True once a wallet is registered, by the app's `Wallet(...)` or by [attach]. */
    @JvmStatic external fun isAttached(): Boolean

    /**
     * Opens the wallet in [dataDir] for card emulation when a tap started the process before the
     * app did. Idempotent. The native side calls [keyWrapper]'s `unwrap([B)[B` to get the data key.
     *
     * @throws IllegalStateException whose message starts with the `WalletError` variant name
     *   (for example `KeysInvalidated: ...`); it carries no secrets.
     */
    @JvmStatic external fun attach(dataDir: String, keyWrapper: KeyWrapper)
}
