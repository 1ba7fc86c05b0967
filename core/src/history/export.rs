//! CSV and JSON export, streamed: one row is read, decrypted and written at a time, so memory
//! stays flat whatever the size of the history. Newest first, like the history itself, from one
//! consistent snapshot.
//!
//! Merchant names come from scanned codes — anyone can print a QR code — so in CSV a text field
//! that a spreadsheet would run as a formula (`= + - @`, tab, CR) is prefixed with `'`
//! (OWASP "CSV injection").

use super::query::{Filter, card_ids, decode, matches_text, select_sql, snapshot, where_clause};
use super::{Record, Status};
use crate::history::Channel;
use crate::store::clock::iso8601;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::borrow::Cow;
use std::io::Write;

const CSV_HEADER: [&str; 15] = [
    "id",
    "created_at",
    "updated_at",
    "card_id",
    "channel",
    "status",
    "amount_minor",
    "currency",
    "country",
    "merchant",
    "note",
    "atc",
    "unpredictable_number",
    "cryptogram_sha256",
    "cdcvm",
];

/// A record as exported: timestamps as ISO 8601 (UTC), binary fields as hex.
#[derive(Serialize)]
struct Exported<'a> {
    id: i64,
    created_at: String,
    updated_at: String,
    card_id: &'a str,
    channel: Channel,
    status: Status,
    amount_minor: Option<u64>,
    currency: Option<u16>,
    country: Option<u16>,
    merchant: Option<&'a str>,
    note: Option<&'a str>,
    atc: u16,
    unpredictable_number: String,
    cryptogram_sha256: String,
    cdcvm: bool,
}

impl<'a> From<&'a Record> for Exported<'a> {
    fn from(r: &'a Record) -> Self {
        Exported {
            id: r.id,
            created_at: iso8601(r.created_at_ms),
            updated_at: iso8601(r.updated_at_ms),
            card_id: &r.card_id,
            channel: r.channel,
            status: r.status,
            amount_minor: r.amount_minor,
            currency: r.currency,
            country: r.country,
            merchant: r.merchant.as_deref(),
            note: r.note.as_deref(),
            atc: r.atc,
            unpredictable_number: hex::encode_upper(r.unpredictable_number),
            cryptogram_sha256: hex::encode(r.cryptogram_sha256),
            cdcvm: r.cdcvm,
        }
    }
}

/// Neutralise a field a spreadsheet would evaluate.
fn defuse(s: &str) -> Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

fn opt<T: ToString>(v: Option<T>) -> String {
    v.map(|v| v.to_string()).unwrap_or_default()
}

impl Store {
    /// Walk the records matching `filter`, newest first, handing each to `f`.
    fn for_each_record(
        &self,
        filter: &Filter,
        mut f: impl FnMut(&Record) -> Result<(), StoreError>,
    ) -> Result<u64, StoreError> {
        let tx = snapshot(&self.conn)?;
        let cards = card_ids(&tx)?;
        let (where_sql, params) = where_clause(&tx, filter, None)?;
        let needle = filter.text.as_deref().map(str::to_lowercase);
        // Not cached: an export is rare and its statement would pin the snapshot's memory.
        let mut stmt = tx.prepare(&select_sql(&where_sql, false))?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut n = 0;
        while let Some(row) = rows.next()? {
            let record = decode(row, &self.sealer, &cards)?;
            if needle
                .as_deref()
                .is_none_or(|needle| matches_text(&record, needle))
            {
                f(&record)?;
                n += 1;
            }
        }
        Ok(n)
    }

    /// Write the records matching `filter` as CSV (RFC 4180, header row). Returns the number of
    /// records written.
    pub fn export_csv(&self, out: impl Write, filter: &Filter) -> Result<u64, StoreError> {
        let mut w = csv::Writer::from_writer(out);
        w.write_record(CSV_HEADER)?;
        let n = self.for_each_record(filter, |r| {
            let e = Exported::from(r);
            w.write_record([
                e.id.to_string().as_str(),
                &e.created_at,
                &e.updated_at,
                e.card_id,
                e.channel.as_str(),
                e.status.as_str(),
                &opt(e.amount_minor),
                &opt(e.currency.map(|c| format!("{c:03}"))),
                &opt(e.country.map(|c| format!("{c:03}"))),
                &defuse(e.merchant.unwrap_or_default()),
                &defuse(e.note.unwrap_or_default()),
                &e.atc.to_string(),
                &e.unpredictable_number,
                &e.cryptogram_sha256,
                if e.cdcvm { "true" } else { "false" },
            ])?;
            Ok(())
        })?;
        w.flush()?;
        Ok(n)
    }

    /// Write the records matching `filter` as one JSON array of objects. Returns the number of
    /// records written.
    pub fn export_json(&self, mut out: impl Write, filter: &Filter) -> Result<u64, StoreError> {
        out.write_all(b"[")?;
        let mut first = true;
        let n = self.for_each_record(filter, |r| {
            out.write_all(if first { b"\n" } else { b",\n" })?;
            first = false;
            serde_json::to_writer(&mut out, &Exported::from(r)).map_err(std::io::Error::from)?;
            Ok(())
        })?;
        out.write_all(if n == 0 { b"]\n" } else { b"\n]\n" })?;
        out.flush()?;
        Ok(n)
    }
}
