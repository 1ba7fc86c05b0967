//! JWE interoperability with an independent JOSE implementation (PyPI `jwcrypto`, driven by
//! `tests/peers/jwe_peer.py`): it decrypts what the wallet encrypts, and the wallet decrypts what
//! it encrypts. Fails — does not skip — when the peer is missing.

use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use wallet_core::token::jwe::{self, AgreementKey};
use wallet_core::token::{b64_decode, b64_encode};

fn peer(request: &Value) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/jwe_peer.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}): install Python 3 and `pip3 install -r tests/peers/requirements.txt`"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write to peer");
    let out = child.wait_with_output().expect("peer output");
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() == Some(3) {
        panic!(
            "the JWE peer needs jwcrypto: pip3 install -r tests/peers/requirements.txt ({stderr})"
        );
    }
    assert!(out.status.success(), "peer failed: {stderr}");
    serde_json::from_slice(&out.stdout).expect("peer JSON")
}

fn private_jwk(key: &AgreementKey, kid: &str) -> Value {
    let public = key.public_jwk();
    json!({"kty": "EC", "crv": "P-256", "x": public.x, "y": public.y,
           "d": b64_encode(&key.to_bytes()[..]), "kid": kid})
}

#[test]
fn jwcrypto_decrypts_what_the_wallet_encrypts() {
    let server = AgreementKey::generate().unwrap();
    let recipient = server.public_jwk().with_kid("server-2026");
    let card = br#"{"pan":"6212345678901265","expiry":"12/30","name":"LI LEI"}"#;
    for plaintext in [&card[..], b"x", &[0xA5u8; 4096][..]] {
        let compact = jwe::encrypt(&recipient, plaintext, Some("application/json")).unwrap();
        let out = peer(
            &json!({"op": "decrypt", "jwk": private_jwk(&server, "server-2026"), "jwe": compact}),
        );
        assert_eq!(
            b64_decode(out["plaintext_b64"].as_str().unwrap()).unwrap(),
            plaintext
        );
        assert_eq!(out["header"]["alg"], "ECDH-ES");
        assert_eq!(out["header"]["enc"], "A256GCM");
        assert_eq!(out["header"]["kid"], "server-2026");
    }
}

#[test]
fn wallet_decrypts_what_jwcrypto_encrypts() {
    let device = AgreementKey::generate().unwrap();
    let public = device.public_jwk().with_kid("device-1");
    let keys = br#"{"keys":[{"atc":1,"key":"00112233445566778899AABBCCDDEEFF"}]}"#;
    let out = peer(&json!({"op": "encrypt", "jwk": public, "plaintext_b64": b64_encode(keys)}));
    let compact = out["jwe"].as_str().unwrap();
    assert_eq!(
        &jwe::decrypt(&device, "device-1", compact).unwrap()[..],
        &keys[..]
    );
    // The peer's token with the wrong kid expected is refused, not decrypted.
    assert_eq!(
        jwe::decrypt(&device, "device-2", compact).err(),
        Some(jwe::JweError::Kid)
    );
}
