//! EMV symmetric cryptography: double-length 3DES keys, ISO 9797-1 MAC algorithm 3, ICC master
//! key derivation (options A and B) and session keys (EMV common session key, Mastercard SKD,
//! UnionPay qPBOC). The block cipher is RustCrypto's `des`; `ring` has no DES.

use des::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use des::{Des, TdesEde2};
use zeroize::Zeroizing;

/// A double-length (16-byte) 3DES key. Wiped on drop; no `Debug`, `Display` or `Clone` so it
/// cannot end up in a log or be copied by accident.
pub struct Key16(Zeroizing<[u8; 16]>);

impl Key16 {
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(Zeroizing::new(bytes))
    }
    /// From 32 hex digits; `None` otherwise.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let mut b = Zeroizing::new([0u8; 16]);
        hex::decode_to_slice(hex, &mut b[..]).ok()?;
        Some(Self(b))
    }
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
    /// An explicit copy, for the few places that must hand a key on (personalisation).
    pub fn duplicate(&self) -> Self {
        Self(Zeroizing::new(*self.0))
    }
    /// Key check value: the first `N` bytes of 3DES(key, 00..00), as HSMs and pyemv's
    /// `key_check_digits` show it. Safe to log; it identifies a key without revealing it.
    pub fn check_value<const N: usize>(&self) -> [u8; N] {
        let block = tdes_encrypt_block(self, &[0; 8]);
        let mut out = [0u8; N];
        for (o, b) in out.iter_mut().zip(block) {
            *o = b;
        }
        out
    }
    /// K1, the left half (single-DES key of the MAC's CBC chain).
    fn left(&self) -> &[u8; 8] {
        // A 16-byte array always has a first 8-byte chunk; the fallback is never taken.
        self.0.first_chunk::<8>().unwrap_or(&[0; 8])
    }
}

/// ISO 9797-1 padding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Padding {
    /// Method 1: zeros to a block boundary (none if already aligned).
    Method1,
    /// Method 2: `80` then zeros (always at least one byte).
    Method2,
}

/// ECB 3DES (EDE, K1 K2 K1) encryption of one block.
pub fn tdes_encrypt_block(key: &Key16, block: &[u8; 8]) -> [u8; 8] {
    let mut out = *block;
    TdesEde2::new(key.as_bytes().into()).encrypt_block((&mut out).into());
    out
}

/// ECB 3DES (EDE, K1 K2 K1) decryption of one block.
pub fn tdes_decrypt_block(key: &Key16, block: &[u8; 8]) -> [u8; 8] {
    let mut out = *block;
    TdesEde2::new(key.as_bytes().into()).decrypt_block((&mut out).into());
    out
}

/// ISO 9797-1 MAC algorithm 3 ("retail MAC"): single-DES CBC-MAC under K1, final block
/// decrypted with K2 and encrypted with K1. Full 8 bytes.
///
/// As pyemv does, padding method 1 of empty data is one block of zeros.
pub fn mac_retail(key: &Key16, data: &[u8], padding: Padding) -> [u8; 8] {
    let des1 = Des::new(key.left().into());
    let mut state = [0u8; 8];
    let mut blocks = padded_blocks(data, padding).peekable();
    while let Some(block) = blocks.next() {
        xor_into(&mut state, &block);
        if blocks.peek().is_some() {
            des1.encrypt_block((&mut state).into());
        } else {
            // Last block: E(K1), then the output transformation D(K2), E(K1) — together
            // exactly 3DES EDE under K1 K2.
            TdesEde2::new(key.as_bytes().into()).encrypt_block((&mut state).into());
        }
    }
    state
}

/// The 8-byte blocks of `data` after ISO 9797-1 padding.
fn padded_blocks(data: &[u8], padding: Padding) -> impl Iterator<Item = [u8; 8]> + '_ {
    let (full, tail) = data.as_chunks::<8>();
    let last = match padding {
        Padding::Method1 if tail.is_empty() && !data.is_empty() => None,
        Padding::Method1 => Some(pad_block(tail, None)),
        Padding::Method2 => Some(pad_block(tail, Some(0x80))),
    };
    full.iter().copied().chain(last)
}

fn pad_block(tail: &[u8], marker: Option<u8>) -> [u8; 8] {
    let mut block = [0u8; 8];
    let n = tail.len().min(8);
    block[..n].copy_from_slice(&tail[..n]);
    if let (Some(marker), Some(slot)) = (marker, block.get_mut(n)) {
        *slot = marker;
    }
    block
}

fn xor_into(acc: &mut [u8; 8], block: &[u8; 8]) {
    for (a, b) in acc.iter_mut().zip(block) {
        *a ^= b;
    }
}

/// Set each byte's least significant bit so the byte has odd parity (DES key parity). DES
/// ignores these bits, but HSMs and pyemv check or set them, so derived keys carry them.
pub fn set_odd_parity(key: &mut [u8]) {
    for byte in key {
        if byte.count_ones() % 2 == 0 {
            *byte ^= 1;
        }
    }
}

/// `E(Y) || E(Y ⊕ FF..FF)` under `key`, parity set: the last step of both master key options.
fn derive_from_block(key: &Key16, y: [u8; 8]) -> Key16 {
    let mut out = Zeroizing::new([0u8; 16]);
    let (left, right) = out.split_at_mut(8);
    left.copy_from_slice(&tdes_encrypt_block(key, &y));
    right.copy_from_slice(&tdes_encrypt_block(key, &y.map(|b| !b)));
    set_odd_parity(&mut out[..]);
    Key16(out)
}

/// The value of one decimal (or hex) digit as a nibble. Non-digits are not rejected here
/// (profiles are validated at personalisation); they map to some nibble, never to a panic.
fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        b'A'..=b'F' => c - b'A' + 10,
        _ => c & 0x0F,
    }
}

/// Pack digits (at most 16 used, the rightmost) right-aligned into 8 bytes, zero-filled on
/// the left.
fn pack_rightmost_16(digits: impl DoubleEndedIterator<Item = u8>) -> [u8; 8] {
    let mut y = [0u8; 8];
    for (i, d) in digits.rev().take(16).enumerate() {
        let byte = &mut y[7 - i / 2];
        *byte |= if i % 2 == 0 {
            nibble(d)
        } else {
            nibble(d) << 4
        };
    }
    y
}

/// PAN digits then the two PSN digits. `psn` is the 5F34 byte as the card carries it (format
/// n2, so `0x01` is "01"); this is also how pyemv takes it (`"%02X"`).
fn pan_psn_digits(pan: &str, psn: u8) -> impl DoubleEndedIterator<Item = u8> + Clone + '_ {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let psn_digits = [HEX[usize::from(psn >> 4)], HEX[usize::from(psn & 0x0F)]];
    pan.bytes().chain(psn_digits)
}

/// EMV Book 2 A1.4.1 option A: ICC master key from the issuer master key, the rightmost 16
/// digits of PAN||PSN, and its complement; DES parity set.
///
/// Used by Mastercard M/Chip CVN 20/21 (pyemv `MasterCardCVN20/21`) and, as the UDK, by
/// UnionPay qPBOC CVN 01 (notes/emv.md, third-party PBOC library).
pub fn icc_master_key_option_a(imk: &Key16, pan: &str, psn: u8) -> Key16 {
    derive_from_block(imk, pack_rightmost_16(pan_psn_digits(pan, psn)))
}

/// EMV Book 2 A1.4.2 option B (SHA-1 based); equals option A when the PAN has ≤ 16 digits
/// (the book's rule, and pyemv's `derive_icc_mk_b`).
///
/// Used by Visa CVN 18 and '22' (pyemv `VisaCVN18/22`). For a 19-digit PAN the two options
/// give different keys, so an issuer must use the one the CVN prescribes.
pub fn icc_master_key_option_b(imk: &Key16, pan: &str, psn: u8) -> Key16 {
    if pan.len() <= 16 {
        return icc_master_key_option_a(imk, pan, psn);
    }
    // Y = PAN || PSN, left-padded with one 0 digit to an even length, as bytes.
    let digits = pan_psn_digits(pan, psn);
    let odd = pan.len() % 2 == 1; // PAN digits + 2 PSN digits has the PAN's parity
    let padded: Vec<u8> = odd.then_some(b'0').into_iter().chain(digits).collect();
    let y: Vec<u8> = padded
        .chunks(2)
        .map(|p| p.iter().fold(0u8, |acc, &d| (acc << 4) | nibble(d)))
        .collect();
    let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &y);
    // Decimalise the hex digest: its decimal digits first, then its letters a..f as 0..5,
    // until there are 16.
    let hex_digits: Vec<u8> = digest
        .as_ref()
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .collect();
    let decimal = hex_digits.iter().copied().filter(|&d| d < 10);
    let letters = hex_digits
        .iter()
        .copied()
        .filter(|&d| d >= 10)
        .map(|d| d - 10);
    let chosen: Vec<u8> = decimal.chain(letters).take(16).map(|d| b'0' + d).collect();
    derive_from_block(imk, pack_rightmost_16(chosen.into_iter()))
}

/// Session key from the ICC master key and an 8-byte diversification value R:
/// `E(R with byte 3 = F0) || E(R with byte 3 = 0F)`, DES parity set (EMV Book 2 A1.3.1).
fn session_key_from_r(icc_mk: &Key16, r: [u8; 8]) -> Key16 {
    let mut left = r;
    left[2] = 0xF0;
    let mut right = r;
    right[2] = 0x0F;
    let mut out = Zeroizing::new([0u8; 16]);
    out[..8].copy_from_slice(&tdes_encrypt_block(icc_mk, &left));
    out[8..].copy_from_slice(&tdes_encrypt_block(icc_mk, &right));
    set_odd_parity(&mut out[..]);
    Key16(out)
}

/// EMV Book 2 A1.3 common session key: R = ATC || 00 00 00 00 00 00.
pub fn session_key_emv_csk(icc_mk: &Key16, atc: u16) -> Key16 {
    let [a, b] = atc.to_be_bytes();
    session_key_from_r(icc_mk, [a, b, 0, 0, 0, 0, 0, 0])
}

/// Mastercard SKD: R = ATC || 00 00 || UN.
///
/// Used by M/Chip CVN 16/17. The session key depends on the terminal's UN, so it cannot be
/// pre-derived by an issuer; the HCE profiles therefore use CVN 20/21 (EMV CSK).
pub fn session_key_mastercard_skd(icc_mk: &Key16, atc: u16, un: [u8; 4]) -> Key16 {
    let [a, b] = atc.to_be_bytes();
    let [u1, u2, u3, u4] = un;
    session_key_from_r(icc_mk, [a, b, 0, 0, u1, u2, u3, u4])
}

/// UnionPay qPBOC: SK = E(00×6 || ATC) || E(00×6 || ATC ⊕ FFFF) under the UDK.
///
/// The source (notes/emv.md, third-party PBOC library) sets no parity on this key, and
/// neither does this function; DES ignores parity bits, so MACs are unaffected.
pub fn session_key_unionpay(udk: &Key16, atc: u16) -> Key16 {
    let [a, b] = atc.to_be_bytes();
    let mut out = Zeroizing::new([0u8; 16]);
    out[..8].copy_from_slice(&tdes_encrypt_block(udk, &[0, 0, 0, 0, 0, 0, a, b]));
    out[8..].copy_from_slice(&tdes_encrypt_block(udk, &[0, 0, 0, 0, 0, 0, !a, !b]));
    Key16(out)
}

/// SHA-256, for the cryptogram hash a history record keeps instead of the cryptogram.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, data).as_ref());
    out
}

/// Constant-time equality, for MACs and cryptograms.
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    //! Vectors from pyemv 1.5.0's docstrings (knovichikhin/pyemv, MIT): `kd.derive_icc_mk_a`,
    //! `kd.derive_icc_mk_b`, `kd.derive_common_sk`, `ac.generate_ac`, `tools.key_check_digits`.
    use super::*;

    fn key(h: &str) -> Key16 {
        Key16::from_hex(h).unwrap()
    }
    fn hx(k: &Key16) -> String {
        hex::encode_upper(k.as_bytes())
    }
    const IMK: &str = "0123456789ABCDEFFEDCBA9876543210";

    #[test]
    fn option_a() {
        assert_eq!(
            hx(&icc_master_key_option_a(
                &key(IMK),
                "12345678901234567",
                0x01
            )),
            "73AD54688CEF2934B0979857E3C719F1"
        );
        assert_eq!(
            hx(&icc_master_key_option_a(
                &key(IMK),
                "99012345678901234",
                0x45
            )),
            "67F8292358083E5EA7AB7FDA58D53B6B"
        );
    }

    #[test]
    fn option_b() {
        assert_eq!(
            hx(&icc_master_key_option_b(
                &key(IMK),
                "12345678901234567",
                0x01
            )),
            "AD406D7F6D7570916D75E5DCAB8CF737"
        );
        // ≤ 16 PAN digits: option B is option A.
        let a = icc_master_key_option_a(&key(IMK), "1234567890123456", 0x00);
        let b = icc_master_key_option_b(&key(IMK), "1234567890123456", 0x00);
        assert_eq!(hx(&a), hx(&b));
    }

    #[test]
    fn option_a_and_b_differ_on_a_19_digit_unionpay_pan() {
        // notes/emv.md, checked there with pyemv: A = 73AD5468..., B = 58E0894C...
        let a = icc_master_key_option_a(&key(IMK), "6212345678901234567", 0x01);
        let b = icc_master_key_option_b(&key(IMK), "6212345678901234567", 0x01);
        assert!(hx(&a).starts_with("73AD5468"), "{}", hx(&a));
        assert!(hx(&b).starts_with("58E0894C"), "{}", hx(&b));
    }

    #[test]
    fn common_session_key() {
        assert_eq!(
            hx(&session_key_emv_csk(&key(IMK), 0x001C)),
            "E9FB384AF807B940FEDCEA613461B0C4"
        );
    }

    #[test]
    fn retail_mac() {
        let sk = key("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBB");
        let data =
            hex::decode("000000002000000000000000012400000080000124110309003804823E58000001")
                .unwrap();
        assert_eq!(
            hex::encode_upper(mac_retail(&sk, &data, Padding::Method2)),
            "3B76CF10FECD8789"
        );
        let sk = key("29B33180E567CE38EA4CBC9D753B0E61");
        let data = hex::decode("0123456789ABCDEF0123456789ABCDEF").unwrap();
        assert_eq!(
            hex::encode_upper(mac_retail(&sk, &data, Padding::Method2)),
            "FA624250B008B59A"
        );
    }

    #[test]
    fn padding_methods() {
        let b = |d: &[u8], p| padded_blocks(d, p).collect::<Vec<_>>();
        assert_eq!(b(&[], Padding::Method1), vec![[0; 8]]);
        assert_eq!(b(&[1; 8], Padding::Method1), vec![[1; 8]]);
        assert_eq!(
            b(&[1; 9], Padding::Method1),
            vec![[1; 8], [1, 0, 0, 0, 0, 0, 0, 0]]
        );
        assert_eq!(b(&[], Padding::Method2), vec![[0x80, 0, 0, 0, 0, 0, 0, 0]]);
        assert_eq!(
            b(&[1; 8], Padding::Method2),
            vec![[1; 8], [0x80, 0, 0, 0, 0, 0, 0, 0]]
        );
        assert_eq!(
            b(&[1; 7], Padding::Method2),
            vec![[1, 1, 1, 1, 1, 1, 1, 0x80]]
        );
    }

    #[test]
    fn check_value_and_parity() {
        assert_eq!(key(IMK).check_value::<2>(), [0x08, 0xD7]);
        let mut k = hex::decode("1A2B3C4D5F0A1B2C4D5F6A7B8C9D0F1A").unwrap();
        set_odd_parity(&mut k);
        assert_eq!(hex::encode_upper(k), "1A2A3D4C5E0B1A2C4C5E6B7A8C9D0E1A");
        let block = [1, 2, 3, 4, 5, 6, 7, 8];
        assert_eq!(
            tdes_decrypt_block(&key(IMK), &tdes_encrypt_block(&key(IMK), &block)),
            block
        );
    }

    #[test]
    fn constant_time_eq() {
        assert!(ct_eq(b"abc", b"abc"));
        assert!(!ct_eq(b"abc", b"abd"));
        assert!(!ct_eq(b"abc", b"ab"));
    }
}
