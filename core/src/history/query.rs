//! Reading the history: filters, newest-first keyset pagination, the bounded search over sealed
//! merchant names (see the module docs of [`crate::history`]).
//!
//! Pages are keyset-paginated on `(created_at, id)`: each page starts strictly after the last
//! row of the previous one, so a page costs the same at row 50 and at row 1,000,000, and a
//! record inserted meanwhile neither repeats nor shifts a row.

use super::write::{merchant_place, note_place};
use super::{Channel, Record, Status, channel_code, channel_from_code};
use crate::store::{Sealer, Store, StoreError, cards};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::types::Value;
use rusqlite::{Connection, Row, Transaction, TransactionBehavior};
use std::collections::HashMap;

/// Rows a text search decrypts per page before it returns what it has (with a cursor to go on).
pub const SEARCH_SCAN_BUDGET: usize = 20_000;
/// The most records one page may hold.
pub const MAX_PAGE: usize = 1_000;

/// Which records to show. Every field narrows; `Filter::default()` is everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub card_id: Option<String>,
    pub channel: Option<Channel>,
    pub status: Option<Status>,
    /// Created at or after (Unix ms).
    pub from_ms: Option<i64>,
    /// Created before (Unix ms).
    pub to_ms: Option<i64>,
    /// Inclusive bounds on the amount in minor units (records without an amount never match).
    pub min_amount: Option<u64>,
    pub max_amount: Option<u64>,
    /// ISO 4217 numeric.
    pub currency: Option<u16>,
    /// Case-insensitive substring of the merchant name or the note.
    pub text: Option<String>,
}

/// A position in the newest-first order: the page after it starts with the next older record.
/// Opaque to callers (a short URL-safe string); [`Cursor::parse`] rejects anything else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    created_at: i64,
    id: i64,
}

const CURSOR_VERSION: u8 = 1;

impl Cursor {
    pub fn parse(s: &str) -> Result<Cursor, StoreError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| StoreError::BadCursor)?;
        let (version, rest) = bytes.split_first().ok_or(StoreError::BadCursor)?;
        let (created, id) = rest.split_at_checked(8).ok_or(StoreError::BadCursor)?;
        let created: [u8; 8] = created.try_into().map_err(|_| StoreError::BadCursor)?;
        let id: [u8; 8] = id.try_into().map_err(|_| StoreError::BadCursor)?;
        if *version != CURSOR_VERSION {
            return Err(StoreError::BadCursor);
        }
        Ok(Cursor {
            created_at: i64::from_be_bytes(created),
            id: i64::from_be_bytes(id),
        })
    }

    fn after(r: &Record) -> Cursor {
        Cursor {
            created_at: r.created_at_ms,
            id: r.id,
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = [0u8; 17];
        bytes[0] = CURSOR_VERSION;
        bytes[1..9].copy_from_slice(&self.created_at.to_be_bytes());
        bytes[9..].copy_from_slice(&self.id.to_be_bytes());
        f.write_str(&URL_SAFE_NO_PAD.encode(bytes))
    }
}

impl std::str::FromStr for Cursor {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self, StoreError> {
        Cursor::parse(s)
    }
}

/// One page, newest first. `next` is `None` at the end of the history; with a text filter a
/// page may hold fewer records than asked and still have a `next` (the scan budget ran out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub records: Vec<Record>,
    pub next: Option<Cursor>,
}

const COLUMNS: &str = "id, card_ref, channel, status, amount_minor, currency, country, atc, un, \
                       cryptogram_sha256, cdcvm, merchant, note, created_at, updated_at";

/// A read snapshot: the card map and the rows come from the same state of the database.
pub(crate) fn snapshot(conn: &Connection) -> Result<Transaction<'_>, StoreError> {
    Ok(Transaction::new_unchecked(
        conn,
        TransactionBehavior::Deferred,
    )?)
}

/// card ref -> card id (the cards table is tiny).
pub(crate) fn card_ids(conn: &Connection) -> Result<HashMap<i64, String>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT ref, id FROM cards")?;
    let map = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<HashMap<_, _>, _>>()?;
    Ok(map)
}

/// SQL `WHERE` conditions and their parameters for a filter. Enum values are inlined as integer
/// literals so SQLite can use the partial `records_pending` index; everything from the caller
/// is a bound parameter.
pub(crate) fn where_clause(
    conn: &Connection,
    filter: &Filter,
    after: Option<&Cursor>,
) -> Result<(String, Vec<Value>), StoreError> {
    let mut conds: Vec<String> = Vec::new();
    let mut params: Vec<Value> = Vec::new();
    let mut bind = |cond: &str, v: Value, conds: &mut Vec<String>| {
        params.push(v);
        conds.push(cond.replace('?', &format!("?{}", params.len())));
    };
    if let Some(card) = &filter.card_id {
        let card_ref = cards::require(conn, card)?.card_ref;
        bind("card_ref = ?", Value::Integer(card_ref), &mut conds);
    }
    if let Some(c) = filter.channel {
        conds.push(format!("channel = {}", channel_code(c)));
    }
    if let Some(s) = filter.status {
        conds.push(format!("status = {}", s.code()));
    }
    if let Some(from) = filter.from_ms {
        bind("created_at >= ?", Value::Integer(from), &mut conds);
    }
    if let Some(to) = filter.to_ms {
        bind("created_at < ?", Value::Integer(to), &mut conds);
    }
    let amount = |a: u64| Value::Integer(i64::try_from(a).unwrap_or(i64::MAX));
    if let Some(min) = filter.min_amount {
        bind("amount_minor >= ?", amount(min), &mut conds);
    }
    if let Some(max) = filter.max_amount {
        bind("amount_minor <= ?", amount(max), &mut conds);
    }
    if let Some(cur) = filter.currency {
        bind("currency = ?", Value::Integer(i64::from(cur)), &mut conds);
    }
    if filter.text.is_some() {
        conds.push("(merchant IS NOT NULL OR note IS NOT NULL)".into());
    }
    if let Some(c) = after {
        params.push(Value::Integer(c.created_at));
        params.push(Value::Integer(c.id));
        let n = params.len();
        conds.push(format!("(created_at, id) < (?{}, ?{n})", n - 1));
    }
    let sql = if conds.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conds.join(" AND "))
    };
    Ok((sql, params))
}

pub(crate) fn select_sql(where_sql: &str, oldest_first: bool) -> String {
    let order = if oldest_first { "ASC" } else { "DESC" };
    format!("SELECT {COLUMNS} FROM records {where_sql} ORDER BY created_at {order}, id {order}")
}

/// Decode one `records` row (columns in [`COLUMNS`] order), opening its sealed columns.
pub(crate) fn decode(
    row: &Row<'_>,
    sealer: &Sealer,
    cards: &HashMap<i64, String>,
) -> Result<Record, StoreError> {
    let id: i64 = row.get(0)?;
    let card_ref: i64 = row.get(1)?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("record {id}: {what}"));
    let channel = channel_from_code(row.get(2)?).ok_or_else(|| corrupt("channel"))?;
    let status = Status::from_code(row.get(3)?).ok_or_else(|| corrupt("status"))?;
    let amount: Option<i64> = row.get(4)?;
    let merchant: Option<Vec<u8>> = row.get(11)?;
    let note: Option<Vec<u8>> = row.get(12)?;
    Ok(Record {
        id,
        card_id: cards
            .get(&card_ref)
            .cloned()
            .ok_or_else(|| corrupt("card"))?,
        channel,
        status,
        amount_minor: amount
            .map(|a| u64::try_from(a).map_err(|_| corrupt("amount")))
            .transpose()?,
        currency: row.get(5)?,
        country: row.get(6)?,
        atc: row.get(7)?,
        unpredictable_number: row.get(8)?,
        cryptogram_sha256: row.get(9)?,
        cdcvm: row.get(10)?,
        merchant: merchant
            .map(|m| sealer.open_string(merchant_place(id), &m))
            .transpose()?,
        note: note
            .map(|n| sealer.open_string(note_place(id), &n))
            .transpose()?,
        created_at_ms: row.get(13)?,
        updated_at_ms: row.get(14)?,
    })
}

/// Case-insensitive substring match over merchant and note. `needle` is already lowercase.
pub(crate) fn matches_text(r: &Record, needle: &str) -> bool {
    [&r.merchant, &r.note]
        .into_iter()
        .flatten()
        .any(|s| s.to_lowercase().contains(needle))
}

pub(crate) fn pending(store: &Store) -> Result<Vec<Record>, StoreError> {
    let tx = snapshot(&store.conn)?;
    let cards = card_ids(&tx)?;
    let mut stmt = tx.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM records WHERE status = {} ORDER BY created_at, id",
        Status::Pending.code()
    ))?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(row) = rows.next()? {
        out.push(decode(row, &store.sealer, &cards)?);
    }
    Ok(out)
}

impl Store {
    /// A page of at most `limit` records (1..=1000) matching `filter`, newest first, starting
    /// after `after` (the previous page's `next`).
    pub fn records(
        &self,
        filter: &Filter,
        after: Option<&Cursor>,
        limit: usize,
    ) -> Result<Page, StoreError> {
        if !(1..=MAX_PAGE).contains(&limit) {
            return Err(StoreError::Invalid(format!(
                "page size {limit} is not in 1..={MAX_PAGE}"
            )));
        }
        let tx = snapshot(&self.conn)?;
        let cards = card_ids(&tx)?;
        let (where_sql, params) = where_clause(&tx, filter, after)?;
        let needle = filter.text.as_deref().map(str::to_lowercase);
        let mut sql = select_sql(&where_sql, false);
        if needle.is_none() {
            // One extra row tells whether another page exists.
            sql.push_str(&format!(" LIMIT {}", limit + 1));
        }
        let mut stmt = tx.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut records = Vec::with_capacity(limit.min(64));
        let mut scanned = 0usize;
        while let Some(row) = rows.next()? {
            let record = decode(row, &self.sealer, &cards)?;
            if let Some(needle) = &needle {
                scanned += 1;
                let here = Cursor::after(&record);
                if matches_text(&record, needle) {
                    records.push(record);
                    if records.len() == limit {
                        // Whether more match is unknown until scanned: offer to go on.
                        let next = records.last().map(Cursor::after);
                        return Ok(Page { records, next });
                    }
                }
                if scanned >= SEARCH_SCAN_BUDGET {
                    return Ok(Page {
                        records,
                        next: Some(here),
                    });
                }
            } else if records.len() == limit {
                let next = records.last().map(Cursor::after);
                return Ok(Page { records, next });
            } else {
                records.push(record);
            }
        }
        Ok(Page {
            records,
            next: None,
        })
    }

    /// One record by id.
    pub fn record_by_id(&self, id: i64) -> Result<Record, StoreError> {
        let tx = snapshot(&self.conn)?;
        let cards = card_ids(&tx)?;
        let mut stmt =
            tx.prepare_cached(&format!("SELECT {COLUMNS} FROM records WHERE id = ?1"))?;
        let mut rows = stmt.query([id])?;
        match rows.next()? {
            Some(row) => decode(row, &self.sealer, &cards),
            None => Err(StoreError::UnknownRecord(id)),
        }
    }

    /// Number of records matching `filter`, text filter aside (that one needs decryption).
    pub fn count_records(&self, filter: &Filter) -> Result<u64, StoreError> {
        let mut f = filter.clone();
        f.text = None;
        let (where_sql, params) = where_clause(&self.conn, &f, None)?;
        let n: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM records {where_sql}"))?
            .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    /// `EXPLAIN QUERY PLAN` of the page query for `filter`, one line per step: to check (and
    /// test) which index serves which filter.
    pub fn explain_records(
        &self,
        filter: &Filter,
        after: Option<&Cursor>,
    ) -> Result<Vec<String>, StoreError> {
        let (where_sql, params) = where_clause(&self.conn, filter, after)?;
        let sql = format!(
            "EXPLAIN QUERY PLAN {} LIMIT 51",
            select_sql(&where_sql, false)
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let lines = stmt
            .query_map(rusqlite::params_from_iter(params), |r| {
                r.get::<_, String>(3)
            })?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(lines)
    }
}
