//! The wallet's SQLite database: one file per wallet holding its cards, their single-use keys
//! and the transaction history, with every secret column sealed under a data key that a
//! [`KeyWrapper`] keeps wrapped.
//!
//! Opening is defensive: a file that is not a database, is malformed or fails `quick_check` is
//! moved aside ([`StoreError::Quarantined`]) and never deleted; a file from a newer build is left
//! untouched ([`StoreError::NewerSchema`]); a read-only location is reported as such
//! ([`StoreError::Unwritable`]). Writes run in `BEGIN IMMEDIATE` transactions with
//! `synchronous=FULL`, so a committed key consumption survives power loss.

pub(crate) mod cards;
pub mod clock;
mod error;
mod ledger;
pub mod schema;
pub mod seal;
pub mod wrapper;

pub use cards::{CardEntry, CardStatus};
pub use error::StoreError;
pub use seal::{Place, Sealer};
pub use wrapper::{KeyWrapper, SoftwareKeyWrapper, WrapError};

use rusqlite::config::DbConfig;
use rusqlite::{
    Connection, ErrorCode, OpenFlags, OptionalExtension, Transaction, TransactionBehavior,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The database file a wallet home holds.
pub const DB_FILE_NAME: &str = "wallet.db";

/// Databases up to this size get a whole-file `quick_check` at every open (about 10,000 history
/// records; a few milliseconds). Larger ones are checked table by table, history excepted.
pub const FULL_CHECK_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// How long a writer waits for another connection's write transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const META_DEK: &str = "dek";
const META_DEK_CHECK: &str = "dek_check";
const DEK_CHECK_PLAINTEXT: &[u8] = b"walletcore data key check";

/// An open wallet database.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) sealer: Sealer,
    path: PathBuf,
}

/// Why opening failed, before it is decided whether the file is quarantined.
enum OpenFailure {
    /// The file is damaged: move it aside.
    Damaged(String),
    Other(StoreError),
}

impl From<StoreError> for OpenFailure {
    fn from(e: StoreError) -> Self {
        OpenFailure::Other(e)
    }
}

impl Store {
    /// Open (or create) the wallet database at `location`: an existing directory (the wallet
    /// home, which gets `wallet.db`) or a database file (existing, or named `*.db` in an
    /// existing directory).
    pub fn open(
        location: impl AsRef<Path>,
        wrapper: Arc<dyn KeyWrapper>,
    ) -> Result<Store, StoreError> {
        let location = location.as_ref();
        let path = if location.is_dir() {
            location.join(DB_FILE_NAME)
        } else if location.is_file() || location.extension().is_some_and(|e| e == "db") {
            location.to_path_buf()
        } else {
            // Not an existing home and not a database file name: creating a file called like
            // the home the caller meant would only hide the mistake.
            return Err(StoreError::Unwritable {
                path: location.to_path_buf(),
                reason: "no such wallet home directory".into(),
            });
        };
        let dir = match path.parent() {
            Some(d) if d.as_os_str().is_empty() => Path::new("."),
            Some(d) => d,
            None => Path::new("."),
        };
        if !dir.is_dir() {
            return Err(StoreError::Unwritable {
                path,
                reason: "the directory does not exist".into(),
            });
        }
        match open_checked(&path, wrapper.as_ref()) {
            Ok((conn, sealer)) => Ok(Store { conn, sealer, path }),
            Err(OpenFailure::Other(e)) => Err(e),
            Err(OpenFailure::Damaged(reason)) => {
                log::warn!("store: quarantining {}: {reason}", path.display());
                let moved = quarantine(&path)?;
                Err(StoreError::Quarantined {
                    path: moved,
                    reason,
                })
            }
        }
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The sealer for this wallet's data key, for modules that keep their own secret columns.
    pub fn sealer(&self) -> &Sealer {
        &self.sealer
    }

    /// The connection, for modules that own tables in this database (see [`schema`]) to read
    /// them; they write through [`Store::write`].
    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// Run `f` in one `BEGIN IMMEDIATE` transaction and commit if it returns `Ok`: the way
    /// modules that own tables in this database write to them.
    pub fn write<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>, &Sealer) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let tx = self.conn.transaction()?;
        let out = f(&tx, &self.sealer)?;
        tx.commit()?;
        Ok(out)
    }

    /// Whole-file `PRAGMA quick_check`: `Ok(())` or [`StoreError::Corrupt`]. Open runs it for
    /// small files; for a large history run it off the critical path (e.g. at idle) and, on
    /// `Corrupt`, drop the store and [`quarantine`] the file. The same applies to a `Corrupt`
    /// error from any other call.
    pub fn verify(&self) -> Result<(), StoreError> {
        check_pragma(&self.conn, "quick_check")
    }

    /// Full `PRAGMA integrity_check`: `Ok(())` or the problems SQLite lists. Slow on a large
    /// history; for tests, diagnostics and an idle-time check.
    pub fn integrity_check(&self) -> Result<(), StoreError> {
        check_pragma(&self.conn, "integrity_check")
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<u32, StoreError> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }
}

fn open_checked(
    path: &Path,
    wrapper: &dyn KeyWrapper,
) -> Result<(Connection, Sealer), OpenFailure> {
    let unwritable = |reason: String| {
        OpenFailure::Other(StoreError::Unwritable {
            path: path.to_path_buf(),
            reason,
        })
    };
    // Classify a SQLite error met while opening: damage gets the file quarantined, a permission
    // problem is reported as such, anything else passes through.
    let classify = |e: rusqlite::Error| match e.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => {
            OpenFailure::Damaged(e.to_string())
        }
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly | ErrorCode::PermissionDenied) => {
            unwritable(e.to_string())
        }
        _ => OpenFailure::Other(e.into()),
    };

    // No URI interpretation of the path: it is a file name.
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let mut conn = Connection::open_with_flags(path, flags).map_err(classify)?;
    // Until the file is known to be healthy and ours, closing must not checkpoint the WAL into
    // it: a quarantined or newer file is kept exactly as found.
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)
        .map_err(classify)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(classify)?;
    // SQLite quietly opens a read-only file read-only; say so now rather than at the first tap.
    if conn.is_readonly(rusqlite::MAIN_DB).map_err(classify)? {
        return Err(unwritable("the database file is read-only".into()));
    }

    let found: u32 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(classify)?;
    if found > schema::VERSION {
        return Err(StoreError::NewerSchema {
            found,
            supported: schema::VERSION,
        }
        .into());
    }

    let mode: String = conn
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .map_err(classify)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(unwritable(format!(
            "could not switch to WAL (journal_mode is {mode})"
        )));
    }
    for (pragma, value) in [
        ("synchronous", "FULL"),
        ("secure_delete", "ON"),
        ("foreign_keys", "ON"),
        ("temp_store", "MEMORY"),
        // Schema SQL is ours; never run functions a tampered schema might name.
        ("trusted_schema", "OFF"),
        // Keep the WAL from growing without bound after a burst of writes.
        ("journal_size_limit", "4194304"),
        // 8 MiB of page cache (default 2): the hot index pages of a large history stay in memory
        // across a bulk import or a scroll through the pages.
        ("cache_size", "-8192"),
    ] {
        conn.pragma_update(None, pragma, value).map_err(classify)?;
    }
    match quick_check_at_open(&conn) {
        Ok(()) => {}
        Err(StoreError::Corrupt(reason)) => return Err(OpenFailure::Damaged(reason)),
        Err(e) => return Err(e.into()),
    }
    // Writes are IMMEDIATE: take the write lock up front so two writers never deadlock
    // upgrading from read to write, and `busy_timeout` applies.
    conn.set_transaction_behavior(TransactionBehavior::Immediate);
    schema::migrate(&mut conn, found).map_err(classify)?;
    let sealer = load_data_key(&mut conn, wrapper)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, false)
        .map_err(classify)?;
    Ok((conn, sealer))
}

/// Unwrap the wallet's data key, or create and wrap one for a new wallet.
fn load_data_key(conn: &mut Connection, wrapper: &dyn KeyWrapper) -> Result<Sealer, OpenFailure> {
    let version = u16::try_from(schema::VERSION)
        .map_err(|_| StoreError::Invalid("schema version exceeds 65535".into()))?;
    let check_place = Place::new("meta", 0, META_DEK_CHECK);
    let tx = conn.transaction().map_err(StoreError::from)?;
    let get = |key: &str| -> Result<Option<Vec<u8>>, StoreError> {
        Ok(tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    };
    if let Some(wrapped) = get(META_DEK)? {
        let dek = wrapper.unwrap(&wrapped).map_err(StoreError::from)?;
        let sealer = Sealer::new(&dek, version)?;
        let check = get(META_DEK_CHECK)?
            .ok_or_else(|| OpenFailure::Damaged("the data key check value is missing".into()))?;
        match sealer.open(check_place, &check) {
            Ok(plain) if plain[..] == *DEK_CHECK_PLAINTEXT => Ok(sealer),
            _ => Err(StoreError::WrongKey("the key wrapper returned another key".into()).into()),
        }
    } else {
        let holds_data: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM cards) OR EXISTS (SELECT 1 FROM records)",
                [],
                |r| r.get(0),
            )
            .map_err(StoreError::from)?;
        if holds_data {
            // A new key could never open what is there: keep the file for a human to look at.
            return Err(OpenFailure::Damaged(
                "the data key is missing but the wallet holds data".into(),
            ));
        }
        let dek = Sealer::generate_dek()?;
        let wrapped = wrapper.wrap(&dek).map_err(StoreError::from)?;
        // A wrapper that cannot give the key back must fail now, before anything depends on it.
        let back = wrapper.unwrap(&wrapped).map_err(StoreError::from)?;
        if !crate::emv::crypto::ct_eq(&back, &dek) {
            return Err(StoreError::WrongKey("the key wrapper does not round-trip".into()).into());
        }
        let sealer = Sealer::new(&dek, version)?;
        let check = sealer.seal(check_place, DEK_CHECK_PLAINTEXT)?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, ?2), (?3, ?4)",
            rusqlite::params![META_DEK, wrapped, META_DEK_CHECK, check],
        )
        .map_err(StoreError::from)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(sealer)
    }
}

/// `quick_check` at open, bounded so a large history does not slow every start: a file up to
/// [`FULL_CHECK_MAX_BYTES`] is checked whole; a larger one has every table but `records` checked
/// (the keys, ATCs, cards and data key: what payments depend on), and [`Store::verify`] checks
/// the rest off the critical path. SQLite still reports damage in any page it reads.
fn quick_check_at_open(conn: &Connection) -> Result<(), StoreError> {
    let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
    let page_size: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let bytes = u64::try_from(pages.saturating_mul(page_size)).unwrap_or(u64::MAX);
    if bytes <= FULL_CHECK_MAX_BYTES {
        return check_pragma(conn, "quick_check");
    }
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name <> 'records'")?
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    for table in tables {
        check_pragma(
            conn,
            &format!("quick_check(\"{}\")", table.replace('"', "\"\"")),
        )?;
    }
    Ok(())
}

/// Run `PRAGMA quick_check` / `integrity_check`; anything but a single `ok` is corruption.
fn check_pragma(conn: &Connection, pragma: &str) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(&format!("PRAGMA {pragma}"))?;
    let mut problems = Vec::new();
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let line: String = row.get(0)?;
        if line != "ok" {
            problems.push(line);
        }
        if problems.len() >= 5 {
            break;
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(StoreError::Corrupt(format!(
            "{pragma}: {}",
            problems.join("; ")
        )))
    }
}

/// Move a damaged database aside as `<name>.corrupt-<UTC stamp>` (with `-wal` and `-shm`),
/// so the next open starts a fresh wallet. Returns the new path of the database file. Nothing is
/// deleted. Also the way to start over deliberately, e.g. after the wrapping key was invalidated.
pub fn quarantine(db: &Path) -> Result<PathBuf, StoreError> {
    let name = db
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| DB_FILE_NAME.to_owned());
    let stamp = clock::compact_stamp(clock::now_ms());
    let sidecar = |p: &Path, suffix: &str| {
        let mut s = p.as_os_str().to_owned();
        s.push(suffix);
        PathBuf::from(s)
    };
    let mut target = db.with_file_name(format!("{name}.corrupt-{stamp}"));
    let mut n = 1;
    while target.exists() || sidecar(&target, "-wal").exists() {
        target = db.with_file_name(format!("{name}.corrupt-{stamp}-{n}"));
        n += 1;
    }
    let unwritable = |e: std::io::Error| StoreError::Unwritable {
        path: db.to_path_buf(),
        reason: format!("could not move the damaged database aside: {e}"),
    };
    // The WAL goes first: a stale WAL left beside a fresh database would be replayed into it.
    for suffix in ["-wal", "-shm"] {
        let from = sidecar(db, suffix);
        if from.exists() {
            std::fs::rename(&from, sidecar(&target, suffix)).map_err(unwritable)?;
        }
    }
    if db.exists() {
        std::fs::rename(db, &target).map_err(unwritable)?;
    }
    if let Some(dir) = db.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Make the renames durable; failure here loses nothing, so it is not an error.
        let _ = std::fs::File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(target)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_store_can_move_to_another_thread() {
        fn send<T: Send>() {}
        send::<super::Store>();
    }
}
