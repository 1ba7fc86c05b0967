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
import org.walletcore.app.logic.HistoryQuerySpec
import org.walletcore.app.logic.MerchantInfo
import org.walletcore.app.logic.Money
import org.walletcore.app.logic.MonthTotal
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.ProvisioningResult
import org.walletcore.app.logic.QrCode
import org.walletcore.app.logic.QrKind
import org.walletcore.app.logic.TapInfo
import org.walletcore.app.logic.TxnItem
import org.walletcore.app.logic.toAsciiBytes
import org.walletcore.app.logic.useThenWipe
import org.walletcore.ffi.CardDetails
import org.walletcore.ffi.CardInfo
import org.walletcore.ffi.CardStatus
import org.walletcore.ffi.EventSink
import org.walletcore.ffi.HistoryFilter
import org.walletcore.ffi.KeyWrapperException
import org.walletcore.ffi.Month
import org.walletcore.ffi.Provisioning
import org.walletcore.ffi.ProvisioningState
import org.walletcore.ffi.parseQr
import org.walletcore.ffi.ServerConfig
import org.walletcore.ffi.StatsQuery
import org.walletcore.ffi.Transaction
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.ffi.WalletEvent
import org.walletcore.ffi.WalletException
import org.walletcore.sdk.KeystoreKeyWrapper
import org.walletcore.sdk.WalletStorage
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
    private val tapListeners = CopyOnWriteArraySet<(TapInfo) -> Unit>()

    /** Touched only on [worker]. */
    private var wallet: Wallet? = null

    /** Called on the thread that caused the event (for taps, the HCE thread): hand off at once. */
    private val events = object : EventSink {
        override fun onEvent(event: WalletEvent) {
            if (event is WalletEvent.TapCompleted) {
                val tap = TapInfo(event.cardId, event.amountMinor?.toLong(), event.currency?.toInt())
                main.post { tapListeners.forEach { it(tap) } }
            }
        }
    }

    fun addTapListener(listener: (TapInfo) -> Unit) = tapListeners.add(listener)

    fun removeTapListener(listener: (TapInfo) -> Unit) = tapListeners.remove(listener)

    fun cards(done: (Outcome<List<CardItem>>) -> Unit) =
        call(done) { w -> w.cards().filter { it.status != CardStatus.DELETED }.map { it.toItem() } }

    fun setDefault(cardId: String, done: (Outcome<Unit>) -> Unit) = call(done) { it.setDefaultCard(cardId) }

    fun removeCard(cardId: String, done: (Outcome<Unit>) -> Unit) = call(done) { it.removeCard(cardId) }

    /** Takes ownership of [panDigits] and wipes it, and the bytes made from it, after the call. */
    fun addCard(panDigits: CharArray, expiry: Expiry, name: String, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { w ->
            panDigits.useThenWipe { digits ->
                digits.toAsciiBytes().useThenWipe { pan ->
                    w.addCard(CardDetails(pan, expiry.month.toUByte(), expiry.year.toUShort(), name)).advance(w)
                }
            }
        }

    fun acceptTerms(provisioningId: String, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { w -> w.acceptTerms(provisioningId).advance(w) }

    /** Takes ownership of [otp] and wipes it after the call. */
    fun submitOtp(provisioningId: String, otp: CharArray, done: (Outcome<ProvisioningResult>) -> Unit) =
        call(done) { w -> otp.useThenWipe { it.toAsciiBytes().useThenWipe { bytes -> w.submitOtp(provisioningId, bytes).advance(w) } } }

    /**
     * Call only right after a successful BiometricPrompt / device-credential check. Delivers the
     * end of the payment window (epoch ms) as the core set it.
     */
    fun unlockForPayment(seconds: Int, done: (Outcome<Long>) -> Unit) = call(done) { it.unlockForPayment(seconds.toUInt()) }

    fun presentQr(cardId: String?, done: (Outcome<QrCode>) -> Unit) =
        call(done) { w ->
            val code = w.presentQr(cardId)
            QrCode(code.payload, code.matrix.size.toInt(), code.matrix.modules, code.expiresAtMs)
        }

    fun scanQr(text: String, done: (Outcome<MerchantInfo>) -> Unit) =
        call(done) { _ ->
            val q = parseQr(text)
            MerchantInfo(
                kind = when (q.kind) {
                    FfiQrKind.MPM -> QrKind.MERCHANT
                    FfiQrKind.CPM -> QrKind.CONSUMER
                    FfiQrKind.URL -> QrKind.LINK
                },
                payable = q.canPay,
                reason = q.reason,
                scheme = q.scheme?.toUi(),
                networks = q.networks,
                name = q.merchantName,
                city = q.merchantCity,
                currency = q.currency?.toInt(),
                amountMinor = q.amountMinor?.toLong(),
            )
        }

    /**
     * Pay a scanned merchant code. [amountMinor] is what the user typed for a code without an
     * amount (in the code's currency); the core checks it against the code otherwise. Delivers the
     * payment as history now records it.
     */
    fun payQr(text: String, cardId: String?, amountMinor: Long?, done: (Outcome<TxnItem>) -> Unit) =
        call(done) { w ->
            val currency = parseQr(text).currency?.toInt()
            val amount = amountMinor?.let { minor -> currency?.let { decimal(minor, it) } ?: minor.toString() }
            val paid = w.payMerchantQr(text, amount, cardId)
            val filter = HistoryFilter(cardId = paid.cardId, channel = FfiChannel.QR_SCANNED)
            w.history(filter, 1u, null).records.first().toItem()
        }

    /** One page, newest first; pass the previous page's cursor as [after]. Delivers (records, next cursor). */
    fun history(spec: HistoryQuerySpec, after: String?, done: (Outcome<Pair<List<TxnItem>, String?>>) -> Unit) =
        call(done) { w ->
            val page = w.history(spec.toFilter(), spec.limit.toUInt(), after)
            page.records.map { it.toItem() } to page.next
        }

    /** Approved plus pending payments per month and currency (the core's months are UTC). */
    fun monthlyTotals(spec: HistoryQuerySpec, done: (Outcome<List<MonthTotal>>) -> Unit) =
        call(done) { w ->
            val query = StatsQuery(spec.fromMonth?.toFfi(), spec.toMonth?.toFfi(), spec.cardId, false)
            w.historyStats(query).map { t ->
                MonthTotal(
                    month = YearMonth.of(t.month.year.toInt(), t.month.month.toInt()),
                    currency = t.currency?.toInt(),
                    totalMinor = (t.approved.totalMinor + t.pending.totalMinor).toLong(),
                    count = (t.approved.count + t.pending.count).toInt(),
                )
            }
        }

    /** Delivers how many payments changed status. */
    fun sync(done: (Outcome<Int>) -> Unit) = call(done) { it.sync().statusesUpdated.toInt() }

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
        wallet ?: run {
            val ca = settings.caPem
            val server = if (ca.isNullOrBlank()) null else ServerConfig(settings.serverUrl, ca)
            val config = WalletConfig(WalletStorage.dataDir(context).path, server, REPLENISH_THRESHOLD, QR_VALIDITY_SECONDS)
            Wallet(config, keyWrapper).also {
                it.setEventSink(events)
                wallet = it
            }
        }

    private fun closeWallet() {
        wallet?.close()
        wallet = null
    }

    private companion object {
        const val TAG = "WalletRepository"
        const val REPLENISH_THRESHOLD = 5u
        const val QR_VALIDITY_SECONDS = 60u
    }
}

private fun WalletException.toAppError(): AppError =
    when (this) {
        is WalletException.KeyInvalidated -> AppError.KeysInvalidated(reason)
        is WalletException.KeyUnavailable -> AppError.DeviceLocked(reason)
        is WalletException.Network -> AppError.Network(reason)
        is WalletException.Server -> AppError.Network("$status $reason")
        is WalletException.NotConfigured -> AppError.NotNow(what)
        is WalletException.Declined -> AppError.Declined(reason)
        is WalletException.OtpRejected -> AppError.OtpRejected(attemptsLeft.toInt())
        is WalletException.InvalidInput -> AppError.InvalidInput(reason)
        is WalletException.QrInvalid -> AppError.InvalidInput(reason)
        is WalletException.UnknownCard -> AppError.InvalidInput(id)
        is WalletException.NoCards -> AppError.NotNow("no card")
        is WalletException.CardNotActive -> AppError.NotNow(card)
        is WalletException.KeysExhausted -> AppError.NotNow(card)
        is WalletException.Quarantined -> AppError.Other(reason)
        is WalletException.NewerSchema -> AppError.Other("schema $found > $supported")
        is WalletException.Storage -> AppError.Other(reason)
        is WalletException.Internal -> AppError.Other(reason)
    }

private fun KeyWrapperException.toAppError(): AppError =
    when (this) {
        is KeyWrapperException.KeyInvalidated -> AppError.KeysInvalidated(reason)
        is KeyWrapperException.Unavailable -> AppError.DeviceLocked(reason)
        is KeyWrapperException.Failed -> AppError.Other(reason)
    }

private fun FfiScheme.toUi() =
    when (this) {
        FfiScheme.UNION_PAY -> CardScheme.UNIONPAY
        FfiScheme.VISA -> CardScheme.VISA
        FfiScheme.MASTERCARD -> CardScheme.MASTERCARD
    }

private fun CardInfo.toItem() =
    CardItem(
        id = id,
        scheme = scheme.toUi(),
        label = label,
        last4 = last4,
        expiry = expiry,
        isDefault = isDefault,
        state = when {
            status == CardStatus.SUSPENDED -> UiCardState.SUSPENDED
            keysLeft == 0u -> UiCardState.NEEDS_KEYS
            else -> UiCardState.ACTIVE
        },
        keysLeft = keysLeft.toInt(),
    )

private fun Transaction.toItem() =
    TxnItem(
        id = id,
        cardId = cardId,
        amountMinor = amountMinor?.toLong(),
        currency = currency?.toInt(),
        merchant = merchant,
        timestampMs = createdAtMs,
        channel = when (channel) {
            FfiChannel.NFC -> UiChannel.NFC
            FfiChannel.QR_PRESENTED -> UiChannel.QR_PRESENTED
            FfiChannel.QR_SCANNED -> UiChannel.QR_SCANNED
        },
        status = when (status) {
            FfiTxnStatus.PENDING -> UiTxnStatus.PENDING
            FfiTxnStatus.APPROVED -> UiTxnStatus.APPROVED
            FfiTxnStatus.DECLINED -> UiTxnStatus.DECLINED
            FfiTxnStatus.REVERSED -> UiTxnStatus.REVERSED
            FfiTxnStatus.EXPIRED -> UiTxnStatus.EXPIRED
        },
        cdcvm = cdcvm,
    )

private fun YearMonth.toFfi() = Month(year.toUShort(), monthValue.toUByte())

private fun HistoryQuerySpec.toFilter() =
    HistoryFilter(
        cardId = cardId,
        channel = channel?.let {
            when (it) {
                UiChannel.NFC -> FfiChannel.NFC
                UiChannel.QR_PRESENTED -> FfiChannel.QR_PRESENTED
                UiChannel.QR_SCANNED -> FfiChannel.QR_SCANNED
            }
        },
        status = status?.let {
            when (it) {
                UiTxnStatus.PENDING -> FfiTxnStatus.PENDING
                UiTxnStatus.APPROVED -> FfiTxnStatus.APPROVED
                UiTxnStatus.DECLINED -> FfiTxnStatus.DECLINED
                UiTxnStatus.REVERSED -> FfiTxnStatus.REVERSED
                UiTxnStatus.EXPIRED -> FfiTxnStatus.EXPIRED
            }
        },
        fromMs = fromMs,
        toMs = toMs,
        minAmount = null,
        maxAmount = null,
        currency = null,
        text = null,
    )

/**
 * Move a provisioning through the steps that need no user input (picking the first verification
 * method, settling a request whose answer was lost) and say what the user must do next.
 */
private tailrec fun Provisioning.advance(w: Wallet, rounds: Int = 0): ProvisioningResult =
    if (rounds > 4) {
        // The service keeps answering "not yet": let the user retry rather than spin here.
        ProvisioningResult.Declined(lastError ?: "the token service has not finished; try again")
    } else when (state) {
        ProvisioningState.ELIGIBLE ->
            ProvisioningResult.TermsRequired(id, terms?.text.orEmpty(), terms?.url)
        ProvisioningState.IDV_REQUIRED -> {
            val method = idvMethods.firstOrNull()
            if (method == null) {
                ProvisioningResult.Declined(lastError ?: "the issuer offers no way to verify the card")
            } else {
                w.selectIdvMethod(id, method.id).advance(w, rounds + 1)
            }
        }
        ProvisioningState.IDV_PENDING ->
            ProvisioningResult.OtpRequired(id, idvMethods.firstOrNull { it.id == idvMethod }?.target ?: idvMethods.firstOrNull()?.target.orEmpty())
        ProvisioningState.ACTIVE -> {
            val card = cardId
            if (card == null) ProvisioningResult.Declined(lastError ?: "no card") else ProvisioningResult.Active(w.card(card).toItem())
        }
        ProvisioningState.DECLINED, ProvisioningState.FAILED ->
            ProvisioningResult.Declined(lastError ?: "declined by the issuer")
        ProvisioningState.NEW,
        ProvisioningState.TERMS_ACCEPTED,
        ProvisioningState.TOKENIZE_SENT,
        ProvisioningState.APPROVED,
        ProvisioningState.CREDENTIALS_PENDING,
        -> w.resumeProvisioning(id).advance(w, rounds + 1)
    }

/** Minor units as the decimal text a payment code carries ("1234", CNY -> "12.34"). */
private fun decimal(minor: Long, currency: Int): String {
    val exp = Money.exponent(currency)
    if (exp == 0) return minor.toString()
    val unit = java.math.BigDecimal.valueOf(minor).movePointLeft(exp)
    return unit.toPlainString()
}