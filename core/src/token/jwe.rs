//! JWE compact serialization with ECDH-ES (direct key agreement) and A256GCM
//! (RFC 7516 §7.1, RFC 7518 §4.6 and §5.3), and the P-256 JWKs that carry the keys.
//!
//! Card data travels to the token service, and credentials back to the device, this way. The
//! decrypting side accepts exactly one `alg` and one `enc`, checks `kid`, refuses `crit` and
//! `zip`, and checks the ephemeral key is a point on P-256 — the classic JWE pitfalls (algorithm
//! substitution, invalid-curve points, compression oracles) are closed by construction.
//!
//! Why hand-written: the Rust JOSE crates with ECDH-ES either sit on OpenSSL (`josekit`) or are
//! unmaintained; the whole construction is one Concat KDF round and one AES-GCM call on top of
//! `ring` and `p256`, and `tests/peers/jwe_peer.py` checks it against `jwcrypto` both ways.
//!
//! Why two crypto crates: `ring` only offers ephemeral ECDH (a private key that is used once and
//! cannot be stored), which is right for the sender's `epk`; the recipient's key is static (the
//! server's published key, the device's registered key), so decryption uses RustCrypto's `p256`.

use super::b64;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::agreement::{ECDH_P256, EphemeralPrivateKey, UnparsedPublicKey, agree_ephemeral};
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

pub const ALG: &str = "ECDH-ES";
pub const ENC: &str = "A256GCM";
const TAG_LEN: usize = 16;
/// A protected header is a few hundred bytes; anything much larger is not ours.
const MAX_HEADER_B64: usize = 2048;

/// Why a JWE was refused. Says which check failed, never what was inside.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JweError {
    #[error("JWE is not five base64url parts separated by dots")]
    Format,
    #[error("JWE protected header is not valid JSON or misses a field")]
    Header,
    #[error("JWE alg/enc '{0}' is not allowed (only ECDH-ES with A256GCM)")]
    Algorithm(String),
    #[error("JWE kid does not name this recipient's key")]
    Kid,
    #[error("JWE uses a header feature this recipient refuses (crit, zip)")]
    Unsupported,
    #[error("JWE ephemeral key is not a P-256 point")]
    EphemeralKey,
    #[error("JWE IV or tag has the wrong length")]
    Lengths,
    #[error("JWE authentication failed (wrong key, or the message was altered)")]
    Decrypt,
    #[error("recipient public key is not a P-256 point")]
    RecipientKey,
    #[error("system random generator failed")]
    Random,
}

/// A public P-256 key as a JWK (RFC 7517/7518 §6.2), optionally named by `kid`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcJwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
}

impl EcJwk {
    /// From an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1(point: &[u8]) -> Result<Self, JweError> {
        match point {
            [0x04, xy @ ..] if xy.len() == 64 => Ok(Self {
                kty: "EC".into(),
                crv: "P-256".into(),
                x: b64::encode(&xy[..32]),
                y: b64::encode(&xy[32..]),
                kid: None,
                use_: None,
                alg: None,
            }),
            _ => Err(JweError::RecipientKey),
        }
    }

    pub fn with_kid(mut self, kid: &str) -> Self {
        self.kid = Some(kid.to_owned());
        self
    }

    /// The uncompressed SEC1 point, after checking it lies on P-256.
    pub fn to_sec1(&self) -> Option<Vec<u8>> {
        if self.kty != "EC" || self.crv != "P-256" {
            return None;
        }
        let x = b64::decode(&self.x).ok()?;
        let y = b64::decode(&self.y).ok()?;
        if x.len() != 32 || y.len() != 32 {
            return None;
        }
        let mut point = Vec::with_capacity(65);
        point.push(0x04);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        p256::PublicKey::from_sec1_bytes(&point).ok()?;
        Some(point)
    }

    /// RFC 7638 JWK thumbprint (SHA-256, base64url): a stable `kid` for a key.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            self.crv, self.kty, self.x, self.y
        );
        b64::encode(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    }
}

/// A static P-256 key-agreement key: the server's published encryption key or the device's.
/// The scalar is wiped on drop (by `p256`); no `Debug`.
pub struct AgreementKey(p256::SecretKey);

impl AgreementKey {
    pub fn generate() -> Result<Self, JweError> {
        let rng = SystemRandom::new();
        // Rejection sampling: a random 32-byte string is a valid scalar except with
        // probability ~2^-32; loop rather than bias.
        loop {
            let mut bytes = Zeroizing::new([0u8; 32]);
            rng.fill(&mut bytes[..]).map_err(|_| JweError::Random)?;
            if let Ok(k) = p256::SecretKey::from_slice(&bytes[..]) {
                return Ok(Self(k));
            }
        }
    }

    pub fn from_bytes(scalar: &[u8]) -> Option<Self> {
        p256::SecretKey::from_slice(scalar).ok().map(Self)
    }

    /// The 32-byte scalar, for encrypted storage.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        out.copy_from_slice(&self.0.to_bytes());
        out
    }

    pub fn public_sec1(&self) -> Vec<u8> {
        self.0.public_key().to_sec1_bytes().into_vec()
    }

    pub fn public_jwk(&self) -> EcJwk {
        // `to_sec1_bytes` is uncompressed for P-256, so this cannot fail; map defensively.
        EcJwk::from_sec1(&self.public_sec1()).unwrap_or_else(|_| EcJwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: String::new(),
            y: String::new(),
            kid: None,
            use_: None,
            alg: None,
        })
    }
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    enc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    kid: Option<String>,
    epk: EcJwk,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cty: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apu: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    apv: Option<String>,
    #[serde(default, skip_serializing)]
    crit: Option<serde_json::Value>,
    #[serde(default, skip_serializing)]
    zip: Option<serde_json::Value>,
}

/// Encrypt `plaintext` to `recipient` (its `kid` goes in the header). `cty` optionally names the
/// content type.
pub fn encrypt(recipient: &EcJwk, plaintext: &[u8], cty: Option<&str>) -> Result<String, JweError> {
    let peer = recipient.to_sec1().ok_or(JweError::RecipientKey)?;
    let rng = SystemRandom::new();
    let eph = EphemeralPrivateKey::generate(&ECDH_P256, &rng).map_err(|_| JweError::Random)?;
    let epk_pub = eph.compute_public_key().map_err(|_| JweError::Random)?;
    let epk = EcJwk::from_sec1(epk_pub.as_ref())?;
    let header = Header {
        alg: ALG.into(),
        enc: ENC.into(),
        kid: recipient.kid.clone(),
        epk,
        cty: cty.map(str::to_owned),
        apu: None,
        apv: None,
        crit: None,
        zip: None,
    };
    let header_b64 = b64::encode(&serde_json::to_vec(&header).map_err(|_| JweError::Header)?);
    let cek = agree_ephemeral(eph, &UnparsedPublicKey::new(&ECDH_P256, &peer), |z| {
        concat_kdf(z, ENC, &[], &[])
    })
    .map_err(|_| JweError::RecipientKey)?;

    let mut iv = [0u8; NONCE_LEN];
    rng.fill(&mut iv).map_err(|_| JweError::Random)?;
    let key = aes_key(&cek)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(plaintext.len() + TAG_LEN));
    buf.extend_from_slice(plaintext);
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header_b64.as_bytes()),
            &mut buf,
        )
        .map_err(|_| JweError::Decrypt)?;
    Ok(format!(
        "{header_b64}..{}.{}.{}",
        b64::encode(&iv),
        b64::encode(&buf),
        b64::encode(tag.as_ref())
    ))
}

/// Decrypt a compact JWE addressed to `key`, whose `kid` must equal `expected_kid`.
pub fn decrypt(
    key: &AgreementKey,
    expected_kid: &str,
    compact: &str,
) -> Result<Zeroizing<Vec<u8>>, JweError> {
    let mut parts = compact.split('.');
    let (Some(h), Some(ek), Some(iv), Some(ct), Some(tag), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err(JweError::Format);
    };
    if h.len() > MAX_HEADER_B64 {
        return Err(JweError::Header);
    }
    let header_json = b64::decode(h).map_err(|_| JweError::Format)?;
    let header: Header = serde_json::from_slice(&header_json).map_err(|_| JweError::Header)?;
    if header.alg != ALG {
        return Err(JweError::Algorithm(header.alg));
    }
    if header.enc != ENC {
        return Err(JweError::Algorithm(header.enc));
    }
    if header.crit.is_some() || header.zip.is_some() {
        return Err(JweError::Unsupported);
    }
    if header.kid.as_deref() != Some(expected_kid) {
        return Err(JweError::Kid);
    }
    // Direct key agreement: the encrypted-key part must be empty (RFC 7518 §4.6).
    if !ek.is_empty() {
        return Err(JweError::Format);
    }
    let epk_point = header.epk.to_sec1().ok_or(JweError::EphemeralKey)?;
    let epk = p256::PublicKey::from_sec1_bytes(&epk_point).map_err(|_| JweError::EphemeralKey)?;
    let apu = header
        .apu
        .as_deref()
        .map(b64::decode)
        .transpose()
        .map_err(|_| JweError::Header)?;
    let apv = header
        .apv
        .as_deref()
        .map(b64::decode)
        .transpose()
        .map_err(|_| JweError::Header)?;

    let iv = b64::decode(iv).map_err(|_| JweError::Format)?;
    let tag = b64::decode(tag).map_err(|_| JweError::Format)?;
    let iv: [u8; NONCE_LEN] = iv.try_into().map_err(|_| JweError::Lengths)?;
    if tag.len() != TAG_LEN {
        return Err(JweError::Lengths);
    }
    let mut buf = Zeroizing::new(b64::decode(ct).map_err(|_| JweError::Format)?);
    buf.extend_from_slice(&tag);

    let shared = key.0.diffie_hellman(&epk);
    let cek = concat_kdf(
        shared.raw_secret_bytes(),
        &header.enc,
        apu.as_deref().unwrap_or_default(),
        apv.as_deref().unwrap_or_default(),
    );
    let aes = aes_key(&cek)?;
    let plain_len = aes
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(h.as_bytes()),
            &mut buf[..],
        )
        .map_err(|_| JweError::Decrypt)?
        .len();
    buf.truncate(plain_len);
    Ok(buf)
}

/// The `kid` a compact JWE names, without decrypting it (to pick a key or report a mismatch).
pub fn peek_kid(compact: &str) -> Option<String> {
    let h = compact.split('.').next()?;
    if h.len() > MAX_HEADER_B64 {
        return None;
    }
    let header: serde_json::Value = serde_json::from_slice(&b64::decode(h).ok()?).ok()?;
    header.get("kid")?.as_str().map(str::to_owned)
}

fn aes_key(cek: &[u8; 32]) -> Result<LessSafeKey, JweError> {
    UnboundKey::new(&AES_256_GCM, cek)
        .map(LessSafeKey::new)
        .map_err(|_| JweError::Decrypt)
}

/// NIST SP 800-56A Concat KDF with SHA-256 as RFC 7518 §4.6.2 profiles it, for a 256-bit key.
fn concat_kdf(z: &[u8], enc: &str, apu: &[u8], apv: &[u8]) -> Zeroizing<[u8; 32]> {
    concat_kdf_round(z, enc, apu, apv, 256)
}

/// One Concat KDF round: `SHA-256(1 || Z || len‖alg-id || len‖apu || len‖apv || keydatalen)`.
/// One round yields 256 bits, all this module ever needs.
fn concat_kdf_round(
    z: &[u8],
    alg_id: &str,
    apu: &[u8],
    apv: &[u8],
    keydatalen_bits: u32,
) -> Zeroizing<[u8; 32]> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(&1u32.to_be_bytes());
    ctx.update(z);
    for field in [alg_id.as_bytes(), apu, apv] {
        // Fields are a few bytes (the header is bounded by MAX_HEADER_B64).
        ctx.update(&u32::try_from(field.len()).unwrap_or(u32::MAX).to_be_bytes());
        ctx.update(field);
    }
    ctx.update(&keydatalen_bits.to_be_bytes());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipient() -> (AgreementKey, EcJwk) {
        let k = AgreementKey::generate().unwrap();
        let jwk = k.public_jwk().with_kid("k1");
        (k, jwk)
    }

    #[test]
    fn round_trip() {
        let (k, jwk) = recipient();
        let jwe = encrypt(&jwk, b"hello card", Some("json")).unwrap();
        assert_eq!(jwe.split('.').count(), 5);
        assert_eq!(jwe.split('.').nth(1), Some(""));
        assert_eq!(peek_kid(&jwe).as_deref(), Some("k1"));
        assert_eq!(&decrypt(&k, "k1", &jwe).unwrap()[..], b"hello card");
    }

    #[test]
    fn concat_kdf_matches_rfc7518_appendix_c() {
        // RFC 7518 Appendix C: ECDH-ES for A128GCM with apu "Alice", apv "Bob"; the 128-bit key
        // is the first half of the single round.
        let z: [u8; 32] = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let out = concat_kdf_round(&z, "A128GCM", b"Alice", b"Bob", 128);
        assert_eq!(b64::encode(&out[..16]), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn refuses_wrong_kid_alg_and_tampering() {
        let (k, jwk) = recipient();
        let jwe = encrypt(&jwk, b"secret", None).unwrap();
        assert_eq!(decrypt(&k, "other", &jwe).err(), Some(JweError::Kid));

        let parts: Vec<&str> = jwe.split('.').collect();
        // Flip one bit of the tag.
        let mut tag = b64::decode(parts[4]).unwrap();
        tag[0] ^= 1;
        let bad = format!(
            "{}..{}.{}.{}",
            parts[0],
            parts[2],
            parts[3],
            b64::encode(&tag)
        );
        assert_eq!(decrypt(&k, "k1", &bad).err(), Some(JweError::Decrypt));

        // Rewrite the header: alg substitution is refused before any crypto.
        let mut h: serde_json::Value =
            serde_json::from_slice(&b64::decode(parts[0]).unwrap()).unwrap();
        h["alg"] = "ECDH-ES+A256KW".into();
        let bad = format!(
            "{}..{}.{}.{}",
            b64::encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        );
        assert!(matches!(
            decrypt(&k, "k1", &bad),
            Err(JweError::Algorithm(_))
        ));
        h["alg"] = ALG.into();
        h["enc"] = "A128CBC-HS256".into();
        let bad = format!(
            "{}..{}.{}.{}",
            b64::encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        );
        assert!(matches!(
            decrypt(&k, "k1", &bad),
            Err(JweError::Algorithm(_))
        ));
        h["enc"] = ENC.into();
        h["zip"] = "DEF".into();
        let bad = format!(
            "{}..{}.{}.{}",
            b64::encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        );
        assert_eq!(decrypt(&k, "k1", &bad).err(), Some(JweError::Unsupported));

        // An altered (but valid) header breaks the AAD.
        let mut h: serde_json::Value =
            serde_json::from_slice(&b64::decode(parts[0]).unwrap()).unwrap();
        h["cty"] = "x".into();
        let bad = format!(
            "{}..{}.{}.{}",
            b64::encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        );
        assert_eq!(decrypt(&k, "k1", &bad).err(), Some(JweError::Decrypt));
    }

    #[test]
    fn refuses_off_curve_epk_and_bad_shapes() {
        let (k, jwk) = recipient();
        let jwe = encrypt(&jwk, b"x", None).unwrap();
        let parts: Vec<&str> = jwe.split('.').collect();
        let mut h: serde_json::Value =
            serde_json::from_slice(&b64::decode(parts[0]).unwrap()).unwrap();
        h["epk"]["y"] = b64::encode(&[1u8; 32]).into();
        let bad = format!(
            "{}..{}.{}.{}",
            b64::encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        );
        assert_eq!(decrypt(&k, "k1", &bad).err(), Some(JweError::EphemeralKey));

        for junk in ["", "a.b", "....", "a.b.c.d.e.f", "!!!.x.y.z.w"] {
            assert!(decrypt(&k, "k1", junk).is_err(), "{junk}");
        }
        let short_iv = format!(
            "{}..{}.{}.{}",
            parts[0],
            b64::encode(&[0u8; 8]),
            parts[3],
            parts[4]
        );
        assert_eq!(decrypt(&k, "k1", &short_iv).err(), Some(JweError::Lengths));
        let with_ek = format!("{}.AAAA.{}.{}.{}", parts[0], parts[2], parts[3], parts[4]);
        assert_eq!(decrypt(&k, "k1", &with_ek).err(), Some(JweError::Format));
    }

    #[test]
    fn jwk_checks_the_point() {
        let (_, jwk) = recipient();
        assert!(jwk.to_sec1().is_some());
        let mut bad = jwk.clone();
        bad.x = b64::encode(&[7u8; 32]);
        assert!(bad.to_sec1().is_none());
        assert_eq!(
            encrypt(&bad, b"x", None).err(),
            Some(JweError::RecipientKey)
        );
        assert_eq!(jwk.thumbprint().len(), 43);
    }
}
