package org.walletcore.app.logic.tests

import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue
import org.walletcore.app.logic.toAsciiBytes
import org.walletcore.app.logic.toCharArrayNoString
import org.walletcore.app.logic.useThenWipe

fun secretsTests() = suite("Secrets") {
    test("an Editable-like CharSequence is copied into a CharArray") {
        val sb = StringBuilder("4111")
        assertContentEquals(charArrayOf('4', '1', '1', '1'), sb.toCharArrayNoString())
    }
    test("digits become ASCII bytes for the core") {
        assertContentEquals(byteArrayOf(0x34, 0x31, 0x30), charArrayOf('4', '1', '0').toAsciiBytes())
    }
    test("arrays are wiped after use, also when the use throws") {
        val chars = charArrayOf('1', '2')
        assertEquals(2, chars.useThenWipe { it.size })
        assertTrue(chars.all { it == '\u0000' })
        val bytes = byteArrayOf(1, 2, 3)
        assertFailsWith<IllegalStateException> { bytes.useThenWipe { error("network down") } }
        assertTrue(bytes.all { it == 0.toByte() })
    }
}
