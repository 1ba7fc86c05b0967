//! The database schema, as an ordered list of migrations tracked by `PRAGMA user_version`.
//!
//! To change the schema, **append** a [`Migration`] to [`MIGRATIONS`]; its version is its
//! position (1-based). Never edit, reorder or remove an entry that has shipped: a wallet that
//! already applied it would silently diverge. Each migration runs in its own transaction together
//! with the `user_version` bump, so a crash leaves the file at the previous version.
//!
//! Conventions: secret columns are `BLOB`s holding sealed values (see [`super::seal`]) named
//! after what they hold; timestamps are Unix milliseconds (UTC); enums are small integers with a
//! `CHECK`, mapped in the module that owns the table.

use rusqlite::Transaction;

pub struct Migration {
    /// What it does, for logs and the test that lists the schema.
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        name: "wallet: meta, cards, single-use keys, transaction history",
        sql: V1,
    },
    Migration {
        name: crate::token::schema::MIGRATION_NAME,
        sql: crate::token::schema::MIGRATION_SQL,
    },
];

/// The schema version this build writes: the number of migrations.
pub const VERSION: u32 = MIGRATIONS.len() as u32;

const V1: &str = r#"
-- Store bookkeeping: the wrapped data key and a value sealed under it to recognise it.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;

-- One row per card ever installed; deleted cards stay (status 'deleted', keys wiped) so their
-- history keeps its card. `ref` is the compact id other tables use.
CREATE TABLE cards (
    ref        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    scheme     TEXT NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('staged', 'active', 'suspended', 'deleted')),
    -- lower first; the first active card is the default
    priority   INTEGER NOT NULL,
    -- highest ATC ever consumed; NULL before the first payment
    last_atc   INTEGER CHECK (last_atc BETWEEN 0 AND 65535),
    -- sealed JSON CardProfile (token PAN, expiry)
    profile    BLOB NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- Unused single-use session keys. The row id is card_ref * 65536 + atc: unique for the life of
-- the wallet (an ATC is never reissued), so the sealed key's AAD binds it to its card and ATC,
-- and "next key" is a range scan of the primary key. A key row is deleted when consumed.
CREATE TABLE session_keys (
    id       INTEGER PRIMARY KEY,
    card_ref INTEGER NOT NULL REFERENCES cards(ref),
    atc      INTEGER NOT NULL CHECK (atc BETWEEN 0 AND 65535),
    key      BLOB NOT NULL,
    CHECK (id = card_ref * 65536 + atc)
);

-- The transaction history. channel: 0 nfc, 1 qr_presented, 2 qr_scanned.
-- status: 0 pending, 1 approved, 2 declined, 3 reversed, 4 expired.
-- AUTOINCREMENT: an id is never reused after a delete, so a sealed merchant cannot be replayed
-- into a later record with the same id.
CREATE TABLE records (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    card_ref          INTEGER NOT NULL REFERENCES cards(ref),
    channel           INTEGER NOT NULL CHECK (channel IN (0, 1, 2)),
    status            INTEGER NOT NULL CHECK (status BETWEEN 0 AND 4),
    amount_minor      INTEGER CHECK (amount_minor >= 0),
    currency          INTEGER CHECK (currency BETWEEN 0 AND 999),
    country           INTEGER CHECK (country BETWEEN 0 AND 999),
    atc               INTEGER NOT NULL CHECK (atc BETWEEN 0 AND 65535),
    un                BLOB NOT NULL CHECK (length(un) = 4),
    cryptogram_sha256 BLOB NOT NULL CHECK (length(cryptogram_sha256) = 32),
    cdcvm             INTEGER NOT NULL CHECK (cdcvm IN (0, 1)),
    merchant          BLOB,
    note              BLOB,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
-- Newest-first pages and date ranges (the rowid in every index breaks ties).
CREATE INDEX records_by_time ON records(created_at);
-- The same, for one card.
CREATE INDEX records_by_card ON records(card_ref, created_at);
-- Sync walks the few pending records.
CREATE INDEX records_pending ON records(created_at) WHERE status = 0;
-- One record per spent key: a resync can re-import without duplicating, and a tap can never be
-- recorded twice.
CREATE UNIQUE INDEX records_one_per_atc ON records(card_ref, atc) WHERE channel IN (0, 1);
-- The same for scanned codes, keyed by the payment's cryptogram hash.
CREATE UNIQUE INDEX records_one_per_scan ON records(card_ref, cryptogram_sha256) WHERE channel = 2;

-- Monthly totals kept up to date by every write to records, so stats never scan the history.
-- month is YYYYMM (UTC); currency 0 when unknown.
CREATE TABLE monthly_totals (
    month    INTEGER NOT NULL,
    card_ref INTEGER NOT NULL,
    currency INTEGER NOT NULL,
    status   INTEGER NOT NULL,
    count    INTEGER NOT NULL,
    total    INTEGER NOT NULL,
    PRIMARY KEY (month, card_ref, currency, status)
) WITHOUT ROWID;
"#;

/// Bring the database from `from` up to [`VERSION`], one transaction per migration.
pub(crate) fn migrate(conn: &mut rusqlite::Connection, from: u32) -> rusqlite::Result<()> {
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        let version = i64::try_from(index + 1).unwrap_or(i64::MAX);
        let tx: Transaction<'_> = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        tx.pragma_update(None, "user_version", version)?;
        tx.commit()?;
        log::info!("store: applied migration {version} ({})", migration.name);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_apply_in_order_and_are_idempotent_by_version() {
        let mut conn = rusqlite::Connection::open_in_memory().unwrap();
        migrate(&mut conn, 0).unwrap();
        let v: u32 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        // Nothing left to apply.
        migrate(&mut conn, v).unwrap();
        assert!(
            MIGRATIONS
                .iter()
                .all(|m| !m.name.is_empty() && !m.sql.trim().is_empty())
        );
    }
}
