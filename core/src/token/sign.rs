//! Request signing: every device request carries an ECDSA P-256 signature over its method,
//! path, body hash, timestamp, nonce, device id and idempotency key. The server recomputes the
//! same string (this module is shared by both sides) and refuses a bad signature, a timestamp
//! outside the window, or a nonce it has already seen.

use super::b64;
use ring::digest;
use ring::signature::{ECDSA_P256_SHA256_FIXED, UnparsedPublicKey};

pub const HEADER_DEVICE: &str = "x-wc-device";
pub const HEADER_TIMESTAMP: &str = "x-wc-timestamp";
pub const HEADER_NONCE: &str = "x-wc-nonce";
pub const HEADER_SIGNATURE: &str = "x-wc-signature";
pub const HEADER_IDEMPOTENCY: &str = "idempotency-key";

/// How far a request's timestamp may be from the server's clock, either way.
pub const MAX_SKEW_SECS: u64 = 300;
/// Nonce and idempotency-key length limits: 16–64 characters of base64url/hex.
pub const MIN_TOKEN_LEN: usize = 16;
pub const MAX_TOKEN_LEN: usize = 64;

const SCHEME: &str = "WC1-ECDSA-P256-SHA256";

/// What is signed, one field a line.
pub struct Canonical<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub body: &'a [u8],
    pub timestamp: u64,
    pub nonce: &'a str,
    pub device_id: &'a str,
    pub idempotency_key: &'a str,
}

impl Canonical<'_> {
    pub fn to_bytes(&self) -> Vec<u8> {
        let body_hash = hex::encode(digest::digest(&digest::SHA256, self.body));
        format!(
            "{SCHEME}\n{}\n{}\n{body_hash}\n{}\n{}\n{}\n{}",
            self.method.to_ascii_uppercase(),
            self.path,
            self.timestamp,
            self.nonce,
            self.device_id,
            self.idempotency_key
        )
        .into_bytes()
    }
}

/// Check a base64url r‖s signature against an uncompressed SEC1 P-256 public key.
pub fn verify(public_sec1: &[u8], message: &[u8], signature_b64: &str) -> bool {
    let Ok(sig) = b64::decode(signature_b64) else {
        return false;
    };
    UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, public_sec1)
        .verify(message, &sig)
        .is_ok()
}

/// Nonces and idempotency keys: bounded length, URL-safe characters only.
pub fn valid_token(s: &str) -> bool {
    (MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A fresh random token (nonce, idempotency key, provisioning id): 16 random bytes, hex.
pub fn random_token() -> Option<String> {
    use ring::rand::{SecureRandom, SystemRandom};
    let mut b = [0u8; 16];
    SystemRandom::new().fill(&mut b).ok()?;
    Some(hex::encode(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::device::DeviceKeys;

    #[test]
    fn sign_and_verify() {
        let keys = DeviceKeys::generate().unwrap();
        let c = Canonical {
            method: "post",
            path: "/v1/provisionings",
            body: b"{}",
            timestamp: 1_700_000_000,
            nonce: "0123456789abcdef",
            device_id: &keys.device_id(),
            idempotency_key: "",
        };
        let msg = c.to_bytes();
        let sig = keys.sign(&msg).unwrap();
        let public = keys.signing_jwk().to_sec1().unwrap();
        assert!(verify(&public, &msg, &sig));
        let mut other = msg.clone();
        other[0] ^= 1;
        assert!(!verify(&public, &other, &sig));
        assert!(!verify(&public, &msg, "not base64!"));
        assert!(
            std::str::from_utf8(&msg)
                .unwrap()
                .starts_with("WC1-ECDSA-P256-SHA256\nPOST\n/v1/provisionings\n")
        );
    }

    #[test]
    fn tokens() {
        assert!(valid_token(&random_token().unwrap()));
        assert!(!valid_token("short"));
        assert!(!valid_token("0123456789abcdef/"));
        assert!(!valid_token(&"a".repeat(65)));
    }
}
