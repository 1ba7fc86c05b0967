package org.walletcore.app.logic.tests

import java.time.YearMonth
import kotlin.test.assertEquals
import org.walletcore.app.logic.Expiry
import org.walletcore.app.logic.ExpiryCheck
import org.walletcore.app.logic.ExpiryInput

fun expiryTests() = suite("Expiry") {
    val today = YearMonth.of(2026, 11)
    test("accepts MM/YY, MMYY and MM/YYYY") {
        assertEquals(ExpiryCheck.Valid(Expiry(12, 2027)), ExpiryInput.check("12/27", today))
        assertEquals(ExpiryCheck.Valid(Expiry(12, 2027)), ExpiryInput.check("1227", today))
        assertEquals(ExpiryCheck.Valid(Expiry(1, 2030)), ExpiryInput.check("01/2030", today))
    }
    test("a card is valid through the end of its expiry month") {
        assertEquals(ExpiryCheck.Valid(Expiry(11, 2026)), ExpiryInput.check("11/26", today))
        assertEquals(ExpiryCheck.Expired, ExpiryInput.check("10/26", today))
        assertEquals(ExpiryCheck.Expired, ExpiryInput.check("12/25", today))
    }
    test("bad months, formats, far futures and partial input") {
        assertEquals(ExpiryCheck.BadMonth, ExpiryInput.check("13/27", today))
        assertEquals(ExpiryCheck.BadMonth, ExpiryInput.check("00/27", today))
        assertEquals(ExpiryCheck.Incomplete, ExpiryInput.check("12/2", today))
        assertEquals(ExpiryCheck.BadFormat, ExpiryInput.check("12/27x", today))
        assertEquals(ExpiryCheck.Incomplete, ExpiryInput.check("12/202", today)) // MM/YYYY on its way
        assertEquals(ExpiryCheck.BadFormat, ExpiryInput.check("12/20271", today))
        assertEquals(ExpiryCheck.TooFar, ExpiryInput.check("01/2060", today))
        assertEquals(ExpiryCheck.Incomplete, ExpiryInput.check("1", today))
        assertEquals(ExpiryCheck.Incomplete, ExpiryInput.check("", today))
    }
    test("yymm is the EMV form") {
        assertEquals("2703", Expiry(3, 2027).yymm())
    }
    test("autoFormat inserts the slash while typing and lets backspace remove it") {
        assertEquals("1", ExpiryInput.autoFormat("1", inserting = true))
        assertEquals("12/", ExpiryInput.autoFormat("12", inserting = true))
        assertEquals("12", ExpiryInput.autoFormat("12", inserting = false))
        assertEquals("12/2", ExpiryInput.autoFormat("12/2", inserting = true))
        assertEquals("12/27", ExpiryInput.autoFormat("1227", inserting = true))
        assertEquals("12/2030", ExpiryInput.autoFormat("12/20301", inserting = true))
    }
}
