//! Authorisation: the terminal's online request (`POST /v1/authorize`) and a wallet's payment of
//! a scanned merchant code (`POST /v1/qr/pay`). The issuer verifies the cryptogram; this module
//! enforces what only a persistent host can: the ATC was issued to this token and not revoked,
//! no ATC and no cryptogram is ever authorised twice, a suspended or deleted token is refused.
//! Every verified cryptogram spends its ATC and is recorded (the wallet's history sync reads it
//! back by card and ATC).

use super::App;
use super::error::ApiError;
use super::pipeline::{self, Ctx, Reply, ok, read_body};
use super::tokens::{TokenRow, load_token, own_token};
use crate::issuer::{AuthRequest, DeclineReason, Verdict};
use axum::extract::Request;
use axum::response::Response;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{OptionalExtension, Transaction, params};
use std::sync::Arc;
use wallet_core::emv::bcd;
use wallet_core::emv::cvn::AcInput;
use wallet_core::ledger::Channel;
use wallet_core::token::api::{AuthorizeRequest, AuthorizeResponse, QrPay, TokenState, codes};

fn fixed<const N: usize>(field: &str, v: &[u8]) -> Result<[u8; N], ApiError> {
    v.try_into().map_err(|_| {
        ApiError::bad_request(codes::BAD_REQUEST, format!("{field} must be {N} bytes"))
    })
}

/// The issuer's request from the wire form, with every length checked.
pub fn to_auth_request(w: &AuthorizeRequest) -> Result<AuthRequest, ApiError> {
    if w.iad.len() > 32 {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "iad must be at most 32 bytes",
        ));
    }
    if !(12..=19).contains(&w.pan.len()) || !w.pan.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "pan must be 12 to 19 digits",
        ));
    }
    Ok(AuthRequest {
        scheme: w.scheme,
        pan: w.pan.clone(),
        psn: w.psn,
        cid: w.cid,
        cryptogram: fixed("cryptogram", &w.cryptogram)?,
        input: AcInput {
            amount: fixed("amount", &w.amount)?,
            amount_other: fixed("amount_other", &w.amount_other)?,
            terminal_country: fixed("terminal_country", &w.terminal_country)?,
            tvr: fixed("tvr", &w.tvr)?,
            currency: fixed("currency", &w.currency)?,
            date: fixed("date", &w.date)?,
            txn_type: w.txn_type,
            un: fixed("un", &w.un)?,
            aip: fixed("aip", &w.aip)?,
            atc: w.atc,
            iad: w.iad.clone(),
        },
    })
}

/// The wire form of an issuer request (what a terminal simulator posts).
pub fn to_wire(a: &AuthRequest) -> AuthorizeRequest {
    AuthorizeRequest {
        scheme: a.scheme,
        pan: a.pan.clone(),
        psn: a.psn,
        cid: a.cid,
        cryptogram: a.cryptogram.to_vec(),
        amount: a.input.amount.to_vec(),
        amount_other: a.input.amount_other.to_vec(),
        terminal_country: a.input.terminal_country.to_vec(),
        tvr: a.input.tvr.to_vec(),
        currency: a.input.currency.to_vec(),
        date: a.input.date.to_vec(),
        txn_type: a.input.txn_type,
        un: a.input.un.to_vec(),
        aip: a.input.aip.to_vec(),
        atc: a.input.atc,
        iad: a.input.iad.clone(),
    }
}

fn answer(approved: bool, rc: &str, reason: &str, auth_code: Option<String>) -> AuthorizeResponse {
    AuthorizeResponse {
        approved,
        response_code: rc.to_owned(),
        reason: reason.to_owned(),
        auth_code,
    }
}

fn auth_code() -> Result<String, ApiError> {
    let mut b = [0u8; 3];
    SystemRandom::new()
        .fill(&mut b)
        .map_err(ApiError::internal)?;
    Ok(hex::encode_upper(b))
}

/// Decide one authorisation inside `tx`, recording it when the cryptogram verified.
fn decide(
    app: &App,
    tx: &Transaction<'_>,
    token: &TokenRow,
    req: &AuthRequest,
    channel: Channel,
    merchant: Option<&str>,
    now: u64,
) -> Result<AuthorizeResponse, ApiError> {
    let atc = req.input.atc;
    if req.scheme != token.scheme || req.psn != token.psn {
        return Ok(answer(
            false,
            "14",
            "card data does not match the token",
            None,
        ));
    }
    let issued: Option<bool> = tx
        .query_row(
            "SELECT voided FROM issued_atcs WHERE token_ref = ?1 AND atc = ?2",
            params![token.token_ref, atc],
            |r| r.get::<_, bool>(0),
        )
        .optional()?;
    match issued {
        None => return Ok(answer(false, "05", "ATC outside the issued keys", None)),
        Some(true) => {
            return Ok(answer(
                false,
                "05",
                "key revoked (token was suspended or deleted)",
                None,
            ));
        }
        Some(false) => {}
    }
    let cryptogram_sha256 = digest::digest(&digest::SHA256, &req.cryptogram)
        .as_ref()
        .to_vec();
    let seen: Option<i64> = tx
        .query_row(
            "SELECT id FROM authorisations WHERE (token_ref = ?1 AND atc = ?2) OR cryptogram_sha256 = ?3",
            params![token.token_ref, atc, cryptogram_sha256],
            |r| r.get(0),
        )
        .optional()?;
    if seen.is_some() {
        log::warn!("token {}: replayed ATC {atc} refused", token.token_ref);
        return Ok(answer(false, "94", "ATC or cryptogram already used", None));
    }
    let verdict = app.issuer.verify(&token.issuer_card(), req)?;
    let (status, rc, reason) = match (verdict, token.state) {
        (Verdict::Declined(DeclineReason::BadCryptogram | DeclineReason::CvnMismatch), _) => {
            // Not a genuine cryptogram: nothing spent, nothing recorded.
            log::warn!("token {}: ATC {atc}: {}", token.token_ref, verdict.as_str());
            return Ok(answer(false, "05", verdict.as_str(), None));
        }
        (Verdict::Declined(DeclineReason::UnknownCard), _) => {
            return Ok(answer(false, "14", verdict.as_str(), None));
        }
        (Verdict::Declined(_), _) => ("declined", "05", verdict.as_str()),
        (Verdict::Approved, TokenState::Active) => ("approved", "00", "approved"),
        (Verdict::Approved, _) => ("declined", "62", "token is suspended or deleted"),
    };
    let code = if status == "approved" {
        Some(auth_code()?)
    } else {
        None
    };
    let amount = bcd::decode_n(&req.input.amount).and_then(|a| i64::try_from(a).ok());
    let currency = bcd::decode_n(&req.input.currency).and_then(|c| u16::try_from(c).ok());
    tx.execute(
        "INSERT INTO authorisations (token_ref, atc, cryptogram_sha256, amount_minor, currency, status,
             response_code, channel, merchant, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![token.token_ref, atc, cryptogram_sha256, amount, currency, status, rc, channel.as_str(), merchant, now as i64],
    )?;
    log::info!(
        "token {}: ATC {atc} {status} ({rc}) via {}",
        token.token_ref,
        channel.as_str()
    );
    Ok(answer(status == "approved", rc, reason, code))
}

/// `POST /v1/authorize`: unsigned (it stands for the acquirer network, not a device).
pub async fn authorize(app: Arc<App>, req: Request) -> Response {
    let reply = async {
        let (_, body) = read_body(req).await?;
        let wire: AuthorizeRequest = pipeline::parse_json(&body)?;
        let auth = to_auth_request(&wire)?;
        tokio::task::spawn_blocking(move || -> Reply {
            let mut conn = app.db();
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let token_ref: Option<String> = tx
                .query_row(
                    "SELECT token_ref FROM tokens WHERE token_pan = ?1",
                    [&auth.pan],
                    |r| r.get(0),
                )
                .optional()?;
            let token = match token_ref {
                Some(t) => load_token(&tx, &t)?,
                None => None,
            };
            let result = match token {
                None => answer(false, "14", "no such card", None),
                Some(token) => decide(
                    &app,
                    &tx,
                    &token,
                    &auth,
                    Channel::Nfc,
                    None,
                    pipeline::now_secs(),
                )?,
            };
            tx.commit()?;
            ok(&result)
        })
        .await
        .unwrap_or_else(|e| Err(ApiError::internal(e)))
    }
    .await;
    pipeline::respond(reply)
}

/// `POST /v1/qr/pay` (device-signed): the device pays a scanned code with one of its tokens.
pub fn qr_pay(cx: &Ctx<'_>, pay: QrPay) -> Reply {
    let token = own_token(cx, &pay.token_ref)?;
    let auth = to_auth_request(&pay.payment)?;
    if auth.pan != token.token_pan {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "payment is not for this token",
        ));
    }
    if pay.merchant_payload.is_empty() || pay.merchant_payload.len() > 512 {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "merchant_payload must be 1 to 512 characters",
        ));
    }
    let merchant = pay
        .merchant_name
        .as_deref()
        .map(|m| m.chars().take(64).collect::<String>());
    ok(&decide(
        cx.app,
        cx.tx,
        &token,
        &auth,
        Channel::QrScanned,
        merchant.as_deref(),
        cx.now,
    )?)
}

/// Send a terminal's authorisation request to a token service (what `wallet tap` does when
/// the card came from one).
pub fn authorize_remote(
    client: &wallet_core::token::client::TokenClient,
    auth: &AuthRequest,
) -> Result<AuthorizeResponse, wallet_core::token::client::ClientError> {
    let body = serde_json::to_vec(&to_wire(auth))
        .map_err(|e| wallet_core::token::client::ClientError::BadResponse(e.to_string()))?;
    client.post_unsigned(wallet_core::token::api::AUTHORIZE, &body)
}
