//! Faults around every network call of the token client, through the wallet facade, against
//! the real sandbox token service on loopback (HTTPS, pinned CA, signed requests):
//!
//! - `token::client::answer_lost` = panic at the n-th call, for every n: the server did the
//!   work and the app died before storing the answer. After a restart the wallet finishes the
//!   provisioning with exactly one token on the server, one card with its keys, each key issued
//!   once — whichever step the crash hit.
//! - `token::client::before_send` = return at the n-th call: the request never left; the
//!   client's retry sends it (same idempotency key) and nothing changes for the user.
//! - a crash after the server issued a replenishment batch: the restarted wallet replays the
//!   same request and gets the same batch; no ATC is issued twice, taps go on with ATCs that
//!   only go up.

#[path = "../../core/tests/failpoints_support/mod.rs"]
mod failpoints_support;

use failpoints_support::{arm, clean};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::store::SoftwareKeyWrapper;
use wallet_core::token::{Provisioning, ProvisioningState};
use wallet_core::wallet::{ServerConfig, Wallet, WalletConfig};
use wallet_sandbox::catalogue::{self, Behaviour, TestCard};
use wallet_sandbox::server::{self, Config, RunningServer};
use wallet_sandbox::terminal::{Outcome, Terminal, TerminalConfig, Transaction};

struct Sandbox {
    server: RunningServer,
    _dir: tempfile::TempDir,
}

fn start() -> Sandbox {
    let dir = tempfile::tempdir().unwrap();
    let server = server::start(Config::ephemeral(dir.path())).expect("server starts");
    Sandbox { server, _dir: dir }
}

impl Sandbox {
    fn ca_pem(&self) -> String {
        std::fs::read_to_string(&self.server.ca_path).unwrap()
    }

    fn count(&self, sql: &str) -> i64 {
        let db = self.server.dir.join(server::DB_FILE);
        let conn = rusqlite::Connection::open(db).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The OTP the sandbox "sent" by SMS.
    fn otp(&self, provisioning_id: &str) -> String {
        let tls = wallet_core::token::client::pinned_tls_config(self.ca_pem().as_bytes()).unwrap();
        let http = reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .build()
            .unwrap();
        let v: serde_json::Value = http
            .get(format!("{}/sandbox/otp/{provisioning_id}", self.server.url))
            .send()
            .unwrap()
            .json()
            .unwrap();
        v["otp"].as_str().expect("otp").to_owned()
    }
}

fn open(dir: &Path, sb: &Sandbox) -> Wallet {
    let mut config = WalletConfig::new(dir);
    config.server = Some(ServerConfig {
        url: sb.server.url.clone(),
        ca_pem: sb.ca_pem(),
    });
    let wrapper = SoftwareKeyWrapper::in_dir(dir).unwrap();
    Wallet::open(config, Arc::new(wrapper)).expect("the wallet opens")
}

/// Take a provisioning from wherever it stands to its end, as the app would with the user.
fn drive(wallet: &Wallet, sb: &Sandbox, mut p: Provisioning) -> Provisioning {
    for _ in 0..12 {
        let next = if p.outcome_unknown {
            wallet.resume_provisioning(&p.id)
        } else {
            match p.state {
                ProvisioningState::Eligible => wallet.accept_terms(&p.id),
                ProvisioningState::IdvRequired => {
                    wallet.select_idv_method(&p.id, &p.idv_methods[0].id)
                }
                ProvisioningState::IdvPending => wallet.submit_otp(&p.id, &sb.otp(&p.id)),
                s if s.is_final() => return p,
                _ => wallet.resume_provisioning(&p.id),
            }
        };
        p = next.expect("a provisioning step");
    }
    panic!("the provisioning did not settle: {p:?}");
}

fn add_card(wallet: &Wallet, sb: &Sandbox, card: &TestCard) -> Provisioning {
    let p = wallet
        .begin_provisioning(card.pan.as_bytes(), card.expiry, card.name)
        .expect("begin");
    drive(wallet, sb, p)
}

/// Exactly one token, one active card with the initial keys, each key issued once.
fn assert_one_card(sb: &Sandbox, wallet: &Wallet, p: &Provisioning, what: &str) {
    assert_eq!(p.state, ProvisioningState::Active, "{what}: {p:?}");
    assert_eq!(sb.count("SELECT count(*) FROM tokens"), 1, "{what}: tokens");
    let cards = wallet.cards().unwrap();
    assert_eq!(cards.len(), 1, "{what}: cards in the wallet");
    assert_eq!(cards[0].keys_left, 10, "{what}");
    assert_eq!(
        sb.count("SELECT count(*) FROM issued_atcs"),
        10,
        "{what}: keys issued once"
    );
}

/// `n` calls pass, the next one fires `action`.
fn at_call(n: usize, action: &str) -> String {
    if n == 0 {
        format!("1*{action}")
    } else {
        format!("{n}*off->1*{action}")
    }
}

#[test]
fn a_crash_after_any_server_answer_resumes_to_exactly_one_card() {
    for behaviour in [Behaviour::Approve, Behaviour::Otp] {
        let card = catalogue::pick(Scheme::UnionPay, behaviour).unwrap();
        let mut crashes = 0;
        for n in 0.. {
            let what = format!("{behaviour:?}, crash after answer {n}");
            let sb = start();
            let home = tempfile::tempdir().unwrap();
            let died = {
                let _armed = arm("token::client::answer_lost", &at_call(n, "panic"));
                let wallet = open(home.path(), &sb);
                catch_unwind(AssertUnwindSafe(|| add_card(&wallet, &sb, card))).is_err()
            };
            let _clean = clean();
            let wallet = open(home.path(), &sb);
            if !died {
                // Past the last call: the flow has `n` calls and every one was crashed once.
                let p = wallet.provisionings().unwrap().remove(0);
                assert_one_card(&sb, &wallet, &p, &what);
                break;
            }
            crashes += 1;
            // The restarted app: a provisioning in flight is resumed; one that never got its
            // outbox row (device registration, server keys) is started again.
            let p = match wallet.provisionings().unwrap().into_iter().next() {
                Some(p) => drive(&wallet, &sb, p),
                None => add_card(&wallet, &sb, card),
            };
            assert_one_card(&sb, &wallet, &p, &what);
        }
        assert!(crashes >= 4, "{behaviour:?}: only {crashes} calls");
    }
}

#[test]
fn a_request_that_never_left_is_retried_transparently() {
    let card = catalogue::pick(Scheme::Visa, Behaviour::Otp).unwrap();
    // How many requests a whole provisioning sends.
    let calls = {
        let sb = start();
        let home = tempfile::tempdir().unwrap();
        let _scenario = clean();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let c = Arc::clone(&count);
        fail::cfg_callback("token::client::before_send", move || {
            c.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        })
        .unwrap();
        let wallet = open(home.path(), &sb);
        let p = add_card(&wallet, &sb, card);
        assert_one_card(&sb, &wallet, &p, "counting calls");
        count.load(std::sync::atomic::Ordering::SeqCst)
    };
    assert!(
        calls >= 6,
        "a provisioning with an OTP sends {calls} requests"
    );
    for n in 0..calls {
        let what = format!("connection refused at call {n} of {calls}");
        let sb = start();
        let home = tempfile::tempdir().unwrap();
        let _armed = arm("token::client::before_send", &at_call(n, "return"));
        let wallet = open(home.path(), &sb);
        let p = add_card(&wallet, &sb, card);
        assert_one_card(&sb, &wallet, &p, &what);
    }
}

/// Spend keys by tapping until the card needs more, crash after the server sealed the batch,
/// restart, sync: the same batch is installed, never a second one; taps carry on.
#[test]
fn a_crash_after_replenishment_was_issued_gets_the_same_batch() {
    let _clean = clean();
    let sb = start();
    let home = tempfile::tempdir().unwrap();
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let card_id = {
        let wallet = open(home.path(), &sb);
        let p = add_card(&wallet, &sb, card);
        assert_one_card(&sb, &wallet, &p, "provisioning");
        p.card_id.unwrap()
    };
    let mut atcs = Vec::new();
    let tap = |wallet: &Wallet, atcs: &mut Vec<u16>| {
        let out = Terminal::new(TerminalConfig::default())
            .tap(&Transaction::purchase(800, 156), &mut |c| {
                wallet.process_apdu(c)
            });
        wallet.deactivate();
        assert_eq!(out.outcome, Outcome::OnlineRequest);
        atcs.push(out.atc.unwrap());
    };
    {
        let wallet = open(home.path(), &sb);
        for _ in 0..7 {
            tap(&wallet, &mut atcs);
        }
        drop(_clean);
        let _armed = arm("token::client::answer_lost", "1*panic");
        let died = catch_unwind(AssertUnwindSafe(|| wallet.replenish_if_needed(&card_id)));
        assert!(died.is_err(), "the crash must hit the replenish answer");
    }
    assert_eq!(
        sb.count("SELECT count(*) FROM issued_atcs"),
        20,
        "the batch was issued"
    );
    let _clean = clean();
    let wallet = open(home.path(), &sb);
    assert_eq!(
        wallet.cards().unwrap()[0].keys_left,
        3,
        "the lost batch is not installed"
    );
    wallet.sync().expect("sync");
    assert_eq!(
        wallet.cards().unwrap()[0].keys_left,
        13,
        "the same batch, installed once"
    );
    assert_eq!(
        sb.count("SELECT count(*) FROM issued_atcs"),
        20,
        "no second batch issued"
    );
    for _ in 0..13 {
        tap(&wallet, &mut atcs);
    }
    assert!(atcs.windows(2).all(|w| w[0] < w[1]), "ATCs {atcs:?}");
    assert_eq!(atcs.last(), Some(&20));
}
