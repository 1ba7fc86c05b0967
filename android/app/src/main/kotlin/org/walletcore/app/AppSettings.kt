package org.walletcore.app

import android.content.Context
import org.walletcore.app.logic.ServerSettings

/** Where the token service is and which CA to trust. Public data, so plain SharedPreferences. */
class AppSettings(context: Context) {
    private val prefs = context.getSharedPreferences("walletcore_settings", Context.MODE_PRIVATE)

    var serverUrl: String
        get() = prefs.getString(KEY_URL, null) ?: ServerSettings.emulatorUrl()
        set(value) = prefs.edit().putString(KEY_URL, value).apply()

    var caPem: String?
        get() = prefs.getString(KEY_CA, null)
        set(value) = prefs.edit().putString(KEY_CA, value).apply()

    private companion object {
        const val KEY_URL = "server_url"
        const val KEY_CA = "server_ca_pem"
    }
}
