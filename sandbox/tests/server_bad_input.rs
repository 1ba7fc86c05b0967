//! Bad input on the server side: malformed JSON, oversized bodies, bad or replayed signatures,
//! stale timestamps, idempotency misuse and broken JWEs each get a clear JSON error — and the
//! server keeps serving.

mod common;

use common::{Device, code, key, now, signed_headers, start};
use serde_json::{Value, json};
use wallet_core::card::Scheme;
use wallet_core::token::api::{
    self, CardData, CheckEligibility, Eligible, RegisterDevice, Secret, codes,
};
use wallet_core::token::device::DeviceKeys;
use wallet_core::token::jwe::{self, AgreementKey};
use wallet_core::token::{b64_decode, b64_encode};
use wallet_sandbox::catalogue::{self, Behaviour};

/// POST `body` to `path` signed by `keys`, with every header field under the test's control.
fn send(
    sb: &common::Sandbox,
    keys: &DeviceKeys,
    path: &str,
    body: &[u8],
    ts: u64,
    nonce: &str,
    idem: Option<&str>,
) -> (u16, Value) {
    let h = signed_headers(keys, "POST", path, body, ts, nonce, idem);
    let resp = sb
        .raw()
        .post(sb.url(path))
        .headers(h)
        .body(body.to_vec())
        .send()
        .expect("send");
    let status = resp.status().as_u16();
    (status, resp.json().unwrap_or(Value::Null))
}

fn err_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("<none>")
}

fn card_jwe(sb: &common::Sandbox) -> String {
    let card = catalogue::pick(Scheme::Visa, Behaviour::Approve).unwrap();
    let data = CardData {
        pan: Secret(card.pan.into()),
        expiry: Secret(card.expiry.into()),
        name: Secret(card.name.into()),
    };
    jwe::encrypt(&sb.server_jwk(), &serde_json::to_vec(&data).unwrap(), None).unwrap()
}

#[test]
fn signature_timestamp_nonce_and_device_checks() {
    let sb = start();
    let dev = Device::new(&sb);
    let body = serde_json::to_vec(&CheckEligibility {
        provisioning_id: key().replace('-', "a"),
        card: card_jwe(&sb),
    })
    .unwrap();
    let path = api::PROVISIONINGS;

    // Signed by a key the server does not know.
    let stranger = DeviceKeys::generate().unwrap();
    let (s, v) = send(&sb, &stranger, path, &body, now(), &key(), Some(&key()));
    assert_eq!((s, err_code(&v)), (401, codes::UNKNOWN_DEVICE));

    // Right device id, wrong key: rebuild headers from the stranger, swap in the device id.
    let nonce = key();
    let idem = key();
    let mut h = signed_headers(&stranger, "POST", path, &body, now(), &nonce, Some(&idem));
    h.insert("x-wc-device", dev.keys.device_id().parse().unwrap());
    let resp = sb
        .raw()
        .post(sb.url(path))
        .headers(h)
        .body(body.clone())
        .send()
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    assert_eq!(err_code(&resp.json().unwrap()), codes::BAD_SIGNATURE);

    // Body changed after signing.
    let h = signed_headers(&dev.keys, "POST", path, &body, now(), &key(), Some(&idem));
    let mut tampered = body.clone();
    tampered.push(b' ');
    let resp = sb
        .raw()
        .post(sb.url(path))
        .headers(h)
        .body(tampered)
        .send()
        .unwrap();
    assert_eq!(err_code(&resp.json().unwrap()), codes::BAD_SIGNATURE);

    // Stale and future timestamps.
    let (s, v) = send(
        &sb,
        &dev.keys,
        path,
        &body,
        now() - 3600,
        &key(),
        Some(&key()),
    );
    assert_eq!((s, err_code(&v)), (401, codes::STALE_TIMESTAMP));
    let (_, v) = send(
        &sb,
        &dev.keys,
        path,
        &body,
        now() + 3600,
        &key(),
        Some(&key()),
    );
    assert_eq!(err_code(&v), codes::STALE_TIMESTAMP);

    // Exactly the same signed request twice: the second is a replay.
    let nonce = key();
    let idem = key();
    let ts = now();
    let (s1, v1) = send(&sb, &dev.keys, path, &body, ts, &nonce, Some(&idem));
    assert_eq!(s1, 200, "{v1}");
    let (s2, v2) = send(&sb, &dev.keys, path, &body, ts, &nonce, Some(&idem));
    assert_eq!((s2, err_code(&v2)), (401, codes::REPLAYED_NONCE));

    // Malformed nonce, missing idempotency key on a POST.
    let (s, v) = send(&sb, &dev.keys, path, &body, now(), "short", Some(&key()));
    assert_eq!((s, err_code(&v)), (401, codes::BAD_SIGNATURE));
    let (s, v) = send(&sb, &dev.keys, path, &body, now(), &key(), None);
    assert_eq!((s, err_code(&v)), (400, codes::IDEMPOTENCY_KEY_REQUIRED));

    // No signature headers at all.
    let resp = sb.raw().post(sb.url(path)).body(body).send().unwrap();
    assert_eq!(resp.status().as_u16(), 401);
}

#[test]
fn idempotency_key_replays_and_refuses_reuse_for_another_body() {
    let sb = start();
    let dev = Device::new(&sb);
    let idem = key();
    let a = CheckEligibility {
        provisioning_id: "a".repeat(32),
        card: card_jwe(&sb),
    };
    let first: Eligible = dev.post_key(api::PROVISIONINGS, &a, &idem).unwrap();
    let again: Eligible = dev.post_key(api::PROVISIONINGS, &a, &idem).unwrap();
    assert_eq!(first, again);
    let b = CheckEligibility {
        provisioning_id: "b".repeat(32),
        card: card_jwe(&sb),
    };
    assert_eq!(
        code(dev.post_key::<_, Eligible>(api::PROVISIONINGS, &b, &idem)),
        codes::IDEMPOTENCY_CONFLICT
    );
    // A new key for an id already used: refused, not a second provisioning.
    assert_eq!(
        code(dev.post::<_, Eligible>(api::PROVISIONINGS, &a)),
        codes::WRONG_STATE
    );
}

#[test]
fn malformed_json_and_oversized_bodies() {
    let sb = start();
    let dev = Device::new(&sb);
    for body in [
        &b"{not json"[..],
        b"[]",
        br#"{"provisioning_id": 5, "card": "x"}"#,
        b"\xff\xfe",
    ] {
        let (s, v) = send(
            &sb,
            &dev.keys,
            api::PROVISIONINGS,
            body,
            now(),
            &key(),
            Some(&key()),
        );
        assert_eq!((s, err_code(&v)), (400, codes::MALFORMED_JSON), "{body:?}");
    }
    let huge = vec![b' '; api::MAX_REQUEST_BODY + 1];
    let (s, v) = send(
        &sb,
        &dev.keys,
        api::PROVISIONINGS,
        &huge,
        now(),
        &key(),
        Some(&key()),
    );
    assert_eq!((s, err_code(&v)), (413, codes::BODY_TOO_LARGE));
    // Unsigned and huge: still refused for size, without reading it all. The server answers
    // 413 and closes as soon as the limit is crossed, so the client, still writing, may see the
    // connection close (a broken pipe) before it can read the answer; either way the body was
    // refused, and the checks below show the server is unharmed.
    match sb
        .raw()
        .post(sb.url(api::AUTHORIZE))
        .body(vec![b'x'; 10 * api::MAX_REQUEST_BODY])
        .send()
    {
        Ok(resp) => assert_eq!(resp.status().as_u16(), 413),
        Err(e) => assert!(e.is_request() && !e.is_timeout(), "{e}"),
    }
    // Unknown path: JSON 404.
    let resp = sb.raw().get(sb.url("/v2/whatever")).send().unwrap();
    assert_eq!(resp.status().as_u16(), 404);
    assert_eq!(err_code(&resp.json().unwrap()), codes::NOT_FOUND);
    // The server is still fine.
    assert_eq!(sb.client().server_keys().unwrap().keys.len(), 1);
}

#[test]
fn broken_card_jwes_are_refused() {
    let sb = start();
    let dev = Device::new(&sb);
    let good = card_jwe(&sb);
    let parts: Vec<&str> = good.split('.').collect();
    let header: Value = serde_json::from_slice(&b64_decode(parts[0]).unwrap()).unwrap();
    let with_header = |h: &Value| {
        format!(
            "{}..{}.{}.{}",
            b64_encode(h.to_string().as_bytes()),
            parts[2],
            parts[3],
            parts[4]
        )
    };
    let mut wrong_kid = header.clone();
    wrong_kid["kid"] = "someone-else".into();
    let mut wrong_alg = header.clone();
    wrong_alg["alg"] = "RSA-OAEP".into();
    let mut wrong_enc = header.clone();
    wrong_enc["enc"] = "A128GCM".into();
    let mut tag = b64_decode(parts[4]).unwrap();
    tag[3] ^= 0x40;
    let bad_tag = format!(
        "{}..{}.{}.{}",
        parts[0],
        parts[2],
        parts[3],
        b64_encode(&tag)
    );
    // Encrypted to another key but claiming the server's kid.
    let mut other = AgreementKey::generate().unwrap().public_jwk();
    other.kid = header["kid"].as_str().map(str::to_owned);
    let other_key = jwe::encrypt(&other, b"{}", None).unwrap();

    for (jwe_text, expected) in [
        (with_header(&wrong_kid), codes::JWE_UNKNOWN_KID),
        (with_header(&wrong_alg), codes::JWE_INVALID),
        (with_header(&wrong_enc), codes::JWE_INVALID),
        (bad_tag, codes::JWE_INVALID),
        (other_key, codes::JWE_INVALID),
        ("not.a.jwe".to_owned(), codes::JWE_INVALID),
        (String::new(), codes::JWE_INVALID),
    ] {
        let req = CheckEligibility {
            provisioning_id: "c".repeat(32),
            card: jwe_text,
        };
        assert_eq!(
            code(dev.post::<_, Eligible>(api::PROVISIONINGS, &req)),
            expected
        );
    }
    // A JWE whose plaintext is not card data.
    let not_card = jwe::encrypt(&sb.server_jwk(), br#"{"hello":1}"#, None).unwrap();
    let req = CheckEligibility {
        provisioning_id: "d".repeat(32),
        card: not_card,
    };
    assert_eq!(
        code(dev.post::<_, Eligible>(api::PROVISIONINGS, &req)),
        codes::MALFORMED_JSON
    );
    // Bad provisioning ids.
    for id in ["short", &"G".repeat(32), &"A".repeat(32)] {
        let req = CheckEligibility {
            provisioning_id: id.to_string(),
            card: card_jwe(&sb),
        };
        assert_eq!(
            code(dev.post::<_, Eligible>(api::PROVISIONINGS, &req)),
            codes::BAD_REQUEST,
            "{id}"
        );
    }
}

#[test]
fn registration_needs_proof_of_the_key() {
    let sb = start();
    let keys = DeviceKeys::generate().unwrap();
    let other = DeviceKeys::generate().unwrap();
    // Body registers `other`'s key but the request is signed by `keys`.
    let reg = RegisterDevice {
        signing_key: other.signing_jwk(),
        agreement_key: other.agreement_jwk(),
    };
    let body = serde_json::to_vec(&reg).unwrap();
    let (s, v) = send(&sb, &keys, api::DEVICES, &body, now(), &key(), Some(&key()));
    assert_eq!((s, err_code(&v)), (401, codes::BAD_SIGNATURE));
    // Agreement key without a kid.
    let mut ak = keys.agreement_jwk();
    ak.kid = None;
    let body = serde_json::to_vec(&json!({"signing_key": keys.signing_jwk(), "agreement_key": ak}))
        .unwrap();
    let (s, v) = send(&sb, &keys, api::DEVICES, &body, now(), &key(), Some(&key()));
    assert_eq!((s, err_code(&v)), (400, codes::BAD_REQUEST));
    // Done properly, twice: the same answer.
    let dev = Device::new(&sb);
    let reg = RegisterDevice {
        signing_key: dev.keys.signing_jwk(),
        agreement_key: dev.keys.agreement_jwk(),
    };
    let r: api::DeviceRegistered = dev.post(api::DEVICES, &reg).unwrap();
    assert_eq!(r.device_id, dev.keys.device_id());
    // Re-registering the signing key with another agreement key is refused.
    let reg = RegisterDevice {
        signing_key: dev.keys.signing_jwk(),
        agreement_key: other.agreement_jwk(),
    };
    assert_eq!(
        code(dev.post::<_, api::DeviceRegistered>(api::DEVICES, &reg)),
        codes::WRONG_STATE
    );
}
