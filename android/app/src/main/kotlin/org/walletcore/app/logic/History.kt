package org.walletcore.app.logic

import java.time.Instant
import java.time.YearMonth
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale

enum class Period { THIS_MONTH, LAST_3_MONTHS, THIS_YEAR, ALL }

/** The history screen's filter choices, one page at a time. */
data class HistoryFilter(
    val cardId: String? = null,
    val channel: Channel? = null,
    val status: TxnStatus? = null,
    val period: Period = Period.LAST_3_MONTHS,
    val page: Int = 0,
    val pageSize: Int = DEFAULT_PAGE_SIZE,
) {
    fun nextPage(): HistoryFilter = copy(page = page + 1)

    /** Any change of the criteria starts again from the first page. */
    fun with(cardId: String? = this.cardId, channel: Channel? = this.channel, status: TxnStatus? = this.status, period: Period = this.period) =
        copy(cardId = cardId, channel = channel, status = status, period = period, page = 0)

    companion object {
        const val DEFAULT_PAGE_SIZE = 50
    }
}

/** What the core's history query takes: half-open [fromMs, toMs) in epoch milliseconds. */
data class HistoryQuerySpec(
    val cardId: String?,
    val channel: Channel?,
    val status: TxnStatus?,
    val fromMs: Long?,
    val toMs: Long?,
    val limit: Int,
    val offset: Int,
)

/** Amounts of one month, one line per currency (amounts in different currencies never add up). */
data class MonthRow(val month: YearMonth, val totals: List<MonthTotal>)

object HistoryQueries {
    /** Month boundaries are the user's local midnight of the 1st, in [zone]. */
    fun build(filter: HistoryFilter, now: Instant, zone: ZoneId): HistoryQuerySpec {
        val thisMonth = YearMonth.from(now.atZone(zone))
        val from: YearMonth? = when (filter.period) {
            Period.THIS_MONTH -> thisMonth
            Period.LAST_3_MONTHS -> thisMonth.minusMonths(2)
            Period.THIS_YEAR -> YearMonth.of(thisMonth.year, 1)
            Period.ALL -> null
        }
        return HistoryQuerySpec(
            cardId = filter.cardId,
            channel = filter.channel,
            status = filter.status,
            fromMs = from?.let { startOf(it, zone) },
            toMs = if (filter.period == Period.ALL) null else startOf(thisMonth.plusMonths(1), zone),
            limit = filter.pageSize,
            offset = filter.page * filter.pageSize,
        )
    }

    /** Newest month first; within a month, currencies by their numeric code. */
    fun monthRows(totals: List<MonthTotal>): List<MonthRow> =
        totals.groupBy { it.month }
            .toSortedMap(compareByDescending { it })
            .map { (month, list) -> MonthRow(month, list.sortedBy { it.currency }) }

    /** "November 2026" / "2026年11月": [pattern] comes from the locale's string resources. */
    fun monthLabel(month: YearMonth, pattern: String, locale: Locale): String =
        month.format(DateTimeFormatter.ofPattern(pattern, locale))

    /** "YYYY-MM" as the core reports months; null for anything else. */
    fun parseMonth(text: String): YearMonth? =
        try {
            YearMonth.parse(text)
        } catch (e: java.time.format.DateTimeParseException) {
            null
        }

    private fun startOf(month: YearMonth, zone: ZoneId): Long = month.atDay(1).atStartOfDay(zone).toInstant().toEpochMilli()
}
