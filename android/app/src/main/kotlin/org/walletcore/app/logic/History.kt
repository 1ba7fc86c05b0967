package org.walletcore.app.logic

import java.time.Instant
import java.time.YearMonth
import java.time.ZoneId
import java.time.format.DateTimeFormatter
import java.util.Locale

enum class Period { THIS_MONTH, LAST_3_MONTHS, THIS_YEAR, ALL }

/** The history screen's filter choices. */
data class HistoryFilter(
    val cardId: String? = null,
    val channel: Channel? = null,
    val status: TxnStatus? = null,
    val period: Period = Period.LAST_3_MONTHS,
    val pageSize: Int = DEFAULT_PAGE_SIZE,
) {
    companion object {
        const val DEFAULT_PAGE_SIZE = 50
    }
}

/**
 * What the core's history query takes: records in the half-open [fromMs, toMs) in epoch
 * milliseconds, [limit] per page (the core pages with an opaque cursor, newest first), and the
 * months [fromMonth]..[toMonth] for the monthly totals.
 */
data class HistoryQuerySpec(
    val cardId: String?,
    val channel: Channel?,
    val status: TxnStatus?,
    val fromMs: Long?,
    val toMs: Long?,
    val limit: Int,
    val fromMonth: YearMonth?,
    val toMonth: YearMonth?,
)

/** Cursor paging: the next page continues after the last one's cursor; a new query starts over. */
data class HistoryPaging(val generation: Int = 0, val next: String? = null, val exhausted: Boolean = false) {
    /** New criteria: anything still in flight for the old ones must be dropped. */
    fun restart(): HistoryPaging = HistoryPaging(generation + 1)

    /** A page arrived; stale pages (from an older generation) change nothing. */
    fun received(forGeneration: Int, next: String?): HistoryPaging =
        if (forGeneration != generation) this else copy(next = next, exhausted = next == null)
}

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
            fromMonth = from,
            toMonth = if (filter.period == Period.ALL) null else thisMonth,
        )
    }

    /**
     * Newest month first; within a month one line per currency (by numeric code, unknown last),
     * merging the per-card lines the core may send and dropping months with nothing spent.
     */
    fun monthRows(totals: List<MonthTotal>): List<MonthRow> =
        totals.groupBy { it.month }
            .toSortedMap(compareByDescending { it })
            .map { (month, list) ->
                val perCurrency = list.groupBy { it.currency }.map { (currency, same) ->
                    MonthTotal(month, currency, same.sumOf { it.totalMinor }, same.sumOf { it.count })
                }
                MonthRow(month, perCurrency.filter { it.count > 0 }.sortedBy { it.currency ?: Int.MAX_VALUE })
            }
            .filter { it.totals.isNotEmpty() }

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
