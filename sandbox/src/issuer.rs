//! The issuer host: personalises test cards and authorises their cryptograms.
//!
//! It holds one issuer master key (IMK-AC) per scheme and derives everything else itself —
//! ICC master key per PAN/PSN with the option the CVN prescribes, then the session key per ATC —
//! so a verdict never depends on what the wallet stored.

use std::collections::{HashMap, HashSet};
use wallet_core::card::{
    AID_MASTERCARD, AID_UNIONPAY_DEBIT, AID_VISA, CardProfile, Personalisation, Scheme, SessionKey,
};
use wallet_core::emv::bcd::decode_n;
use wallet_core::emv::crypto::{Key16, ct_eq};
use wallet_core::emv::cvn::{AcInput, Cvn};
use wallet_core::token::pan::luhn_check_digit;
pub use wallet_core::token::pan::luhn_valid;

/// The well-known EMV test issuer master key. It protects nothing; every output that uses it
/// says so.
pub const TEST_IMK_HEX: &str = "0123456789ABCDEFFEDCBA9876543210";

/// What the issuer needs to personalise one card. `pan: None` draws a fresh Luhn-valid token
/// PAN in the scheme's range.
#[derive(Debug, Clone)]
pub struct CardRequest {
    pub id: String,
    pub scheme: Scheme,
    pub cvn: Cvn,
    pub pan: Option<String>,
    pub psn: u8,
    /// YYMM.
    pub expiry: String,
    pub first_atc: u16,
    pub key_count: u16,
    pub cvm_limit_minor: u64,
    pub issuer_country: u16,
}

impl CardRequest {
    /// Defaults per scheme: Visa CVN '22' (CDCVM in the IAD), Mastercard CVN 20, UnionPay
    /// CVN 01; 10 keys from ATC 1; CVM limit 50.00.
    pub fn new(id: impl Into<String>, scheme: Scheme) -> Self {
        let (cvn, country) = match scheme {
            Scheme::UnionPay => (Cvn::UnionPay01, 156),
            Scheme::Visa => (Cvn::Visa22, 840),
            Scheme::Mastercard => (Cvn::Mastercard20, 826),
        };
        Self {
            id: id.into(),
            scheme,
            cvn,
            pan: None,
            psn: 1,
            expiry: "3012".to_owned(),
            first_atc: 1,
            key_count: 10,
            cvm_limit_minor: 5_000,
            issuer_country: country,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IssuerError {
    #[error("CVN {0:?} does not belong to scheme {1:?}")]
    CvnMismatch(Cvn, Scheme),
    #[error("PAN must be 12 to 19 digits with a valid Luhn check digit")]
    BadPan,
    #[error("ATC range {first}+{count} does not fit in 16 bits")]
    AtcOverflow { first: u16, count: u16 },
    #[error("a card with PAN/PSN {0} is already personalised")]
    Duplicate(String),
}

/// What a terminal sends its acquirer for an online authorisation: the card's answers and the
/// terminal's own transaction data, as seen on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub scheme: Scheme,
    pub pan: String,
    pub psn: u8,
    /// Cryptogram information data (9F27).
    pub cid: u8,
    pub cryptogram: [u8; 8],
    /// Terminal data, AIP, ATC and IAD the cryptogram covers.
    pub input: AcInput,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approved,
    Declined(DeclineReason),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeclineReason {
    /// No card with this PAN and PSN was personalised here.
    UnknownCard,
    /// The card sent an AAC (it declined) or a TC (never for an online-only card).
    NotAnArqc,
    /// The ATC lies outside the keys this issuer handed out.
    AtcOutOfRange,
    /// A cryptogram with this ATC was already authorised.
    ReplayedAtc,
    /// The IAD names another cryptogram version than the card was personalised with.
    CvnMismatch,
    /// The cryptogram does not verify under the issuer's keys.
    BadCryptogram,
    /// Above the card's CVM limit without CDCVM in the covered CVR.
    CardholderNotVerified,
}

impl Verdict {
    pub fn is_approved(self) -> bool {
        self == Verdict::Approved
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approved => "approved",
            Verdict::Declined(reason) => reason.as_str(),
        }
    }
}

impl DeclineReason {
    pub fn as_str(self) -> &'static str {
        match self {
            DeclineReason::UnknownCard => "declined: unknown card",
            DeclineReason::NotAnArqc => "declined: card did not ask to go online",
            DeclineReason::AtcOutOfRange => "declined: ATC outside the issued keys",
            DeclineReason::ReplayedAtc => "declined: ATC already used",
            DeclineReason::CvnMismatch => "declined: unexpected cryptogram version",
            DeclineReason::BadCryptogram => "declined: cryptogram does not verify",
            DeclineReason::CardholderNotVerified => {
                "declined: above the CVM limit without cardholder verification"
            }
        }
    }
}

struct IssuedCard {
    cvn: Cvn,
    cvm_limit_minor: u64,
    atcs: std::ops::RangeInclusive<u16>,
    seen: HashSet<u16>,
}

/// The issuer's whole state, for a desktop test bench that keeps it in a file between runs
/// (`wallet card add-test` in one process, `wallet tap` in the next). It holds issuer master
/// keys in hex: sandbox data, never a production key store.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct IssuerState {
    /// Scheme -> IMK hex.
    pub master_keys: Vec<(Scheme, String)>,
    pub cards: Vec<IssuedCardState>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct IssuedCardState {
    pub pan: String,
    pub psn: u8,
    pub cvn: Cvn,
    pub cvm_limit_minor: u64,
    pub first_atc: u16,
    pub last_atc: u16,
    /// ATCs already authorised (a replay of one is declined).
    pub seen: Vec<u16>,
}

/// The sandbox issuer. In memory; [`Issuer::state`] / [`Issuer::from_state`] carry it between
/// processes.
pub struct Issuer {
    master_keys: HashMap<Scheme, Key16>,
    cards: HashMap<(String, u8), IssuedCard>,
}

impl Issuer {
    /// An issuer whose three schemes all use [`TEST_IMK_HEX`].
    pub fn with_test_keys() -> Self {
        let mut issuer = Self {
            master_keys: HashMap::new(),
            cards: HashMap::new(),
        };
        for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
            if let Some(k) = Key16::from_hex(TEST_IMK_HEX) {
                issuer.master_keys.insert(scheme, k);
            }
        }
        issuer
    }

    /// Everything needed to rebuild this issuer in another process.
    pub fn state(&self) -> IssuerState {
        let mut master_keys: Vec<_> = self
            .master_keys
            .iter()
            .map(|(s, k)| (*s, hex::encode_upper(k.as_bytes())))
            .collect();
        master_keys.sort_by_key(|(s, _)| s.name());
        let mut cards: Vec<_> = self
            .cards
            .iter()
            .map(|((pan, psn), c)| {
                let mut seen: Vec<u16> = c.seen.iter().copied().collect();
                seen.sort_unstable();
                IssuedCardState {
                    pan: pan.clone(),
                    psn: *psn,
                    cvn: c.cvn,
                    cvm_limit_minor: c.cvm_limit_minor,
                    first_atc: *c.atcs.start(),
                    last_atc: *c.atcs.end(),
                    seen,
                }
            })
            .collect();
        cards.sort_by(|a, b| (&a.pan, a.psn).cmp(&(&b.pan, b.psn)));
        IssuerState { master_keys, cards }
    }

    /// Rebuild an issuer from [`Issuer::state`]. `None` if a key is not 32 hex digits.
    pub fn from_state(state: &IssuerState) -> Option<Self> {
        let mut issuer = Self {
            master_keys: HashMap::new(),
            cards: HashMap::new(),
        };
        for (scheme, hex) in &state.master_keys {
            issuer.master_keys.insert(*scheme, Key16::from_hex(hex)?);
        }
        for c in &state.cards {
            issuer.cards.insert(
                (c.pan.clone(), c.psn),
                IssuedCard {
                    cvn: c.cvn,
                    cvm_limit_minor: c.cvm_limit_minor,
                    atcs: c.first_atc..=c.last_atc,
                    seen: c.seen.iter().copied().collect(),
                },
            );
        }
        Some(issuer)
    }

    /// Replace one scheme's issuer master key.
    pub fn set_master_key(&mut self, scheme: Scheme, imk: Key16) {
        self.master_keys.insert(scheme, imk);
    }

    fn imk(&self, scheme: Scheme) -> Option<&Key16> {
        self.master_keys.get(&scheme)
    }

    /// Personalise a card: profile plus `key_count` session keys from `first_atc`.
    pub fn personalise(&mut self, req: &CardRequest) -> Result<Personalisation, IssuerError> {
        if scheme_of(req.cvn) != req.scheme {
            return Err(IssuerError::CvnMismatch(req.cvn, req.scheme));
        }
        let pan = match &req.pan {
            Some(p) if luhn_valid(p) && (12..=19).contains(&p.len()) => p.clone(),
            Some(_) => return Err(IssuerError::BadPan),
            None => token_pan(req.scheme),
        };
        let last_atc = req
            .first_atc
            .checked_add(req.key_count.saturating_sub(1))
            .filter(|_| req.key_count > 0)
            .ok_or(IssuerError::AtcOverflow {
                first: req.first_atc,
                count: req.key_count,
            })?;
        let card_key = (pan.clone(), req.psn);
        if self.cards.contains_key(&card_key) {
            return Err(IssuerError::Duplicate(wallet_core::card::mask_pan(&pan)));
        }
        let imk = self
            .imk(req.scheme)
            .ok_or(IssuerError::CvnMismatch(req.cvn, req.scheme))?;
        let icc_mk = req.cvn.icc_master_key(imk, &pan, req.psn);
        let keys = (req.first_atc..=last_atc)
            .map(|atc| SessionKey {
                atc,
                key: req.cvn.session_key(&icc_mk, atc, [0; 4]),
            })
            .collect();
        let (aid, label) = match req.scheme {
            Scheme::UnionPay => (AID_UNIONPAY_DEBIT.to_vec(), "UnionPay Debit"),
            Scheme::Visa => (AID_VISA.to_vec(), "VISA"),
            Scheme::Mastercard => (AID_MASTERCARD.to_vec(), "Mastercard"),
        };
        let profile = CardProfile {
            id: req.id.clone(),
            scheme: req.scheme,
            aid,
            label: label.to_owned(),
            token_pan: pan,
            expiry: req.expiry.clone(),
            psn: req.psn,
            cvn: req.cvn,
            dki: 0x01,
            cvm_limit_minor: req.cvm_limit_minor,
            issuer_country: req.issuer_country,
        };
        self.cards.insert(
            card_key,
            IssuedCard {
                cvn: req.cvn,
                cvm_limit_minor: req.cvm_limit_minor,
                atcs: req.first_atc..=last_atc,
                seen: HashSet::new(),
            },
        );
        Ok(Personalisation { profile, keys })
    }

    /// Authorise one ARQC. An ATC is spent once it has verified, so a replay is declined.
    pub fn authorise(&mut self, req: &AuthRequest) -> Verdict {
        let Some(imk) = self.master_keys.get(&req.scheme) else {
            return Verdict::Declined(DeclineReason::UnknownCard);
        };
        let Some(card) = self.cards.get_mut(&(req.pan.clone(), req.psn)) else {
            return Verdict::Declined(DeclineReason::UnknownCard);
        };
        if cvn_from_iad(req.scheme, &req.input.iad) != Some(card.cvn) {
            return Verdict::Declined(DeclineReason::CvnMismatch);
        }
        let atc = req.input.atc;
        if !card.atcs.contains(&atc) {
            return Verdict::Declined(DeclineReason::AtcOutOfRange);
        }
        let icc_mk = card.cvn.icc_master_key(imk, &req.pan, req.psn);
        let session_key = card.cvn.session_key(&icc_mk, atc, req.input.un);
        let expected = card.cvn.arqc(&session_key, &req.input);
        if !ct_eq(&expected, &req.cryptogram) {
            return Verdict::Declined(DeclineReason::BadCryptogram);
        }
        // A genuine cryptogram of any type spends its ATC.
        if !card.seen.insert(atc) {
            return Verdict::Declined(DeclineReason::ReplayedAtc);
        }
        if req.cid & 0xC0 != 0x80 {
            return Verdict::Declined(DeclineReason::NotAnArqc);
        }
        // Above the card's CVM limit the covered CVR must say CDCVM: the CTQ/POSCII the
        // terminal saw are not authenticated and count for nothing here.
        let amount = decode_n(&req.input.amount).unwrap_or(u64::MAX);
        if amount > card.cvm_limit_minor && card.cvn.cdcvm_performed(&req.input.iad) != Some(true) {
            return Verdict::Declined(DeclineReason::CardholderNotVerified);
        }
        Verdict::Approved
    }
}

/// Which scheme a cryptogram version belongs to.
pub fn scheme_of(cvn: Cvn) -> Scheme {
    match cvn {
        Cvn::Visa18 | Cvn::Visa22 => Scheme::Visa,
        Cvn::Mastercard20 | Cvn::Mastercard21 => Scheme::Mastercard,
        Cvn::UnionPay01 => Scheme::UnionPay,
    }
}

/// The CVN a scheme's IAD names (each scheme's layout puts the CVN byte elsewhere), if this
/// wallet knows it.
pub fn cvn_from_iad(scheme: Scheme, iad: &[u8]) -> Option<Cvn> {
    Cvn::from_iad(iad).filter(|c| scheme_of(*c) == scheme)
}

/// Whether the covered IAD of an authorisation request says the cardholder was verified on
/// the device; `None` for an IAD this issuer cannot read.
pub fn cdcvm_of(req: &AuthRequest) -> Option<bool> {
    cvn_from_iad(req.scheme, &req.input.iad)?.cdcvm_performed(&req.input.iad)
}

/// A random Luhn-valid token PAN: Visa 4…(16), Mastercard 52…(16), UnionPay 62…(19, so the
/// rightmost-16-digit rule of key derivation option A matters).
pub fn token_pan(scheme: Scheme) -> String {
    let (prefix, len) = match scheme {
        Scheme::Visa => ("4", 16),
        Scheme::Mastercard => ("52", 16),
        Scheme::UnionPay => ("62", 19),
    };
    let mut random = [0u8; 19];
    // SystemRandom only fails if the OS has no entropy source; fall back to a fixed body so
    // the sandbox still works (a test PAN is not a secret).
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let mut pan: String = prefix.to_owned();
    for b in random.iter().take(len - prefix.len() - 1) {
        pan.push(char::from(b'0' + b % 10));
    }
    // The body is all digits, so a check digit always exists.
    pan.push(luhn_check_digit(&pan).unwrap_or('0'));
    pan
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert!(!luhn_valid("4111a11111111111"));
        for scheme in [Scheme::Visa, Scheme::Mastercard, Scheme::UnionPay] {
            for _ in 0..50 {
                let pan = token_pan(scheme);
                assert!(luhn_valid(&pan), "{pan}");
            }
        }
        assert_eq!(token_pan(Scheme::UnionPay).len(), 19);
    }
}
