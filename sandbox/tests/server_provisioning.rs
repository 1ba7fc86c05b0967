//! Provisioning against the real server (HTTPS on an ephemeral loopback port, SQLite file):
//! every catalogue outcome, OTP attempts and idempotency, and the card-data refusals.

mod common;

use common::{Device, code, key, start};
use serde_json::json;
use wallet_core::card::Scheme;
use wallet_core::token::api::{
    self, AcceptTerms, Decision, IdvSelected, ProvisioningStatus, Secret, SelectIdv, ServerState,
    SubmitOtp, TokenizeResult, codes,
};
use wallet_sandbox::catalogue::{self, Behaviour};

fn token_rows(sb: &common::Sandbox) -> i64 {
    let conn =
        rusqlite::Connection::open(sb.dir.path().join(wallet_sandbox::server::DB_FILE)).unwrap();
    conn.query_row("SELECT count(*) FROM tokens", [], |r| r.get(0))
        .unwrap()
}

fn accept(dev: &Device, id: &str, terms: &str) -> ProvisioningStatus {
    dev.post(
        &api::provisioning_step(id, "terms"),
        &AcceptTerms {
            terms_id: terms.into(),
        },
    )
    .unwrap()
}

#[test]
fn approve_card_of_every_scheme_including_19_digits() {
    let sb = start();
    let dev = Device::new(&sb);
    for card in catalogue::CARDS
        .iter()
        .filter(|c| c.behaviour == Behaviour::Approve && c.expiry != "01/20")
    {
        let el = dev.eligibility(&sb, card).unwrap();
        assert_eq!(el.scheme, card.scheme);
        assert_eq!(el.pan_suffix, &card.pan[card.pan.len() - 4..]);
        accept(&dev, &el.provisioning_id, &el.terms.id);
        let t: TokenizeResult = dev
            .post(
                &api::provisioning_step(&el.provisioning_id, "tokenize"),
                &json!({}),
            )
            .unwrap();
        assert_eq!(t.decision, Decision::Approved, "{}", card.pan);
        let token_ref = t.token_ref.unwrap();
        let st: ProvisioningStatus = dev.get(&api::provisioning(&el.provisioning_id)).unwrap();
        assert_eq!(st.state, ServerState::Approved);
        assert_eq!(st.token_ref.as_deref(), Some(token_ref.as_str()));
    }
    assert_eq!(token_rows(&sb), 5);
    // The vault maps each token PAN (same length as the PAN, in the token BIN range) to its PAN.
    let conn =
        rusqlite::Connection::open(sb.dir.path().join(wallet_sandbox::server::DB_FILE)).unwrap();
    let mut stmt = conn.prepare("SELECT token_pan, pan FROM vault").unwrap();
    for row in stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
    {
        let (token_pan, pan) = row.unwrap();
        assert_eq!(token_pan.len(), pan.len());
        assert_ne!(token_pan, pan);
        assert!(wallet_core::token::pan::luhn_valid(&token_pan));
    }
}

#[test]
fn tokenize_repeated_under_new_keys_makes_one_token() {
    let sb = start();
    let dev = Device::new(&sb);
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let el = dev.eligibility(&sb, card).unwrap();
    let path = api::provisioning_step(&el.provisioning_id, "tokenize");
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(&path, &json!({}))),
        codes::WRONG_STATE
    );
    accept(&dev, &el.provisioning_id, &el.terms.id);
    accept(&dev, &el.provisioning_id, &el.terms.id); // accepting twice is fine
    let first: TokenizeResult = dev.post(&path, &json!({})).unwrap();
    let again: TokenizeResult = dev.post(&path, &json!({})).unwrap();
    let k = key();
    let third: TokenizeResult = dev.post_key(&path, &json!({}), &k).unwrap();
    let replay: TokenizeResult = dev.post_key(&path, &json!({}), &k).unwrap();
    assert_eq!(first, again);
    assert_eq!(first, third);
    assert_eq!(third, replay);
    assert_eq!(token_rows(&sb), 1);
}

#[test]
fn otp_flow_attempts_and_idempotent_submit() {
    let sb = start();
    let dev = Device::new(&sb);
    let card = catalogue::pick(Scheme::UnionPay, Behaviour::Otp).unwrap();
    let el = dev.eligibility(&sb, card).unwrap();
    let id = el.provisioning_id.clone();
    accept(&dev, &id, &el.terms.id);
    let t: TokenizeResult = dev
        .post(&api::provisioning_step(&id, "tokenize"), &json!({}))
        .unwrap();
    assert_eq!(t.decision, Decision::RequireIdv);
    assert!(t.token_ref.is_none());
    assert_eq!(t.idv_methods.len(), 2);
    assert!(
        t.idv_methods.iter().all(|m| m.target.contains('*')),
        "targets are masked"
    );

    let otp_path = api::provisioning_step(&id, "otp");
    // OTP before a method is chosen.
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(
            &otp_path,
            &SubmitOtp {
                otp: Secret("000000".into())
            }
        )),
        codes::WRONG_STATE
    );
    assert_eq!(
        code(dev.post::<_, IdvSelected>(
            &api::provisioning_step(&id, "idv"),
            &SelectIdv {
                method_id: "pigeon".into()
            }
        )),
        codes::UNKNOWN_IDV_METHOD
    );
    let sel: IdvSelected = dev
        .post(
            &api::provisioning_step(&id, "idv"),
            &SelectIdv {
                method_id: t.idv_methods[0].id.clone(),
            },
        )
        .unwrap();
    assert!(sel.otp_expires_in_secs > 0);
    let otp = sb.otp(&id);
    let wrong = if otp == "000000" { "111111" } else { "000000" };

    // A wrong code costs one attempt; the same submission retried (same key) costs nothing more.
    let k = key();
    let e1 = dev
        .post_key::<_, TokenizeResult>(
            &otp_path,
            &SubmitOtp {
                otp: Secret(wrong.into()),
            },
            &k,
        )
        .unwrap_err();
    let e2 = dev
        .post_key::<_, TokenizeResult>(
            &otp_path,
            &SubmitOtp {
                otp: Secret(wrong.into()),
            },
            &k,
        )
        .unwrap_err();
    assert_eq!(e1, e2);
    match e1 {
        wallet_core::token::client::ClientError::Rejected {
            code,
            attempts_left,
            ..
        } => {
            assert_eq!(code, codes::OTP_INCORRECT);
            assert_eq!(attempts_left, Some(2));
        }
        other => panic!("{other:?}"),
    }
    // Malformed codes are refused without costing an attempt.
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(
            &otp_path,
            &SubmitOtp {
                otp: Secret("12ab".into())
            }
        )),
        codes::BAD_REQUEST
    );
    let st: ProvisioningStatus = dev.get(&api::provisioning(&id)).unwrap();
    assert_eq!(st.otp_attempts_left, Some(2));

    let ok1: TokenizeResult = dev
        .post(
            &otp_path,
            &SubmitOtp {
                otp: Secret(otp.clone()),
            },
        )
        .unwrap();
    let ok2: TokenizeResult = dev
        .post(
            &otp_path,
            &SubmitOtp {
                otp: Secret(otp.clone()),
            },
        )
        .unwrap();
    assert_eq!(ok1.decision, Decision::Approved);
    assert_eq!(ok1, ok2, "a duplicate submit answers the same token");
    assert_eq!(token_rows(&sb), 1);
}

#[test]
fn otp_attempts_exhausted_declines() {
    let sb = start();
    let dev = Device::new(&sb);
    let card = catalogue::pick(Scheme::Mastercard, Behaviour::Otp).unwrap();
    let el = dev.eligibility(&sb, card).unwrap();
    let id = el.provisioning_id;
    accept(&dev, &id, &el.terms.id);
    let _: TokenizeResult = dev
        .post(&api::provisioning_step(&id, "tokenize"), &json!({}))
        .unwrap();
    let _: IdvSelected = dev
        .post(
            &api::provisioning_step(&id, "idv"),
            &SelectIdv {
                method_id: "sms-1".into(),
            },
        )
        .unwrap();
    let otp = sb.otp(&id);
    let wrong = if otp == "999999" { "888888" } else { "999999" };
    let path = api::provisioning_step(&id, "otp");
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(
            &path,
            &SubmitOtp {
                otp: Secret(wrong.into())
            }
        )),
        codes::OTP_INCORRECT
    );
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(
            &path,
            &SubmitOtp {
                otp: Secret(wrong.into())
            }
        )),
        codes::OTP_INCORRECT
    );
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(
            &path,
            &SubmitOtp {
                otp: Secret(wrong.into())
            }
        )),
        codes::OTP_ATTEMPTS_EXCEEDED
    );
    // Even the right code is too late now.
    assert_eq!(
        code(dev.post::<_, TokenizeResult>(&path, &SubmitOtp { otp: Secret(otp) })),
        codes::OTP_ATTEMPTS_EXCEEDED
    );
    let st: ProvisioningStatus = dev.get(&api::provisioning(&id)).unwrap();
    assert_eq!(st.state, ServerState::Declined);
    assert_eq!(token_rows(&sb), 0);
}

#[test]
fn decline_ineligible_expired_and_bad_card_data() {
    let sb = start();
    let dev = Device::new(&sb);
    let decline = catalogue::pick(Scheme::UnionPay, Behaviour::Decline).unwrap();
    let el = dev.eligibility(&sb, decline).unwrap();
    accept(&dev, &el.provisioning_id, &el.terms.id);
    let t: TokenizeResult = dev
        .post(
            &api::provisioning_step(&el.provisioning_id, "tokenize"),
            &json!({}),
        )
        .unwrap();
    assert_eq!(t.decision, Decision::Declined);

    let inel = catalogue::pick(Scheme::Visa, Behaviour::Ineligible).unwrap();
    assert_eq!(code(dev.eligibility(&sb, inel)), codes::CARD_INELIGIBLE);
    assert_eq!(
        code(dev.eligibility(&sb, catalogue::EXPIRED)),
        codes::CARD_EXPIRED
    );
    // Luhn failure, letters, too short: refused as an invalid PAN.
    assert_eq!(
        code(dev.eligibility_raw(&sb, "4000123400000009", "12/35")),
        codes::INVALID_PAN
    );
    assert_eq!(
        code(dev.eligibility_raw(&sb, "4000x23400000008", "12/35")),
        codes::INVALID_PAN
    );
    assert_eq!(
        code(dev.eligibility_raw(&sb, "40001234", "12/35")),
        codes::INVALID_PAN
    );
    // Luhn-valid but not a test card; right card, wrong expiry.
    assert_eq!(
        code(dev.eligibility_raw(&sb, "4111111111111111", "12/35")),
        codes::CARD_INELIGIBLE
    );
    assert_eq!(
        code(dev.eligibility_raw(&sb, "4000123400000008", "11/35")),
        codes::CARD_INELIGIBLE
    );
    for bad in ["1235", "13/35", "12/2035", ""] {
        assert_eq!(
            code(dev.eligibility_raw(&sb, "4000123400000008", bad)),
            codes::INVALID_EXPIRY,
            "{bad}"
        );
    }
    // Terms that were not offered.
    let ok = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let el = dev.eligibility(&sb, ok).unwrap();
    assert_eq!(
        code(dev.post::<_, ProvisioningStatus>(
            &api::provisioning_step(&el.provisioning_id, "terms"),
            &AcceptTerms {
                terms_id: "terms-other".into()
            }
        )),
        codes::TERMS_MISMATCH
    );
    assert_eq!(token_rows(&sb), 0);
}

#[test]
fn one_device_cannot_see_anothers_provisioning() {
    let sb = start();
    let alice = Device::new(&sb);
    let mallory = Device::new(&sb);
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let el = alice.eligibility(&sb, card).unwrap();
    assert_eq!(
        code(mallory.get::<ProvisioningStatus>(&api::provisioning(&el.provisioning_id))),
        codes::NOT_FOUND
    );
    assert_eq!(
        code(mallory.post::<_, ProvisioningStatus>(
            &api::provisioning_step(&el.provisioning_id, "terms"),
            &AcceptTerms {
                terms_id: el.terms.id.clone()
            }
        )),
        codes::NOT_FOUND
    );
}
