package org.walletcore.app.logic

import java.net.URI
import java.net.URISyntaxException
import java.util.Base64

sealed interface UrlCheck {
    data class Ok(val url: String) : UrlCheck

    data object NotHttps : UrlCheck

    data object Malformed : UrlCheck
}

sealed interface CaCheck {
    /** No CA configured: the core then has no trust anchor and refuses to provision. */
    data object None : CaCheck

    data class Ok(val certificates: Int) : CaCheck

    data object NotPem : CaCheck
}

/**
 * Where the token service is. The sandbox server runs on the developer's machine; an Android
 * emulator reaches the host's loopback at 10.0.2.2. TLS is always on: the core pins the CA given
 * here and ignores the platform trust store.
 */
object ServerSettings {
    const val EMULATOR_HOST = "10.0.2.2"
    const val DEFAULT_SANDBOX_PORT = 8443

    fun emulatorUrl(port: Int = DEFAULT_SANDBOX_PORT): String = "https://$EMULATOR_HOST:$port"

    fun checkUrl(text: String): UrlCheck {
        val uri = try {
            URI(text.trim())
        } catch (e: URISyntaxException) {
            return UrlCheck.Malformed
        }
        if (!uri.scheme.equals("https", ignoreCase = true)) {
            return if (uri.scheme == null) UrlCheck.Malformed else UrlCheck.NotHttps
        }
        val host = uri.host ?: return UrlCheck.Malformed
        if (uri.userInfo != null || uri.query != null || uri.fragment != null) return UrlCheck.Malformed
        val port = if (uri.port == -1) "" else ":${uri.port}"
        val path = uri.rawPath.orEmpty().trimEnd('/')
        return UrlCheck.Ok("https://${host.lowercase()}$port$path")
    }

    private val pemBlock = Regex("-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\\s]+?)-----END CERTIFICATE-----")

    /** A PEM bundle of one or more X.509 certificates (the bodies must at least be base64 DER). */
    fun checkCaPem(text: String): CaCheck {
        if (text.isBlank()) return CaCheck.None
        val blocks = pemBlock.findAll(text).toList()
        if (blocks.isEmpty()) return CaCheck.NotPem
        for (b in blocks) {
            val der = try {
                Base64.getMimeDecoder().decode(b.groupValues[1].trim())
            } catch (e: IllegalArgumentException) {
                return CaCheck.NotPem
            }
            // DER certificates start with a SEQUENCE tag.
            if (der.size < 64 || der[0] != 0x30.toByte()) return CaCheck.NotPem
        }
        return CaCheck.Ok(blocks.size)
    }
}
