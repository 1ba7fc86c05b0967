//! Chaos at every provisioning step, seen from the wallet: the server fails the step (503
//! before doing anything, cut before, 500 or cut or stall after committing), the wallet gets no
//! answer, the app "restarts" (store reopened from disk, new provisioner), and `resume` finishes
//! the job — exactly one token on the server, the card installed once, nothing lost.

mod common;

use common::{Sandbox, Wallet, card_input, start};
use std::time::Duration;
use wallet_core::card::Scheme;
use wallet_core::token::client::ClientOptions;
use wallet_core::token::{ProvisioningState, TokenError};
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::server::faults::{Fault, Step};

fn no_retry() -> ClientOptions {
    ClientOptions {
        request_timeout: Duration::from_millis(600),
        attempts: 1,
        ..ClientOptions::default()
    }
}

fn faults() -> [Fault; 5] {
    [
        Fault::UnavailableBefore,
        Fault::CutBefore,
        Fault::ErrorAfterCommit,
        Fault::CutAfterCommit,
        Fault::StallAfterCommit(Duration::from_millis(1200)),
    ]
}

fn committed(f: Fault) -> bool {
    matches!(
        f,
        Fault::ErrorAfterCommit | Fault::CutAfterCommit | Fault::StallAfterCommit(_)
    )
}

fn unknown(r: Result<wallet_core::token::Provisioning, TokenError>) -> String {
    match r {
        Err(TokenError::OutcomeUnknown { id, .. }) => id,
        other => panic!("expected an unknown outcome, got {other:?}"),
    }
}

/// After the fault: restart the app and resume until the provisioning stops moving.
fn restart_and_resume(sb: &Sandbox, w: &mut Wallet, id: &str) -> wallet_core::token::Provisioning {
    // Let a stalled request finish on the server first (it commits after the client gave up).
    std::thread::sleep(Duration::from_millis(700));
    w.restart(sb, no_retry());
    let p = w.prov.provisioning(&w.store, id).unwrap();
    assert!(
        p.outcome_unknown,
        "the outbox says a request is in flight: {p:?}"
    );
    w.prov.resume(&mut w.store, id).unwrap()
}

fn finish(sb: &Sandbox, w: &mut Wallet, id: &str) -> wallet_core::token::Provisioning {
    let mut p = w.prov.provisioning(&w.store, id).unwrap();
    if p.state == ProvisioningState::Eligible {
        p = w.prov.accept_terms(&mut w.store, id).unwrap();
    }
    if p.state == ProvisioningState::IdvRequired {
        p = w.prov.select_idv(&mut w.store, id, "sms-1").unwrap();
    }
    if p.state == ProvisioningState::IdvPending {
        let otp = sb.otp(id);
        p = w.prov.submit_otp(&mut w.store, id, &otp).unwrap();
    }
    p
}

fn assert_one_card(sb: &Sandbox, w: &Wallet, p: &wallet_core::token::Provisioning, what: &str) {
    assert_eq!(p.state, ProvisioningState::Active, "{what}: {p:?}");
    assert!(!p.outcome_unknown, "{what}");
    assert_eq!(
        sb.count("SELECT count(*) FROM tokens"),
        1,
        "{what}: one token on the server"
    );
    assert_eq!(
        w.store.cards().unwrap().len(),
        1,
        "{what}: one card in the wallet"
    );
    assert_eq!(
        w.store
            .remaining_keys(p.card_id.as_deref().unwrap())
            .unwrap(),
        10,
        "{what}"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM issued_atcs"),
        10,
        "{what}: keys issued once"
    );
}

#[test]
fn eligibility_fault_resolved_by_status_query() {
    for fault in faults() {
        let sb = start();
        let mut w = sb.wallet_with(no_retry());
        let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
        // Register the device first so the fault hits eligibility itself.
        w.prov.sync(&mut w.store).unwrap();
        sb.server.faults().arm(Step::Eligibility, fault);
        let id = unknown(w.prov.begin(&mut w.store, card_input(card)));
        std::thread::sleep(Duration::from_millis(700));
        w.restart(&sb, no_retry());
        let resumed = w.prov.resume(&mut w.store, &id);
        if committed(fault) {
            let p = resumed.unwrap();
            assert_eq!(p.state, ProvisioningState::Eligible, "{fault:?}");
            let p = finish(&sb, &mut w, &id);
            assert_one_card(&sb, &w, &p, &format!("{fault:?}"));
        } else {
            // The card data never arrived and is gone from the wallet: start again.
            assert!(
                matches!(resumed, Err(TokenError::ReenterCard)),
                "{fault:?}: {resumed:?}"
            );
            assert_eq!(
                w.prov.provisioning(&w.store, &id).unwrap().state,
                ProvisioningState::Failed
            );
            assert_eq!(sb.count("SELECT count(*) FROM provisionings"), 0);
            let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
            let p = finish(&sb, &mut w, &p.id);
            assert_one_card(&sb, &w, &p, &format!("{fault:?} second try"));
        }
    }
}

#[test]
fn faults_at_terms_tokenize_and_credentials_resume_to_one_card() {
    for step in [Step::Terms, Step::Tokenize, Step::Credentials] {
        for fault in faults() {
            let sb = start();
            let mut w = sb.wallet_with(no_retry());
            let card = catalogue::pick(Scheme::UnionPay, Behaviour::Approve).unwrap();
            let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
            sb.server.faults().arm(step, fault);
            let id = unknown(w.prov.accept_terms(&mut w.store, &p.id));
            let p = restart_and_resume(&sb, &mut w, &id);
            assert_one_card(&sb, &w, &p, &format!("{step:?} {fault:?}"));
            assert_eq!(sb.server.faults().fired(), vec![(step, fault)]);
        }
    }
}

#[test]
fn faults_at_idv_and_otp_resume_without_losing_attempts() {
    for step in [Step::SelectIdv, Step::SubmitOtp] {
        for fault in faults() {
            let sb = start();
            let mut w = sb.wallet_with(no_retry());
            let card = catalogue::pick(Scheme::Mastercard, Behaviour::Otp).unwrap();
            let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
            let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
            assert_eq!(p.state, ProvisioningState::IdvRequired);
            let id = p.id.clone();
            sb.server.faults().arm(step, fault);
            let r = if step == Step::SelectIdv {
                w.prov.select_idv(&mut w.store, &id, "sms-1")
            } else {
                w.prov.select_idv(&mut w.store, &id, "sms-1").unwrap();
                let otp = sb.otp(&id);
                w.prov.submit_otp(&mut w.store, &id, &otp)
            };
            unknown(r);
            let p = restart_and_resume(&sb, &mut w, &id);
            let what = format!("{step:?} {fault:?}");
            if step == Step::SubmitOtp && !committed(fault) {
                // The OTP never arrived; the wallet did not keep it, so the user types it again.
                assert_eq!(p.state, ProvisioningState::IdvPending, "{what}");
                assert_eq!(p.otp_attempts_left, Some(3), "{what}: no attempt lost");
            }
            let p = finish(&sb, &mut w, &id);
            assert_one_card(&sb, &w, &p, &what);
        }
    }
}

#[test]
fn retries_absorb_faults_without_the_caller_noticing() {
    let sb = start();
    let mut w = sb.wallet_with(ClientOptions {
        request_timeout: Duration::from_millis(600),
        attempts: 3,
        backoff: Duration::from_millis(20),
        ..ClientOptions::default()
    });
    for step in [
        Step::Register,
        Step::Eligibility,
        Step::Terms,
        Step::Tokenize,
        Step::Credentials,
    ] {
        sb.server.faults().arm(step, Fault::CutAfterCommit);
    }
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
    assert_one_card(&sb, &w, &p, "retries");
    assert_eq!(sb.server.faults().pending(), 0);
}

#[test]
fn server_down_then_back_on_the_same_directory() {
    let sb = start();
    let addr = sb.server.addr;
    let mut w = sb.wallet_with(no_retry());
    let card = catalogue::pick(Scheme::Visa, Behaviour::Otp).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let Sandbox { server, dir } = sb;
    server.shutdown();
    let id = unknown(w.prov.accept_terms(&mut w.store, &p.id));
    let server = wallet_sandbox::server::start(wallet_sandbox::server::Config {
        dir: dir.path().to_owned(),
        addr,
    })
    .unwrap();
    let sb = Sandbox { server, dir };
    w.restart(&sb, no_retry());
    let p = w.prov.resume(&mut w.store, &id).unwrap();
    assert_eq!(p.state, ProvisioningState::IdvRequired);
    let p = finish(&sb, &mut w, &id);
    assert_one_card(&sb, &w, &p, "restart");
}

#[test]
fn suspend_without_an_answer_wipes_now_and_tells_the_server_on_sync() {
    let sb = start();
    let mut w = sb.wallet_with(no_retry());
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let card_id = w
        .prov
        .accept_terms(&mut w.store, &p.id)
        .unwrap()
        .card_id
        .unwrap();
    sb.server.faults().arm(Step::Lifecycle, Fault::CutBefore);
    let tc = w.prov.suspend(&mut w.store, &card_id, "STOLEN").unwrap();
    assert_eq!(tc.state, wallet_core::token::CardState::Suspended);
    assert_eq!(tc.pending.as_deref(), Some("suspend"), "still to be told");
    assert_eq!(
        w.store.remaining_keys(&card_id).unwrap(),
        0,
        "wiped without waiting for the server"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM tokens WHERE state = 'ACTIVE'"),
        1
    );

    w.restart(&sb, no_retry());
    w.prov.sync(&mut w.store).unwrap();
    assert_eq!(w.prov.token_card(&w.store, &card_id).unwrap().pending, None);
    assert_eq!(
        sb.count("SELECT count(*) FROM tokens WHERE state = 'SUSPENDED'"),
        1
    );
}
