package org.walletcore.test

import org.walletcore.sdk.NativeHce
import java.util.concurrent.Executors
import java.util.concurrent.TimeUnit
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

/** Test builds only (cargo feature `test-panic`): these panic inside the JNI entry points. */
private val PANIC_APDU = unhex("FFEE0000")
private const val PANIC_DEACTIVATION = 0x7E57_0001
private const val PANIC_DATA_DIR = "/walletcore-test-panic"

private val SELECT_PPSE = unhex("00A404000E325041592E5359532E444446303100")

fun jniTests() {
    test("a panic in processApdu answers 6F00 and the JVM keeps running") {
        assertEquals("6F00", hex(NativeHce.processApdu(PANIC_APDU)))
        // The library is not poisoned: the next command gets an ordinary answer.
        val next = NativeHce.processApdu(SELECT_PPSE)
        assertTrue(next.size >= 2 && sw(next) != "6F00", "after a panic: ${hex(next)}")
    }

    test("panics on many threads at once are all contained") {
        val pool = Executors.newFixedThreadPool(8)
        try {
            val answers = (1..200).map { pool.submit<String> { hex(NativeHce.processApdu(PANIC_APDU)) } }.map { it.get(30, TimeUnit.SECONDS) }
            assertTrue(answers.all { it == "6F00" }, "answers: ${answers.toSet()}")
        } finally {
            pool.shutdownNow()
        }
    }

    test("a panic in deactivate reaches Kotlin as a RuntimeException") {
        val e = assertFailsWith<RuntimeException> { NativeHce.deactivate(PANIC_DEACTIVATION) }
        assertTrue(e.message!!.contains("internal error in NativeHce.deactivate"), e.message)
        // And an ordinary deactivation still works.
        NativeHce.deactivate(0)
    }

    test("a panic in attach reaches Kotlin as a RuntimeException") {
        val e = assertFailsWith<RuntimeException> { NativeHce.attach(PANIC_DATA_DIR, AesKeyWrapper()) }
        assertTrue(e !is IllegalStateException, "a panic is not a wallet error: $e")
        assertTrue(e.message!!.contains("internal error in NativeHce.attach"), e.message)
        NativeHce.isAttached()
    }

    test("malformed APDUs get a status word, never an exception") {
        for (apdu in listOf(ByteArray(0), unhex("00"), unhex("00A4"), ByteArray(300) { 0xFF.toByte() })) {
            val answer = NativeHce.processApdu(apdu)
            assertEquals(2, answer.size, "answer to ${hex(apdu)}: ${hex(answer)}")
            assertTrue(sw(answer) != "9000", "answer to ${hex(apdu)}: ${hex(answer)}")
        }
    }
}
