//! Fault injection for the failpoint tests (`cargo test -p wallet-core --features failpoints`).
//!
//! `failpoint!("name")` is the `fail` crate's `fail_point!`: a test configures it to panic (a
//! crash at that line: an open SQLite transaction rolls back as it would on process death),
//! to return an error, or to pause. Without the `failpoints` feature it expands to nothing, so a
//! release build carries no trace of it. Each point is one line, placed where a crash or an I/O
//! error would do the most harm:
//!
//! | point | where | `return` gives |
//! | --- | --- | --- |
//! | `ledger::before_commit` | store/ledger.rs: key deleted, ATC raised, record written, not committed | disk I/O error |
//! | `ledger::after_commit` | store/ledger.rs: committed, ATC not yet returned | disk I/O error |
//! | `hce::before_respond` | hce/engine.rs: the ledger committed, the response not yet built | `6F00` |
//! | `cards::install::staged` | store/cards.rs: card and keys inserted as `staged` | disk I/O error |
//! | `cards::install::verified` | store/cards.rs: read back and checked, not yet `active` | disk I/O error |
//! | `cards::install::switched` | store/cards.rs: `active`, not committed | disk I/O error |
//! | `cards::add_keys::before_commit` | store/cards.rs: replenishment inserted, not committed | disk I/O error |
//! | `history::record::before_commit` / `after_commit` | history/write.rs `record` | disk I/O error |
//! | `history::import::record` | history/write.rs `import`, after each record | disk I/O error |
//! | `history::import::before_commit` | history/write.rs `import`: ATCs raised, keys dropped | disk I/O error |
//! | `history::set_status::before_commit` | history/write.rs `set_status` | disk I/O error |
//! | `history::apply_statuses::update` | history/write.rs `apply_statuses`, after each update | disk I/O error |
//! | `token::client::before_send` | token/client.rs, every request, before it leaves (retried) | no answer |
//! | `token::client::answer_lost` | token/client.rs, every answer, after the server handled it | no answer |

/// `failpoint!("name")` (panic or pause only), `failpoint!("name", io_error)` (`return` gives a
/// disk I/O error converted with `into()`), `failpoint!("name", no_answer)` (`return` gives the
/// token client's "no answer"), or `failpoint!("name", |arg| value)`.
#[cfg(feature = "failpoints")]
macro_rules! failpoint {
    ($name:literal, io_error) => {
        fail::fail_point!($name, |_| Err($crate::failpoint::io_error($name).into()))
    };
    ($name:literal, no_answer) => {
        fail::fail_point!($name, |_| {
            Err($crate::token::client::ClientError::NoAnswer(format!("failpoint {}", $name)))
        })
    };
    ($($arg:tt)*) => {
        fail::fail_point!($($arg)*)
    };
}

#[cfg(not(feature = "failpoints"))]
macro_rules! failpoint {
    ($($arg:tt)*) => {};
}

/// What a failing disk looks like to the store: SQLite's `SQLITE_IOERR`.
#[cfg(feature = "failpoints")]
pub(crate) fn io_error(point: &str) -> crate::store::StoreError {
    crate::store::StoreError::Sqlite(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_IOERR),
        Some(format!("failpoint {point}")),
    ))
}
