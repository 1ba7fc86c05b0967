package org.walletcore.app.logic.tests

import kotlin.test.assertEquals
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.PayEffect
import org.walletcore.app.logic.PayEvent
import org.walletcore.app.logic.PayReducer
import org.walletcore.app.logic.PayState
import org.walletcore.app.logic.QrCode
import org.walletcore.app.logic.TapInfo

private fun code(validUntil: Long) = QrCode("hQVDUFYwMQ==", 21, ByteArray(441), validUntil)

private fun PayState.then(vararg events: PayEvent): Pair<PayState, List<PayEffect>> {
    var s = this
    val effects = mutableListOf<PayEffect>()
    for (e in events) {
        val step = PayReducer.reduce(s, e)
        s = step.state
        effects += step.effects
    }
    return s to effects
}

fun payScreenTests() = suite("PayScreen") {
    test("authenticating opens the payment window: hold near reader with a countdown") {
        val (s, fx) = PayState().then(PayEvent.AuthRequested, PayEvent.Unlocked(untilMs = 70_000))
        assertEquals(listOf<PayEffect>(PayEffect.StartAuthentication), fx)
        val v = PayReducer.view(s, 10_000)
        assertTrue(v.holdNearReader)
        assertEquals(60, v.unlockSecondsLeft)
        assertEquals(1, PayReducer.view(s, 69_001).unlockSecondsLeft) // rounds up
    }
    test("the window closes on the tick at its end and hides the code") {
        val (s, _) = PayState().then(
            PayEvent.AuthRequested, PayEvent.Unlocked(60_000), PayEvent.QrRequested, PayEvent.QrLoaded(code(30_000), 0),
            PayEvent.Tick(60_000),
        )
        assertEquals(PayState.Auth.Locked, s.auth)
        assertEquals(PayState.Qr.Hidden, s.qr)
        val v = PayReducer.view(s, 60_000)
        assertTrue(!v.holdNearReader && !v.showQr && v.canAuthenticate)
    }
    test("asking for a QR while locked authenticates first, then loads it") {
        val (s1, fx1) = PayState().then(PayEvent.QrRequested)
        assertEquals(listOf<PayEffect>(PayEffect.StartAuthentication), fx1)
        val (s2, fx2) = s1.then(PayEvent.Unlocked(60_000))
        assertEquals(listOf<PayEffect>(PayEffect.LoadQr), fx2)
        assertEquals(PayState.Qr.Loading, s2.qr)
    }
    test("a double tap on authenticate starts one prompt") {
        val (_, fx) = PayState().then(PayEvent.AuthRequested, PayEvent.AuthRequested, PayEvent.QrRequested)
        assertEquals(1, fx.count { it == PayEffect.StartAuthentication })
    }
    test("the QR refreshes once, just before it expires, with a countdown") {
        val (shown, _) = PayState().then(PayEvent.Unlocked(120_000), PayEvent.QrRequested, PayEvent.QrLoaded(code(30_000), 0))
        val v = PayReducer.view(shown, 15_000)
        assertEquals(15, v.qrSecondsLeft)
        assertEquals(0.5f, v.qrRemaining)
        val (s1, fx1) = shown.then(PayEvent.Tick(28_000))
        assertTrue(fx1.isEmpty())
        val (s2, fx2) = s1.then(PayEvent.Tick(29_000))
        assertEquals(listOf<PayEffect>(PayEffect.LoadQr), fx2)
        val (s3, fx3) = s2.then(PayEvent.Tick(29_500))
        assertTrue(fx3.isEmpty(), "no second request while loading")
        val (s4, _) = s3.then(PayEvent.QrLoaded(code(60_000), 29_600))
        assertEquals(30, PayReducer.view(s4, 30_000).qrSecondsLeft)
    }
    test("a code that arrives after the window closed is dropped") {
        val (s, _) = PayState().then(PayEvent.Unlocked(10_000), PayEvent.QrRequested, PayEvent.Tick(10_000), PayEvent.QrLoaded(code(40_000), 10_001))
        assertEquals(PayState.Qr.Hidden, s.qr)
    }
    test("a failed or cancelled authentication leaves the wallet locked with the reason") {
        val (s, _) = PayState().then(PayEvent.QrRequested, PayEvent.AuthFailed(AppError.KeysInvalidated("enrolment changed")))
        assertEquals(PayState.Auth.Locked, s.auth)
        assertIs<AppError.KeysInvalidated>(s.problem)
        val (s2, fx) = s.then(PayEvent.Unlocked(60_000))
        assertTrue(fx.isEmpty(), "the cancelled QR request is not replayed")
        assertEquals(null, s2.problem)
    }
    test("a completed tap is shown with its amount, or without one") {
        val (s, _) = PayState().then(PayEvent.TapCompleted(TapInfo("c1", 1234, 156)), PayEvent.TapCompleted(TapInfo("c1", null, null)))
        assertEquals(TapInfo("c1", null, null), s.lastTap)
    }
    test("secondsLeft rounds up and never goes negative") {
        assertEquals(0, PayReducer.secondsLeft(1_000, 1_000))
        assertEquals(0, PayReducer.secondsLeft(1_000, 5_000))
        assertEquals(1, PayReducer.secondsLeft(1_000, 999))
    }
}
