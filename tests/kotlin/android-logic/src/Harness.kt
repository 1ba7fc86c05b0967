package org.walletcore.app.logic.tests

import kotlin.system.exitProcess

// A tiny test harness: kotlin.test's assertions (from the compiler's lib dir), no framework.

class Suite(val name: String) {
    val cases = mutableListOf<Pair<String, () -> Unit>>()

    fun test(name: String, body: () -> Unit) {
        cases += name to body
    }
}

fun suite(name: String, build: Suite.() -> Unit): Suite = Suite(name).apply(build)

fun main() {
    val suites = listOf(
        cardNumberTests(),
        expiryTests(),
        moneyTests(),
        qrRenderTests(),
        payScreenTests(),
        historyTests(),
        addCardTests(),
        serverSettingsTests(),
        secretsTests(),
    )
    var passed = 0
    var failed = 0
    for (s in suites) {
        for ((name, body) in s.cases) {
            try {
                body()
                passed++
                println("ok   ${s.name}: $name")
            } catch (t: Throwable) {
                failed++
                println("FAIL ${s.name}: $name\n     $t")
            }
        }
    }
    println("$passed passed, $failed failed")
    if (failed > 0) exitProcess(1)
}
