//! Cards in the wallet: atomic installation of a personalisation, profiles, default order,
//! lifecycle (suspend and delete wipe the keys) and replenishment of single-use keys.

use super::clock::now_ms;
use super::seal::{Place, Sealer};
use super::{Store, StoreError};
use crate::card::{CardProfile, Personalisation, Scheme, SessionKey};
use crate::emv::crypto::ct_eq;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

/// A card's lifecycle state in the wallet (the token's state at the token service).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CardStatus {
    Active,
    Suspended,
    Deleted,
}

impl CardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CardStatus::Active => "active",
            CardStatus::Suspended => "suspended",
            CardStatus::Deleted => "deleted",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(CardStatus::Active),
            "suspended" => Some(CardStatus::Suspended),
            "deleted" => Some(CardStatus::Deleted),
            _ => None,
        }
    }
}

/// A card as the wallet holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardEntry {
    pub profile: CardProfile,
    pub status: CardStatus,
    /// The card a terminal gets first (the first active card in priority order).
    pub is_default: bool,
    /// Unused single-use keys.
    pub remaining_keys: usize,
    /// Highest ATC spent so far.
    pub last_atc: Option<u16>,
}

/// The columns of a `cards` row the ledger and history need.
pub(crate) struct CardRow {
    pub card_ref: i64,
    pub status: String,
    pub last_atc: Option<u16>,
}

pub(crate) fn lookup(conn: &Connection, card_id: &str) -> Result<Option<CardRow>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT ref, status, last_atc FROM cards WHERE id = ?1")?
        .query_row([card_id], |r| {
            Ok(CardRow {
                card_ref: r.get(0)?,
                status: r.get(1)?,
                last_atc: r.get(2)?,
            })
        })
        .optional()?)
}

pub(crate) fn require(conn: &Connection, card_id: &str) -> Result<CardRow, StoreError> {
    lookup(conn, card_id)?.ok_or_else(|| StoreError::UnknownCard(card_id.to_owned()))
}

/// Row id of a card's key for `atc` (see the schema: `card_ref * 65536 + atc`).
pub(crate) fn key_row(card_ref: i64, atc: u16) -> i64 {
    card_ref * 65_536 + i64::from(atc)
}

pub(crate) fn key_place(row: i64) -> Place<'static> {
    Place::new("session_keys", row, "key")
}

fn profile_place(card_ref: i64) -> Place<'static> {
    Place::new("cards", card_ref, "profile")
}

/// The id the next row of an AUTOINCREMENT table will get, known before the insert so a sealed
/// column's AAD can name its row. Only meaningful inside a write transaction.
pub(crate) fn next_id(conn: &Connection, table: &str) -> Result<i64, StoreError> {
    let sql = match table {
        "cards" => {
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'cards'), 0), coalesce((SELECT max(ref) FROM cards), 0)) + 1"
        }
        "records" => {
            "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'records'), 0), coalesce((SELECT max(id) FROM records), 0)) + 1"
        }
        other => {
            return Err(StoreError::Invalid(format!(
                "no id sequence for table {other}"
            )));
        }
    };
    Ok(conn.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
}

fn count_keys(conn: &Connection, card_ref: i64) -> Result<usize, StoreError> {
    let n: i64 = conn
        .prepare_cached("SELECT count(*) FROM session_keys WHERE id BETWEEN ?1 AND ?2")?
        .query_row(
            params![key_row(card_ref, 0), key_row(card_ref, u16::MAX)],
            |r| r.get(0),
        )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

fn max_key_atc(conn: &Connection, card_ref: i64) -> Result<Option<u16>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT max(atc) FROM session_keys WHERE id BETWEEN ?1 AND ?2")?
        .query_row(
            params![key_row(card_ref, 0), key_row(card_ref, u16::MAX)],
            |r| r.get(0),
        )?)
}

/// Insert keys (already validated as strictly increasing and fresh).
fn insert_keys(
    conn: &Connection,
    sealer: &Sealer,
    card_ref: i64,
    keys: &[SessionKey],
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO session_keys (id, card_ref, atc, key) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for k in keys {
        let row = key_row(card_ref, k.atc);
        let sealed = sealer.seal(key_place(row), k.key.as_bytes())?;
        stmt.execute(params![row, card_ref, k.atc, sealed])?;
    }
    Ok(())
}

/// Keys must come in strictly increasing ATC order, all above `floor` (the highest ATC the card
/// ever spent or holds).
fn check_keys(card: &str, keys: &[SessionKey], floor: Option<u16>) -> Result<(), StoreError> {
    let bad = |reason: String| StoreError::InvalidKeys {
        card: card.to_owned(),
        reason,
    };
    let first = keys.first().ok_or_else(|| bad("no keys".into()))?;
    if let Some(floor) = floor
        && first.atc <= floor
    {
        return Err(bad(format!(
            "ATC {} is not above {floor}, the highest this card has used or holds",
            first.atc
        )));
    }
    if let Some(pair) = keys.windows(2).find(|w| w[1].atc <= w[0].atc) {
        return Err(bad(format!(
            "ATC {} follows {}: ATCs must increase",
            pair[1].atc, pair[0].atc
        )));
    }
    Ok(())
}

fn check_profile(p: &CardProfile) -> Result<(), StoreError> {
    let bad = |reason: &str| {
        Err(StoreError::InvalidCard(format!(
            "card {:?}: {reason}",
            p.id
        )))
    };
    if p.id.is_empty() || p.id.len() > 64 || p.id.chars().any(char::is_control) {
        return bad("id must be 1 to 64 printable characters");
    }
    if !(12..=19).contains(&p.token_pan.len()) || !p.token_pan.bytes().all(|b| b.is_ascii_digit()) {
        return bad("token PAN must be 12 to 19 digits");
    }
    let month = p.expiry.get(2..4).and_then(|m| m.parse::<u8>().ok());
    if p.expiry.len() != 4
        || !p.expiry.bytes().all(|b| b.is_ascii_digit())
        || !matches!(month, Some(1..=12))
    {
        return bad("expiry must be YYMM");
    }
    if !(5..=16).contains(&p.aid.len()) {
        return bad("AID must be 5 to 16 bytes");
    }
    let rid: &[u8] = match p.scheme {
        Scheme::UnionPay => &[0xA0, 0x00, 0x00, 0x03, 0x33],
        Scheme::Visa => &[0xA0, 0x00, 0x00, 0x00, 0x03],
        Scheme::Mastercard => &[0xA0, 0x00, 0x00, 0x00, 0x04],
    };
    if !p.aid.starts_with(rid) {
        return bad("AID does not belong to the card's scheme");
    }
    Ok(())
}

impl Store {
    /// Install a personalised card atomically: stage the card and its keys, read everything
    /// back and check it decrypts to what was given, then switch the card to active — all in one
    /// transaction, so a crash or a failed check leaves no trace. The first card is the default.
    pub fn install_card(&mut self, perso: Personalisation) -> Result<(), StoreError> {
        let Personalisation { profile, keys } = perso;
        check_profile(&profile)?;
        check_keys(&profile.id, &keys, None)?;
        let tx = self.conn.transaction()?;
        if lookup(&tx, &profile.id)?.is_some() {
            return Err(StoreError::CardExists(profile.id));
        }
        let card_ref = next_id(&tx, "cards")?;
        let json = Zeroizing::new(
            serde_json::to_vec(&profile).map_err(|e| StoreError::Invalid(e.to_string()))?,
        );
        let sealed = self.sealer.seal(profile_place(card_ref), &json)?;
        let now = now_ms();
        tx.execute(
            "INSERT INTO cards (ref, id, scheme, status, priority, last_atc, profile, created_at, updated_at)
             VALUES (?1, ?2, ?3, 'staged', (SELECT coalesce(max(priority), 0) + 1 FROM cards), NULL, ?4, ?5, ?5)",
            params![card_ref, profile.id, profile.scheme.name(), sealed, now],
        )?;
        insert_keys(&tx, &self.sealer, card_ref, &keys)?;
        failpoint!("cards::install::staged", io_error);

        // Verify: what is stored opens to exactly what was handed over.
        let stored: Vec<u8> = tx.query_row(
            "SELECT profile FROM cards WHERE ref = ?1",
            [card_ref],
            |r| r.get(0),
        )?;
        if !ct_eq(&self.sealer.open(profile_place(card_ref), &stored)?, &json) {
            return Err(StoreError::InvalidCard(
                "stored profile does not read back".into(),
            ));
        }
        let mut stmt =
            tx.prepare("SELECT id, key FROM session_keys WHERE id BETWEEN ?1 AND ?2 ORDER BY id")?;
        let mut rows = stmt.query(params![key_row(card_ref, 0), key_row(card_ref, u16::MAX)])?;
        let mut expected = keys.iter();
        while let Some(row) = rows.next()? {
            let (id, sealed): (i64, Vec<u8>) = (row.get(0)?, row.get(1)?);
            let plain = self.sealer.open(key_place(id), &sealed)?;
            match expected.next() {
                Some(k) if key_row(card_ref, k.atc) == id && ct_eq(&plain, k.key.as_bytes()) => {}
                _ => {
                    return Err(StoreError::InvalidCard(
                        "stored keys do not read back".into(),
                    ));
                }
            }
        }
        if expected.next().is_some() {
            return Err(StoreError::InvalidCard(
                "stored keys do not read back".into(),
            ));
        }
        drop(rows);
        drop(stmt);
        failpoint!("cards::install::verified", io_error);

        tx.execute(
            "UPDATE cards SET status = 'active' WHERE ref = ?1",
            [card_ref],
        )?;
        failpoint!("cards::install::switched", io_error);
        tx.commit()?;
        log::info!(
            "store: installed card {} with {} keys",
            profile.id,
            keys.len()
        );
        Ok(())
    }

    /// Cards that are not deleted, default first, then in priority order.
    pub fn cards(&self) -> Result<Vec<CardEntry>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id FROM cards WHERE status IN ('active', 'suspended') ORDER BY priority, ref",
        )?;
        let ids = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        ids.iter().map(|id| self.card(id)).collect()
    }

    /// One card, whatever its status.
    pub fn card(&self, card_id: &str) -> Result<CardEntry, StoreError> {
        let (card_ref, status, last_atc, sealed): (i64, String, Option<u16>, Vec<u8>) = self
            .conn
            .prepare_cached("SELECT ref, status, last_atc, profile FROM cards WHERE id = ?1")?
            .query_row([card_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?
            .ok_or_else(|| StoreError::UnknownCard(card_id.to_owned()))?;
        let json = self.sealer.open(profile_place(card_ref), &sealed)?;
        let profile: CardProfile = serde_json::from_slice(&json)
            .map_err(|_| StoreError::Corrupt(format!("card {card_id}: profile does not parse")))?;
        let status = CardStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("card {card_id}: status {status}")))?;
        let default_ref: Option<i64> = self
            .conn
            .prepare_cached(
                "SELECT ref FROM cards WHERE status = 'active' ORDER BY priority, ref LIMIT 1",
            )?
            .query_row([], |r| r.get(0))
            .optional()?;
        Ok(CardEntry {
            profile,
            status,
            is_default: default_ref == Some(card_ref),
            remaining_keys: count_keys(&self.conn, card_ref)?,
            last_atc,
        })
    }

    /// The default card: the first active card in priority order.
    pub fn default_card(&self) -> Result<Option<CardEntry>, StoreError> {
        Ok(self.cards()?.into_iter().find(|c| c.is_default))
    }

    /// Make an active card the default (first in priority order).
    pub fn set_default_card(&mut self, card_id: &str) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let card = require(&tx, card_id)?;
        if card.status != "active" {
            return Err(StoreError::CardTransition {
                card: card_id.to_owned(),
                from: status_name(&card.status),
                to: "default",
            });
        }
        tx.execute(
            "UPDATE cards SET priority = (SELECT min(priority) FROM cards) - 1, updated_at = ?2 WHERE ref = ?1",
            params![card.card_ref, now_ms()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Change a card's status. Suspending or deleting wipes its keys (with `secure_delete`, the
    /// bytes are overwritten); a resumed card needs new keys ([`Store::add_keys`]). Deleted is
    /// final; the card stays listed in its history. Setting the current status again is a no-op.
    pub fn set_card_status(&mut self, card_id: &str, status: CardStatus) -> Result<(), StoreError> {
        let tx = self.conn.transaction()?;
        let card = require(&tx, card_id)?;
        let from = status_name(&card.status);
        if from == status.as_str() {
            return Ok(());
        }
        if from == "deleted" || from == "staged" {
            return Err(StoreError::CardTransition {
                card: card_id.to_owned(),
                from,
                to: status.as_str(),
            });
        }
        if status != CardStatus::Active {
            tx.execute(
                "DELETE FROM session_keys WHERE id BETWEEN ?1 AND ?2",
                params![key_row(card.card_ref, 0), key_row(card.card_ref, u16::MAX)],
            )?;
        }
        tx.execute(
            "UPDATE cards SET status = ?2, updated_at = ?3 WHERE ref = ?1",
            params![card.card_ref, status.as_str(), now_ms()],
        )?;
        tx.commit()?;
        log::info!("store: card {card_id} {from} -> {}", status.as_str());
        Ok(())
    }

    /// Replenish an active card. The new ATCs must increase and lie above every ATC the card has
    /// spent or still holds, so no ATC — and no key — can ever come round again. Returns the
    /// number of unused keys afterwards.
    pub fn add_keys(&mut self, card_id: &str, keys: Vec<SessionKey>) -> Result<usize, StoreError> {
        let tx = self.conn.transaction()?;
        let card = require(&tx, card_id)?;
        if card.status != "active" {
            return Err(StoreError::CardTransition {
                card: card_id.to_owned(),
                from: status_name(&card.status),
                to: "replenished",
            });
        }
        let floor = card.last_atc.max(max_key_atc(&tx, card.card_ref)?);
        check_keys(card_id, &keys, floor)?;
        insert_keys(&tx, &self.sealer, card.card_ref, &keys)?;
        let remaining = count_keys(&tx, card.card_ref)?;
        failpoint!("cards::add_keys::before_commit", io_error);
        tx.commit()?;
        Ok(remaining)
    }

    /// Unused single-use keys of a card.
    pub fn remaining_keys(&self, card_id: &str) -> Result<usize, StoreError> {
        let card = require(&self.conn, card_id)?;
        count_keys(&self.conn, card.card_ref)
    }
}

/// The static name of a stored status (for errors without allocation games).
fn status_name(s: &str) -> &'static str {
    match s {
        "active" => "active",
        "suspended" => "suspended",
        "deleted" => "deleted",
        "staged" => "staged",
        _ => "unknown",
    }
}
