package org.walletcore.app.logic

/**
 * The pay screen as a reducer: authentication opens a payment window (unlock_for_payment); inside
 * it the phone answers taps ("hold near reader") and can show a payment QR, refreshed just before
 * each code expires. Time comes in through events, so all of it is testable without a clock.
 */
data class PayState(
    val auth: Auth = Auth.Locked,
    val qr: Qr = Qr.Hidden,
    /** The user asked for a QR before authenticating: show it once unlocked. */
    val qrWanted: Boolean = false,
    val lastTap: TapInfo? = null,
    val problem: AppError? = null,
) {
    sealed interface Auth {
        data object Locked : Auth

        data object Authenticating : Auth

        data class Unlocked(val untilMs: Long) : Auth
    }

    sealed interface Qr {
        data object Hidden : Qr

        data object Loading : Qr

        data class Shown(val code: QrCode, val shownAtMs: Long) : Qr
    }
}

sealed interface PayEvent {
    data object AuthRequested : PayEvent

    /** The core opened the payment window until [untilMs] (what unlock_for_payment returned). */
    data class Unlocked(val untilMs: Long) : PayEvent

    data class AuthFailed(val problem: AppError?) : PayEvent

    data object QrRequested : PayEvent

    data class QrLoaded(val code: QrCode, val nowMs: Long) : PayEvent

    data class QrFailed(val problem: AppError) : PayEvent

    data object QrClosed : PayEvent

    data class Tick(val nowMs: Long) : PayEvent

    data class TapCompleted(val tap: TapInfo) : PayEvent
}

/** What the screen must do besides redrawing. */
sealed interface PayEffect {
    data object StartAuthentication : PayEffect

    data object LoadQr : PayEffect
}

class PayStep(val state: PayState, val effects: List<PayEffect> = emptyList())

/** Derived, ready-to-draw values. */
data class PayView(
    val holdNearReader: Boolean,
    val unlockSecondsLeft: Int,
    val showQr: Boolean,
    val qrSecondsLeft: Int,
    /** Remaining fraction of the QR's validity, 1.0 when fresh, 0.0 when expired. */
    val qrRemaining: Float,
    val canAuthenticate: Boolean,
)

object PayReducer {
    /** Fetch the next code this long before the current one expires, so the screen never shows a dead code. */
    const val QR_REFRESH_LEAD_MS = 1_000L

    /** How long one authentication lets the phone pay (passed to unlock_for_payment). */
    const val PAYMENT_WINDOW_SECONDS = 60

    fun reduce(state: PayState, event: PayEvent): PayStep =
        when (event) {
            PayEvent.AuthRequested ->
                if (state.auth == PayState.Auth.Authenticating) {
                    PayStep(state)
                } else {
                    PayStep(state.copy(auth = PayState.Auth.Authenticating, problem = null), listOf(PayEffect.StartAuthentication))
                }
            is PayEvent.Unlocked -> {
                val unlocked = state.copy(
                    auth = PayState.Auth.Unlocked(event.untilMs),
                    problem = null,
                )
                if (state.qrWanted) {
                    PayStep(unlocked.copy(qr = PayState.Qr.Loading, qrWanted = false), listOf(PayEffect.LoadQr))
                } else {
                    PayStep(unlocked)
                }
            }
            is PayEvent.AuthFailed -> PayStep(state.copy(auth = PayState.Auth.Locked, qrWanted = false, problem = event.problem))
            PayEvent.QrRequested ->
                when {
                    state.auth is PayState.Auth.Unlocked ->
                        PayStep(state.copy(qr = PayState.Qr.Loading), listOf(PayEffect.LoadQr))
                    state.auth == PayState.Auth.Authenticating -> PayStep(state.copy(qrWanted = true))
                    else -> PayStep(
                        state.copy(auth = PayState.Auth.Authenticating, qrWanted = true, problem = null),
                        listOf(PayEffect.StartAuthentication),
                    )
                }
            is PayEvent.QrLoaded ->
                if (state.auth is PayState.Auth.Unlocked && state.qr == PayState.Qr.Loading) {
                    PayStep(state.copy(qr = PayState.Qr.Shown(event.code, event.nowMs)))
                } else {
                    PayStep(state) // arrived after the window closed or the user closed the code
                }
            is PayEvent.QrFailed -> PayStep(state.copy(qr = PayState.Qr.Hidden, problem = event.problem))
            PayEvent.QrClosed -> PayStep(state.copy(qr = PayState.Qr.Hidden, qrWanted = false))
            is PayEvent.Tick -> tick(state, event.nowMs)
            is PayEvent.TapCompleted -> PayStep(state.copy(lastTap = event.tap))
        }

    private fun tick(state: PayState, now: Long): PayStep {
        val auth = state.auth
        if (auth is PayState.Auth.Unlocked && now >= auth.untilMs) {
            // The window is over: the core stops answering as "CDCVM performed" and any code on
            // screen would be refused, so hide it.
            return PayStep(state.copy(auth = PayState.Auth.Locked, qr = PayState.Qr.Hidden))
        }
        val qr = state.qr
        if (qr is PayState.Qr.Shown && now >= qr.code.validUntilMs - QR_REFRESH_LEAD_MS) {
            return PayStep(state.copy(qr = PayState.Qr.Loading), listOf(PayEffect.LoadQr))
        }
        return PayStep(state)
    }

    fun view(state: PayState, now: Long): PayView {
        val auth = state.auth
        val unlockedLeft = if (auth is PayState.Auth.Unlocked) secondsLeft(auth.untilMs, now) else 0
        val qr = state.qr
        val (qrLeft, remaining) =
            if (qr is PayState.Qr.Shown) {
                val total = (qr.code.validUntilMs - qr.shownAtMs).coerceAtLeast(1)
                val left = (qr.code.validUntilMs - now).coerceIn(0, total)
                secondsLeft(qr.code.validUntilMs, now) to left.toFloat() / total
            } else {
                0 to 0f
            }
        return PayView(
            holdNearReader = unlockedLeft > 0,
            unlockSecondsLeft = unlockedLeft,
            showQr = qr is PayState.Qr.Shown,
            qrSecondsLeft = qrLeft,
            qrRemaining = remaining,
            canAuthenticate = auth == PayState.Auth.Locked,
        )
    }

    /** Whole seconds still left, rounded up (a window with 200 ms left shows "1 s"). */
    fun secondsLeft(untilMs: Long, now: Long): Int = if (now >= untilMs) 0 else ((untilMs - now + 999) / 1_000).toInt()
}
