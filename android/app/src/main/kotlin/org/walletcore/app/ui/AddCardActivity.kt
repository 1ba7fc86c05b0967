package org.walletcore.app.ui

import android.app.Activity
import android.app.AlertDialog
import android.os.Bundle
import android.text.Editable
import android.text.TextWatcher
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import java.nio.CharBuffer
import java.time.YearMonth
import org.walletcore.app.R
import org.walletcore.app.logic.AddCardEvent
import org.walletcore.app.logic.AddCardFlow
import org.walletcore.app.logic.AddCardForm
import org.walletcore.app.logic.AddCardStep
import org.walletcore.app.logic.CardNumber
import org.walletcore.app.logic.ExpiryCheck
import org.walletcore.app.logic.ExpiryInput
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.PanCheck
import org.walletcore.app.logic.ProvisioningResult
import org.walletcore.app.logic.toCharArrayNoString
import org.walletcore.app.logic.wipe
import org.walletcore.app.repository

/**
 * Card details -> terms -> one-time password -> card ready. The card number is read out of the
 * field into a CharArray, handed to the repository (which wipes it) and the field is overwritten;
 * it never becomes a String.
 */
class AddCardActivity : Activity() {
    private lateinit var pan: EditText
    private lateinit var expiry: EditText
    private lateinit var name: EditText
    private lateinit var otp: EditText
    private lateinit var submit: Button
    private lateinit var status: TextView

    private var step: AddCardStep = AddCardStep.Entry

    /** The step the request in flight was sent from: where a retry goes back to. */
    private var sentFrom: AddCardStep? = null
    private var reformatting = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        secureWindow()
        setContentView(R.layout.activity_add_card)
        applySystemBarInsets(findViewById(R.id.root))
        pan = find(R.id.pan)
        expiry = find(R.id.expiry)
        name = find(R.id.name)
        otp = find(R.id.otp)
        submit = find(R.id.submit)
        status = find(R.id.status)

        pan.afterTextChanged { text ->
            if (reformatting) return@afterTextChanged
            val r = CardNumber.reformat(text, pan.selectionEnd)
            if (!sameChars(text, r.chars)) {
                reformatting = true
                text.replace(0, text.length, CharBuffer.wrap(r.chars))
                pan.setSelection(minOf(r.cursor, text.length))
                reformatting = false
            }
            r.chars.wipe()
            validate(submitted = false)
        }
        expiry.addTextChangedListener(object : TextWatcher {
            private var inserting = false

            override fun beforeTextChanged(s: CharSequence, start: Int, count: Int, after: Int) {
                inserting = after > count
            }

            override fun onTextChanged(s: CharSequence, start: Int, before: Int, count: Int) = Unit

            override fun afterTextChanged(s: Editable) {
                if (reformatting) return
                val formatted = ExpiryInput.autoFormat(s, inserting)
                if (formatted != s.toString()) {
                    reformatting = true
                    s.replace(0, s.length, formatted)
                    reformatting = false
                }
                validate(submitted = false)
            }
        })
        name.afterTextChanged { validate(submitted = false) }
        submit.setOnClickListener { submitDetails() }
        find<Button>(R.id.otp_submit).setOnClickListener { submitOtp() }
        render()
    }

    override fun onDestroy() {
        wipe(pan)
        wipe(otp)
        super.onDestroy()
    }

    private fun validate(submitted: Boolean): AddCardForm {
        val digits = CardNumber.digits(pan.text) ?: CharArray(0)
        val form = AddCardForm.of(digits, expiry.text, name.text, YearMonth.now(), submitted)
        digits.wipe()
        find<TextView>(R.id.pan_status).text =
            when (val p = form.pan) {
                PanCheck.Empty -> getString(R.string.pan_status_empty)
                is PanCheck.Incomplete -> getString(R.string.pan_status_incomplete)
                is PanCheck.Valid -> getString(R.string.pan_status_valid, schemeName(p.scheme))
                is PanCheck.BadChecksum -> getString(R.string.pan_status_bad_checksum)
                is PanCheck.Unsupported -> getString(R.string.pan_status_unsupported)
                PanCheck.TooLong -> getString(R.string.pan_status_too_long)
            }
        find<TextView>(R.id.expiry_status).text =
            when (form.expiry) {
                is ExpiryCheck.Valid, ExpiryCheck.Incomplete -> if (submitted && form.expiry !is ExpiryCheck.Valid) getString(R.string.expiry_error) else ""
                ExpiryCheck.Expired -> getString(R.string.expiry_expired)
                else -> getString(R.string.expiry_error)
            }
        name.error = if (submitted && !form.nameOk) getString(R.string.name_error) else null
        submit.isEnabled = form.canSubmit && step == AddCardStep.Entry
        return form
    }

    private fun submitDetails() {
        val form = validate(submitted = true)
        val valid = form.expiry as? ExpiryCheck.Valid
        if (!form.canSubmit || valid == null) return
        val digits = CardNumber.digits(pan.text) ?: return
        go(AddCardEvent.Submit)
        repository.addCard(digits, valid.expiry, name.text.trim().toString(), ::answered)
        wipe(pan)
    }

    private fun submitOtp() {
        val code = otp.text.toCharArrayNoString()
        if (code.isEmpty()) return
        go(AddCardEvent.SubmitOtp)
        val id = (sentFrom as? AddCardStep.Otp)?.provisioningId ?: return code.wipe()
        repository.submitOtp(id, code, ::answered)
        wipe(otp)
    }

    private fun answered(outcome: Outcome<ProvisioningResult>) =
        when (outcome) {
            is Outcome.Ok -> go(AddCardEvent.Answer(outcome.value))
            is Outcome.Failed -> go(AddCardEvent.Error(outcome.error))
        }

    private fun go(event: AddCardEvent) {
        val before = step
        step = AddCardFlow.reduce(step, event, sentFrom)
        if (step == AddCardStep.Working && before != AddCardStep.Working) sentFrom = before
        render()
    }

    private fun render() {
        find<View>(R.id.progress).visibility = if (step == AddCardStep.Working) View.VISIBLE else View.GONE
        find<View>(R.id.otp_section).visibility = if (step is AddCardStep.Otp) View.VISIBLE else View.GONE
        submit.isEnabled = step == AddCardStep.Entry && validate(submitted = false).canSubmit
        status.text = ""
        when (val s = step) {
            AddCardStep.Entry -> Unit
            AddCardStep.Working -> status.setText(R.string.add_card_working)
            is AddCardStep.Terms ->
                AlertDialog.Builder(this)
                    .setTitle(R.string.terms_title)
                    .setMessage(s.text + (s.url?.let { "\n\n$it" } ?: ""))
                    .setCancelable(false)
                    .setPositiveButton(R.string.terms_accept) { _, _ ->
                        go(AddCardEvent.AcceptTerms)
                        repository.acceptTerms(s.provisioningId, ::answered)
                    }
                    .setNegativeButton(R.string.terms_decline) { _, _ -> go(AddCardEvent.DeclineTerms) }
                    .show()
            is AddCardStep.Otp -> {
                val wrong = if (s.wrongTries > 0) getString(R.string.otp_wrong) + "\n" else ""
                val left = s.attemptsLeft?.let { getString(R.string.otp_attempts_left, it) + "\n" } ?: ""
                find<TextView>(R.id.otp_prompt).text = wrong + left + getString(R.string.otp_prompt, s.destinationHint)
            }
            is AddCardStep.Done -> {
                toast(getString(R.string.add_card_done, s.card.label.ifBlank { schemeName(s.card.scheme) }))
                finish()
            }
            is AddCardStep.Declined -> {
                status.text = getString(R.string.add_card_declined, s.reason)
                step = AddCardFlow.reduce(step, AddCardEvent.Dismiss)
                submit.isEnabled = false
            }
            is AddCardStep.Failed ->
                AlertDialog.Builder(this)
                    .setMessage(describe(s.error))
                    .setCancelable(false)
                    .setPositiveButton(R.string.action_ok) { _, _ -> go(AddCardEvent.Dismiss) }
                    .show()
        }
    }

    private fun sameChars(text: CharSequence, chars: CharArray): Boolean {
        if (text.length != chars.size) return false
        for (i in chars.indices) if (text[i] != chars[i]) return false
        return true
    }

    /** Overwrites the field's buffer before clearing it, so the digits do not linger in memory. */
    private fun wipe(field: EditText) {
        val text = field.text ?: return
        reformatting = true
        text.replace(0, text.length, CharBuffer.wrap(CharArray(text.length) { '0' }))
        text.clear()
        reformatting = false
    }
}
