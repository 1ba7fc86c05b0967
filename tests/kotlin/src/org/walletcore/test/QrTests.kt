package org.walletcore.test

import org.walletcore.ffi.QrKind
import org.walletcore.ffi.QrMatrix
import org.walletcore.ffi.QrVerdict
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.parseQr
import java.awt.image.BufferedImage
import java.io.File
import javax.imageio.ImageIO
import kotlin.test.assertEquals
import kotlin.test.assertFalse
import kotlin.test.assertTrue

/**
 * Merchant codes from public repositories' tests (copied from the project's QR corpus,
 * shared/testdata/qr-corpus.jsonl, with each entry's origin).
 */
private object Samples {
    // AbrahamOsmondE/emvqr-parser README.md @a860fa7b (corpus mpm-001): QR Ph, CRC 9EE7.
    const val QRPH = "00020101021128620011ph.ppmi.p2m0111GXCHPHM2XXX032121702000005469871609905030005204581453036085802PH5917S and R MBTC 91826006Taguig6104163062650012ph.ppmi.qrph0308SRSU002005212170500000669901340940708GEN0035163049EE7"

    // phannaly/emv-qr-code README.md @72c5c0fe (corpus mpm-095): UnionPay (ID 15), USD 10.00.
    const val UNIONPAY = "00020101021252044131153137210116372101160123456789ABCDE6010Phnom Penh5913Merchant Shop5802KH540510.005303840622501081234567802090124444446304A0BA"
}

fun qrTests() {
    test("parseQr reads merchant codes from other implementations' tests") {
        val ph = parseQr(Samples.QRPH)
        assertEquals(QrKind.MPM, ph.kind)
        assertEquals(QrVerdict.VALID, ph.verdict)
        assertEquals("S and R MBTC 9182", ph.merchantName)
        assertEquals("Taguig", ph.merchantCity)
        assertEquals("PH", ph.country)
        assertEquals(608.toUShort(), ph.currency)
        assertEquals(null, ph.amount)
        assertEquals("5814", ph.mcc)
        assertTrue(ph.reportJson.contains("\"merchant_name\""), ph.reportJson)

        val up = parseQr(Samples.UNIONPAY)
        assertEquals(QrVerdict.VALID, up.verdict)
        assertEquals("Merchant Shop", up.merchantName)
        assertEquals(Scheme.UNION_PAY, up.scheme)
        assertTrue(up.networks.any { it.contains("UnionPay") }, "${up.networks}")
        assertEquals("10.00", up.amount)
        assertEquals(840.toUShort(), up.currency)
        assertEquals(1_000uL, up.amountMinor)

        // One changed digit: the CRC catches it.
        val tampered = parseQr(Samples.QRPH.replace("Taguig", "Taguih"))
        assertEquals(QrVerdict.INVALID_CRC, tampered.verdict)
        assertFalse(tampered.valid)
    }

    test("parseQr recognises the payment URLs, in any case") {
        val alipay = parseQr("HTTPS://QR.ALIPAY.COM/fkx19283xyz")
        assertEquals(QrKind.URL, alipay.kind)
        assertEquals("alipay", alipay.network)
        val wechat = parseQr("wxp://f2f0Ab-cdEfGh")
        assertEquals(QrKind.URL, wechat.kind)
        assertEquals("wechat_pay", wechat.network)
    }

    test("presentQr issues a code the parser and zbarimg both read") {
        withTempDir { dir ->
            openWallet(dir).use { w ->
                val card = w.addTestCard(Scheme.UNION_PAY, null, 3u)
                val code = w.presentQr(null)
                assertEquals(card.id, code.cardId)
                assertEquals(1.toUShort(), code.atc)
                assertTrue(code.expiresAtMs > code.issuedAtMs, "expires after it was issued")
                assertEquals(60_000L, code.expiresAtMs - code.issuedAtMs)
                val m = code.matrix
                assertEquals((m.size * m.size).toInt(), m.modules.size)
                assertTrue(m.size >= 21u && (m.size - 17u) % 4u == 0u, "a QR version's size: ${m.size}")

                val scanned = parseQr(code.payload)
                assertEquals(QrKind.CPM, scanned.kind)
                assertEquals(QrVerdict.VALID, scanned.verdict)
                assertEquals(code.payload, zbarimg(m, File(dir, "code.png")))

                // Each code spends its own key.
                assertEquals(2.toUShort(), w.presentQr(card.id).atc)
                assertEquals(1u, w.card(card.id).keysLeft)
            }
        }
    }
}

/** Draw [m] with a 4-module quiet zone as Kotlin on a phone would, and decode it with zbarimg. */
private fun zbarimg(m: QrMatrix, png: File, scale: Int = 8): String {
    val n = m.size.toInt()
    val side = (n + 8) * scale
    val img = BufferedImage(side, side, BufferedImage.TYPE_BYTE_GRAY)
    for (y in 0 until side) for (x in 0 until side) {
        val mx = x / scale - 4
        val my = y / scale - 4
        val dark = mx in 0 until n && my in 0 until n && m.modules[my * n + mx] == 1.toByte()
        img.raster.setSample(x, y, 0, if (dark) 0 else 255)
    }
    ImageIO.write(img, "png", png)
    val p = try {
        ProcessBuilder("zbarimg", "--quiet", "--raw", "-Sbinary", png.path).redirectErrorStream(false).start()
    } catch (e: java.io.IOException) {
        throw AssertionError("zbarimg (the independent QR decoder) is needed: apt-get install zbar-tools", e)
    }
    val out = p.inputStream.readBytes().toString(Charsets.UTF_8)
    assertEquals(0, p.waitFor(), "zbarimg failed: ${p.errorStream.readBytes().toString(Charsets.UTF_8)}")
    return out.trimEnd('\n')
}
