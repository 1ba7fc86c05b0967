//! Reading a consumer-presented payload: base64, then BER-TLV (with the shared
//! [`crate::emv::tlv`] parser, which bounds depth and size), then the CPM structure.

use crate::emv::tlv::{self, Tag, Tlv, TlvError};
use crate::qr::schemes::{self, Network};
use crate::qr::{InputError, MAX_INPUT_BYTES, Verdict};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};

pub const TAG_PAYLOAD_FORMAT: Tag = Tag(0x85);
pub const TAG_APPLICATION: Tag = Tag(0x61);
pub const TAG_COMMON_DATA: Tag = Tag(0x62);
pub const TAG_APP_SPECIFIC: Tag = Tag(0x63);
pub const TAG_COMMON_SPECIFIC: Tag = Tag(0x64);
pub const TAG_AID: Tag = Tag(0x4F);
pub const TAG_LABEL: Tag = Tag(0x50);
pub const TAG_TRACK2: Tag = Tag(0x57);
pub const TAG_PAN: Tag = Tag(0x5A);
pub const TAG_PSN: Tag = Tag(0x5F34);
pub const TAG_LAST4: Tag = Tag(0x9F25);
pub const TAG_AC: Tag = Tag(0x9F26);
pub const TAG_CID: Tag = Tag(0x9F27);
pub const TAG_IAD: Tag = Tag(0x9F10);
pub const TAG_ATC: Tag = Tag(0x9F36);
pub const TAG_AIP: Tag = Tag(0x82);
pub const TAG_UN: Tag = Tag(0x9F37);

/// The payload format indicator value of CPM v1.
pub const CPV01: &[u8] = b"CPV01";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpmError {
    #[error("not base64: {0}")]
    Base64(String),
    #[error("BER-TLV does not parse: {0}")]
    BerTlv(TlvError),
    #[error("value of tag {0} overruns buffer")]
    Overrun(Tag),
    #[error("first data object is not the payload format indicator 85")]
    NoFormatIndicator,
    #[error("payload format indicator is {0:?}, expected \"CPV01\"")]
    WrongFormat(String),
    #[error("no application template 61")]
    NoApplication,
    #[error("application template {0} has no AID (4F)")]
    NoAid(usize),
    #[error("unexpected top-level tag {0}")]
    UnexpectedTag(Tag),
    #[error("tag {tag} in {template} is {len} bytes, expected {expected}")]
    BadLength {
        tag: Tag,
        template: Tag,
        len: usize,
        expected: usize,
    },
}

/// A BER-TLV object, with its children when it is constructed and they parse.
#[derive(Clone, PartialEq, Eq)]
pub struct Node {
    pub tag: Tag,
    pub value: Vec<u8>,
    pub children: Option<Vec<Node>>,
}

/// Tags and lengths only: a code's tree holds a live cryptogram (9F26) and track 2 (57), which
/// must not reach a log through `{:?}`.
impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut d = f.debug_struct("Node");
        d.field("tag", &self.tag);
        match &self.children {
            Some(children) => d.field("children", children),
            None => d.field("len", &self.value.len()),
        };
        d.finish()
    }
}

/// The cryptogram data of one application (template 63, or the common 64).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct TransactionData {
    pub cryptogram: Option<[u8; 8]>,
    pub cid: Option<u8>,
    pub iad: Option<Vec<u8>>,
    pub atc: Option<u16>,
    pub aip: Option<[u8; 2]>,
    pub un: Option<[u8; 4]>,
}

// The cryptogram is a credential until the issuer has seen it: never in logs.
impl std::fmt::Debug for TransactionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TransactionData")
            .field("atc", &self.atc)
            .field("cid", &self.cid)
            .finish_non_exhaustive()
    }
}

/// One application template (61).
#[derive(Clone, PartialEq, Eq)]
pub struct Application {
    pub aid: Vec<u8>,
    pub label: Option<String>,
    /// Track-2 equivalent data (57), as on the wire.
    pub track2: Option<Vec<u8>>,
    pub pan: Option<String>,
    pub psn: Option<u8>,
    /// 9F25, last four digits of the PAN.
    pub last4: Option<String>,
    /// The application's own transaction data (63), when present.
    pub transaction: Option<TransactionData>,
}

impl std::fmt::Debug for Application {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Application")
            .field("aid", &hex::encode_upper(&self.aid))
            .field("label", &self.label)
            .field("pan", &self.pan().map(|p| crate::card::mask_pan(&p)))
            .field("transaction", &self.transaction)
            .finish_non_exhaustive()
    }
}

impl Application {
    pub fn network(&self) -> Option<Network> {
        schemes::aid(&self.aid)
    }

    /// The PAN (token) from 5A, else from the track-2 equivalent.
    pub fn pan(&self) -> Option<String> {
        self.pan.clone().or_else(|| {
            let digits = hex::encode_upper(self.track2.as_ref()?);
            digits.split_once('D').map(|(pan, _)| pan.to_owned())
        })
    }
}

/// A decoded consumer-presented code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CpmCode {
    pub verdict: Verdict,
    pub errors: Vec<CpmError>,
    /// Application templates in priority order.
    pub applications: Vec<Application>,
    /// Cryptogram data in the common data template (62/64), where EMVCo's example puts it.
    pub common: Option<TransactionData>,
    /// The whole BER-TLV tree; empty when it did not parse.
    pub tree: Vec<Node>,
}

/// Is this text probably CPM? Base64 of a payload that starts with tag 85.
pub fn looks_like_cpm(text: &str) -> bool {
    text.starts_with("hQ")
}

/// Decode a CPM payload. Only input that cannot be one at all is an `Err`; a malformed payload
/// comes back with a non-valid verdict and its errors.
pub fn decode(text: &str) -> Result<CpmCode, InputError> {
    if text.is_empty() {
        return Err(InputError::Empty);
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            len: text.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let failed = |verdict, error| CpmCode {
        verdict,
        errors: vec![error],
        applications: vec![],
        common: None,
        tree: vec![],
    };
    let bytes = match STANDARD
        .decode(text)
        .or_else(|_| STANDARD_NO_PAD.decode(text))
    {
        Ok(b) => b,
        Err(e) => {
            return Ok(failed(
                Verdict::InvalidBase64,
                CpmError::Base64(e.to_string()),
            ));
        }
    };
    let top = match tlv::parse_all(&bytes) {
        Ok(top) => top,
        Err(e) => return Ok(failed(Verdict::InvalidBerTlv, culprit(&bytes, e))),
    };
    let tree = match nodes(&top, 1) {
        Ok(tree) => tree,
        Err(e) => return Ok(failed(Verdict::InvalidBerTlv, e)),
    };
    Ok(check_structure(tree))
}

fn nodes(objs: &[Tlv<'_>], depth: usize) -> Result<Vec<Node>, CpmError> {
    if depth > tlv::MAX_DEPTH {
        return Err(CpmError::BerTlv(TlvError::TooDeep));
    }
    objs.iter()
        .map(|o| {
            let children = if o.tag.is_constructed() {
                let kids = o.children().map_err(|e| culprit(o.value, e))?;
                Some(nodes(&kids, depth + 1)?)
            } else {
                None
            };
            Ok(Node {
                tag: o.tag,
                value: o.value.to_vec(),
                children,
            })
        })
        .collect()
}

/// Name the object whose value runs past the end, where the shared parser only says
/// "truncated": walk the level object by object with it and report the first that fails.
fn culprit(level: &[u8], err: TlvError) -> CpmError {
    if err != TlvError::Truncated {
        return CpmError::BerTlv(err);
    }
    let mut rest = level;
    loop {
        // 00/FF padding may sit between objects.
        let Some(start) = rest.iter().position(|&b| b != 0x00 && b != 0xFF) else {
            return CpmError::BerTlv(err);
        };
        rest = rest.get(start..).unwrap_or_default();
        match tlv::parse_object(rest) {
            Ok((_, used)) => rest = rest.get(used..).unwrap_or_default(),
            Err(_) => {
                return match Tag::parse(rest) {
                    Ok((tag, _)) => CpmError::Overrun(tag),
                    Err(_) => CpmError::BerTlv(err),
                };
            }
        }
    }
}

fn check_structure(tree: Vec<Node>) -> CpmCode {
    let mut errors = Vec::new();
    match tree.first() {
        Some(n) if n.tag == TAG_PAYLOAD_FORMAT => {
            if n.value != CPV01 {
                errors.push(CpmError::WrongFormat(
                    String::from_utf8_lossy(&n.value).into_owned(),
                ));
            }
        }
        _ => errors.push(CpmError::NoFormatIndicator),
    }
    let mut applications = Vec::new();
    let mut common = None;
    for (i, node) in tree.iter().enumerate() {
        match node.tag {
            TAG_PAYLOAD_FORMAT if i == 0 => {}
            TAG_APPLICATION => match application(node, applications.len() + 1) {
                Ok(app) => applications.push(app),
                Err(e) => errors.push(e),
            },
            TAG_COMMON_DATA => {
                let kids = node.children.as_deref().unwrap_or_default();
                common = kids
                    .iter()
                    .find(|k| k.tag == TAG_COMMON_SPECIFIC)
                    .map(|t| transaction(t, &mut errors));
            }
            other => errors.push(CpmError::UnexpectedTag(other)),
        }
    }
    if !tree.iter().any(|n| n.tag == TAG_APPLICATION) {
        errors.push(CpmError::NoApplication);
    }
    let verdict = if errors.is_empty() {
        Verdict::Valid
    } else {
        Verdict::InvalidStructure
    };
    CpmCode {
        verdict,
        errors,
        applications,
        common,
        tree,
    }
}

fn application(node: &Node, index: usize) -> Result<Application, CpmError> {
    let kids = node.children.as_deref().unwrap_or_default();
    let get = |tag: Tag| {
        kids.iter()
            .find(|k| k.tag == tag)
            .map(|k| k.value.as_slice())
    };
    let aid = get(TAG_AID)
        .filter(|a| (5..=16).contains(&a.len()))
        .ok_or(CpmError::NoAid(index))?;
    let mut errors = Vec::new();
    let transaction = kids
        .iter()
        .find(|k| k.tag == TAG_APP_SPECIFIC)
        .map(|t| transaction(t, &mut errors));
    if let Some(e) = errors.into_iter().next() {
        return Err(e);
    }
    Ok(Application {
        aid: aid.to_vec(),
        label: get(TAG_LABEL).map(|l| String::from_utf8_lossy(l).into_owned()),
        track2: get(TAG_TRACK2).map(<[u8]>::to_vec),
        pan: get(TAG_PAN).map(|p| hex::encode_upper(p).trim_end_matches('F').to_owned()),
        psn: get(TAG_PSN).and_then(|p| p.first().copied()),
        last4: get(TAG_LAST4).map(hex::encode_upper),
        transaction,
    })
}

fn transaction(node: &Node, errors: &mut Vec<CpmError>) -> TransactionData {
    let kids = node.children.as_deref().unwrap_or_default();
    let mut fixed = |tag: Tag, expected: usize| -> Option<Vec<u8>> {
        let v = kids.iter().find(|k| k.tag == tag)?.value.clone();
        if v.len() != expected {
            errors.push(CpmError::BadLength {
                tag,
                template: node.tag,
                len: v.len(),
                expected,
            });
            return None;
        }
        Some(v)
    };
    TransactionData {
        cryptogram: fixed(TAG_AC, 8).and_then(|v| v.try_into().ok()),
        cid: fixed(TAG_CID, 1).and_then(|v| v.first().copied()),
        atc: fixed(TAG_ATC, 2).and_then(|v| Some(u16::from_be_bytes(v.try_into().ok()?))),
        aip: fixed(TAG_AIP, 2).and_then(|v| v.try_into().ok()),
        un: fixed(TAG_UN, 4).and_then(|v| v.try_into().ok()),
        iad: kids
            .iter()
            .find(|k| k.tag == TAG_IAD)
            .map(|k| k.value.clone()),
    }
}
