package org.walletcore.app.logic.tests

import kotlin.test.assertEquals
import kotlin.test.assertNotNull
import kotlin.test.assertNull
import kotlin.test.assertTrue
import org.walletcore.app.logic.QrRender

fun qrRenderTests() = suite("QrRender") {
    // A version-1 (21x21) matrix with a recognisable pattern: dark where (row + col) % 3 == 0.
    val size = 21
    val modules = ByteArray(size * size) { i -> if ((i / size + i % size) % 3 == 0) 1 else 0 }

    test("valid symbol sizes are 21..177 in steps of 4") {
        assertTrue(QrRender.isValidSize(21))
        assertTrue(QrRender.isValidSize(25))
        assertTrue(QrRender.isValidSize(177))
        for (bad in listOf(0, 17, 20, 22, 181)) assertTrue(!QrRender.isValidSize(bad), "$bad")
    }
    test("whole pixels per module, quiet zone included, fits the requested size") {
        val r = assertNotNull(QrRender.rasterize(size, modules, maxPx = 300))
        // 21 + 8 = 29 modules wide; 300 / 29 = 10 px each
        assertEquals(290, r.width)
        assertEquals(290 * 290, r.pixels.size)
    }
    test("every module maps to a uniform square of the right colour") {
        val r = assertNotNull(QrRender.rasterize(size, modules, maxPx = 300))
        val scale = 10
        for (row in 0 until size) for (col in 0 until size) {
            val want = if (modules[row * size + col].toInt() != 0) QrRender.DARK else QrRender.LIGHT
            for (dy in 0 until scale) for (dx in 0 until scale) {
                val y = (row + 4) * scale + dy
                val x = (col + 4) * scale + dx
                assertEquals(want, r.pixels[y * r.width + x], "module $row,$col pixel $dx,$dy")
            }
        }
    }
    test("the quiet zone is light") {
        val r = assertNotNull(QrRender.rasterize(size, modules, maxPx = 300))
        for (x in 0 until r.width) for (y in 0 until 40) assertEquals(QrRender.LIGHT, r.pixels[y * r.width + x])
    }
    test("a tiny target still gives one pixel per module") {
        val r = assertNotNull(QrRender.rasterize(size, modules, maxPx = 10))
        assertEquals(29, r.width)
    }
    test("a matrix that does not match its size is refused, not drawn") {
        assertNull(QrRender.rasterize(size, ByteArray(size * size - 1), maxPx = 300))
        assertNull(QrRender.rasterize(22, ByteArray(22 * 22), maxPx = 300))
        assertNull(QrRender.rasterize(size, modules, maxPx = 300, quietZone = -1))
    }
}
