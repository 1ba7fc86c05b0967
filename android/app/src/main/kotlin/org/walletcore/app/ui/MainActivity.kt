package org.walletcore.app.ui

import android.app.Activity
import android.app.AlertDialog
import android.content.Intent
import android.os.Bundle
import android.view.View
import android.view.ViewGroup
import android.widget.BaseAdapter
import android.widget.Button
import android.widget.ListView
import android.widget.TextView
import org.walletcore.app.R
import org.walletcore.app.logic.AppError
import org.walletcore.app.logic.CardItem
import org.walletcore.app.logic.CardNumber
import org.walletcore.app.logic.CardState
import org.walletcore.app.logic.Outcome
import org.walletcore.app.repository

/** The card list, with the default card marked, and the way to everything else. */
class MainActivity : Activity() {
    private val cards = CardAdapter()
    private var keysInvalidated = false

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_main)
        applySystemBarInsets(findViewById(R.id.root))
        val list = find<ListView>(R.id.card_list)
        list.adapter = cards
        list.emptyView = findViewById(R.id.card_empty)
        list.setOnItemClickListener { _, _, position, _ -> cardActions(cards.getItem(position)) }
        open(R.id.add_card, AddCardActivity::class.java)
        open(R.id.pay, PayActivity::class.java)
        open(R.id.scan, ScanActivity::class.java)
        open(R.id.history, HistoryActivity::class.java)
        open(R.id.settings, SettingsActivity::class.java)
    }

    override fun onResume() {
        super.onResume()
        refresh()
    }

    private fun open(button: Int, screen: Class<out Activity>) =
        find<Button>(button).setOnClickListener { startActivity(Intent(this, screen)) }

    private fun refresh() {
        repository.cards { outcome ->
            when (outcome) {
                is Outcome.Ok -> {
                    keysInvalidated = false
                    cards.items = outcome.value
                }
                is Outcome.Failed -> {
                    keysInvalidated = outcome.error is AppError.KeysInvalidated
                    if (!keysInvalidated) toast(describe(outcome.error))
                }
            }
            updateBanner()
        }
    }

    /** The most important thing standing between the user and a tap, with the fix one press away. */
    private fun updateBanner() {
        val banner = find<View>(R.id.banner)
        val text = find<TextView>(R.id.banner_text)
        val action = find<Button>(R.id.banner_action)
        banner.visibility = View.VISIBLE
        action.visibility = View.VISIBLE
        when {
            keysInvalidated -> {
                text.setText(R.string.keys_invalidated)
                action.setText(R.string.keys_invalidated_reset)
                action.setOnClickListener { repository.resetAfterKeysInvalidated { refresh() } }
            }
            else -> when (tapReadiness()) {
                TapReadiness.NO_NFC -> {
                    text.setText(R.string.nfc_missing)
                    action.visibility = View.GONE
                }
                TapReadiness.NFC_OFF -> {
                    text.setText(R.string.nfc_off)
                    action.setText(R.string.nfc_turn_on)
                    action.setOnClickListener { openNfcSettings() }
                }
                TapReadiness.NOT_DEFAULT -> {
                    text.setText(R.string.not_default_app)
                    action.setText(R.string.make_default)
                    action.setOnClickListener { requestDefaultPaymentApp() }
                }
                TapReadiness.READY -> banner.visibility = View.GONE
            }
        }
    }

    private fun cardActions(card: CardItem) {
        AlertDialog.Builder(this)
            .setTitle(getString(R.string.card_actions_title, card.label))
            .setItems(arrayOf(getString(R.string.card_make_default), getString(R.string.card_remove))) { _, which ->
                if (which == 0) {
                    repository.setDefault(card.id) { done(it) }
                } else {
                    AlertDialog.Builder(this)
                        .setMessage(R.string.card_remove_confirm)
                        .setPositiveButton(R.string.card_remove) { _, _ -> repository.removeCard(card.id) { done(it) } }
                        .setNegativeButton(R.string.action_cancel, null)
                        .show()
                }
            }
            .show()
    }

    private fun done(outcome: Outcome<Unit>) {
        if (outcome is Outcome.Failed) toast(describe(outcome.error))
        refresh()
    }

    private inner class CardAdapter : BaseAdapter() {
        var items: List<CardItem> = emptyList()
            set(value) {
                field = value
                notifyDataSetChanged()
            }

        override fun getCount() = items.size

        override fun getItem(position: Int) = items[position]

        override fun getItemId(position: Int) = position.toLong()

        override fun getView(position: Int, convertView: View?, parent: ViewGroup): View {
            val view = convertView ?: layoutInflater.inflate(R.layout.item_card, parent, false)
            val card = items[position]
            view.child<TextView>(R.id.card_label).text = card.label.ifBlank { schemeName(card.scheme) }
            view.child<TextView>(R.id.card_badge).visibility = if (card.isDefault) View.VISIBLE else View.GONE
            view.child<TextView>(R.id.card_number).text = CardNumber.masked(card.last4)
            val expiry = if (card.expiry.length == 4) "${card.expiry.substring(2)}/${card.expiry.substring(0, 2)}" else card.expiry
            view.child<TextView>(R.id.card_meta).text =
                when (card.state) {
                    CardState.ACTIVE -> getString(R.string.card_expires, expiry) + " · " +
                        resources.getString(R.string.card_keys_left, card.keysLeft)
                    CardState.SUSPENDED -> getString(R.string.card_suspended)
                    CardState.NEEDS_KEYS -> getString(R.string.card_needs_keys)
                }
            return view
        }
    }
}
