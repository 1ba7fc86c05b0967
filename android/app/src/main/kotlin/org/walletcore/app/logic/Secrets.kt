package org.walletcore.app.logic

// Helpers for card data and OTPs, which must never become a String (a String cannot be wiped
// and lives until the collector gets to it).

/** Copies a CharSequence (an EditText's Editable) into a CharArray without making a String. */
fun CharSequence.toCharArrayNoString(): CharArray = CharArray(length) { this[it] }

fun CharArray.wipe() = fill('\u0000')

fun ByteArray.wipe() = fill(0)

/** ASCII characters to bytes ('0' -> 0x30), the form the core takes a PAN or an OTP in. */
fun CharArray.toAsciiBytes(): ByteArray = ByteArray(size) { this[it].code.toByte() }

/** Runs [block] on this array and wipes it afterwards, whatever happens. */
inline fun <R> CharArray.useThenWipe(block: (CharArray) -> R): R =
    try {
        block(this)
    } finally {
        wipe()
    }

/** Runs [block] on this array and wipes it afterwards, whatever happens. */
inline fun <R> ByteArray.useThenWipe(block: (ByteArray) -> R): R =
    try {
        block(this)
    } finally {
        wipe()
    }
