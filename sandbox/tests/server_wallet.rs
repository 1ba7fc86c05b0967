//! The whole life of a tokenized card, wallet and server both real: provision (direct and
//! with OTP), pay at a terminal with the HCE engine and the server as issuer host, replenish
//! from the spent-ATC log, suspend / resume / delete from the wallet and from the issuer, and
//! sync of events and payment statuses.

mod common;

use common::{card_input, start};
use std::collections::BTreeSet;
use wallet_core::card::Scheme;
use wallet_core::history::{Filter, Status};
use wallet_core::store::CardStatus;
use wallet_core::token::api::codes;
use wallet_core::token::client::ClientOptions;
use wallet_core::token::{CardInput, CardState, ProvisioningState, TokenError};
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::server::authorize_remote;
use wallet_sandbox::terminal::Outcome;

fn pay(sb: &common::Sandbox, w: &mut common::Wallet, card_id: &str, amount: u64) -> (u16, bool) {
    let out = w.tap(card_id, amount);
    assert_eq!(out.outcome, Outcome::OnlineRequest, "{:?}", out.outcome);
    let auth = out.auth.expect("auth request");
    let resp = authorize_remote(&sb.client(), &auth).expect("authorize");
    // The same cryptogram again is a replay, whatever happened the first time.
    let again = authorize_remote(&sb.client(), &auth).expect("authorize");
    assert!(!again.approved);
    assert_eq!(again.response_code, "94");
    (auth.input.atc, resp.approved)
}

#[test]
fn provision_pay_replenish_suspend_resume_delete_for_every_scheme() {
    let sb = start();
    for scheme in [Scheme::UnionPay, Scheme::Visa, Scheme::Mastercard] {
        let mut w = sb.wallet();
        let card = catalogue::pick(scheme, Behaviour::Approve).unwrap();
        let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
        assert_eq!(p.state, ProvisioningState::Eligible);
        assert_eq!(
            p.pan_suffix.as_deref(),
            Some(&card.pan[card.pan.len() - 4..])
        );
        assert!(p.terms.is_some());
        let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
        assert_eq!(p.state, ProvisioningState::Active, "{scheme:?}");
        let card_id = p.card_id.unwrap();
        let entry = w.store.card(&card_id).unwrap();
        assert_eq!(entry.remaining_keys, 10);
        assert_eq!(entry.profile.scheme, scheme);
        assert_ne!(
            entry.profile.token_pan, card.pan,
            "the wallet holds a token, not the PAN"
        );

        // Eight payments, each approved once.
        let mut atcs = BTreeSet::new();
        for i in 0..8 {
            let (atc, approved) = pay(&sb, &mut w, &card_id, 100 + i);
            assert!(approved, "{scheme:?} ATC {atc}");
            assert!(atcs.insert(atc), "ATC {atc} used twice");
        }
        assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 2);

        // Two left ≤ threshold 3: replenish with the log of the eight spent ATCs.
        assert_eq!(
            w.prov.replenish_if_needed(&mut w.store, &card_id).unwrap(),
            10
        );
        assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 12);
        let tc = w.prov.token_card(&w.store, &card_id).unwrap();
        assert_eq!((tc.last_issued_atc, tc.reported_through), (20, 8));
        assert_eq!(
            w.prov.replenish_if_needed(&mut w.store, &card_id).unwrap(),
            0,
            "12 left: nothing to do"
        );

        // Sync brings the eight records from pending to approved.
        let report = w.prov.sync(&mut w.store).unwrap();
        assert_eq!(report.statuses_updated, 8, "{report:?}");
        let approved = w
            .store
            .count_records(&Filter {
                card_id: Some(card_id.clone()),
                status: Some(Status::Approved),
                ..Filter::default()
            })
            .unwrap();
        assert_eq!(approved, 8);

        // Suspend: keys wiped here at once, the server refuses the card too.
        let tc = w.prov.suspend(&mut w.store, &card_id, "LOST").unwrap();
        assert_eq!(tc.state, CardState::Suspended);
        assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 0);
        assert_eq!(
            w.store.card(&card_id).unwrap().status,
            CardStatus::Suspended
        );
        let err = w.prov.replenish(&mut w.store, &card_id).unwrap_err();
        assert!(
            matches!(err, TokenError::Refused { ref code, .. } if code == codes::TOKEN_INACTIVE),
            "{err:?}"
        );

        // Resume: new keys above every ATC used or wiped.
        let tc = w.prov.resume_card(&mut w.store, &card_id).unwrap();
        assert_eq!(tc.state, CardState::Active);
        assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 10);
        let (atc, approved) = pay(&sb, &mut w, &card_id, 500);
        assert!(approved);
        assert!(atc > 20, "fresh ATC after resume, got {atc}");

        // Delete: final on both sides.
        let tc = w
            .prov
            .delete(&mut w.store, &card_id, "CUSTOMER_REQUEST")
            .unwrap();
        assert_eq!(tc.state, CardState::Deleted);
        assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 0);
        let err = w.prov.resume_card(&mut w.store, &card_id).map(|t| t.state);
        assert_eq!(
            err.unwrap(),
            CardState::Deleted,
            "a deleted card stays deleted"
        );
    }
}

#[test]
fn otp_provisioning_through_the_wallet() {
    let sb = start();
    let mut w = sb.wallet();
    let card = catalogue::CARDS
        .iter()
        .find(|c| c.behaviour == Behaviour::Otp && c.pan.len() == 19)
        .unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
    assert_eq!(p.state, ProvisioningState::IdvRequired);
    assert_eq!(p.idv_methods.len(), 2);
    let err = w
        .prov
        .submit_otp(&mut w.store, &p.id, "123456")
        .unwrap_err();
    assert!(matches!(err, TokenError::WrongState { .. }), "{err:?}");
    let p = w
        .prov
        .select_idv(&mut w.store, &p.id, &p.idv_methods[1].id)
        .unwrap();
    assert_eq!(p.state, ProvisioningState::IdvPending);
    let otp = sb.otp(&p.id);
    let wrong = if otp == "000000" { "000001" } else { "000000" };
    match w.prov.submit_otp(&mut w.store, &p.id, wrong).unwrap_err() {
        TokenError::Refused {
            code,
            attempts_left,
            ..
        } => {
            assert_eq!(code, codes::OTP_INCORRECT);
            assert_eq!(attempts_left, Some(2));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        w.prov
            .provisioning(&w.store, &p.id)
            .unwrap()
            .otp_attempts_left,
        Some(2)
    );
    assert!(matches!(
        w.prov.submit_otp(&mut w.store, &p.id, "12a456"),
        Err(TokenError::InvalidOtp)
    ));
    let p = w.prov.submit_otp(&mut w.store, &p.id, &otp).unwrap();
    assert_eq!(p.state, ProvisioningState::Active);
    let entry = w.store.card(p.card_id.as_deref().unwrap()).unwrap();
    assert_eq!(entry.profile.token_pan.len(), 19);
    assert_eq!(sb.count("SELECT count(*) FROM tokens"), 1);
}

#[test]
fn refusals_locally_and_from_the_server() {
    let sb = start();
    let mut w = sb.wallet();
    // Caught before anything is sent.
    let bad_luhn = CardInput {
        pan: b"4000 1234 0000 0009",
        expiry: "12/35",
        name: "X",
    };
    assert!(matches!(
        w.prov.begin(&mut w.store, bad_luhn),
        Err(TokenError::InvalidPan(_))
    ));
    let bad_expiry = CardInput {
        pan: b"4000123400000008",
        expiry: "2035-12",
        name: "X",
    };
    assert!(matches!(
        w.prov.begin(&mut w.store, bad_expiry),
        Err(TokenError::InvalidExpiry)
    ));
    let amex = CardInput {
        pan: b"378282246310005",
        expiry: "12/35",
        name: "X",
    };
    assert!(matches!(
        w.prov.begin(&mut w.store, amex),
        Err(TokenError::InvalidPan(_))
    ));
    assert_eq!(w.prov.provisionings(&w.store).unwrap().len(), 0);
    // Refused by the server.
    for (card, code) in [
        (catalogue::EXPIRED, codes::CARD_EXPIRED),
        (
            catalogue::pick(Scheme::Mastercard, Behaviour::Ineligible).unwrap(),
            codes::CARD_INELIGIBLE,
        ),
    ] {
        match w.prov.begin(&mut w.store, card_input(card)).unwrap_err() {
            TokenError::Refused { code: c, .. } => assert_eq!(c, code),
            other => panic!("{other:?}"),
        }
    }
    // Declined at tokenize.
    let p = w
        .prov
        .begin(
            &mut w.store,
            card_input(catalogue::pick(Scheme::Visa, Behaviour::Decline).unwrap()),
        )
        .unwrap();
    let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
    assert_eq!(p.state, ProvisioningState::Declined);
    let states: Vec<_> = w
        .prov
        .provisionings(&w.store)
        .unwrap()
        .into_iter()
        .map(|p| p.state)
        .collect();
    assert_eq!(
        states,
        [
            ProvisioningState::Failed,
            ProvisioningState::Failed,
            ProvisioningState::Declined
        ]
    );
    assert_eq!(w.store.cards().unwrap().len(), 0);
}

#[test]
fn issuer_lifecycle_events_reach_the_wallet_on_sync() {
    let sb = start();
    let mut w = sb.wallet();
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let card_id = w
        .prov
        .accept_terms(&mut w.store, &p.id)
        .unwrap()
        .card_id
        .unwrap();
    let token_ref = w.prov.token_card(&w.store, &card_id).unwrap().token_ref;
    pay(&sb, &mut w, &card_id, 42);

    sb.issuer_action(&token_ref, "suspend");
    let r = w.prov.sync(&mut w.store).unwrap();
    assert_eq!(r.events_applied, 1, "{r:?}");
    assert_eq!(
        w.store.card(&card_id).unwrap().status,
        CardStatus::Suspended
    );
    assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 0);
    // Applied once: a second sync has nothing new.
    assert_eq!(w.prov.sync(&mut w.store).unwrap().events_applied, 0);

    sb.issuer_action(&token_ref, "resume");
    let r = w.prov.sync(&mut w.store).unwrap();
    assert_eq!(r.events_applied, 1);
    assert_eq!(w.store.card(&card_id).unwrap().status, CardStatus::Active);
    assert_eq!(
        w.store.remaining_keys(&card_id).unwrap(),
        10,
        "resumed with fresh keys"
    );
    assert!(pay(&sb, &mut w, &card_id, 43).1);

    sb.issuer_action(&token_ref, "replenish-required");
    let r = w.prov.sync(&mut w.store).unwrap();
    assert_eq!(r.keys_added, 0, "the event itself replenishes: {r:?}");
    assert_eq!(w.store.remaining_keys(&card_id).unwrap(), 19);

    sb.issuer_action(&token_ref, "delete");
    w.prov.sync(&mut w.store).unwrap();
    assert_eq!(w.store.card(&card_id).unwrap().status, CardStatus::Deleted);
    assert_eq!(
        w.prov.token_card(&w.store, &card_id).unwrap().state,
        CardState::Deleted
    );
}

#[test]
fn a_suspended_token_is_declined_and_old_keys_are_void() {
    let sb = start();
    let mut w = sb.wallet_with(ClientOptions {
        attempts: 1,
        ..ClientOptions::default()
    });
    let card = catalogue::pick(Scheme::Mastercard, Behaviour::Approve).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let card_id = w
        .prov
        .accept_terms(&mut w.store, &p.id)
        .unwrap()
        .card_id
        .unwrap();
    // A tap whose authorisation is delayed until after the issuer suspends the token.
    let out = w.tap(&card_id, 700);
    let auth = out.auth.unwrap();
    let token_ref = w.prov.token_card(&w.store, &card_id).unwrap().token_ref;
    sb.issuer_action(&token_ref, "suspend");
    let resp = authorize_remote(&sb.client(), &auth).unwrap();
    assert!(!resp.approved);
    assert_eq!(resp.response_code, "05", "{resp:?}"); // its key was voided with the suspension
}

#[test]
fn qr_pay_with_a_token_is_authorised_once() {
    let sb = start();
    let mut w = sb.wallet();
    let card = catalogue::pick(Scheme::UnionPay, Behaviour::Approve).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let card_id = w
        .prov
        .accept_terms(&mut w.store, &p.id)
        .unwrap()
        .card_id
        .unwrap();
    let token_ref = w.prov.token_card(&w.store, &card_id).unwrap().token_ref;
    // The cryptogram comes from the card's next single-use key (here through the engine).
    let auth = w.tap(&card_id, 12_34).auth.unwrap();
    let pay = wallet_core::token::api::QrPay {
        token_ref: token_ref.clone(),
        merchant_payload: "00020101021215310000000000000000000000000000052045812530315654041234"
            .into(),
        merchant_name: Some("Noodle Bar".into()),
        payment: wallet_sandbox::server::to_wire(&auth),
    };
    let r = w.prov.qr_pay(&mut w.store, &pay).unwrap();
    assert!(r.approved, "{r:?}");
    assert_eq!(r.response_code, "00");
    assert!(r.auth_code.is_some());
    // Paid again (a new request, not a retry): the ATC is spent.
    let again = w.prov.qr_pay(&mut w.store, &pay).unwrap();
    assert_eq!(again.response_code, "94");
    // Another device cannot use this token.
    let other = common::Device::new(&sb);
    assert_eq!(
        common::code(other.post::<_, wallet_core::token::api::AuthorizeResponse>(
            wallet_core::token::api::QR_PAY,
            &pay
        )),
        codes::NOT_FOUND
    );
    // A tampered cryptogram is declined and spends nothing.
    let mut forged = w.tap(&card_id, 1).auth.unwrap();
    forged.cryptogram[0] ^= 1;
    let pay = wallet_core::token::api::QrPay {
        payment: wallet_sandbox::server::to_wire(&forged),
        ..pay
    };
    let r = w.prov.qr_pay(&mut w.store, &pay).unwrap();
    assert_eq!(r.response_code, "05");
    assert_eq!(sb.count("SELECT count(*) FROM authorisations"), 1);
}

#[test]
fn authorize_refuses_malformed_requests() {
    let sb = start();
    let resp = sb
        .raw()
        .post(sb.url(wallet_core::token::api::AUTHORIZE))
        .body("{")
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let body = serde_json::json!({
        "scheme": "visa", "pan": "4895370000000000", "psn": 1, "cid": 128, "cryptogram": "00",
        "amount": "000000000100", "amount_other": "000000000000", "terminal_country": "0156",
        "tvr": "0000000000", "currency": "0156", "date": "260101", "txn_type": 0, "un": "01020304",
        "aip": "0000", "atc": 1, "iad": "00"
    });
    let resp = sb
        .raw()
        .post(sb.url(wallet_core::token::api::AUTHORIZE))
        .json(&body)
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400, "cryptogram must be 8 bytes");
    let mut ok_shape = body.clone();
    ok_shape["cryptogram"] = "0001020304050607".into();
    let resp: wallet_core::token::api::AuthorizeResponse = sb
        .raw()
        .post(sb.url(wallet_core::token::api::AUTHORIZE))
        .json(&ok_shape)
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        (resp.approved, resp.response_code.as_str()),
        (false, "14"),
        "unknown token PAN"
    );
}
