//! Crash safety of the key ledger: a child process taps in a loop, printing `released <atc>`
//! each time `consume_next` returns (the moment a cryptogram could leave the core); the parent
//! SIGKILLs it at random points, many times, and after each kill reopens the wallet and checks:
//! no ATC was ever handed out twice, every released ATC has its record, keys spent equal records
//! written (consumption and record are one transaction), and `integrity_check` passes.
//!
//! SIGKILL tests process death; durability across power loss rests on `synchronous=FULL`.

#[path = "fixtures/support.rs"]
mod support;

use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use support::*;
use wallet_core::card::Scheme;
use wallet_core::history::Filter;
use wallet_core::ledger::{KeyLedger, LedgerError};

const CHILD_ENV: &str = "WALLETCORE_CRASH_CHILD";
const KEYS: u16 = 4000;
const KILLS: usize = 40;

/// The child: tap until the keys run out, announcing each released ATC.
#[test]
#[ignore = "child process of sigkill_during_taps_never_reuses_a_key_or_loses_a_record"]
fn crash_child() {
    let dir = std::env::var_os(CHILD_ENV).expect("run by the crash test");
    let mut s = open(Path::new(&dir));
    loop {
        let mut seen = Vec::new();
        let result = s.consume_next("c", &mut sealer("c", 120, Some("Night Market"), &mut seen));
        match result {
            Ok(atc) => println!("released {atc}"),
            Err(LedgerError::Exhausted(_)) => return,
            Err(e) => panic!("{e}"),
        }
    }
}

/// xorshift64*: enough randomness to pick kill points, seeded from the OS and printed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

#[test]
fn sigkill_during_taps_never_reuses_a_key_or_loses_a_record() {
    let mut seed = [0u8; 8];
    SystemRandom::new().fill(&mut seed).unwrap();
    let seed = u64::from_le_bytes(seed) | 1;
    eprintln!("kill-point seed {seed:#x}");
    let mut rng = Rng(seed);

    let home = tempfile::tempdir().unwrap();
    open(home.path())
        .install_card(perso("c", Scheme::Visa, 1..=KEYS))
        .unwrap();

    let mut released: Vec<u16> = Vec::new();
    let mut taps_seen_killed = 0;
    for round in 0..KILLS {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "crash_child",
                "--ignored",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, home.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap())
            .lines()
            .map_while(Result::ok)
            .filter_map(|l| {
                l.strip_prefix("released ")
                    .map(|n| n.parse::<u16>().unwrap())
            });
        // Kill after a random number of taps (0: possibly while still opening), then a random
        // fraction of a tap later.
        let wait_for = rng.below(12);
        let mut got = 0;
        while got < wait_for {
            match lines.next() {
                Some(atc) => {
                    released.push(atc);
                    got += 1;
                }
                None => break,
            }
        }
        std::thread::sleep(Duration::from_micros(rng.below(3000)));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert!(
            !status.success(),
            "round {round}: the child must die by the signal, not finish"
        );
        // Everything the child printed before it died was released.
        released.extend(lines);
        taps_seen_killed += usize::from(got > 0);

        // Reopen after the crash and check the invariants.
        let s = open(home.path());
        s.integrity_check().unwrap();
        let records = s.count_records(&Filter::default()).unwrap();
        let spent = u64::from(KEYS) - s.remaining("c").unwrap() as u64;
        assert_eq!(
            records, spent,
            "round {round}: every spent key has exactly one record"
        );
        let mut atcs = BTreeSet::new();
        let mut cursor = None;
        loop {
            let page = s
                .records(&Filter::default(), cursor.as_ref(), 1000)
                .unwrap();
            atcs.extend(page.records.iter().map(|r| r.atc));
            match page.next {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
        assert_eq!(
            atcs.len() as u64,
            records,
            "round {round}: no ATC recorded twice"
        );
        for atc in &released {
            assert!(
                atcs.contains(atc),
                "round {round}: released ATC {atc} has no record"
            );
        }
        // The spent keys are exactly the lowest ATCs: the next key is above all of them.
        assert_eq!(atcs.iter().copied().max(), s.card("c").unwrap().last_atc);
        assert_eq!(
            atcs.len(),
            atcs.last().map_or(0, |m| usize::from(*m)),
            "ATCs 1..=n spent, none skipped or reused"
        );
    }
    // No ATC was released twice across all the lives of the child.
    let mut sorted = released.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), released.len(), "an ATC was released twice");
    assert!(
        released.windows(2).all(|w| w[0] < w[1]),
        "released ATCs always increase"
    );
    assert!(
        taps_seen_killed >= KILLS / 2,
        "most kills must land among taps, got {taps_seen_killed}"
    );
    eprintln!("{} ATCs released over {KILLS} kills", released.len());
}
