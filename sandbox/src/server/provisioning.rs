//! Provisioning endpoints: device registration, eligibility (card data as JWE), terms,
//! tokenize, ID&V method, OTP, and the status query that resolves an unknown outcome.
//!
//! Every handler is written to be safe to repeat: a step that already happened answers with
//! the state it left, so even a retry under a fresh idempotency key cannot make a second token.

use super::error::ApiError;
use super::pipeline::{Ctx, Reply, ok};
use crate::catalogue::{self, Behaviour};
use crate::vault;
use ring::digest;
use ring::rand::{SecureRandom, SystemRandom};
use rusqlite::{OptionalExtension, params};
use std::path::Path;
use wallet_core::card::Scheme;
use wallet_core::emv::crypto::ct_eq;
use wallet_core::token::api::{
    AcceptTerms, CardData, CheckEligibility, Decision, DeviceRegistered, Eligible, IdvMethod,
    IdvSelected, ProvisioningStatus, RegisterDevice, SelectIdv, ServerState, SubmitOtp, Terms,
    TokenizeResult, codes,
};
use wallet_core::token::jwe::{self, JweError};
use wallet_core::token::pan::{PanError, scheme_of};
use zeroize::Zeroizing;

pub const OTP_TTL_SECS: u64 = 300;
pub const OTP_ATTEMPTS: u8 = 3;
/// Where the sandbox "sends" OTPs: one file per provisioning, in the server directory.
pub const OTP_OUTBOX: &str = "otp-outbox";

pub fn register(cx: &Ctx<'_>, req: RegisterDevice) -> Reply {
    let signing = req.signing_key.to_sec1().ok_or_else(|| {
        ApiError::bad_request(codes::BAD_REQUEST, "signing_key is not a P-256 JWK")
    })?;
    if req.agreement_key.to_sec1().is_none() || req.agreement_key.kid.is_none() {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "agreement_key must be a P-256 JWK with a kid",
        ));
    }
    let agreement = serde_json::to_string(&req.agreement_key).map_err(ApiError::internal)?;
    let existing: Option<String> = cx
        .tx
        .query_row(
            "SELECT agreement_jwk FROM devices WHERE device_id = ?1",
            [cx.device_id],
            |r| r.get(0),
        )
        .optional()?;
    match existing {
        Some(a) if a == agreement => {}
        Some(_) => {
            return Err(ApiError::conflict(
                codes::WRONG_STATE,
                "device already registered with another agreement key",
            ));
        }
        None => {
            cx.tx.execute(
                "INSERT INTO devices (device_id, signing_key, agreement_jwk, created) VALUES (?1, ?2, ?3, ?4)",
                params![cx.device_id, signing, agreement, cx.now as i64],
            )?;
            log::info!("registered device {}", cx.device_id);
        }
    }
    ok(&DeviceRegistered {
        device_id: cx.device_id.to_owned(),
    })
}

fn terms_for(scheme: Scheme) -> Terms {
    let id = format!("terms-{}-2026-01", scheme.name());
    Terms {
        url: format!("/sandbox/terms/{id}"),
        text: format!(
            "Sandbox terms for {} cards: this token is for testing only; no real payment is made.",
            scheme.name()
        ),
        id,
    }
}

fn valid_provisioning_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// Expiry `MM/YY` → (year, month), or None.
fn parse_expiry(s: &str) -> Option<(i32, u8)> {
    let (mm, yy) = s.split_once('/')?;
    if mm.len() != 2 || yy.len() != 2 {
        return None;
    }
    let month: u8 = mm.parse().ok()?;
    let year: i32 = yy.parse().ok()?;
    (1..=12).contains(&month).then_some((2000 + year, month))
}

/// A card is valid through the last day of its expiry month.
fn expired(year: i32, month: u8) -> bool {
    let today = time::OffsetDateTime::now_utc().date();
    (today.year(), u8::from(today.month())) > (year, month)
}

fn jwe_error(e: JweError) -> ApiError {
    match e {
        JweError::Kid => ApiError::bad_request(
            codes::JWE_UNKNOWN_KID,
            "card JWE is not encrypted to a current key",
        ),
        other => ApiError::bad_request(codes::JWE_INVALID, format!("card JWE refused: {other}")),
    }
}

pub fn eligibility(cx: &Ctx<'_>, req: CheckEligibility) -> Reply {
    if !valid_provisioning_id(&req.provisioning_id) {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "provisioning_id must be 32 lowercase hex digits",
        ));
    }
    let taken: Option<String> = cx
        .tx
        .query_row(
            "SELECT device_id FROM provisionings WHERE id = ?1",
            [&req.provisioning_id],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(ApiError::conflict(
            codes::WRONG_STATE,
            "provisioning id already used",
        ));
    }
    let plain = jwe::decrypt(&cx.app.jwe_key, &cx.app.kid, &req.card).map_err(jwe_error)?;
    let card: CardData = serde_json::from_slice(&plain).map_err(|_| {
        ApiError::bad_request(
            codes::MALFORMED_JSON,
            "card JWE plaintext is not card data JSON",
        )
    })?;
    let pan = wallet_core::token::pan::Pan::parse(card.pan.0.as_bytes())
        .map_err(|e| ApiError::unprocessable(codes::INVALID_PAN, e.to_string()))?;
    let (year, month) = parse_expiry(&card.expiry.0)
        .ok_or_else(|| ApiError::unprocessable(codes::INVALID_EXPIRY, "expiry must be MM/YY"))?;
    if expired(year, month) {
        return Err(ApiError::unprocessable(
            codes::CARD_EXPIRED,
            "the card has expired",
        ));
    }
    let scheme = scheme_of(pan.digits()).ok_or_else(|| {
        ApiError::unprocessable(codes::CARD_INELIGIBLE, PanError::UnknownScheme.to_string())
    })?;
    let test_card = catalogue::find(pan.digits()).ok_or_else(|| {
        ApiError::unprocessable(codes::CARD_INELIGIBLE, "not a sandbox test card")
    })?;
    if test_card.expiry != card.expiry.0 {
        return Err(ApiError::unprocessable(
            codes::CARD_INELIGIBLE,
            "card details do not match",
        ));
    }
    if test_card.behaviour == Behaviour::Ineligible {
        return Err(ApiError::unprocessable(
            codes::CARD_INELIGIBLE,
            "the issuer does not offer this card for the wallet",
        ));
    }
    let terms = terms_for(scheme);
    cx.tx.execute(
        "INSERT INTO provisionings (id, device_id, pan, scheme, behaviour, state, terms_id,
             otp_attempts_left, created, updated)
         VALUES (?1, ?2, ?3, ?4, ?5, 'ELIGIBLE', ?6, ?7, ?8, ?8)",
        params![
            req.provisioning_id,
            cx.device_id,
            pan.digits(),
            scheme.name(),
            behaviour_name(test_card.behaviour),
            terms.id,
            OTP_ATTEMPTS,
            cx.now as i64
        ],
    )?;
    log::info!(
        "provisioning {} eligible ({})",
        req.provisioning_id,
        scheme.name()
    );
    ok(&Eligible {
        provisioning_id: req.provisioning_id,
        scheme,
        pan_suffix: pan.suffix(),
        terms,
    })
}

fn behaviour_name(b: Behaviour) -> &'static str {
    match b {
        Behaviour::Approve => "approve",
        Behaviour::Otp => "otp",
        Behaviour::Decline => "decline",
        Behaviour::Ineligible => "ineligible",
    }
}

/// One provisioning row, as the handlers need it.
struct Row {
    state: ServerState,
    scheme: Scheme,
    pan: Zeroizing<String>,
    behaviour: String,
    terms_id: String,
    token_ref: Option<String>,
    idv_method: Option<String>,
    otp_sha256: Option<Vec<u8>>,
    otp_expires: Option<i64>,
    attempts_left: u8,
}

fn parse_state(s: &str) -> Option<ServerState> {
    serde_json::from_value(serde_json::Value::String(s.to_owned())).ok()
}

fn state_name(s: ServerState) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn load(cx: &Ctx<'_>, id: &str) -> Result<Row, ApiError> {
    let row = cx
        .tx
        .query_row(
            "SELECT state, scheme, pan, behaviour, terms_id, token_ref, idv_method, otp_sha256, otp_expires,
                    otp_attempts_left
             FROM provisionings WHERE id = ?1 AND device_id = ?2",
            params![id, cx.device_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    Zeroizing::new(r.get::<_, String>(2)?),
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                    r.get::<_, Option<String>>(5)?,
                    r.get::<_, Option<String>>(6)?,
                    r.get::<_, Option<Vec<u8>>>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                    r.get::<_, u8>(9)?,
                ))
            },
        )
        .optional()?
        .ok_or_else(|| ApiError::not_found("provisioning"))?;
    let (
        state,
        scheme,
        pan,
        behaviour,
        terms_id,
        token_ref,
        idv_method,
        otp_sha256,
        otp_expires,
        attempts_left,
    ) = row;
    Ok(Row {
        state: parse_state(&state).ok_or_else(|| ApiError::internal("bad state in db"))?,
        scheme: scheme.parse().map_err(ApiError::internal)?,
        pan,
        behaviour,
        terms_id,
        token_ref,
        idv_method,
        otp_sha256,
        otp_expires,
        attempts_left,
    })
}

fn set_state(cx: &Ctx<'_>, id: &str, state: ServerState) -> Result<(), ApiError> {
    cx.tx.execute(
        "UPDATE provisionings SET state = ?1, updated = ?2 WHERE id = ?3",
        params![state_name(state), cx.now as i64, id],
    )?;
    Ok(())
}

fn idv_methods(scheme: Scheme) -> Vec<IdvMethod> {
    let phone = match scheme {
        Scheme::UnionPay => "+86 *** **** 0138",
        Scheme::Visa | Scheme::Mastercard => "+44 **** **0138",
    };
    vec![
        IdvMethod {
            id: "sms-1".into(),
            kind: "OTP_SMS".into(),
            target: phone.into(),
        },
        IdvMethod {
            id: "email-1".into(),
            kind: "OTP_EMAIL".into(),
            target: "c*******r@example.com".into(),
        },
    ]
}

fn status_of(id: &str, row: &Row) -> ProvisioningStatus {
    let idv = matches!(
        row.state,
        ServerState::IdvRequired | ServerState::IdvPending
    );
    ProvisioningStatus {
        provisioning_id: id.to_owned(),
        state: row.state,
        scheme: row.scheme,
        pan_suffix: row
            .pan
            .get(row.pan.len().saturating_sub(4)..)
            .unwrap_or_default()
            .to_owned(),
        terms: Terms {
            id: row.terms_id.clone(),
            ..terms_for(row.scheme)
        },
        token_ref: row.token_ref.clone(),
        idv_methods: if idv {
            idv_methods(row.scheme)
        } else {
            Vec::new()
        },
        otp_attempts_left: (row.state == ServerState::IdvPending).then_some(row.attempts_left),
    }
}

pub fn status(cx: &Ctx<'_>, id: &str) -> Reply {
    let row = load(cx, id)?;
    ok(&status_of(id, &row))
}

pub fn accept_terms(cx: &Ctx<'_>, id: &str, req: AcceptTerms) -> Reply {
    let mut row = load(cx, id)?;
    if req.terms_id != row.terms_id {
        return Err(ApiError::unprocessable(
            codes::TERMS_MISMATCH,
            "terms_id is not the terms this card was offered",
        ));
    }
    match row.state {
        ServerState::Eligible => {
            set_state(cx, id, ServerState::TermsAccepted)?;
            row.state = ServerState::TermsAccepted;
        }
        ServerState::Declined => {
            return Err(ApiError::conflict(
                codes::WRONG_STATE,
                "provisioning was declined",
            ));
        }
        // Accepted already (a retry): report where it stands.
        _ => {}
    }
    ok(&status_of(id, &row))
}

fn decision_of(row: &Row) -> Option<TokenizeResult> {
    match row.state {
        ServerState::Approved => Some(TokenizeResult {
            decision: Decision::Approved,
            token_ref: row.token_ref.clone(),
            idv_methods: Vec::new(),
        }),
        ServerState::IdvRequired | ServerState::IdvPending => Some(TokenizeResult {
            decision: Decision::RequireIdv,
            token_ref: None,
            idv_methods: idv_methods(row.scheme),
        }),
        ServerState::Declined => Some(TokenizeResult {
            decision: Decision::Declined,
            token_ref: None,
            idv_methods: Vec::new(),
        }),
        ServerState::Eligible | ServerState::TermsAccepted => None,
    }
}

pub fn tokenize(cx: &Ctx<'_>, id: &str, _: serde_json::Value) -> Reply {
    let row = load(cx, id)?;
    if let Some(done) = decision_of(&row) {
        return ok(&done);
    }
    if row.state != ServerState::TermsAccepted {
        return Err(ApiError::conflict(
            codes::WRONG_STATE,
            "accept the terms first",
        ));
    }
    let result = match row.behaviour.as_str() {
        "approve" => {
            let token_ref = create_token(cx, id, row.scheme, &row.pan)?;
            TokenizeResult {
                decision: Decision::Approved,
                token_ref: Some(token_ref),
                idv_methods: Vec::new(),
            }
        }
        "otp" => {
            set_state(cx, id, ServerState::IdvRequired)?;
            TokenizeResult {
                decision: Decision::RequireIdv,
                token_ref: None,
                idv_methods: idv_methods(row.scheme),
            }
        }
        _ => {
            set_state(cx, id, ServerState::Declined)?;
            TokenizeResult {
                decision: Decision::Declined,
                token_ref: None,
                idv_methods: Vec::new(),
            }
        }
    };
    log::info!("provisioning {id}: tokenize -> {:?}", result.decision);
    ok(&result)
}

/// Make the token: vault entry, token row (no keys yet), provisioning APPROVED.
fn create_token(cx: &Ctx<'_>, id: &str, scheme: Scheme, pan: &str) -> Result<String, ApiError> {
    let rng = SystemRandom::new();
    let mut r = [0u8; 16];
    rng.fill(&mut r).map_err(ApiError::internal)?;
    let token_ref = format!("tok_{}", hex::encode(r));
    let token_pan = vault::tokenize(cx.tx, &token_ref, scheme, pan).map_err(ApiError::internal)?;
    let mut mac_key = Zeroizing::new([0u8; 32]);
    rng.fill(&mut mac_key[..]).map_err(ApiError::internal)?;
    let expiry = {
        let d = time::OffsetDateTime::now_utc().date();
        format!("{:02}{:02}", (d.year() + 3) % 100, u8::from(d.month()))
    };
    let cvn = serde_json::to_value(super::issuer_host::IssuerHost::default_cvn(scheme))
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .ok_or_else(|| ApiError::internal("cvn name"))?;
    cx.tx.execute(
        "INSERT INTO tokens (token_ref, provisioning_id, device_id, scheme, cvn, token_pan, token_expiry, psn, state,
             log_mac_key, last_issued_atc, created)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, 'ACTIVE', ?8, 0, ?9)",
        params![token_ref, id, cx.device_id, scheme.name(), cvn, token_pan, expiry, &mac_key[..], cx.now as i64],
    )?;
    cx.tx.execute(
        "UPDATE provisionings SET state = 'APPROVED', token_ref = ?1, otp_sha256 = NULL, updated = ?2 WHERE id = ?3",
        params![token_ref, cx.now as i64, id],
    )?;
    log::info!("provisioning {id}: token {token_ref} created");
    Ok(token_ref)
}

fn otp_hash(id: &str, otp: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(b"WC1-OTP\n");
    ctx.update(id.as_bytes());
    ctx.update(b"\n");
    ctx.update(otp.as_bytes());
    ctx.finish().as_ref().to_vec()
}

fn new_otp() -> Result<Zeroizing<String>, ApiError> {
    let rng = SystemRandom::new();
    loop {
        let mut b = [0u8; 4];
        rng.fill(&mut b).map_err(ApiError::internal)?;
        let n = u32::from_be_bytes(b);
        // Reject the top sliver so all 10^6 codes are equally likely.
        if n < u32::MAX - (u32::MAX % 1_000_000) {
            return Ok(Zeroizing::new(format!("{:06}", n % 1_000_000)));
        }
    }
}

/// Deliver an OTP to the sandbox outbox (the stand-in for SMS/email): a file only tests, the
/// CLI's `--otp-from-sandbox` and `GET /sandbox/otp/{id}` read.
fn deliver(dir: &Path, id: &str, method: &IdvMethod, otp: &str) -> Result<(), ApiError> {
    let outbox = dir.join(OTP_OUTBOX);
    std::fs::create_dir_all(&outbox).map_err(ApiError::internal)?;
    let body = serde_json::json!({"provisioning_id": id, "method": method.kind, "target": method.target, "otp": otp});
    let tmp = outbox.join(format!("{id}.json.tmp"));
    std::fs::write(&tmp, body.to_string()).map_err(ApiError::internal)?;
    std::fs::rename(&tmp, outbox.join(format!("{id}.json"))).map_err(ApiError::internal)
}

pub fn select_idv(cx: &Ctx<'_>, id: &str, req: SelectIdv) -> Reply {
    let row = load(cx, id)?;
    match row.state {
        ServerState::IdvRequired | ServerState::IdvPending => {}
        _ => {
            return Err(ApiError::conflict(
                codes::WRONG_STATE,
                "no identity verification pending",
            ));
        }
    }
    if row.attempts_left == 0 {
        return Err(ApiError::conflict(
            codes::OTP_ATTEMPTS_EXCEEDED,
            "no OTP attempts left",
        ));
    }
    let method = idv_methods(row.scheme)
        .into_iter()
        .find(|m| m.id == req.method_id)
        .ok_or_else(|| ApiError::unprocessable(codes::UNKNOWN_IDV_METHOD, "no such ID&V method"))?;
    let otp = new_otp()?;
    cx.tx.execute(
        "UPDATE provisionings SET state = 'IDV_PENDING', idv_method = ?1, otp_sha256 = ?2, otp_expires = ?3,
             updated = ?4 WHERE id = ?5",
        params![method.id, otp_hash(id, &otp), (cx.now + OTP_TTL_SECS) as i64, cx.now as i64, id],
    )?;
    deliver(&cx.app.dir, id, &method, &otp)?;
    log::info!("provisioning {id}: OTP sent via {}", method.kind);
    ok(&IdvSelected {
        method_id: method.id,
        otp_expires_in_secs: OTP_TTL_SECS,
    })
}

pub fn submit_otp(cx: &Ctx<'_>, id: &str, req: SubmitOtp) -> Reply {
    let otp = &req.otp.0;
    let row = load(cx, id)?;
    if row.state == ServerState::Approved {
        // A second submit after success (new idempotency key): same answer, no second token.
        return decision_of(&row)
            .map(|d| ok(&d))
            .unwrap_or_else(|| Err(ApiError::internal("no decision")));
    }
    if row.state == ServerState::Declined {
        return Err(ApiError::conflict(
            codes::OTP_ATTEMPTS_EXCEEDED,
            "provisioning was declined",
        ));
    }
    if row.state != ServerState::IdvPending || row.idv_method.is_none() {
        return Err(ApiError::conflict(
            codes::WRONG_STATE,
            "select an ID&V method first",
        ));
    }
    if otp.len() != 6 || !otp.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(
            codes::BAD_REQUEST,
            "OTP must be 6 digits",
        ));
    }
    if row.otp_expires.is_none_or(|e| (cx.now as i64) > e) {
        return Err(ApiError::unprocessable(
            codes::OTP_EXPIRED,
            "OTP expired; select a method again",
        ));
    }
    let expected = row.otp_sha256.as_deref().unwrap_or_default();
    if ct_eq(&otp_hash(id, otp), expected) {
        let token_ref = create_token(cx, id, row.scheme, &row.pan)?;
        log::info!("provisioning {id}: OTP verified");
        return ok(&TokenizeResult {
            decision: Decision::Approved,
            token_ref: Some(token_ref),
            idv_methods: Vec::new(),
        });
    }
    let left = row.attempts_left.saturating_sub(1);
    cx.tx.execute(
        "UPDATE provisionings SET otp_attempts_left = ?1, updated = ?2 WHERE id = ?3",
        params![left, cx.now as i64, id],
    )?;
    if left == 0 {
        set_state(cx, id, ServerState::Declined)?;
        log::info!("provisioning {id}: OTP attempts exhausted, declined");
        let mut e = ApiError::unprocessable(
            codes::OTP_ATTEMPTS_EXCEEDED,
            "too many wrong OTPs; provisioning declined",
        );
        e.attempts_left = Some(0);
        return Err(e);
    }
    let mut e = ApiError::unprocessable(codes::OTP_INCORRECT, "wrong OTP");
    e.attempts_left = Some(left);
    Err(e)
}

/// `GET /sandbox/otp/{id}`: the last OTP sent for a provisioning (sandbox only).
pub fn read_outbox(dir: &Path, id: &str) -> Result<serde_json::Value, ApiError> {
    if !valid_provisioning_id(id) {
        return Err(ApiError::not_found("provisioning"));
    }
    let text = std::fs::read_to_string(dir.join(OTP_OUTBOX).join(format!("{id}.json")))
        .map_err(|_| ApiError::not_found("OTP for this provisioning"))?;
    serde_json::from_str(&text).map_err(ApiError::internal)
}
