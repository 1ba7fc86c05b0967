package org.walletcore.app.logic

/** Card networks recognisable from the leading digits; only three can be added to the wallet. */
enum class CardScheme(val supported: Boolean, val lengths: Set<Int>) {
    UNIONPAY(true, (16..19).toSet()),
    VISA(true, setOf(13, 16, 19)),
    MASTERCARD(true, setOf(16)),
    AMEX(false, setOf(15)),
    JCB(false, (16..19).toSet()),
    DISCOVER(false, (16..19).toSet()),
    UNKNOWN(false, (12..19).toSet()),
}

/** What the PAN field currently holds. */
sealed interface PanCheck {
    data object Empty : PanCheck

    data class Incomplete(val scheme: CardScheme) : PanCheck

    data class Valid(val scheme: CardScheme) : PanCheck

    data class BadChecksum(val scheme: CardScheme) : PanCheck

    data class Unsupported(val scheme: CardScheme) : PanCheck

    data object TooLong : PanCheck
}

/** A formatted field value and where the cursor goes in it. */
class Reformatted(val chars: CharArray, val cursor: Int)

/**
 * Card-number entry: digits only ever in CharArrays. Issuer prefixes (IIN ranges) as published by
 * the networks' acceptance guides; co-branded UnionPay/Discover 622126-622925 counts as UnionPay,
 * the network the wallet would use.
 */
object CardNumber {
    const val MAX_DIGITS = 19

    private class Range(val digits: Int, val low: Int, val high: Int, val scheme: CardScheme)

    private val ranges = listOf(
        Range(1, 4, 4, CardScheme.VISA),
        Range(2, 51, 55, CardScheme.MASTERCARD),
        Range(4, 2221, 2720, CardScheme.MASTERCARD),
        Range(2, 62, 62, CardScheme.UNIONPAY),
        Range(2, 81, 81, CardScheme.UNIONPAY),
        Range(2, 34, 34, CardScheme.AMEX),
        Range(2, 37, 37, CardScheme.AMEX),
        Range(4, 3528, 3589, CardScheme.JCB),
        Range(4, 6011, 6011, CardScheme.DISCOVER),
        Range(3, 644, 649, CardScheme.DISCOVER),
        Range(2, 65, 65, CardScheme.DISCOVER),
    )

    /** The digits of [input], skipping spaces and dashes; null if anything else is in it. */
    fun digits(input: CharSequence): CharArray? {
        var count = 0
        for (i in input.indices) {
            val c = input[i]
            when {
                c in '0'..'9' -> count++
                c == ' ' || c == '-' -> Unit
                else -> return null
            }
        }
        val out = CharArray(count)
        var j = 0
        for (i in input.indices) if (input[i] in '0'..'9') out[j++] = input[i]
        return out
    }

    /** ISO/IEC 7812-1 check digit (Luhn mod 10) over the whole number, check digit included. */
    fun luhnValid(digits: CharArray): Boolean {
        if (digits.isEmpty() || digits.any { it !in '0'..'9' }) return false
        var sum = 0
        for (i in digits.indices) {
            var d = digits[digits.size - 1 - i] - '0'
            if (i % 2 == 1) {
                d *= 2
                if (d > 9) d -= 9
            }
            sum += d
        }
        return sum % 10 == 0
    }

    /** The network, as soon as the leading digits decide it (UNKNOWN until then). */
    fun scheme(digits: CharArray): CardScheme {
        for (r in ranges) {
            if (digits.size < r.digits) continue
            val p = prefix(digits, r.digits) ?: return CardScheme.UNKNOWN
            if (p in r.low..r.high) return r.scheme
        }
        return CardScheme.UNKNOWN
    }

    /**
     * While the user types ([submitted] false) a number that fails Luhn at a length after which more
     * digits may follow is only "incomplete"; once they submit or leave the field it is a typo.
     */
    fun check(digits: CharArray, submitted: Boolean = false): PanCheck {
        if (digits.isEmpty()) return PanCheck.Empty
        if (digits.size > MAX_DIGITS) return PanCheck.TooLong
        val scheme = scheme(digits)
        if (scheme != CardScheme.UNKNOWN && !scheme.supported) return PanCheck.Unsupported(scheme)
        val complete = digits.size in scheme.lengths
        val luhn = complete && luhnValid(digits)
        return when {
            luhn && scheme == CardScheme.UNKNOWN -> PanCheck.Unsupported(scheme)
            luhn -> PanCheck.Valid(scheme)
            complete && (submitted || digits.size == scheme.lengths.max()) -> PanCheck.BadChecksum(scheme)
            submitted && digits.size > scheme.lengths.max() -> PanCheck.TooLong
            else -> PanCheck.Incomplete(scheme)
        }
    }

    /** Grouped for display: Amex 4-6-5, everything else in fours (19 digits: 4-4-4-4-3). */
    fun format(digits: CharArray): CharArray {
        val groups = if (scheme(digits) == CardScheme.AMEX) intArrayOf(4, 6, 5) else intArrayOf(4, 4, 4, 4, 4)
        val out = StringBuilderFree(digits.size + groups.size)
        var i = 0
        for (g in groups) {
            if (i >= digits.size) break
            if (i > 0) out.add(' ')
            for (k in 0 until g) if (i < digits.size) out.add(digits[i++])
        }
        while (i < digits.size) out.add(digits[i++])
        return out.toCharArray()
    }

    /**
     * Re-formats the field after an edit: keeps at most [MAX_DIGITS] digits, groups them and puts
     * the cursor after the same number of digits as before. The caller wipes both arrays.
     */
    fun reformat(input: CharSequence, cursor: Int): Reformatted {
        var digitsBeforeCursor = 0
        val raw = CharArray(minOf(input.length, MAX_DIGITS))
        var n = 0
        for (i in input.indices) {
            val c = input[i]
            if (c !in '0'..'9' || n == MAX_DIGITS) continue
            raw[n++] = c
            if (i < cursor) digitsBeforeCursor++
        }
        val digits = raw.copyOf(n)
        raw.wipe()
        val formatted = format(digits)
        digits.wipe()
        var pos = 0
        var seen = 0
        while (pos < formatted.size && seen < digitsBeforeCursor) {
            if (formatted[pos] != ' ') seen++
            pos++
        }
        return Reformatted(formatted, pos)
    }

    /** "•••• 1234": the only form in which the app shows a card number. */
    fun masked(last4: String): String = "•••• $last4"

    private fun prefix(digits: CharArray, n: Int): Int? {
        var v = 0
        for (i in 0 until n) {
            val c = digits[i]
            if (c !in '0'..'9') return null
            v = v * 10 + (c - '0')
        }
        return v
    }

    /** A growable CharArray that, unlike StringBuilder, never hands out a String. */
    private class StringBuilderFree(capacity: Int) {
        private var buf = CharArray(capacity)
        private var len = 0

        fun add(c: Char) {
            if (len == buf.size) {
                val bigger = buf.copyOf(buf.size * 2 + 1)
                buf.wipe()
                buf = bigger
            }
            buf[len++] = c
        }

        fun toCharArray(): CharArray = buf.copyOf(len).also { buf.wipe() }
    }
}
