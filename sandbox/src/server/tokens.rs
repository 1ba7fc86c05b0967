//! Token endpoints: the server's public keys, credentials and replenishment, lifecycle
//! (suspend / resume / delete) and its event feed, transaction status, and the sandbox-only
//! issuer actions that make the server change a token on its own.

use super::error::ApiError;
use super::faults::Step;
use super::pipeline::{self, Ctx, Reply, Signer, ok, signed};
use super::{App, issuing};
use axum::extract::Request;
use axum::response::Response;
use rusqlite::{OptionalExtension, params};
use serde::Deserialize;
use std::sync::Arc;
use wallet_core::card::Scheme;
use wallet_core::token::api::{
    Event, EventKind, Events, FetchCredentials, Jwks, Lifecycle, Replenish, TokenState,
    TokenStatus, TxnRecord, TxnStatus, codes,
};

pub fn keys(app: &App) -> Response {
    let mut jwk = app.jwe_key.public_jwk().with_kid(&app.kid);
    jwk.use_ = Some("enc".into());
    jwk.alg = Some(wallet_core::token::jwe::ALG.into());
    pipeline::respond(ok(&Jwks { keys: vec![jwk] }))
}

/// A token row, as handlers need it.
pub(crate) struct TokenRow {
    pub token_ref: String,
    pub device_id: String,
    pub scheme: Scheme,
    pub cvn: wallet_core::emv::cvn::Cvn,
    pub token_pan: String,
    pub token_expiry: String,
    pub psn: u8,
    pub state: TokenState,
    pub log_mac_key: zeroize::Zeroizing<Vec<u8>>,
    pub last_issued_atc: u16,
}

fn parse_token_state(s: &str) -> Option<TokenState> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

pub(crate) fn token_state_name(s: TokenState) -> &'static str {
    match s {
        TokenState::Active => "ACTIVE",
        TokenState::Suspended => "SUSPENDED",
        TokenState::Deleted => "DELETED",
    }
}

pub(crate) fn load_token(
    tx: &rusqlite::Transaction<'_>,
    token_ref: &str,
) -> Result<Option<TokenRow>, ApiError> {
    let row = tx
        .query_row(
            "SELECT token_ref, device_id, scheme, token_pan, token_expiry, psn, state, log_mac_key, last_issued_atc, cvn
             FROM tokens WHERE token_ref = ?1",
            [token_ref],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, u8>(5)?,
                    r.get::<_, String>(6)?,
                    r.get::<_, Vec<u8>>(7)?,
                    r.get::<_, u16>(8)?,
                    r.get::<_, String>(9)?,
                ))
            },
        )
        .optional()?;
    let Some((token_ref, device_id, scheme, token_pan, token_expiry, psn, state, mac, last, cvn)) =
        row
    else {
        return Ok(None);
    };
    Ok(Some(TokenRow {
        token_ref,
        device_id,
        scheme: scheme.parse().map_err(ApiError::internal)?,
        cvn: serde_json::from_value(serde_json::Value::String(cvn)).map_err(ApiError::internal)?,
        token_pan,
        token_expiry,
        psn,
        state: parse_token_state(&state).ok_or_else(|| ApiError::internal("bad token state"))?,
        log_mac_key: zeroize::Zeroizing::new(mac),
        last_issued_atc: last,
    }))
}

/// The caller's own token, or 404 (another device's token is not found, not forbidden).
pub(crate) fn own_token(cx: &Ctx<'_>, token_ref: &str) -> Result<TokenRow, ApiError> {
    load_token(cx.tx, token_ref)?
        .filter(|t| t.device_id == cx.device_id)
        .ok_or_else(|| ApiError::not_found("token"))
}

fn status_of(t: &TokenRow) -> TokenStatus {
    TokenStatus {
        token_ref: t.token_ref.clone(),
        state: t.state,
        last_issued_atc: t.last_issued_atc,
    }
}

pub fn status(cx: &Ctx<'_>, token_ref: &str) -> Reply {
    ok(&status_of(&own_token(cx, token_ref)?))
}

/// `POST /v1/tokens/{ref}/{action}`.
pub async fn dispatch(app: Arc<App>, token_ref: &str, action: &str, req: Request) -> Response {
    let t = token_ref.to_owned();
    match action {
        "credentials" => {
            signed(
                app,
                Step::Credentials,
                Signer::Device,
                req,
                move |cx, b: FetchCredentials| issuing::credentials(cx, &t, b.count),
            )
            .await
        }
        "replenish" => {
            signed(
                app,
                Step::Replenish,
                Signer::Device,
                req,
                move |cx, b: Replenish| issuing::replenish(cx, &t, b),
            )
            .await
        }
        "suspend" | "resume" | "delete" => {
            let target = match action {
                "suspend" => TokenState::Suspended,
                "resume" => TokenState::Active,
                _ => TokenState::Deleted,
            };
            signed(
                app,
                Step::Lifecycle,
                Signer::Device,
                req,
                move |cx, b: Lifecycle| {
                    let token = own_token(cx, &t)?;
                    let reason = valid_reason(&b.reason)?;
                    let state = change_state(cx.tx, &token, target, reason, cx.now)?;
                    ok(&TokenStatus {
                        state,
                        ..status_of(&token)
                    })
                },
            )
            .await
        }
        _ => pipeline::respond(Err(ApiError::not_found("token action"))),
    }
}

fn valid_reason(r: &str) -> Result<&str, ApiError> {
    match r {
        "LOST" | "STOLEN" | "FRAUD" | "CUSTOMER_REQUEST" | "ISSUER" | "OTHER" => Ok(r),
        _ => Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "reason must be LOST, STOLEN, FRAUD, CUSTOMER_REQUEST, ISSUER or OTHER",
        )),
    }
}

/// Move a token to `target` and record an event; repeating a change is a no-op.
fn change_state(
    tx: &rusqlite::Transaction<'_>,
    token: &TokenRow,
    target: TokenState,
    reason: &str,
    now: u64,
) -> Result<TokenState, ApiError> {
    if token.state == target {
        return Ok(target);
    }
    if token.state == TokenState::Deleted {
        return Err(ApiError::conflict(
            codes::TOKEN_INACTIVE,
            "token is deleted",
        ));
    }
    tx.execute(
        "UPDATE tokens SET state = ?1 WHERE token_ref = ?2",
        params![token_state_name(target), token.token_ref],
    )?;
    if target != TokenState::Active {
        // The device wipes its keys on suspend/delete; the keys it had not spent are void here
        // too, so they neither authorise nor count as outstanding.
        tx.execute(
            "UPDATE issued_atcs SET voided = 1 WHERE token_ref = ?1 AND reported_used = 0
                 AND atc NOT IN (SELECT atc FROM authorisations WHERE token_ref = ?1)",
            [&token.token_ref],
        )?;
    }
    let kind = match target {
        TokenState::Active => EventKind::Resumed,
        TokenState::Suspended => EventKind::Suspended,
        TokenState::Deleted => EventKind::Deleted,
    };
    record_event(tx, &token.device_id, &token.token_ref, kind, reason, now)?;
    log::info!(
        "token {}: {:?} -> {:?} ({reason})",
        token.token_ref,
        token.state,
        target
    );
    Ok(target)
}

fn event_kind_name(k: EventKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

pub(crate) fn record_event(
    tx: &rusqlite::Transaction<'_>,
    device_id: &str,
    token_ref: &str,
    kind: EventKind,
    reason: &str,
    now: u64,
) -> Result<(), ApiError> {
    tx.execute(
        "INSERT INTO events (device_id, token_ref, kind, reason, created) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![device_id, token_ref, event_kind_name(kind), reason, now as i64],
    )?;
    Ok(())
}

#[derive(Debug, Deserialize)]
pub struct EventsQuery {
    #[serde(default)]
    pub after: u64,
}

const EVENTS_PAGE: i64 = 100;

pub fn events(cx: &Ctx<'_>, q: EventsQuery) -> Reply {
    let mut stmt = cx.tx.prepare(
        "SELECT seq, token_ref, kind, reason FROM events WHERE device_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
    )?;
    let events = stmt
        .query_map(params![cx.device_id, q.after as i64, EVENTS_PAGE], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .filter_map(|(seq, token_ref, kind, reason)| {
            let kind = serde_json::from_value(serde_json::Value::String(kind)).ok()?;
            Some(Event {
                seq: u64::try_from(seq).ok()?,
                token_ref,
                kind,
                reason,
            })
        })
        .collect();
    ok(&Events { events })
}

pub fn transaction(cx: &Ctx<'_>, token_ref: &str, atc: u16) -> Reply {
    own_token(cx, token_ref)?;
    let row = cx
        .tx
        .query_row(
            "SELECT status, amount_minor, currency, response_code FROM authorisations
             WHERE token_ref = ?1 AND atc = ?2",
            params![token_ref, atc],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<i64>>(1)?,
                    r.get::<_, Option<u16>>(2)?,
                    r.get::<_, String>(3)?,
                ))
            },
        )
        .optional()?;
    let record = match row {
        None => TxnRecord {
            token_ref: token_ref.to_owned(),
            atc,
            status: TxnStatus::Unknown,
            amount_minor: None,
            currency: None,
            response_code: None,
        },
        Some((status, amount, currency, rc)) => TxnRecord {
            token_ref: token_ref.to_owned(),
            atc,
            status: serde_json::from_value(serde_json::Value::String(status))
                .map_err(ApiError::internal)?,
            amount_minor: amount.and_then(|a| u64::try_from(a).ok()),
            currency,
            response_code: Some(rc),
        },
    };
    ok(&record)
}

/// `POST /sandbox/tokens/{ref}/{suspend|resume|delete|replenish-required}`: the issuer acts on
/// a token by itself (card reported stolen, account closed); the wallet learns it from the
/// event feed. Sandbox only.
pub async fn issuer_action(app: Arc<App>, token_ref: String, action: String) -> Response {
    let reply = tokio::task::spawn_blocking(move || -> Reply {
        let mut conn = app.db();
        let tx = conn.transaction()?;
        let token = load_token(&tx, &token_ref)?.ok_or_else(|| ApiError::not_found("token"))?;
        let now = pipeline::now_secs();
        let state = match action.as_str() {
            "suspend" => change_state(&tx, &token, TokenState::Suspended, "ISSUER", now)?,
            "resume" => change_state(&tx, &token, TokenState::Active, "ISSUER", now)?,
            "delete" => change_state(&tx, &token, TokenState::Deleted, "ISSUER", now)?,
            "replenish-required" => {
                record_event(
                    &tx,
                    &token.device_id,
                    &token.token_ref,
                    EventKind::ReplenishRequired,
                    "ISSUER",
                    now,
                )?;
                token.state
            }
            _ => return Err(ApiError::not_found("issuer action")),
        };
        tx.commit()?;
        ok(&TokenStatus {
            state,
            ..status_of(&token)
        })
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::internal(e)));
    pipeline::respond(reply)
}

impl TokenRow {
    pub(crate) fn issuer_card(&self) -> super::issuer_host::TokenCard<'_> {
        super::issuer_host::TokenCard {
            token_ref: &self.token_ref,
            scheme: self.scheme,
            cvn: self.cvn,
            token_pan: &self.token_pan,
            expiry: &self.token_expiry,
            psn: self.psn,
        }
    }
}
