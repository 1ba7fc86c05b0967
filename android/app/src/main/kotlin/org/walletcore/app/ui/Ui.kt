package org.walletcore.app.ui

import android.app.Activity
import android.app.role.RoleManager
import android.content.ComponentName
import android.content.Context
import android.content.Intent
import android.content.pm.PackageManager
import android.nfc.NfcAdapter
import android.nfc.cardemulation.CardEmulation
import android.os.Build
import android.text.Editable
import android.text.TextWatcher
import android.view.View
import android.view.WindowInsets
import android.view.WindowManager
import android.widget.EditText
import android.widget.Toast
import org.walletcore.app.R
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.CardScheme
import org.walletcore.app.logic.Channel
import org.walletcore.app.logic.Money
import org.walletcore.app.logic.TxnStatus
import org.walletcore.sdk.WalletHceService

/** targetSdk 35+ draws edge to edge: keep content clear of the system bars and the keyboard. */
fun applySystemBarInsets(root: View) {
    if (Build.VERSION.SDK_INT < Build.VERSION_CODES.R) return
    val base = intArrayOf(root.paddingLeft, root.paddingTop, root.paddingRight, root.paddingBottom)
    root.setOnApplyWindowInsetsListener { v, insets ->
        val bars = insets.getInsets(WindowInsets.Type.systemBars() or WindowInsets.Type.ime())
        v.setPadding(base[0] + bars.left, base[1] + bars.top, base[2] + bars.right, base[3] + bars.bottom)
        insets
    }
}

/** No screenshots, screen recording or recents thumbnail of card data or payment codes. */
fun Activity.secureWindow() = window.setFlags(WindowManager.LayoutParams.FLAG_SECURE, WindowManager.LayoutParams.FLAG_SECURE)

fun Context.toast(text: String) = Toast.makeText(this, text, Toast.LENGTH_LONG).show()

fun Context.describe(error: AppError): String =
    when (error) {
        is AppError.KeysInvalidated -> getString(R.string.keys_invalidated)
        is AppError.DeviceLocked -> getString(R.string.error_device_locked)
        is AppError.Network -> getString(R.string.error_network, error.detail)
        is AppError.Declined -> getString(R.string.error_declined, error.detail)
        is AppError.InvalidInput -> getString(R.string.error_invalid, error.detail)
        is AppError.NotNow -> getString(R.string.error_not_now, error.detail)
        is AppError.OtpRejected -> getString(R.string.error_otp, error.attemptsLeft)
        is AppError.Other -> getString(R.string.error_other, error.detail)
    }

fun Context.schemeName(scheme: CardScheme): String =
    getString(
        when (scheme) {
            CardScheme.UNIONPAY -> R.string.scheme_unionpay
            CardScheme.VISA -> R.string.scheme_visa
            CardScheme.MASTERCARD -> R.string.scheme_mastercard
            CardScheme.AMEX -> R.string.scheme_amex
            CardScheme.JCB -> R.string.scheme_jcb
            CardScheme.DISCOVER -> R.string.scheme_discover
            CardScheme.UNKNOWN -> R.string.scheme_unknown
        },
    )

fun Context.statusName(status: TxnStatus): String =
    getString(
        when (status) {
            TxnStatus.PENDING -> R.string.status_pending
            TxnStatus.APPROVED -> R.string.status_approved
            TxnStatus.DECLINED -> R.string.status_declined
            TxnStatus.REVERSED -> R.string.status_reversed
            TxnStatus.EXPIRED -> R.string.status_expired
        },
    )

fun Context.channelName(channel: Channel): String =
    getString(
        when (channel) {
            Channel.NFC -> R.string.channel_contactless
            Channel.QR_PRESENTED -> R.string.channel_qr_presented
            Channel.QR_SCANNED -> R.string.channel_qr_scanned
        },
    )

/** An amount in the user's locale; renminbi when the record names no currency (China's codes). */
fun Context.amount(minor: Long, currency: Int?): String =
    Money.format(minor, currency ?: CNY, resources.configuration.locales[0])

/** ISO 4217 numeric code of the renminbi. */
const val CNY = 156

fun EditText.afterTextChanged(block: (Editable) -> Unit) =
    addTextChangedListener(object : TextWatcher {
        override fun beforeTextChanged(s: CharSequence, start: Int, count: Int, after: Int) = Unit

        override fun onTextChanged(s: CharSequence, start: Int, before: Int, count: Int) = Unit

        override fun afterTextChanged(s: Editable) = block(s)
    })

/** Whether this phone can pay by tap with walletcore right now, and what is in the way. */
enum class TapReadiness { NO_NFC, NFC_OFF, NOT_DEFAULT, READY }

val Context.hceService: ComponentName get() = ComponentName(this, WalletHceService::class.java)

fun Context.tapReadiness(): TapReadiness {
    if (!packageManager.hasSystemFeature(PackageManager.FEATURE_NFC_HOST_CARD_EMULATION)) return TapReadiness.NO_NFC
    val nfc = NfcAdapter.getDefaultAdapter(this) ?: return TapReadiness.NO_NFC
    if (!nfc.isEnabled) return TapReadiness.NFC_OFF
    val isDefault =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.VANILLA_ICE_CREAM && walletRoleAvailable()) {
            getSystemService(RoleManager::class.java).isRoleHeld(RoleManager.ROLE_WALLET)
        } else {
            CardEmulation.getInstance(nfc).isDefaultServiceForCategory(hceService, CardEmulation.CATEGORY_PAYMENT)
        }
    return if (isDefault) TapReadiness.READY else TapReadiness.NOT_DEFAULT
}

private fun Context.walletRoleAvailable(): Boolean =
    Build.VERSION.SDK_INT >= Build.VERSION_CODES.VANILLA_ICE_CREAM &&
        getSystemService(RoleManager::class.java)?.isRoleAvailable(RoleManager.ROLE_WALLET) == true

/**
 * Asks the user to make walletcore the default payment app: the wallet role from Android 15 on
 * (ACTION_CHANGE_DEFAULT is deprecated there), CardEmulation.ACTION_CHANGE_DEFAULT before.
 */
@Suppress("DEPRECATION")
fun Activity.requestDefaultPaymentApp() {
    val intent =
        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.VANILLA_ICE_CREAM && walletRoleAvailable()) {
            getSystemService(RoleManager::class.java).createRequestRoleIntent(RoleManager.ROLE_WALLET)
        } else {
            Intent(CardEmulation.ACTION_CHANGE_DEFAULT)
                .putExtra(CardEmulation.EXTRA_CATEGORY, CardEmulation.CATEGORY_PAYMENT)
                .putExtra(CardEmulation.EXTRA_SERVICE_COMPONENT, hceService)
        }
    startActivityForResult(intent, REQUEST_DEFAULT_PAYMENT_APP)
}

fun Activity.openNfcSettings() = startActivity(Intent(android.provider.Settings.ACTION_NFC_SETTINGS))

const val REQUEST_DEFAULT_PAYMENT_APP = 1

/**
 * Typed view lookup. The unchecked cast goes through `View` so this compiles both against the
 * real API and against signature-only API stubs (android-check), which lose findViewById's type
 * parameter.
 */
@Suppress("UNCHECKED_CAST")
fun <T : View> Activity.find(id: Int): T {
    val v: View = findViewById(id)
    return v as T
}

@Suppress("UNCHECKED_CAST")
fun <T : View> View.child(id: Int): T {
    val v: View = findViewById(id)
    return v as T
}
