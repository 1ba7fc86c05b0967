//! The provisioning state machine and the card lifecycle, persisted step by step in the
//! wallet database.
//!
//! Every request follows the same discipline: its step and idempotency key are committed
//! (the outbox) before it is sent; its answer and the cleared outbox entry are committed
//! together. So whatever fails — the network, the server, this process — the row says exactly
//! which request may have gone out, and [`Provisioner::resume`] settles it: by a status query
//! where the request cannot be repeated (its card data or OTP is gone), otherwise by sending
//! the same request under the same key, which the server answers at most once. Nothing here
//! ever tokenizes a card twice.

use super::api::{
    self, AcceptTerms, AuthorizeResponse, CardData, CheckEligibility, CredentialPayload, Decision,
    DeviceRegistered, Eligible, Event, EventKind, Events, FetchCredentials, IdvSelected, KeyBatch,
    Lifecycle, ProvisioningStatus, QrPay, Replenish, Sealed, Secret, SelectIdv, ServerState,
    SubmitOtp, TokenStatus, TokenizeResult, TxnRecord, TxnStatus, WireKey, codes, log_mac_input,
    to_secret_json,
};
use super::client::{ClientError, ClientOptions, Method, TokenClient};
use super::db::{self, NewCard, Update};
use super::device::DeviceKeys;
use super::error::TokenError;
use super::jwe::{self, EcJwk};
use super::pan::Pan;
use super::policy::KeyPolicy;
use super::sign::random_token;
use super::state::{CardState, Provisioning, ProvisioningState as S, Step, TokenCard};
use crate::card::{Personalisation, SessionKey};
use crate::emv::crypto::Key16;
use crate::history::{self, Filter, Status};
use crate::store::{CardStatus, Store, StoreError};
use ring::hmac;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Where the token service is and how to talk to it.
#[derive(Debug, Clone)]
pub struct TokenConfig {
    /// `https://host:port` of the token service.
    pub server_url: String,
    /// The CA certificate(s) to pin, PEM.
    pub ca_pem: Vec<u8>,
    pub client: ClientOptions,
    pub policy: KeyPolicy,
}

impl TokenConfig {
    pub fn new(server_url: impl Into<String>, ca_pem: Vec<u8>) -> Self {
        Self {
            server_url: server_url.into(),
            ca_pem,
            client: ClientOptions::default(),
            policy: KeyPolicy::default(),
        }
    }
}

/// Card data as the user typed it. The PAN is read straight into a zeroizing buffer; the caller
/// wipes its own copy (Kotlin passes a `ByteArray` it clears).
pub struct CardInput<'a> {
    /// ASCII digits, spaces allowed.
    pub pan: &'a [u8],
    /// `MM/YY`.
    pub expiry: &'a str,
    pub name: &'a str,
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    pub events_applied: usize,
    pub provisionings_resumed: usize,
    pub cards_replenished: usize,
    pub keys_added: usize,
    pub statuses_updated: usize,
    /// What could not be done this time (no secrets), retried on the next sync.
    pub deferred: Vec<String>,
}

/// The wallet's side of provisioning. Holds the client and the device keys; every method takes
/// the wallet's store, where all state lives.
pub struct Provisioner {
    config: TokenConfig,
    client: TokenClient,
    device: Option<DeviceKeys>,
    server_key: Option<EcJwk>,
}

fn json<T: Serialize>(v: &T) -> Result<Vec<u8>, TokenError> {
    serde_json::to_vec(v).map_err(|e| TokenError::BadCredentials(e.to_string()))
}

fn new_key() -> Result<String, TokenError> {
    random_token().ok_or_else(|| TokenError::Device("random generator failed".into()))
}

fn valid_expiry(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 5
        && b[2] == b'/'
        && b[..2].iter().chain(&b[3..]).all(u8::is_ascii_digit)
        && matches!(s.get(..2).and_then(|m| m.parse::<u8>().ok()), Some(1..=12))
}

fn valid_name(s: &str) -> bool {
    (1..=26).contains(&s.chars().count()) && !s.chars().any(char::is_control)
}

impl Provisioner {
    pub fn new(config: TokenConfig) -> Result<Self, TokenError> {
        let client = TokenClient::new(&config.server_url, &config.ca_pem, config.client.clone())
            .map_err(TokenError::Client)?;
        Ok(Self {
            config,
            client,
            device: None,
            server_key: None,
        })
    }

    pub fn config(&self) -> &TokenConfig {
        &self.config
    }

    pub fn client(&self) -> &TokenClient {
        &self.client
    }

    // --- device -----------------------------------------------------------------------

    /// Load (or create) the device keys and register them with this server once.
    fn device(&mut self, store: &mut Store) -> Result<&DeviceKeys, TokenError> {
        if self.device.is_none() {
            let (keys, registered) = match db::load_device(store)? {
                Some(found) => found,
                None => {
                    let keys =
                        DeviceKeys::generate().map_err(|e| TokenError::Device(e.to_string()))?;
                    db::save_device(store, &keys)?;
                    (keys, None)
                }
            };
            if registered.as_deref() != Some(self.config.server_url.as_str()) {
                let body = json(&api::RegisterDevice {
                    signing_key: keys.signing_jwk(),
                    agreement_key: keys.agreement_jwk(),
                })?;
                let r: DeviceRegistered = self
                    .client
                    .signed(&keys, Method::Post, api::DEVICES, &body, Some(&new_key()?))
                    .map_err(|e| map_client(e, "", "register"))?;
                if r.device_id != keys.device_id() {
                    return Err(TokenError::BadCredentials(
                        "server registered another device id".into(),
                    ));
                }
                db::mark_registered(store, &self.config.server_url)?;
                log::info!("token: device registered");
            }
            self.device = Some(keys);
        }
        self.device
            .as_ref()
            .ok_or_else(|| TokenError::Device("no device keys".into()))
    }

    fn server_key(&mut self) -> Result<EcJwk, TokenError> {
        if let Some(k) = &self.server_key {
            return Ok(k.clone());
        }
        let jwks = self.client.server_keys().map_err(TokenError::Client)?;
        let key = jwks
            .keys
            .into_iter()
            .find(|k| {
                k.kid.is_some()
                    && k.alg.as_deref().is_none_or(|a| a == jwe::ALG)
                    && k.to_sec1().is_some()
            })
            .ok_or_else(|| {
                TokenError::BadCredentials("server publishes no usable P-256 key".into())
            })?;
        self.server_key = Some(key.clone());
        Ok(key)
    }

    fn signed<T: DeserializeOwned>(
        &mut self,
        store: &mut Store,
        method: Method,
        path: &str,
        body: &[u8],
        key: Option<&str>,
    ) -> Result<T, ClientError> {
        if let Err(e) = self.device(store) {
            return Err(ClientError::Device(e.to_string()));
        }
        let keys = self
            .device
            .as_ref()
            .ok_or_else(|| ClientError::Device("no device keys".into()))?;
        self.client.signed(keys, method, path, body, key)
    }

    // --- provisioning -----------------------------------------------------------------

    /// A provisioning as stored.
    pub fn provisioning(&self, store: &Store, id: &str) -> Result<Provisioning, TokenError> {
        Ok(db::require(store.connection(), id)?.view)
    }

    /// Every provisioning, oldest first.
    pub fn provisionings(&self, store: &Store) -> Result<Vec<Provisioning>, TokenError> {
        db::list(store.connection())
    }

    /// Step 1: check the card's eligibility. The card data is encrypted to the server's key in
    /// a zeroizing buffer and forgotten when this returns.
    pub fn begin(
        &mut self,
        store: &mut Store,
        card: CardInput<'_>,
    ) -> Result<Provisioning, TokenError> {
        let pan = Pan::parse(card.pan)?;
        pan.scheme()?;
        if !valid_expiry(card.expiry) {
            return Err(TokenError::InvalidExpiry);
        }
        if !valid_name(card.name) {
            return Err(TokenError::InvalidName);
        }
        self.device(store)?;
        let server_key = self.server_key()?;
        let jwe_text = {
            let data = CardData {
                pan: Secret(pan.digits().to_owned()),
                expiry: Secret(card.expiry.to_owned()),
                name: Secret(card.name.to_owned()),
            };
            let plain = to_secret_json(&data, 256)
                .map_err(|e| TokenError::BadCredentials(e.to_string()))?;
            jwe::encrypt(&server_key, &plain, Some("application/json"))
                .map_err(|e| TokenError::BadCredentials(e.to_string()))?
        };
        drop(pan);

        let id = new_key()?;
        let key = new_key()?;
        db::insert(store, &id, &self.config.server_url, &key)?;
        let body = json(&CheckEligibility {
            provisioning_id: id.clone(),
            card: jwe_text,
        })?;
        match self.signed::<Eligible>(store, Method::Post, api::PROVISIONINGS, &body, Some(&key)) {
            Ok(el) => {
                db::update(
                    store,
                    &id,
                    &Update {
                        state: Some(S::Eligible),
                        scheme: Some(el.scheme),
                        pan_suffix: Some(&el.pan_suffix),
                        terms: Some(&el.terms),
                        clear_pending: true,
                        ..Default::default()
                    },
                )?;
                log::info!("token: provisioning {id} eligible");
                self.provisioning(store, &id)
            }
            Err(e) => Err(self.failed(store, &id, S::Failed, e, Step::Eligibility)?),
        }
    }

    /// Record a failed request: a refusal ends the step (state `refused_state`), an unknown
    /// outcome leaves the outbox entry for `resume`. Returns the error to hand back.
    fn failed(
        &mut self,
        store: &mut Store,
        id: &str,
        refused_state: S,
        e: ClientError,
        step: Step,
    ) -> Result<TokenError, TokenError> {
        if e.outcome_unknown() {
            db::update(
                store,
                id,
                &Update {
                    last_error: Some(Some(&e.to_string())),
                    ..Default::default()
                },
            )?;
            log::warn!(
                "token: provisioning {id}: {} outcome unknown",
                step.as_str()
            );
            return Ok(TokenError::OutcomeUnknown {
                id: id.to_owned(),
                step: step.as_str(),
            });
        }
        let err = map_client(e, id, step.as_str());
        db::update(
            store,
            id,
            &Update {
                state: Some(refused_state),
                clear_pending: true,
                last_error: Some(Some(&err.to_string())),
                ..Default::default()
            },
        )?;
        Ok(err)
    }

    /// The key for `step`: the one already in the outbox for it (a retry), or a fresh one.
    fn outbox_key(row: &db::Row, step: Step) -> Result<String, TokenError> {
        match &row.pending {
            Some((s, k)) if *s == step => Ok(k.clone()),
            _ => new_key(),
        }
    }

    /// Step 2: the user accepted the terms; tokenize. Continues to the credentials when the
    /// issuer approves at once.
    pub fn accept_terms(
        &mut self,
        store: &mut Store,
        id: &str,
    ) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        match row.view.state {
            S::Eligible => {}
            S::TermsAccepted | S::TokenizeSent | S::Approved | S::CredentialsPending => {
                return self.resume(store, id);
            }
            state => {
                return Err(TokenError::WrongState {
                    id: id.into(),
                    state,
                    action: "accept terms",
                });
            }
        }
        let terms_id = row
            .view
            .terms
            .as_ref()
            .map(|t| t.id.clone())
            .unwrap_or_default();
        let key = Self::outbox_key(&row, Step::Terms)?;
        db::set_pending(store, id, Step::Terms, &key, S::Eligible)?;
        self.send_terms(store, id, terms_id, &key)
    }

    /// Post the terms acceptance under `key` (new, or the lost request's own for a retry, which
    /// the server answers once), record it, and go on to tokenize.
    fn send_terms(
        &mut self,
        store: &mut Store,
        id: &str,
        terms_id: String,
        key: &str,
    ) -> Result<Provisioning, TokenError> {
        let body = json(&AcceptTerms { terms_id })?;
        let path = api::provisioning_step(id, "terms");
        match self.signed::<ProvisioningStatus>(store, Method::Post, &path, &body, Some(key)) {
            Ok(_) => db::update(
                store,
                id,
                &Update {
                    state: Some(S::TermsAccepted),
                    clear_pending: true,
                    ..Default::default()
                },
            )?,
            Err(e) => return Err(self.failed(store, id, S::Failed, e, Step::Terms)?),
        }
        self.tokenize(store, id)
    }

    fn tokenize(&mut self, store: &mut Store, id: &str) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        let key = Self::outbox_key(&row, Step::Tokenize)?;
        db::set_pending(store, id, Step::Tokenize, &key, S::TokenizeSent)?;
        let path = api::provisioning_step(id, "tokenize");
        match self.signed::<TokenizeResult>(store, Method::Post, &path, b"{}", Some(&key)) {
            Ok(result) => self.apply_decision(store, id, &result),
            Err(e) => Err(self.failed(store, id, S::Failed, e, Step::Tokenize)?),
        }
    }

    fn apply_decision(
        &mut self,
        store: &mut Store,
        id: &str,
        result: &TokenizeResult,
    ) -> Result<Provisioning, TokenError> {
        match (result.decision, result.token_ref.as_deref()) {
            (Decision::Approved, Some(token_ref)) => {
                db::update(
                    store,
                    id,
                    &Update {
                        state: Some(S::Approved),
                        token_ref: Some(token_ref),
                        clear_pending: true,
                        ..Default::default()
                    },
                )?;
                log::info!("token: provisioning {id} approved");
                self.credentials(store, id)
            }
            (Decision::RequireIdv, _) => {
                db::update(
                    store,
                    id,
                    &Update {
                        state: Some(S::IdvRequired),
                        idv_methods: Some(&result.idv_methods),
                        clear_pending: true,
                        ..Default::default()
                    },
                )?;
                self.provisioning(store, id)
            }
            (Decision::Declined, _) => {
                db::update(
                    store,
                    id,
                    &Update {
                        state: Some(S::Declined),
                        clear_pending: true,
                        last_error: Some(Some("the issuer declined the card")),
                        ..Default::default()
                    },
                )?;
                self.provisioning(store, id)
            }
            (Decision::Approved, None) => Err(TokenError::BadCredentials(
                "approval without a token".into(),
            )),
        }
    }

    /// Step 3 (when asked): choose how to verify the cardholder; the issuer sends an OTP.
    pub fn select_idv(
        &mut self,
        store: &mut Store,
        id: &str,
        method_id: &str,
    ) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        if !matches!(row.view.state, S::IdvRequired | S::IdvPending) {
            return Err(TokenError::WrongState {
                id: id.into(),
                state: row.view.state,
                action: "select an ID&V method",
            });
        }
        let key = Self::outbox_key(&row, Step::SelectIdv)?;
        db::set_pending(store, id, Step::SelectIdv, &key, row.view.state)?;
        let body = json(&SelectIdv {
            method_id: method_id.to_owned(),
        })?;
        let path = api::provisioning_step(id, "idv");
        match self.signed::<IdvSelected>(store, Method::Post, &path, &body, Some(&key)) {
            Ok(sel) => {
                db::update(
                    store,
                    id,
                    &Update {
                        state: Some(S::IdvPending),
                        idv_method: Some(&sel.method_id),
                        clear_pending: true,
                        last_error: Some(None),
                        ..Default::default()
                    },
                )?;
                self.provisioning(store, id)
            }
            Err(e) => Err(self.failed(store, id, row.view.state, e, Step::SelectIdv)?),
        }
    }

    /// Step 4: the OTP the cardholder received. Never stored; a wrong code keeps the
    /// provisioning waiting (with the attempts left), too many decline it.
    pub fn submit_otp(
        &mut self,
        store: &mut Store,
        id: &str,
        otp: &str,
    ) -> Result<Provisioning, TokenError> {
        if !(4..=8).contains(&otp.len()) || !otp.bytes().all(|b| b.is_ascii_digit()) {
            return Err(TokenError::InvalidOtp);
        }
        let row = db::require(store.connection(), id)?;
        if row.view.state != S::IdvPending {
            return Err(TokenError::WrongState {
                id: id.into(),
                state: row.view.state,
                action: "submit an OTP",
            });
        }
        let key = new_key()?;
        db::set_pending(store, id, Step::SubmitOtp, &key, S::IdvPending)?;
        let body = to_secret_json(
            &SubmitOtp {
                otp: Secret(otp.to_owned()),
            },
            64,
        )
        .map_err(|e| TokenError::BadCredentials(e.to_string()))?;
        let path = api::provisioning_step(id, "otp");
        match self.signed::<TokenizeResult>(store, Method::Post, &path, &body, Some(&key)) {
            Ok(result) => self.apply_decision(store, id, &result),
            Err(ClientError::Rejected {
                code,
                message,
                attempts_left,
                ..
            }) if code == codes::OTP_INCORRECT => {
                db::update(
                    store,
                    id,
                    &Update {
                        otp_attempts_left: Some(attempts_left),
                        clear_pending: true,
                        last_error: Some(Some(&message)),
                        ..Default::default()
                    },
                )?;
                Err(TokenError::Refused {
                    code,
                    message,
                    attempts_left,
                })
            }
            Err(e) => {
                let declined = e.code() == Some(codes::OTP_ATTEMPTS_EXCEEDED);
                let state = if declined { S::Declined } else { S::IdvPending };
                Err(self.failed(store, id, state, e, Step::SubmitOtp)?)
            }
        }
    }

    /// Fetch the credentials of an approved token and install the card atomically.
    fn credentials(&mut self, store: &mut Store, id: &str) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        let token_ref = row.token_ref.clone().ok_or_else(|| {
            TokenError::BadCredentials("approved provisioning without a token".into())
        })?;
        let key = Self::outbox_key(&row, Step::Credentials)?;
        db::set_pending(store, id, Step::Credentials, &key, S::CredentialsPending)?;
        let body = json(&FetchCredentials {
            count: self.config.policy.initial_keys,
        })?;
        let path = api::token_step(&token_ref, "credentials");
        let sealed = match self.signed::<Sealed>(store, Method::Post, &path, &body, Some(&key)) {
            Ok(s) => s,
            Err(e) => return Err(self.failed(store, id, S::Failed, e, Step::Credentials)?),
        };
        let payload: CredentialPayload = self.open_sealed(store, &sealed, &token_ref)?;
        let card_id = token_ref.clone();
        let keys = session_keys(&payload.keys)?;
        let last_issued = keys.last().map(|k| k.atc).unwrap_or(0);
        let mut profile = payload.profile;
        profile.id = card_id.clone();
        let log_key = hex::decode(&payload.log_mac_key.0)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| TokenError::BadCredentials("log MAC key is not hex".into()))?;
        // Staged, verified and switched on in one store transaction; if this process dies
        // after it, the retry finds the card and only finishes the bookkeeping.
        match store.install_card(Personalisation { profile, keys }) {
            Ok(()) => {}
            Err(StoreError::CardExists(_)) => {
                log::info!("token: card {card_id} was already installed")
            }
            Err(e) => return Err(e.into()),
        }
        db::activate(
            store,
            &NewCard {
                card_id: &card_id,
                token_ref: &token_ref,
                provisioning_id: id,
                server_url: &self.config.server_url,
                log_mac_key: &log_key,
                last_issued_atc: last_issued,
            },
        )?;
        log::info!("token: provisioning {id} active as card {card_id}");
        self.provisioning(store, id)
    }

    fn open_sealed<T: DeserializeOwned>(
        &mut self,
        store: &mut Store,
        sealed: &Sealed,
        token_ref: &str,
    ) -> Result<T, TokenError> {
        if sealed.token_ref != token_ref {
            return Err(TokenError::BadCredentials(
                "credentials for another token".into(),
            ));
        }
        let device = self.device(store)?;
        let kid = device.agreement_jwk().kid.unwrap_or_default();
        let plain = jwe::decrypt(device.agreement(), &kid, &sealed.jwe)
            .map_err(|e| TokenError::BadCredentials(format!("credentials JWE: {e}")))?;
        serde_json::from_slice(&plain)
            .map_err(|_| TokenError::BadCredentials("credentials do not parse".into()))
    }

    /// Settle whatever a provisioning has in flight and carry on as far as it can go without the
    /// user (it never accepts terms or invents an OTP).
    pub fn resume(&mut self, store: &mut Store, id: &str) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        if row.server_url != self.config.server_url {
            return Err(TokenError::OtherServer(format!("provisioning {id}")));
        }
        match (row.view.state, row.pending.as_ref().map(|p| p.0)) {
            (S::New, _) | (_, Some(Step::Eligibility)) => {
                // The card data is gone: only the server can say whether it arrived.
                match self.status(store, id) {
                    Ok(st) => {
                        self.adopt(store, id, &st)?;
                        self.resume_after_status(store, id)
                    }
                    Err(ClientError::Rejected { code, .. }) if code == codes::NOT_FOUND => {
                        db::update(
                            store,
                            id,
                            &Update {
                                state: Some(S::Failed),
                                clear_pending: true,
                                last_error: Some(Some(
                                    "eligibility never reached the server; enter the card again",
                                )),
                                ..Default::default()
                            },
                        )?;
                        Err(TokenError::ReenterCard)
                    }
                    Err(e) => Err(self.failed(store, id, S::Failed, e, Step::Eligibility)?),
                }
            }
            (_, Some(Step::Terms)) => self.accept_terms_retry(store, id),
            (_, Some(Step::Tokenize)) | (S::TokenizeSent, None) | (S::TermsAccepted, None) => {
                match self.status(store, id) {
                    Ok(st) if st.state == ServerState::TermsAccepted => self.tokenize(store, id),
                    Ok(st) => {
                        self.adopt(store, id, &st)?;
                        self.resume_after_status(store, id)
                    }
                    Err(e) => Err(self.failed(store, id, S::TokenizeSent, e, Step::Tokenize)?),
                }
            }
            (_, Some(Step::SelectIdv)) => {
                let method = row
                    .view
                    .idv_method
                    .clone()
                    .or_else(|| row.view.idv_methods.first().map(|m| m.id.clone()));
                match method {
                    Some(m) => self.select_idv(store, id, &m),
                    None => Ok(row.view),
                }
            }
            (_, Some(Step::SubmitOtp)) => match self.status(store, id) {
                Ok(st) => {
                    self.adopt(store, id, &st)?;
                    self.resume_after_status(store, id)
                }
                Err(e) => Err(self.failed(store, id, S::IdvPending, e, Step::SubmitOtp)?),
            },
            (_, Some(Step::Credentials)) | (S::Approved | S::CredentialsPending, None) => {
                self.credentials(store, id)
            }
            _ => Ok(row.view),
        }
    }

    fn accept_terms_retry(
        &mut self,
        store: &mut Store,
        id: &str,
    ) -> Result<Provisioning, TokenError> {
        // Same key as the lost request: the server answers it once.
        let row = db::require(store.connection(), id)?;
        let terms_id = row
            .view
            .terms
            .as_ref()
            .map(|t| t.id.clone())
            .unwrap_or_default();
        let key = Self::outbox_key(&row, Step::Terms)?;
        self.send_terms(store, id, terms_id, &key)
    }

    fn resume_after_status(
        &mut self,
        store: &mut Store,
        id: &str,
    ) -> Result<Provisioning, TokenError> {
        let row = db::require(store.connection(), id)?;
        match row.view.state {
            S::Approved | S::CredentialsPending => self.credentials(store, id),
            _ => Ok(row.view),
        }
    }

    fn status(&mut self, store: &mut Store, id: &str) -> Result<ProvisioningStatus, ClientError> {
        self.signed(store, Method::Get, &api::provisioning(id), b"", None)
    }

    /// Take the server's word for where a provisioning stands.
    fn adopt(
        &mut self,
        store: &mut Store,
        id: &str,
        st: &ProvisioningStatus,
    ) -> Result<(), TokenError> {
        let state = match st.state {
            ServerState::Eligible => S::Eligible,
            ServerState::TermsAccepted => S::TermsAccepted,
            ServerState::IdvRequired => S::IdvRequired,
            ServerState::IdvPending => S::IdvPending,
            ServerState::Approved => S::Approved,
            ServerState::Declined => S::Declined,
        };
        db::update(
            store,
            id,
            &Update {
                state: Some(state),
                scheme: Some(st.scheme),
                pan_suffix: Some(&st.pan_suffix),
                terms: Some(&st.terms),
                idv_methods: (!st.idv_methods.is_empty()).then_some(&st.idv_methods[..]),
                otp_attempts_left: Some(st.otp_attempts_left),
                token_ref: st.token_ref.as_deref(),
                clear_pending: true,
                last_error: Some(None),
                ..Default::default()
            },
        )?;
        log::info!(
            "token: provisioning {id} resolved by status query: {}",
            state.as_str()
        );
        Ok(())
    }

    // --- cards ------------------------------------------------------------------------

    /// A card from this token service (another server's cards are not ours to change).
    fn own_card(&self, store: &Store, card_id: &str) -> Result<db::CardRow, TokenError> {
        let card = db::require_card(store.connection(), card_id)?;
        if card.server_url != self.config.server_url {
            return Err(TokenError::OtherServer(format!("card {card_id}")));
        }
        Ok(card)
    }

    /// A tokenized card's provisioning-side facts.
    pub fn token_card(&self, store: &Store, card_id: &str) -> Result<TokenCard, TokenError> {
        Ok(db::require_card(store.connection(), card_id)?.card)
    }

    pub fn token_cards(&self, store: &Store) -> Result<Vec<TokenCard>, TokenError> {
        db::card_ids(store.connection())?
            .iter()
            .map(|id| self.token_card(store, id))
            .collect()
    }

    /// Suspend a card: its keys are wiped here first (a lost phone must stop paying even if the
    /// server cannot be reached), then the server is told.
    pub fn suspend(
        &mut self,
        store: &mut Store,
        card_id: &str,
        reason: &str,
    ) -> Result<TokenCard, TokenError> {
        let card = db::require_card(store.connection(), card_id)?;
        if card.card.state == CardState::Deleted {
            return Err(TokenError::Refused {
                code: codes::TOKEN_INACTIVE.into(),
                message: "card is deleted".into(),
                attempts_left: None,
            });
        }
        store.set_card_status(card_id, CardStatus::Suspended)?;
        store.write(|tx, _| db::set_card_state(tx, card_id, CardState::Suspended))?;
        self.tell_server(store, card_id, "suspend", reason)?;
        self.token_card(store, card_id)
    }

    /// Delete a card: wiped here, then deleted at the server. Final.
    pub fn delete(
        &mut self,
        store: &mut Store,
        card_id: &str,
        reason: &str,
    ) -> Result<TokenCard, TokenError> {
        db::require_card(store.connection(), card_id)?;
        store.set_card_status(card_id, CardStatus::Deleted)?;
        store.write(|tx, _| db::set_card_state(tx, card_id, CardState::Deleted))?;
        self.tell_server(store, card_id, "delete", reason)?;
        self.token_card(store, card_id)
    }

    /// Resume a suspended card: the server first (it must agree), then fresh keys — the old
    /// ones were wiped at suspension.
    pub fn resume_card(
        &mut self,
        store: &mut Store,
        card_id: &str,
    ) -> Result<TokenCard, TokenError> {
        let card = db::require_card(store.connection(), card_id)?;
        if card.card.state != CardState::Suspended {
            return Ok(card.card);
        }
        self.lifecycle(store, card_id, "resume", "CUSTOMER_REQUEST")?;
        store.set_card_status(card_id, CardStatus::Active)?;
        store.write(|tx, _| db::set_card_state(tx, card_id, CardState::Active))?;
        self.replenish(store, card_id)?;
        self.token_card(store, card_id)
    }

    /// Tell the server about a change already made here. No answer is not a failure: the request
    /// stays in the card's outbox (`TokenCard::pending`) and `sync` sends it again.
    fn tell_server(
        &mut self,
        store: &mut Store,
        card_id: &str,
        action: &str,
        reason: &str,
    ) -> Result<(), TokenError> {
        match self.lifecycle(store, card_id, action, reason) {
            Ok(_) => Ok(()),
            Err(TokenError::CardOutcomeUnknown { .. }) => {
                log::warn!("token: card {card_id} {action}: no answer; retried on sync");
                Ok(())
            }
            Err(e) => Err(e),
        }
    }

    fn lifecycle(
        &mut self,
        store: &mut Store,
        card_id: &str,
        action: &str,
        reason: &str,
    ) -> Result<TokenStatus, TokenError> {
        let card = self.own_card(store, card_id)?;
        let body = String::from_utf8(json(&Lifecycle {
            reason: reason.to_owned(),
        })?)
        .unwrap_or_default();
        let key = match &card.pending {
            Some((s, k, b)) if s == action && *b == body => k.clone(),
            _ => new_key()?,
        };
        db::set_card_pending(store, card_id, Some((action, &key, &body)))?;
        let path = api::token_step(&card.card.token_ref, action);
        match self.signed::<TokenStatus>(store, Method::Post, &path, body.as_bytes(), Some(&key)) {
            Ok(st) => {
                db::set_card_pending(store, card_id, None)?;
                log::info!(
                    "token: card {card_id} {action} acknowledged ({:?})",
                    st.state
                );
                Ok(st)
            }
            Err(e) if e.outcome_unknown() => Err(TokenError::CardOutcomeUnknown {
                card_id: card_id.to_owned(),
                step: match action {
                    "suspend" => "suspend",
                    "resume" => "resume",
                    _ => "delete",
                },
            }),
            Err(e) => {
                db::set_card_pending(store, card_id, None)?;
                Err(map_client(e, card_id, "lifecycle"))
            }
        }
    }

    /// Ask for more keys now, whatever is left: send the log of spent ATCs, install the new batch.
    /// Returns the keys added.
    pub fn replenish(&mut self, store: &mut Store, card_id: &str) -> Result<usize, TokenError> {
        self.replenish_n(store, card_id, self.config.policy.batch)
    }

    /// [`Self::replenish`] with an explicit batch size (at most `api::MAX_KEYS_PER_BATCH`).
    pub fn replenish_n(
        &mut self,
        store: &mut Store,
        card_id: &str,
        count: u16,
    ) -> Result<usize, TokenError> {
        let card = self.own_card(store, card_id)?;
        if card.card.state != CardState::Active {
            return Err(TokenError::Refused {
                code: codes::TOKEN_INACTIVE.into(),
                message: "card is not active".into(),
                attempts_left: None,
            });
        }
        // A replenishment already in flight is sent again as it was (same log, same key).
        let replay = matches!(&card.pending, Some((s, _, _)) if s == "replenish");
        let (key, body) = match &card.pending {
            Some((s, k, b)) if s == "replenish" => (k.clone(), b.clone()),
            _ => {
                let used = db::used_atcs(store.connection(), card_id, card.card.reported_through)?;
                let log_key = db::open_log_key(store.sealer(), &card)?;
                let mac = hmac::sign(
                    &hmac::Key::new(hmac::HMAC_SHA256, &log_key),
                    &log_mac_input(&card.card.token_ref, &used),
                );
                let body = Replenish {
                    used_atcs: used,
                    count,
                    mac: hex::encode(mac.as_ref()),
                };
                (
                    new_key()?,
                    String::from_utf8(json(&body)?).unwrap_or_default(),
                )
            }
        };
        let reported_through = serde_json::from_str::<Replenish>(&body)
            .ok()
            .and_then(|r| r.used_atcs.iter().copied().max())
            .unwrap_or(card.card.reported_through);
        db::set_card_pending(store, card_id, Some(("replenish", &key, &body)))?;
        let path = api::token_step(&card.card.token_ref, "replenish");
        let sealed: Sealed =
            match self.signed(store, Method::Post, &path, body.as_bytes(), Some(&key)) {
                Ok(s) => s,
                Err(e) if e.outcome_unknown() => {
                    return Err(TokenError::CardOutcomeUnknown {
                        card_id: card_id.to_owned(),
                        step: "replenish",
                    });
                }
                Err(e) => {
                    db::set_card_pending(store, card_id, None)?;
                    return Err(map_client(e, card_id, "replenish"));
                }
            };
        let batch: KeyBatch = self.open_sealed(store, &sealed, &card.card.token_ref)?;
        let keys = session_keys(&batch.keys)?;
        let added = keys.len();
        let last_issued = keys
            .last()
            .map(|k| k.atc)
            .unwrap_or(card.card.last_issued_atc);
        if !keys.is_empty() {
            match store.add_keys(card_id, keys) {
                Ok(_) => {}
                // The batch was installed before a crash and is being replayed: its ATCs are
                // no longer above the card's high-water mark.
                Err(StoreError::InvalidKeys { .. }) if replay => {
                    log::info!("token: card {card_id}: replenishment batch already installed");
                }
                Err(e) => return Err(e.into()),
            }
        }
        db::replenished(store, card_id, last_issued, reported_through)?;
        log::info!("token: card {card_id} replenished with {added} keys");
        Ok(added)
    }

    /// Replenish when the policy says so. Call after a payment, off the payment path: a failure
    /// here is reported, never a reason to refuse a payment.
    pub fn replenish_if_needed(
        &mut self,
        store: &mut Store,
        card_id: &str,
    ) -> Result<usize, TokenError> {
        let card = db::require_card(store.connection(), card_id)?;
        if card.card.state != CardState::Active {
            return Ok(0);
        }
        let remaining = store.remaining_keys(card_id)?;
        if self.config.policy.needs_replenish(remaining) || card.pending.is_some() {
            self.replenish(store, card_id)
        } else {
            Ok(0)
        }
    }

    /// Poll the event feed and apply it, settle open provisionings and lifecycle requests,
    /// replenish where needed, and bring pending payment records up to date.
    pub fn sync(&mut self, store: &mut Store) -> Result<SyncReport, TokenError> {
        let mut report = SyncReport::default();
        self.device(store)?;

        // 1. Events the server has for this device.
        loop {
            let after = db::events_after(store.connection())?;
            let path = format!("{}?after={after}", api::EVENTS);
            let events: Events = self
                .signed(store, Method::Get, &path, b"", None)
                .map_err(TokenError::Client)?;
            if events.events.is_empty() {
                break;
            }
            for ev in &events.events {
                self.apply_event(store, ev, &mut report)?;
            }
        }

        // 2. Provisionings left mid-way.
        for p in self.provisionings(store)? {
            if !p.state.is_final()
                && (p.outcome_unknown
                    || matches!(
                        p.state,
                        S::Approved | S::CredentialsPending | S::TokenizeSent
                    ))
            {
                match self.resume(store, &p.id) {
                    Ok(_) => report.provisionings_resumed += 1,
                    Err(e) => report.deferred.push(format!("provisioning {}: {e}", p.id)),
                }
            }
        }

        // 3. Lifecycle requests without an answer, then replenishment.
        for card_id in db::card_ids(store.connection())? {
            let card = db::require_card(store.connection(), &card_id)?;
            if let Some((step, _, body)) = &card.pending
                && step != "replenish"
            {
                let reason = serde_json::from_str::<Lifecycle>(body)
                    .map(|l| l.reason)
                    .unwrap_or_else(|_| "OTHER".into());
                if let Err(e) = self.lifecycle(store, &card_id, &step.clone(), &reason) {
                    report.deferred.push(format!("card {card_id}: {e}"));
                }
            }
            match self.replenish_if_needed(store, &card_id) {
                Ok(0) => {}
                Ok(n) => {
                    report.cards_replenished += 1;
                    report.keys_added += n;
                }
                Err(e) => report.deferred.push(format!("card {card_id}: {e}")),
            }
        }

        // 4. Pending payment records: what became of them at the issuer.
        report.statuses_updated = self.sync_statuses(store, &mut report.deferred)?;
        Ok(report)
    }

    fn apply_event(
        &mut self,
        store: &mut Store,
        ev: &Event,
        report: &mut SyncReport,
    ) -> Result<(), TokenError> {
        let card_id = db::card_ids(store.connection())?.into_iter().find(|id| {
            db::load_card(store.connection(), id)
                .ok()
                .flatten()
                .is_some_and(|c| c.card.token_ref == ev.token_ref)
        });
        if let Some(card_id) = card_id {
            let card = db::require_card(store.connection(), &card_id)?;
            match (ev.kind, card.card.state) {
                (EventKind::Suspended, CardState::Active) => {
                    store.set_card_status(&card_id, CardStatus::Suspended)?;
                    store.write(|tx, _| db::set_card_state(tx, &card_id, CardState::Suspended))?;
                }
                (EventKind::Resumed, CardState::Suspended) => {
                    store.set_card_status(&card_id, CardStatus::Active)?;
                    store.write(|tx, _| db::set_card_state(tx, &card_id, CardState::Active))?;
                    if let Err(e) = self.replenish(store, &card_id) {
                        report.deferred.push(format!("card {card_id}: {e}"));
                    }
                }
                (EventKind::Deleted, CardState::Active | CardState::Suspended) => {
                    store.set_card_status(&card_id, CardStatus::Deleted)?;
                    store.write(|tx, _| db::set_card_state(tx, &card_id, CardState::Deleted))?;
                }
                (EventKind::ReplenishRequired, CardState::Active) => {
                    if let Err(e) = self.replenish(store, &card_id) {
                        report.deferred.push(format!("card {card_id}: {e}"));
                    }
                }
                _ => {} // already in that state (our own request, or a repeat)
            }
            log::info!("token: event {} {:?} for card {card_id}", ev.seq, ev.kind);
        }
        store.write(|tx, _| db::set_events_after(tx, ev.seq))?;
        report.events_applied += 1;
        Ok(())
    }

    fn sync_statuses(
        &mut self,
        store: &mut Store,
        deferred: &mut Vec<String>,
    ) -> Result<usize, TokenError> {
        let mut updated = 0;
        for card_id in db::card_ids(store.connection())? {
            let card = db::require_card(store.connection(), &card_id)?;
            let filter = Filter {
                card_id: Some(card_id.clone()),
                status: Some(Status::Pending),
                ..Filter::default()
            };
            let page = store.records(&filter, None, history::query::MAX_PAGE)?;
            for record in page.records {
                let path = api::transaction(&card.card.token_ref, record.atc);
                let txn: TxnRecord = match self.signed(store, Method::Get, &path, b"", None) {
                    Ok(t) => t,
                    Err(e) => {
                        deferred.push(format!("record {}: {e}", record.id));
                        continue;
                    }
                };
                let status = match txn.status {
                    TxnStatus::Approved => Status::Approved,
                    TxnStatus::Declined => Status::Declined,
                    TxnStatus::Reversed => Status::Reversed,
                    TxnStatus::Unknown => continue,
                };
                if store.set_status(record.id, status)? {
                    updated += 1;
                }
            }
        }
        Ok(updated)
    }

    /// Pay a scanned merchant code: the payment (with its cryptogram, computed by the caller
    /// from the card's next single-use key) is authorised by the issuer through the token
    /// service.
    pub fn qr_pay(
        &mut self,
        store: &mut Store,
        pay: &QrPay,
    ) -> Result<AuthorizeResponse, TokenError> {
        let body = json(pay)?;
        let key = new_key()?;
        self.signed(store, Method::Post, api::QR_PAY, &body, Some(&key))
            .map_err(|e| map_client(e, &pay.token_ref, "qr pay"))
    }
}

fn session_keys(wire: &[WireKey]) -> Result<Vec<SessionKey>, TokenError> {
    wire.iter()
        .map(|k| {
            Key16::from_hex(&k.key.0)
                .map(|key| SessionKey { atc: k.atc, key })
                .ok_or_else(|| {
                    TokenError::BadCredentials(format!(
                        "key for ATC {} is not 16 bytes of hex",
                        k.atc
                    ))
                })
        })
        .collect()
}

fn map_client(e: ClientError, id: &str, step: &'static str) -> TokenError {
    match e {
        ClientError::Rejected {
            code,
            message,
            attempts_left,
            ..
        } => TokenError::Refused {
            code,
            message,
            attempts_left,
        },
        e if e.outcome_unknown() => TokenError::OutcomeUnknown {
            id: id.to_owned(),
            step,
        },
        other => TokenError::Client(other),
    }
}
