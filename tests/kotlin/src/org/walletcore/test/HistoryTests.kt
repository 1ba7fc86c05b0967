package org.walletcore.test

import org.walletcore.ffi.ExportFormat
import org.walletcore.ffi.HistoryFilter
import org.walletcore.ffi.Month
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.StatsQuery
import org.walletcore.ffi.TxnStatus
import org.walletcore.sdk.NativeHce
import java.io.File
import java.time.Instant
import java.time.ZoneOffset
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue

fun historyTests() {
    test("history pages, filters, monthly totals, export and deletion") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                val up = w.addTestCard(Scheme.UNION_PAY, null, 20u)
                val visa = w.addTestCard(Scheme.VISA, null, 20u)
                val reader = MiniReader(NativeHce::processApdu)
                repeat(5) { reader.tap(amountMinor = 1_000L * (it + 1)) }
                w.setDefaultCard(visa.id)
                repeat(3) { reader.tap(amountMinor = 50L, currency = 840) }

                // Pages of 3, newest first, each continuing where the last ended.
                val seen = mutableListOf<Long>()
                var after: String? = null
                do {
                    val page = w.history(HistoryFilter(), 3u, after)
                    assertTrue(page.records.size <= 3)
                    seen += page.records.map { it.id }
                    after = page.next
                } while (after != null)
                assertEquals(8, seen.size)
                assertEquals(seen.sortedDescending(), seen, "newest first")

                assertEquals(5, w.history(HistoryFilter(cardId = up.id), 100u, null).records.size)
                assertEquals(3, w.history(HistoryFilter(currency = 840u), 100u, null).records.size)
                val big = w.history(HistoryFilter(minAmount = 3_000u), 100u, null).records
                assertEquals(listOf(5_000uL, 4_000uL, 3_000uL), big.map { it.amountMinor })
                assertTrue(w.history(HistoryFilter(status = TxnStatus.PENDING), 100u, null).records.size == 8)

                val month = Instant.now().atZone(ZoneOffset.UTC).let { Month(it.year.toUShort(), it.monthValue.toUByte()) }
                val totals = w.historyStats(StatsQuery(from = month, to = month))
                val cny = totals.single { it.currency == 156.toUShort() }
                assertEquals(month, cny.month)
                assertEquals(5uL, cny.pending.count)
                assertEquals(15_000uL, cny.pending.totalMinor)
                assertEquals(150uL, totals.single { it.currency == 840.toUShort() }.pending.totalMinor)
                assertNull(cny.cardId)
                assertEquals(2, w.historyStats(StatsQuery(byCard = true)).size)

                val csv = w.exportHistory(ExportFormat.CSV, HistoryFilter()).trimEnd().lines()
                assertEquals(9, csv.size, "header + 8 rows:\n${csv.joinToString("\n")}")
                val json = w.exportHistory(ExportFormat.JSON, HistoryFilter(cardId = visa.id))
                assertTrue(json.trimStart().startsWith("["), json.take(80))
                val file = File(dir, "history.csv")
                assertEquals(8uL, w.exportHistoryToFile(ExportFormat.CSV, HistoryFilter(), file.path))
                assertEquals(csv, file.readText().trimEnd().lines())
                // No field is a card number (13-19 digits). Fields, not substrings: the cryptogram's
                // SHA-256 is hex and may hold a long run of digits by chance.
                assertTrue(csv.flatMap { it.split(',') }.none { it.matches(Regex("\\d{13,19}")) }, "no PAN in the export")

                assertTrue(w.deleteTransaction(seen.first()))
                assertEquals(false, w.deleteTransaction(seen.first()))
                assertEquals(7uL, w.clearHistory())
                assertEquals(emptyList(), w.history(HistoryFilter(), 10u, null).records)
            }
        }
    }
}
