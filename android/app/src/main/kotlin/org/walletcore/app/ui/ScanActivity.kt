package org.walletcore.app.ui

import android.app.Activity
import android.content.ClipboardManager
import android.content.Intent
import android.os.Bundle
import android.view.View
import android.widget.Button
import android.widget.EditText
import android.widget.TextView
import org.walletcore.app.R
import org.walletcore.app.logic.MerchantInfo
import org.walletcore.app.logic.Money
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.QrKind
import org.walletcore.app.repository

/**
 * Pay a merchant-presented code. The app has no camera code of its own: a scanner app shares the
 * decoded text here (ACTION_SEND text/plain), or the user pastes it. The core reads it (EMVCo MPM
 * with its CRC, or China's URL codes), says whether this wallet can pay it, and pays it after
 * cardholder verification.
 */
class ScanActivity : Activity() {
    private lateinit var code: EditText
    private lateinit var amount: EditText
    private lateinit var pay: Button
    private lateinit var result: TextView
    private lateinit var cdcvm: Cdcvm

    /** The code the details on screen belong to. */
    private var parsed: Pair<String, MerchantInfo>? = null

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_scan)
        applySystemBarInsets(findViewById(R.id.root))
        code = find(R.id.code)
        amount = find(R.id.amount)
        pay = find(R.id.pay)
        result = find(R.id.result)
        cdcvm = Cdcvm(this, repository)
        find<Button>(R.id.paste).setOnClickListener {
            val clip = getSystemService(ClipboardManager::class.java)?.primaryClip
            if (clip != null && clip.itemCount > 0) {
                code.setText(clip.getItemAt(0).coerceToText(this))
                read(code.text.toString())
            }
        }
        find<Button>(R.id.read).setOnClickListener { read(code.text.toString()) }
        pay.setOnClickListener { pay() }
        handle(intent)
    }

    override fun onNewIntent(intent: Intent) {
        super.onNewIntent(intent)
        setIntent(intent)
        handle(intent)
    }

    override fun onPause() {
        cdcvm.cancel()
        super.onPause()
    }

    private fun handle(intent: Intent) {
        if (intent.action != Intent.ACTION_SEND || intent.type != "text/plain") return
        val text = intent.getStringExtra(Intent.EXTRA_TEXT) ?: return
        code.setText(text)
        read(text)
    }

    private fun read(text: String) {
        val trimmed = text.trim()
        parsed = null
        show(null)
        if (trimmed.isEmpty()) return
        repository.scanQr(trimmed) { outcome ->
            when (outcome) {
                is Outcome.Ok -> {
                    parsed = trimmed to outcome.value
                    show(outcome.value)
                }
                is Outcome.Failed -> result.text = describe(outcome.error)
            }
        }
    }

    private fun show(info: MerchantInfo?) {
        val merchant = find<TextView>(R.id.merchant)
        val networks = find<TextView>(R.id.networks)
        result.text = ""
        if (info == null) {
            merchant.text = ""
            networks.text = ""
            amount.visibility = View.GONE
            pay.visibility = View.GONE
            return
        }
        val name = info.name ?: getString(R.string.scan_unknown_merchant)
        merchant.text =
            when (info.kind) {
                QrKind.MERCHANT -> if (info.city != null) getString(R.string.scan_merchant, name, info.city) else name
                QrKind.CONSUMER -> getString(R.string.scan_kind_cpm)
                QrKind.LINK -> info.name ?: getString(R.string.scan_kind_link)
            }
        networks.text =
            listOfNotNull(
                info.networks.takeIf { it.isNotEmpty() }?.let { getString(R.string.scan_networks, it.joinToString()) },
                info.amountMinor?.let { getString(R.string.scan_fixed_amount, amount(it, info.currency)) },
            ).joinToString("\n")
        if (!info.payable) result.text = getString(R.string.scan_not_payable, info.reason)
        amount.visibility = if (info.payable && info.amountMinor == null) View.VISIBLE else View.GONE
        pay.visibility = if (info.payable) View.VISIBLE else View.GONE
    }

    private fun pay() {
        val (text, info) = parsed ?: return
        // A code with its own amount is paid as it stands; otherwise the user's amount goes along.
        val typed = if (info.amountMinor == null) Money.parse(amount.text, info.currency ?: CNY) else null
        if (info.amountMinor == null && typed == null) {
            amount.error = getString(R.string.scan_bad_amount)
            return
        }
        pay.isEnabled = false
        cdcvm.start { verified ->
            when (verified) {
                is CdcvmResult.Unlocked ->
                    repository.payQr(text, null, typed) { outcome ->
                        pay.isEnabled = true
                        result.text = when (outcome) {
                            is Outcome.Ok -> {
                                val txn = outcome.value
                                val paid = txn.amountMinor ?: typed ?: info.amountMinor
                                if (paid == null) getString(R.string.pay_tap_done) else getString(R.string.pay_done, amount(paid, txn.currency ?: info.currency))
                            }
                            is Outcome.Failed -> describe(outcome.error)
                        }
                    }
                CdcvmResult.Cancelled -> pay.isEnabled = true
                is CdcvmResult.Failed -> {
                    pay.isEnabled = true
                    result.text = describe(verified.error)
                }
            }
        }
    }

}
