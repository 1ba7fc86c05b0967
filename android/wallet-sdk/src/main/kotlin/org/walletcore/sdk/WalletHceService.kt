package org.walletcore.sdk

import android.nfc.cardemulation.HostApduService
import android.os.Bundle
import android.util.Log

/**
 * The payment card the NFC stack talks to (registered in the SDK manifest with BIND_NFC_SERVICE
 * and `res/xml/apduservice.xml`). All of the card lives in the Rust core: each APDU is one JNI
 * call, answered synchronously (the core precomputes what it can at SELECT time).
 */
class WalletHceService : HostApduService() {

    override fun onCreate() {
        super.onCreate()
        // A tap can start the process before the app has run: open the wallet here, before the
        // first SELECT arrives. This runs on the main thread, as the APDUs do, so ordering is
        // guaranteed; it costs one Keystore unwrap and one SQLite open, once per process.
        if (!NativeHce.isAttached()) {
            try {
                NativeHce.attach(WalletStorage.dataDir(this).path, KeystoreKeyWrapper.forContext(this))
            } catch (e: IllegalStateException) {
                // Without a wallet the core answers 6985 and the terminal declines; the app shows
                // the reason (for example "keys invalidated") the next time it opens.
                Log.w(TAG, "wallet not attached: ${e.message}")
            }
        }
    }

    override fun processCommandApdu(commandApdu: ByteArray, extras: Bundle?): ByteArray =
        NativeHce.processApdu(commandApdu)

    override fun onDeactivated(reason: Int) = NativeHce.deactivate(reason)

    private companion object {
        const val TAG = "WalletHce"
    }
}
