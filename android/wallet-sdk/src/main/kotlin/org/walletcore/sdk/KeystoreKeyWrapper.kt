package org.walletcore.sdk

import android.content.Context
import android.content.pm.PackageManager
import android.os.Build
import android.security.keystore.KeyGenParameterSpec
import android.security.keystore.KeyPermanentlyInvalidatedException
import android.security.keystore.KeyProperties
import android.security.keystore.StrongBoxUnavailableException
import android.security.keystore.UserNotAuthenticatedException
import java.security.GeneralSecurityException
import java.security.KeyStore
import java.security.ProviderException
import java.security.SecureRandom
import javax.crypto.Cipher
import javax.crypto.KeyGenerator
import javax.crypto.SecretKey
import javax.crypto.spec.GCMParameterSpec
import org.walletcore.ffi.KeyWrapper
import org.walletcore.ffi.KeyWrapperException

/**
 * Wraps the wallet's data-encryption key with Android Keystore keys that never leave secure
 * hardware. Two AES-256-GCM keys, StrongBox-backed when the device has StrongBox (falling back to
 * the TEE), both usable only while the device is unlocked (`setUnlockedDeviceRequired`):
 *
 * - the **wrapping key** wraps and unwraps the data key. It needs no per-use authentication: the
 *   payment service must open the wallet on a tap without showing UI.
 * - the **CDCVM key** needs a strong biometric for every use and is invalidated by the platform
 *   when biometric enrolment changes. The pay screen authenticates through it (a BiometricPrompt
 *   CryptoObject, see [cdcvmCipher]); `wrap` and `unwrap` first check it is still valid. A new
 *   fingerprint therefore ends the wallet's keys: both Keystore entries are deleted, the core gets
 *   [KeyWrapperException.KeyInvalidated] and the app asks the user to add the cards again.
 *
 * Wrapped format: `01 | IV (12) | ciphertext + tag (16)`, with a fixed AAD naming the purpose.
 */
class KeystoreKeyWrapper(private val strongBox: Boolean) : KeyWrapper {

    private val keyStore: KeyStore = KeyStore.getInstance(ANDROID_KEYSTORE).apply { load(null) }

    override fun wrap(dek: ByteArray): ByteArray = keystoreCall("wrap") {
        checkCdcvmKeyValid()
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.ENCRYPT_MODE, wrappingKey(create = true))
        cipher.updateAAD(AAD)
        val sealed = cipher.doFinal(dek)
        byteArrayOf(FORMAT_V1) + cipher.iv + sealed
    }

    override fun unwrap(blob: ByteArray): ByteArray = keystoreCall("unwrap") {
        if (blob.size < 1 + IV_BYTES + TAG_BITS / 8 || blob[0] != FORMAT_V1) {
            throw KeyWrapperException.Failed("unwrap: unknown wrapped-key format")
        }
        checkCdcvmKeyValid()
        val key = wrappingKey(create = false)
            ?: throw KeyWrapperException.KeyInvalidated("unwrap: the wrapping key no longer exists")
        val cipher = Cipher.getInstance(TRANSFORMATION)
        cipher.init(Cipher.DECRYPT_MODE, key, GCMParameterSpec(TAG_BITS, blob, 1, IV_BYTES))
        cipher.updateAAD(AAD)
        cipher.doFinal(blob, 1 + IV_BYTES, blob.size - 1 - IV_BYTES)
    }

    /**
     * A cipher for `BiometricPrompt.CryptoObject`: it works only after a strong biometric
     * authentication, so [proveAuthenticated] on it shows the prompt really succeeded. Null when no
     * strong biometric is enrolled (the caller falls back to the device credential).
     *
     * @throws KeyWrapperException.KeyInvalidated when enrolment changed since the key was made.
     */
    fun cdcvmCipher(): Cipher? = keystoreCall("cdcvm") {
        val key = cdcvmKey() ?: return@keystoreCall null
        Cipher.getInstance(TRANSFORMATION).apply { init(Cipher.ENCRYPT_MODE, key) }
    }

    /** Uses the authenticated [cipher] once; throws unless the biometric prompt authorised it. */
    fun proveAuthenticated(cipher: Cipher) {
        keystoreCall("cdcvm") { cipher.doFinal(ByteArray(16).also { SecureRandom().nextBytes(it) }) }
    }

    /** Deletes both Keystore keys: whatever they wrapped is unrecoverable afterwards. */
    fun reset() {
        keyStore.deleteEntry(WRAP_ALIAS)
        keyStore.deleteEntry(CDCVM_ALIAS)
    }

    private fun checkCdcvmKeyValid() {
        val key = keyStore.getKey(CDCVM_ALIAS, null) as SecretKey? ?: return
        try {
            Cipher.getInstance(TRANSFORMATION).init(Cipher.ENCRYPT_MODE, key)
        } catch (e: KeyPermanentlyInvalidatedException) {
            reset()
            throw KeyWrapperException.KeyInvalidated("biometric enrolment changed")
        }
    }

    private fun wrappingKey(create: Boolean): SecretKey? =
        keyStore.getKey(WRAP_ALIAS, null) as SecretKey?
            ?: if (create) generate(WRAP_ALIAS, perUseBiometric = false).also { cdcvmKey() } else null

    /** The CDCVM key, made on first use; null when no strong biometric is enrolled. */
    private fun cdcvmKey(): SecretKey? =
        keyStore.getKey(CDCVM_ALIAS, null) as SecretKey?
            ?: try {
                generate(CDCVM_ALIAS, perUseBiometric = true)
            } catch (e: GeneralSecurityException) {
                null // InvalidAlgorithmParameterException: no biometric enrolled
            } catch (e: IllegalStateException) {
                null
            }

    private fun generate(alias: String, perUseBiometric: Boolean): SecretKey {
        fun spec(inStrongBox: Boolean): KeyGenParameterSpec =
            KeyGenParameterSpec.Builder(alias, KeyProperties.PURPOSE_ENCRYPT or KeyProperties.PURPOSE_DECRYPT)
                .setBlockModes(KeyProperties.BLOCK_MODE_GCM)
                .setEncryptionPaddings(KeyProperties.ENCRYPTION_PADDING_NONE)
                .setKeySize(256)
                .setRandomizedEncryptionRequired(true)
                .setUnlockedDeviceRequired(true)
                .setIsStrongBoxBacked(inStrongBox)
                .apply {
                    if (perUseBiometric) {
                        setUserAuthenticationRequired(true)
                        setInvalidatedByBiometricEnrollment(true)
                        if (Build.VERSION.SDK_INT >= Build.VERSION_CODES.R) {
                            setUserAuthenticationParameters(0, KeyProperties.AUTH_BIOMETRIC_STRONG)
                        }
                    }
                }
                .build()

        val generator = KeyGenerator.getInstance(KeyProperties.KEY_ALGORITHM_AES, ANDROID_KEYSTORE)
        if (strongBox) {
            try {
                generator.init(spec(inStrongBox = true))
                return generator.generateKey()
            } catch (e: StrongBoxUnavailableException) {
                // Advertised but busy or unable to hold this key: the TEE is the documented fallback.
            }
        }
        generator.init(spec(inStrongBox = false))
        return generator.generateKey()
    }

    /** Maps platform failures to the typed errors the core understands; no secret in any message. */
    private inline fun <T> keystoreCall(op: String, block: () -> T): T =
        try {
            block()
        } catch (e: KeyWrapperException) {
            throw e
        } catch (e: KeyPermanentlyInvalidatedException) {
            reset()
            throw KeyWrapperException.KeyInvalidated("$op: Keystore key permanently invalidated")
        } catch (e: UserNotAuthenticatedException) {
            throw KeyWrapperException.Unavailable("$op: unlock the device first")
        } catch (e: GeneralSecurityException) {
            throw KeyWrapperException.Failed("$op: ${e.javaClass.simpleName}")
        } catch (e: ProviderException) {
            throw KeyWrapperException.Failed("$op: ${e.javaClass.simpleName}")
        }

    companion object {
        private const val ANDROID_KEYSTORE = "AndroidKeyStore"
        private const val TRANSFORMATION = "AES/GCM/NoPadding"
        const val WRAP_ALIAS = "walletcore.dek-wrap.v1"
        const val CDCVM_ALIAS = "walletcore.cdcvm.v1"
        private const val FORMAT_V1: Byte = 1
        private const val IV_BYTES = 12
        private const val TAG_BITS = 128
        private val AAD = "walletcore/data-key/v1".toByteArray()

        fun forContext(context: Context): KeystoreKeyWrapper =
            KeystoreKeyWrapper(context.packageManager.hasSystemFeature(PackageManager.FEATURE_STRONGBOX_KEYSTORE))
    }
}
