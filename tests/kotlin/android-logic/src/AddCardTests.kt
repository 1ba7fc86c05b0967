package org.walletcore.app.logic.tests

import java.time.YearMonth
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertIs
import kotlin.test.assertTrue
import org.walletcore.app.logic.AddCardEvent
import org.walletcore.app.logic.AddCardFlow
import org.walletcore.app.logic.AddCardForm
import org.walletcore.app.logic.AddCardStep
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.CardItem
import org.walletcore.app.logic.CardScheme
import org.walletcore.app.logic.CardState
import org.walletcore.app.logic.ProvisioningResult

private val card = CardItem("c1", CardScheme.VISA, "Visa", "1111", "2712", true, CardState.ACTIVE, 10)

fun addCardTests() = suite("AddCard") {
    val today = YearMonth.of(2026, 11)
    test("the form can be submitted only with a valid supported PAN, expiry and name") {
        assertTrue(AddCardForm.of("4111111111111111".toCharArray(), "12/27", "LI LEI", today).canSubmit)
        assertFalse(AddCardForm.of("4111111111111112".toCharArray(), "12/27", "LI LEI", today).canSubmit)
        assertFalse(AddCardForm.of("378282246310005".toCharArray(), "12/27", "LI LEI", today).canSubmit)
        assertFalse(AddCardForm.of("4111111111111111".toCharArray(), "10/26", "LI LEI", today).canSubmit)
        assertFalse(AddCardForm.of("4111111111111111".toCharArray(), "12/27", " ", today).canSubmit)
        assertFalse(AddCardForm.of("4111111111111111".toCharArray(), "12/27", "X".repeat(27), today).canSubmit)
    }
    test("details -> terms -> OTP -> done") {
        var s: AddCardStep = AddCardStep.Entry
        s = AddCardFlow.reduce(s, AddCardEvent.Submit)
        assertEquals(AddCardStep.Working, s)
        s = AddCardFlow.reduce(s, AddCardEvent.Answer(ProvisioningResult.TermsRequired("p1", "terms", null)))
        assertIs<AddCardStep.Terms>(s)
        s = AddCardFlow.reduce(s, AddCardEvent.AcceptTerms)
        s = AddCardFlow.reduce(s, AddCardEvent.Answer(ProvisioningResult.OtpRequired("p1", "SMS to ••••1234")))
        assertEquals(AddCardStep.Otp("p1", "SMS to ••••1234", 0), s)
        val otp = s
        s = AddCardFlow.reduce(s, AddCardEvent.SubmitOtp)
        s = AddCardFlow.reduce(s, AddCardEvent.Answer(ProvisioningResult.Active(card)), pending = otp)
        assertEquals(AddCardStep.Done(card), s)
    }
    test("the server asking for the OTP again counts a wrong code") {
        val otp = AddCardStep.Otp("p1", "SMS", 0)
        val working = AddCardFlow.reduce(otp, AddCardEvent.SubmitOtp)
        val again = AddCardFlow.reduce(working, AddCardEvent.Answer(ProvisioningResult.OtpRequired("p1", "SMS")), pending = otp)
        assertEquals(1, (again as AddCardStep.Otp).wrongTries)
    }
    test("an OtpRejected error asks for the code again with the attempts left") {
        val otp = AddCardStep.Otp("p1", "SMS", 0)
        val working = AddCardFlow.reduce(otp, AddCardEvent.SubmitOtp)
        val again = AddCardFlow.reduce(working, AddCardEvent.Error(AppError.OtpRejected(2)), pending = otp)
        assertEquals(AddCardStep.Otp("p1", "SMS", wrongTries = 1, attemptsLeft = 2), again)
    }
    test("declined and failed steps; dismissing goes back where a retry makes sense") {
        val declined = AddCardFlow.reduce(AddCardStep.Working, AddCardEvent.Answer(ProvisioningResult.Declined("card not eligible")))
        assertEquals(AddCardStep.Declined("card not eligible"), declined)
        assertEquals(AddCardStep.Entry, AddCardFlow.reduce(declined, AddCardEvent.Dismiss))
        val otp = AddCardStep.Otp("p1", "SMS")
        val failed = AddCardFlow.reduce(AddCardStep.Working, AddCardEvent.Error(AppError.Network("timeout")), pending = otp)
        assertIs<AddCardStep.Failed>(failed)
        assertEquals(otp, AddCardFlow.reduce(failed, AddCardEvent.Dismiss))
    }
    test("events that do not apply change nothing: no double submission, no late answers") {
        assertEquals(AddCardStep.Working, AddCardFlow.reduce(AddCardStep.Working, AddCardEvent.Submit))
        val terms = AddCardStep.Terms("p1", "t", null)
        assertEquals(terms, AddCardFlow.reduce(terms, AddCardEvent.Answer(ProvisioningResult.Declined("late"))))
        assertEquals(AddCardStep.Entry, AddCardFlow.reduce(AddCardStep.Entry, AddCardEvent.SubmitOtp))
        assertEquals(AddCardStep.Entry, AddCardFlow.reduce(terms, AddCardEvent.DeclineTerms))
    }
}
