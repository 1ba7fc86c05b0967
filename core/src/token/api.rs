//! The wallet–token-service API, version 1: paths and JSON bodies, shared by the wallet's client
//! and the sandbox server so the two cannot drift.
//!
//! Every request under `/v1` except `GET /v1/keys` and `POST /v1/authorize` is signed by the
//! device (see [`super::sign`]); every mutating one carries an `Idempotency-Key` whose response
//! the server keeps and replays.

use super::jwe::EcJwk;
use crate::card::Scheme;
use serde::{Deserialize, Serialize};

pub const KEYS: &str = "/v1/keys";
pub const DEVICES: &str = "/v1/devices";
pub const PROVISIONINGS: &str = "/v1/provisionings";
pub const EVENTS: &str = "/v1/events";
pub const AUTHORIZE: &str = "/v1/authorize";
pub const QR_PAY: &str = "/v1/qr/pay";

/// Largest request body the server accepts and largest response the wallet reads.
pub const MAX_REQUEST_BODY: usize = 64 * 1024;
pub const MAX_RESPONSE_BODY: usize = 1024 * 1024;
/// Most single-use keys one credentials or replenish response carries.
pub const MAX_KEYS_PER_BATCH: u16 = 200;

pub fn provisioning(id: &str) -> String {
    format!("{PROVISIONINGS}/{id}")
}
pub fn provisioning_step(id: &str, step: &str) -> String {
    format!("{PROVISIONINGS}/{id}/{step}")
}
pub fn token(token_ref: &str) -> String {
    format!("/v1/tokens/{token_ref}")
}
pub fn token_step(token_ref: &str, step: &str) -> String {
    format!("/v1/tokens/{token_ref}/{step}")
}
pub fn transaction(token_ref: &str, atc: u16) -> String {
    format!("/v1/tokens/{token_ref}/transactions/{atc}")
}

/// Error body of every non-2xx response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorInfo,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorInfo {
    /// Machine-readable, one of [`codes`].
    pub code: String,
    /// For people; never contains card data.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempts_left: Option<u8>,
}

/// Error codes the server uses.
pub mod codes {
    pub const MALFORMED_JSON: &str = "malformed_json";
    pub const BAD_REQUEST: &str = "bad_request";
    pub const BODY_TOO_LARGE: &str = "body_too_large";
    pub const BAD_SIGNATURE: &str = "bad_signature";
    pub const STALE_TIMESTAMP: &str = "stale_timestamp";
    pub const REPLAYED_NONCE: &str = "replayed_nonce";
    pub const UNKNOWN_DEVICE: &str = "unknown_device";
    pub const IDEMPOTENCY_KEY_REQUIRED: &str = "idempotency_key_required";
    pub const IDEMPOTENCY_CONFLICT: &str = "idempotency_conflict";
    pub const JWE_INVALID: &str = "jwe_invalid";
    pub const JWE_UNKNOWN_KID: &str = "jwe_unknown_kid";
    pub const INVALID_PAN: &str = "invalid_pan";
    pub const INVALID_EXPIRY: &str = "invalid_expiry";
    pub const CARD_EXPIRED: &str = "card_expired";
    pub const CARD_INELIGIBLE: &str = "card_ineligible";
    pub const NOT_FOUND: &str = "not_found";
    pub const WRONG_STATE: &str = "wrong_state";
    pub const TERMS_MISMATCH: &str = "terms_mismatch";
    pub const UNKNOWN_IDV_METHOD: &str = "unknown_idv_method";
    pub const OTP_INCORRECT: &str = "otp_incorrect";
    pub const OTP_EXPIRED: &str = "otp_expired";
    pub const OTP_ATTEMPTS_EXCEEDED: &str = "otp_attempts_exceeded";
    pub const TOKEN_INACTIVE: &str = "token_inactive";
    pub const LOG_MISMATCH: &str = "log_mismatch";
    pub const INTERNAL: &str = "internal";
}

/// `GET /v1/keys`: the server's encryption keys (a JWK set).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Jwks {
    pub keys: Vec<EcJwk>,
}

/// `POST /v1/devices`, signed by the signing key it registers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterDevice {
    pub signing_key: EcJwk,
    pub agreement_key: EcJwk,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceRegistered {
    pub device_id: String,
}

/// The card data inside the eligibility JWE. Built into a zeroizing buffer, never kept.
#[derive(Serialize, Deserialize)]
pub struct CardData {
    pub pan: Secret,
    /// `MM/YY`.
    pub expiry: Secret,
    pub name: Secret,
}

/// `POST /v1/provisionings`: the wallet chooses `provisioning_id` (random, 32 hex digits) before
/// sending, so a lost response can be resolved by `GET /v1/provisionings/{id}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckEligibility {
    pub provisioning_id: String,
    /// Compact JWE (ECDH-ES + A256GCM) of [`CardData`] to a key from `GET /v1/keys`.
    pub card: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Terms {
    pub id: String,
    pub url: String,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Eligible {
    pub provisioning_id: String,
    pub scheme: Scheme,
    /// Last four digits of the funding PAN, for display.
    pub pan_suffix: String,
    pub terms: Terms,
}

/// `POST /v1/provisionings/{id}/terms`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AcceptTerms {
    pub terms_id: String,
}

/// Where a provisioning stands on the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ServerState {
    Eligible,
    TermsAccepted,
    IdvRequired,
    IdvPending,
    Approved,
    Declined,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Decision {
    Approved,
    RequireIdv,
    Declined,
}

/// How the cardholder can prove it is them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdvMethod {
    pub id: String,
    /// `OTP_SMS`, `OTP_EMAIL`.
    pub kind: String,
    /// Where the code goes, masked (`+86 *** **** 1234`).
    pub target: String,
}

/// `POST /v1/provisionings/{id}/tokenize` and `.../otp` answer with this.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenizeResult {
    pub decision: Decision,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idv_methods: Vec<IdvMethod>,
}

/// `POST /v1/provisionings/{id}/idv`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SelectIdv {
    pub method_id: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdvSelected {
    pub method_id: String,
    pub otp_expires_in_secs: u64,
}

/// `POST /v1/provisionings/{id}/otp`.
#[derive(Serialize, Deserialize)]
pub struct SubmitOtp {
    pub otp: Secret,
}

/// `GET /v1/provisionings/{id}`: resolves an unknown outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvisioningStatus {
    pub provisioning_id: String,
    pub state: ServerState,
    pub scheme: Scheme,
    pub pan_suffix: String,
    pub terms: Terms,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub idv_methods: Vec<IdvMethod>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub otp_attempts_left: Option<u8>,
}

/// `POST /v1/tokens/{ref}/credentials` and `.../replenish` answer with a JWE to the device's
/// agreement key whose plaintext is [`CredentialPayload`] or [`KeyBatch`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub token_ref: String,
    pub jwe: String,
}

/// Secret text in a request or a JWE plaintext (card data, OTP, key hex): wiped on drop, no
/// `Debug`.
#[derive(Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(pub String);

impl Drop for Secret {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

/// One single-use key on the wire (inside a JWE only).
#[derive(Serialize, Deserialize)]
pub struct WireKey {
    pub atc: u16,
    /// 32 hex digits.
    pub key: Secret,
}

/// What the credentials JWE holds.
#[derive(Serialize, Deserialize)]
pub struct CredentialPayload {
    pub token_ref: String,
    pub profile: crate::card::CardProfile,
    pub keys: Vec<WireKey>,
    /// HMAC-SHA256 key (64 hex digits) for the replenishment log.
    pub log_mac_key: Secret,
}

/// What a replenish JWE holds.
#[derive(Serialize, Deserialize)]
pub struct KeyBatch {
    pub token_ref: String,
    pub keys: Vec<WireKey>,
}

/// `POST /v1/tokens/{ref}/credentials` body: how many keys to start with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchCredentials {
    pub count: u16,
}

/// `POST /v1/tokens/{ref}/replenish`: the ATCs the device has spent since it was personalised
/// (or last replenished), MACed with the token's log key, and how many keys it wants.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replenish {
    pub used_atcs: Vec<u16>,
    pub count: u16,
    /// HMAC-SHA256 over [`log_mac_input`], hex.
    pub mac: String,
}

/// Serialize secret-bearing JSON into a zeroizing buffer sized up front, so no reallocation
/// leaves a stale copy behind.
pub fn to_secret_json<T: Serialize>(
    value: &T,
    capacity: usize,
) -> Result<zeroize::Zeroizing<Vec<u8>>, serde_json::Error> {
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(capacity));
    serde_json::to_writer(&mut *buf, value)?;
    Ok(buf)
}

/// What the replenishment log MAC covers: a label, the token, then each used ATC (big-endian),
/// in the order sent.
pub fn log_mac_input(token_ref: &str, used_atcs: &[u16]) -> Vec<u8> {
    let mut m = Vec::with_capacity(16 + token_ref.len() + 2 * used_atcs.len());
    m.extend_from_slice(b"WC1-ATC-LOG\n");
    m.extend_from_slice(token_ref.as_bytes());
    m.push(b'\n');
    for atc in used_atcs {
        m.extend_from_slice(&atc.to_be_bytes());
    }
    m
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TokenState {
    Active,
    Suspended,
    Deleted,
}

/// `POST /v1/tokens/{ref}/suspend|resume|delete`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Lifecycle {
    /// `LOST`, `STOLEN`, `FRAUD`, `CUSTOMER_REQUEST`, `OTHER`.
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenStatus {
    pub token_ref: String,
    pub state: TokenState,
    /// ATCs issued to the device so far, the highest.
    pub last_issued_atc: u16,
}

/// `GET /v1/events?after=SEQ`: lifecycle changes the wallet did not itself ask for (the issuer
/// suspended a card, a token was deleted from another channel), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    pub seq: u64,
    pub token_ref: String,
    pub kind: EventKind,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EventKind {
    Suspended,
    Resumed,
    Deleted,
    /// The server wants the device to replenish (e.g. keys revoked).
    ReplenishRequired,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Events {
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TxnStatus {
    Approved,
    Declined,
    Reversed,
    /// The server has no authorisation for this ATC.
    Unknown,
}

/// `GET /v1/tokens/{ref}/transactions/{atc}`: what became of one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnRecord {
    pub token_ref: String,
    pub atc: u16,
    pub status: TxnStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_code: Option<String>,
}

/// `POST /v1/authorize`: what a terminal's acquirer sends for an online authorisation (the
/// card's answers and the terminal data its cryptogram covers), and the payment inside a
/// [`QrPay`]. Byte fields are hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub scheme: Scheme,
    /// The token PAN the card presented.
    pub pan: String,
    pub psn: u8,
    /// Cryptogram information data (9F27).
    pub cid: u8,
    /// Application cryptogram (9F26), 8 bytes.
    #[serde(with = "hex::serde")]
    pub cryptogram: Vec<u8>,
    /// 9F02, 6 bytes BCD.
    #[serde(with = "hex::serde")]
    pub amount: Vec<u8>,
    /// 9F03, 6 bytes BCD.
    #[serde(with = "hex::serde")]
    pub amount_other: Vec<u8>,
    /// 9F1A, 2 bytes.
    #[serde(with = "hex::serde")]
    pub terminal_country: Vec<u8>,
    /// 95, 5 bytes.
    #[serde(with = "hex::serde")]
    pub tvr: Vec<u8>,
    /// 5F2A, 2 bytes.
    #[serde(with = "hex::serde")]
    pub currency: Vec<u8>,
    /// 9A, YYMMDD, 3 bytes.
    #[serde(with = "hex::serde")]
    pub date: Vec<u8>,
    /// 9C.
    pub txn_type: u8,
    /// 9F37, 4 bytes.
    #[serde(with = "hex::serde")]
    pub un: Vec<u8>,
    /// 82, 2 bytes.
    #[serde(with = "hex::serde")]
    pub aip: Vec<u8>,
    /// 9F36.
    pub atc: u16,
    /// 9F10, up to 32 bytes.
    #[serde(with = "hex::serde")]
    pub iad: Vec<u8>,
}

/// The issuer's answer to an authorisation. `response_code` is the ISO 8583 field 39 value:
/// 00 approved, 05 do not honour, 14 invalid card, 62 restricted card, 94 duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizeResponse {
    pub approved: bool,
    pub response_code: String,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
}

/// `POST /v1/qr/pay` (device-signed): pay a scanned merchant-presented code with a token and a
/// cryptogram from the card's single-use keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrPay {
    pub token_ref: String,
    /// The EMVCo MPM payload as scanned.
    pub merchant_payload: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merchant_name: Option<String>,
    pub payment: AuthorizeRequest,
}
