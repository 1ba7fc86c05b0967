package org.walletcore.test

import java.io.File
import java.nio.file.Files
import kotlin.system.exitProcess

/** A deliberately tiny test runner: named tests, run in order, one line each, exit 1 on failure. */
class TestCase(val name: String, val body: () -> Unit)

private val registered = mutableListOf<TestCase>()

fun test(name: String, body: () -> Unit) {
    registered += TestCase(name, body)
}

/** A fresh directory for one test, removed afterwards. */
fun <T> withTempDir(block: (File) -> T): T {
    val dir = Files.createTempDirectory("walletcore-kt").toFile()
    try {
        return block(dir)
    } finally {
        dir.deleteRecursively()
    }
}

fun hex(bytes: ByteArray): String = bytes.joinToString("") { "%02X".format(it) }

fun unhex(s: String): ByteArray =
    s.replace(" ", "").chunked(2).map { it.toInt(16).toByte() }.toByteArray()

/** The status word of a response APDU, e.g. "9000". */
fun sw(response: ByteArray): String = hex(response.takeLast(2).toByteArray())

fun runTests(filters: List<String>): Int {
    val selected = registered.filter { t -> filters.isEmpty() || filters.any { t.name.contains(it, ignoreCase = true) } }
    if (selected.isEmpty()) {
        println("no test matches ${filters.joinToString(" ")}")
        return 1
    }
    var failed = 0
    for (t in selected) {
        val start = System.nanoTime()
        val error = try {
            t.body()
            null
        } catch (e: Throwable) {
            e
        }
        val ms = (System.nanoTime() - start) / 1_000_000
        if (error == null) {
            println("PASS  ${t.name} (${ms} ms)")
        } else {
            failed++
            println("FAIL  ${t.name} (${ms} ms)")
            error.printStackTrace(System.out)
        }
    }
    println("${selected.size - failed} passed, $failed failed")
    return if (failed == 0) 0 else 1
}

fun main(args: Array<String>) {
    registerAll()
    exitProcess(runTests(args.toList()))
}
