package org.walletcore.app.logic

import java.time.YearMonth

/** Whether the add-card form may be submitted, and what to say about each field. */
data class AddCardForm(val pan: PanCheck, val expiry: ExpiryCheck, val nameOk: Boolean) {
    val canSubmit: Boolean get() = pan is PanCheck.Valid && expiry is ExpiryCheck.Valid && nameOk

    companion object {
        const val MAX_NAME = 26 // EMV cardholder name (5F20) holds 2..26 characters

        /** The caller wipes [panDigits]. */
        fun of(panDigits: CharArray, expiryText: CharSequence, name: CharSequence, today: YearMonth, submitted: Boolean = false) =
            AddCardForm(
                pan = CardNumber.check(panDigits, submitted),
                expiry = ExpiryInput.check(expiryText, today),
                nameOk = name.trim().length in 2..MAX_NAME,
            )
    }
}

/** Provisioning as the user lives it: details, terms, one-time password, done. */
sealed interface AddCardStep {
    data object Entry : AddCardStep

    data object Working : AddCardStep

    data class Terms(val provisioningId: String, val text: String, val url: String?) : AddCardStep

    data class Otp(
        val provisioningId: String,
        val destinationHint: String,
        val wrongTries: Int = 0,
        val attemptsLeft: Int? = null,
    ) : AddCardStep

    data class Done(val card: CardItem) : AddCardStep

    data class Declined(val reason: String) : AddCardStep

    data class Failed(val error: AppError, val retry: AddCardStep) : AddCardStep
}

sealed interface AddCardEvent {
    data object Submit : AddCardEvent

    data object AcceptTerms : AddCardEvent

    data object DeclineTerms : AddCardEvent

    data object SubmitOtp : AddCardEvent

    data class Answer(val result: ProvisioningResult) : AddCardEvent

    data class Error(val error: AppError) : AddCardEvent

    data object Dismiss : AddCardEvent
}

object AddCardFlow {
    /**
     * The next step, or the same one when the event does not apply (a double tap on a button, a
     * late answer): every request goes out at most once per step.
     */
    fun reduce(step: AddCardStep, event: AddCardEvent, pending: AddCardStep? = null): AddCardStep =
        when (event) {
            AddCardEvent.Submit -> if (step == AddCardStep.Entry) AddCardStep.Working else step
            AddCardEvent.AcceptTerms -> if (step is AddCardStep.Terms) AddCardStep.Working else step
            AddCardEvent.DeclineTerms -> if (step is AddCardStep.Terms) AddCardStep.Entry else step
            AddCardEvent.SubmitOtp -> if (step is AddCardStep.Otp) AddCardStep.Working else step
            is AddCardEvent.Answer -> if (step == AddCardStep.Working) answer(event.result, pending) else step
            is AddCardEvent.Error ->
                when {
                    step != AddCardStep.Working -> step
                    // A wrong code is part of the flow, not a failure: ask again, say so.
                    event.error is AppError.OtpRejected && pending is AddCardStep.Otp ->
                        pending.copy(wrongTries = pending.wrongTries + 1, attemptsLeft = event.error.attemptsLeft)
                    else -> AddCardStep.Failed(event.error, pending ?: AddCardStep.Entry)
                }
            AddCardEvent.Dismiss ->
                when (step) {
                    is AddCardStep.Failed -> step.retry
                    is AddCardStep.Declined -> AddCardStep.Entry
                    else -> step
                }
        }

    private fun answer(result: ProvisioningResult, previous: AddCardStep?): AddCardStep =
        when (result) {
            is ProvisioningResult.TermsRequired -> AddCardStep.Terms(result.provisioningId, result.text, result.url)
            is ProvisioningResult.OtpRequired -> {
                // The server asking again for the same provisioning means the last code was wrong.
                if (previous is AddCardStep.Otp && previous.provisioningId == result.provisioningId) {
                    previous.copy(wrongTries = previous.wrongTries + 1)
                } else {
                    AddCardStep.Otp(result.provisioningId, result.destinationHint)
                }
            }
            is ProvisioningResult.Active -> AddCardStep.Done(result.card)
            is ProvisioningResult.Declined -> AddCardStep.Declined(result.reason)
        }
}
