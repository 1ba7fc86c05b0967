//! The token vault: payment tokens (token PANs from per-scheme token BIN ranges) mapped to the
//! funding PAN they stand for. The mapping never leaves the server: the wallet only ever sees
//! the token PAN (inside its encrypted credentials) and an opaque token reference.

use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{OptionalExtension, Transaction, params};
use wallet_core::card::Scheme;
use wallet_core::token::pan::luhn_check_digit;

/// Sandbox token BIN ranges — made up, standing in for the ranges each scheme reserves for
/// tokens so a token PAN is recognisable as one and never collides with a funding PAN.
pub fn token_bin(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::UnionPay => "625899",
        Scheme::Visa => "489537",
        Scheme::Mastercard => "522859",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error("random generator failed")]
    Random,
    #[error("vault storage: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("no free token PAN after many tries (range exhausted?)")]
    Exhausted,
}

/// A random Luhn-valid token PAN of `len` digits in `scheme`'s token BIN range.
pub fn new_token_pan(scheme: Scheme, len: usize) -> Result<String, VaultError> {
    let bin = token_bin(scheme);
    let len = len.clamp(16, 19);
    let rng = SystemRandom::new();
    let mut body = String::with_capacity(len);
    body.push_str(bin);
    while body.len() < len - 1 {
        let mut b = [0u8; 1];
        rng.fill(&mut b).map_err(|_| VaultError::Random)?;
        // Reject 250..=255 so every digit is equally likely.
        if b[0] < 250 {
            body.push(char::from(b'0' + b[0] % 10));
        }
    }
    let check = luhn_check_digit(&body).ok_or(VaultError::Exhausted)?;
    body.push(check);
    Ok(body)
}

/// Allocate a token PAN for `pan` (same length, unique in the vault) and record the mapping.
pub fn tokenize(
    tx: &Transaction<'_>,
    token_ref: &str,
    scheme: Scheme,
    pan: &str,
) -> Result<String, VaultError> {
    for _ in 0..32 {
        let candidate = new_token_pan(scheme, pan.len())?;
        let inserted = tx.execute(
            "INSERT OR IGNORE INTO vault (token_pan, token_ref, pan) VALUES (?1, ?2, ?3)",
            params![candidate, token_ref, pan],
        )?;
        if inserted == 1 {
            return Ok(candidate);
        }
    }
    Err(VaultError::Exhausted)
}

/// The funding PAN behind a token PAN (what an issuer host does before authorising).
pub fn detokenize(tx: &Transaction<'_>, token_pan: &str) -> Result<Option<String>, VaultError> {
    Ok(tx
        .query_row(
            "SELECT pan FROM vault WHERE token_pan = ?1",
            [token_pan],
            |r| r.get(0),
        )
        .optional()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use wallet_core::token::pan::{luhn_valid, scheme_of};

    #[test]
    fn token_pans_are_luhn_valid_and_in_range() {
        for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
            for len in [16, 19] {
                let t = new_token_pan(scheme, len).unwrap();
                assert_eq!(t.len(), len);
                assert!(luhn_valid(&t), "{t}");
                assert!(t.starts_with(token_bin(scheme)));
                assert_eq!(scheme_of(&t), Some(scheme));
            }
        }
    }

    #[test]
    fn vault_maps_token_to_pan() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(crate::server::db::SCHEMA).unwrap();
        let tx = conn.transaction().unwrap();
        let t = tokenize(&tx, "ref1", Scheme::Visa, "4000123400000008").unwrap();
        assert_ne!(t, "4000123400000008");
        assert_eq!(
            detokenize(&tx, &t).unwrap().as_deref(),
            Some("4000123400000008")
        );
        assert_eq!(detokenize(&tx, "4000123400000008").unwrap(), None);
    }
}
