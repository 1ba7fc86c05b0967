package org.walletcore.app.logic.tests

import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.walletcore.app.logic.CardNumber
import org.walletcore.app.logic.CardScheme
import org.walletcore.app.logic.PanCheck

private fun d(s: String) = s.toCharArray()

fun cardNumberTests() = suite("CardNumber") {
    // Published test card numbers (network / acquirer test-card lists).
    test("Luhn accepts published test numbers") {
        for (n in listOf("4111111111111111", "4012888888881881", "4222222222222", "5555555555554444",
            "2223003122003222", "6200000000000005", "6205500000000000004", "378282246310005", "79927398713")) {
            assertTrue(CardNumber.luhnValid(d(n)), n)
        }
    }
    test("Luhn rejects one wrong digit, a transposition, empty and non-digits") {
        assertFalse(CardNumber.luhnValid(d("4111111111111112")))
        assertFalse(CardNumber.luhnValid(d("4111111111111121")))
        assertFalse(CardNumber.luhnValid(d("")))
        assertFalse(CardNumber.luhnValid(d("41111111111111a1")))
    }
    test("scheme from leading digits") {
        assertEquals(CardScheme.VISA, CardNumber.scheme(d("4")))
        assertEquals(CardScheme.MASTERCARD, CardNumber.scheme(d("51")))
        assertEquals(CardScheme.MASTERCARD, CardNumber.scheme(d("2221")))
        assertEquals(CardScheme.MASTERCARD, CardNumber.scheme(d("2720")))
        assertEquals(CardScheme.UNKNOWN, CardNumber.scheme(d("2721")))
        assertEquals(CardScheme.UNKNOWN, CardNumber.scheme(d("222"))) // not decided yet
        assertEquals(CardScheme.UNIONPAY, CardNumber.scheme(d("62")))
        assertEquals(CardScheme.UNIONPAY, CardNumber.scheme(d("6221260000"))) // co-branded Discover range
        assertEquals(CardScheme.AMEX, CardNumber.scheme(d("37")))
        assertEquals(CardScheme.JCB, CardNumber.scheme(d("3566")))
        assertEquals(CardScheme.DISCOVER, CardNumber.scheme(d("6011")))
        assertEquals(CardScheme.DISCOVER, CardNumber.scheme(d("645")))
        assertEquals(CardScheme.UNKNOWN, CardNumber.scheme(d("")))
        assertEquals(CardScheme.UNKNOWN, CardNumber.scheme(d("9")))
    }
    test("check: valid cards of the three supported networks") {
        assertEquals(PanCheck.Valid(CardScheme.VISA), CardNumber.check(d("4111111111111111")))
        assertEquals(PanCheck.Valid(CardScheme.MASTERCARD), CardNumber.check(d("5555555555554444")))
        assertEquals(PanCheck.Valid(CardScheme.UNIONPAY), CardNumber.check(d("6205500000000000004")))
    }
    test("check: other networks are recognised but unsupported") {
        assertEquals(PanCheck.Unsupported(CardScheme.AMEX), CardNumber.check(d("3782")))
        assertEquals(PanCheck.Unsupported(CardScheme.JCB), CardNumber.check(d("3566002020360505")))
    }
    test("check: typing in progress is incomplete, not an error") {
        assertEquals(PanCheck.Empty, CardNumber.check(d("")))
        assertEquals(PanCheck.Incomplete(CardScheme.VISA), CardNumber.check(d("411111")))
        // 16 digits failing Luhn: a 19-digit Visa may still follow while typing...
        assertEquals(PanCheck.Incomplete(CardScheme.VISA), CardNumber.check(d("4111111111111112")))
        // ...but it is a typo once submitted, and at the longest length in any case.
        assertEquals(PanCheck.BadChecksum(CardScheme.VISA), CardNumber.check(d("4111111111111112"), submitted = true))
        assertEquals(PanCheck.BadChecksum(CardScheme.MASTERCARD), CardNumber.check(d("5555555555554445")))
        assertEquals(PanCheck.TooLong, CardNumber.check(d("62055000000000000041")))
    }
    test("digits() skips spaces and dashes and refuses anything else") {
        assertEquals("4111111111111111", CardNumber.digits("4111 1111-1111 1111")!!.concatToString())
        assertNull(CardNumber.digits("4111 1111 1111 111x"))
        assertNull(CardNumber.digits("４１１１")) // full-width digits are not ASCII digits
    }
    test("format groups in fours, Amex 4-6-5, 19 digits 4-4-4-4-3") {
        assertEquals("4111 1111 1111 1111", CardNumber.format(d("4111111111111111")).concatToString())
        assertEquals("3782 822463 10005", CardNumber.format(d("378282246310005")).concatToString())
        assertEquals("6205 5000 0000 0000 004", CardNumber.format(d("6205500000000000004")).concatToString())
        assertEquals("411", CardNumber.format(d("411")).concatToString())
        assertEquals("", CardNumber.format(d("")).concatToString())
    }
    test("reformat keeps the cursor after the same digit") {
        // typed the 5th digit at the end: "41111" -> "4111 1", cursor at end
        val r1 = CardNumber.reformat("41111", 5)
        assertEquals("4111 1", r1.chars.concatToString())
        assertEquals(6, r1.cursor)
        // inserted a digit in the middle of a formatted number, cursor after it
        val r2 = CardNumber.reformat("4111 91111", 6) // digits before cursor: 4111 9 -> 5
        assertEquals("4111 9111 1", r2.chars.concatToString())
        assertEquals(6, r2.cursor)
        // pasted text with junk and too many digits is cut to 19 digits
        val r3 = CardNumber.reformat("6205-5000-0000-0000-0049999", 27)
        assertEquals("6205 5000 0000 0000 004", r3.chars.concatToString())
        assertEquals(23, r3.cursor)
        val r4 = CardNumber.reformat("", 0)
        assertEquals(0, r4.chars.size)
        assertEquals(0, r4.cursor)
    }
    test("masked shows only the last four digits") {
        assertEquals("•••• 4444", CardNumber.masked("4444"))
    }
}
