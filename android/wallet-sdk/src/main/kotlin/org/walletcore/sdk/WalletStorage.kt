package org.walletcore.sdk

import android.content.Context
import java.io.File

/** Where the wallet keeps its database and wrapped data key. */
object WalletStorage {
    /**
     * `noBackupFilesDir/walletcore`: never part of a backup or a device transfer (the backup rules
     * exclude the usual locations as well). The data there is useless without this device's
     * Keystore key, and restoring it elsewhere could only resurrect spent single-use keys.
     */
    fun dataDir(context: Context): File = File(context.noBackupFilesDir, "walletcore").apply { mkdirs() }
}
