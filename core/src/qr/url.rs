//! China's merchant codes that are URLs rather than EMVCo payloads.
//!
//! Recognised by scheme and host only (compared ignoring ASCII case: Alipay codes are also
//! printed all-uppercase, which QR alphanumeric mode favours). The host must be followed by
//! `/`, so `https://qr.alipay.com.example/` or `https://qr.alipay.com@example/` do not match.

use super::schemes::{self, Network};

/// What a recognised URL code is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlCode {
    pub network: Network,
    /// Which known form it has.
    pub form: UrlForm,
    /// Anything unusual about it (never a reason to reject it).
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UrlForm {
    /// `https://qr.95516.com/<8 digits>/<digits>`: UnionPay's domestic merchant code.
    UnionPayMerchant,
    /// `https://qr.alipay.com/<code>`.
    AlipayMerchant,
    /// `wxp://<code>`: a WeChat Pay static merchant code.
    WeChatMerchant,
    /// `weixin://wxpay/bizpayurl?pr=<code>`: a WeChat Pay Native order.
    WeChatOrder,
}

const PREFIXES: &[(&str, UrlForm, Network)] = &[
    (
        "https://qr.95516.com/",
        UrlForm::UnionPayMerchant,
        schemes::UNIONPAY_URL,
    ),
    (
        "http://qr.95516.com/",
        UrlForm::UnionPayMerchant,
        schemes::UNIONPAY_URL,
    ),
    (
        "https://qr.alipay.com/",
        UrlForm::AlipayMerchant,
        schemes::ALIPAY_URL,
    ),
    (
        "http://qr.alipay.com/",
        UrlForm::AlipayMerchant,
        schemes::ALIPAY_URL,
    ),
    (
        "weixin://wxpay/bizpayurl",
        UrlForm::WeChatOrder,
        schemes::WECHAT_URL,
    ),
    ("wxp://", UrlForm::WeChatMerchant, schemes::WECHAT_URL),
];

/// Does `text` look like a URL at all (so an unknown one is reported as such)?
pub fn looks_like_url(text: &str) -> bool {
    text.split_once("://").is_some_and(|(scheme, _)| {
        !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    })
}

/// Recognise a China URL code; `None` for any other text.
pub fn recognise(text: &str) -> Option<UrlCode> {
    let (prefix, form, network) = PREFIXES.iter().find(|(p, ..)| {
        text.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
    })?;
    let rest = text.get(prefix.len()..).unwrap_or_default();
    let mut warnings = Vec::new();
    if rest.is_empty() {
        warnings.push("URL has no merchant code after the host".to_owned());
    }
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        warnings.push("URL contains whitespace or control characters".to_owned());
    }
    if text.starts_with("http://") || text.starts_with("HTTP://") {
        warnings.push("plain http, not https".to_owned());
    }
    if *form == UrlForm::UnionPayMerchant && !unionpay_path_ok(rest) {
        warnings.push(
            "path is not the usual <8 digits>/<digits> of UnionPay merchant codes".to_owned(),
        );
    }
    if *form == UrlForm::WeChatOrder && !rest.starts_with("?pr=") {
        warnings.push("WeChat order URL without the usual ?pr= parameter".to_owned());
    }
    Some(UrlCode {
        network: *network,
        form: *form,
        warnings,
    })
}

fn unionpay_path_ok(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    match path.split_once('/') {
        Some((a, b)) => {
            a.len() == 8
                && a.bytes().all(|c| c.is_ascii_digit())
                && !b.is_empty()
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_four_forms() {
        let up =
            recognise("https://qr.95516.com/00010000/01116734914125843657396046604004").unwrap();
        assert_eq!(
            (up.form, up.network.id, up.warnings.len()),
            (UrlForm::UnionPayMerchant, "unionpay", 0)
        );
        let ali = recognise("HTTPS://QR.ALIPAY.COM/FKX07587MLQPOBBKACENE1").unwrap();
        assert_eq!(
            (ali.form, ali.network.id),
            (UrlForm::AlipayMerchant, "alipay")
        );
        assert!(ali.warnings.is_empty());
        assert_eq!(
            recognise("wxp://f2f0aBcD").unwrap().form,
            UrlForm::WeChatMerchant
        );
        assert_eq!(
            recognise("weixin://wxpay/bizpayurl?pr=abc").unwrap().form,
            UrlForm::WeChatOrder
        );
    }

    #[test]
    fn rejects_look_alikes() {
        assert_eq!(recognise("https://qr.alipay.com.evil.example/x"), None);
        assert_eq!(recognise("https://qr.alipay.com@evil.example/x"), None);
        assert_eq!(recognise("https://example.com/"), None);
        assert!(looks_like_url("https://example.com/"));
        assert!(!looks_like_url("000201"));
        let odd = recognise("https://qr.95516.com/abc").unwrap();
        assert_eq!(odd.warnings.len(), 1);
    }
}
