//! Build → decode gives back the same merchant, with a valid CRC, for arbitrary merchants
//! (non-ASCII names included: lengths count characters).

use proptest::collection::btree_map;
use proptest::prelude::*;
use proptest::sample::subsequence;
use wallet_core::qr::mpm::{self, Account, Initiation, Language, MerchantPayload, Tip};
use wallet_core::qr::{self, Verdict};

/// Printable text including CJK, accents and the odd symbol; never a control character.
fn text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[a-zA-Z0-9 .,*/+\\-最佳运输北京éñüà€]{{1,{max}}}"))
        .expect("regex")
}

fn subs(
    ids: std::ops::RangeInclusive<u8>,
    max_items: usize,
    max_len: usize,
) -> impl Strategy<Value = Vec<(u8, String)>> {
    btree_map(ids, text(max_len), 0..=max_items).prop_map(|m| m.into_iter().collect())
}

fn accounts() -> impl Strategy<Value = Vec<Account>> {
    let ids: Vec<u8> = (2..=51).collect();
    subsequence(ids, 1..=3).prop_flat_map(|ids| {
        ids.into_iter()
            .map(|id| {
                if id <= 25 {
                    text(30)
                        .prop_map(move |value| Account::Network { id, value })
                        .boxed()
                } else {
                    ("[A-Za-z0-9.]{1,20}", subs(1..=5, 3, 15))
                        .prop_map(move |(guid, fields)| Account::Template { id, guid, fields })
                        .boxed()
                }
            })
            .collect::<Vec<_>>()
    })
}

fn merchant() -> impl Strategy<Value = MerchantPayload> {
    let amount = "[0-9]{1,7}(\\.[0-9]{1,2})?";
    (
        (
            prop_oneof![Just(Initiation::Static), Just(Initiation::Dynamic)],
            accounts(),
            "[0-9]{4}",
            "[0-9]{3}",
        ),
        (
            proptest::option::of(amount),
            proptest::option::of(prop_oneof![
                Just(Tip::Prompt),
                amount.prop_map(Tip::Fixed),
                "[0-9]{1,2}(\\.[0-9])?".prop_map(Tip::Percentage),
            ]),
        ),
        (
            "[A-Z]{2}",
            text(25),
            text(15),
            proptest::option::of("[0-9A-Z]{1,10}"),
        ),
        (
            subs(1..=9, 3, 20),
            proptest::option::of(("[a-z]{2}", text(25), proptest::option::of(text(15)))),
            btree_map(80u8..=99, subs(0..=3, 2, 10), 0..=1),
        ),
    )
        .prop_map(
            |(
                (initiation, accounts, mcc, currency),
                (amount, tip),
                (country, name, city, postal_code),
                (additional, language, unreserved),
            )| {
                MerchantPayload {
                    initiation,
                    accounts,
                    mcc,
                    currency,
                    amount,
                    tip,
                    country,
                    name,
                    city,
                    postal_code,
                    additional,
                    language: language.map(|(preference, name, city)| Language {
                        preference,
                        name,
                        city,
                    }),
                    // Empty templates cannot be encoded (length 00 is not allowed).
                    unreserved: unreserved
                        .into_iter()
                        .filter(|(_, s)| !s.is_empty())
                        .collect(),
                }
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn build_then_decode_is_identity(m in merchant()) {
        let payload = match m.build() {
            Ok(p) => p,
            // Random merchants can exceed 512 characters or a template's 99; those must be
            // refused by the builder, never emitted.
            Err(mpm::BuildError::TooLong(_) | mpm::BuildError::Length { .. }) => return Ok(()),
            Err(e) => return Err(TestCaseError::fail(format!("build failed: {e}"))),
        };
        let code = mpm::decode(&payload).expect("decodes");
        prop_assert_eq!(code.verdict, Verdict::Valid, "errors {:?}", code.errors);
        prop_assert!(code.crc.ok);
        prop_assert!(code.warnings.is_empty(), "{:?}", code.warnings);
        prop_assert_eq!(MerchantPayload::from_code(&code), Some(m.clone()));

        let report = qr::scan_str(&payload).expect("scans");
        prop_assert_eq!(report.fields.merchant_name.as_deref(), Some(m.name.as_str()));
        prop_assert_eq!(report.fields.merchant_city.as_deref(), Some(m.city.as_str()));
        prop_assert_eq!(report.fields.amount, m.amount);
        prop_assert_eq!(report.crc_ok, Some(true));
    }
}

#[test]
fn builder_refuses_what_a_reader_would_reject() {
    let good = MerchantPayload {
        initiation: Initiation::Dynamic,
        accounts: vec![Account::Network {
            id: 15,
            value: "6200000000000001".into(),
        }],
        mcc: "5812".into(),
        currency: "156".into(),
        amount: Some("23.72".into()),
        tip: None,
        country: "CN".into(),
        name: "BEST TRANSPORT".into(),
        city: "BEIJING".into(),
        postal_code: None,
        additional: vec![],
        language: Some(Language {
            preference: "ZH".into(),
            name: "最佳运输".into(),
            city: Some("北京".into()),
        }),
        unreserved: vec![],
    };
    let payload = good.build().expect("builds");
    assert!(
        payload.contains("64200002ZH0104最佳运输0202北京"),
        "{payload}"
    );
    let report = qr::scan_str(&payload).expect("scans");
    assert!(report.valid && report.payable.can_pay, "{report:?}");
    assert_eq!(report.network, Some("unionpay"));

    let bad = |f: &dyn Fn(&mut MerchantPayload)| {
        let mut m = good.clone();
        f(&mut m);
        m.build().expect_err("must be refused")
    };
    bad(&|m| m.name = "x".repeat(26));
    bad(&|m| m.name = "tab\there".into());
    bad(&|m| m.mcc = "58".into());
    bad(&|m| m.country = "cn".into());
    bad(&|m| m.amount = Some("1,00".into()));
    bad(&|m| m.accounts.clear());
    bad(&|m| {
        m.accounts.push(Account::Network {
            id: 15,
            value: "x".into(),
        })
    });
    bad(&|m| {
        m.accounts = vec![Account::Network {
            id: 26,
            value: "x".into(),
        }]
    });
}
