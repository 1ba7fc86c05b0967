//! The device's two key pairs: ECDSA P-256 to sign every request, ECDH P-256 to receive
//! credentials. Generated on the device, the private halves never leave it (they are stored
//! encrypted under the wallet's data key).

use super::jwe::{AgreementKey, EcJwk, JweError};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use zeroize::Zeroizing;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceKeyError {
    #[error("system random generator failed")]
    Random,
    #[error("stored device key is corrupt")]
    Corrupt,
}

impl From<JweError> for DeviceKeyError {
    fn from(_: JweError) -> Self {
        DeviceKeyError::Random
    }
}

/// The device identity. No `Debug`: it holds private keys.
pub struct DeviceKeys {
    signing: EcdsaKeyPair,
    signing_pkcs8: Zeroizing<Vec<u8>>,
    agreement: AgreementKey,
    rng: SystemRandom,
}

impl DeviceKeys {
    pub fn generate() -> Result<Self, DeviceKeyError> {
        let rng = SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| DeviceKeyError::Random)?;
        let pkcs8 = Zeroizing::new(doc.as_ref().to_vec());
        let agreement = AgreementKey::generate()?;
        Self::from_parts(&pkcs8, &agreement.to_bytes()[..])
    }

    /// From the two stored private keys: PKCS#8 for signing, the raw scalar for agreement.
    pub fn from_parts(
        signing_pkcs8: &[u8],
        agreement_scalar: &[u8],
    ) -> Result<Self, DeviceKeyError> {
        let rng = SystemRandom::new();
        let signing =
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, signing_pkcs8, &rng)
                .map_err(|_| DeviceKeyError::Corrupt)?;
        let agreement =
            AgreementKey::from_bytes(agreement_scalar).ok_or(DeviceKeyError::Corrupt)?;
        Ok(Self {
            signing,
            signing_pkcs8: Zeroizing::new(signing_pkcs8.to_vec()),
            agreement,
            rng,
        })
    }

    pub fn signing_pkcs8(&self) -> &[u8] {
        &self.signing_pkcs8
    }

    pub fn agreement_scalar(&self) -> Zeroizing<[u8; 32]> {
        self.agreement.to_bytes()
    }

    pub fn agreement(&self) -> &AgreementKey {
        &self.agreement
    }

    pub fn signing_jwk(&self) -> EcJwk {
        // ring's P-256 public key is always the 65-byte uncompressed point.
        EcJwk::from_sec1(self.signing.public_key().as_ref())
            .unwrap_or_else(|_| self.agreement.public_jwk())
    }

    pub fn agreement_jwk(&self) -> EcJwk {
        let jwk = self.agreement.public_jwk();
        let kid = jwk.thumbprint();
        jwk.with_kid(&kid)
    }

    /// The id the server knows this device by: the signing key's RFC 7638 thumbprint.
    pub fn device_id(&self) -> String {
        self.signing_jwk().thumbprint()
    }

    /// ECDSA P-256 / SHA-256 signature, r‖s (64 bytes), base64url.
    pub fn sign(&self, message: &[u8]) -> Result<String, DeviceKeyError> {
        let sig = self
            .signing
            .sign(&self.rng, message)
            .map_err(|_| DeviceKeyError::Random)?;
        Ok(super::b64::encode(sig.as_ref()))
    }
}
