//! Nothing secret in the logs: a full provisioning (with OTP), payments, replenishment, sync and
//! suspension run with every log target at TRACE — wallet, server, TLS, HTTP — captured, then
//! searched for the PAN, the token PAN, the OTP, the session keys, the replenishment MAC key,
//! the server's JWE key and the issuer master keys.

mod common;

use common::{card_input, start};
use std::sync::Mutex;
use wallet_core::card::Scheme;
use wallet_core::emv::crypto::Key16;
use wallet_sandbox::catalogue::{self, Behaviour};
use wallet_sandbox::issuer::{CardRequest, Issuer};
use wallet_sandbox::server::authorize_remote;

static LINES: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, r: &log::Record<'_>) {
        let line = format!("{} {} {}", r.level(), r.target(), r.args());
        LINES.lock().unwrap_or_else(|p| p.into_inner()).push(line);
    }
    fn flush(&self) {}
}

/// `needle` as a whole token: not part of a longer run of digits/hex.
fn contains_word(hay: &str, needle: &str) -> bool {
    let hay = hay.to_ascii_lowercase();
    let needle = needle.to_ascii_lowercase();
    hay.match_indices(&needle).any(|(i, _)| {
        let before = hay[..i].chars().next_back();
        let after = hay[i + needle.len()..].chars().next();
        !before.is_some_and(|c| c.is_ascii_hexdigit())
            && !after.is_some_and(|c| c.is_ascii_hexdigit())
    })
}

#[test]
fn a_full_card_life_logs_no_secret() {
    log::set_logger(&Capture).unwrap();
    log::set_max_level(log::LevelFilter::Trace);

    let sb = start();
    let mut w = sb.wallet();
    let card = catalogue::pick(Scheme::Visa, Behaviour::Otp).unwrap();
    let p = w.prov.begin(&mut w.store, card_input(card)).unwrap();
    let p = w.prov.accept_terms(&mut w.store, &p.id).unwrap();
    let p = w.prov.select_idv(&mut w.store, &p.id, "sms-1").unwrap();
    let otp = sb.otp(&p.id);
    let _ = w.prov.submit_otp(
        &mut w.store,
        &p.id,
        if otp == "000000" { "000001" } else { "000000" },
    );
    let p = w.prov.submit_otp(&mut w.store, &p.id, &otp).unwrap();
    let card_id = p.card_id.clone().unwrap_or_else(|| panic!("{p:?}"));
    for amount in [1_00, 20_00, 49_99, 5, 7, 8, 9, 10] {
        let out = w.tap(&card_id, amount);
        authorize_remote(&sb.client(), &out.auth.unwrap()).unwrap();
    }
    w.prov.sync(&mut w.store).unwrap();
    w.prov.suspend(&mut w.store, &card_id, "LOST").unwrap();

    // The secrets, from both databases and the issuer.
    let token_pan = w.store.card(&card_id).unwrap().profile.token_pan.clone();
    let conn =
        rusqlite::Connection::open(sb.dir.path().join(wallet_sandbox::server::DB_FILE)).unwrap();
    let (log_key, last_issued, cvn): (Vec<u8>, u16, String) = conn
        .query_row(
            "SELECT log_mac_key, last_issued_atc, cvn FROM tokens",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let server_scalar: Vec<u8> = conn
        .query_row("SELECT scalar FROM server_keys", [], |r| r.get(0))
        .unwrap();
    let imks = wallet_sandbox::server::issuer_keys(sb.dir.path()).unwrap();
    let imk = imks["visa"]["imk_ac"].as_str().unwrap().to_owned();
    let mut issuer = Issuer::with_test_keys();
    issuer.set_master_key(Scheme::Visa, Key16::from_hex(&imk).unwrap());
    let mut req = CardRequest::new("x", Scheme::Visa);
    req.cvn = serde_json::from_value(serde_json::Value::String(cvn)).unwrap();
    req.pan = Some(token_pan.clone());
    req.key_count = last_issued;
    let session_keys: Vec<String> = issuer
        .personalise(&req)
        .unwrap()
        .keys
        .iter()
        .map(|k| hex::encode(k.key.as_bytes()))
        .collect();
    assert_eq!(session_keys.len(), 20, "10 issued, 10 replenished");

    let lines = LINES.lock().unwrap().clone();
    assert!(
        lines.len() > 50,
        "the capture saw the run: {} lines",
        lines.len()
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("token:") && l.contains("active")),
        "wallet logs captured"
    );
    assert!(
        lines.iter().any(|l| l.contains("wallet_sandbox")),
        "server logs captured"
    );
    let mut secrets: Vec<(&str, String)> = vec![
        ("PAN", card.pan.to_owned()),
        ("token PAN", token_pan.clone()),
        ("OTP", otp.clone()),
        ("log MAC key", hex::encode(&log_key)),
        ("server JWE key", hex::encode(&server_scalar)),
        ("issuer master key", imk.clone()),
    ];
    for k in &session_keys {
        secrets.push(("session key", k.clone()));
    }
    for line in &lines {
        for (what, secret) in &secrets {
            assert!(!contains_word(line, secret), "{what} in log line: {line}");
        }
        // No PAN-shaped number of any kind in our own lines (rustls traces handshake randoms).
        if !line
            .split(' ')
            .nth(1)
            .is_some_and(|target| target.starts_with("wallet"))
        {
            continue;
        }
        let digits: Vec<&str> = line
            .split(|c: char| !c.is_ascii_digit())
            .filter(|d| d.len() >= 15)
            .collect();
        for d in digits {
            assert!(
                !wallet_core::token::pan::luhn_valid(d),
                "PAN-like number in log line: {line}"
            );
        }
    }
}
