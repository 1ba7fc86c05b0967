//! Which network a code belongs to, and whether this wallet can pay it.
//!
//! The payment rule: this wallet holds UnionPay, Visa and Mastercard cards, so it pays EMVCo
//! merchant-presented codes that name one of those networks — a reserved network ID (Visa
//! 02–03, Mastercard 04–05, UnionPay 15–16) or a template whose GUID is UnionPay's RID — by
//! sending the code and a cryptogram to the server's `/v1/qr/pay`. Everything else is
//! recognised and reported but not payable here: domestic instant-payment schemes (PIX,
//! PromptPay, QRIS, …) settle between bank accounts, not cards; Discover, Amex and JCB codes
//! need a card of that network; and China's URL codes (UnionPay `qr.95516.com`, Alipay,
//! WeChat Pay) are resolved by their own apps' back ends, which a third-party wallet cannot call.

use crate::card::Scheme;
use serde::Serialize;

/// A network or scheme recognised in a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Network {
    /// Stable identifier (`unionpay`, `visa`, `pix`, `wechat_pay`, …).
    pub id: &'static str,
    /// Human label; for MPM these are the names the QR corpus uses.
    pub label: &'static str,
    /// The card scheme this wallet pays it with, if any.
    pub card: Option<Scheme>,
}

const fn net(id: &'static str, label: &'static str, card: Option<Scheme>) -> Network {
    Network { id, label, card }
}

pub const VISA: Network = net("visa", "Visa (ID 02-03)", Some(Scheme::Visa));
pub const MASTERCARD: Network = net(
    "mastercard",
    "Mastercard (ID 04-05)",
    Some(Scheme::Mastercard),
);
pub const DISCOVER: Network = net("discover", "Discover (ID 09-10)", None);
pub const AMEX: Network = net("amex", "Amex (ID 11-12)", None);
pub const JCB: Network = net("jcb", "JCB (ID 13-14)", None);
pub const UNIONPAY: Network = net("unionpay", "UnionPay (ID 15-16)", Some(Scheme::UnionPay));
pub const UNIONPAY_GUID: Network = net("unionpay", "UnionPay (A000000333)", Some(Scheme::UnionPay));
pub const UNIONPAY_URL: Network = net("unionpay", "UnionPay QR URL (CN)", None);
pub const ALIPAY_URL: Network = net("alipay", "Alipay (CN)", None);
pub const WECHAT_URL: Network = net("wechat_pay", "WeChat Pay (CN)", None);

/// The network an MPM reserved ID (02–25) belongs to; `None` for the EMVCo-reserved
/// 06–08 and 17–25.
pub fn reserved_id(id: u8) -> Option<Network> {
    match id {
        2 | 3 => Some(VISA),
        4 | 5 => Some(MASTERCARD),
        9 | 10 => Some(DISCOVER),
        11 | 12 => Some(AMEX),
        13 | 14 => Some(JCB),
        15 | 16 => Some(UNIONPAY),
        _ => None,
    }
}

/// How a GUID is matched (always ignoring ASCII case: `BR.GOV.BCB.PIX` and `br.gov.bcb.pix`
/// both occur).
enum Match {
    Exact(&'static str),
    Prefix(&'static str),
}

/// Merchant-account template GUIDs (sub-ID 00 of IDs 26–51), first match wins. Sources: the
/// QR fact sheet (notes/qr.md) and the corpus. Labels are the corpus's. DuitNow's
/// `A0000006150001` is deliberately absent: the corpus names no scheme for it.
const GUIDS: &[(Match, Network)] = &[
    (Match::Exact("ph.ppmi.p2m"), net("qrph", "QR Ph (PH)", None)),
    // Look-alikes of the QR Ph GUID seen in test data: reported, flagged as uncertain.
    (Match::Prefix("ph."), net("qrph", "QR Ph? (PH)", None)),
    (
        Match::Exact("SG.PAYNOW"),
        net("paynow", "PayNow/SGQR (SG)", None),
    ),
    (Match::Exact("SG.SGQR"), net("sgqr", "SGQR (SG)", None)),
    (
        Match::Exact("SG.COM.NETS"),
        net("nets", "NETS/SGQR (SG)", None),
    ),
    (Match::Exact("com.grab"), net("grabpay", "GrabPay", None)),
    (
        Match::Exact("ID.CO.QRIS.WWW"),
        net("qris", "QRIS (ID)", None),
    ),
    // QRIS members register reverse domains under ID.CO.
    (
        Match::Prefix("ID.CO."),
        net("qris", "QRIS member (ID)", None),
    ),
    (
        Match::Exact("D15600000000"),
        net("emvco_example", "EMVCo Annex example (CN)", None),
    ),
    (
        Match::Exact("D15600000001"),
        net("emvco_example", "EMVCo Annex example (CN)", None),
    ),
    (
        Match::Exact("A000000727"),
        net("vietqr", "VietQR/NAPAS (VN)", None),
    ),
    (
        Match::Exact("A000000677010111"),
        net("promptpay", "PromptPay (TH)", None),
    ),
    (Match::Exact("br.gov.bcb.pix"), net("pix", "PIX (BR)", None)),
    (
        Match::Exact("br.gov.bcb.spi"),
        net("pix", "PIX/SPI (BR)", None),
    ),
    (Match::Exact("hk.com.hkicl"), net("fps", "FPS (HK)", None)),
    // UnionPay's registered application provider id.
    (Match::Prefix("A000000333"), UNIONPAY_GUID),
];

/// The scheme a merchant-account GUID names, if known.
pub fn guid(guid: &str) -> Option<Network> {
    GUIDS.iter().find_map(|(m, n)| {
        let hit = match m {
            Match::Exact(g) => guid.eq_ignore_ascii_case(g),
            Match::Prefix(p) => guid
                .get(..p.len())
                .is_some_and(|h| h.eq_ignore_ascii_case(p)),
        };
        hit.then_some(*n)
    })
}

/// The network of a CPM application identifier (by its RID).
pub fn aid(aid: &[u8]) -> Option<Network> {
    match aid.get(..5)? {
        [0xA0, 0x00, 0x00, 0x03, 0x33] => Some(net("unionpay", "UnionPay", Some(Scheme::UnionPay))),
        [0xA0, 0x00, 0x00, 0x00, 0x03] => Some(net("visa", "Visa", Some(Scheme::Visa))),
        [0xA0, 0x00, 0x00, 0x00, 0x04] => {
            Some(net("mastercard", "Mastercard", Some(Scheme::Mastercard)))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_matching_ignores_case_and_orders_exact_first() {
        assert_eq!(guid("BR.GOV.BCB.PIX").map(|n| n.label), Some("PIX (BR)"));
        assert_eq!(guid("id.co.qris.www").map(|n| n.label), Some("QRIS (ID)"));
        assert_eq!(
            guid("ID.CO.BCA.WWW").map(|n| n.label),
            Some("QRIS member (ID)")
        );
        assert_eq!(
            guid("A000000333010102").and_then(|n| n.card),
            Some(Scheme::UnionPay)
        );
        assert_eq!(guid("A0000006150001"), None);
        assert_eq!(guid("é"), None);
    }
}
