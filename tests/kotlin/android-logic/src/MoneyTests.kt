package org.walletcore.app.logic.tests

import java.util.Locale
import kotlin.test.assertEquals
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.walletcore.app.logic.Money

fun moneyTests() = suite("Money") {
    test("exponents come from ISO 4217 data: CNY 2, JPY 0, BHD 3, unknown 2") {
        assertEquals(2, Money.exponent(156))
        assertEquals(0, Money.exponent(392))
        assertEquals(3, Money.exponent(48))
        assertEquals(2, Money.exponent(999_1))
    }
    test("format renminbi for a Chinese user") {
        assertEquals("¥12.34", Money.format(1234, 156, Locale.SIMPLIFIED_CHINESE))
    }
    test("format yen has no decimals, dollars two, dinars three") {
        val jpy = Money.format(1234, 392, Locale.US)
        assertTrue(jpy.contains("1,234") && !jpy.contains("."), jpy)
        assertEquals("$12.34", Money.format(1234, 840, Locale.US))
        assertTrue(Money.format(1234, 48, Locale.US).contains("1.234"))
    }
    test("refunds are negative and say so") {
        assertTrue(Money.format(-500, 840, Locale.US).let { it.contains("-") || it.contains("(") })
    }
    test("an unknown currency still shows the amount and the code") {
        assertEquals("12.34 (001)", Money.format(1234, 1, Locale.US))
    }
    test("parse major units into minor units") {
        assertEquals(1250L, Money.parse("12.5", 156))
        assertEquals(1250L, Money.parse(" 12.50 ", 156))
        assertEquals(1234L, Money.parse("1234", 392))
        assertEquals(1L, Money.parse("0.001", 48))
    }
    test("parse refuses what the currency cannot express") {
        assertNull(Money.parse("12.345", 156))
        assertNull(Money.parse("12.5", 392))
        assertNull(Money.parse("0", 156))
        assertNull(Money.parse("-1", 156))
        assertNull(Money.parse("1e3", 156))
        assertNull(Money.parse("1,000", 156))
        assertNull(Money.parse("", 156))
        assertNull(Money.parse("12345678901234", 156)) // longer than the 13 characters of tag 54
        assertNull(Money.parse("..", 156))
    }
}
