//! Secret columns never reach the file in the clear, and a spent key's bytes do not linger.

#[path = "fixtures/support.rs"]
mod support;

use std::fs;
use std::path::Path;
use support::*;
use wallet_core::card::Scheme;
use wallet_core::ledger::{Channel, KeyLedger};

const MERCHANT: &str = "Zhang Family Noodle Bar";
const NOTE: &str = "lunch with the auditors";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Every file the database consists of, concatenated.
fn raw(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for name in ["wallet.db", "wallet.db-wal"] {
        if let Ok(b) = fs::read(dir.join(name)) {
            all.extend(b);
        }
    }
    all
}

#[test]
fn secrets_are_not_in_the_file() {
    let home = tempfile::tempdir().unwrap();
    let pan = profile("c", Scheme::Visa).token_pan;
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Visa, 1..=20)).unwrap();
    let mut seen = Vec::new();
    s.consume_next("c", &mut sealer("c", 880, Some(MERCHANT), &mut seen))
        .unwrap();
    let scanned = s
        .record(&draft("c", Channel::QrScanned, 0, 990, Some(MERCHANT)))
        .unwrap();
    s.set_note(scanned, Some(NOTE)).unwrap();

    // While open (data in the WAL) and after close (checkpointed into the main file).
    for phase in ["open", "closed"] {
        let bytes = raw(home.path());
        assert!(bytes.len() > 4096, "{phase}: read the database");
        assert!(
            contains(&bytes, b"SQLite format 3"),
            "{phase}: this is the database"
        );
        assert!(
            contains(&bytes, b"session_keys"),
            "{phase}: the search would find plain text"
        );
        for (what, needle) in [
            ("token PAN", pan.as_bytes().to_vec()),
            ("PAN suffix", pan.as_bytes()[8..].to_vec()),
            ("merchant", MERCHANT.as_bytes().to_vec()),
            ("merchant word", b"Noodle".to_vec()),
            ("note", NOTE.as_bytes().to_vec()),
            ("expiry in JSON", b"\"2912\"".to_vec()),
        ] {
            assert!(
                !contains(&bytes, &needle),
                "{phase}: {what} is in the file in the clear"
            );
        }
        for atc in 1..=20 {
            let key = test_key("c", atc);
            assert!(
                !contains(&bytes, &key),
                "{phase}: session key {atc} in the clear"
            );
            assert!(
                !contains(&bytes, hex::encode(key).as_bytes()),
                "{phase}: session key {atc} as hex"
            );
        }
        if phase == "open" {
            // The store still reads them back.
            let r = s.record_by_id(scanned).unwrap();
            assert_eq!(
                (r.merchant.as_deref(), r.note.as_deref()),
                (Some(MERCHANT), Some(NOTE))
            );
            drop(std::mem::replace(
                &mut s,
                open(tempfile::tempdir().unwrap().path()),
            ));
        }
    }
}

#[test]
fn a_spent_key_leaves_no_ciphertext_behind() {
    let home = tempfile::tempdir().unwrap();
    let sealed_key_1: Vec<u8> = {
        let mut s = open(home.path());
        s.install_card(perso("c", Scheme::Visa, 1..=3)).unwrap();
        let blob = s
            .connection()
            .query_row("SELECT key FROM session_keys WHERE atc = 1", [], |r| {
                r.get(0)
            })
            .unwrap();
        let mut seen = Vec::new();
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen))
            .unwrap();
        blob
    };
    // Closed: the WAL is checkpointed; secure_delete overwrote the freed cell.
    let bytes = raw(home.path());
    assert!(
        !contains(&bytes, &sealed_key_1),
        "the spent key's sealed bytes are still in the file"
    );
    let s = open(home.path());
    assert_eq!(s.remaining_keys("c").unwrap(), 2);
}

#[test]
fn other_modules_seal_their_own_columns_through_write() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let place = wallet_core::store::Place::new("meta", 7, "value");
    s.write(|tx, sealer| {
        let sealed = sealer.seal(place, b"device signing key handle")?;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('test', ?1)",
            [sealed],
        )?;
        Ok(())
    })
    .unwrap();
    // An error inside `write` rolls everything back.
    let failed: Result<(), _> = s.write(|tx, _| {
        tx.execute("DELETE FROM meta WHERE key = 'test'", [])?;
        Err(wallet_core::store::StoreError::Invalid(
            "changed my mind".into(),
        ))
    });
    assert!(failed.is_err());
    drop(s);
    let s = open(home.path());
    let sealed: Vec<u8> = s
        .connection()
        .query_row("SELECT value FROM meta WHERE key = 'test'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(
        &s.sealer().open(place, &sealed).unwrap()[..],
        b"device signing key handle"
    );
    let elsewhere = wallet_core::store::Place::new("meta", 8, "value");
    assert!(s.sealer().open(elsewhere, &sealed).is_err());
}
