package org.walletcore.test

import org.walletcore.ffi.CardDetails
import org.walletcore.ffi.CardStatus
import org.walletcore.ffi.Channel
import org.walletcore.ffi.HistoryFilter
import org.walletcore.ffi.ProvisioningState
import org.walletcore.ffi.Scheme
import org.walletcore.ffi.ServerConfig
import org.walletcore.ffi.TxnStatus
import org.walletcore.ffi.Wallet
import org.walletcore.ffi.WalletConfig
import org.walletcore.ffi.WalletException
import org.walletcore.ffi.parseQr
import org.walletcore.sdk.NativeHce
import java.io.File
import kotlin.test.assertEquals
import kotlin.test.assertFailsWith
import kotlin.test.assertNotNull
import kotlin.test.assertTrue

/** The sandbox token service run.sh started on loopback (its URL, pinned CA and directory). */
private object Sandbox {
    private fun prop(name: String): String =
        System.getProperty("walletcore.sandbox.$name")?.takeIf { it.isNotEmpty() }
            ?: throw AssertionError("no sandbox token service: run these tests with tests/kotlin/run.sh, which starts one")

    val url get() = prop("url")
    val caPem get() = File(prop("ca")).readText()

    /** The one-time code the sandbox "sent" for a provisioning (its OTP outbox). */
    fun otp(provisioningId: String): String {
        val text = File(prop("dir"), "otp-outbox/$provisioningId.json").readText()
        return Regex("\"otp\"\\s*:\\s*\"(\\d+)\"").find(text)?.groupValues?.get(1) ?: error("no otp in $text")
    }
}

/** Test cards from the sandbox's catalogue (wallet-sandbox test-cards): made-up, Luhn-valid. */
private object Cards {
    const val VISA_APPROVE = "4000123400000008"
    const val VISA_OTP = "4000123400000016"
    const val VISA_DECLINE = "4000123400000024"
    const val VISA_INELIGIBLE = "4000123400000032"
    const val UNIONPAY_APPROVE = "6212340000000001"
}

private fun details(pan: String, name: String = "ALEX DOE") = CardDetails(pan.toByteArray(), 12u, 2035u, name)

private fun withServerWallet(block: (Wallet) -> Unit) = withTempDir { dir ->
    Wallet(WalletConfig(dir.path, ServerConfig(Sandbox.url, Sandbox.caPem)), AesKeyWrapper()).use(block)
}

fun provisioningTests() {
    test("provisioning against the sandbox token service, then a tap with the token") {
        withServerWallet { w ->
            val pan = details(Cards.VISA_APPROVE)
            val eligible = w.addCard(pan)
            pan.pan.fill(0)
            assertEquals(ProvisioningState.ELIGIBLE, eligible.state)
            assertEquals(Scheme.VISA, eligible.scheme)
            assertEquals("0008", eligible.panSuffix)
            val terms = assertNotNull(eligible.terms)
            assertTrue(terms.text.isNotBlank())

            val done = w.acceptTerms(eligible.id)
            assertEquals(ProvisioningState.ACTIVE, done.state, "last error: ${done.lastError}")
            val cardId = assertNotNull(done.cardId)
            val card = w.card(cardId)
            assertEquals(Scheme.VISA, card.scheme)
            assertTrue(card.keysLeft > 0u)
            assertTrue(!card.maskedPan.endsWith("0008"), "the wallet holds a token, not the card number: ${card.maskedPan}")
            assertEquals(listOf(eligible.id), w.provisionings().map { it.id })

            val tap = MiniReader(NativeHce::processApdu).tap(amountMinor = 2_500)
            assertEquals("9000", tap.sw)
            // The token service learns of the payment from the issuer; sync brings the status.
            val report = w.sync()
            assertTrue(report.deferred.isEmpty(), "deferred: ${report.deferred}")
            val t = w.history(HistoryFilter(cardId = cardId), 10u, null).records.single()
            assertEquals(2_500uL, t.amountMinor)
        }
    }

    test("provisioning with a one-time code, a wrong one first") {
        withServerWallet { w ->
            val p = w.acceptTerms(w.addCard(details(Cards.VISA_OTP, "SAM DOE")).id)
            assertEquals(ProvisioningState.IDV_REQUIRED, p.state)
            assertTrue(p.idvMethods.isNotEmpty())
            val method = p.idvMethods.first()
            assertTrue(method.target.contains("*"), "the destination is masked: ${method.target}")
            val pending = w.selectIdvMethod(p.id, method.id)
            assertEquals(ProvisioningState.IDV_PENDING, pending.state)

            val right = Sandbox.otp(p.id)
            val wrong = (if (right.first() == '1') "2" else "1") + right.drop(1)
            val rejected = assertFailsWith<WalletException.OtpRejected> { w.submitOtp(p.id, wrong.toByteArray()) }
            assertEquals(2u, rejected.attemptsLeft)
            val active = w.submitOtp(p.id, right.toByteArray())
            assertEquals(ProvisioningState.ACTIVE, active.state)
            assertEquals(1, w.cards().size)
        }
    }

    test("a declined card, bad card data and an unreachable server are typed errors") {
        withServerWallet { w ->
            // The issuer declines at tokenization: the provisioning ends, declined.
            val declined = w.acceptTerms(w.addCard(details(Cards.VISA_DECLINE, "JO DOE")).id)
            assertEquals(ProvisioningState.DECLINED, declined.state)
            // The issuer does not take part: refused at eligibility, as an error.
            val refused = assertFailsWith<WalletException.Declined> { w.addCard(details(Cards.VISA_INELIGIBLE, "KIM DOE")) }
            assertTrue(refused.reason.isNotBlank())
            assertEquals(emptyList(), w.cards())
            assertFailsWith<WalletException.InvalidInput> { w.addCard(details("4000123400000009")) } // Luhn
            assertFailsWith<WalletException.InvalidInput> { w.addCard(CardDetails("4000123400000008".toByteArray(), 13u, 2035u, "A")) }
        }
        withTempDir { dir ->
            // A port nobody listens on.
            val dead = java.net.ServerSocket(0).use { it.localPort }
            Wallet(WalletConfig(dir.path, ServerConfig("https://127.0.0.1:$dead", Sandbox.caPem)), AesKeyWrapper()).use { w ->
                assertFailsWith<WalletException.Network> { w.addCard(details(Cards.VISA_APPROVE)) }
            }
        }
    }

    test("lifecycle at the token service, and paying a merchant code") {
        withServerWallet { w ->
            val p = w.acceptTerms(w.addCard(details(Cards.UNIONPAY_APPROVE, "LI LEI")).id)
            val cardId = assertNotNull(p.cardId)
            w.suspendCard(cardId)
            assertEquals(CardStatus.SUSPENDED, w.card(cardId).status)
            w.resumeCard(cardId)
            w.sync()
            assertEquals(CardStatus.ACTIVE, w.card(cardId).status)
            assertTrue(w.card(cardId).keysLeft > 0u, "keys replenished after resume")

            // A UnionPay merchant code from another implementation's tests (corpus mpm-068,
            // dongri/emv-qrcode emv/mpm/emv_mpm_test.go @d0be31ef), with no amount: the payer enters it.
            val code = UNIONPAY_STATIC_MPM
            val scanned = parseQr(code)
            assertTrue(scanned.canPay, scanned.reason)
            assertEquals(Scheme.UNION_PAY, scanned.scheme)
            val missing = assertFailsWith<WalletException.InvalidInput> { w.payMerchantQr(code, null, null) }
            assertTrue(missing.reason.contains("amount"), missing.reason)
            val paid = w.payMerchantQr(code, "12.30", null)
            assertEquals(cardId, paid.cardId)
            assertEquals(1_230uL, paid.amountMinor)
            assertTrue(paid.approved, "${paid.responseCode} ${paid.reason}")
            val t = w.history(HistoryFilter(channel = Channel.QR_SCANNED), 10u, null).records.single()
            assertEquals(TxnStatus.APPROVED, t.status)

            w.removeCard(cardId)
            assertEquals(emptyList(), w.cards())
        }
    }
}

private const val UNIONPAY_STATIC_MPM = "00020101021115312031041800520446JDBMSZZXE44BFS038680016A00526628466257701083217041802030020325mchVKyozC3MbjS51h67qal4Os5204581253034185802LA5915JDBMSZZXE44BFS06009Vientiane63043F88"
