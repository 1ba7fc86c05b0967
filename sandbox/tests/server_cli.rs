//! The `wallet-sandbox` binary: `serve --json` prints exactly one JSON line once listening (on
//! an ephemeral port here), the CA it names verifies the server, and a second start reuses the
//! directory; `test-cards --json` lists the catalogue.

use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_wallet-sandbox");

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &std::path::Path) -> (Serving, Value) {
    let mut child = Command::new(BIN)
        .args(["serve", "--dir"])
        .arg(dir)
        .args(["--addr", "127.0.0.1:0", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn wallet-sandbox");
    let stdout = child.stdout.take().expect("stdout");
    let serving = Serving(child);
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let v: Value = serde_json::from_str(line.trim())
        .unwrap_or_else(|e| panic!("not one JSON line: {line:?} ({e})"));
    (serving, v)
}

fn get_keys(v: &Value) -> Value {
    let ca = std::fs::read(v["ca"].as_str().unwrap()).unwrap();
    let client = wallet_core::token::client::TokenClient::new(
        v["url"].as_str().unwrap(),
        &ca,
        wallet_core::token::client::ClientOptions::default(),
    )
    .unwrap();
    serde_json::to_value(client.server_keys().unwrap()).unwrap()
}

#[test]
fn serve_prints_url_and_ca_and_keeps_its_identity_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let (first, v) = serve(dir.path());
    assert_eq!(v.as_object().unwrap().len(), 2, "{v}");
    assert!(v["url"].as_str().unwrap().starts_with("https://127.0.0.1:"));
    assert!(!v["url"].as_str().unwrap().ends_with(":0"));
    let keys = get_keys(&v);
    drop(first);

    let (_second, v2) = serve(dir.path());
    assert_eq!(v2["ca"], v["ca"]);
    assert_eq!(
        get_keys(&v2),
        keys,
        "the server's JWE key survives a restart"
    );
    for f in ["ca.pem", "server.pem", "server.key", "sandbox.db"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}

#[test]
fn a_wrong_ca_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let (_s, v) = serve(dir.path());
    wallet_sandbox::server::prepare(other.path()).unwrap();
    let foreign_ca = std::fs::read(other.path().join("ca.pem")).unwrap();
    let client = wallet_core::token::client::TokenClient::new(
        v["url"].as_str().unwrap(),
        &foreign_ca,
        wallet_core::token::client::ClientOptions {
            attempts: 1,
            ..Default::default()
        },
    )
    .unwrap();
    let err = client.server_keys().unwrap_err();
    match err {
        wallet_core::token::client::ClientError::Tls(msg) => {
            assert!(msg.contains("certificate"), "{msg}")
        }
        other => panic!("expected a TLS refusal, got {other:?}"),
    }
}

#[test]
fn test_cards_json_lists_the_catalogue() {
    let out = Command::new(BIN)
        .args(["test-cards", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let cards: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cards.len(), wallet_sandbox::catalogue::CARDS.len());
    for c in &cards {
        for field in ["pan", "expiry", "name", "scheme", "behaviour"] {
            assert!(c.get(field).is_some(), "{field} in {c}");
        }
    }
    assert!(cards.iter().any(|c| c["pan"].as_str().unwrap().len() == 19));
    for b in ["approve", "otp", "decline", "ineligible"] {
        assert!(cards.iter().any(|c| c["behaviour"] == b), "{b}");
    }
}

#[test]
fn keys_json_prints_the_issuer_master_keys_the_server_uses() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["keys", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let keys: Value = serde_json::from_slice(&out.stdout).unwrap();
    for scheme in ["unionpay", "visa", "mastercard"] {
        let imk = keys[scheme]["imk_ac"].as_str().unwrap();
        assert_eq!(imk.len(), 32, "{scheme}");
        assert!(keys[scheme]["cvn"].is_string());
    }
    // Stable across runs, distinct per scheme, not the public EMV test key.
    let again = Command::new(BIN)
        .args(["keys", "--json", "--dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(
        serde_json::from_slice::<Value>(&again.stdout).unwrap(),
        keys
    );
    assert_ne!(keys["visa"]["imk_ac"], keys["mastercard"]["imk_ac"]);
    assert_ne!(
        keys["visa"]["imk_ac"].as_str().unwrap(),
        wallet_sandbox::issuer::TEST_IMK_HEX
    );
}
