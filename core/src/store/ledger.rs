//! The durable [`KeyLedger`]: a key leaves the store only inside the transaction that deletes
//! it, raises the card's last ATC and records the payment; the ATC is returned (and the
//! cryptogram may leave the core) only after that transaction is committed with
//! `synchronous=FULL`. A crash before the commit leaves the key unspent and no cryptogram out;
//! a crash after it burns the key. No path hands a key out twice, across threads, connections,
//! processes or restarts: the write lock is taken first (`BEGIN IMMEDIATE`), and the next key is
//! always the lowest ATC above the highest ever spent.

use super::cards::{key_place, key_row, require};
use super::clock::now_ms;
use super::{Store, StoreError};
use crate::emv::crypto::Key16;
use crate::history::{self, Status};
use crate::ledger::{KeyLedger, LedgerError, TxnDraft};
use rusqlite::{OptionalExtension, params};
use zeroize::Zeroize;

impl KeyLedger for Store {
    fn consume_next(
        &mut self,
        card_id: &str,
        seal: &mut dyn FnMut(u16, &Key16) -> TxnDraft,
    ) -> Result<u16, LedgerError> {
        let tx = self.conn.transaction().map_err(StoreError::from)?;
        let card = require(&tx, card_id)?;
        if card.status != "active" {
            return Err(LedgerError::Inactive(card_id.to_owned()));
        }
        let first_unused = card.last_atc.map_or(Some(0), |a| a.checked_add(1));
        let Some(first_unused) = first_unused else {
            return Err(LedgerError::Exhausted(card_id.to_owned()));
        };
        let next: Option<(i64, u16, Vec<u8>)> = tx
            .prepare_cached("SELECT id, atc, key FROM session_keys WHERE id BETWEEN ?1 AND ?2 ORDER BY id LIMIT 1")
            .and_then(|mut s| {
                s.query_row(
                    params![key_row(card.card_ref, first_unused), key_row(card.card_ref, u16::MAX)],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()
            })
            .map_err(StoreError::from)?;
        let Some((row, atc, sealed)) = next else {
            return Err(LedgerError::Exhausted(card_id.to_owned()));
        };
        let plain = self.sealer.open(key_place(row), &sealed)?;
        let mut bytes = [0u8; 16];
        if plain.len() != bytes.len() {
            return Err(StoreError::Corrupt(format!(
                "card {card_id}: key for ATC {atc} has the wrong length"
            ))
            .into());
        }
        bytes.copy_from_slice(&plain);
        let key = Key16::from_bytes(bytes);
        bytes.zeroize();
        drop(plain);

        let draft = seal(atc, &key);
        drop(key);
        if draft.card_id != card_id || draft.atc != atc {
            return Err(LedgerError::Storage(format!(
                "the record for card {card_id} ATC {atc} names card {} ATC {}",
                draft.card_id, draft.atc
            )));
        }

        let now = now_ms();
        let spend = || -> Result<(), StoreError> {
            tx.prepare_cached("DELETE FROM session_keys WHERE id = ?1")?
                .execute([row])?;
            tx.prepare_cached("UPDATE cards SET last_atc = ?2, updated_at = ?3 WHERE ref = ?1")?
                .execute(params![card.card_ref, atc, now])?;
            history::write::insert(
                &tx,
                &self.sealer,
                card.card_ref,
                &draft,
                Status::Pending,
                now,
                now,
            )?;
            Ok(())
        };
        spend()?;
        failpoint!("ledger::before_commit", io_error);
        tx.commit().map_err(StoreError::from)?;
        failpoint!("ledger::after_commit", io_error);
        Ok(atc)
    }

    fn remaining(&self, card_id: &str) -> Result<usize, LedgerError> {
        Ok(self.remaining_keys(card_id)?)
    }
}
