//! Provisioning on loopback, both sides real (HTTPS with the pinned CA, SQLite files, JWE,
//! signatures, the issuer's key derivation):
//! - `provision_round_trip`: eligibility → terms → tokenize → credentials (10 keys) → card
//!   installed in the wallet store (device already registered, server key cached);
//! - `replenish_100_keys`: a log of 100 spent ATCs, 100 keys derived, sealed as a JWE, opened
//!   and installed.
//!
//! `cargo bench -p wallet-sandbox --bench provisioning -- --warm-up-time 1 --measurement-time 3`

use criterion::{Criterion, criterion_group, criterion_main};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wallet_core::card::Scheme;
use wallet_core::ledger::{Channel, KeyLedger, TxnDraft};
use wallet_core::store::{SoftwareKeyWrapper, Store};
use wallet_core::token::client::ClientOptions;
use wallet_core::token::{CardInput, KeyPolicy, Provisioner, TokenConfig};
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::server::{self, Config};

struct Rig {
    _server_dir: tempfile::TempDir,
    _home: tempfile::TempDir,
    _server: server::RunningServer,
    store: Store,
    prov: Provisioner,
}

fn rig() -> Rig {
    let server_dir = tempfile::tempdir().expect("dir");
    let server = server::start(Config::ephemeral(server_dir.path())).expect("server");
    let home = tempfile::tempdir().expect("home");
    let wrapper = SoftwareKeyWrapper::in_dir(home.path()).expect("wrapper");
    let store = Store::open(home.path(), Arc::new(wrapper)).expect("store");
    let mut cfg = TokenConfig::new(
        server.url.clone(),
        std::fs::read(&server.ca_path).expect("ca"),
    );
    cfg.client = ClientOptions {
        attempts: 1,
        ..ClientOptions::default()
    };
    cfg.policy = KeyPolicy {
        initial_keys: 10,
        threshold: 3,
        batch: 100,
    };
    let prov = Provisioner::new(cfg).expect("provisioner");
    Rig {
        _server_dir: server_dir,
        _home: home,
        _server: server,
        store,
        prov,
    }
}

fn provision(r: &mut Rig) -> String {
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).expect("card");
    let input = CardInput {
        pan: card.pan.as_bytes(),
        expiry: card.expiry,
        name: card.name,
    };
    let p = r.prov.begin(&mut r.store, input).expect("begin");
    let p = r.prov.accept_terms(&mut r.store, &p.id).expect("accept");
    p.card_id.expect("active")
}

fn spend(store: &mut Store, card_id: &str, n: usize) {
    for _ in 0..n {
        store
            .consume_next(card_id, &mut |atc, _key| TxnDraft {
                card_id: card_id.to_owned(),
                channel: Channel::Nfc,
                atc,
                amount_minor: Some(100),
                currency: Some(156),
                country: Some(156),
                unpredictable_number: [1, 2, 3, 4],
                cryptogram_sha256: [atc as u8; 32],
                cdcvm: false,
                merchant: None,
            })
            .expect("spend");
    }
}

fn benches(c: &mut Criterion) {
    let mut r = rig();
    provision(&mut r); // registers the device and caches the server key
    let mut g = c.benchmark_group("token");
    g.sample_size(20);
    g.bench_function("provision_round_trip", |b| b.iter(|| provision(&mut r)));

    let card_id = provision(&mut r);
    r.prov
        .replenish_n(&mut r.store, &card_id, 90)
        .expect("top up to 100");
    g.bench_function("replenish_100_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                // Spend the 100 keys the card holds (untimed), then time the replenishment.
                let left = r.store.remaining_keys(&card_id).expect("remaining");
                spend(&mut r.store, &card_id, left);
                let t = Instant::now();
                let added = r
                    .prov
                    .replenish_n(&mut r.store, &card_id, 100)
                    .expect("replenish");
                total += t.elapsed();
                assert_eq!(added, 100);
            }
            total
        })
    });
    g.finish();
}

criterion_group!(token, benches);
criterion_main!(token);
