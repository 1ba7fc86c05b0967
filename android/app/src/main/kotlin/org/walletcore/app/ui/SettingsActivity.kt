package org.walletcore.app.ui

import android.app.Activity
import android.content.Intent
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.walletcore.app.AppSettings
import org.walletcore.app.R
import org.walletcore.app.logic.CaCheck
import org.walletcore.app.logic.ServerSettings
import org.walletcore.app.logic.UrlCheck
import org.walletcore.app.repository

/**
 * The token service to use (the sandbox on a developer's machine; 10.0.2.2 from the emulator) and
 * the CA the core pins for it; NFC and default-payment-app status with the fix one press away.
 */
class SettingsActivity : Activity() {
    private lateinit var settings: AppSettings
    private lateinit var url: EditText
    private lateinit var ca: EditText

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_settings)
        applySystemBarInsets(findViewById(R.id.root))
        settings = AppSettings(this)
        url = find(R.id.server_url)
        ca = find(R.id.ca_pem)
        url.setText(settings.serverUrl)
        ca.setText(settings.caPem.orEmpty())
        url.afterTextChanged { checkUrl() }
        ca.afterTextChanged { checkCa() }
        find<Button>(R.id.use_emulator).setOnClickListener { url.setText(ServerSettings.emulatorUrl()) }
        find<Button>(R.id.load_ca).setOnClickListener {
            val pick = Intent(Intent.ACTION_OPEN_DOCUMENT).addCategory(Intent.CATEGORY_OPENABLE).setType("*/*")
            startActivityForResult(pick, REQUEST_CA_FILE)
        }
        find<Button>(R.id.save).setOnClickListener { save() }
        find<Button>(R.id.nfc_settings).setOnClickListener { openNfcSettings() }
        find<Button>(R.id.make_default).setOnClickListener { requestDefaultPaymentApp() }
        checkUrl()
        checkCa()
    }

    override fun onResume() {
        super.onResume()
        val readiness = tapReadiness()
        val nfc = find<TextView>(R.id.nfc_status)
        nfc.setText(
            when (readiness) {
                TapReadiness.NO_NFC -> R.string.nfc_missing
                TapReadiness.NFC_OFF -> R.string.nfc_off
                else -> R.string.settings_nfc_on
            },
        )
        find<View>(R.id.nfc_settings).visibility = if (readiness == TapReadiness.NFC_OFF) View.VISIBLE else View.GONE
        val isDefault = readiness == TapReadiness.READY
        find<TextView>(R.id.default_status).setText(if (isDefault) R.string.settings_default_yes else R.string.settings_default_no)
        find<View>(R.id.default_status).visibility = if (readiness == TapReadiness.NO_NFC) View.GONE else View.VISIBLE
        find<View>(R.id.make_default).visibility =
            if (readiness == TapReadiness.NOT_DEFAULT) View.VISIBLE else View.GONE
    }

    override fun onActivityResult(requestCode: Int, resultCode: Int, data: Intent?) {
        super.onActivityResult(requestCode, resultCode, data)
        val uri = data?.data
        if (requestCode != REQUEST_CA_FILE || resultCode != RESULT_OK || uri == null) return
        val text = contentResolver.openInputStream(uri)?.use { input ->
            val bytes = input.readNBytes(MAX_CA_BYTES + 1)
            if (bytes.size > MAX_CA_BYTES) null else bytes.toString(Charsets.US_ASCII)
        }
        if (text == null) {
            find<TextView>(R.id.ca_status).setText(R.string.settings_ca_not_pem)
        } else {
            ca.setText(text)
        }
    }

    private fun checkUrl(): UrlCheck {
        val check = ServerSettings.checkUrl(url.text.toString())
        find<TextView>(R.id.server_status).text =
            when (check) {
                is UrlCheck.Ok -> ""
                UrlCheck.NotHttps -> getString(R.string.settings_url_not_https)
                UrlCheck.Malformed -> getString(R.string.settings_url_malformed)
            }
        return check
    }

    private fun checkCa(): CaCheck {
        val check = ServerSettings.checkCaPem(ca.text.toString())
        find<TextView>(R.id.ca_status).text =
            when (check) {
                CaCheck.None -> getString(R.string.settings_ca_none)
                is CaCheck.Ok -> getString(R.string.settings_ca_ok, check.certificates)
                CaCheck.NotPem -> getString(R.string.settings_ca_not_pem)
            }
        return check
    }

    private fun save() {
        val urlCheck = checkUrl() as? UrlCheck.Ok ?: return
        val caCheck = checkCa()
        if (caCheck == CaCheck.NotPem) return
        settings.serverUrl = urlCheck.url
        settings.caPem = if (caCheck == CaCheck.None) null else ca.text.toString()
        repository.reconfigure()
        toast(getString(R.string.settings_saved))
    }

    private companion object {
        const val REQUEST_CA_FILE = 2
        const val MAX_CA_BYTES = 64 * 1024
    }
}
