package org.walletcore.app.ui

import android.app.Activity
import android.hardware.biometrics.BiometricManager
import android.hardware.biometrics.BiometricPrompt
import android.os.Build
import android.os.CancellationSignal
import org.walletcore.app.R
import org.walletcore.app.WalletRepository
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.PayReducer

sealed interface CdcvmResult {
    /** Verified, and the core's payment window is open until [untilMs] (epoch ms). */
    data class Unlocked(val untilMs: Long) : CdcvmResult

    data object Cancelled : CdcvmResult

    data class Failed(val error: AppError) : CdcvmResult
}

/**
 * Consumer device cardholder verification: BiometricPrompt bound to the Keystore CDCVM key (the
 * prompt's success is proven by using that key, not taken on trust), then
 * `Wallet.unlockForPayment`. Without an enrolled strong biometric, Android 11+ falls back to the
 * device credential.
 */
class Cdcvm(private val activity: Activity, private val repository: WalletRepository) {
    private var cancellation: CancellationSignal? = null

    fun start(onResult: (CdcvmResult) -> Unit) {
        val cipher = when (val c = repository.cdcvmCipher()) {
            is Outcome.Failed -> return onResult(CdcvmResult.Failed(c.error))
            is Outcome.Ok -> c.value
        }
        if (cipher == null && Build.VERSION.SDK_INT < Build.VERSION_CODES.R) {
            return onResult(CdcvmResult.Failed(AppError.NotNow(activity.getString(R.string.pay_no_biometric))))
        }
        val builder = BiometricPrompt.Builder(activity)
            .setTitle(activity.getString(R.string.pay_prompt_title))
            .setSubtitle(activity.getString(R.string.pay_prompt_subtitle))
        if (cipher != null) {
            if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                builder.setAllowedAuthenticators(BiometricManager.Authenticators.BIOMETRIC_STRONG)
            }
            builder.setNegativeButton(activity.getString(R.string.action_cancel), activity.mainExecutor) { _, _ ->
                onResult(CdcvmResult.Cancelled)
            }
        } else if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
            builder.setAllowedAuthenticators(BiometricManager.Authenticators.DEVICE_CREDENTIAL)
        }
        val signal = CancellationSignal().also { cancellation = it }
        val callback = object : BiometricPrompt.AuthenticationCallback() {
            override fun onAuthenticationSucceeded(result: BiometricPrompt.AuthenticationResult) {
                val authed = result.cryptoObject?.cipher
                if (cipher != null) {
                    val proof = if (authed == null) null else repository.proveAuthenticated(authed)
                    if (proof !is Outcome.Ok) {
                        onResult(CdcvmResult.Failed((proof as? Outcome.Failed)?.error ?: AppError.Other("no crypto object")))
                        return
                    }
                }
                repository.unlockForPayment(PayReducer.PAYMENT_WINDOW_SECONDS) { outcome ->
                    when (outcome) {
                        is Outcome.Ok -> onResult(CdcvmResult.Unlocked(outcome.value))
                        is Outcome.Failed -> onResult(CdcvmResult.Failed(outcome.error))
                    }
                }
            }

            override fun onAuthenticationError(errorCode: Int, errString: CharSequence) {
                // The negative button has its own listener above; these are the other ways out.
                val cancelled = errorCode == BiometricPrompt.BIOMETRIC_ERROR_USER_CANCELED ||
                    errorCode == BiometricPrompt.BIOMETRIC_ERROR_CANCELED
                onResult(if (cancelled) CdcvmResult.Cancelled else CdcvmResult.Failed(AppError.NotNow(errString.toString())))
            }
        }
        val prompt = builder.build()
        if (cipher != null) {
            prompt.authenticate(BiometricPrompt.CryptoObject(cipher), signal, activity.mainExecutor, callback)
        } else {
            prompt.authenticate(signal, activity.mainExecutor, callback)
        }
    }

    fun cancel() {
        cancellation?.cancel()
        cancellation = null
    }
}
