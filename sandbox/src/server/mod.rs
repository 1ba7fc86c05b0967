//! The sandbox token service and issuer host: HTTPS (axum on hyper, rustls with the ring
//! provider) over one SQLite file, run on loopback so a wallet's whole card life — provision,
//! pay, replenish, suspend, delete — happens on a desktop.
//!
//! [`start`] prepares the directory (CA and server certificate, database, the server's JWE key)
//! on first use, binds, and serves on a thread of its own; the returned [`RunningServer`] knows
//! the URL and the CA file a wallet must pin, and holds the test-only failpoints.

pub mod db;
mod error;
pub mod faults;
mod issuer_host;
mod issuing;
mod payments;
mod pipeline;
mod provisioning;
pub mod tls;
mod tokens;

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::routing::{get, post};
use faults::{Faults, Step};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use pipeline::{Signer, signed};
use rusqlite::{Connection, OptionalExtension};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinSet;
use wallet_core::token::api;
use wallet_core::token::jwe::AgreementKey;

pub use payments::{authorize_remote, to_auth_request, to_wire};
pub use provisioning::OTP_OUTBOX;

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct Config {
    /// Server directory: certificates, database, OTP outbox.
    pub dir: PathBuf,
    /// Listen address; port 0 picks a free port.
    pub addr: SocketAddr,
}

impl Config {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8443),
        }
    }
    /// Loopback, ephemeral port: what tests use.
    pub fn ephemeral(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            addr: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("server directory {path}: {source}")]
    Dir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server key: {0}")]
    Key(String),
    #[error("async runtime: {0}")]
    Runtime(std::io::Error),
}

/// Shared by every request.
pub(crate) struct App {
    db: Mutex<Connection>,
    pub(crate) jwe_key: AgreementKey,
    pub(crate) kid: String,
    pub(crate) dir: PathBuf,
    pub(crate) faults: Arc<Faults>,
    pub(crate) issuer: issuer_host::IssuerHost,
}

impl App {
    /// The database connection. A panic in another request cannot leave a transaction open
    /// (rusqlite rolls back on drop), so a poisoned lock is safe to take over.
    pub(crate) fn db(&self) -> MutexGuard<'_, Connection> {
        self.db.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The server's static P-256 key for card-data JWEs: created once, kept in the database.
fn server_key(conn: &Connection) -> Result<(AgreementKey, String), ServerError> {
    let stored: Option<(String, Vec<u8>)> = conn
        .query_row(
            "SELECT kid, scalar FROM server_keys ORDER BY created DESC, kid LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db::DbError::from)?;
    if let Some((kid, scalar)) = stored {
        let key = AgreementKey::from_bytes(&scalar)
            .ok_or_else(|| ServerError::Key("stored key corrupt".into()))?;
        return Ok((key, kid));
    }
    let key = AgreementKey::generate().map_err(|e| ServerError::Key(e.to_string()))?;
    let kid = format!("wc-sandbox-{}", &key.public_jwk().thumbprint()[..16]);
    conn.execute(
        "INSERT INTO server_keys (kid, scalar, created) VALUES (?1, ?2, ?3)",
        rusqlite::params![kid, &key.to_bytes()[..], pipeline::now_secs() as i64],
    )
    .map_err(db::DbError::from)?;
    Ok((key, kid))
}

/// Create the directory, certificates, database and keys if missing. Returns the CA path.
pub fn prepare(dir: &FsPath) -> Result<PathBuf, ServerError> {
    std::fs::create_dir_all(dir).map_err(|source| ServerError::Dir {
        path: dir.to_owned(),
        source,
    })?;
    let ca = tls::ensure(dir)?;
    let conn = db::open(&dir.join(DB_FILE))?;
    server_key(&conn)?;
    issuer_host::IssuerHost::load_or_create(&conn).map_err(db::DbError::from)?;
    Ok(ca)
}

pub const DB_FILE: &str = "sandbox.db";

/// A server running on its own thread. Dropping it shuts it down.
pub struct RunningServer {
    pub url: String,
    pub addr: SocketAddr,
    pub ca_path: PathBuf,
    pub dir: PathBuf,
    faults: Arc<Faults>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl RunningServer {
    /// Failpoints (tests only: nothing on the network reaches them).
    pub fn faults(&self) -> &Faults {
        &self.faults
    }

    /// Stop accepting, drop open connections, wait for the thread.
    pub fn shutdown(mut self) {
        self.stop_now();
    }

    fn stop_now(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop_now();
    }
}

/// Prepare `config.dir`, bind `config.addr` and serve on a new thread.
pub fn start(config: Config) -> Result<RunningServer, ServerError> {
    let ca_path = prepare(&config.dir)?;
    let tls = tls::server_config(&config.dir)?;
    let conn = db::open(&config.dir.join(DB_FILE))?;
    let (jwe_key, kid) = server_key(&conn)?;
    let issuer = issuer_host::IssuerHost::load_or_create(&conn).map_err(db::DbError::from)?;
    let faults = Arc::new(Faults::default());
    let app = Arc::new(App {
        db: Mutex::new(conn),
        jwe_key,
        kid,
        dir: config.dir.clone(),
        faults: faults.clone(),
        issuer,
    });

    let std_listener =
        std::net::TcpListener::bind(config.addr).map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    std_listener
        .set_nonblocking(true)
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let addr = std_listener
        .local_addr()
        .map_err(|source| ServerError::Bind {
            addr: config.addr,
            source,
        })?;
    let host = if addr.ip().is_unspecified() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.ip()
    };
    let url = format!("https://{}", SocketAddr::new(host, addr.port()));

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .thread_name("sandbox-server")
        .build()
        .map_err(ServerError::Runtime)?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel();
    let router = router(app);
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    let thread = std::thread::Builder::new()
        .name("sandbox-server".into())
        .spawn(move || {
            runtime.block_on(async move {
                match tokio::net::TcpListener::from_std(std_listener) {
                    Ok(listener) => serve(listener, acceptor, router, stop_rx).await,
                    Err(e) => log::error!("listener: {e}"),
                }
            });
            runtime.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(ServerError::Runtime)?;
    log::info!("sandbox token service listening on {url}");
    Ok(RunningServer {
        url,
        addr,
        ca_path,
        dir: config.dir,
        faults,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

async fn serve(
    listener: tokio::net::TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            accepted = listener.accept() => {
                let (tcp, _) = match accepted {
                    Ok(c) => c,
                    Err(e) => {
                        // Out of descriptors and the like: back off instead of spinning.
                        log::warn!("accept: {e}");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                };
                let acceptor = acceptor.clone();
                let router = router.clone();
                connections.spawn(async move {
                    let Ok(Ok(stream)) = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await else {
                        return;
                    };
                    let mut builder = auto::Builder::new(TokioExecutor::new());
                    builder.http1().timer(TokioTimer::new()).header_read_timeout(HEADER_READ_TIMEOUT);
                    let _ = builder
                        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(router))
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

fn router(app: Arc<App>) -> Router {
    type S = State<Arc<App>>;
    Router::new()
        .route(api::KEYS, get(|State(app): S| async move { tokens::keys(&app) }))
        .route(
            api::DEVICES,
            post(|State(app): S, req: Request| signed(app, Step::Register, Signer::Registration, req, provisioning::register)),
        )
        .route(
            api::PROVISIONINGS,
            post(|State(app): S, req: Request| signed(app, Step::Eligibility, Signer::Device, req, provisioning::eligibility)),
        )
        .route(
            "/v1/provisionings/{id}",
            get(|State(app): S, Path(id): Path<String>, req: Request| {
                signed(app, Step::Status, Signer::Device, req, move |cx, (): ()| provisioning::status(cx, &id))
            }),
        )
        .route(
            "/v1/provisionings/{id}/terms",
            post(|State(app): S, Path(id): Path<String>, req: Request| {
                signed(app, Step::Terms, Signer::Device, req, move |cx, b| provisioning::accept_terms(cx, &id, b))
            }),
        )
        .route(
            "/v1/provisionings/{id}/tokenize",
            post(|State(app): S, Path(id): Path<String>, req: Request| {
                signed(app, Step::Tokenize, Signer::Device, req, move |cx, b| provisioning::tokenize(cx, &id, b))
            }),
        )
        .route(
            "/v1/provisionings/{id}/idv",
            post(|State(app): S, Path(id): Path<String>, req: Request| {
                signed(app, Step::SelectIdv, Signer::Device, req, move |cx, b| provisioning::select_idv(cx, &id, b))
            }),
        )
        .route(
            "/v1/provisionings/{id}/otp",
            post(|State(app): S, Path(id): Path<String>, req: Request| {
                signed(app, Step::SubmitOtp, Signer::Device, req, move |cx, b| provisioning::submit_otp(cx, &id, b))
            }),
        )
        .route(
            "/v1/tokens/{token_ref}",
            get(|State(app): S, Path(t): Path<String>, req: Request| {
                signed(app, Step::TokenStatus, Signer::Device, req, move |cx, (): ()| tokens::status(cx, &t))
            }),
        )
        .route(
            "/v1/tokens/{token_ref}/{action}",
            post(|State(app): S, Path((t, action)): Path<(String, String)>, req: Request| async move {
                tokens::dispatch(app, &t, &action, req).await
            }),
        )
        .route(
            "/v1/tokens/{token_ref}/transactions/{atc}",
            get(|State(app): S, Path((t, atc)): Path<(String, u16)>, req: Request| {
                signed(app, Step::Transaction, Signer::Device, req, move |cx, (): ()| tokens::transaction(cx, &t, atc))
            }),
        )
        .route(
            api::EVENTS,
            get(|State(app): S, Query(q): Query<tokens::EventsQuery>, req: Request| {
                signed(app, Step::Events, Signer::Device, req, move |cx, (): ()| tokens::events(cx, q))
            }),
        )
        .route(api::AUTHORIZE, post(|State(app): S, req: Request| payments::authorize(app, req)))
        .route(
            api::QR_PAY,
            post(|State(app): S, req: Request| signed(app, Step::QrPay, Signer::Device, req, payments::qr_pay)),
        )
        .route(
            "/sandbox/otp/{id}",
            get(|State(app): S, Path(id): Path<String>| async move {
                pipeline::respond(provisioning::read_outbox(&app.dir, &id).and_then(|v| pipeline::ok(&v)))
            }),
        )
        .route(
            "/sandbox/tokens/{token_ref}/{action}",
            post(|State(app): S, Path((t, action)): Path<(String, String)>| async move {
                tokens::issuer_action(app, t, action).await
            }),
        )
        .fallback(pipeline::not_found)
        .with_state(app)
}

/// The issuer master keys per scheme, hex, with the CVN new tokens get (sandbox only:
/// `wallet-sandbox keys`).
pub fn issuer_keys(dir: &FsPath) -> Result<serde_json::Value, ServerError> {
    let conn = db::open(&dir.join(DB_FILE))?;
    let host = issuer_host::IssuerHost::load_or_create(&conn).map_err(db::DbError::from)?;
    Ok(host.export())
}
