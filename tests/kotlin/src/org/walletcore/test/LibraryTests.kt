package org.walletcore.test

import org.walletcore.ffi.LogLevel
import org.walletcore.ffi.LogSink
import org.walletcore.ffi.libraryVersion
import org.walletcore.ffi.setLogSink
import org.walletcore.ffi.supportedAids
import org.walletcore.sdk.NativeHce
import java.util.concurrent.CopyOnWriteArrayList
import kotlin.test.assertContentEquals
import kotlin.test.assertEquals
import kotlin.test.assertTrue

/** A Kotlin LogSink that keeps what it is given. */
class RecordingSink : LogSink {
    val records = CopyOnWriteArrayList<Triple<LogLevel, String, String>>()
    override fun log(level: LogLevel, target: String, message: String) {
        records += Triple(level, target, message)
    }
}

fun libraryTests() {
    test("library version matches the crate") {
        assertEquals("0.1.0", libraryVersion())
    }

    test("supported AIDs are the four payment applications") {
        // From the schemes' published RIDs/PIXes, not from the library: UnionPay debit and
        // credit, Visa, Mastercard.
        val expected = listOf("A000000333010101", "A000000333010102", "A0000000031010", "A0000000041010")
        assertContentEquals(expected, supportedAids().map(::hex))
    }

    test("log sink receives records at its level and stops when removed") {
        val sink = RecordingSink()
        setLogSink(sink, LogLevel.WARN)
        try {
            // In test builds this APDU panics inside the JNI entry point, which logs an error.
            NativeHce.processApdu(unhex("FFEE0000"))
            val errors = sink.records.filter { it.first == LogLevel.ERROR }
            assertTrue(errors.any { it.third.contains("NativeHce.processApdu panicked") }, "records: ${sink.records}")
            assertTrue(errors.any { it.third.contains("processApdu asked to panic") }, "records: ${sink.records}")
            assertTrue(sink.records.all { it.first == LogLevel.ERROR || it.first == LogLevel.WARN })
        } finally {
            setLogSink(null, LogLevel.ERROR)
        }
        val before = sink.records.size
        NativeHce.processApdu(unhex("FFEE0000"))
        assertEquals(before, sink.records.size, "records after the sink was removed")
    }

    test("a throwing log sink does not break a tap") {
        setLogSink(object : LogSink {
            override fun log(level: LogLevel, target: String, message: String) = throw IllegalStateException("sink down")
        }, LogLevel.TRACE)
        try {
            assertEquals("6F00", sw(NativeHce.processApdu(unhex("FFEE0000"))))
            // The library is still usable afterwards, through both paths.
            assertEquals(4, supportedAids().size)
            assertEquals(2, NativeHce.processApdu(unhex("00A404000E325041592E5359532E444446303100")).size.coerceAtMost(2))
        } finally {
            setLogSink(null, LogLevel.ERROR)
        }
    }
}
