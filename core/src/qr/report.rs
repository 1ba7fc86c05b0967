//! One report for anything scanned, serialisable as the CLI's `qr parse --json`.

use super::cpm::{self, CpmCode};
use super::mpm::{self, MerchantCode};
use super::schemes::Network;
use super::url::{self, UrlForm};
use super::{InputError, MAX_INPUT_BYTES, Verdict};
use crate::card::{Scheme, mask_pan};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Mpm,
    Cpm,
    Url,
}

/// Whether this wallet can pay the code, and why (not).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Payability {
    pub can_pay: bool,
    /// The card scheme that would pay it.
    pub scheme: Option<Scheme>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub guid: Option<String>,
    pub scheme: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LanguageFields {
    pub preference: Option<String>,
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppFields {
    pub aid: String,
    pub label: Option<String>,
    pub network: Option<&'static str>,
    /// Masked: first 4 and last 4 digits.
    pub pan: Option<String>,
    pub psn: Option<u8>,
    pub atc: Option<u16>,
    pub has_cryptogram: bool,
}

/// What the code says. The first six are what a payment needs; the rest is detail.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Fields {
    pub merchant_name: Option<String>,
    pub merchant_city: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
    /// ISO 4217 numeric.
    pub currency: Option<String>,
    pub amount: Option<String>,
    pub mcc: Option<String>,
    pub payload_format_indicator: Option<String>,
    pub point_of_initiation: Option<String>,
    pub tip_indicator: Option<String>,
    pub convenience_fee_fixed: Option<String>,
    pub convenience_fee_percentage: Option<String>,
    pub postal_code: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub merchant_accounts: Vec<Account>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reserved_network_ids: Vec<String>,
    /// ID 62 by name (`bill_number`, `store_label`, …; others as `id_NN`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub additional_data: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub language: Option<LanguageFields>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crc_stated: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crc_calc: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_chars: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub length_bytes: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_form: Option<UrlForm>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub applications: Vec<AppFields>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ScanReport {
    pub kind: Kind,
    pub verdict: Verdict,
    pub valid: bool,
    /// MPM only.
    pub crc_ok: Option<bool>,
    /// The main network (`unionpay`, `visa`, `pix`, `wechat_pay`, …).
    pub network: Option<&'static str>,
    /// Every scheme recognised, by label, sorted.
    pub schemes: Vec<&'static str>,
    pub payable: Payability,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub fields: Fields,
}

impl ScanReport {
    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

/// Scan raw bytes from a camera or a file.
pub fn scan(input: &[u8]) -> Result<ScanReport, InputError> {
    if input.is_empty() {
        return Err(InputError::Empty);
    }
    if input.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            len: input.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    let text = std::str::from_utf8(input).map_err(|e| InputError::NotUtf8 {
        valid_up_to: e.valid_up_to(),
    })?;
    scan_str(text)
}

/// Scan text: an EMVCo MPM payload, a CPM payload, or a URL.
pub fn scan_str(text: &str) -> Result<ScanReport, InputError> {
    if text.is_empty() {
        return Err(InputError::Empty);
    }
    if text.len() > MAX_INPUT_BYTES {
        return Err(InputError::TooLarge {
            len: text.len(),
            max: MAX_INPUT_BYTES,
        });
    }
    if let Some(code) = url::recognise(text) {
        return Ok(url_report(text, Some(code)));
    }
    if text.starts_with("00") {
        return mpm::decode(text).map(|c| mpm_report(&c));
    }
    if cpm::looks_like_cpm(text) {
        return cpm::decode(text).map(|c| cpm_report(&c));
    }
    if url::looks_like_url(text) {
        return Ok(url_report(text, None));
    }
    Err(InputError::Unrecognised)
}

fn mpm_report(code: &MerchantCode) -> ScanReport {
    let owned = |id| code.get(id).map(str::to_owned);
    let network = code.network();
    let mut schemes: Vec<&'static str> = code.networks().iter().map(|n| n.label).collect();
    schemes.sort_unstable();
    schemes.dedup();
    let accounts = code.accounts();
    let fields = Fields {
        merchant_name: owned(59),
        merchant_city: owned(60),
        country: owned(58),
        currency: owned(53),
        amount: owned(54),
        mcc: owned(52),
        payload_format_indicator: owned(0),
        point_of_initiation: owned(1),
        tip_indicator: owned(55),
        convenience_fee_fixed: owned(56),
        convenience_fee_percentage: owned(57),
        postal_code: owned(61),
        merchant_accounts: accounts
            .iter()
            .filter(|a| a.id >= 26)
            .map(|a| Account {
                id: format!("{:02}", a.id),
                guid: a.guid.map(str::to_owned),
                scheme: a.network.map(|n| n.label),
            })
            .collect(),
        reserved_network_ids: accounts
            .iter()
            .filter(|a| a.id < 26)
            .map(|a| format!("{:02}", a.id))
            .collect(),
        additional_data: code
            .object(62)
            .and_then(|o| o.template.as_ref())
            .map(|t| {
                t.objects
                    .iter()
                    .map(|(id, v)| (additional_name(*id), v.clone()))
                    .collect()
            })
            .unwrap_or_default(),
        language: code.object(64).map(|_| LanguageFields {
            preference: code.sub(64, 0).map(str::to_owned),
            merchant_name: code.sub(64, 1).map(str::to_owned),
            merchant_city: code.sub(64, 2).map(str::to_owned),
        }),
        crc_stated: code.crc.stated.clone(),
        crc_calc: code.crc.computed.map(|c| format!("{c:04X}")),
        length_chars: Some(code.length_chars),
        length_bytes: Some(code.length_bytes),
        ..Fields::default()
    };
    ScanReport {
        kind: Kind::Mpm,
        verdict: code.verdict,
        valid: code.is_valid(),
        crc_ok: Some(code.crc.ok),
        network: network.map(|n| n.id),
        schemes,
        payable: mpm_payability(code.verdict, network),
        warnings: code.warnings.iter().map(ToString::to_string).collect(),
        errors: code.errors.iter().map(ToString::to_string).collect(),
        fields,
    }
}

fn mpm_payability(verdict: Verdict, network: Option<Network>) -> Payability {
    let no = |reason: String| Payability {
        can_pay: false,
        scheme: None,
        reason,
    };
    if !verdict.is_valid() {
        return no(format!(
            "the code is not valid ({verdict}); paying it could pay the wrong merchant"
        ));
    }
    match network {
        Some(Network {
            card: Some(scheme),
            label,
            ..
        }) => Payability {
            can_pay: true,
            scheme: Some(scheme),
            reason: format!(
                "EMVCo code for {label}: paid with a {} card via /v1/qr/pay",
                scheme.name()
            ),
        },
        Some(n) => no(format!(
            "{} is not a card network this wallet holds (it pays UnionPay, Visa and Mastercard EMVCo codes); use that scheme's own app",
            n.label
        )),
        None => no(
            "no network this wallet recognises (it pays UnionPay, Visa and Mastercard EMVCo codes)"
                .into(),
        ),
    }
}

fn additional_name(id: u8) -> String {
    match id {
        1 => "bill_number".into(),
        2 => "mobile_number".into(),
        3 => "store_label".into(),
        4 => "loyalty_number".into(),
        5 => "reference_label".into(),
        6 => "customer_label".into(),
        7 => "terminal_label".into(),
        8 => "purpose".into(),
        9 => "consumer_data_request".into(),
        other => format!("id_{other:02}"),
    }
}

fn url_report(text: &str, code: Option<url::UrlCode>) -> ScanReport {
    let fields = Fields {
        url: Some(text.to_owned()),
        url_form: code.as_ref().map(|c| c.form),
        ..Fields::default()
    };
    match code {
        Some(c) => ScanReport {
            kind: Kind::Url,
            verdict: Verdict::Valid,
            valid: true,
            crc_ok: None,
            network: Some(c.network.id),
            schemes: vec![c.network.label],
            payable: Payability {
                can_pay: false,
                scheme: None,
                reason: format!(
                    "{} URL codes are resolved by that network's own app; this wallet pays EMVCo merchant codes",
                    c.network.label
                ),
            },
            warnings: c.warnings,
            errors: vec![],
            fields,
        },
        None => ScanReport {
            kind: Kind::Url,
            verdict: Verdict::UnknownUrl,
            valid: false,
            crc_ok: None,
            network: None,
            schemes: vec![],
            payable: Payability {
                can_pay: false,
                scheme: None,
                reason: "not a payment code".into(),
            },
            warnings: vec![],
            errors: vec!["not a payment URL this wallet recognises".into()],
            fields,
        },
    }
}

fn cpm_report(code: &CpmCode) -> ScanReport {
    let network = code.applications.iter().find_map(|a| a.network());
    let mut schemes: Vec<&'static str> = code
        .applications
        .iter()
        .filter_map(|a| a.network())
        .map(|n| n.label)
        .collect();
    schemes.sort_unstable();
    schemes.dedup();
    let applications = code
        .applications
        .iter()
        .map(|a| {
            let txn = a.transaction.as_ref().or(code.common.as_ref());
            AppFields {
                aid: hex::encode_upper(&a.aid),
                label: a.label.clone(),
                network: a.network().map(|n| n.id),
                pan: a.pan().map(|p| mask_pan(&p)),
                psn: a.psn,
                atc: txn.and_then(|t| t.atc),
                has_cryptogram: txn.is_some_and(|t| t.cryptogram.is_some()),
            }
        })
        .collect();
    ScanReport {
        kind: Kind::Cpm,
        verdict: code.verdict,
        valid: code.verdict.is_valid(),
        crc_ok: None,
        network: network.map(|n| n.id),
        schemes,
        payable: Payability {
            can_pay: false,
            scheme: None,
            reason: "a consumer-presented code is scanned by the merchant's terminal, not paid by a wallet".into(),
        },
        warnings: vec![],
        errors: code.errors.iter().map(ToString::to_string).collect(),
        fields: Fields { applications, ..Fields::default() },
    }
}
