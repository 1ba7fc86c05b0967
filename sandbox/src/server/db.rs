//! The token service's SQLite database: devices, replay and idempotency records, provisionings,
//! the token vault, issued keys, authorisations and the lifecycle event feed.

use rusqlite::Connection;
use std::path::Path;

/// Version 1 of the schema. The sandbox has no migrations yet: a newer server refuses an older
/// file (see [`open`]) rather than guessing.
pub const SCHEMA_VERSION: i64 = 1;

pub const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS issuer_keys (scheme TEXT PRIMARY KEY, imk_ac BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS server_keys (
    kid TEXT PRIMARY KEY, scalar BLOB NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS devices (
    device_id TEXT PRIMARY KEY, signing_key BLOB NOT NULL, agreement_jwk TEXT NOT NULL,
    created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS nonces (
    device_id TEXT NOT NULL, nonce TEXT NOT NULL, ts INTEGER NOT NULL,
    PRIMARY KEY (device_id, nonce)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS nonces_ts ON nonces (ts);
CREATE TABLE IF NOT EXISTS idempotency (
    device_id TEXT NOT NULL, idem_key TEXT NOT NULL, request_sha256 BLOB NOT NULL,
    status INTEGER NOT NULL, body BLOB NOT NULL, created INTEGER NOT NULL,
    PRIMARY KEY (device_id, idem_key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS provisionings (
    id TEXT PRIMARY KEY, device_id TEXT NOT NULL, pan TEXT NOT NULL, scheme TEXT NOT NULL,
    behaviour TEXT NOT NULL, state TEXT NOT NULL, terms_id TEXT NOT NULL,
    idv_method TEXT, otp_sha256 BLOB, otp_expires INTEGER, otp_attempts_left INTEGER NOT NULL,
    token_ref TEXT, created INTEGER NOT NULL, updated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS vault (
    token_pan TEXT PRIMARY KEY, token_ref TEXT NOT NULL UNIQUE, pan TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_ref TEXT PRIMARY KEY, provisioning_id TEXT NOT NULL UNIQUE, device_id TEXT NOT NULL,
    scheme TEXT NOT NULL, cvn TEXT NOT NULL, token_pan TEXT NOT NULL UNIQUE, token_expiry TEXT NOT NULL,
    psn INTEGER NOT NULL, state TEXT NOT NULL, log_mac_key BLOB NOT NULL,
    last_issued_atc INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issued_atcs (
    token_ref TEXT NOT NULL, atc INTEGER NOT NULL, reported_used INTEGER NOT NULL DEFAULT 0,
    voided INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (token_ref, atc)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS authorisations (
    id INTEGER PRIMARY KEY, token_ref TEXT NOT NULL, atc INTEGER NOT NULL,
    cryptogram_sha256 BLOB NOT NULL UNIQUE, amount_minor INTEGER, currency INTEGER,
    status TEXT NOT NULL, response_code TEXT NOT NULL, channel TEXT NOT NULL,
    merchant TEXT, created INTEGER NOT NULL, UNIQUE (token_ref, atc));
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, device_id TEXT NOT NULL, token_ref TEXT NOT NULL,
    kind TEXT NOT NULL, reason TEXT NOT NULL, created INTEGER NOT NULL);
"#;

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("sandbox database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("sandbox database has schema version {0}; this server knows {SCHEMA_VERSION}")]
    Version(i64),
}

/// Open (creating if needed) the database file: WAL, full sync (a committed token or
/// authorisation must survive a crash), foreign data checked at open.
pub fn open(path: &Path) -> Result<Connection, DbError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "busy_timeout", 5000)?;
    conn.execute_batch(SCHEMA)?;
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    match version {
        0 => conn.pragma_update(None, "user_version", SCHEMA_VERSION)?,
        SCHEMA_VERSION => {}
        other => return Err(DbError::Version(other)),
    }
    Ok(conn)
}
