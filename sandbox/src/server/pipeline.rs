//! What every device request goes through before its handler runs, and how its answer is kept:
//! body size limit, signature, timestamp window, nonce replay, idempotency, one SQLite
//! transaction, failpoints.
//!
//! The handler's database changes and the stored idempotent response commit together, so a
//! retried request (same `Idempotency-Key`, same body) gets the first answer back and never
//! does the work twice — however the first answer was lost.

use super::App;
use super::error::ApiError;
use super::faults::{Fault, Step};
use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ring::digest;
use rusqlite::{OptionalExtension, Transaction, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use wallet_core::token::api::{self, RegisterDevice, codes};
use wallet_core::token::sign::{self, Canonical};

/// A handler's answer: status and JSON body.
pub type Reply = Result<(StatusCode, Vec<u8>), ApiError>;

pub fn ok<T: Serialize>(value: &T) -> Reply {
    json(StatusCode::OK, value)
}

pub fn json<T: Serialize>(status: StatusCode, value: &T) -> Reply {
    serde_json::to_vec(value)
        .map(|b| (status, b))
        .map_err(ApiError::internal)
}

/// What a handler sees: the verified device, the open transaction and the clock.
pub struct Ctx<'a> {
    pub tx: &'a Transaction<'a>,
    pub device_id: &'a str,
    pub now: u64,
    pub app: &'a App,
}

/// Who signs the request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Signer {
    /// A registered device.
    Device,
    /// The key being registered (proof of possession).
    Registration,
}

pub fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Read the body, refusing more than `api::MAX_REQUEST_BODY` bytes.
pub async fn read_body(req: Request) -> Result<(axum::http::request::Parts, Bytes), ApiError> {
    let (parts, body) = req.into_parts();
    let bytes = axum::body::to_bytes(body, api::MAX_REQUEST_BODY)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::BODY_TOO_LARGE,
                format!("request body over {} bytes", api::MAX_REQUEST_BODY),
            )
        })?;
    Ok((parts, bytes))
}

pub fn respond(reply: Reply) -> Response {
    let (status, body) = match reply {
        Ok(ok) => ok,
        Err(e) => (e.status, e.body()),
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A response whose body fails after the headers: hyper aborts the connection, so the client
/// sees a cut, not an answer.
fn cut_response() -> Response {
    struct Broken;
    impl http_body::Body for Broken {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
            std::task::Poll::Ready(Some(Err(std::io::Error::other(
                "failpoint: connection cut",
            ))))
        }
    }
    Response::new(Body::new(Broken))
}

/// Run a signed device request: `handler(ctx, body)` inside one transaction.
pub async fn signed<T, F>(
    app: Arc<App>,
    step: Step,
    signer: Signer,
    req: Request,
    handler: F,
) -> Response
where
    T: DeserializeOwned + Send + 'static,
    F: FnOnce(&Ctx<'_>, T) -> Reply + Send + 'static,
{
    let fault = app.faults.take(step);
    match fault {
        Some(Fault::UnavailableBefore) => {
            return respond(Err(ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                codes::INTERNAL,
                "temporarily unavailable",
            )));
        }
        Some(Fault::CutBefore) => return cut_response(),
        Some(Fault::StallBefore(d)) => tokio::time::sleep(d).await,
        _ => {}
    }
    let (parts, body) = match read_body(req).await {
        Ok(x) => x,
        Err(e) => return respond(Err(e)),
    };
    let method = parts.method.clone();
    let path = parts.uri.path().to_owned();
    let query = parts.uri.query().map(str::to_owned);
    let app2 = app.clone();
    let reply = tokio::task::spawn_blocking(move || {
        let full_path = match &query {
            Some(q) => format!("{path}?{q}"),
            None => path.clone(),
        };
        process(
            &app2,
            signer,
            &method,
            &full_path,
            &parts.headers,
            &body,
            handler,
        )
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::internal(format!("handler panicked: {e}"))));

    match fault {
        Some(Fault::ErrorAfterCommit) => {
            respond(Err(ApiError::internal("failpoint: error after commit")))
        }
        Some(Fault::CutAfterCommit) => cut_response(),
        Some(Fault::StallAfterCommit(d)) => {
            tokio::time::sleep(d).await;
            respond(reply)
        }
        _ => respond(reply),
    }
}

struct Auth {
    device_id: String,
    timestamp: u64,
    nonce: String,
    signature: String,
    idempotency_key: Option<String>,
}

fn header_str<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn parse_auth(headers: &HeaderMap, method: &Method) -> Result<Auth, ApiError> {
    let missing = |h: &str| {
        ApiError::unauthorized(
            codes::BAD_SIGNATURE,
            format!("missing or malformed {h} header"),
        )
    };
    let device_id = header_str(headers, sign::HEADER_DEVICE)
        .filter(|d| d.len() <= 64 && !d.is_empty())
        .ok_or_else(|| missing(sign::HEADER_DEVICE))?;
    let timestamp = header_str(headers, sign::HEADER_TIMESTAMP)
        .and_then(|t| t.parse::<u64>().ok())
        .ok_or_else(|| missing(sign::HEADER_TIMESTAMP))?;
    let nonce = header_str(headers, sign::HEADER_NONCE)
        .filter(|n| sign::valid_token(n))
        .ok_or_else(|| missing(sign::HEADER_NONCE))?;
    let signature = header_str(headers, sign::HEADER_SIGNATURE)
        .filter(|s| s.len() <= 128)
        .ok_or_else(|| missing(sign::HEADER_SIGNATURE))?;
    let idempotency_key = match header_str(headers, sign::HEADER_IDEMPOTENCY) {
        Some(k) if sign::valid_token(k) => Some(k.to_owned()),
        Some(_) => {
            return Err(ApiError::bad_request(
                codes::IDEMPOTENCY_KEY_REQUIRED,
                "Idempotency-Key must be 16-64 URL-safe characters",
            ));
        }
        None if *method == Method::POST => {
            return Err(ApiError::bad_request(
                codes::IDEMPOTENCY_KEY_REQUIRED,
                "every POST needs an Idempotency-Key header",
            ));
        }
        None => None,
    };
    Ok(Auth {
        device_id: device_id.to_owned(),
        timestamp,
        nonce: nonce.to_owned(),
        signature: signature.to_owned(),
        idempotency_key,
    })
}

/// Parse a JSON body; an empty body reads as `null` (so GET handlers take `()`).
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let body = if body.is_empty() { &b"null"[..] } else { body };
    serde_json::from_slice(body).map_err(|e| {
        // serde's message names the field and position, never echoes the value.
        ApiError::bad_request(codes::MALFORMED_JSON, format!("request body: {e}"))
    })
}

fn process<T, F>(
    app: &App,
    signer: Signer,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    handler: F,
) -> Reply
where
    T: DeserializeOwned,
    F: FnOnce(&Ctx<'_>, T) -> Reply,
{
    let auth = parse_auth(headers, method)?;
    let now = now_secs();
    if auth.timestamp.abs_diff(now) > sign::MAX_SKEW_SECS {
        return Err(ApiError::unauthorized(
            codes::STALE_TIMESTAMP,
            format!(
                "timestamp is more than {} s from server time",
                sign::MAX_SKEW_SECS
            ),
        ));
    }
    let mut conn = app.db();

    let public_key: Vec<u8> = match signer {
        Signer::Device => conn
            .query_row(
                "SELECT signing_key FROM devices WHERE device_id = ?1",
                [&auth.device_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| {
                ApiError::unauthorized(codes::UNKNOWN_DEVICE, "device is not registered")
            })?,
        Signer::Registration => {
            let reg: RegisterDevice = parse_json(body)?;
            if reg.signing_key.thumbprint() != auth.device_id {
                return Err(ApiError::unauthorized(
                    codes::BAD_SIGNATURE,
                    "device id is not the signing key's thumbprint",
                ));
            }
            reg.signing_key.to_sec1().ok_or_else(|| {
                ApiError::bad_request(codes::BAD_REQUEST, "signing_key is not a P-256 JWK")
            })?
        }
    };
    let canonical = Canonical {
        method: method.as_str(),
        path,
        body,
        timestamp: auth.timestamp,
        nonce: &auth.nonce,
        device_id: &auth.device_id,
        idempotency_key: auth.idempotency_key.as_deref().unwrap_or(""),
    }
    .to_bytes();
    if !sign::verify(&public_key, &canonical, &auth.signature) {
        return Err(ApiError::unauthorized(
            codes::BAD_SIGNATURE,
            "signature does not verify",
        ));
    }

    // The nonce is spent even if the request then fails: commit it on its own.
    {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "DELETE FROM nonces WHERE ts < ?1",
            [now.saturating_sub(2 * sign::MAX_SKEW_SECS) as i64],
        )?;
        let fresh = tx.execute(
            "INSERT OR IGNORE INTO nonces (device_id, nonce, ts) VALUES (?1, ?2, ?3)",
            params![auth.device_id, auth.nonce, auth.timestamp as i64],
        )?;
        tx.commit()?;
        if fresh == 0 {
            return Err(ApiError::unauthorized(
                codes::REPLAYED_NONCE,
                "nonce already used",
            ));
        }
    }

    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let request_hash = {
        let mut ctx = digest::Context::new(&digest::SHA256);
        ctx.update(method.as_str().as_bytes());
        ctx.update(b"\n");
        ctx.update(path.as_bytes());
        ctx.update(b"\n");
        ctx.update(body);
        ctx.finish().as_ref().to_vec()
    };
    if let Some(key) = &auth.idempotency_key {
        let stored: Option<(Vec<u8>, u16, Vec<u8>)> = tx
            .query_row(
                "SELECT request_sha256, status, body FROM idempotency WHERE device_id = ?1 AND idem_key = ?2",
                params![auth.device_id, key],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((hash, status, stored_body)) = stored {
            if hash != request_hash {
                return Err(ApiError::unprocessable(
                    codes::IDEMPOTENCY_CONFLICT,
                    "Idempotency-Key already used for a different request",
                ));
            }
            log::info!("{method} {path}: replaying stored response ({status})");
            let status = StatusCode::from_u16(status).map_err(ApiError::internal)?;
            return Ok((status, stored_body));
        }
    }

    let reply = match parse_json::<T>(body) {
        Ok(parsed) => {
            let ctx = Ctx {
                tx: &tx,
                device_id: &auth.device_id,
                now,
                app,
            };
            handler(&ctx, parsed)
        }
        Err(e) => Err(e),
    };
    let (status, out) = match &reply {
        Ok((s, b)) => (*s, b.clone()),
        Err(e) if e.status.is_server_error() => return reply, // dropped tx rolls back
        Err(e) => (e.status, e.body()),
    };
    if let Some(key) = &auth.idempotency_key {
        tx.execute(
            "INSERT INTO idempotency (device_id, idem_key, request_sha256, status, body, created)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                auth.device_id,
                key,
                request_hash,
                status.as_u16(),
                out,
                now as i64
            ],
        )?;
    }
    tx.commit()?;
    log::info!("{method} {path} -> {}", status.as_u16());
    reply
}

/// A JSON 404 for paths the API does not have.
pub async fn not_found() -> impl IntoResponse {
    respond(Err(ApiError::not_found("endpoint")))
}
