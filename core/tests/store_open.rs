//! Opening the wallet database: settings, migrations, and every way a file can be wrong —
//! not a database, truncated, corrupted, from a newer build, unwritable, under another key.
//! Each must give a clear typed error, keep the original, and let a fresh start happen.

#[path = "fixtures/support.rs"]
mod support;

use rusqlite::Connection;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use support::*;
use wallet_core::card::Scheme;
use wallet_core::ledger::Channel;
use wallet_core::store::{KeyWrapper, Store, StoreError, WrapError, quarantine, schema};
use zeroize::Zeroizing;

fn db(dir: &Path) -> PathBuf {
    dir.join("wallet.db")
}

/// A wallet with a card and `n` records, closed.
fn populated(dir: &Path, n: u16) {
    let mut s = open(dir);
    s.install_card(perso("c1", Scheme::Visa, 1..=5)).unwrap();
    let items = (0..n).map(|i| wallet_core::history::Imported {
        draft: draft(
            "c1",
            Channel::QrScanned,
            i,
            100 + u64::from(i),
            Some("Corner Shop"),
        ),
        status: wallet_core::history::Status::Approved,
        created_at_ms: 1_700_000_000_000 + i64::from(i) * 60_000,
    });
    s.import(items).unwrap();
}

fn quarantined_files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".corrupt-"))
        .collect();
    v.sort();
    v
}

/// Opening `dir` must quarantine the damaged file, keep its bytes, and then start fresh.
fn assert_quarantines(dir: &Path, damaged: &[u8]) {
    let err = Store::open(dir, wrapper(dir))
        .err()
        .expect("a damaged file must not open");
    let StoreError::Quarantined { path, reason } = err else {
        panic!("expected Quarantined, got {err:?}");
    };
    assert!(!reason.is_empty());
    assert_eq!(
        fs::read(&path).unwrap(),
        damaged,
        "quarantined bytes are the original's"
    );
    assert!(!db(dir).exists(), "the damaged file is moved, not copied");
    // A fresh start works in the same home, with the same key file.
    let fresh = open(dir);
    assert!(fresh.cards().unwrap().is_empty());
    fresh.integrity_check().unwrap();
}

#[test]
fn fresh_wallet_uses_the_intended_settings() {
    let home = tempfile::tempdir().unwrap();
    let s = open(home.path());
    let c = s.connection();
    let get = |p: &str| -> String {
        c.pragma_query_value(None, p, |r| r.get::<_, rusqlite::types::Value>(0))
            .map(|v| match v {
                rusqlite::types::Value::Integer(i) => i.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => format!("{other:?}"),
            })
            .unwrap()
    };
    assert_eq!(get("journal_mode"), "wal");
    assert_eq!(get("synchronous"), "2", "FULL");
    assert_eq!(get("secure_delete"), "1");
    assert_eq!(get("foreign_keys"), "1");
    assert_eq!(get("temp_store"), "2", "MEMORY");
    assert_eq!(s.schema_version().unwrap(), schema::VERSION);
    assert_eq!(s.path(), db(home.path()));
    // The database file path works as well as the home directory.
    drop(s);
    let again = Store::open(db(home.path()), wrapper(home.path())).unwrap();
    assert_eq!(again.schema_version().unwrap(), schema::VERSION);
}

#[test]
fn data_survives_reopen() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 10);
    let s = open(home.path());
    assert_eq!(s.cards().unwrap().len(), 1);
    assert_eq!(s.count_records(&Default::default()).unwrap(), 10);
    assert!(quarantined_files(home.path()).is_empty());
}

#[test]
fn a_file_that_is_not_a_database_is_quarantined() {
    let home = tempfile::tempdir().unwrap();
    let junk: Vec<u8> = b"this is a shopping list, not a database\n".repeat(200);
    fs::write(db(home.path()), &junk).unwrap();
    assert_quarantines(home.path(), &junk);
}

#[test]
fn truncated_files_are_quarantined() {
    for keep in [50usize, 100, 4096 + 10, 3 * 4096, 0] {
        let home = tempfile::tempdir().unwrap();
        populated(home.path(), 3000);
        let full = fs::read(db(home.path())).unwrap();
        assert!(full.len() > 20 * 4096, "big enough to cut: {}", full.len());
        // 0 means: cut in half.
        let keep = if keep == 0 { full.len() / 2 } else { keep };
        fs::write(db(home.path()), &full[..keep]).unwrap();
        assert_quarantines(home.path(), &full[..keep]);
    }
}

#[test]
fn a_corrupted_page_is_quarantined() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 3000);
    let mut bytes = fs::read(db(home.path())).unwrap();
    let page = 4096;
    // Clobber the header of a b-tree leaf page in the middle of the file.
    let n = bytes.len() / page;
    let victim = (n / 2..n)
        .find(|p| matches!(bytes[p * page], 0x0D | 0x0A))
        .expect("a leaf page");
    bytes[victim * page..victim * page + 12].fill(0xFF);
    fs::write(db(home.path()), &bytes).unwrap();
    assert_quarantines(home.path(), &bytes);
}

#[test]
fn the_wal_goes_with_the_quarantined_file() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 10);
    // Leave committed data in the WAL (no checkpoint on close), then damage the main file.
    {
        let c = Connection::open(db(home.path())).unwrap();
        c.set_db_config(
            rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE,
            true,
        )
        .unwrap();
        c.execute("UPDATE records SET amount_minor = 7", [])
            .unwrap();
    }
    let wal = fs::read(home.path().join("wallet.db-wal")).unwrap();
    assert!(!wal.is_empty());
    let junk = vec![0x42u8; 8192];
    fs::write(db(home.path()), &junk).unwrap();
    let Err(StoreError::Quarantined { path, .. }) = Store::open(home.path(), wrapper(home.path()))
    else {
        panic!("expected quarantine");
    };
    let mut moved_wal = path.clone().into_os_string();
    moved_wal.push("-wal");
    assert_eq!(
        fs::read(moved_wal).unwrap(),
        wal,
        "the WAL is kept beside the quarantined file"
    );
    assert!(
        !home.path().join("wallet.db-wal").exists(),
        "no stale WAL beside the fresh database"
    );
    open(home.path()).integrity_check().unwrap();
}

#[test]
fn a_newer_schema_is_refused_and_left_untouched() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 10);
    {
        let c = Connection::open(db(home.path())).unwrap();
        c.pragma_update(None, "user_version", schema::VERSION + 1)
            .unwrap();
    }
    let before = fs::read(db(home.path())).unwrap();
    let err = Store::open(home.path(), wrapper(home.path()))
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::NewerSchema { found, supported } if found == schema::VERSION + 1 && supported == schema::VERSION),
        "{err:?}"
    );
    assert_eq!(
        fs::read(db(home.path())).unwrap(),
        before,
        "not a byte changed"
    );
    assert!(quarantined_files(home.path()).is_empty());
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let home = tempfile::tempdir().unwrap();
    let gone = home.path().join("nope").join("wallet.db");
    let err = Store::open(&gone, wrapper(home.path())).err().unwrap();
    assert!(
        matches!(err, StoreError::Unwritable { ref reason, .. } if reason.contains("does not exist")),
        "{err:?}"
    );
    let no_home = home.path().join("not-created-yet");
    let err = Store::open(&no_home, wrapper(home.path())).err().unwrap();
    assert!(
        matches!(err, StoreError::Unwritable { ref reason, .. } if reason.contains("home")),
        "{err:?}"
    );
    assert!(!no_home.exists(), "no file is created in place of the home");
}

/// Root ignores file permissions, so as root the permission test re-runs itself without the
/// capabilities that bypass them (`setpriv`, util-linux). Returns true if it ran in a child.
fn rerun_without_dac_override(test: &str) -> bool {
    let probe = tempfile::tempdir().unwrap();
    set_mode(probe.path(), 0o555);
    let privileged = fs::write(probe.path().join("x"), b"x").is_ok();
    set_mode(probe.path(), 0o755);
    if !privileged || std::env::var_os("WALLETCORE_UNPRIVILEGED").is_some() {
        assert!(!privileged, "permissions are still bypassed in the child");
        return false;
    }
    let exe = std::env::current_exe().unwrap();
    let status = std::process::Command::new("setpriv")
        .args(["--bounding-set", "-dac_override,-dac_read_search", "--"])
        .arg(exe)
        .args(["--exact", test, "--nocapture", "--test-threads=1"])
        .env("WALLETCORE_UNPRIVILEGED", "1")
        .status()
        .unwrap_or_else(|e| {
            panic!("running as root: need `setpriv` (apt-get install util-linux) to test permissions: {e}")
        });
    assert!(status.success(), "the unprivileged run of {test} failed");
    true
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn read_only_locations_are_a_clear_error_and_lose_nothing() {
    if rerun_without_dac_override("read_only_locations_are_a_clear_error_and_lose_nothing") {
        return;
    }
    // An empty read-only home: nothing can be created.
    let empty = tempfile::tempdir().unwrap();
    let kek = tempfile::tempdir().unwrap();
    set_mode(empty.path(), 0o555);
    let err = Store::open(empty.path(), wrapper(kek.path()))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Unwritable { .. }), "{err:?}");
    assert_eq!(
        fs::read_dir(empty.path()).unwrap().count(),
        0,
        "nothing created"
    );
    set_mode(empty.path(), 0o755);

    // An existing wallet whose home became read-only.
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 20);
    let before = fs::read(db(home.path())).unwrap();
    set_mode(home.path(), 0o555);
    let err = Store::open(home.path(), wrapper(home.path()))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::Unwritable { .. }), "{err:?}");
    assert!(
        err.to_string().contains("wallet.db"),
        "the message names the file: {err}"
    );
    assert_eq!(fs::read(db(home.path())).unwrap(), before);
    assert!(
        quarantined_files(home.path()).is_empty(),
        "a read-only file is not a damaged one"
    );
    set_mode(home.path(), 0o755);

    // A read-only database file in a writable home.
    set_mode(&db(home.path()), 0o444);
    let err = Store::open(home.path(), wrapper(home.path()))
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::Unwritable { ref reason, .. } if reason.contains("read-only")),
        "{err:?}"
    );
    set_mode(&db(home.path()), 0o644);

    // Once writable again, everything is there.
    let s = open(home.path());
    assert_eq!(s.count_records(&Default::default()).unwrap(), 20);
}

/// A wrapper that hands back a key of its own choosing, or fails the way a Keystore can.
struct Rogue(Result<[u8; 32], WrapError>);

impl KeyWrapper for Rogue {
    fn wrap(&self, dek: &[u8]) -> Result<Vec<u8>, WrapError> {
        Ok(dek.to_vec())
    }
    fn unwrap(&self, _blob: &[u8]) -> Result<Zeroizing<Vec<u8>>, WrapError> {
        self.0.clone().map(|k| Zeroizing::new(k.to_vec()))
    }
}

#[test]
fn key_problems_are_reported_not_quarantined() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 5);

    let err = Store::open(home.path(), Arc::new(Rogue(Ok([1u8; 32]))))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongKey(_)), "{err:?}");

    let err = Store::open(home.path(), Arc::new(Rogue(Err(WrapError::KeyInvalidated))))
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::KeyUnavailable(WrapError::KeyInvalidated)),
        "{err:?}"
    );

    // Another desktop key file cannot open this wallet's data key.
    let other = tempfile::tempdir().unwrap();
    let err = Store::open(home.path(), wrapper(other.path()))
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::KeyUnavailable(WrapError::Failed(_))),
        "{err:?}"
    );
    assert!(
        quarantined_files(home.path()).is_empty(),
        "the data is intact; only the key is missing"
    );

    // The right key still opens it.
    assert_eq!(
        open(home.path())
            .count_records(&Default::default())
            .unwrap(),
        5
    );

    // With the key gone for good, the user starts over deliberately: the old file is kept.
    let moved = quarantine(&db(home.path())).unwrap();
    assert!(moved.exists());
    let s = Store::open(home.path(), wrapper(other.path())).unwrap();
    assert!(s.cards().unwrap().is_empty());
}

#[test]
fn a_wrapper_that_cannot_round_trip_is_refused_at_creation() {
    let home = tempfile::tempdir().unwrap();
    let err = Store::open(home.path(), Arc::new(Rogue(Ok([3u8; 32]))))
        .err()
        .unwrap();
    assert!(matches!(err, StoreError::WrongKey(_)), "{err:?}");
}

#[test]
fn a_missing_data_key_with_data_is_quarantined() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 5);
    {
        let c = Connection::open(db(home.path())).unwrap();
        c.execute("DELETE FROM meta", []).unwrap();
    }
    let err = Store::open(home.path(), wrapper(home.path()))
        .err()
        .unwrap();
    assert!(
        matches!(err, StoreError::Quarantined { ref reason, .. } if reason.contains("data key")),
        "{err:?}"
    );
    open(home.path());
}

#[test]
fn quarantine_names_never_collide() {
    let home = tempfile::tempdir().unwrap();
    let mut seen = Vec::new();
    for i in 0..3u8 {
        fs::write(db(home.path()), [i; 10]).unwrap();
        let moved = quarantine(&db(home.path())).unwrap();
        assert_eq!(fs::read(&moved).unwrap(), [i; 10]);
        seen.push(moved);
    }
    seen.dedup();
    assert_eq!(seen.len(), 3);
    assert_eq!(quarantined_files(home.path()).len(), 3);
}

/// Pages of `table` (or index) of the given dbstat page type, found with SQLite's own dbstat.
fn pages_of(dir: &Path, name: &str, pagetype: &str) -> Vec<usize> {
    let c = Connection::open(db(dir)).unwrap();
    let mut stmt = c
        .prepare("SELECT pageno FROM dbstat WHERE name = ?1 AND pagetype = ?2 ORDER BY pageno")
        .unwrap();
    stmt.query_map([name, pagetype], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|p| p.unwrap() as usize)
        .collect()
}

fn clobber_page(dir: &Path, bytes: &[u8], pageno: usize) -> Vec<u8> {
    let mut b = bytes.to_vec();
    let at = (pageno - 1) * 4096;
    b[at..at + 12].fill(0xFF);
    fs::write(db(dir), &b).unwrap();
    b
}

#[test]
fn a_large_history_is_checked_table_by_table_at_open_and_whole_by_verify() {
    let home = tempfile::tempdir().unwrap();
    populated(home.path(), 16_000);
    let clean = fs::read(db(home.path())).unwrap();
    assert!(
        clean.len() as u64 > wallet_core::store::FULL_CHECK_MAX_BYTES,
        "size {}",
        clean.len()
    );

    // Damage in the history: open still works (payments do not wait for a full scan) ...
    let records = pages_of(home.path(), "records", "leaf");
    clobber_page(home.path(), &clean, records[records.len() / 2]);
    let s = open(home.path());
    assert_eq!(s.remaining_keys("c1").unwrap(), 5, "the ledger is readable");
    // ... verify finds it, and so does reading the damaged page.
    assert!(matches!(s.verify(), Err(StoreError::Corrupt(_))));
    let walked = (|| -> Result<(), StoreError> {
        let mut cursor = None;
        loop {
            let page = s.records(&Default::default(), cursor.as_ref(), 1000)?;
            match page.next {
                Some(c) => cursor = Some(c),
                None => return Ok(()),
            }
        }
    })();
    assert!(matches!(walked, Err(StoreError::Corrupt(_))), "{walked:?}");
    drop(s);
    let moved = quarantine(&db(home.path())).unwrap();
    assert!(moved.exists());
    assert!(open(home.path()).cards().unwrap().is_empty());

    // Damage in the key ledger of a large file is caught at open.
    fs::remove_file(db(home.path())).unwrap();
    fs::write(db(home.path()), &clean).unwrap();
    let keys = pages_of(home.path(), "session_keys", "leaf");
    let damaged = clobber_page(home.path(), &clean, keys[0]);
    assert_quarantines(home.path(), &damaged);
}
