package org.walletcore.app.logic

/** ARGB pixels ready for `Bitmap.createBitmap(pixels, width, width, ARGB_8888)`. */
class QrRaster(val width: Int, val pixels: IntArray)

/**
 * The core hands over a QR matrix (row-major, one byte per module, non-zero = dark, no quiet
 * zone); the app scales it to whole pixels per module so every module stays crisp for a scanner.
 */
object QrRender {
    /** ISO/IEC 18004 asks for a 4-module light margin around the symbol. */
    const val QUIET_ZONE = 4
    const val DARK = 0xFF000000.toInt()
    const val LIGHT = 0xFFFFFFFF.toInt()

    /** Versions 1-40: 21..177 modules, in steps of 4. */
    fun isValidSize(size: Int): Boolean = size in 21..177 && (size - 17) % 4 == 0

    /**
     * The largest whole-pixel rendering that fits in [maxPx] (at least one pixel per module), or
     * null when [modules] does not describe a [size] x [size] symbol.
     */
    fun rasterize(size: Int, modules: ByteArray, maxPx: Int, quietZone: Int = QUIET_ZONE): QrRaster? {
        if (!isValidSize(size) || modules.size != size * size || quietZone < 0) return null
        val span = size + 2 * quietZone
        val scale = maxOf(1, maxPx / span)
        val width = span * scale
        val pixels = IntArray(width * width) { LIGHT }
        for (row in 0 until size) {
            for (col in 0 until size) {
                if (modules[row * size + col].toInt() == 0) continue
                val y0 = (row + quietZone) * scale
                val x0 = (col + quietZone) * scale
                for (y in y0 until y0 + scale) pixels.fill(DARK, y * width + x0, y * width + x0 + scale)
            }
        }
        return QrRaster(width, pixels)
    }
}
