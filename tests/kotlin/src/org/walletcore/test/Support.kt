package org.walletcore.test

import org.walletcore.ffi.KeyWrapper
import org.walletcore.ffi.KeyWrapperException
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import java.io.File
import java.security.SecureRandom
import java.util.concurrent.atomic.AtomicInteger
import javax.crypto.AEADBadTagException
import javax.crypto.Cipher
import javax.crypto.spec.GCMParameterSpec
import javax.crypto.spec.SecretKeySpec

/**
 * A Kotlin KeyWrapper: AES-256-GCM under a key held in this object (on a phone the key would
 * live in the Android Keystore). `failWith` makes every call throw, to exercise error mapping.
 */
class AesKeyWrapper(private val kek: ByteArray = ByteArray(32).also { SecureRandom().nextBytes(it) }) : KeyWrapper {
    @Volatile var failWith: Throwable? = null
    val wraps = AtomicInteger()
    val unwraps = AtomicInteger()

    override fun wrap(dataKey: ByteArray): ByteArray {
        failWith?.let { throw it }
        wraps.incrementAndGet()
        val iv = ByteArray(IV).also { SecureRandom().nextBytes(it) }
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.ENCRYPT_MODE, SecretKeySpec(kek, "AES"), GCMParameterSpec(128, iv))
        cipher.updateAAD(AAD)
        val sealed = cipher.doFinal(dataKey)
        dataKey.fill(0)
        return iv + sealed
    }

    override fun unwrap(wrapped: ByteArray): ByteArray {
        failWith?.let { throw it }
        unwraps.incrementAndGet()
        if (wrapped.size < IV + 16) throw KeyWrapperException.Failed("wrapped key too short")
        val cipher = Cipher.getInstance("AES/GCM/NoPadding")
        cipher.init(Cipher.DECRYPT_MODE, SecretKeySpec(kek, "AES"), GCMParameterSpec(128, wrapped, 0, IV))
        cipher.updateAAD(AAD)
        return try {
            cipher.doFinal(wrapped, IV, wrapped.size - IV)
        } catch (e: AEADBadTagException) {
            throw KeyWrapperException.Failed("wrapped key does not open under this key")
        }
    }

    private companion object {
        const val IV = 12
        val AAD = "walletcore-kotlin-test/data-key".toByteArray()
    }
}

fun openWallet(dir: File, wrapper: KeyWrapper = AesKeyWrapper()): Wallet = Wallet(WalletConfig(dir.path), wrapper)

/** Parsed BER-TLV, enough for a reader: tags up to 3 bytes, definite lengths up to 2 bytes. */
class Tlv(val tag: Int, val value: ByteArray, val children: List<Tlv>) {
    fun find(t: Int): Tlv? = if (tag == t) this else children.firstNotNullOfOrNull { it.find(t) }
    fun findAll(t: Int): List<Tlv> = (if (tag == t) listOf(this) else emptyList()) + children.flatMap { it.findAll(t) }

    companion object {
        fun parse(b: ByteArray, from: Int = 0, to: Int = b.size): List<Tlv> {
            val out = mutableListOf<Tlv>()
            var i = from
            while (i < to) {
                if (b[i] == 0x00.toByte() || b[i] == 0xFF.toByte()) { i++; continue }
                val first = b[i].toInt() and 0xFF
                var tag = first
                i++
                if (first and 0x1F == 0x1F) {
                    do { tag = (tag shl 8) or (b[i].toInt() and 0xFF); i++ } while (b[i - 1].toInt() and 0x80 != 0)
                }
                var len = b[i].toInt() and 0xFF
                i++
                if (len == 0x81) { len = b[i].toInt() and 0xFF; i++ } else if (len == 0x82) {
                    len = ((b[i].toInt() and 0xFF) shl 8) or (b[i + 1].toInt() and 0xFF); i += 2
                }
                val value = b.copyOfRange(i, i + len)
                val children = if (first and 0x20 != 0) parse(value) else emptyList()
                out += Tlv(tag, value, children)
                i += len
            }
            return out
        }

        /** A data object list: (tag, length) pairs. */
        fun parseDol(b: ByteArray): List<Pair<Int, Int>> {
            val out = mutableListOf<Pair<Int, Int>>()
            var i = 0
            while (i < b.size) {
                val first = b[i].toInt() and 0xFF
                var tag = first
                i++
                if (first and 0x1F == 0x1F) {
                    do { tag = (tag shl 8) or (b[i].toInt() and 0xFF); i++ } while (b[i - 1].toInt() and 0x80 != 0)
                }
                out += tag to (b[i].toInt() and 0xFF)
                i++
            }
            return out
        }
    }
}

/** What one tap produced, as the reader saw it. */
class TapResult(val aid: String, val sw: String, val atc: Int?, val cryptogram: String?, val gpo: ByteArray)

/**
 * A minimal contactless reader (qVSDC / qPBOC path): SELECT PPSE, SELECT the first AID, GET
 * PROCESSING OPTIONS with the PDOL filled from the transaction. Written from EMV Book C-3/C-7's
 * command layouts, independently of the Rust terminal simulator.
 */
class MiniReader(private val send: (ByteArray) -> ByteArray) {
    fun tap(amountMinor: Long, currency: Int = 156, country: Int = 156): TapResult {
        val ppse = exchange(select("2PAY.SYS.DDF01".toByteArray()))
        check(sw(ppse) == "9000") { "SELECT PPSE: ${hex(ppse)}" }
        val aid = Tlv.parse(ppse, 0, ppse.size - 2).flatMap { it.findAll(0x4F) }.first().value
        val fci = exchange(select(aid))
        check(sw(fci) == "9000") { "SELECT ${hex(aid)}: ${hex(fci)}" }
        val pdol = Tlv.parse(fci, 0, fci.size - 2).firstNotNullOfOrNull { it.find(0x9F38) }?.value ?: ByteArray(0)
        val data = Tlv.parseDol(pdol).flatMap { (tag, len) -> terminalValue(tag, len, amountMinor, currency, country).toList() }.toByteArray()
        val gpo = exchange(byteArrayOf(0x80.toByte(), 0xA8.toByte(), 0, 0, (data.size + 2).toByte(), 0x83.toByte(), data.size.toByte()) + data + byteArrayOf(0))
        val tlv = if (gpo.size > 2) Tlv.parse(gpo, 0, gpo.size - 2) else emptyList()
        val atc = tlv.firstNotNullOfOrNull { it.find(0x9F36) }?.value?.let { ((it[0].toInt() and 0xFF) shl 8) or (it[1].toInt() and 0xFF) }
        val ac = tlv.firstNotNullOfOrNull { it.find(0x9F26) }?.value?.let(::hex)
        return TapResult(hex(aid), sw(gpo), atc, ac, gpo)
    }

    private fun exchange(apdu: ByteArray) = send(apdu)

    private fun select(name: ByteArray) = byteArrayOf(0x00, 0xA4.toByte(), 0x04, 0x00, name.size.toByte()) + name + byteArrayOf(0)

    private fun terminalValue(tag: Int, len: Int, amount: Long, currency: Int, country: Int): ByteArray {
        val v = when (tag) {
            0x9F02 -> bcd(amount, 6)
            0x9F03 -> ByteArray(6)
            0x5F2A -> bcd(currency.toLong(), 2)
            0x9F1A -> bcd(country.toLong(), 2)
            0x9A -> byteArrayOf(0x26, 0x11, 0x21)
            0x9C -> byteArrayOf(0x00)
            0x9F37 -> ByteArray(4).also { SecureRandom().nextBytes(it) }
            // TTQ: qVSDC/qPBOC + online capable; online cryptogram required; CDCVM supported.
            0x9F66 -> byteArrayOf(0x36, 0x80.toByte(), 0x40, 0x00)
            0x9F35 -> byteArrayOf(0x22)
            0x9F34 -> byteArrayOf(0x3F, 0x00, 0x00)
            else -> ByteArray(len)
        }
        return v.copyOf(len)
    }

    private fun bcd(value: Long, bytes: Int): ByteArray {
        val digits = value.toString().padStart(bytes * 2, '0')
        return ByteArray(bytes) { i -> ((digits[2 * i] - '0') shl 4 or (digits[2 * i + 1] - '0')).toByte() }
    }
}
