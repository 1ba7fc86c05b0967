//! A POS terminal's contactless kernel, reader side: PPSE, select by priority, GPO with PDOL
//! data built from its own transaction data, READ RECORD along the AFL, GENERATE AC for
//! M/Chip. It talks to any card through a `FnMut(&[u8]) -> Vec<u8>` and reports everything
//! it saw, including the authorisation request for the issuer.
//!
//! This is a test kernel, not a certified one: it follows the happy paths of EMV Books C-2,
//! C-3 and C-7 and the card's refusals that matter here (6985 select next, 6986 see phone,
//! POSCII second tap), nothing more.

use crate::issuer::{AuthRequest, cvn_from_iad};
use std::collections::HashMap;
use wallet_core::card::{PPSE, Scheme};
use wallet_core::emv::apdu::{Command, StatusWord, split_response};
use wallet_core::emv::bcd;
use wallet_core::emv::cvn::{AcInput, Cvn};
use wallet_core::emv::dol;
use wallet_core::emv::tlv::{self, Tag};

/// The reader's fixed configuration.
#[derive(Debug, Clone)]
pub struct TerminalConfig {
    /// ISO 3166 numeric (9F1A).
    pub country: u16,
    /// Above this amount the reader requires a CVM (TTQ byte 2 bit 7).
    pub reader_cvm_limit_minor: u64,
    /// TTQ byte 3 bit 7: the reader understands consumer-device CVM.
    pub supports_cdcvm: bool,
    /// 9F35: 22 = attended, online only.
    pub terminal_type: u8,
}

impl Default for TerminalConfig {
    fn default() -> Self {
        Self {
            country: 156,
            reader_cvm_limit_minor: 5_000,
            supports_cdcvm: true,
            terminal_type: 0x22,
        }
    }
}

/// One transaction's data, as the terminal puts it in the PDOL/CDOL data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transaction {
    pub amount_minor: u64,
    pub amount_other_minor: u64,
    /// ISO 4217 numeric (5F2A).
    pub currency: u16,
    /// 9C: 00 purchase.
    pub txn_type: u8,
    /// 9A: YYMMDD, BCD.
    pub date: [u8; 3],
    /// 9F37.
    pub un: [u8; 4],
}

impl Transaction {
    /// A purchase dated today (UTC) with a fresh random unpredictable number.
    pub fn purchase(amount_minor: u64, currency: u16) -> Self {
        let today = time::OffsetDateTime::now_utc();
        let year = u16::try_from(today.year()).unwrap_or(2000);
        let date = bcd::date(year, u8::from(today.month()), today.day()).unwrap_or([0; 3]);
        let mut un = [0u8; 4];
        // Without an entropy source the UN stays zero; the kernel still runs (a test terminal).
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut un);
        Self {
            amount_minor,
            amount_other_minor: 0,
            currency,
            txn_type: 0x00,
            date,
            un,
        }
    }
}

/// How the kernel ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The card produced an ARQC: send it to the issuer.
    OnlineRequest,
    /// The card asks the cardholder to verify on the phone, then tap again.
    SeePhone,
    /// The card declined with an AAC.
    Declined,
    /// The kernel stopped without a usable answer.
    EndApplication(String),
}

impl Outcome {
    pub fn as_str(&self) -> &str {
        match self {
            Outcome::OnlineRequest => "online_request",
            Outcome::SeePhone => "see_phone",
            Outcome::Declined => "declined",
            Outcome::EndApplication(_) => "end_application",
        }
    }
}

/// Everything one tap showed the terminal.
#[derive(Debug, Clone)]
pub struct TapOutcome {
    pub outcome: Outcome,
    pub scheme: Option<Scheme>,
    pub aid: Vec<u8>,
    pub label: Option<String>,
    pub pan: Option<String>,
    pub psn: Option<u8>,
    /// YYMM.
    pub expiry: Option<String>,
    pub atc: Option<u16>,
    pub cvn: Option<Cvn>,
    pub cryptogram: Option<[u8; 8]>,
    /// Cryptogram information data (9F27).
    pub cid: Option<u8>,
    pub iad: Option<Vec<u8>>,
    /// What the card told the terminal about CDCVM (CTQ or POSCII). Unauthenticated: the
    /// issuer relies on the CVR inside the IAD instead.
    pub cdcvm_indicated: bool,
    /// Every exchange, command and response.
    pub apdus: Vec<(Vec<u8>, Vec<u8>)>,
    /// The authorisation request, when the card asked to go online.
    pub auth: Option<AuthRequest>,
}

impl TapOutcome {
    /// The report as one JSON object (hex in upper case): `scheme aid label pan psn expiry atc
    /// cvn cryptogram cid iad cdcvm_indicated outcome reason apdus[{c, r}]`. The caller adds
    /// the issuer's verdict.
    pub fn to_json(&self) -> serde_json::Value {
        let hex_opt = |v: Option<&[u8]>| v.map(hex::encode_upper);
        serde_json::json!({
            "scheme": self.scheme.map(Scheme::name),
            "aid": hex::encode_upper(&self.aid),
            "label": self.label,
            "pan": self.pan,
            "psn": self.psn,
            "expiry": self.expiry,
            "atc": self.atc,
            "cvn": self.cvn.map(|c| format!("{:02X}", c.byte())),
            "cryptogram": hex_opt(self.cryptogram.as_ref().map(|c| c.as_slice())),
            "cid": self.cid.map(|c| format!("{c:02X}")),
            "iad": hex_opt(self.iad.as_deref()),
            "cdcvm_indicated": self.cdcvm_indicated,
            "outcome": self.outcome.as_str(),
            "reason": match &self.outcome {
                Outcome::EndApplication(reason) => Some(reason.as_str()),
                _ => None,
            },
            "apdus": self
                .apdus
                .iter()
                .map(|(c, r)| serde_json::json!({ "c": hex::encode_upper(c), "r": hex::encode_upper(r) }))
                .collect::<Vec<_>>(),
        })
    }
}

/// A POS terminal.
#[derive(Debug, Clone, Default)]
pub struct Terminal {
    pub config: TerminalConfig,
}

impl Terminal {
    pub fn new(config: TerminalConfig) -> Self {
        Self { config }
    }

    /// Run one contactless transaction against `card`.
    pub fn tap(&self, txn: &Transaction, card: &mut dyn FnMut(&[u8]) -> Vec<u8>) -> TapOutcome {
        let mut kernel = Kernel {
            data: terminal_data(&self.config, txn),
            card,
            out: TapOutcome {
                outcome: Outcome::EndApplication(String::new()),
                scheme: None,
                aid: Vec::new(),
                label: None,
                pan: None,
                psn: None,
                expiry: None,
                atc: None,
                cvn: None,
                cryptogram: None,
                cid: None,
                iad: None,
                cdcvm_indicated: false,
                apdus: Vec::new(),
                auth: None,
            },
            card_data: HashMap::new(),
        };
        let outcome = kernel.run().unwrap_or_else(Outcome::EndApplication);
        kernel.out.outcome = outcome;
        kernel.out
    }
}

struct Candidate {
    aid: Vec<u8>,
    label: Option<String>,
    priority: u8,
}

struct Kernel<'c> {
    /// The terminal's own data objects, by tag.
    data: HashMap<Tag, Vec<u8>>,
    card: &'c mut dyn FnMut(&[u8]) -> Vec<u8>,
    out: TapOutcome,
    /// Data objects the card returned (GPO, records, GENERATE AC); the first occurrence wins.
    card_data: HashMap<Tag, Vec<u8>>,
}

impl Kernel<'_> {
    fn run(&mut self) -> Result<Outcome, String> {
        let (fci, sw) = self.exchange(select(PPSE));
        if sw != StatusWord::OK {
            return Err(format!("SELECT PPSE answered {sw}"));
        }
        let candidates = ppse_candidates(&fci)?;
        if candidates.is_empty() {
            return Err("no supported application in the PPSE".into());
        }
        for candidate in candidates {
            let (fci, sw) = self.exchange(select(&candidate.aid));
            if sw != StatusWord::OK {
                continue;
            }
            let Some(scheme) = scheme_of_aid(&candidate.aid) else {
                continue;
            };
            self.out.scheme = Some(scheme);
            self.out.aid = candidate.aid.clone();
            self.out.label = candidate.label.clone();
            let pdol = tlv::find(&fci, Tag(0x9F38))
                .map_err(|e| format!("FCI: {e}"))?
                .unwrap_or_default();
            let pdol = dol::parse(pdol).map_err(|e| format!("PDOL: {e}"))?;
            let pdol_data = dol::build_data(&pdol, |t| self.data.get(&t).map(Vec::as_slice));
            let gpo = Command {
                cla: 0x80,
                ins: 0xA8,
                p1: 0,
                p2: 0,
                data: &tlv::encode(Tag(0x83), &pdol_data),
                le: Some(256),
            }
            .to_bytes();
            let (resp, sw) = self.exchange(gpo);
            match sw.0 {
                0x9000 => return self.after_gpo(scheme, &resp),
                0x6986 => return Ok(Outcome::SeePhone),
                0x6985 => continue, // select next
                0x6984 => return Err("card asks for another interface (6984)".into()),
                _ => return Err(format!("GET PROCESSING OPTIONS answered {sw}")),
            }
        }
        Err("no application accepted the transaction".into())
    }

    fn after_gpo(&mut self, scheme: Scheme, resp: &[u8]) -> Result<Outcome, String> {
        let objects = tlv::parse_all(resp).map_err(|e| format!("GPO response: {e}"))?;
        match objects.as_slice() {
            [o] if o.tag == Tag(0x77) => self.absorb(o.value)?,
            [o] if o.tag == Tag(0x80) => {
                let (aip, afl) = o
                    .value
                    .split_at_checked(2)
                    .ok_or("GPO format 1 too short")?;
                self.card_data.insert(Tag(0x82), aip.to_vec());
                self.card_data.insert(Tag(0x94), afl.to_vec());
            }
            _ => return Err("GPO response is neither format 1 nor format 2".into()),
        }
        let afl = self.card_data.get(&Tag(0x94)).cloned().unwrap_or_default();
        for entry in afl.chunks(4) {
            let [sfi_byte, first, last, _] = *entry else {
                return Err("AFL length is not a multiple of 4".into());
            };
            for record in first..=last {
                let cmd = Command {
                    cla: 0x00,
                    ins: 0xB2,
                    p1: record,
                    p2: (sfi_byte & 0xF8) | 0x04,
                    data: &[],
                    le: Some(256),
                };
                let (resp, sw) = self.exchange(cmd.to_bytes());
                if sw != StatusWord::OK {
                    return Err(format!(
                        "READ RECORD {}/{record} answered {sw}",
                        sfi_byte >> 3
                    ));
                }
                let template = tlv::parse_all(&resp).map_err(|e| format!("record: {e}"))?;
                match template.as_slice() {
                    [o] if o.tag == Tag(0x70) => self.absorb(o.value)?,
                    _ => return Err("record is not a 70 template".into()),
                }
            }
        }

        if !self.card_data.contains_key(&Tag(0x9F26)) {
            // M/Chip: the cryptogram comes from GENERATE AC over CDOL1.
            let cdol1 = self
                .card_data
                .get(&Tag(0x8C))
                .ok_or("no cryptogram in GPO and no CDOL1")?;
            let cdol1 = dol::parse(cdol1).map_err(|e| format!("CDOL1: {e}"))?;
            let cdol1_data = dol::build_data(&cdol1, |t| self.data.get(&t).map(Vec::as_slice));
            let cmd = Command {
                cla: 0x80,
                ins: 0xAE,
                p1: 0x80,
                p2: 0x00,
                data: &cdol1_data,
                le: Some(256),
            };
            let (resp, sw) = self.exchange(cmd.to_bytes());
            if sw != StatusWord::OK {
                return Err(format!("GENERATE AC answered {sw}"));
            }
            let objects =
                tlv::parse_all(&resp).map_err(|e| format!("GENERATE AC response: {e}"))?;
            match objects.as_slice() {
                [o] if o.tag == Tag(0x77) => self.absorb(o.value)?,
                [o] if o.tag == Tag(0x80) => {
                    // Format 1: CID(1) ATC(2) AC(8) IAD(…).
                    let v = o.value;
                    let (cid, rest) = v.split_at_checked(1).ok_or("format 1 too short")?;
                    let (atc, rest) = rest.split_at_checked(2).ok_or("format 1 too short")?;
                    let (ac, iad) = rest.split_at_checked(8).ok_or("format 1 too short")?;
                    for (t, v) in [(0x9F27, cid), (0x9F36, atc), (0x9F26, ac), (0x9F10, iad)] {
                        self.card_data.insert(Tag(t), v.to_vec());
                    }
                }
                _ => return Err("GENERATE AC response is neither format 1 nor format 2".into()),
            }
            self.out.cdcvm_indicated = self.poscii(1) & 0x10 != 0;
            // Book C-2 S910.71: OD-CVM required / ACK required, or a wallet-specific reason,
            // means "see phone" and a second tap.
            if self.poscii(1) & 0x03 != 0 || self.poscii(2) & 0x0F != 0 {
                self.collect(scheme)?;
                return Ok(Outcome::SeePhone);
            }
        } else {
            let ctq = self
                .card_data
                .get(&Tag(0x9F6C))
                .cloned()
                .unwrap_or_default();
            self.out.cdcvm_indicated = ctq.get(1).is_some_and(|b| b & 0x80 != 0);
        }
        self.collect(scheme)?;
        match self.out.cid.map(|c| c & 0xC0) {
            Some(0x80) => Ok(Outcome::OnlineRequest),
            Some(0x00) => Ok(Outcome::Declined),
            Some(_) => Err("card returned a TC to an online-only transaction".into()),
            None => Err("no cryptogram information data".into()),
        }
    }

    fn poscii(&self, byte: usize) -> u8 {
        self.card_data
            .get(&Tag(0xDF4B))
            .and_then(|p| p.get(byte).copied())
            .unwrap_or(0)
    }

    /// Fill the report and the authorisation request from what the card returned.
    fn collect(&mut self, scheme: Scheme) -> Result<(), String> {
        let get = |t: u32| self.card_data.get(&Tag(t));
        let track2 = get(0x57).map(hex::encode_upper);
        let pan = match get(0x5A) {
            Some(p) => bcd::decode_cn(p).ok_or("5A is not a PAN")?,
            None => track2
                .as_deref()
                .and_then(|t| t.split('D').next())
                .ok_or("no PAN")?
                .to_owned(),
        };
        let psn = get(0x5F34).and_then(|p| p.first().copied()).unwrap_or(0);
        let expiry = match get(0x5F24) {
            Some(e) => hex::encode_upper(e.get(..2).ok_or("5F24 too short")?),
            None => track2
                .as_deref()
                .and_then(|t| t.split('D').nth(1))
                .and_then(|t| t.get(..4))
                .ok_or("no expiry")?
                .to_owned(),
        };
        let cryptogram: [u8; 8] = get(0x9F26)
            .and_then(|c| c.as_slice().try_into().ok())
            .ok_or("no 8-byte cryptogram")?;
        let cid = get(0x9F27)
            .and_then(|c| c.first().copied())
            .ok_or("no CID")?;
        let atc = get(0x9F36)
            .and_then(|a| <[u8; 2]>::try_from(a.as_slice()).ok())
            .map(u16::from_be_bytes)
            .ok_or("no ATC")?;
        let iad = get(0x9F10).cloned().ok_or("no IAD")?;
        let aip: [u8; 2] = get(0x82)
            .and_then(|a| a.as_slice().try_into().ok())
            .ok_or("no AIP")?;

        self.out.cvn = cvn_from_iad(scheme, &iad);
        self.out.pan = Some(pan.clone());
        self.out.psn = Some(psn);
        self.out.expiry = Some(expiry);
        self.out.atc = Some(atc);
        self.out.cryptogram = Some(cryptogram);
        self.out.cid = Some(cid);
        self.out.iad = Some(iad.clone());
        let field = |t: u32| self.data.get(&Tag(t)).cloned().unwrap_or_default();
        let input = AcInput {
            amount: fixed(&field(0x9F02)),
            amount_other: fixed(&field(0x9F03)),
            terminal_country: fixed(&field(0x9F1A)),
            tvr: fixed(&field(0x95)),
            currency: fixed(&field(0x5F2A)),
            date: fixed(&field(0x9A)),
            txn_type: field(0x9C).first().copied().unwrap_or(0),
            un: fixed(&field(0x9F37)),
            aip,
            atc,
            iad,
        };
        if cid & 0xC0 == 0x80 {
            self.out.auth = Some(AuthRequest {
                scheme,
                pan,
                psn,
                cid,
                cryptogram,
                input,
            });
        }
        Ok(())
    }

    /// Keep the primitive objects of a template (one level).
    fn absorb(&mut self, template: &[u8]) -> Result<(), String> {
        for o in tlv::parse_all(template).map_err(|e| format!("card data: {e}"))? {
            self.card_data
                .entry(o.tag)
                .or_insert_with(|| o.value.to_vec());
        }
        Ok(())
    }

    fn exchange(&mut self, command: Vec<u8>) -> (Vec<u8>, StatusWord) {
        let response = (self.card)(&command);
        let parsed = split_response(&response).map(|(d, sw)| (d.to_vec(), sw));
        self.out.apdus.push((command, response));
        parsed.unwrap_or((Vec::new(), StatusWord::NO_PRECISE_DIAGNOSIS))
    }
}

fn select(name: &[u8]) -> Vec<u8> {
    Command {
        cla: 0x00,
        ins: 0xA4,
        p1: 0x04,
        p2: 0x00,
        data: name,
        le: Some(256),
    }
    .to_bytes()
}

/// Directory entries of a PPSE FCI, highest priority first (87 low nibble, 1 = highest;
/// entries without a priority come last), unsupported RIDs dropped.
fn ppse_candidates(fci: &[u8]) -> Result<Vec<Candidate>, String> {
    let directory = tlv::find(fci, Tag(0xBF0C))
        .map_err(|e| format!("PPSE: {e}"))?
        .ok_or("PPSE without BF0C")?;
    let mut out = Vec::new();
    for entry in tlv::parse_all(directory).map_err(|e| format!("PPSE: {e}"))? {
        if entry.tag != Tag(0x61) {
            continue;
        }
        let mut aid = None;
        let mut label = None;
        let mut priority = 0x10;
        for o in entry.children().map_err(|e| format!("PPSE entry: {e}"))? {
            match o.tag {
                Tag(0x4F) => aid = Some(o.value.to_vec()),
                Tag(0x50) => label = Some(String::from_utf8_lossy(o.value).into_owned()),
                Tag(0x87) => {
                    priority = o.value.first().map_or(0x10, |p| match p & 0x0F {
                        0 => 0x10,
                        n => n,
                    })
                }
                _ => {}
            }
        }
        if let Some(aid) = aid.filter(|a| scheme_of_aid(a).is_some()) {
            out.push(Candidate {
                aid,
                label,
                priority,
            });
        }
    }
    out.sort_by_key(|c| c.priority);
    Ok(out)
}

/// The scheme behind an AID, by its RID.
pub fn scheme_of_aid(aid: &[u8]) -> Option<Scheme> {
    match aid.get(..5)? {
        [0xA0, 0x00, 0x00, 0x03, 0x33] => Some(Scheme::UnionPay),
        [0xA0, 0x00, 0x00, 0x00, 0x03] => Some(Scheme::Visa),
        [0xA0, 0x00, 0x00, 0x00, 0x04] => Some(Scheme::Mastercard),
        _ => None,
    }
}

/// The terminal's data objects for this transaction.
fn terminal_data(cfg: &TerminalConfig, txn: &Transaction) -> HashMap<Tag, Vec<u8>> {
    let cvm_required = txn.amount_minor > cfg.reader_cvm_limit_minor;
    // TTQ: byte 1 qVSDC/qPBOC + contact + online PIN + signature; byte 2 online cryptogram
    // required (+ CVM required); byte 3 CDCVM supported.
    let ttq = [
        0x36,
        0x80 | if cvm_required { 0x40 } else { 0 },
        if cfg.supports_cdcvm { 0x40 } else { 0 },
        0x00,
    ];
    let mut d = HashMap::new();
    d.insert(Tag(0x9F02), n12(txn.amount_minor).to_vec());
    d.insert(Tag(0x9F03), n12(txn.amount_other_minor).to_vec());
    d.insert(Tag(0x9F1A), n3(cfg.country).to_vec());
    d.insert(Tag(0x95), vec![0; 5]);
    d.insert(Tag(0x5F2A), n3(txn.currency).to_vec());
    d.insert(Tag(0x9A), txn.date.to_vec());
    d.insert(Tag(0x9C), vec![txn.txn_type]);
    d.insert(Tag(0x9F37), txn.un.to_vec());
    d.insert(Tag(0x9F66), ttq.to_vec());
    d.insert(Tag(0x9F35), vec![cfg.terminal_type]);
    // CVM results: 3F 00 00 "no CVM performed" — the card reports CDCVM itself.
    d.insert(Tag(0x9F34), vec![0x3F, 0x00, 0x00]);
    d
}

/// n12 (amounts); values above 999 999 999 999 saturate.
fn n12(v: u64) -> [u8; 6] {
    bcd::amount(v.min(999_999_999_999)).unwrap_or([0x99; 6])
}

/// n3 in two bytes (country and currency codes); above 999 saturates.
fn n3(v: u16) -> [u8; 2] {
    bcd::code_n3(v.min(999)).unwrap_or([0x09, 0x99])
}

fn fixed<const N: usize>(v: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    if let Ok(a) = <[u8; N]>::try_from(v) {
        out = a;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bcd_fields() {
        assert_eq!(n12(1234), [0, 0, 0, 0, 0x12, 0x34]);
        assert_eq!(n3(156), [0x01, 0x56]);
        assert_eq!(n3(840), [0x08, 0x40]);
        assert_eq!(n12(u64::MAX), [0x99; 6]);
        assert_eq!(
            scheme_of_aid(&[0xA0, 0, 0, 3, 0x33, 1, 1, 2]),
            Some(Scheme::UnionPay)
        );
        assert_eq!(scheme_of_aid(&[0xA0, 0, 0, 0]), None);
    }
}
