//! Building merchant-presented payloads: strict where decoding is lenient, so every code this
//! wallet (or the sandbox merchant) emits is one any EMVCo reader accepts.

use super::{MAX_PAYLOAD_CHARS, MerchantCode};
use crate::qr::crc::crc16;
use std::fmt::Write as _;

/// Point of initiation (ID 01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Initiation {
    /// "11": the same code for every payment.
    Static,
    /// "12": a code for one payment (usually with an amount).
    Dynamic,
}

/// A merchant account (IDs 02–51).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Account {
    /// IDs 02–25, reserved for payment networks; the value is network-defined.
    Network { id: u8, value: String },
    /// IDs 26–51: a template with a globally unique id (sub-ID 00) and scheme fields.
    Template {
        id: u8,
        guid: String,
        fields: Vec<(u8, String)>,
    },
}

/// Tip or convenience fee (ID 55, with 56 or 57).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tip {
    /// "01": the consumer is prompted for a tip.
    Prompt,
    /// "02": a fixed fee (ID 56).
    Fixed(String),
    /// "03": a percentage fee (ID 57).
    Percentage(String),
}

/// Merchant information in an alternate language (ID 64).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Language {
    /// ISO 639 two-letter code.
    pub preference: String,
    pub name: String,
    pub city: Option<String>,
}

/// Everything a merchant-presented code says, in the form a builder needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantPayload {
    pub initiation: Initiation,
    pub accounts: Vec<Account>,
    /// ISO 18245 merchant category code, 4 digits.
    pub mcc: String,
    /// ISO 4217 numeric, 3 digits.
    pub currency: String,
    /// Transaction amount, e.g. "23.72"; absent on a static code.
    pub amount: Option<String>,
    pub tip: Option<Tip>,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    pub name: String,
    pub city: String,
    pub postal_code: Option<String>,
    /// Sub-objects of ID 62 (01 bill number … 09 consumer data request, 10–99).
    pub additional: Vec<(u8, String)>,
    pub language: Option<Language>,
    /// Templates 80–99: (id, sub-objects).
    pub unreserved: Vec<(u8, Vec<(u8, String)>)>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    #[error("ID {id:02}: {why}")]
    Field { id: u8, why: &'static str },
    #[error("value of ID {id:02} is {len} characters; 1 to {max} allowed")]
    Length { id: u8, len: usize, max: usize },
    #[error("payload would be {0} characters; EMVCo allows {MAX_PAYLOAD_CHARS}")]
    TooLong(usize),
    #[error("at least one merchant account (IDs 02-51) is required")]
    NoAccount,
    #[error("duplicate ID {0:02}")]
    Duplicate(u8),
}

impl MerchantPayload {
    /// The payload string, CRC included.
    pub fn build(&self) -> Result<String, BuildError> {
        let mut objects: Vec<(u8, String)> = Vec::new();
        objects.push((0, "01".into()));
        objects.push((
            1,
            match self.initiation {
                Initiation::Static => "11",
                Initiation::Dynamic => "12",
            }
            .into(),
        ));
        if self.accounts.is_empty() {
            return Err(BuildError::NoAccount);
        }
        for account in &self.accounts {
            objects.push(match account {
                Account::Network { id, value } => {
                    check_id(*id, 2..=25, "not a reserved network ID (02-25)")?;
                    (*id, checked(*id, value, 99)?.to_owned())
                }
                Account::Template { id, guid, fields } => {
                    check_id(*id, 26..=51, "not a merchant account template ID (26-51)")?;
                    let mut all = vec![(0, guid.clone())];
                    all.extend(fields.iter().cloned());
                    (*id, template(*id, &all, 0..=99)?)
                }
            });
        }
        objects.push((52, digits(52, &self.mcc, 4)?));
        objects.push((53, digits(53, &self.currency, 3)?));
        if let Some(amount) = &self.amount {
            objects.push((54, checked_amount(54, amount)?));
        }
        match &self.tip {
            None => {}
            Some(Tip::Prompt) => objects.push((55, "01".into())),
            Some(Tip::Fixed(fee)) => {
                objects.push((55, "02".into()));
                objects.push((56, checked_amount(56, fee)?));
            }
            Some(Tip::Percentage(pct)) => {
                objects.push((55, "03".into()));
                objects.push((57, checked_amount(57, pct)?));
            }
        }
        if self.country.len() != 2 || !self.country.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(BuildError::Field {
                id: 58,
                why: "country must be ISO 3166 alpha-2 (two capital letters)",
            });
        }
        objects.push((58, self.country.clone()));
        objects.push((59, checked(59, &self.name, 25)?.to_owned()));
        objects.push((60, checked(60, &self.city, 15)?.to_owned()));
        if let Some(postal) = &self.postal_code {
            objects.push((61, checked(61, postal, 10)?.to_owned()));
        }
        if !self.additional.is_empty() {
            objects.push((62, template(62, &self.additional, 1..=99)?));
        }
        if let Some(lang) = &self.language {
            let mut subs = vec![(0, lang.preference.clone()), (1, lang.name.clone())];
            subs.extend(lang.city.iter().map(|c| (2, c.clone())));
            if lang.preference.len() != 2 {
                return Err(BuildError::Field {
                    id: 64,
                    why: "language preference must be ISO 639 two letters",
                });
            }
            checked(64, &lang.name, 25)?;
            objects.push((64, template(64, &subs, 0..=2)?));
        }
        for (id, subs) in &self.unreserved {
            check_id(*id, 80..=99, "not an unreserved template ID (80-99)")?;
            objects.push((*id, template(*id, subs, 0..=99)?));
        }
        objects.sort_by_key(|(id, _)| *id);
        if let Some(w) = objects.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(BuildError::Duplicate(w[0].0));
        }

        let mut out = String::with_capacity(256);
        for (id, value) in &objects {
            push_object(&mut out, *id, value);
        }
        out.push_str("6304");
        let chars = out.chars().count() + 4;
        if chars > MAX_PAYLOAD_CHARS {
            return Err(BuildError::TooLong(chars));
        }
        let crc = crc16(out.as_bytes());
        let _ = write!(out, "{crc:04X}");
        Ok(out)
    }

    /// Back from a decoded code (valid ones; `None` when a builder field is missing). Used to
    /// check that building and decoding agree, and to re-emit a canonical payload.
    pub fn from_code(code: &MerchantCode) -> Option<Self> {
        let initiation = match code.point_of_initiation()? {
            "11" => Initiation::Static,
            "12" => Initiation::Dynamic,
            _ => return None,
        };
        let accounts = code
            .objects
            .iter()
            .filter_map(|o| match o.id {
                2..=25 => Some(Account::Network {
                    id: o.id,
                    value: o.value.clone(),
                }),
                26..=51 => {
                    let t = o.template.as_ref()?;
                    let guid = t.get(0)?.to_owned();
                    let fields = t.objects.iter().filter(|(i, _)| *i != 0).cloned().collect();
                    Some(Account::Template {
                        id: o.id,
                        guid,
                        fields,
                    })
                }
                _ => None,
            })
            .collect();
        let tip = match code.get(55) {
            None => None,
            Some("01") => Some(Tip::Prompt),
            Some("02") => Some(Tip::Fixed(code.get(56)?.to_owned())),
            Some("03") => Some(Tip::Percentage(code.get(57)?.to_owned())),
            Some(_) => return None,
        };
        let language = match code.object(64) {
            None => None,
            Some(o) => {
                let t = o.template.as_ref()?;
                Some(Language {
                    preference: t.get(0)?.to_owned(),
                    name: t.get(1)?.to_owned(),
                    city: t.get(2).map(str::to_owned),
                })
            }
        };
        let owned = |id| code.get(id).map(str::to_owned);
        Some(Self {
            initiation,
            accounts,
            mcc: owned(52)?,
            currency: owned(53)?,
            amount: owned(54),
            tip,
            country: owned(58)?,
            name: owned(59)?,
            city: owned(60)?,
            postal_code: owned(61),
            additional: code
                .object(62)
                .and_then(|o| o.template.clone())
                .map(|t| t.objects)
                .unwrap_or_default(),
            language,
            unreserved: code
                .objects
                .iter()
                .filter(|o| (80..=99).contains(&o.id))
                .filter_map(|o| Some((o.id, o.template.clone()?.objects)))
                .collect(),
        })
    }
}

fn push_object(out: &mut String, id: u8, value: &str) {
    let _ = write!(out, "{id:02}{:02}{value}", value.chars().count());
}

fn check_id(
    id: u8,
    range: std::ops::RangeInclusive<u8>,
    why: &'static str,
) -> Result<(), BuildError> {
    if range.contains(&id) {
        Ok(())
    } else {
        Err(BuildError::Field { id, why })
    }
}

/// 1..=max characters, printable (no control characters, which readers and CRCs mangle).
fn checked(id: u8, value: &str, max: usize) -> Result<&str, BuildError> {
    let len = value.chars().count();
    if len == 0 || len > max {
        return Err(BuildError::Length { id, len, max });
    }
    if value.chars().any(char::is_control) {
        return Err(BuildError::Field {
            id,
            why: "control characters are not allowed",
        });
    }
    Ok(value)
}

fn digits(id: u8, value: &str, n: usize) -> Result<String, BuildError> {
    if value.len() == n && value.bytes().all(|b| b.is_ascii_digit()) {
        Ok(value.to_owned())
    } else {
        Err(BuildError::Field {
            id,
            why: "wrong number of digits",
        })
    }
}

/// EMVCo amounts: digits with at most one '.', at most 13 characters.
fn checked_amount(id: u8, value: &str) -> Result<String, BuildError> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    let ok = !int.is_empty()
        && value.len() <= 13
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit());
    if ok {
        Ok(value.to_owned())
    } else {
        Err(BuildError::Field {
            id,
            why: "amount must be digits with an optional '.', at most 13 characters",
        })
    }
}

fn template(
    id: u8,
    subs: &[(u8, String)],
    allowed: std::ops::RangeInclusive<u8>,
) -> Result<String, BuildError> {
    let mut value = String::new();
    let mut seen = [false; 100];
    for (sub, v) in subs {
        if !allowed.contains(sub) || *sub > 99 {
            return Err(BuildError::Field {
                id,
                why: "sub-ID out of range",
            });
        }
        if seen
            .get_mut(usize::from(*sub))
            .is_none_or(|s| std::mem::replace(s, true))
        {
            return Err(BuildError::Duplicate(*sub));
        }
        push_object(&mut value, *sub, checked(id, v, 99)?);
    }
    checked(id, &value, 99)?;
    Ok(value)
}
