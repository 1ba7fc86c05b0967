//! Credentials and replenishment: the issuer personalises the token (profile + single-use
//! session keys for a range of ATCs), and the result travels to the device as a JWE to its
//! registered agreement key.
//!
//! Replenishment follows the limited-use-key practice: the device sends the ATCs it spent,
//! MACed with the token's log key; the server refuses a log that claims ATCs it never issued or
//! leaves out one it authorised (a sign of a cloned key set), and tops the device up so that no
//! more than [`MAX_OUTSTANDING`] keys are unspent at once.

use super::error::ApiError;
use super::pipeline::{Ctx, Reply, ok};
use super::tokens::{TokenRow, own_token};
use ring::hmac;
use rusqlite::params;
use std::collections::BTreeSet;
use wallet_core::card::Personalisation;
use wallet_core::emv::crypto::ct_eq;
use wallet_core::token::api::{
    CredentialPayload, KeyBatch, MAX_KEYS_PER_BATCH, Replenish, Sealed, Secret, TokenState,
    WireKey, codes, log_mac_input, to_secret_json,
};
use wallet_core::token::jwe::{self, EcJwk};

/// Most keys a device may hold unspent.
pub const MAX_OUTSTANDING: u16 = MAX_KEYS_PER_BATCH;

fn check_active(token: &TokenRow) -> Result<(), ApiError> {
    match token.state {
        TokenState::Active => Ok(()),
        _ => Err(ApiError::conflict(
            codes::TOKEN_INACTIVE,
            "token is suspended or deleted",
        )),
    }
}

fn check_count(count: u16) -> Result<(), ApiError> {
    if (1..=MAX_KEYS_PER_BATCH).contains(&count) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            format!("count must be 1 to {MAX_KEYS_PER_BATCH}"),
        ))
    }
}

fn device_jwk(cx: &Ctx<'_>) -> Result<EcJwk, ApiError> {
    let text: String = cx.tx.query_row(
        "SELECT agreement_jwk FROM devices WHERE device_id = ?1",
        [cx.device_id],
        |r| r.get(0),
    )?;
    serde_json::from_str(&text).map_err(ApiError::internal)
}

/// Personalise keys for the next `count` ATCs and record them as issued.
fn issue(cx: &Ctx<'_>, token: &TokenRow, count: u16) -> Result<Personalisation, ApiError> {
    let first = token
        .last_issued_atc
        .checked_add(1)
        .ok_or_else(|| ApiError::conflict(codes::TOKEN_INACTIVE, "ATC space exhausted"))?;
    let last = first
        .checked_add(count - 1)
        .ok_or_else(|| ApiError::conflict(codes::TOKEN_INACTIVE, "ATC space exhausted"))?;
    let perso = cx
        .app
        .issuer
        .personalise(&token.issuer_card(), first..=last)?;
    let mut insert = cx
        .tx
        .prepare_cached("INSERT INTO issued_atcs (token_ref, atc) VALUES (?1, ?2)")?;
    for k in &perso.keys {
        insert.execute(params![token.token_ref, k.atc])?;
    }
    cx.tx.execute(
        "UPDATE tokens SET last_issued_atc = ?1 WHERE token_ref = ?2",
        params![last, token.token_ref],
    )?;
    log::info!("token {}: issued ATCs {first}..={last}", token.token_ref);
    Ok(perso)
}

fn wire_keys(perso: &Personalisation) -> Vec<WireKey> {
    perso
        .keys
        .iter()
        .map(|k| WireKey {
            atc: k.atc,
            key: Secret(hex::encode_upper(k.key.as_bytes())),
        })
        .collect()
}

fn seal<T: serde::Serialize>(cx: &Ctx<'_>, token_ref: &str, payload: &T, keys: usize) -> Reply {
    let plain = to_secret_json(payload, 2048 + keys * 64).map_err(ApiError::internal)?;
    let jwe = jwe::encrypt(&device_jwk(cx)?, &plain, Some("application/json"))
        .map_err(ApiError::internal)?;
    ok(&Sealed {
        token_ref: token_ref.to_owned(),
        jwe,
    })
}

pub fn credentials(cx: &Ctx<'_>, token_ref: &str, count: u16) -> Reply {
    let token = own_token(cx, token_ref)?;
    check_active(&token)?;
    check_count(count)?;
    if token.last_issued_atc > 0 {
        // Issued once, under another idempotency key: the wallet has them or has to say what it
        // spent. Never hand out the same keys twice.
        return Err(ApiError::conflict(
            codes::WRONG_STATE,
            "credentials already issued for this token; replenish instead",
        ));
    }
    let perso = issue(cx, &token, count)?;
    let mut profile = perso.profile.clone();
    profile.id = token.token_ref.clone();
    let payload = CredentialPayload {
        token_ref: token.token_ref.clone(),
        profile,
        keys: wire_keys(&perso),
        log_mac_key: Secret(hex::encode(&token.log_mac_key[..])),
    };
    seal(cx, token_ref, &payload, perso.keys.len())
}

pub fn replenish(cx: &Ctx<'_>, token_ref: &str, req: Replenish) -> Reply {
    let token = own_token(cx, token_ref)?;
    check_active(&token)?;
    check_count(req.count)?;
    let key = hmac::Key::new(hmac::HMAC_SHA256, &token.log_mac_key);
    let expected = hmac::sign(&key, &log_mac_input(token_ref, &req.used_atcs));
    let given = hex::decode(&req.mac).unwrap_or_default();
    if !ct_eq(expected.as_ref(), &given) {
        return Err(ApiError::unprocessable(
            codes::LOG_MISMATCH,
            "transaction log MAC does not verify",
        ));
    }

    let used: BTreeSet<u16> = req.used_atcs.iter().copied().collect();
    if used.len() != req.used_atcs.len() {
        return Err(ApiError::unprocessable(
            codes::LOG_MISMATCH,
            "transaction log repeats an ATC",
        ));
    }
    let issued: BTreeSet<u16> = query_atcs(
        cx,
        "SELECT atc FROM issued_atcs WHERE token_ref = ?1",
        token_ref,
    )?;
    if let Some(atc) = used.difference(&issued).next() {
        return Err(ApiError::unprocessable(
            codes::LOG_MISMATCH,
            format!("transaction log claims ATC {atc}, which was never issued"),
        ));
    }
    let reported: BTreeSet<u16> = query_atcs(
        cx,
        "SELECT atc FROM issued_atcs WHERE token_ref = ?1 AND reported_used = 1",
        token_ref,
    )?;
    let authorised: BTreeSet<u16> = query_atcs(
        cx,
        "SELECT atc FROM authorisations WHERE token_ref = ?1",
        token_ref,
    )?;
    if let Some(atc) = authorised
        .iter()
        .find(|a| !used.contains(a) && !reported.contains(a))
    {
        log::warn!("token {token_ref}: log omits authorised ATC {atc}");
        return Err(ApiError::unprocessable(
            codes::LOG_MISMATCH,
            format!("ATC {atc} was authorised but is missing from the log"),
        ));
    }
    let mut mark = cx.tx.prepare_cached(
        "UPDATE issued_atcs SET reported_used = 1 WHERE token_ref = ?1 AND atc = ?2",
    )?;
    for atc in &used {
        mark.execute(params![token_ref, atc])?;
    }
    let voided: BTreeSet<u16> = query_atcs(
        cx,
        "SELECT atc FROM issued_atcs WHERE token_ref = ?1 AND voided = 1",
        token_ref,
    )?;
    let spent: BTreeSet<u16> = reported
        .union(&used)
        .chain(authorised.iter())
        .chain(voided.iter())
        .copied()
        .collect();
    let outstanding = u16::try_from(issued.difference(&spent).count()).unwrap_or(u16::MAX);
    let grant = req.count.min(MAX_OUTSTANDING.saturating_sub(outstanding));
    let keys = if grant == 0 {
        Vec::new()
    } else {
        wire_keys(&issue(cx, &token, grant)?)
    };
    let n = keys.len();
    seal(
        cx,
        token_ref,
        &KeyBatch {
            token_ref: token_ref.to_owned(),
            keys,
        },
        n,
    )
}

fn query_atcs(cx: &Ctx<'_>, sql: &str, token_ref: &str) -> Result<BTreeSet<u16>, ApiError> {
    let mut stmt = cx.tx.prepare_cached(sql)?;
    let atcs = stmt
        .query_map([token_ref], |r| r.get::<_, u16>(0))?
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(atcs)
}
