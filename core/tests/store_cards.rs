//! Cards: atomic installation, default order, lifecycle and replenishment rules.

#[path = "fixtures/support.rs"]
mod support;

use support::*;
use wallet_core::card::{Personalisation, Scheme};
use wallet_core::ledger::KeyLedger;
use wallet_core::store::{CardStatus, StoreError};

#[test]
fn install_list_and_default_order() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("visa", Scheme::Visa, 1..=10)).unwrap();
    s.install_card(perso("mc", Scheme::Mastercard, 100..=104))
        .unwrap();
    s.install_card(perso("upi", Scheme::UnionPay, 1..=3))
        .unwrap();

    let ids = |s: &wallet_core::store::Store| {
        s.cards()
            .unwrap()
            .into_iter()
            .map(|c| c.profile.id)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(&s),
        ["visa", "mc", "upi"],
        "installation order; the first card is the default"
    );
    assert!(s.card("visa").unwrap().is_default);

    let mc = s.card("mc").unwrap();
    assert_eq!(
        mc.profile,
        profile("mc", Scheme::Mastercard),
        "the profile reads back exactly"
    );
    assert_eq!(
        (mc.remaining_keys, mc.last_atc, mc.status),
        (5, None, CardStatus::Active)
    );

    s.set_default_card("upi").unwrap();
    assert_eq!(ids(&s), ["upi", "visa", "mc"]);
    assert_eq!(s.default_card().unwrap().unwrap().profile.id, "upi");

    // A suspended default hands the default to the next active card.
    s.set_card_status("upi", CardStatus::Suspended).unwrap();
    assert_eq!(s.default_card().unwrap().unwrap().profile.id, "visa");
    assert!(matches!(
        s.set_default_card("upi"),
        Err(StoreError::CardTransition { .. })
    ));

    drop(s);
    let s = open(home.path());
    assert_eq!(ids(&s), ["upi", "visa", "mc"], "order survives reopen");
}

#[test]
fn bad_personalisations_leave_no_trace() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    let cases: Vec<(Personalisation, &str)> = vec![
        (perso("a", Scheme::Visa, []), "no keys"),
        (perso("a", Scheme::Visa, [3, 2]), "ATCs must increase"),
        (perso("a", Scheme::Visa, [2, 2]), "ATCs must increase"),
        (
            {
                let mut p = perso("a", Scheme::Visa, [1]);
                p.profile.token_pan = "4761x".into();
                p
            },
            "token PAN",
        ),
        (
            {
                let mut p = perso("a", Scheme::Visa, [1]);
                p.profile.expiry = "2913".into();
                p
            },
            "expiry",
        ),
        (
            {
                let mut p = perso("a", Scheme::Visa, [1]);
                p.profile.aid = vec![0xA0, 0, 0, 0, 4, 0x10, 0x10];
                p
            },
            "scheme",
        ),
        (
            {
                let mut p = perso("a", Scheme::Visa, [1]);
                p.profile.id = String::new();
                p
            },
            "id",
        ),
    ];
    for (p, why) in cases {
        let err = s
            .install_card(p)
            .err()
            .unwrap_or_else(|| panic!("accepted: {why}"));
        assert!(err.to_string().contains(why), "{why}: {err}");
    }
    assert!(s.cards().unwrap().is_empty());
    assert!(matches!(s.card("a"), Err(StoreError::UnknownCard(_))));

    s.install_card(perso("a", Scheme::Visa, [1, 2])).unwrap();
    assert!(matches!(
        s.install_card(perso("a", Scheme::Visa, [5])),
        Err(StoreError::CardExists(_))
    ));
    assert_eq!(
        s.remaining_keys("a").unwrap(),
        2,
        "a refused reinstall changes nothing"
    );
}

#[test]
fn suspend_and_delete_wipe_keys() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Visa, 1..=10)).unwrap();
    s.set_card_status("c", CardStatus::Suspended).unwrap();
    assert_eq!(s.remaining_keys("c").unwrap(), 0);
    assert_eq!(s.card("c").unwrap().status, CardStatus::Suspended);
    let mut seen = Vec::new();
    assert!(matches!(
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen)),
        Err(wallet_core::ledger::LedgerError::Inactive(_))
    ));
    assert!(seen.is_empty(), "no key reached the seal closure");
    // Replenishment needs an active card.
    assert!(s.add_keys("c", keys("c", 11..=12)).is_err());

    // Resume: the wiped ATCs were never used, but fresh ones must still lie above anything held.
    s.set_card_status("c", CardStatus::Active).unwrap();
    s.set_card_status("c", CardStatus::Active).unwrap();
    assert_eq!(s.add_keys("c", keys("c", 11..=12)).unwrap(), 2);

    s.set_card_status("c", CardStatus::Deleted).unwrap();
    assert_eq!(s.remaining_keys("c").unwrap(), 0);
    assert!(
        s.cards().unwrap().is_empty(),
        "deleted cards are not listed"
    );
    assert_eq!(
        s.card("c").unwrap().status,
        CardStatus::Deleted,
        "but stay known for their history"
    );
    assert!(matches!(
        s.set_card_status("c", CardStatus::Active),
        Err(StoreError::CardTransition { .. })
    ));

    // Nothing of the wiped keys is left in the database.
    let n: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM session_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
}

#[test]
fn replenished_atcs_must_lie_above_everything_used_or_held() {
    let home = tempfile::tempdir().unwrap();
    let mut s = open(home.path());
    s.install_card(perso("c", Scheme::Mastercard, 10..=12))
        .unwrap();
    let mut seen = Vec::new();
    assert_eq!(
        s.consume_next("c", &mut sealer("c", 1, None, &mut seen))
            .unwrap(),
        10
    );
    for bad in [vec![5, 6], vec![10], vec![12, 13], vec![14, 13]] {
        let err = s
            .add_keys("c", keys("c", bad.clone()))
            .err()
            .unwrap_or_else(|| panic!("accepted {bad:?}"));
        assert!(
            matches!(err, StoreError::InvalidKeys { .. }),
            "{bad:?}: {err}"
        );
    }
    assert_eq!(s.add_keys("c", keys("c", 13..=20)).unwrap(), 10);
    assert!(matches!(
        s.add_keys("nope", keys("nope", [1])),
        Err(StoreError::UnknownCard(_))
    ));
}
