//! Shared by the server tests: a real server on an ephemeral loopback port with its files in a
//! temporary directory, a device, and raw request helpers for crafting bad input.
#![allow(dead_code)]

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;
use wallet_core::token::api::{self, CardData, CheckEligibility, Eligible, RegisterDevice, Secret};
use wallet_core::token::client::{ClientError, ClientOptions, Method, TokenClient};
use wallet_core::token::device::DeviceKeys;
use wallet_core::token::jwe::{self, EcJwk};
use wallet_core::token::sign::{self, Canonical};
use wallet_sandbox::catalogue::TestCard;
use wallet_sandbox::server::{self, Config, RunningServer};

pub struct Sandbox {
    pub server: RunningServer,
    pub dir: TempDir,
}

pub fn start() -> Sandbox {
    let dir = tempfile::tempdir().expect("tempdir");
    let server = server::start(Config::ephemeral(dir.path())).expect("server starts");
    Sandbox { server, dir }
}

impl Sandbox {
    pub fn ca_pem(&self) -> Vec<u8> {
        std::fs::read(&self.server.ca_path).expect("CA file")
    }

    pub fn client(&self) -> TokenClient {
        self.client_with(ClientOptions {
            attempts: 1,
            ..ClientOptions::default()
        })
    }

    pub fn client_with(&self, options: ClientOptions) -> TokenClient {
        TokenClient::new(&self.server.url, &self.ca_pem(), options).expect("client")
    }

    /// A plain HTTPS client trusting the sandbox CA, for hand-made requests.
    pub fn raw(&self) -> reqwest::blocking::Client {
        let tls = wallet_core::token::client::pinned_tls_config(&self.ca_pem()).expect("tls");
        reqwest::blocking::Client::builder()
            .tls_backend_preconfigured(tls)
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("raw client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.url)
    }

    pub fn server_jwk(&self) -> EcJwk {
        self.client().server_keys().expect("keys").keys.remove(0)
    }

    pub fn otp(&self, provisioning_id: &str) -> String {
        let v: Value = self
            .raw()
            .get(self.url(&format!("/sandbox/otp/{provisioning_id}")))
            .send()
            .expect("outbox")
            .json()
            .expect("outbox json");
        v["otp"].as_str().expect("otp").to_owned()
    }
}

pub fn key() -> String {
    sign::random_token().expect("random")
}

/// A registered device and its client.
pub struct Device {
    pub keys: DeviceKeys,
    pub client: TokenClient,
}

impl Device {
    pub fn new(sb: &Sandbox) -> Device {
        let keys = DeviceKeys::generate().expect("keys");
        let client = sb.client();
        let dev = Device { keys, client };
        let reg = RegisterDevice {
            signing_key: dev.keys.signing_jwk(),
            agreement_key: dev.keys.agreement_jwk(),
        };
        let r: api::DeviceRegistered = dev.post(api::DEVICES, &reg).expect("register");
        assert_eq!(r.device_id, dev.keys.device_id());
        dev
    }

    pub fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        self.post_key(path, body, &key())
    }

    pub fn post_key<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idem: &str,
    ) -> Result<T, ClientError> {
        let bytes = serde_json::to_vec(body).expect("json");
        self.client
            .signed(&self.keys, Method::Post, path, &bytes, Some(idem))
    }

    pub fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.client.signed(&self.keys, Method::Get, path, b"", None)
    }

    /// Eligibility for a card with any PAN/expiry text (the wallet would refuse a bad PAN
    /// before sending; the server must refuse it too).
    pub fn eligibility_raw(
        &self,
        sb: &Sandbox,
        pan: &str,
        expiry: &str,
    ) -> Result<Eligible, ClientError> {
        let card = CardData {
            pan: Secret(pan.into()),
            expiry: Secret(expiry.into()),
            name: Secret("TEST".into()),
        };
        let plain = serde_json::to_vec(&card).expect("json");
        let jwe = jwe::encrypt(&sb.server_jwk(), &plain, None).expect("jwe");
        self.post(
            api::PROVISIONINGS,
            &CheckEligibility {
                provisioning_id: key(),
                card: jwe,
            },
        )
    }

    pub fn eligibility(&self, sb: &Sandbox, card: &TestCard) -> Result<Eligible, ClientError> {
        self.eligibility_raw(sb, card.pan, card.expiry)
    }
}

/// Headers for a signed request with every field chosen by the caller.
pub fn signed_headers(
    keys: &DeviceKeys,
    method: &str,
    path: &str,
    body: &[u8],
    timestamp: u64,
    nonce: &str,
    idem: Option<&str>,
) -> reqwest::header::HeaderMap {
    let device_id = keys.device_id();
    let canonical = Canonical {
        method,
        path,
        body,
        timestamp,
        nonce,
        device_id: &device_id,
        idempotency_key: idem.unwrap_or(""),
    }
    .to_bytes();
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(sign::HEADER_DEVICE, device_id.parse().expect("hdr"));
    h.insert(
        sign::HEADER_TIMESTAMP,
        timestamp.to_string().parse().expect("hdr"),
    );
    h.insert(sign::HEADER_NONCE, nonce.parse().expect("hdr"));
    h.insert(
        sign::HEADER_SIGNATURE,
        keys.sign(&canonical).expect("sign").parse().expect("hdr"),
    );
    if let Some(k) = idem {
        h.insert(sign::HEADER_IDEMPOTENCY, k.parse().expect("hdr"));
    }
    h.insert(
        reqwest::header::CONTENT_TYPE,
        "application/json".parse().expect("hdr"),
    );
    h
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs()
}

/// The error code of a refusal, or a panic naming what came back instead.
pub fn code<T: std::fmt::Debug>(r: Result<T, ClientError>) -> String {
    match r {
        Err(ClientError::Rejected { code, .. }) => code,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

// --- a wallet: store on disk + provisioner + a tap through the HCE engine -------------------

use std::sync::Arc;
use wallet_core::store::{SoftwareKeyWrapper, Store};
use wallet_core::token::{CardInput, Provisioner, TokenConfig};
use wallet_sandbox::terminal::{TapOutcome, Terminal, Transaction};

pub struct Wallet {
    pub home: TempDir,
    pub store: Store,
    pub prov: Provisioner,
}

pub fn open_store(home: &std::path::Path) -> Store {
    let wrapper = SoftwareKeyWrapper::in_dir(home).expect("wrapper");
    Store::open(home, Arc::new(wrapper)).expect("store")
}

impl Sandbox {
    pub fn token_config(&self, options: ClientOptions) -> TokenConfig {
        let mut cfg = TokenConfig::new(self.server.url.clone(), self.ca_pem());
        cfg.client = options;
        cfg
    }

    pub fn wallet(&self) -> Wallet {
        self.wallet_with(ClientOptions {
            attempts: 1,
            ..ClientOptions::default()
        })
    }

    pub fn wallet_with(&self, options: ClientOptions) -> Wallet {
        let home = tempfile::tempdir().expect("home");
        let store = open_store(home.path());
        let prov = Provisioner::new(self.token_config(options)).expect("provisioner");
        Wallet { home, store, prov }
    }

    /// Count rows in the server's database.
    pub fn count(&self, sql: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.dir.path().join(server::DB_FILE)).expect("db");
        conn.query_row(sql, [], |r| r.get(0)).expect("count")
    }

    /// The issuer (sandbox admin) acts on a token by itself.
    pub fn issuer_action(&self, token_ref: &str, action: &str) {
        let resp = self
            .raw()
            .post(self.url(&format!("/sandbox/tokens/{token_ref}/{action}")))
            .send()
            .expect("issuer action");
        assert!(resp.status().is_success(), "{action}: {}", resp.status());
    }
}

pub fn card_input(card: &TestCard) -> CardInput<'static> {
    CardInput {
        pan: card.pan.as_bytes(),
        expiry: card.expiry,
        name: card.name,
    }
}

impl Wallet {
    /// Reopen the store and make a new provisioner: what an app restart does.
    pub fn restart(&mut self, sb: &Sandbox, options: ClientOptions) {
        self.store = open_store(self.home.path());
        self.prov = Provisioner::new(sb.token_config(options)).expect("provisioner");
    }

    /// One tap of `card_id` at a terminal; the HCE engine consumes a key through the store.
    pub fn tap(&mut self, card_id: &str, amount_minor: u64) -> TapOutcome {
        let profile = self.store.card(card_id).expect("card").profile;
        let mut engine = wallet_core::hce::Engine::new(vec![profile]).expect("engine");
        let terminal = Terminal::default();
        let txn = Transaction::purchase(amount_minor, 156);
        let now = std::time::SystemTime::now();
        let store = &mut self.store;
        terminal.tap(&txn, &mut |c| engine.process(c, store, now))
    }
}
