package org.walletcore.app.ui

import android.app.Activity
import android.os.Bundle
import android.text.format.DateFormat
import android.view.View
import android.view.ViewGroup
import android.widget.AdapterView
import android.widget.ArrayAdapter
import android.widget.BaseAdapter
import android.widget.Button
import android.widget.ListView
import android.widget.Spinner
import android.widget.TextView
import java.time.Instant
import java.time.ZoneId
import java.util.Date
import org.walletcore.app.R
import org.walletcore.app.logic.CardItem
import org.walletcore.app.logic.Channel
import org.walletcore.app.logic.HistoryFilter
import org.walletcore.app.logic.HistoryPaging
import org.walletcore.app.logic.HistoryQueries
import org.walletcore.app.logic.Outcome
import org.walletcore.app.logic.Period
import org.walletcore.app.logic.TxnItem
import org.walletcore.app.logic.TxnStatus
import org.walletcore.app.repository

/** Payments with filters (card, kind, status, period), monthly totals per currency, paging. */
class HistoryActivity : Activity() {
    private var filter = HistoryFilter()
    private var paging = HistoryPaging()
    private var cards: List<CardItem> = emptyList()
    private val txns = TxnAdapter()
    private lateinit var loadMore: Button

    override fun onCreate(savedInstanceState: Bundle?) {
        super.onCreate(savedInstanceState)
        setContentView(R.layout.activity_history)
        applySystemBarInsets(findViewById(R.id.root))
        val list = find<ListView>(R.id.txn_list)
        list.adapter = txns
        list.emptyView = findViewById(R.id.txn_empty)
        loadMore = find(R.id.load_more)
        loadMore.setOnClickListener { load(append = true) }
        find<Button>(R.id.sync).setOnClickListener {
            repository.sync { outcome ->
                when (outcome) {
                    is Outcome.Ok -> {
                        toast(getString(R.string.history_synced, outcome.value))
                        reload()
                    }
                    is Outcome.Failed -> toast(describe(outcome.error))
                }
            }
        }
        // Item order matches the string arrays in res/values*/strings.xml.
        val channels = listOf(null, Channel.NFC, Channel.QR_PRESENTED, Channel.QR_SCANNED)
        spinner(R.id.filter_channel, resources.getStringArray(R.array.history_channels).toList(), 0) {
            filter.copy(channel = channels.getOrNull(it))
        }
        val statuses = listOf(null, TxnStatus.APPROVED, TxnStatus.PENDING, TxnStatus.DECLINED, TxnStatus.REVERSED, TxnStatus.EXPIRED)
        spinner(R.id.filter_status, resources.getStringArray(R.array.history_statuses).toList(), 0) {
            filter.copy(status = statuses.getOrNull(it))
        }
        val periods = listOf(Period.THIS_MONTH, Period.LAST_3_MONTHS, Period.THIS_YEAR, Period.ALL)
        spinner(R.id.filter_period, resources.getStringArray(R.array.history_periods).toList(), periods.indexOf(filter.period)) {
            filter.copy(period = periods.getOrElse(it) { Period.ALL })
        }
        repository.cards { outcome ->
            cards = (outcome as? Outcome.Ok)?.value.orEmpty()
            val labels = listOf(getString(R.string.history_all_cards)) + cards.map { "${it.label} ${it.last4}" }
            spinner(R.id.filter_card, labels, 0) { filter.copy(cardId = cards.getOrNull(it - 1)?.id) }
        }
        reload()
    }

    private fun spinner(id: Int, labels: List<String>, selected: Int, toFilter: (Int) -> HistoryFilter) {
        val spinner = find<Spinner>(id)
        spinner.adapter = ArrayAdapter(this, android.R.layout.simple_spinner_dropdown_item, labels)
        spinner.setSelection(selected)
        spinner.onItemSelectedListener = object : AdapterView.OnItemSelectedListener {
            override fun onItemSelected(parent: AdapterView<*>, view: View?, position: Int, rowId: Long) {
                val next = toFilter(position)
                if (next != filter) {
                    filter = next
                    reload()
                }
            }

            override fun onNothingSelected(parent: AdapterView<*>) = Unit
        }
    }

    private fun reload() {
        paging = paging.restart()
        txns.items = emptyList()
        load(append = false)
        totals()
    }

    private fun load(append: Boolean) {
        val generation = paging.generation
        val spec = HistoryQueries.build(filter, Instant.now(), ZoneId.systemDefault())
        loadMore.isEnabled = false
        repository.history(spec, if (append) paging.next else null) { outcome ->
            if (generation != paging.generation) return@history // an older query's page
            when (outcome) {
                is Outcome.Ok -> {
                    val (records, next) = outcome.value
                    txns.items = (if (append) txns.items else emptyList()) + records
                    paging = paging.received(generation, next)
                }
                is Outcome.Failed -> toast(describe(outcome.error))
            }
            loadMore.isEnabled = !paging.exhausted
        }
    }

    private fun totals() {
        val spec = HistoryQueries.build(filter, Instant.now(), ZoneId.systemDefault())
        repository.monthlyTotals(spec) { outcome ->
            val view = find<TextView>(R.id.totals)
            if (outcome !is Outcome.Ok) {
                view.text = ""
                return@monthlyTotals
            }
            val locale = resources.configuration.locales[0]
            view.text = HistoryQueries.monthRows(outcome.value).joinToString("\n") { row ->
                HistoryQueries.monthLabel(row.month, getString(R.string.history_month_pattern), locale) + ": " +
                    row.totals.joinToString("; ") { getString(R.string.history_month_total, amount(it.totalMinor, it.currency), it.count) }
            }
        }
    }

    private inner class TxnAdapter : BaseAdapter() {
        var items: List<TxnItem> = emptyList()
            set(value) {
                field = value
                notifyDataSetChanged()
            }

        override fun getCount() = items.size

        override fun getItem(position: Int) = items[position]

        override fun getItemId(position: Int) = position.toLong()

        override fun getView(position: Int, convertView: View?, parent: ViewGroup): View {
            val view = convertView ?: layoutInflater.inflate(R.layout.item_txn, parent, false)
            val t = items[position]
            view.child<TextView>(R.id.txn_merchant).text = t.merchant ?: getString(R.string.history_unknown_merchant)
            val date = Date(t.timestampMs)
            val card = cards.firstOrNull { it.id == t.cardId }?.let { "${it.label} ${it.last4} · " }.orEmpty()
            view.child<TextView>(R.id.txn_meta).text =
                card + DateFormat.getMediumDateFormat(this@HistoryActivity).format(date) + " " +
                DateFormat.getTimeFormat(this@HistoryActivity).format(date) + " · " + channelName(t.channel) + " · " + statusName(t.status)
            view.child<TextView>(R.id.txn_amount).text =
                t.amountMinor?.let { amount(it, t.currency) } ?: getString(R.string.history_no_amount)
            return view
        }
    }
}
