//! The bridge from the token service to the issuer host ([`crate::issuer`]).
//!
//! The issuer master keys (one IMK-AC per scheme) are random, made on first start and kept in
//! the server's database — sandbox only: `wallet-sandbox keys` prints them so an outside tool
//! can verify cryptograms. Key derivation and ARQC verification are the issuer's; this module
//! only feeds it a token's data. The issuer itself is not persistent, so each call builds one
//! from the stored keys and tells it about the one token involved; what has been issued and
//! authorised lives in this server's tables, which enforce "each ATC once" across restarts.

use super::error::ApiError;
use crate::issuer::{AuthRequest, CardRequest, Issuer, Verdict};
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{Connection, params};
use std::collections::BTreeMap;
use std::ops::RangeInclusive;
use wallet_core::card::{Personalisation, Scheme};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use zeroize::Zeroizing;

const SCHEMES: [Scheme; 3] = [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard];

/// The issuer master keys. No `Debug`.
pub struct IssuerHost {
    imk: BTreeMap<&'static str, Zeroizing<[u8; 16]>>,
}

/// A token as the issuer needs to know it.
pub struct TokenCard<'a> {
    pub token_ref: &'a str,
    pub scheme: Scheme,
    pub cvn: Cvn,
    pub token_pan: &'a str,
    /// YYMM.
    pub expiry: &'a str,
    pub psn: u8,
}

impl IssuerHost {
    /// Load the keys, creating any that are missing.
    pub fn load_or_create(conn: &Connection) -> Result<Self, rusqlite::Error> {
        let rng = SystemRandom::new();
        let mut imk = BTreeMap::new();
        for scheme in SCHEMES {
            let stored: Option<Vec<u8>> = conn
                .query_row(
                    "SELECT imk_ac FROM issuer_keys WHERE scheme = ?1",
                    [scheme.name()],
                    |r| r.get(0),
                )
                .ok();
            let key = match stored {
                Some(bytes) if bytes.len() == 16 => {
                    let mut k = Zeroizing::new([0u8; 16]);
                    k.copy_from_slice(&bytes);
                    k
                }
                _ => {
                    let mut k = Zeroizing::new([0u8; 16]);
                    rng.fill(&mut k[..])
                        .map_err(|_| rusqlite::Error::InvalidQuery)?;
                    conn.execute(
                        "INSERT OR REPLACE INTO issuer_keys (scheme, imk_ac) VALUES (?1, ?2)",
                        params![scheme.name(), &k[..]],
                    )?;
                    k
                }
            };
            imk.insert(scheme.name(), key);
        }
        Ok(Self { imk })
    }

    /// The keys as hex, per scheme, with the cryptogram version new tokens get.
    pub fn export(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        for scheme in SCHEMES {
            let imk = self
                .imk
                .get(scheme.name())
                .map(|k| hex::encode_upper(&k[..]))
                .unwrap_or_default();
            out.insert(
                scheme.name().to_owned(),
                serde_json::json!({"imk_ac": imk, "cvn": Self::default_cvn(scheme)}),
            );
        }
        serde_json::Value::Object(out)
    }

    /// The cryptogram version a new token of `scheme` is personalised with (the issuer's default).
    pub fn default_cvn(scheme: Scheme) -> Cvn {
        CardRequest::new("", scheme).cvn
    }

    fn issuer(&self) -> Issuer {
        let mut issuer = Issuer::with_test_keys();
        for scheme in SCHEMES {
            if let Some(k) = self.imk.get(scheme.name()) {
                issuer.set_master_key(scheme, Key16::from_bytes(**k));
            }
        }
        issuer
    }

    fn request(card: &TokenCard<'_>, atcs: &RangeInclusive<u16>) -> CardRequest {
        let mut req = CardRequest::new(card.token_ref, card.scheme);
        req.cvn = card.cvn;
        req.pan = Some(card.token_pan.to_owned());
        req.psn = card.psn;
        req.expiry = card.expiry.to_owned();
        req.first_atc = *atcs.start();
        req.key_count = atcs.end().saturating_sub(*atcs.start()).saturating_add(1);
        req
    }

    /// Profile and session keys for `atcs`.
    pub fn personalise(
        &self,
        card: &TokenCard<'_>,
        atcs: RangeInclusive<u16>,
    ) -> Result<Personalisation, ApiError> {
        self.issuer()
            .personalise(&Self::request(card, &atcs))
            .map_err(ApiError::internal)
    }

    /// Verify an ARQC for one ATC the server has already checked was issued and not yet spent.
    pub fn verify(&self, card: &TokenCard<'_>, auth: &AuthRequest) -> Result<Verdict, ApiError> {
        let atc = auth.input.atc;
        let mut issuer = self.issuer();
        // Register just this ATC with the issuer: it derives its own key and checks the CVN,
        // the cryptogram and the CID.
        let mut req = Self::request(card, &(atc..=atc));
        req.key_count = 1;
        issuer.personalise(&req).map_err(ApiError::internal)?;
        Ok(issuer.authorise(auth))
    }
}
