//! Credentials and replenishment at the API: the credentials JWE opens with the device key in
//! an independent JOSE implementation, keys are issued once, and the replenishment log is
//! checked against what was issued and authorised.

mod common;

use common::{Device, code, key, start};
use ring::hmac;
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use wallet_core::card::Scheme;
use wallet_core::hce::Engine;
use wallet_core::ledger::MemoryLedger;
use wallet_core::token::api::{
    self, AcceptTerms, CredentialPayload, FetchCredentials, KeyBatch, ProvisioningStatus,
    Replenish, Sealed, TokenizeResult, codes, log_mac_input,
};
use wallet_core::token::jwe;
use wallet_core::token::{b64_decode, b64_encode};
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::server::authorize_remote;
use wallet_sandbox::terminal::{Terminal, Transaction};

fn approved_token(sb: &common::Sandbox, dev: &Device, scheme: Scheme) -> String {
    let card = catalogue::pick(scheme, Behaviour::Approve).unwrap();
    let el = dev.eligibility(sb, card).unwrap();
    let id = el.provisioning_id;
    let _: ProvisioningStatus = dev
        .post(
            &api::provisioning_step(&id, "terms"),
            &AcceptTerms {
                terms_id: el.terms.id,
            },
        )
        .unwrap();
    let t: TokenizeResult = dev
        .post(&api::provisioning_step(&id, "tokenize"), &json!({}))
        .unwrap();
    t.token_ref.unwrap()
}

fn open<T: serde::de::DeserializeOwned>(dev: &Device, sealed: &Sealed) -> T {
    let kid = dev.keys.agreement_jwk().kid.unwrap();
    let plain = jwe::decrypt(dev.keys.agreement(), &kid, &sealed.jwe).unwrap();
    serde_json::from_slice(&plain).unwrap()
}

fn replenish_body(token_ref: &str, log_key: &[u8], used: &[u16], count: u16) -> Replenish {
    let mac = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, log_key),
        &log_mac_input(token_ref, used),
    );
    Replenish {
        used_atcs: used.to_vec(),
        count,
        mac: hex::encode(mac.as_ref()),
    }
}

#[test]
fn credentials_open_in_jwcrypto_with_the_device_key() {
    let sb = start();
    let dev = Device::new(&sb);
    let token_ref = approved_token(&sb, &dev, Scheme::Visa);
    let sealed: Sealed = dev
        .post(
            &api::token_step(&token_ref, "credentials"),
            &FetchCredentials { count: 5 },
        )
        .unwrap();
    let jwk = dev.keys.agreement_jwk();
    let private = json!({"kty": "EC", "crv": "P-256", "x": jwk.x, "y": jwk.y, "kid": jwk.kid,
                         "d": b64_encode(&dev.keys.agreement_scalar()[..])});
    let script =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/jwe_peer.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 (and pip3 install -r tests/peers/requirements.txt)");
    let req = json!({"op": "decrypt", "jwk": private, "jwe": sealed.jwe}).to_string();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(req.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "jwcrypto peer failed (pip3 install -r tests/peers/requirements.txt): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let plain = b64_decode(v["plaintext_b64"].as_str().unwrap()).unwrap();
    let payload: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(payload["token_ref"], token_ref.as_str());
    assert_eq!(payload["keys"].as_array().unwrap().len(), 5);
    assert_eq!(payload["keys"][0]["atc"], 1);
    assert_eq!(payload["keys"][0]["key"].as_str().unwrap().len(), 32);
    assert_eq!(v["header"]["kid"], jwk.kid.unwrap().as_str());
}

#[test]
fn keys_are_issued_once() {
    let sb = start();
    let dev = Device::new(&sb);
    let token_ref = approved_token(&sb, &dev, Scheme::Mastercard);
    let path = api::token_step(&token_ref, "credentials");
    assert_eq!(
        code(dev.post::<_, Sealed>(&path, &FetchCredentials { count: 0 })),
        codes::BAD_REQUEST
    );
    assert_eq!(
        code(dev.post::<_, Sealed>(&path, &FetchCredentials { count: 201 })),
        codes::BAD_REQUEST
    );
    let k = key();
    let first: Sealed = dev
        .post_key(&path, &FetchCredentials { count: 10 }, &k)
        .unwrap();
    let replay: Sealed = dev
        .post_key(&path, &FetchCredentials { count: 10 }, &k)
        .unwrap();
    assert_eq!(first, replay, "a lost answer is replayed, not re-derived");
    assert_eq!(
        code(dev.post::<_, Sealed>(&path, &FetchCredentials { count: 10 })),
        codes::WRONG_STATE
    );
    let other = Device::new(&sb);
    assert_eq!(
        code(other.post::<_, Sealed>(&path, &FetchCredentials { count: 10 })),
        codes::NOT_FOUND
    );
    assert_eq!(sb.count("SELECT count(*) FROM issued_atcs"), 10);
}

#[test]
fn replenishment_log_is_checked() {
    let sb = start();
    let dev = Device::new(&sb);
    let token_ref = approved_token(&sb, &dev, Scheme::UnionPay);
    let sealed: Sealed = dev
        .post(
            &api::token_step(&token_ref, "credentials"),
            &FetchCredentials { count: 10 },
        )
        .unwrap();
    let creds: CredentialPayload = open(&dev, &sealed);
    let log_key = hex::decode(&creds.log_mac_key.0).unwrap();

    // Spend ATC 1 and 2 for real: engine + terminal + authorisation at the server.
    let mut ledger = MemoryLedger::new();
    let keys = creds.keys.iter().map(|k| wallet_core::card::SessionKey {
        atc: k.atc,
        key: wallet_core::emv::crypto::Key16::from_hex(&k.key.0).unwrap(),
    });
    ledger.add_keys(&creds.profile.id, keys.collect());
    let mut engine = Engine::new(vec![creds.profile.clone()]).unwrap();
    for _ in 0..2 {
        let out = Terminal::default().tap(&Transaction::purchase(99, 156), &mut |c| {
            engine.process(c, &mut ledger, std::time::SystemTime::now())
        });
        engine.deactivate();
        assert!(
            authorize_remote(&sb.client(), &out.auth.unwrap())
                .unwrap()
                .approved
        );
    }

    let path = api::token_step(&token_ref, "replenish");
    let mut bad_mac = replenish_body(&token_ref, &log_key, &[1, 2], 10);
    bad_mac.mac = bad_mac.mac.replace(
        &bad_mac.mac[..2],
        if &bad_mac.mac[..2] == "00" {
            "11"
        } else {
            "00"
        },
    );
    for (body, why) in [
        (bad_mac, "MAC"),
        (
            replenish_body(&token_ref, &log_key, &[], 10),
            "omits authorised ATCs",
        ),
        (
            replenish_body(&token_ref, &log_key, &[1], 10),
            "omits authorised ATC 2",
        ),
        (
            replenish_body(&token_ref, &log_key, &[1, 2, 11], 10),
            "claims an ATC never issued",
        ),
        (
            replenish_body(&token_ref, &log_key, &[1, 2, 2], 10),
            "repeats an ATC",
        ),
        (
            replenish_body(&token_ref, &[0u8; 32], &[1, 2], 10),
            "MAC under another key",
        ),
    ] {
        assert_eq!(
            code(dev.post::<_, Sealed>(&path, &body)),
            codes::LOG_MISMATCH,
            "{why}"
        );
    }
    // An honest log (ATC 3 spent offline, never authorised, is fine to report).
    let ok: Sealed = dev
        .post(&path, &replenish_body(&token_ref, &log_key, &[1, 2, 3], 10))
        .unwrap();
    let batch: KeyBatch = open(&dev, &ok);
    assert_eq!(
        batch.keys.iter().map(|k| k.atc).collect::<Vec<_>>(),
        (11..=20).collect::<Vec<_>>()
    );
    // 17 unspent now; at most 200 outstanding: a request for 200 gets 183, the next gets none.
    let big: KeyBatch = open(
        &dev,
        &dev.post(&path, &replenish_body(&token_ref, &log_key, &[], 200))
            .unwrap(),
    );
    assert_eq!(big.keys.len(), 183);
    let none: KeyBatch = open(
        &dev,
        &dev.post(&path, &replenish_body(&token_ref, &log_key, &[], 200))
            .unwrap(),
    );
    assert!(none.keys.is_empty());
}
