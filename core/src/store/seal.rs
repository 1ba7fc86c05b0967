//! Envelope encryption of secret columns under the wallet's data key (AES-256-GCM, ring).
//!
//! A sealed value is `01 | schema version (u16 BE) | nonce (12) | ciphertext | tag (16)`.
//! The additional authenticated data binds it to where it lives:
//! `"walletcore-aad-v1" | len | table | row id (i64 BE) | schema version (u32 BE) | len | column`,
//! so a ciphertext copied to another row, column or table fails to open instead of being read
//! as someone else's secret. The schema version is the one the value was sealed under (carried
//! in the header, authenticated by the tag), so migrations need not re-seal existing values.
//!
//! Nonces are random (96 bits). NIST SP 800-38D bounds one key to 2^32 random-nonce
//! encryptions; a wallet seals a few values per payment (10^6 payments ≈ 2^20), so the bound is
//! far away. A format byte other than `01` is reserved for a rotated key.

use super::error::StoreError;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

const FORMAT_V1: u8 = 0x01;
const HEADER_LEN: usize = 1 + 2 + NONCE_LEN;
const TAG_LEN: usize = 16;
/// Length of a data-encryption key.
pub const DEK_LEN: usize = 32;

/// Where a sealed value lives: its table, row and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place<'a> {
    pub table: &'a str,
    pub row: i64,
    pub column: &'a str,
}

impl<'a> Place<'a> {
    pub fn new(table: &'a str, row: i64, column: &'a str) -> Self {
        Self { table, row, column }
    }

    fn aad(&self, schema_version: u16) -> Vec<u8> {
        let mut aad = Vec::with_capacity(32 + self.table.len() + self.column.len());
        aad.extend_from_slice(b"walletcore-aad-v1");
        push_str(&mut aad, self.table);
        aad.extend_from_slice(&self.row.to_be_bytes());
        aad.extend_from_slice(&u32::from(schema_version).to_be_bytes());
        push_str(&mut aad, self.column);
        aad
    }
}

/// Length-prefixed so that ("ab", "c") and ("a", "bc") differ. Names are short identifiers.
fn push_str(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let len = u8::try_from(bytes.len()).unwrap_or(u8::MAX);
    out.push(len);
    out.extend_from_slice(&bytes[..usize::from(len)]);
}

/// The unwrapped data key, ready to seal and open. ring keeps its own expanded copy of the key
/// and does not wipe it (ring issues #15, #566); the raw bytes we hold are wiped on drop.
pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
    schema_version: u16,
}

impl Sealer {
    pub(crate) fn new(dek: &[u8], schema_version: u16) -> Result<Self, StoreError> {
        let unbound = UnboundKey::new(&AES_256_GCM, dek)
            .map_err(|_| StoreError::WrongKey("data key has the wrong length".into()))?;
        Ok(Self {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
            schema_version,
        })
    }

    /// A fresh random data key.
    pub(crate) fn generate_dek() -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let mut dek = Zeroizing::new(vec![0u8; DEK_LEN]);
        SystemRandom::new()
            .fill(&mut dek[..])
            .map_err(|_| StoreError::Crypto("system random number generator failed".into()))?;
        Ok(dek)
    }

    /// Encrypt `plaintext` for `place`.
    pub fn seal(&self, place: Place<'_>, plaintext: &[u8]) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| StoreError::Crypto("system random number generator failed".into()))?;
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(FORMAT_V1);
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let aad = place.aad(self.schema_version);
        let tag = self
            .key
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut out[HEADER_LEN..],
            )
            .map_err(|_| StoreError::Crypto("encryption failed".into()))?;
        out.extend_from_slice(tag.as_ref());
        Ok(out)
    }

    /// Decrypt a value sealed for `place`. Fails (without saying more) if the value was altered,
    /// moved from another place, or sealed under another key.
    pub fn open(&self, place: Place<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let unsealable = || StoreError::Unsealable {
            table: place.table.to_owned(),
            row: place.row,
            column: place.column.to_owned(),
        };
        let (header, body) = sealed.split_at_checked(HEADER_LEN).ok_or_else(unsealable)?;
        if body.len() < TAG_LEN || header.first() != Some(&FORMAT_V1) {
            return Err(unsealable());
        }
        let version = u16::from_be_bytes([header[1], header[2]]);
        if version == 0 || version > self.schema_version {
            return Err(unsealable());
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&header[3..]);
        let aad = place.aad(version);
        let mut buf = Zeroizing::new(body.to_vec());
        let len = self
            .key
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&aad[..]),
                &mut buf[..],
            )
            .map_err(|_| unsealable())?
            .len();
        buf.truncate(len);
        Ok(buf)
    }

    /// `open` for text columns.
    pub fn open_string(&self, place: Place<'_>, sealed: &[u8]) -> Result<String, StoreError> {
        let bytes = self.open(place, sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| StoreError::Unsealable {
            table: place.table.to_owned(),
            row: place.row,
            column: place.column.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(version: u16) -> Sealer {
        Sealer::new(&[7u8; DEK_LEN], version).unwrap()
    }

    #[test]
    fn round_trip_and_binding() {
        let s = sealer(3);
        let here = Place::new("records", 42, "merchant");
        let blob = s.seal(here, b"Cafe Rouge").unwrap();
        assert_eq!(&s.open(here, &blob).unwrap()[..], b"Cafe Rouge");
        assert_eq!(blob.len(), HEADER_LEN + 10 + TAG_LEN);
        for elsewhere in [
            Place::new("records", 43, "merchant"),
            Place::new("records", 42, "note"),
            Place::new("cards", 42, "merchant"),
            Place::new("recordsm", 42, "erchant"),
        ] {
            assert!(matches!(
                s.open(elsewhere, &blob),
                Err(StoreError::Unsealable { .. })
            ));
        }
    }

    #[test]
    fn two_seals_differ_and_tampering_fails() {
        let s = sealer(1);
        let p = Place::new("t", 1, "c");
        let a = s.seal(p, b"same").unwrap();
        let b = s.seal(p, b"same").unwrap();
        assert_ne!(a, b, "random nonces");
        for i in 0..a.len() {
            let mut t = a.clone();
            t[i] ^= 0x01;
            assert!(s.open(p, &t).is_err(), "flip at byte {i} must not open");
        }
        assert!(s.open(p, &a[..a.len() - 1]).is_err());
        assert!(s.open(p, &[]).is_err());
    }

    #[test]
    fn older_versions_open_newer_do_not() {
        let old = sealer(1);
        let new = sealer(2);
        let p = Place::new("t", 1, "c");
        assert!(new.open(p, &old.seal(p, b"x").unwrap()).is_ok());
        assert!(old.open(p, &new.seal(p, b"x").unwrap()).is_err());
        // Rewriting the header version breaks the tag.
        let mut blob = old.seal(p, b"x").unwrap();
        blob[2] = 2;
        assert!(new.open(p, &blob).is_err());
    }

    #[test]
    fn other_key_fails() {
        let p = Place::new("t", 1, "c");
        let blob = sealer(1).seal(p, b"x").unwrap();
        let other = Sealer::new(&[8u8; DEK_LEN], 1).unwrap();
        assert!(other.open(p, &blob).is_err());
    }
}
