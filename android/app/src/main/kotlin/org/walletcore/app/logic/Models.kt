package org.walletcore.app.logic

import java.time.YearMonth

// What the screens show. WalletRepository maps the generated bindings' records into these, so
// the UI and this logic never depend on the generated code.

/** NEEDS_KEYS: active at the token service but out of single-use keys until the next sync. */
enum class CardState { ACTIVE, SUSPENDED, NEEDS_KEYS }

data class CardItem(
    val id: String,
    val scheme: CardScheme,
    val label: String,
    val last4: String,
    /** YYMM */
    val expiry: String,
    val isDefault: Boolean,
    val state: CardState,
    val keysLeft: Int,
)

enum class Channel { NFC, QR_PRESENTED, QR_SCANNED }

enum class TxnStatus { PENDING, APPROVED, DECLINED, REVERSED, EXPIRED }

data class TxnItem(
    val id: Long,
    val cardId: String,
    /** Null when the terminal did not send an amount (a tap that asked for none). */
    val amountMinor: Long?,
    /** ISO 4217 numeric */
    val currency: Int?,
    val merchant: String?,
    val timestampMs: Long,
    val channel: Channel,
    val status: TxnStatus,
    /** The cardholder was verified on the phone for this payment. */
    val cdcvm: Boolean,
)

/** Spending of one month in one currency: approved and still-pending payments. */
data class MonthTotal(val month: YearMonth, val currency: Int?, val totalMinor: Long, val count: Int)

/** A tap the card answered (its history record is pending until the bank confirms it). */
data class TapInfo(val cardId: String, val amountMinor: Long?, val currency: Int?)

/** A consumer-presented payment code and the end of its validity window. */
class QrCode(val payload: String, val size: Int, val modules: ByteArray, val validUntilMs: Long)

/** MERCHANT: EMVCo merchant-presented; CONSUMER: someone's payment code; LINK: a URL code. */
enum class QrKind { MERCHANT, CONSUMER, LINK }

/** A scanned code as the core read it, and whether this wallet can pay it ([reason] says why). */
data class MerchantInfo(
    val kind: QrKind,
    val payable: Boolean,
    val reason: String,
    val scheme: CardScheme?,
    val networks: List<String>,
    val name: String?,
    val city: String?,
    val currency: Int?,
    val amountMinor: Long?,
)

/** The answers of the provisioning server, step by step. */
sealed interface ProvisioningResult {
    data class TermsRequired(val provisioningId: String, val text: String, val url: String?) : ProvisioningResult

    data class OtpRequired(val provisioningId: String, val destinationHint: String) : ProvisioningResult

    data class Active(val card: CardItem) : ProvisioningResult

    data class Declined(val reason: String) : ProvisioningResult
}

/** Failures as the screens tell them apart; [detail] never contains a secret. */
sealed interface AppError {
    val detail: String

    /** Biometric enrolment changed (or the Keystore lost the key): the cards must be added again. */
    data class KeysInvalidated(override val detail: String) : AppError

    data class DeviceLocked(override val detail: String) : AppError

    data class Network(override val detail: String) : AppError

    data class Declined(override val detail: String) : AppError

    data class InvalidInput(override val detail: String) : AppError

    /** The one-time password was wrong; [attemptsLeft] more may be tried. */
    data class OtpRejected(val attemptsLeft: Int) : AppError {
        override val detail: String get() = "attempts left: $attemptsLeft"
    }

    /** For example paying before unlock_for_payment, or no single-use keys left. */
    data class NotNow(override val detail: String) : AppError

    data class Other(override val detail: String) : AppError
}

/** The result of one repository call, delivered on the main thread. */
sealed interface Outcome<out T> {
    data class Ok<T>(val value: T) : Outcome<T>

    data class Failed(val error: AppError) : Outcome<Nothing>
}
