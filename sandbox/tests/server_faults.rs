//! Faults at the transport layer: each server failpoint on each provisioning step, absorbed by
//! the client's retries under the same idempotency key — one token, never two. (The wallet's
//! own resume-after-restart is exercised in core/tests/token_faults.rs.)

mod common;

use common::{Device, key, start};
use serde_json::json;
use std::time::Duration;
use wallet_core::card::Scheme;
use wallet_core::token::api::{
    self, AcceptTerms, Decision, IdvSelected, ProvisioningStatus, Secret, SelectIdv, SubmitOtp,
    TokenizeResult,
};
use wallet_core::token::client::{ClientError, ClientOptions};
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::server::faults::{Fault, Step};

fn faults() -> Vec<Fault> {
    vec![
        Fault::UnavailableBefore,
        Fault::CutBefore,
        Fault::ErrorAfterCommit,
        Fault::CutAfterCommit,
        Fault::StallBefore(Duration::from_millis(1500)),
        Fault::StallAfterCommit(Duration::from_millis(1500)),
    ]
}

fn retrying(sb: &common::Sandbox) -> Device {
    let mut dev = Device::new(sb);
    dev.client = sb.client_with(ClientOptions {
        request_timeout: Duration::from_millis(700),
        attempts: 4,
        backoff: Duration::from_millis(20),
        ..ClientOptions::default()
    });
    dev
}

fn count(sb: &common::Sandbox, sql: &str) -> i64 {
    let conn =
        rusqlite::Connection::open(sb.dir.path().join(wallet_sandbox::server::DB_FILE)).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn every_fault_on_every_step_still_makes_exactly_one_token() {
    for fault in faults() {
        let sb = start();
        let dev = retrying(&sb);
        let card = catalogue::pick(Scheme::Visa, Behaviour::Otp).unwrap();
        let steps = [
            Step::Eligibility,
            Step::Terms,
            Step::Tokenize,
            Step::SelectIdv,
            Step::SubmitOtp,
        ];
        for s in steps {
            sb.server.faults().arm(s, fault);
        }
        let el = dev
            .eligibility(&sb, card)
            .unwrap_or_else(|e| panic!("{fault:?} eligibility: {e}"));
        let id = el.provisioning_id;
        let _: ProvisioningStatus = dev
            .post(
                &api::provisioning_step(&id, "terms"),
                &AcceptTerms {
                    terms_id: el.terms.id,
                },
            )
            .unwrap_or_else(|e| panic!("{fault:?} terms: {e}"));
        let t: TokenizeResult = dev
            .post(&api::provisioning_step(&id, "tokenize"), &json!({}))
            .unwrap_or_else(|e| panic!("{fault:?} tokenize: {e}"));
        assert_eq!(t.decision, Decision::RequireIdv);
        let _: IdvSelected = dev
            .post(
                &api::provisioning_step(&id, "idv"),
                &SelectIdv {
                    method_id: "sms-1".into(),
                },
            )
            .unwrap_or_else(|e| panic!("{fault:?} idv: {e}"));
        let otp = sb.otp(&id);
        let done: TokenizeResult = dev
            .post(
                &api::provisioning_step(&id, "otp"),
                &SubmitOtp { otp: Secret(otp) },
            )
            .unwrap_or_else(|e| panic!("{fault:?} otp: {e}"));
        assert_eq!(done.decision, Decision::Approved, "{fault:?}");
        assert_eq!(
            sb.server.faults().pending(),
            0,
            "{fault:?}: every fault fired"
        );
        assert_eq!(sb.server.faults().fired().len(), steps.len());
        assert_eq!(count(&sb, "SELECT count(*) FROM tokens"), 1, "{fault:?}");
        assert_eq!(
            count(&sb, "SELECT count(*) FROM provisionings"),
            1,
            "{fault:?}"
        );
        // A retried OTP under its key was answered once: no attempt was lost to the fault.
        let st: ProvisioningStatus = dev.get(&api::provisioning(&id)).unwrap();
        assert_eq!(st.token_ref, done.token_ref);
    }
}

#[test]
fn without_retries_the_client_reports_an_unknown_outcome_and_the_same_key_settles_it() {
    let sb = start();
    let mut dev = Device::new(&sb);
    dev.client = sb.client_with(ClientOptions {
        request_timeout: Duration::from_millis(500),
        attempts: 1,
        ..ClientOptions::default()
    });
    let card = catalogue::pick(Scheme::Mastercard, Behaviour::Approve).unwrap();
    let el = dev.eligibility(&sb, card).unwrap();
    let id = el.provisioning_id;
    let _: ProvisioningStatus = dev
        .post(
            &api::provisioning_step(&id, "terms"),
            &AcceptTerms {
                terms_id: el.terms.id,
            },
        )
        .unwrap();
    let path = api::provisioning_step(&id, "tokenize");
    for fault in [
        Fault::ErrorAfterCommit,
        Fault::CutAfterCommit,
        Fault::StallAfterCommit(Duration::from_secs(2)),
    ] {
        sb.server.faults().arm(Step::Tokenize, fault);
        let k = key();
        let err = dev
            .post_key::<_, TokenizeResult>(&path, &json!({}), &k)
            .unwrap_err();
        assert!(err.outcome_unknown(), "{fault:?}: {err:?}");
        assert!(matches!(
            err,
            ClientError::NoAnswer(_) | ClientError::Server { .. }
        ));
        // The server committed: the status query and the retry under the same key agree.
        let st: ProvisioningStatus = dev.get(&api::provisioning(&id)).unwrap();
        let again: TokenizeResult = dev.post_key(&path, &json!({}), &k).unwrap();
        assert_eq!(again.decision, Decision::Approved);
        assert_eq!(st.token_ref, again.token_ref);
    }
    assert_eq!(count(&sb, "SELECT count(*) FROM tokens"), 1);
}

#[test]
fn a_killed_server_restarted_on_its_directory_answers_the_retry() {
    let dir = tempfile::tempdir().unwrap();
    let first =
        wallet_sandbox::server::start(wallet_sandbox::server::Config::ephemeral(dir.path()))
            .unwrap();
    let addr = first.addr;
    let sb = common::Sandbox { server: first, dir };
    let dev = Device::new(&sb);
    let card = catalogue::pick(Scheme::UnionPay, Behaviour::Approve).unwrap();
    let el = dev.eligibility(&sb, card).unwrap();
    let id = el.provisioning_id;
    let _: ProvisioningStatus = dev
        .post(
            &api::provisioning_step(&id, "terms"),
            &AcceptTerms {
                terms_id: el.terms.id,
            },
        )
        .unwrap();
    let k = key();
    let path = api::provisioning_step(&id, "tokenize");
    let before: TokenizeResult = dev.post_key(&path, &json!({}), &k).unwrap();

    // Stop the server; while it is down the call gets no answer.
    let common::Sandbox { server, dir } = sb;
    server.shutdown();
    let err = dev
        .post_key::<_, TokenizeResult>(&path, &json!({}), &k)
        .unwrap_err();
    assert!(err.outcome_unknown(), "{err:?}");

    // Same directory, same port: same CA, same database, same stored answer.
    let server = wallet_sandbox::server::start(wallet_sandbox::server::Config {
        dir: dir.path().to_owned(),
        addr,
    })
    .unwrap();
    let sb = common::Sandbox { server, dir };
    let after: TokenizeResult = dev.post_key(&path, &json!({}), &k).unwrap();
    assert_eq!(before, after);
    assert_eq!(count(&sb, "SELECT count(*) FROM tokens"), 1);
}
