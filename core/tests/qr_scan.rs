//! The scan report: which network, whether this wallet pays it, and the JSON the CLI prints.

use serde_json::Value;
use wallet_core::card::Scheme;
use wallet_core::qr::{self, Kind, Verdict};

/// Corpus mpm-068: UnionPay (reserved ID 15), Laos.
const UNIONPAY_MPM: &str = "00020101021115312031041800520446JDBMSZZXE44BFS038680016A00526628466257701083217041802030020325mchVKyozC3MbjS51h67qal4Os5204581253034185802LA5915JDBMSZZXE44BFS06009Vientiane63043F88";
/// Corpus mpm-067: JCB (13) and Mastercard (04).
const JCB_MC_MPM: &str = "0002010102121313JCB12345678900416MASTER12345678905204531153033925407999.1235802JP5906DONGRI6005TOKYO62240104hoge0504fuga0704piyo6304C343";
/// Corpus mpm-082: PIX.
const PIX_MPM: &str = "00020126830014br.gov.bcb.pix01364004901d-bd85-4769-8e52-cb4c42c506dc0221Jornada pagador 57768520400005303986540573.625802BR5903Pix62080504oooo63048E87";

#[test]
fn card_network_codes_are_payable_with_that_scheme() {
    let r = qr::scan_str(UNIONPAY_MPM).expect("scans");
    assert_eq!(
        (r.kind, r.verdict, r.network),
        (Kind::Mpm, Verdict::Valid, Some("unionpay"))
    );
    assert!(r.payable.can_pay);
    assert_eq!(r.payable.scheme, Some(Scheme::UnionPay));

    // Mastercard is the payable one of the two; JCB is still listed.
    let r = qr::scan_str(JCB_MC_MPM).expect("scans");
    assert_eq!(r.network, Some("mastercard"));
    assert_eq!(r.schemes, ["JCB (ID 13-14)", "Mastercard (ID 04-05)"]);
    assert_eq!(r.payable.scheme, Some(Scheme::Mastercard));
    assert_eq!(
        r.fields
            .additional_data
            .get("bill_number")
            .map(String::as_str),
        Some("hoge")
    );
}

#[test]
fn domestic_schemes_and_invalid_codes_are_not_payable() {
    let pix = qr::scan_str(PIX_MPM).expect("scans");
    assert_eq!(
        (pix.valid, pix.network, pix.payable.can_pay),
        (true, Some("pix"), false)
    );
    assert!(
        pix.payable.reason.contains("PIX (BR)"),
        "{}",
        pix.payable.reason
    );

    let bad = qr::scan_str(&UNIONPAY_MPM.replace("3F88", "3F89")).expect("scans");
    assert_eq!(
        (bad.verdict, bad.crc_ok, bad.payable.can_pay),
        (Verdict::InvalidCrc, Some(false), false)
    );
    assert_eq!(
        bad.network,
        Some("unionpay"),
        "the network is still reported"
    );
}

#[test]
fn china_url_codes_are_recognised_but_paid_in_their_own_apps() {
    for (url, network) in [
        (
            "https://qr.95516.com/00010000/01116734914125843657396046604004",
            "unionpay",
        ),
        ("https://qr.alipay.com/fkx17453hsnxqjwgfa5x6e3", "alipay"),
        ("HTTPS://QR.ALIPAY.COM/FKX17453HSNXQJWGFA5X6E3", "alipay"),
        ("wxp://f2f0Ab3CdEfGhIjKlMnOpQrStUvWxYz0123456", "wechat_pay"),
        ("weixin://wxpay/bizpayurl?pr=Ab3CdEf", "wechat_pay"),
    ] {
        let r = qr::scan(url.as_bytes()).expect("scans");
        assert_eq!(
            (r.kind, r.valid, r.network, r.crc_ok),
            (Kind::Url, true, Some(network), None),
            "{url}"
        );
        assert!(
            !r.payable.can_pay && r.payable.reason.contains("own app"),
            "{url}: {}",
            r.payable.reason
        );
        assert!(r.warnings.is_empty(), "{url}: {:?}", r.warnings);
    }
    let other = qr::scan_str("https://example.com/pay").expect("scans");
    assert_eq!(
        (other.kind, other.verdict, other.valid),
        (Kind::Url, Verdict::UnknownUrl, false)
    );
}

#[test]
fn json_has_the_fields_the_cli_promises() {
    let json: Value =
        serde_json::from_str(&qr::scan_str(UNIONPAY_MPM).expect("scans").to_json()).expect("JSON");
    for key in [
        "kind", "valid", "crc_ok", "network", "warnings", "errors", "fields",
    ] {
        assert!(json.get(key).is_some(), "missing {key}: {json}");
    }
    for key in [
        "merchant_name",
        "merchant_city",
        "country",
        "currency",
        "amount",
        "mcc",
    ] {
        assert!(
            json["fields"].get(key).is_some(),
            "missing fields.{key}: {json}"
        );
    }
    assert_eq!(json["kind"], "mpm");
    assert_eq!(json["fields"]["merchant_city"], "Vientiane");
    assert_eq!(json["fields"]["amount"], Value::Null);
    assert_eq!(json["payable"]["scheme"], "unionpay");
}
