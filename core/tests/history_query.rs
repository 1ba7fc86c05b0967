//! History queries against an in-memory model: keyset pagination, every filter, the bounded
//! search over sealed merchant names, and the indexes each query uses.

#[path = "fixtures/history_model.rs"]
mod model;
#[path = "fixtures/support.rs"]
mod support;

use model::*;
use support::*;
use wallet_core::history::{Cursor, Filter, SEARCH_SCAN_BUDGET, Status};
use wallet_core::ledger::Channel;
use wallet_core::store::StoreError;

fn filters() -> Vec<(&'static str, Filter)> {
    let month = |m: u32| T0 + i64::from(m) * 30 * 86_400_000;
    vec![
        ("all", Filter::default()),
        (
            "card",
            Filter {
                card_id: Some(CARDS[1].into()),
                ..Default::default()
            },
        ),
        (
            "channel",
            Filter {
                channel: Some(Channel::QrScanned),
                ..Default::default()
            },
        ),
        (
            "pending",
            Filter {
                status: Some(Status::Pending),
                ..Default::default()
            },
        ),
        (
            "reversed",
            Filter {
                status: Some(Status::Reversed),
                ..Default::default()
            },
        ),
        (
            "dates",
            Filter {
                from_ms: Some(month(3)),
                to_ms: Some(month(5)),
                ..Default::default()
            },
        ),
        (
            "amounts",
            Filter {
                min_amount: Some(10_000),
                max_amount: Some(20_000),
                ..Default::default()
            },
        ),
        (
            "currency",
            Filter {
                currency: Some(840),
                ..Default::default()
            },
        ),
        (
            "text",
            Filter {
                text: Some("coffee".into()),
                ..Default::default()
            },
        ),
        (
            "text cjk",
            Filter {
                text: Some("巴克".into()),
                ..Default::default()
            },
        ),
        (
            "text accent",
            Filter {
                text: Some("CAFÉ".into()),
                ..Default::default()
            },
        ),
        (
            "text none",
            Filter {
                text: Some("no such shop".into()),
                ..Default::default()
            },
        ),
        (
            "combined",
            Filter {
                card_id: Some(CARDS[0].into()),
                channel: Some(Channel::Nfc),
                status: Some(Status::Approved),
                from_ms: Some(month(1)),
                to_ms: Some(month(20)),
                min_amount: Some(1_000),
                currency: Some(156),
                text: Some("shop".into()),
                ..Default::default()
            },
        ),
    ]
}

#[test]
fn every_filter_pages_through_exactly_the_model() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let rows = build(&mut s, 1500);
    for (name, f) in filters() {
        let want: Vec<_> = select(&rows, &f).into_iter().map(key_of_row).collect();
        for limit in [1, 37, 1000] {
            let got: Vec<_> = walk(&s, &f, limit).iter().map(key_of_record).collect();
            assert_eq!(got, want, "filter {name}, pages of {limit}");
        }
        if f.text.is_none() {
            assert_eq!(
                s.count_records(&f).unwrap(),
                want.len() as u64,
                "count for {name}"
            );
        }
        assert!(
            name == "text none" || !want.is_empty(),
            "filter {name} selects something"
        );
    }
}

#[test]
fn records_read_back_field_for_field() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let rows = build(&mut s, 200);
    let got = walk(&s, &Filter::default(), 50);
    let want = select(&rows, &Filter::default());
    for (r, m) in got.iter().zip(want) {
        let d = &m.item.draft;
        assert_eq!(r.card_id, d.card_id);
        assert_eq!(r.channel, d.channel);
        assert_eq!(r.status, m.item.status);
        assert_eq!(r.amount_minor, d.amount_minor);
        assert_eq!(r.currency, d.currency);
        assert_eq!(r.country, d.country);
        assert_eq!(r.merchant, d.merchant);
        assert_eq!(r.atc, d.atc);
        assert_eq!(r.unpredictable_number, d.unpredictable_number);
        assert_eq!(r.cryptogram_sha256, d.cryptogram_sha256);
        assert_eq!(r.cdcvm, d.cdcvm);
        assert_eq!(
            (r.created_at_ms, r.updated_at_ms),
            (m.item.created_at_ms, m.item.created_at_ms)
        );
        assert_eq!(&s.record_by_id(r.id).unwrap(), r);
    }
    assert!(matches!(
        s.record_by_id(999_999),
        Err(StoreError::UnknownRecord(999_999))
    ));
}

#[test]
fn new_records_during_paging_neither_repeat_nor_shift_rows() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let rows = build(&mut s, 300);
    let want: Vec<_> = select(&rows, &Filter::default())
        .into_iter()
        .map(key_of_row)
        .collect();
    let first = s.records(&Filter::default(), None, 100).unwrap();
    // A payment arrives while the user scrolls.
    s.record(&draft(CARDS[0], Channel::QrScanned, 9999, 1, Some("late")))
        .unwrap();
    let mut got: Vec<_> = first.records.iter().map(key_of_record).collect();
    let mut cursor = first.next;
    while let Some(c) = cursor {
        let page = s.records(&Filter::default(), Some(&c), 100).unwrap();
        got.extend(page.records.iter().map(key_of_record));
        cursor = page.next;
    }
    assert_eq!(got, want);
    // A fresh walk sees it first.
    assert_eq!(
        s.records(&Filter::default(), None, 1).unwrap().records[0]
            .merchant
            .as_deref(),
        Some("late")
    );
}

#[test]
fn bad_cursors_and_page_sizes_are_typed_errors() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 10);
    for bad in [
        "",
        "!!!",
        "AAAA",
        "not a cursor at all",
        "AQAAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(
            matches!(bad.parse::<Cursor>(), Err(StoreError::BadCursor)),
            "{bad:?}"
        );
    }
    for limit in [0, 1001] {
        assert!(matches!(
            s.records(&Filter::default(), None, limit),
            Err(StoreError::Invalid(_))
        ));
    }
    let unknown = Filter {
        card_id: Some("nope".into()),
        ..Default::default()
    };
    assert!(matches!(
        s.records(&unknown, None, 10),
        Err(StoreError::UnknownCard(_))
    ));
}

#[test]
fn search_is_bounded_per_page_and_resumes() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 0);
    // One old match under more than a scan budget of newer non-matching rows.
    let n = SEARCH_SCAN_BUDGET + 500;
    let items = (0..n).map(|i| wallet_core::history::Imported {
        draft: draft(
            CARDS[0],
            Channel::QrScanned,
            (i % 60_000) as u16,
            1,
            Some(if i == 0 { "Needle Café" } else { "Hay" }),
        ),
        status: Status::Approved,
        created_at_ms: T0 + i as i64,
    });
    // Distinct scanned payments: make the cryptogram hashes differ.
    let items: Vec<_> = items
        .enumerate()
        .map(|(i, mut it)| {
            it.draft.cryptogram_sha256[20..28].copy_from_slice(&(i as u64).to_be_bytes());
            it
        })
        .collect();
    s.import(items).unwrap();
    let f = Filter {
        text: Some("needle".into()),
        ..Default::default()
    };
    let first = s.records(&f, None, 10).unwrap();
    assert!(
        first.records.is_empty(),
        "the budget stops the scan before the match"
    );
    let next = first.next.expect("and offers to go on");
    let second = s.records(&f, Some(&next), 10).unwrap();
    assert_eq!(second.records.len(), 1);
    assert_eq!(second.records[0].merchant.as_deref(), Some("Needle Café"));
    assert_eq!(second.next, None, "end of history");
}

#[test]
fn each_query_uses_an_index_and_never_sorts() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    build(&mut s, 50);
    let cursor = s.records(&Filter::default(), None, 5).unwrap().next;
    let expect = [
        ("all", Filter::default(), "records_by_time"),
        (
            "card",
            Filter {
                card_id: Some(CARDS[0].into()),
                ..Default::default()
            },
            "records_by_card",
        ),
        (
            "pending",
            Filter {
                status: Some(Status::Pending),
                ..Default::default()
            },
            "records_pending",
        ),
        (
            "dates",
            Filter {
                from_ms: Some(T0),
                to_ms: Some(T0 + 1),
                ..Default::default()
            },
            "records_by_time",
        ),
        (
            "card+dates",
            Filter {
                card_id: Some(CARDS[2].into()),
                from_ms: Some(T0),
                ..Default::default()
            },
            "records_by_card",
        ),
        (
            "channel",
            Filter {
                channel: Some(Channel::Nfc),
                ..Default::default()
            },
            "records_by_time",
        ),
    ];
    for (name, f, index) in expect {
        for after in [None, cursor.as_ref()] {
            let plan = s.explain_records(&f, after).unwrap().join(" | ");
            assert!(
                plan.contains(index),
                "{name}: expected {index}, plan: {plan}"
            );
            assert!(
                !plan.contains("TEMP B-TREE"),
                "{name}: sorts instead of walking an index: {plan}"
            );
        }
    }
}
