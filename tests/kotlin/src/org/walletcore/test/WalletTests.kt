package org.walletcore.test

import org.walletcore.ffi.CardStatus
import org.walletcore.ffi.KeyWrapperException
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.ffi.WalletException
import org.walletcore.sdk.NativeHce
import java.io.File
import java.lang.ref.WeakReference
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertFalse
import kotlin.test.assertNotEquals
import kotlin.test.assertTrue

fun walletTests() {
    test("a new wallet is empty, and cards come and go") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                assertEquals(emptyList(), w.cards())
                val up = w.addTestCard(Scheme.UNION_PAY, null, 10u)
                val visa = w.addTestCard(Scheme.VISA, null, 10u)
                assertEquals(Scheme.UNION_PAY, up.scheme)
                assertEquals(10u, up.keysLeft)
                assertTrue(up.isDefault, "the first card is the default")
                assertEquals(4, visa.last4.length)
                assertTrue(visa.maskedPan.contains("*") && visa.maskedPan.endsWith(visa.last4), visa.maskedPan)
                assertEquals(listOf(up.id, visa.id), w.cards().map { it.id })

                w.setDefaultCard(visa.id)
                assertEquals(visa.id, w.cards().first { it.isDefault }.id)
                w.suspendCard(up.id)
                assertEquals(CardStatus.SUSPENDED, w.card(up.id).status)
                w.removeCard(up.id)
                assertEquals(listOf(visa.id), w.cards().map { it.id })
            }
        }
    }

    test("a wallet reopens with its data key unwrapped by the Kotlin KeyWrapper") {
        withTempDir { dir ->
            val wrapper = AesKeyWrapper()
            val id = openWallet(dir, wrapper).use { it.addTestCard(Scheme.VISA, null, 5u).id }
            assertTrue(wrapper.wraps.get() >= 1, "the new wallet's data key was wrapped")
            openWallet(dir, wrapper).use { w -> assertEquals(listOf(id), w.cards().map { it.id }) }
            assertTrue(wrapper.unwraps.get() >= 1, "reopening unwrapped the data key")
            // Another key cannot open it: the data stays sealed, and nothing is lost.
            assertFailsWith<WalletException.KeyUnavailable> { openWallet(dir, AesKeyWrapper()) }
            openWallet(dir, wrapper).use { w -> assertEquals(1, w.cards().size) }
        }
    }

    test("use {} closes the handle, and a closed wallet refuses calls") {
        withTempDir { dir ->
            val w = openWallet(dir)
            w.use { assertTrue(NativeHce.isAttached(), "taps reach the wallet the app opened") }
            val e = assertFailsWith<IllegalStateException> { w.cards() }
            assertTrue(e.message!!.contains("destroyed"), e.message)
            assertFalse(NativeHce.isAttached(), "closing the last handle closes the wallet")
        }
    }

    test("opening a directory twice gives one wallet") {
        withTempDir { dir ->
            openWallet(dir).use { a ->
                // `dir/../dir` is the same directory: the registry canonicalises it.
                Wallet(WalletConfig(File(dir, "../${dir.name}").path), AesKeyWrapper()).use { b ->
                    val card = a.addTestCard(Scheme.VISA, null, 3u)
                    a.unlockForPayment(30u)
                    assertTrue(b.isUnlocked(), "one wallet, one CDCVM window")
                    assertEquals(listOf(card.id), b.cards().map { it.id })
                }
                // Closing one handle leaves the other working.
                assertEquals(1, a.cards().size)
            }
        }
    }

    test("a dropped wallet is cleaned up, and its KeyWrapper released") {
        withTempDir { dir ->
            val wrapperRef = openAndDrop(dir)
            val deadline = System.nanoTime() + 10_000_000_000
            while ((NativeHce.isAttached() || wrapperRef.get() != null) && System.nanoTime() < deadline) {
                System.gc()
                Thread.sleep(20)
            }
            assertFalse(NativeHce.isAttached(), "the cleaner closed the unreachable wallet")
            assertEquals(null, wrapperRef.get(), "the native side let go of the Kotlin KeyWrapper")
        }
    }

    test("every WalletException variant reachable here has its type and message") {
        withTempDir { dir ->
            // Key wrapper failures, as an Android Keystore wrapper would throw them.
            val locked = AesKeyWrapper().apply { failWith = KeyWrapperException.Unavailable("unlock the device first") }
            val e1 = assertFailsWith<WalletException.KeyUnavailable> { openWallet(dir, locked) }
            assertTrue(e1.reason.contains("unlock the device first"), e1.reason)
            val gone = AesKeyWrapper().apply { failWith = KeyWrapperException.KeyInvalidated("biometric enrolment changed") }
            val e2 = assertFailsWith<WalletException.KeyInvalidated> { openWallet(dir, gone) }
            assertEquals("biometric enrolment changed", e2.reason)
            assertEquals("reason=biometric enrolment changed", e2.message)
            val broken = AesKeyWrapper().apply { failWith = IllegalStateException("keystore on fire") }
            val e3 = assertFailsWith<WalletException.KeyUnavailable> { openWallet(dir, broken) }
            assertTrue(e3.reason.contains("keystore on fire"), e3.reason)
        }
        withTempDir { dir ->
            val wrapper = AesKeyWrapper()
            openWallet(dir, wrapper).use { w ->
                assertEquals("id=nope", assertFailsWith<WalletException.UnknownCard> { w.card("nope") }.message)
                assertFailsWith<WalletException.NoCards> { w.presentQr(null) }
                val card = w.addTestCard(Scheme.UNION_PAY, null, 1u)
                w.presentQr(card.id)
                assertEquals(card.id, assertFailsWith<WalletException.KeysExhausted> { w.presentQr(card.id) }.card)
                w.suspendCard(card.id)
                assertEquals(card.id, assertFailsWith<WalletException.CardNotActive> { w.presentQr(card.id) }.card)
                val bad = assertFailsWith<WalletException.InvalidInput> { w.unlockForPayment(0u) }
                assertTrue(bad.reason.contains("1..=300"), bad.reason)
                assertFailsWith<WalletException.InvalidInput> { w.history(org.walletcore.ffi.HistoryFilter(), 10u, "not a cursor") }
                assertFailsWith<WalletException.InvalidInput> { w.historyStats(org.walletcore.ffi.StatsQuery(from = org.walletcore.ffi.Month(2026u, 13u))) }
                assertFailsWith<WalletException.InvalidInput> { w.addTestCard(Scheme.VISA, "not hex", 1u) }
                val qr = assertFailsWith<WalletException.QrInvalid> { org.walletcore.ffi.parseQr("hello") }
                assertTrue(qr.reason.contains("not an EMVCo payload"), qr.reason)
                val io = assertFailsWith<WalletException.Storage> {
                    w.exportHistoryToFile(org.walletcore.ffi.ExportFormat.CSV, org.walletcore.ffi.HistoryFilter(), File(dir, "no/such/dir/x.csv").path)
                }
                assertTrue(io.reason.contains("no/such/dir"), io.reason)
            }
            assertFailsWith<WalletException.InvalidInput> { Wallet(WalletConfig(dir.path, qrValiditySeconds = 0u), AesKeyWrapper()) }
            // Provisioning needs a token service.
            openWallet(dir, wrapper).use { w ->
                val e = assertFailsWith<WalletException.NotConfigured> { w.sync() }
                assertTrue(e.what.contains("token service"), e.what)
            }
        }
        withTempDir { dir ->
            // A damaged database is moved aside, not deleted.
            File(dir, "wallet.db").writeText("this is not a database, it is a shopping list")
            val e = assertFailsWith<WalletException.Quarantined> { openWallet(dir) }
            assertTrue(File(e.path).exists(), "quarantined file kept at ${e.path}")
            openWallet(dir).use { assertEquals(emptyList(), it.cards()) }
        }
        withTempDir { dir ->
            openWallet(dir).close()
            sqlite(File(dir, "wallet.db"), "PRAGMA user_version = 999")
            val e = assertFailsWith<WalletException.NewerSchema> { openWallet(dir) }
            assertEquals(999u, e.found)
            assertNotEquals(999u, e.supported)
        }
    }
}

/** Open a wallet and drop every reference without closing it; return a weak ref to its wrapper. */
private fun openAndDrop(dir: File): WeakReference<AesKeyWrapper> {
    val wrapper = AesKeyWrapper()
    openWallet(dir, wrapper).cards()
    return WeakReference(wrapper)
}

/** Debian's sqlite3 shell (ci-setup installs it); the test fails with how to get it if missing. */
fun sqlite(db: File, sql: String) {
    val p = try {
        ProcessBuilder("sqlite3", db.path, sql).redirectErrorStream(true).start()
    } catch (e: java.io.IOException) {
        throw AssertionError("sqlite3 is needed for this test: apt-get install sqlite3", e)
    }
    val out = p.inputStream.bufferedReader().readText()
    check(p.waitFor() == 0) { "sqlite3 failed: $out" }
}
