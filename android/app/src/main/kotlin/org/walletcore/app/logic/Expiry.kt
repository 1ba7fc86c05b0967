package org.walletcore.app.logic

import java.time.YearMonth
import java.util.Locale

/** A card expiry: valid through the last day of [month]/[year]. */
data class Expiry(val month: Int, val year: Int) {
    /** The EMV form (5F24 without the day): YYMM. */
    fun yymm(): String = String.format(Locale.ROOT, "%02d%02d", year % 100, month)
}

sealed interface ExpiryCheck {
    data class Valid(val expiry: Expiry) : ExpiryCheck

    data object Incomplete : ExpiryCheck

    data object BadFormat : ExpiryCheck

    data object BadMonth : ExpiryCheck

    data object Expired : ExpiryCheck

    /** Further out than any issuer sets an expiry ([ExpiryInput.MAX_YEARS_AHEAD] years). */
    data object TooFar : ExpiryCheck
}

/** The expiry field: "MM/YY", "MMYY" or "MM/YYYY" as printed on the card. */
object ExpiryInput {
    const val MAX_YEARS_AHEAD = 20

    fun check(text: CharSequence, today: YearMonth): ExpiryCheck {
        val digits = StringBuilder()
        for (c in text) {
            when (c) {
                in '0'..'9' -> digits.append(c)
                '/', ' ', '-' -> Unit
                else -> return ExpiryCheck.BadFormat
            }
        }
        val month: Int
        val year: Int
        when (digits.length) {
            0, 1, 2, 3, 5 -> return ExpiryCheck.Incomplete // 5: on the way to MM/YYYY
            4 -> {
                month = digits.substring(0, 2).toInt()
                year = 2000 + digits.substring(2, 4).toInt()
            }
            6 -> {
                month = digits.substring(0, 2).toInt()
                year = digits.substring(2, 6).toInt()
            }
            else -> return ExpiryCheck.BadFormat
        }
        if (month !in 1..12) return ExpiryCheck.BadMonth
        val expiry = YearMonth.of(year, month)
        return when {
            expiry.isBefore(today) -> ExpiryCheck.Expired
            expiry.isAfter(today.plusYears(MAX_YEARS_AHEAD.toLong())) -> ExpiryCheck.TooFar
            else -> ExpiryCheck.Valid(Expiry(month, year))
        }
    }

    /**
     * Inserts the slash as the user types ("12" -> "12/", "1227" -> "12/27"). When [inserting] is
     * false (a deletion) two digits stay as they are, so backspace can remove the slash.
     */
    fun autoFormat(text: CharSequence, inserting: Boolean): String {
        val digits = text.filter { it in '0'..'9' }.take(6).toString()
        return when {
            digits.length < 2 -> digits
            digits.length == 2 && !inserting -> digits
            else -> digits.substring(0, 2) + "/" + digits.substring(2)
        }
    }
}
