package org.walletcore.app.logic

import java.math.BigDecimal
import java.text.NumberFormat
import java.util.Currency
import java.util.Locale

/**
 * Amounts travel as minor units plus an ISO 4217 numeric currency code (EMV 5F2A / 9F02). The
 * exponent and symbol come from the platform's currency data (java.util.Currency), not a table here.
 */
object Money {
    /** EMV amount fields (QR tag 54) hold at most 13 characters. */
    const val MAX_AMOUNT_CHARS = 13

    private val byNumeric: Map<Int, Currency> by lazy {
        Currency.getAvailableCurrencies().filter { it.numericCode > 0 }.associateBy { it.numericCode }
    }

    fun currency(numeric: Int): Currency? = byNumeric[numeric]

    /** Digits after the decimal point: 2 for CNY, 0 for JPY, 3 for BHD; 2 for unknown codes. */
    fun exponent(numeric: Int): Int = currency(numeric)?.defaultFractionDigits?.takeIf { it >= 0 } ?: 2

    fun format(minor: Long, numeric: Int, locale: Locale): String {
        val exp = exponent(numeric)
        val value = BigDecimal.valueOf(minor, exp)
        val currency = currency(numeric) ?: return value.toPlainString() + " (" + String.format(Locale.ROOT, "%03d", numeric) + ")"
        val format = NumberFormat.getCurrencyInstance(locale)
        format.currency = currency
        format.minimumFractionDigits = exp
        format.maximumFractionDigits = exp
        return format.format(value)
    }

    /**
     * A user-typed amount in major units ("12.5") to minor units (1250), or null when it is not a
     * positive amount this currency can express (too many decimals, too long, not a number).
     */
    fun parse(text: CharSequence, numeric: Int): Long? {
        val trimmed = text.trim().toString()
        if (trimmed.isEmpty() || trimmed.length > MAX_AMOUNT_CHARS) return null
        if (!trimmed.all { it in '0'..'9' || it == '.' }) return null
        val value = trimmed.toBigDecimalOrNull() ?: return null
        val exp = exponent(numeric)
        if (value.signum() <= 0 || value.stripTrailingZeros().scale() > exp) return null
        return try {
            value.movePointRight(exp).longValueExact()
        } catch (e: ArithmeticException) {
            null
        }
    }
}
