//! Writing the history: inserts (inside the ledger's transaction or on their own), imports
//! after a fresh start, status updates from sync, notes, deletion. Every write keeps the
//! `monthly_totals` rollup in step in the same transaction.

use super::{Channel, Record, Status, channel_code};
use crate::ledger::TxnDraft;
use crate::store::cards::{self, key_row};
use crate::store::clock::{civil_from_ms, now_ms};
use crate::store::{Place, Sealer, Store, StoreError};
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::HashMap;

/// A record restored from the server (or another device) with its original time and status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub draft: TxnDraft,
    pub status: Status,
    pub created_at_ms: i64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub inserted: u64,
    /// Already present (same card and ATC, or same scanned payment): left as they were.
    pub skipped: u64,
}

pub(crate) fn merchant_place(id: i64) -> Place<'static> {
    Place::new("records", id, "merchant")
}

pub(crate) fn note_place(id: i64) -> Place<'static> {
    Place::new("records", id, "note")
}

/// `YYYYMM` of a timestamp, the rollup's month key.
pub(crate) fn month_key(ms: i64) -> i64 {
    let (y, m, ..) = civil_from_ms(ms);
    y * 100 + i64::from(m)
}

/// Add `count`/`total` to one rollup cell (negative to take away); empty cells are removed.
fn adjust_totals(
    conn: &Connection,
    month: i64,
    card_ref: i64,
    currency: Option<u16>,
    status: Status,
    count: i64,
    total: i64,
) -> Result<(), StoreError> {
    let key = params![
        month,
        card_ref,
        currency.unwrap_or(0),
        status.code(),
        count,
        total
    ];
    conn.prepare_cached(
        "INSERT INTO monthly_totals (month, card_ref, currency, status, count, total)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (month, card_ref, currency, status)
         DO UPDATE SET count = count + excluded.count, total = total + excluded.total",
    )?
    .execute(key)?;
    if count < 0 {
        conn.prepare_cached(
            "DELETE FROM monthly_totals
             WHERE month = ?1 AND card_ref = ?2 AND currency = ?3 AND status = ?4 AND count <= 0",
        )?
        .execute(params![
            month,
            card_ref,
            currency.unwrap_or(0),
            status.code()
        ])?;
    }
    Ok(())
}

fn amount_i64(amount: Option<u64>) -> Result<Option<i64>, StoreError> {
    amount
        .map(|a| {
            i64::try_from(a).map_err(|_| StoreError::Invalid(format!("amount {a} is out of range")))
        })
        .transpose()
}

fn check_code(what: &str, v: Option<u16>) -> Result<(), StoreError> {
    match v {
        Some(v) if v > 999 => Err(StoreError::Invalid(format!(
            "{what} {v} is not a 3-digit ISO code"
        ))),
        _ => Ok(()),
    }
}

/// A `monthly_totals` key: month (YYYYMM), card ref, currency, status.
type RollupCell = (i64, i64, Option<u16>, Status);

/// Inserts records inside the caller's transaction: ids handed out in sequence, the monthly
/// rollup added up in memory and written once by [`Inserter::finish`]. A record that already
/// exists (same card and ATC, or same scanned payment) is [`StoreError::DuplicateRecord`]; the
/// transaction stays usable and the id is not spent.
pub(crate) struct Inserter<'c> {
    conn: &'c Connection,
    stmt: rusqlite::CachedStatement<'c>,
    next_id: i64,
    totals: HashMap<RollupCell, (i64, i64)>,
}

impl<'c> Inserter<'c> {
    pub(crate) fn new(conn: &'c Connection) -> Result<Self, StoreError> {
        Ok(Inserter {
            conn,
            stmt: conn.prepare_cached(
                "INSERT INTO records (id, card_ref, channel, status, amount_minor, currency, country, atc, un,
                                      cryptogram_sha256, cdcvm, merchant, note, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, NULL, ?13, ?14)",
            )?,
            next_id: cards::next_id(conn, "records")?,
            totals: HashMap::new(),
        })
    }

    /// Insert one record; returns its id.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn push(
        &mut self,
        sealer: &Sealer,
        card_ref: i64,
        draft: &TxnDraft,
        status: Status,
        created_at: i64,
        updated_at: i64,
    ) -> Result<i64, StoreError> {
        let amount = amount_i64(draft.amount_minor)?;
        check_code("currency", draft.currency)?;
        check_code("country", draft.country)?;
        if created_at < 0 {
            return Err(StoreError::Invalid(
                "timestamps before 1970 are not payments".into(),
            ));
        }
        let id = self.next_id;
        let merchant = draft
            .merchant
            .as_deref()
            .map(|m| sealer.seal(merchant_place(id), m.as_bytes()))
            .transpose()?;
        let inserted = self.stmt.execute(params![
            id,
            card_ref,
            channel_code(draft.channel),
            status.code(),
            amount,
            draft.currency,
            draft.country,
            draft.atc,
            draft.unpredictable_number,
            draft.cryptogram_sha256,
            draft.cdcvm,
            merchant,
            created_at,
            updated_at,
        ]);
        match inserted {
            Ok(_) => {}
            Err(e) if e.extended_code() == Some(rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE) => {
                return Err(StoreError::DuplicateRecord {
                    card: draft.card_id.clone(),
                    atc: draft.atc,
                });
            }
            Err(e) => return Err(e.into()),
        }
        self.next_id += 1;
        let cell = self
            .totals
            .entry((month_key(created_at), card_ref, draft.currency, status))
            .or_default();
        cell.0 += 1;
        cell.1 += amount.unwrap_or(0);
        Ok(id)
    }

    /// Write the rollup of what was inserted.
    pub(crate) fn finish(self) -> Result<(), StoreError> {
        for ((month, card_ref, currency, status), (count, total)) in self.totals {
            adjust_totals(self.conn, month, card_ref, currency, status, count, total)?;
        }
        Ok(())
    }
}

/// Insert one record inside the caller's transaction; returns its id.
pub(crate) fn insert(
    conn: &Connection,
    sealer: &Sealer,
    card_ref: i64,
    draft: &TxnDraft,
    status: Status,
    created_at: i64,
    updated_at: i64,
) -> Result<i64, StoreError> {
    let mut inserter = Inserter::new(conn)?;
    let id = inserter.push(sealer, card_ref, draft, status, created_at, updated_at)?;
    inserter.finish()?;
    Ok(id)
}

/// Small extension: the extended result code of a SQLite failure.
trait ExtendedCode {
    fn extended_code(&self) -> Option<i32>;
}

impl ExtendedCode for rusqlite::Error {
    fn extended_code(&self) -> Option<i32> {
        match self {
            rusqlite::Error::SqliteFailure(e, _) => Some(e.extended_code),
            _ => None,
        }
    }
}

struct Current {
    status: Status,
    card_ref: i64,
    currency: Option<u16>,
    amount: Option<i64>,
    created_at: i64,
}

fn current(conn: &Connection, id: i64) -> Result<Current, StoreError> {
    conn.prepare_cached(
        "SELECT status, card_ref, currency, amount_minor, created_at FROM records WHERE id = ?1",
    )?
    .query_row([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get(1)?,
            r.get(2)?,
            r.get(3)?,
            r.get(4)?,
        ))
    })
    .optional()?
    .ok_or(StoreError::UnknownRecord(id))
    .and_then(|(status, card_ref, currency, amount, created_at)| {
        Ok(Current {
            status: Status::from_code(status)
                .ok_or_else(|| StoreError::Corrupt(format!("record {id} has status {status}")))?,
            card_ref,
            currency,
            amount,
            created_at,
        })
    })
}

/// Apply one status change inside a transaction. `Ok(false)` when the record already had it.
fn apply_status(conn: &Connection, id: i64, to: Status, now: i64) -> Result<bool, StoreError> {
    let cur = current(conn, id)?;
    if cur.status == to {
        return Ok(false);
    }
    if !cur.status.can_become(to) {
        return Err(StoreError::StatusTransition {
            id,
            from: cur.status.as_str(),
            to: to.as_str(),
        });
    }
    conn.prepare_cached("UPDATE records SET status = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, to.code(), now])?;
    let amount = cur.amount.unwrap_or(0);
    adjust_totals(
        conn,
        month_key(cur.created_at),
        cur.card_ref,
        cur.currency,
        cur.status,
        -1,
        -amount,
    )?;
    adjust_totals(
        conn,
        month_key(cur.created_at),
        cur.card_ref,
        cur.currency,
        to,
        1,
        amount,
    )?;
    Ok(true)
}

impl Store {
    /// Record a payment made by scanning a merchant's code. Taps and presented codes spend a key
    /// and are recorded by the ledger in the same transaction ([`StoreError::NeedsLedger`]).
    /// Returns the new record's id; a retry of the same payment is
    /// [`StoreError::DuplicateRecord`].
    pub fn record(&mut self, draft: &TxnDraft) -> Result<i64, StoreError> {
        if draft.channel != Channel::QrScanned {
            return Err(StoreError::NeedsLedger(draft.channel.as_str()));
        }
        let tx = self.conn.transaction()?;
        let card = cards::require(&tx, &draft.card_id)?;
        let now = now_ms();
        let id = insert(
            &tx,
            &self.sealer,
            card.card_ref,
            draft,
            Status::Pending,
            now,
            now,
        )?;
        failpoint!("history::record::before_commit", io_error);
        tx.commit()?;
        failpoint!("history::record::after_commit", io_error);
        Ok(id)
    }

    /// Restore records (e.g. from the server after a fresh start), in one transaction. Records
    /// already present are skipped, so an interrupted import can simply be run again. An imported
    /// tap raises its card's last ATC and drops any key at or below it: an ATC the server has
    /// seen is never spent again.
    pub fn import(
        &mut self,
        records: impl IntoIterator<Item = Imported>,
    ) -> Result<ImportSummary, StoreError> {
        let tx = self.conn.transaction()?;
        let mut refs: HashMap<String, i64> = HashMap::new();
        let mut spent: HashMap<i64, u16> = HashMap::new();
        let mut summary = ImportSummary::default();
        let mut inserter = Inserter::new(&tx)?;
        for item in records {
            let card_ref = match refs.get(&item.draft.card_id) {
                Some(r) => *r,
                None => {
                    let r = cards::require(&tx, &item.draft.card_id)?.card_ref;
                    refs.insert(item.draft.card_id.clone(), r);
                    r
                }
            };
            let created = item.created_at_ms;
            match inserter.push(
                &self.sealer,
                card_ref,
                &item.draft,
                item.status,
                created,
                created,
            ) {
                Ok(_) => summary.inserted += 1,
                Err(StoreError::DuplicateRecord { .. }) => summary.skipped += 1,
                Err(e) => return Err(e),
            }
            failpoint!("history::import::record", io_error);
            if item.draft.channel != Channel::QrScanned {
                let top = spent.entry(card_ref).or_insert(item.draft.atc);
                *top = (*top).max(item.draft.atc);
            }
        }
        inserter.finish()?;
        for (card_ref, atc) in spent {
            tx.execute(
                "UPDATE cards SET last_atc = max(coalesce(last_atc, 0), ?2) WHERE ref = ?1",
                params![card_ref, atc],
            )?;
            tx.execute(
                "DELETE FROM session_keys WHERE id BETWEEN ?1 AND ?2",
                params![key_row(card_ref, 0), key_row(card_ref, atc)],
            )?;
        }
        failpoint!("history::import::before_commit", io_error);
        tx.commit()?;
        Ok(summary)
    }

    /// Set one record's status (from sync). Idempotent: `Ok(false)` if it already had it.
    pub fn set_status(&mut self, id: i64, status: Status) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let changed = apply_status(&tx, id, status, now_ms())?;
        failpoint!("history::set_status::before_commit", io_error);
        tx.commit()?;
        Ok(changed)
    }

    /// Apply a batch of sync answers in one transaction: all or none. Returns how many records
    /// changed; answers already applied count as unchanged, so replaying a batch is harmless.
    pub fn apply_statuses(&mut self, updates: &[(i64, Status)]) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let now = now_ms();
        let mut changed = 0;
        for (id, status) in updates {
            changed += usize::from(apply_status(&tx, *id, *status, now)?);
            failpoint!("history::apply_statuses::update", io_error);
        }
        tx.commit()?;
        Ok(changed)
    }

    /// Records still `pending`, oldest first: what sync asks the server about.
    pub fn pending(&self) -> Result<Vec<Record>, StoreError> {
        super::query::pending(self)
    }

    /// Attach (or with `None` remove) a private note; sealed like the merchant.
    pub fn set_note(&mut self, id: i64, note: Option<&str>) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        current(&tx, id)?;
        let sealed = note
            .map(|n| self.sealer.seal(note_place(id), n.as_bytes()))
            .transpose()?;
        tx.execute(
            "UPDATE records SET note = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, sealed, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Delete one record (its bytes are overwritten: `secure_delete`). `Ok(false)` if there was
    /// no such record. The card's ATC history is kept elsewhere, so no key becomes reusable.
    pub fn delete_record(&mut self, id: i64) -> Result<bool, StoreError> {
        let tx = self.conn.transaction()?;
        let cur = match current(&tx, id) {
            Ok(c) => c,
            Err(StoreError::UnknownRecord(_)) => return Ok(false),
            Err(e) => return Err(e),
        };
        tx.execute("DELETE FROM records WHERE id = ?1", [id])?;
        let amount = cur.amount.unwrap_or(0);
        adjust_totals(
            &tx,
            month_key(cur.created_at),
            cur.card_ref,
            cur.currency,
            cur.status,
            -1,
            -amount,
        )?;
        tx.commit()?;
        Ok(true)
    }

    /// Delete the whole history. Record ids are not reused afterwards. Returns the number deleted.
    pub fn clear_history(&mut self) -> Result<u64, StoreError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute("DELETE FROM records", [])?;
        tx.execute("DELETE FROM monthly_totals", [])?;
        tx.commit()?;
        Ok(n as u64)
    }

    /// Recompute the monthly rollup from the records (SQLite's own calendar). For repair after
    /// tampering or a future migration; writes keep it in step otherwise.
    pub fn rebuild_monthly_totals(&mut self) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        tx.execute("DELETE FROM monthly_totals", [])?;
        tx.execute(
            "INSERT INTO monthly_totals (month, card_ref, currency, status, count, total)
             SELECT CAST(strftime('%Y%m', created_at / 1000.0, 'unixepoch') AS INTEGER),
                    card_ref, coalesce(currency, 0), status, count(*), coalesce(sum(amount_minor), 0)
             FROM records GROUP BY 1, 2, 3, 4",
            [],
        )?;
        tx.commit()?;
        Ok(())
    }
}
