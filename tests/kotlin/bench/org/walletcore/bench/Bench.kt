package org.walletcore.bench

import org.walletcore.ffi.KeyWrapper
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.sdk.NativeHce
import java.nio.file.Files
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec
import kotlin.system.exitProcess

/**
 * The FFI's cost seen from Kotlin: one APDU through NativeHce (JNI) against the same bytes
 * through the UniFFI `Wallet.processApdu` (JNA), and the time to open a wallet.
 * Medians over batches; the JIT is warmed first. Prints one `name: value` line per figure.
 */

/** SELECT PPSE: repeatable (spends no key), answered from the card session's precomputed FCI. */
private val SELECT_PPSE = hex("00A404000E325041592E5359532E444446303100")

private class BenchKeyWrapper : KeyWrapper {
    private val kek = ByteArray(32).also { SecureRandom().nextBytes(it) }
    override fun wrap(dataKey: ByteArray): ByteArray {
        val iv = ByteArray(12).also { SecureRandom().nextBytes(it) }
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.ENCRYPT_MODE, SecretKeySpec(kek, "AES"), GCMParameterSpec(128, iv))
        return iv + c.doFinal(dataKey)
    }
    override fun unwrap(wrapped: ByteArray): ByteArray {
        val c = Cipher.getInstance("AES/GCM/NoPadding")
        c.init(Cipher.DECRYPT_MODE, SecretKeySpec(kek, "AES"), GCMParameterSpec(128, wrapped, 0, 12))
        return c.doFinal(wrapped, 12, wrapped.size - 12)
    }
}

private fun hex(s: String) = s.chunked(2).map { it.toInt(16).toByte() }.toByteArray()

private fun median(xs: List<Double>) = xs.sorted().let { if (it.size % 2 == 1) it[it.size / 2] else (it[it.size / 2 - 1] + it[it.size / 2]) / 2 }

/** Nanoseconds per call: the median over `batches` batches of `perBatch` calls. */
private inline fun perCall(batches: Int, perBatch: Int, call: () -> Unit): Double {
    repeat(perBatch * 10) { call() } // warm-up
    val samples = (1..batches).map {
        val t0 = System.nanoTime()
        repeat(perBatch) { call() }
        (System.nanoTime() - t0).toDouble() / perBatch
    }
    return median(samples)
}

fun main() {
    val home = Files.createTempDirectory("walletcore-bench").toFile()
    try {
        val wrapper = BenchKeyWrapper()
        val create = System.nanoTime()
        Wallet(WalletConfig(home.path), wrapper).use { w ->
            println("create_wallet_ms: %.2f".format((System.nanoTime() - create) / 1e6))
            for (s in listOf(Scheme.UNION_PAY, Scheme.VISA, Scheme.MASTERCARD)) w.addTestCard(s, null, 50u)

            check(NativeHce.processApdu(SELECT_PPSE).takeLast(2) == listOf(0x90.toByte(), 0)) { "SELECT PPSE failed" }
            var sink = 0
            val jni = perCall(200, 2_000) { sink += NativeHce.processApdu(SELECT_PPSE).size }
            val uniffi = perCall(200, 2_000) { sink += w.processApdu(SELECT_PPSE).size }
            // The JNI transport alone: a command the card rejects before any work (6E00).
            val jniReject = perCall(200, 2_000) { sink += NativeHce.processApdu(byteArrayOf(0x7F, 0, 0, 0)).size }
            check(sink > 0)
            println("jni_select_ppse_ns: %.0f".format(jni))
            println("uniffi_select_ppse_ns: %.0f".format(uniffi))
            println("uniffi_over_jni_ratio: %.1f".format(uniffi / jni))
            println("jni_rejected_command_ns: %.0f".format(jniReject))
        }
        // Reopening an existing wallet (3 cards): the unwrap, the SQLite open and checks, the
        // card engine. Each `use` closes it again, so every round is a real open.
        val opens = (1..30).map {
            val t0 = System.nanoTime()
            Wallet(WalletConfig(home.path), wrapper).use { it.cards() }
            (System.nanoTime() - t0) / 1e6
        }
        println("open_wallet_ms: %.2f".format(median(opens.drop(5))))
    } finally {
        home.deleteRecursively()
    }
    exitProcess(0)
}
