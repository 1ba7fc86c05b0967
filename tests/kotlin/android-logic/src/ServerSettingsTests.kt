package org.walletcore.app.logic.tests

import java.util.Base64
import kotlin.test.assertEquals
import org.walletcore.app.logic.CaCheck
import org.walletcore.app.logic.ServerSettings
import org.walletcore.app.logic.UrlCheck

fun serverSettingsTests() = suite("ServerSettings") {
    test("the emulator reaches the host at 10.0.2.2") {
        assertEquals("https://10.0.2.2:8443", ServerSettings.emulatorUrl())
        assertEquals(UrlCheck.Ok("https://10.0.2.2:8443"), ServerSettings.checkUrl(ServerSettings.emulatorUrl()))
    }
    test("URLs are normalised, https only") {
        assertEquals(UrlCheck.Ok("https://sandbox.example:9443/api"), ServerSettings.checkUrl(" HTTPS://Sandbox.Example:9443/api/ "))
        assertEquals(UrlCheck.NotHttps, ServerSettings.checkUrl("http://10.0.2.2:8080"))
        assertEquals(UrlCheck.Malformed, ServerSettings.checkUrl("10.0.2.2:8443"))
        assertEquals(UrlCheck.Malformed, ServerSettings.checkUrl("https://"))
        assertEquals(UrlCheck.Malformed, ServerSettings.checkUrl("https://user:pw@host"))
        assertEquals(UrlCheck.Malformed, ServerSettings.checkUrl("https://exa mple"))
    }
    test("CA PEM bundles are checked for DER certificates") {
        // A DER-looking body: SEQUENCE tag followed by enough bytes.
        val der = ByteArray(300) { if (it == 0) 0x30 else it.toByte() }
        val body = Base64.getMimeEncoder(64, "\n".toByteArray()).encodeToString(der)
        val pem = "-----BEGIN CERTIFICATE-----\n$body\n-----END CERTIFICATE-----\n"
        assertEquals(CaCheck.Ok(1), ServerSettings.checkCaPem(pem))
        assertEquals(CaCheck.Ok(2), ServerSettings.checkCaPem(pem + pem))
        assertEquals(CaCheck.None, ServerSettings.checkCaPem("  \n"))
        assertEquals(CaCheck.NotPem, ServerSettings.checkCaPem("hello"))
        assertEquals(CaCheck.NotPem, ServerSettings.checkCaPem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"))
        assertEquals(CaCheck.NotPem, ServerSettings.checkCaPem(pem.replace("-----BEGIN CERTIFICATE-----\n", "-----BEGIN CERTIFICATE-----\n!!")))
    }
}
