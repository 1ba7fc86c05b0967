package org.walletcore.app.logic.tests

import java.time.Instant
import java.time.YearMonth
import java.time.ZoneId
import java.util.Locale
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.walletcore.app.logic.Channel
import org.walletcore.app.logic.HistoryFilter
import org.walletcore.app.logic.HistoryPaging
import org.walletcore.app.logic.HistoryQueries
import org.walletcore.app.logic.MonthTotal
import org.walletcore.app.logic.Period
import org.walletcore.app.logic.TxnStatus

fun historyTests() = suite("History") {
    val shanghai = ZoneId.of("Asia/Shanghai")
    // 2026-11-21 10:00 in Shanghai
    val now = Instant.parse("2026-11-21T02:00:00Z")

    test("this month is [local 1st 00:00, next 1st 00:00)") {
        val q = HistoryQueries.build(HistoryFilter(period = Period.THIS_MONTH), now, shanghai)
        assertEquals(Instant.parse("2026-10-31T16:00:00Z").toEpochMilli(), q.fromMs)
        assertEquals(Instant.parse("2026-11-30T16:00:00Z").toEpochMilli(), q.toMs)
    }
    test("last 3 months includes this one and crosses the year boundary") {
        val jan = Instant.parse("2027-01-10T00:00:00Z")
        val q = HistoryQueries.build(HistoryFilter(period = Period.LAST_3_MONTHS), jan, ZoneId.of("UTC"))
        assertEquals(Instant.parse("2026-11-01T00:00:00Z").toEpochMilli(), q.fromMs)
        assertEquals(Instant.parse("2027-02-01T00:00:00Z").toEpochMilli(), q.toMs)
    }
    test("this year and all") {
        val y = HistoryQueries.build(HistoryFilter(period = Period.THIS_YEAR), now, shanghai)
        assertEquals(Instant.parse("2025-12-31T16:00:00Z").toEpochMilli(), y.fromMs)
        val all = HistoryQueries.build(HistoryFilter(period = Period.ALL), now, shanghai)
        assertNull(all.fromMs)
        assertNull(all.toMs)
    }
    test("filters pass through, with the months for the totals") {
        val f = HistoryFilter(cardId = "c1", channel = Channel.QR_SCANNED, status = TxnStatus.APPROVED, pageSize = 20)
        val q = HistoryQueries.build(f, now, shanghai)
        assertEquals("c1", q.cardId)
        assertEquals(Channel.QR_SCANNED, q.channel)
        assertEquals(TxnStatus.APPROVED, q.status)
        assertEquals(20, q.limit)
        assertEquals(YearMonth.of(2026, 9), q.fromMonth)
        assertEquals(YearMonth.of(2026, 11), q.toMonth)
        val all = HistoryQueries.build(f.copy(period = Period.ALL), now, shanghai)
        assertNull(all.fromMonth)
        assertNull(all.toMonth)
    }
    test("cursor paging: follows the cursor, stops at the end, drops stale pages") {
        var p = HistoryPaging()
        p = p.received(0, "cursor-1")
        assertEquals("cursor-1", p.next)
        val old = p.generation
        p = p.restart() // the user changed a filter while page 2 was loading
        assertNull(p.next)
        assertEquals(p, p.received(old, "stale-cursor"))
        p = p.received(p.generation, null)
        assertTrue(p.exhausted)
    }
    test("monthly totals: newest month first, one line per currency, per-card lines merged") {
        val rows = HistoryQueries.monthRows(listOf(
            MonthTotal(YearMonth.of(2026, 9), 156, 100, 1),
            MonthTotal(YearMonth.of(2026, 11), 840, 500, 2),
            MonthTotal(YearMonth.of(2026, 11), null, 0, 1),
            MonthTotal(YearMonth.of(2026, 11), 156, 2000, 3),
            MonthTotal(YearMonth.of(2026, 11), 156, 500, 1),
            MonthTotal(YearMonth.of(2026, 10), 156, 0, 0),
        ))
        assertEquals(listOf(YearMonth.of(2026, 11), YearMonth.of(2026, 9)), rows.map { it.month })
        assertEquals(listOf(156, 840, null), rows[0].totals.map { it.currency })
        assertEquals(2500L, rows[0].totals[0].totalMinor)
        assertEquals(4, rows[0].totals[0].count)
    }
    test("month labels follow the pattern from resources") {
        assertEquals("November 2026", HistoryQueries.monthLabel(YearMonth.of(2026, 11), "MMMM yyyy", Locale.ENGLISH))
        assertEquals("2026年11月", HistoryQueries.monthLabel(YearMonth.of(2026, 11), "yyyy年M月", Locale.SIMPLIFIED_CHINESE))
    }
    test("months from the core parse or are refused") {
        assertEquals(YearMonth.of(2026, 11), HistoryQueries.parseMonth("2026-11"))
        assertNull(HistoryQueries.parseMonth("2026-13"))
        assertNull(HistoryQueries.parseMonth("nov"))
    }
}
