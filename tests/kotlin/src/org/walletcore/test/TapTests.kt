package org.walletcore.test

import org.walletcore.ffi.Channel
import org.walletcore.ffi.EventSink
import org.walletcore.ffi.HistoryFilter
import org.walletcore.ffi.KeyWrapperException
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.ffi.WalletEvent
import org.walletcore.sdk.NativeHce
import java.util.concurrent.CopyOnWriteArrayList
import java.util.concurrent.CountDownLatch
import java.util.concurrent.atomic.AtomicInteger
import java.util.concurrent.atomic.AtomicReference
import kotlin.concurrent.thread
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertTrue

private val reader = MiniReader(NativeHce::processApdu)

fun tapTests() {
    test("a tap through NativeHce reaches the wallet the app opened through UniFFI") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                val card = w.addTestCard(Scheme.VISA, null, 5u)
                val tap = reader.tap(amountMinor = 1234)
                assertEquals("9000", tap.sw, "GPO: ${hex(tap.gpo)}")
                assertEquals("A0000000031010", tap.aid)
                assertEquals(1, tap.atc)
                assertEquals(16, tap.cryptogram?.length, "an 8-byte ARQC")
                NativeHce.deactivate(NativeHce.DEACTIVATION_LINK_LOSS)

                val txns = w.history(HistoryFilter(), 10u, null).records
                assertEquals(1, txns.size)
                val t = txns.single()
                assertEquals(card.id, t.cardId)
                assertEquals(Channel.NFC, t.channel)
                assertEquals(1234uL, t.amountMinor)
                assertEquals(156.toUShort(), t.currency)
                assertEquals(1.toUShort(), t.atc)
                assertEquals(4u, w.card(card.id).keysLeft)
                // The same bytes through UniFFI reach the same card session machinery.
                assertEquals("9000", sw(w.processApdu(unhex("00A404000E325041592E5359532E444446303100"))))
            }
        }
    }

    test("taps on the HCE thread while another thread reads history through UniFFI") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                w.addTestCard(Scheme.UNION_PAY, null, 40u)
                val taps = 30
                val failure = AtomicReference<Throwable?>()
                val reads = AtomicInteger()
                val done = CountDownLatch(1)
                val historyReader = thread(name = "app") {
                    try {
                        while (done.count > 0) {
                            val page = w.history(HistoryFilter(channel = Channel.NFC), 100u, null)
                            check(page.records.size <= taps)
                            w.cards()
                            reads.incrementAndGet()
                        }
                    } catch (e: Throwable) {
                        failure.set(e)
                    }
                }
                val hce = thread(name = "hce-binder") {
                    try {
                        val atcs = (1..taps).map {
                            val tap = reader.tap(amountMinor = 100L + it)
                            check(tap.sw == "9000") { "tap $it: ${hex(tap.gpo)}" }
                            NativeHce.deactivate(NativeHce.DEACTIVATION_DESELECTED)
                            tap.atc
                        }
                        check(atcs == (1..taps).toList()) { "ATCs: $atcs" }
                    } catch (e: Throwable) {
                        failure.compareAndSet(null, e)
                    } finally {
                        done.countDown()
                    }
                }
                hce.join(60_000)
                historyReader.join(10_000)
                failure.get()?.let { throw it }
                assertTrue(reads.get() > 0, "the reader ran")
                val all = w.history(HistoryFilter(), 100u, null).records
                assertEquals(taps, all.size)
                assertEquals((1..taps).map { 100uL + it.toULong() }.toSet(), all.mapNotNull { it.amountMinor }.toSet())
            }
        }
    }

    test("cardholder verification on the phone is in the cryptogram's data") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                w.addTestCard(Scheme.VISA, null, 5u)
                w.unlockForPayment(60u)
                assertEquals("9000", reader.tap(amountMinor = 20_000).sw)
                w.lock()
                assertEquals("9000", reader.tap(amountMinor = 500).sw)
                val byAmount = w.history(HistoryFilter(), 10u, null).records.associateBy { it.amountMinor }
                assertEquals(true, byAmount[20_000uL]?.cdcvm)
                assertEquals(false, byAmount[500uL]?.cdcvm)
            }
        }
    }

    test("the event sink hears taps and keys running low") {
        withTempDir { dir ->
            val events = CopyOnWriteArrayList<WalletEvent>()
            Wallet(WalletConfig(dir.path, replenishThreshold = 1u), AesKeyWrapper()).use { w ->
                w.setEventSink(object : EventSink {
                    override fun onEvent(event: WalletEvent) {
                        events += event
                    }
                })
                val card = w.addTestCard(Scheme.UNION_PAY, null, 3u)
                repeat(3) { assertEquals("9000", reader.tap(amountMinor = 700).sw) }
                val taps = events.filterIsInstance<WalletEvent.TapCompleted>()
                assertEquals(listOf<UShort>(1u, 2u, 3u), taps.map { it.atc })
                assertTrue(taps.all { it.cardId == card.id && it.amountMinor == 700uL && it.currency == 156.toUShort() })
                assertEquals(listOf(WalletEvent.KeysLow(card.id, 1u)), events.filterIsInstance<WalletEvent.KeysLow>())
                assertEquals(listOf(WalletEvent.KeysExhausted(card.id)), events.filterIsInstance<WalletEvent.KeysExhausted>())
                // A sink that throws does not spoil a tap: the key is spent and the answer goes out.
                w.setEventSink(object : EventSink {
                    override fun onEvent(event: WalletEvent) = throw IllegalStateException("ui gone")
                })
                w.addTestCard(Scheme.VISA, null, 2u)
                w.setDefaultCard(w.cards().first { it.scheme == Scheme.VISA }.id)
                assertEquals("9000", reader.tap(amountMinor = 800).sw)
                w.setEventSink(null)
            }
        }
    }

    test("attach opens the wallet for a process a tap started, through a JNI KeyWrapper") {
        withTempDir { dir ->
            val wrapper = AesKeyWrapper()
            openWallet(dir, wrapper).use { it.addTestCard(Scheme.VISA, null, 5u) }
            // The app's handle is gone: a cold-started HCE service finds nothing...
            assertEquals(false, NativeHce.isAttached())
            assertEquals("6985", hex(NativeHce.processApdu(unhex("00A404000E325041592E5359532E444446303100"))))
            // ...and attaches, unwrapping the data key by calling Kotlin through plain JNI.
            val before = wrapper.unwraps.get()
            NativeHce.attach(dir.path, wrapper)
            assertEquals(before + 1, wrapper.unwraps.get())
            assertTrue(NativeHce.isAttached())
            assertEquals("9000", reader.tap(amountMinor = 321).sw)
            NativeHce.attach(dir.path, wrapper)
            assertEquals(before + 1, wrapper.unwraps.get(), "attach is idempotent")
            // The app opening later (with its own configuration) shares the attached wallet's
            // state: its unlock is the one the next tap sees.
            Wallet(WalletConfig(dir.path, replenishThreshold = 2u), wrapper).use { w ->
                assertEquals(1, w.history(HistoryFilter(), 10u, null).records.size)
                w.unlockForPayment(30u)
                assertEquals("9000", reader.tap(amountMinor = 9_000).sw)
                val t = w.history(HistoryFilter(), 10u, null).records.first()
                assertEquals(9_000uL, t.amountMinor)
                assertEquals(true, t.cdcvm)
            }
            // The pin keeps taps working after the app's handle closes.
            assertTrue(NativeHce.isAttached())
            assertEquals("9000", reader.tap(amountMinor = 5).sw)
        }
    }

    test("attach reports key wrapper failures as IllegalStateException with the variant name") {
        withTempDir { dir ->
            val wrapper = AesKeyWrapper()
            openWallet(dir, wrapper).close()
            wrapper.failWith = KeyWrapperException.KeyInvalidated("enrolment changed")
            val e = assertFailsWith<IllegalStateException> { NativeHce.attach(dir.path, wrapper) }
            assertEquals("KeyInvalidated: the wallet's key was invalidated: enrolment changed", e.message)
            wrapper.failWith = KeyWrapperException.Unavailable("device locked")
            val locked = assertFailsWith<IllegalStateException> { NativeHce.attach(dir.path, wrapper) }
            assertTrue(locked.message!!.startsWith("KeyUnavailable: ") && locked.message!!.contains("device locked"), locked.message)
            wrapper.failWith = UnsupportedOperationException("no keystore")
            val other = assertFailsWith<IllegalStateException> { NativeHce.attach(dir.path, wrapper) }
            assertTrue(other.message!!.startsWith("KeyUnavailable: ") && other.message!!.contains("UnsupportedOperationException: no keystore"), other.message)
            val missing = assertFailsWith<IllegalStateException> { NativeHce.attach(dir.resolve("no/such/dir").path, AesKeyWrapper()) }
            assertTrue(missing.message!!.startsWith("Storage: ") && missing.message!!.contains("no/such"), missing.message)
        }
    }
}
