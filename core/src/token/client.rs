//! The blocking HTTPS client for the token service.
//!
//! TLS is rustls on the ring provider, and the only trust anchor is the CA from the wallet's
//! configuration — not the platform store — so a compromised or user-installed CA cannot
//! intercept provisioning (MASVS NETWORK-2). No proxies, no redirects, bounded timeouts and a
//! bounded response size.
//!
//! Retries: a request that got no answer (connect failure, reset, timeout) or a 5xx is sent
//! again — re-signed with a fresh nonce but with the same body and `Idempotency-Key`, so the
//! server does the work at most once. A 4xx is final.

use super::api::{ErrorBody, Jwks, MAX_RESPONSE_BODY};
use super::device::DeviceKeys;
use super::sign::{self, Canonical};
use reqwest::blocking::{Client, Response};
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use serde::de::DeserializeOwned;
use std::io::Read;
use std::sync::Arc;
use std::time::Duration;

/// Timeouts and retries.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub connect_timeout: Duration,
    /// Whole request, connect to last response byte.
    pub request_timeout: Duration,
    /// Tries per call (1 = no retry).
    pub attempts: u32,
    /// Wait before the second try; doubles after each.
    pub backoff: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            attempts: 3,
            backoff: Duration::from_millis(200),
        }
    }
}

/// Why a call failed. Messages carry no request data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    #[error("token client configuration: {0}")]
    Config(String),
    /// No answer: the request may or may not have been processed.
    #[error("no answer from the token service ({0})")]
    NoAnswer(String),
    /// The server failed (5xx): it may have committed before failing.
    #[error("token service error {status}: {message}")]
    Server { status: u16, message: String },
    /// A definitive refusal (4xx) with the server's error code.
    #[error("token service refused the request: {code} ({message})")]
    Rejected {
        status: u16,
        code: String,
        message: String,
        attempts_left: Option<u8>,
    },
    #[error("unexpected answer from the token service: {0}")]
    BadResponse(String),
    /// The server's certificate does not chain to the pinned CA (or TLS failed otherwise):
    /// nothing was sent, and retrying will not help.
    #[error("TLS with the token service failed: {0}")]
    Tls(String),
    #[error("device key: {0}")]
    Device(String),
}

impl ClientError {
    /// True when the server may have done the work: resolve by a status query or a retry with
    /// the same idempotency key, never by starting over.
    pub fn outcome_unknown(&self) -> bool {
        matches!(self, ClientError::NoAnswer(_) | ClientError::Server { .. })
    }

    /// The server's error code, for a refusal.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Rejected { code, .. } => Some(code),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
        }
    }
}

/// A client bound to one token service and its pinned CA.
pub struct TokenClient {
    http: Client,
    base: String,
    options: ClientOptions,
}

/// rustls client configuration trusting exactly the certificates in `ca_pem`.
pub fn pinned_tls_config(ca_pem: &[u8]) -> Result<rustls::ClientConfig, ClientError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert =
            cert.map_err(|_| ClientError::Config("CA file is not PEM certificates".into()))?;
        roots
            .add(cert)
            .map_err(|e| ClientError::Config(format!("CA certificate refused: {e}")))?;
    }
    if roots.is_empty() {
        return Err(ClientError::Config("CA file holds no certificate".into()));
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| ClientError::Config(e.to_string()))
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl TokenClient {
    /// `base_url` like `https://127.0.0.1:8443`; `ca_pem` the CA to pin. Must not be called from
    /// inside an async runtime (reqwest's blocking client runs its own).
    pub fn new(base_url: &str, ca_pem: &[u8], options: ClientOptions) -> Result<Self, ClientError> {
        if !base_url.starts_with("https://") {
            return Err(ClientError::Config("server URL must be https://".into()));
        }
        let tls = pinned_tls_config(ca_pem)?;
        let http = Client::builder()
            .tls_backend_preconfigured(tls)
            .https_only(true)
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(options.connect_timeout)
            .timeout(options.request_timeout)
            .build()
            .map_err(|e| ClientError::Config(e.to_string()))?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_owned(),
            options,
        })
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// `GET /v1/keys`: the server's card-data encryption keys.
    pub fn server_keys(&self) -> Result<Jwks, ClientError> {
        self.with_retries(|| {
            failpoint!("token::client::before_send", no_answer);
            let resp = self
                .http
                .get(format!("{}{}", self.base, super::api::KEYS))
                .send();
            read(resp)
        })
    }

    /// An unsigned JSON POST (the terminal's authorisation request).
    pub fn post_unsigned<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &[u8],
    ) -> Result<T, ClientError> {
        self.with_retries(|| {
            failpoint!("token::client::before_send", no_answer);
            let resp = self
                .http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec())
                .send();
            read(resp)
        })
    }

    /// A device-signed request. `path` includes any query string. POSTs need an
    /// `idempotency_key`, which every retry reuses.
    pub fn signed<T: DeserializeOwned>(
        &self,
        keys: &DeviceKeys,
        method: Method,
        path: &str,
        body: &[u8],
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let device_id = keys.device_id();
        self.with_retries(|| {
            let timestamp = now_secs();
            let nonce = sign::random_token()
                .ok_or_else(|| ClientError::Device("random generator failed".into()))?;
            let canonical = Canonical {
                method: method.as_str(),
                path,
                body,
                timestamp,
                nonce: &nonce,
                device_id: &device_id,
                idempotency_key: idempotency_key.unwrap_or(""),
            }
            .to_bytes();
            let signature = keys
                .sign(&canonical)
                .map_err(|e| ClientError::Device(e.to_string()))?;
            let url = format!("{}{path}", self.base);
            let mut req = match method {
                Method::Get => self.http.get(url),
                Method::Post => self
                    .http
                    .post(url)
                    .header(reqwest::header::CONTENT_TYPE, "application/json")
                    .body(body.to_vec()),
            };
            req = req
                .header(sign::HEADER_DEVICE, &device_id)
                .header(sign::HEADER_TIMESTAMP, timestamp.to_string())
                .header(sign::HEADER_NONCE, &nonce)
                .header(sign::HEADER_SIGNATURE, signature);
            if let Some(k) = idempotency_key {
                req = req.header(sign::HEADER_IDEMPOTENCY, k);
            }
            failpoint!("token::client::before_send", no_answer);
            read(req.send())
        })
    }

    fn with_retries<T>(
        &self,
        mut attempt: impl FnMut() -> Result<T, ClientError>,
    ) -> Result<T, ClientError> {
        let mut wait = self.options.backoff;
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt() {
                Err(e) if e.outcome_unknown() && tries < self.options.attempts.max(1) => {
                    log::warn!("token service call failed ({e}); retry {tries} in {wait:?}");
                    std::thread::sleep(wait);
                    wait = wait.saturating_mul(2).min(Duration::from_secs(5));
                }
                other => return other,
            }
        }
    }
}

/// The rustls error behind a transport failure, if TLS is what failed. hyper wraps it in
/// `io::Error`s, whose `source()` skips the wrapped error itself, so unwrap those by hand.
fn tls_failure(e: &reqwest::Error) -> Option<String> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(t) = err.downcast_ref::<rustls::Error>() {
            return Some(t.to_string());
        }
        let mut io = err.downcast_ref::<std::io::Error>();
        while let Some(inner) = io.and_then(|i| i.get_ref()) {
            if let Some(t) = inner.downcast_ref::<rustls::Error>() {
                return Some(t.to_string());
            }
            io = inner.downcast_ref::<std::io::Error>();
        }
        source = err.source();
    }
    None
}

/// Describe a transport failure by its kind only.
fn transport(e: &reqwest::Error) -> ClientError {
    if let Some(tls) = tls_failure(e) {
        return ClientError::Tls(tls);
    }
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "connection lost while reading the answer"
    } else {
        "connection failed"
    };
    ClientError::NoAnswer(kind.to_owned())
}

fn read<T: DeserializeOwned>(resp: reqwest::Result<Response>) -> Result<T, ClientError> {
    failpoint!("token::client::answer_lost", no_answer);
    let resp = resp.map_err(|e| transport(&e))?;
    let status = resp.status();
    if resp
        .content_length()
        .is_some_and(|l| l > MAX_RESPONSE_BODY as u64)
    {
        return Err(ClientError::BadResponse("answer too large".into()));
    }
    let mut body = Vec::new();
    let limit = u64::try_from(MAX_RESPONSE_BODY).unwrap_or(u64::MAX) + 1;
    resp.take(limit).read_to_end(&mut body).map_err(|e| {
        // An I/O error mid-body: the server may have committed; the answer is lost.
        log::debug!("response body: {e}");
        ClientError::NoAnswer("connection lost while reading the answer".into())
    })?;
    if body.len() > MAX_RESPONSE_BODY {
        return Err(ClientError::BadResponse("answer too large".into()));
    }
    if status.is_success() {
        return serde_json::from_slice(&body)
            .map_err(|e| ClientError::BadResponse(format!("JSON: {e}")));
    }
    if status.is_server_error() || status.as_u16() == 429 {
        let message = serde_json::from_slice::<ErrorBody>(&body)
            .map(|b| b.error.message)
            .unwrap_or_else(|_| status.canonical_reason().unwrap_or("error").to_owned());
        return Err(ClientError::Server {
            status: status.as_u16(),
            message,
        });
    }
    match serde_json::from_slice::<ErrorBody>(&body) {
        Ok(b) => Err(ClientError::Rejected {
            status: status.as_u16(),
            code: b.error.code,
            message: b.error.message,
            attempts_left: b.error.attempts_left,
        }),
        Err(_) => Err(ClientError::Rejected {
            status: status.as_u16(),
            code: "http".into(),
            message: status.canonical_reason().unwrap_or("error").to_owned(),
            attempts_left: None,
        }),
    }
}
