//! EMVCo Merchant-Presented Mode (QRCPS-MPM v1.1): decode what a merchant shows, build one.
//!
//! Decoding is lenient where real codes are (payload format indicator "02", lowercase CRC,
//! missing mandatory objects, non-TLV data in merchant templates, lengths counted in bytes) and
//! says so in warnings; it is strict where a wrong reading would pay the wrong merchant (the
//! top-level layout, templates 62 and 64, the CRC). A code is payable only when its
//! [`Verdict`] is valid.

mod build;
pub mod tlv;

pub use build::{Account, BuildError, Initiation, Language, MerchantPayload, Tip};

use super::crc::crc16;
use super::schemes::{self, Network};
use super::{InputError, MAX_INPUT_BYTES, Verdict};
use tlv::{Fault, Object, Unit};

/// EMVCo: "the total length of the payload shall not exceed 512 alphanumeric characters".
pub const MAX_PAYLOAD_CHARS: usize = 512;

/// The IDs EMVCo makes mandatory (besides 63, checked on its own and 26–51, "at least one
/// merchant account").
const MANDATORY: [u8; 6] = [0, 52, 53, 58, 59, 60];

/// A fault that makes the code unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpmError {
    #[error(transparent)]
    Layout(#[from] Fault),
    #[error("no CRC object (ID 63) as last data object")]
    MissingCrc,
    #[error("duplicate top-level ID {0:02}")]
    DuplicateId(u8),
    /// Templates 62 and 64 carry data a payment uses, so they must parse.
    #[error("template {id:02} does not parse: {fault}")]
    Template { id: u8, fault: Fault },
}

/// A deviation real codes show that does not stop the code being read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MpmWarning {
    #[error(
        "lengths only parse when counted in UTF-8 bytes; EMVCo Annex example counts characters"
    )]
    LengthsInBytes,
    #[error("payload format indicator is '{0}', EMVCo requires '01'")]
    PayloadFormat(String),
    #[error("CRC hex in lowercase")]
    CrcLowercase,
    #[error("mandatory ID {0:02} missing")]
    MandatoryMissing(u8),
    #[error("no merchant account information (IDs 02-51)")]
    NoMerchantAccount,
    /// Merchant-account and unreserved templates are scheme-defined; some (DuitNow's ID 82)
    /// are not TLV at all.
    #[error("template {id:02} is not nested TLV (kept raw): {fault}")]
    TemplateKeptRaw { id: u8, fault: Fault },
}

/// One top-level data object. `template` holds what parsed of a template's value (IDs 26–51,
/// 62, 64, 80–99), even when it stopped at a fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataObject {
    pub id: u8,
    pub value: String,
    pub template: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub objects: Vec<(u8, String)>,
    pub fault: Option<Fault>,
}

impl Template {
    pub fn get(&self, id: u8) -> Option<&str> {
        self.objects
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, v)| v.as_str())
    }
}

/// The checksum as stated and as computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrcCheck {
    /// The payload's last four characters, which is what a reader compares.
    pub stated: Option<String>,
    /// CRC over everything up to and including `6304`, when the payload ends `6304xxxx`.
    pub computed: Option<u16>,
    pub ok: bool,
}

/// A merchant-presented code as read, with everything wrong or odd about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantCode {
    pub verdict: Verdict,
    /// What the length fields were read as.
    pub unit: Unit,
    /// Top-level objects in payload order (a duplicate ID keeps its first occurrence).
    pub objects: Vec<DataObject>,
    pub errors: Vec<MpmError>,
    pub warnings: Vec<MpmWarning>,
    pub crc: CrcCheck,
    pub length_chars: usize,
    pub length_bytes: usize,
}

/// A merchant account (IDs 02–51): reserved network IDs carry a scheme-defined value, templates
/// a GUID in sub-ID 00.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo<'a> {
    pub id: u8,
    pub guid: Option<&'a str>,
    pub network: Option<Network>,
}

/// Read an MPM payload. Only input that cannot be a payload at all is an error; a malformed
/// code comes back with a non-valid [`Verdict`] and its errors.
pub fn decode(payload: &str) -> Result<MerchantCode, InputError> {
    if payload.is_empty() {
        return Err(InputError::Empty);
    }
    if payload.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            len: payload.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let length_chars = payload.chars().count();
    if length_chars > MAX_PAYLOAD_CHARS {
        return Err(InputError::TooLong {
            chars: length_chars,
            max: MAX_PAYLOAD_CHARS,
        });
    }

    let mut read = Reading::new(payload, Unit::Chars);
    let mut lenient = false;
    if !read.errors.is_empty() && !payload.is_ascii() {
        let bytes = Reading::new(payload, Unit::Bytes);
        if bytes.errors.is_empty() {
            read = bytes;
            lenient = true;
        }
    }

    let crc = check_crc(payload);
    let mut warnings = Vec::new();
    if lenient {
        warnings.push(MpmWarning::LengthsInBytes);
    }
    let get = |id: u8| {
        read.objects
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.value.as_str())
    };
    if let Some(pfi) = get(0).filter(|v| *v != "01") {
        warnings.push(MpmWarning::PayloadFormat(pfi.to_owned()));
    }
    if read.has_crc_object
        && crc
            .stated
            .as_deref()
            .is_some_and(|s| s.bytes().any(|b| b.is_ascii_lowercase()))
    {
        warnings.push(MpmWarning::CrcLowercase);
    }
    warnings.extend(
        MANDATORY
            .iter()
            .filter(|id| get(**id).is_none())
            .map(|id| MpmWarning::MandatoryMissing(*id)),
    );
    if !read.objects.iter().any(|o| (2..=51).contains(&o.id)) {
        warnings.push(MpmWarning::NoMerchantAccount);
    }
    warnings.append(&mut read.template_warnings);

    let verdict = match read.errors.as_slice() {
        [] if crc.ok && lenient => Verdict::ValidLenient,
        [] if crc.ok => Verdict::Valid,
        [] => Verdict::InvalidCrc,
        [MpmError::MissingCrc] => Verdict::MissingCrc,
        _ => Verdict::InvalidStructure,
    };
    Ok(MerchantCode {
        verdict,
        unit: read.unit,
        objects: read.objects,
        errors: read.errors,
        warnings,
        crc,
        length_chars,
        length_bytes: payload.len(),
    })
}

/// The layout of a payload read in one unit.
struct Reading {
    unit: Unit,
    objects: Vec<DataObject>,
    errors: Vec<MpmError>,
    template_warnings: Vec<MpmWarning>,
    has_crc_object: bool,
}

impl Reading {
    fn new(payload: &str, unit: Unit) -> Self {
        let (objs, fault) = tlv::read(payload, unit);
        let mut errors = Vec::new();
        let mut template_errors = Vec::new();
        let mut template_warnings = Vec::new();
        let mut seen = [false; 100];
        let mut objects = Vec::with_capacity(objs.len());
        for Object { id, value, .. } in &objs {
            // IDs are two decimal digits, so always inside `seen`.
            let duplicate = seen
                .get_mut(usize::from(*id))
                .is_some_and(|s| std::mem::replace(s, true));
            if duplicate {
                errors.push(MpmError::DuplicateId(*id));
                continue;
            }
            let template = is_template(*id).then(|| {
                let (children, fault) = tlv::read(value, unit);
                if let Some(fault) = &fault {
                    let (id, fault) = (*id, fault.clone());
                    if matches!(id, 62 | 64) {
                        template_errors.push(MpmError::Template { id, fault });
                    } else {
                        template_warnings.push(MpmWarning::TemplateKeptRaw { id, fault });
                    }
                }
                Template {
                    objects: children
                        .iter()
                        .map(|c| (c.id, c.value.to_owned()))
                        .collect(),
                    fault,
                }
            });
            objects.push(DataObject {
                id: *id,
                value: (*value).to_owned(),
                template,
            });
        }
        let has_crc_object = fault.is_none()
            && objs
                .last()
                .is_some_and(|o| o.id == 63 && o.value.len() == 4);
        if let Some(fault) = fault {
            errors.push(fault.into());
        }
        if !has_crc_object {
            errors.push(MpmError::MissingCrc);
        }
        errors.append(&mut template_errors);
        Self {
            unit,
            objects,
            errors,
            template_warnings,
            has_crc_object,
        }
    }
}

fn is_template(id: u8) -> bool {
    matches!(id, 26..=51 | 62 | 64 | 80..=99)
}

fn check_crc(payload: &str) -> CrcCheck {
    // The last four characters, whatever they are.
    let stated_at = payload.char_indices().rev().nth(3).map(|(i, _)| i);
    let stated = stated_at.and_then(|i| payload.get(i..)).map(str::to_owned);
    let covered = stated_at
        .and_then(|i| payload.as_bytes().get(..i))
        .filter(|c| c.ends_with(b"6304"));
    let computed = covered.map(crc16);
    let ok = match (&stated, computed) {
        (Some(s), Some(c)) => {
            s.len() == 4
                && s.bytes().all(|b| b.is_ascii_hexdigit())
                && u16::from_str_radix(s, 16) == Ok(c)
        }
        _ => false,
    };
    CrcCheck {
        stated,
        computed,
        ok,
    }
}

impl MerchantCode {
    /// Value of a top-level object.
    pub fn get(&self, id: u8) -> Option<&str> {
        self.object(id).map(|o| o.value.as_str())
    }

    pub fn object(&self, id: u8) -> Option<&DataObject> {
        self.objects.iter().find(|o| o.id == id)
    }

    /// A sub-object of a template (62 additional data, 64 language, …).
    pub fn sub(&self, id: u8, sub: u8) -> Option<&str> {
        self.object(id)?.template.as_ref()?.get(sub)
    }

    pub fn is_valid(&self) -> bool {
        self.verdict.is_valid()
    }

    pub fn payload_format_indicator(&self) -> Option<&str> {
        self.get(0)
    }
    pub fn point_of_initiation(&self) -> Option<&str> {
        self.get(1)
    }
    pub fn mcc(&self) -> Option<&str> {
        self.get(52)
    }
    pub fn currency(&self) -> Option<&str> {
        self.get(53)
    }
    pub fn amount(&self) -> Option<&str> {
        self.get(54)
    }
    pub fn country(&self) -> Option<&str> {
        self.get(58)
    }
    pub fn merchant_name(&self) -> Option<&str> {
        self.get(59)
    }
    pub fn merchant_city(&self) -> Option<&str> {
        self.get(60)
    }

    /// Merchant accounts (IDs 02–51) in payload order.
    pub fn accounts(&self) -> Vec<AccountInfo<'_>> {
        self.objects
            .iter()
            .filter_map(|o| match o.id {
                2..=25 => Some(AccountInfo {
                    id: o.id,
                    guid: None,
                    network: schemes::reserved_id(o.id),
                }),
                26..=51 => {
                    let guid = o.template.as_ref().and_then(|t| t.get(0));
                    Some(AccountInfo {
                        id: o.id,
                        guid,
                        network: guid.and_then(schemes::guid),
                    })
                }
                _ => None,
            })
            .collect()
    }

    /// Every network the code names, in payload order, without repeats.
    pub fn networks(&self) -> Vec<Network> {
        let mut out: Vec<Network> = Vec::new();
        for n in self.accounts().into_iter().filter_map(|a| a.network) {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out
    }

    /// The network to report: the first one this wallet pays, else the first recognised.
    pub fn network(&self) -> Option<Network> {
        let all = self.networks();
        all.iter()
            .find(|n| n.card.is_some())
            .or(all.first())
            .copied()
    }
}
