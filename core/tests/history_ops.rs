//! History writes and the views on them: sync (pending, idempotent status updates), monthly
//! totals, CSV/JSON export, notes, deletion.

#[path = "fixtures/history_model.rs"]
mod model;
#[path = "fixtures/support.rs"]
mod support;

use model::*;
use std::collections::BTreeMap;
use std::io::Write;
use support::*;
use wallet_core::history::{Filter, Month, StatsQuery, Status};
use wallet_core::ledger::{Channel, KeyLedger};
use wallet_core::store::{Store, StoreError};

#[test]
fn record_takes_only_scanned_payments_and_only_once() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 0);
    for ch in [Channel::Nfc, Channel::QrPresented] {
        assert!(matches!(
            s.record(&draft(CARDS[0], ch, 1, 1, None)),
            Err(StoreError::NeedsLedger(_))
        ));
    }
    let d = draft(CARDS[0], Channel::QrScanned, 0, 4200, Some("Noodles"));
    let id = s.record(&d).unwrap();
    assert!(
        matches!(s.record(&d), Err(StoreError::DuplicateRecord { .. })),
        "a retried payment is not recorded twice"
    );
    assert!(matches!(
        s.record(&draft("nope", Channel::QrScanned, 0, 1, None)),
        Err(StoreError::UnknownCard(_))
    ));
    let mut bad = draft(CARDS[0], Channel::QrScanned, 1, 1, None);
    bad.currency = Some(1000);
    assert!(matches!(s.record(&bad), Err(StoreError::Invalid(_))));
    bad.currency = None;
    bad.amount_minor = Some(u64::MAX);
    assert!(matches!(s.record(&bad), Err(StoreError::Invalid(_))));
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 1);
    assert_eq!(s.record_by_id(id).unwrap().status, Status::Pending);
}

#[test]
fn sync_is_idempotent_and_survives_interruption() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 0);
    let mut seen = Vec::new();
    for _ in 0..6 {
        s.consume_next(CARDS[0], &mut sealer(CARDS[0], 300, None, &mut seen))
            .unwrap();
    }
    let pending = s.pending().unwrap();
    assert_eq!(
        pending.iter().map(|r| r.atc).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6],
        "oldest first"
    );
    let answers: Vec<(i64, Status)> = pending
        .iter()
        .zip([
            Status::Approved,
            Status::Declined,
            Status::Approved,
            Status::Expired,
            Status::Approved,
            Status::Approved,
        ])
        .map(|(r, st)| (r.id, st))
        .collect();

    // Sync is interrupted after applying the first half (the process dies: the store is dropped).
    s.apply_statuses(&answers[..3]).unwrap();
    drop(s);
    let mut s = open(home.path());
    // The retry replays everything: the first half is unchanged, the rest is applied.
    assert_eq!(s.apply_statuses(&answers).unwrap(), 3);
    assert_eq!(
        s.apply_statuses(&answers).unwrap(),
        0,
        "replaying a sync changes nothing"
    );
    assert!(s.pending().unwrap().is_empty());
    assert_eq!(
        s.count_records(&Filter::default()).unwrap(),
        6,
        "nothing lost or duplicated"
    );

    // Allowed and refused moves.
    let expired = answers[3].0;
    assert!(
        s.set_status(expired, Status::Approved).unwrap(),
        "the server's late verdict wins over expiry"
    );
    assert!(s.set_status(answers[0].0, Status::Reversed).unwrap());
    let declined = answers[1].0;
    assert!(matches!(
        s.set_status(declined, Status::Approved),
        Err(StoreError::StatusTransition { .. })
    ));
    assert!(!s.set_status(declined, Status::Declined).unwrap());
    assert!(matches!(
        s.set_status(424_242, Status::Approved),
        Err(StoreError::UnknownRecord(_))
    ));

    // A batch with one bad answer applies none of it.
    let batch = [
        (answers[4].0, Status::Reversed),
        (declined, Status::Pending),
    ];
    assert!(s.apply_statuses(&batch).is_err());
    assert_eq!(
        s.record_by_id(answers[4].0).unwrap().status,
        Status::Approved
    );
}

/// Totals computed from the model: (month, card or "", currency) -> status -> (count, total).
type Totals = BTreeMap<(String, String, Option<u16>), BTreeMap<Status, (u64, u64)>>;

fn model_totals(s: &Store, by_card: bool) -> Totals {
    let mut t = Totals::new();
    let mut cursor = None;
    loop {
        let page = s
            .records(&Filter::default(), cursor.as_ref(), 1000)
            .unwrap();
        for r in &page.records {
            let card = if by_card {
                r.card_id.clone()
            } else {
                String::new()
            };
            let e = t
                .entry((Month::of_ms(r.created_at_ms).to_string(), card, r.currency))
                .or_default()
                .entry(r.status)
                .or_default();
            e.0 += 1;
            e.1 += r.amount_minor.unwrap_or(0);
        }
        match page.next {
            Some(c) => cursor = Some(c),
            None => return t,
        }
    }
}

fn store_totals(s: &Store, q: &StatsQuery) -> Totals {
    let mut t = Totals::new();
    for m in s.monthly_totals(q).unwrap() {
        let e = t
            .entry((
                m.month.to_string(),
                m.card_id.clone().unwrap_or_default(),
                m.currency,
            ))
            .or_default();
        for (st, sum) in [
            (Status::Pending, m.pending),
            (Status::Approved, m.approved),
            (Status::Declined, m.declined),
            (Status::Reversed, m.reversed),
            (Status::Expired, m.expired),
        ] {
            if sum.count > 0 {
                e.insert(st, (sum.count, sum.total_minor));
            }
        }
    }
    t
}

#[test]
fn monthly_totals_follow_every_write() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let rows = build(&mut s, 1200);
    let check = |s: &Store, when: &str| {
        for by_card in [false, true] {
            let q = StatsQuery {
                by_card,
                ..Default::default()
            };
            assert_eq!(
                store_totals(s, &q),
                model_totals(s, by_card),
                "{when}, by_card {by_card}"
            );
        }
    };
    check(&s, "after import");

    // Status changes, deletes, new records.
    let some: Vec<i64> = s.pending().unwrap().iter().take(40).map(|r| r.id).collect();
    for (i, id) in some.iter().enumerate() {
        s.set_status(
            *id,
            if i % 2 == 0 {
                Status::Approved
            } else {
                Status::Declined
            },
        )
        .unwrap();
    }
    let page = s.records(&Filter::default(), None, 30).unwrap();
    for r in &page.records {
        assert!(s.delete_record(r.id).unwrap());
        assert!(!s.delete_record(r.id).unwrap(), "deleting twice is a no-op");
    }
    s.record(&draft(CARDS[2], Channel::QrScanned, 1, 777, None))
        .unwrap();
    check(&s, "after updates");

    // The rollup agrees with a rebuild by SQLite's own calendar (an independent month function).
    let before = store_totals(
        &s,
        &StatsQuery {
            by_card: true,
            ..Default::default()
        },
    );
    s.rebuild_monthly_totals().unwrap();
    assert_eq!(
        store_totals(
            &s,
            &StatsQuery {
                by_card: true,
                ..Default::default()
            }
        ),
        before
    );

    // Month range and card filter.
    let (from, to): (Month, Month) = ("2023-03".parse().unwrap(), "2023-05".parse().unwrap());
    let q = StatsQuery {
        from: Some(from),
        to: Some(to),
        card_id: Some(CARDS[1].into()),
        by_card: true,
    };
    let got = s.monthly_totals(&q).unwrap();
    assert!(!got.is_empty());
    assert!(
        got.iter()
            .all(|m| m.month >= from && m.month <= to && m.card_id.as_deref() == Some(CARDS[1]))
    );
    assert!(
        got.windows(2).all(|w| w[0].month >= w[1].month),
        "newest month first"
    );
    let want: u64 = rows
        .iter()
        .filter(|r| r.item.draft.card_id == CARDS[1] && r.item.draft.currency == Some(156))
        .filter(|r| (from.start_ms()..to.end_ms()).contains(&r.item.created_at_ms))
        .filter(|r| s.record_by_id(r.index as i64 + 1).is_ok())
        .filter(|r| s.record_by_id(r.index as i64 + 1).unwrap().status == Status::Approved)
        .map(|r| r.item.draft.amount_minor.unwrap_or(0))
        .sum();
    let got_cny: u64 = got
        .iter()
        .filter(|m| m.currency == Some(156))
        .map(|m| m.approved.total_minor)
        .sum();
    assert_eq!(got_cny, want);

    s.clear_history().unwrap();
    assert!(s.monthly_totals(&StatsQuery::default()).unwrap().is_empty());
}

#[test]
fn csv_and_json_exports_hold_exactly_the_selected_records() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let rows = build(&mut s, 400);
    let first_id = s.records(&Filter::default(), None, 1).unwrap().records[0].id;
    s.set_note(first_id, Some("split, with Li")).unwrap();

    for f in [
        Filter::default(),
        Filter {
            card_id: Some(CARDS[2].into()),
            text: Some("shop".into()),
            ..Default::default()
        },
    ] {
        let want = select(&rows, &f);

        let mut csv_out = Vec::new();
        assert_eq!(s.export_csv(&mut csv_out, &f).unwrap(), want.len() as u64);
        let mut rdr = csv::Reader::from_reader(&csv_out[..]);
        let header = rdr.headers().unwrap().clone();
        assert_eq!(&header[0], "id");
        let col = |name: &str| header.iter().position(|h| h == name).unwrap();
        let recs: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
        assert_eq!(recs.len(), want.len());
        for (rec, m) in recs.iter().zip(&want) {
            let d = &m.item.draft;
            assert_eq!(&rec[col("card_id")], d.card_id);
            assert_eq!(rec[col("atc")].parse::<u16>().unwrap(), d.atc);
            assert_eq!(&rec[col("channel")], d.channel.as_str());
            assert_eq!(&rec[col("status")], m.item.status.as_str());
            assert_eq!(
                &rec[col("amount_minor")],
                d.amount_minor.map(|a| a.to_string()).unwrap_or_default()
            );
            let merchant = d.merchant.clone().unwrap_or_default();
            let shown = &rec[col("merchant")];
            if merchant.starts_with('=') {
                assert_eq!(shown, format!("'{merchant}"), "formula neutralised");
            } else {
                assert_eq!(
                    shown, merchant,
                    "quoting round-trips commas, quotes and CJK"
                );
            }
            assert_eq!(
                &rec[col("cryptogram_sha256")],
                hex::encode(d.cryptogram_sha256)
            );
            assert!(rec[col("created_at")].ends_with('Z') && rec[col("created_at")].len() == 24);
        }

        let mut json_out = Vec::new();
        assert_eq!(s.export_json(&mut json_out, &f).unwrap(), want.len() as u64);
        let parsed: Vec<serde_json::Value> = serde_json::from_slice(&json_out).unwrap();
        assert_eq!(parsed.len(), want.len());
        for (v, m) in parsed.iter().zip(&want) {
            assert_eq!(v["atc"], m.item.draft.atc);
            assert_eq!(v["card_id"], m.item.draft.card_id.as_str());
            assert_eq!(
                v["merchant"].as_str(),
                m.item.draft.merchant.as_deref(),
                "JSON carries the raw name"
            );
            assert_eq!(v["status"], m.item.status.as_str());
        }
    }
    // The note travels too.
    let mut out = Vec::new();
    s.export_json(&mut out, &Filter::default()).unwrap();
    let parsed: Vec<serde_json::Value> = serde_json::from_slice(&out).unwrap();
    assert_eq!(parsed[0]["note"], "split, with Li");

    // An empty selection is still a valid document.
    let none = Filter {
        text: Some("zzz".into()),
        ..Default::default()
    };
    let mut out = Vec::new();
    assert_eq!(s.export_json(&mut out, &none).unwrap(), 0);
    assert_eq!(
        serde_json::from_slice::<Vec<serde_json::Value>>(&out)
            .unwrap()
            .len(),
        0
    );
}

/// A writer that fails after `n` bytes, like a full disk.
struct Full(usize);

impl Write for Full {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.0 < buf.len() {
            return Err(std::io::Error::other("disk full"));
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_writer_is_a_typed_error() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 300);
    assert!(matches!(
        s.export_csv(Full(5000), &Filter::default()),
        Err(StoreError::Io(_))
    ));
    assert!(matches!(
        s.export_json(Full(5000), &Filter::default()),
        Err(StoreError::Io(_))
    ));
}

#[test]
fn notes_delete_and_clear() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 50);
    let newest = s.records(&Filter::default(), None, 1).unwrap().records[0].clone();
    s.set_note(newest.id, Some("gift for mum")).unwrap();
    assert_eq!(
        s.record_by_id(newest.id).unwrap().note.as_deref(),
        Some("gift for mum")
    );
    let f = Filter {
        text: Some("MUM".into()),
        ..Default::default()
    };
    assert_eq!(
        s.records(&f, None, 10).unwrap().records.len(),
        1,
        "search covers notes"
    );
    s.set_note(newest.id, None).unwrap();
    assert_eq!(s.record_by_id(newest.id).unwrap().note, None);
    assert!(matches!(
        s.set_note(987_654, Some("x")),
        Err(StoreError::UnknownRecord(_))
    ));

    assert!(s.delete_record(newest.id).unwrap());
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 49);
    assert_eq!(s.clear_history().unwrap(), 49);
    assert_eq!(s.count_records(&Filter::default()).unwrap(), 0);

    // Ids are not reused after a clear: an old sealed merchant could not be replayed into a new row.
    let id = s
        .record(&draft(CARDS[0], Channel::QrScanned, 5, 1, Some("new")))
        .unwrap();
    assert!(id > 50, "id {id}");
    s.integrity_check().unwrap();
}
