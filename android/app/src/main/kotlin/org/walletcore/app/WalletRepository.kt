package org.walletcore.app

import android.content.Context
import android.os.Handler
import android.os.Looper
import android.util.Log
import java.time.YearMonth
import java.util.concurrent.CopyOnWriteArraySet
import java.util.concurrent.Executors
import javax.crypto.Cipher
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.CardItem
import org.walletcore.app.logic.CardScheme
import org.walletcore.app.logic.Expiry
import org.walletcore.app.logic.HistoryQueries
import org.walletcore.app.logic.HistoryQuerySpec
import org.walletcore.app.logic.MerchantInfo
import org.walletcore.app.logic.MonthTotal
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.ProvisioningResult
import org.walletcore.app.logic.QrCode
import org.walletcore.app.logic.QrKind
import org.walletcore.app.logic.TxnItem
import org.walletcore.app.logic.toAsciiBytes
import org.walletcore.app.logic.useThenWipe
import org.walletcore.ffi.Card
import org.walletcore.ffi.CardDetails
import org.walletcore.ffi.EventSink
import org.walletcore.ffi.HistoryQuery
import org.walletcore.ffi.KeyWrapperException
import org.walletcore.ffi.ProvisioningStep
import org.walletcore.ffi.Transaction
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.ffi.WalletEvent
import org.walletcore.ffi.WalletException
import org.walletcore.sdk.KeystoreKeyWrapper
import org.walletcore.sdk.WalletStorage
import org.walletcore.ffi.CardState as FfiCardState
import org.walletcore.ffi.Channel as FfiChannel
import org.walletcore.ffi.QrKind as FfiQrKind
import org.walletcore.ffi.Scheme as FfiScheme
import org.walletcore.ffi.TxnStatus as FfiTxnStatus
import org.walletcore.app.logic.CardState as UiCardState
import org.walletcore.app.logic.Channel as UiChannel
import org.walletcore.app.logic.TxnStatus as UiTxnStatus

/**
 * The app's only door to the generated bindings. The UniFFI API is synchronous, so every call runs
 * on one background thread (which also serialises them) and the result comes back on the main
 * thread as an [Outcome]; records are mapped to the logic package's types so no screen depends on
 * generated code.
 */
class WalletRepository(private val context: Context, private val settings: AppSettings) {
    private val worker = Executors.newSingleThreadExecutor { r -> Thread(r, "wallet").apply { isDaemon = true } }
    private val main = Handler(Looper.getMainLooper())
    private val keyWrapper = KeystoreKeyWrapper.forContext(context)
    private val tapListeners = CopyOnWriteArraySet<(TxnItem) -> Unit>()

    /** Touched only on [worker]. */
    private var wallet: Wallet? = null

    private val events = object : EventSink {
        override fun onEvent(event: WalletEvent) {
            if (event is WalletEvent.TapCompleted) {
                val txn = event.transaction.toItem()
                main.post { tapListeners.forEach { it(txn) } }
            }
        }
    }

    fun addTapListener(listener: (TxnItem) -> Unit) = tapListeners.add(listener)

    fun removeTapListener(listener: (TxnItem) -> Unit) = tapListeners.remove(listener)

    fun cards(done: (Outcome<List<CardItem>>) -> Unit) = call(done) { it.cards().map { c -> c.toItem() } }

    fun setDefault(cardId: String, done: (Outcome<Unit>) -> Unit) = call(done) { it.setDefaultCard(cardId) }

    fun removeCard(cardId: String, done: (Outcome<Unit>) -> Unit) = call(done) { it.removeCard(cardId) }

    /** Takes ownership of [panDigits] and wipes it, and the bytes made from it, after the call. */
    fun addCard(panDigits: CharArray, expiry: Expiry, name: String, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { w ->
            panDigits.useThenWipe { digits ->
                digits.toAsciiBytes().useThenWipe { pan ->
                    w.addCard(CardDetails(pan, expiry.month.toUByte(), expiry.year.toUShort(), name)).toResult()
                }
            }
        }

    fun acceptTerms(provisioningId: String, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { it.acceptTerms(provisioningId).toResult() }

    /** Takes ownership of [otp] and wipes it after the call. */
    fun submitOtp(provisioningId: String, otp: CharArray, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { w -> otp.useThenWipe { it.toAsciiBytes().useThenWipe { bytes -> w.submitOtp(provisioningId, bytes).toResult() } } }

    /** Call only right after a successful BiometricPrompt / device-credential check. */
    fun unlockForPayment(seconds: Int, done: (Outcome<Unit>) -> Unit) = call(done) { it.unlockForPayment(seconds.toUInt()) }

    fun presentQr(cardId: String?, done: (Outcome<QrCode>) -> Unit) =
        call(done) { w ->
            val qr = w.presentQr(cardId)
            QrCode(qr.payload, qr.matrix.size.toInt(), qr.matrix.modules, qr.validUntilMs)
        }

    fun parseQr(text: String, done: (Outcome<MerchantInfo>) -> Unit) =
        call(done) { w ->
            val q = w.parseQr(text)
            MerchantInfo(
                kind = when (q.kind) {
                    FfiQrKind.EMV_MERCHANT -> QrKind.EMV_MERCHANT
                    FfiQrKind.UNION_PAY_URL -> QrKind.UNIONPAY_URL
                    FfiQrKind.ALIPAY_URL -> QrKind.ALIPAY_URL
                    FfiQrKind.WECHAT_URL -> QrKind.WECHAT_URL
                },
                networks = q.networks,
                name = q.merchantName,
                city = q.merchantCity,
                currency = q.currency?.toInt(),
                amountMinor = q.amountMinor,
                payable = q.payable,
            )
        }

    fun payQr(text: String, cardId: String?, amountMinor: Long?, done: (Outcome<TxnItem>) -> Unit) =
        call(done) { it.payQr(text, cardId, amountMinor).toItem() }

    fun history(spec: HistoryQuerySpec, done: (Outcome<List<TxnItem>>) -> Unit) =
        call(done) { w -> w.history(spec.toQuery()).map { it.toItem() } }

    fun monthlyTotals(spec: HistoryQuerySpec, done: (Outcome<List<MonthTotal>>) -> Unit) =
        call(done) { w ->
            w.monthlyTotals(spec.toQuery()).mapNotNull { t ->
                val month: YearMonth = HistoryQueries.parseMonth(t.month) ?: return@mapNotNull null
                MonthTotal(month, t.currency.toInt(), t.totalMinor, t.count.toInt())
            }
        }

    fun sync(done: (Outcome<Int>) -> Unit) = call(done) { it.sync().toInt() }

    /** The server settings changed: the next call opens the wallet with them. */
    fun reconfigure() = worker.execute { closeWallet() }

    /**
     * After [AppError.KeysInvalidated]: the Keystore keys are gone, so the data they protected is
     * unreadable. Delete it (and the keys) and start an empty wallet; the user adds the cards again.
     */
    fun resetAfterKeysInvalidated(done: (Outcome<Unit>) -> Unit) =
        worker.execute {
            closeWallet()
            keyWrapper.reset()
            WalletStorage.dataDir(context).deleteRecursively()
            main.post { done(Outcome.Ok(Unit)) }
        }

    /** A cipher for BiometricPrompt's CryptoObject; Ok(null) when no strong biometric is enrolled. */
    fun cdcvmCipher(): Outcome<Cipher?> =
        try {
            Outcome.Ok(keyWrapper.cdcvmCipher())
        } catch (e: KeyWrapperException) {
            Outcome.Failed(e.toAppError())
        }

    fun proveAuthenticated(cipher: Cipher): Outcome<Unit> =
        try {
            Outcome.Ok(keyWrapper.proveAuthenticated(cipher))
        } catch (e: KeyWrapperException) {
            Outcome.Failed(e.toAppError())
        }

    private fun <T> call(done: (Outcome<T>) -> Unit, work: (Wallet) -> T) {
        worker.execute {
            val outcome: Outcome<T> =
                try {
                    Outcome.Ok(work(open()))
                } catch (e: WalletException) {
                    Outcome.Failed(e.toAppError())
                } catch (e: KeyWrapperException) {
                    Outcome.Failed(e.toAppError())
                } catch (e: RuntimeException) {
                    // A bug on either side of the FFI must not take the app down; say what it was.
                    Log.e(TAG, "wallet call failed", e)
                    Outcome.Failed(AppError.Other(e.javaClass.simpleName))
                }
            main.post { done(outcome) }
        }
    }

    private fun open(): Wallet =
        wallet ?: Wallet(
            WalletConfig(WalletStorage.dataDir(context).path, settings.serverUrl, settings.caPem),
            keyWrapper,
        ).also {
            it.setEventSink(events)
            wallet = it
        }

    private fun closeWallet() {
        wallet?.close()
        wallet = null
    }

    private companion object {
        const val TAG = "WalletRepository"
    }
}

private fun WalletException.toAppError(): AppError =
    when (this) {
        is WalletException.KeysInvalidated -> AppError.KeysInvalidated(reason)
        is WalletException.DeviceLocked -> AppError.DeviceLocked(reason)
        is WalletException.Network -> AppError.Network(reason)
        is WalletException.Server -> AppError.Network(reason)
        is WalletException.Declined -> AppError.Declined(reason)
        is WalletException.InvalidInput -> AppError.InvalidInput(reason)
        is WalletException.NotFound -> AppError.InvalidInput(reason)
        is WalletException.WrongState -> AppError.NotNow(reason)
        is WalletException.NoKeysLeft -> AppError.NotNow(reason)
        is WalletException.Storage -> AppError.Other(reason)
        is WalletException.Internal -> AppError.Other(reason)
    }

private fun KeyWrapperException.toAppError(): AppError =
    when (this) {
        is KeyWrapperException.KeysInvalidated -> AppError.KeysInvalidated(reason)
        is KeyWrapperException.DeviceLocked -> AppError.DeviceLocked(reason)
        is KeyWrapperException.Unavailable -> AppError.Other(reason)
    }

private fun Card.toItem() =
    CardItem(
        id = id,
        scheme = when (scheme) {
            FfiScheme.UNION_PAY -> CardScheme.UNIONPAY
            FfiScheme.VISA -> CardScheme.VISA
            FfiScheme.MASTERCARD -> CardScheme.MASTERCARD
        },
        label = label,
        last4 = last4,
        expiry = expiry,
        isDefault = isDefault,
        state = when (state) {
            FfiCardState.ACTIVE -> UiCardState.ACTIVE
            FfiCardState.SUSPENDED -> UiCardState.SUSPENDED
            FfiCardState.NEEDS_KEYS -> UiCardState.NEEDS_KEYS
        },
        keysLeft = keysLeft.toInt(),
    )

private fun Transaction.toItem() =
    TxnItem(
        id = id,
        cardId = cardId,
        amountMinor = amountMinor,
        currency = currency.toInt(),
        merchant = merchant,
        timestampMs = timestampMs,
        channel = channel.toUi(),
        status = when (status) {
            FfiTxnStatus.PENDING -> UiTxnStatus.PENDING
            FfiTxnStatus.APPROVED -> UiTxnStatus.APPROVED
            FfiTxnStatus.DECLINED -> UiTxnStatus.DECLINED
            FfiTxnStatus.REVERSED -> UiTxnStatus.REVERSED
        },
    )

private fun FfiChannel.toUi() = if (this == FfiChannel.QR) UiChannel.QR else UiChannel.CONTACTLESS

private fun HistoryQuerySpec.toQuery() =
    HistoryQuery(
        cardId = cardId,
        channel = channel?.let { if (it == UiChannel.QR) FfiChannel.QR else FfiChannel.CONTACTLESS },
        status = status?.let {
            when (it) {
                UiTxnStatus.PENDING -> FfiTxnStatus.PENDING
                UiTxnStatus.APPROVED -> FfiTxnStatus.APPROVED
                UiTxnStatus.DECLINED -> FfiTxnStatus.DECLINED
                UiTxnStatus.REVERSED -> FfiTxnStatus.REVERSED
            }
        },
        fromMs = fromMs,
        toMs = toMs,
        limit = limit.toUInt(),
        offset = offset.toUInt(),
    )

private fun ProvisioningStep.toResult(): ProvisioningResult =
    when (this) {
        is ProvisioningStep.TermsRequired -> ProvisioningResult.TermsRequired(provisioningId, termsText, termsUrl)
        is ProvisioningStep.OtpRequired -> ProvisioningResult.OtpRequired(provisioningId, destinationHint)
        is ProvisioningStep.Active -> ProvisioningResult.Active(card.toItem())
        is ProvisioningStep.Declined -> ProvisioningResult.Declined(reason)
    }
