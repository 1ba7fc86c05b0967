//! Crash safety with real taps: a `wallet apdu --stdio` process answers whole contactless
//! transactions (PPSE, SELECT, GPO with the cryptogram) and is SIGKILLed at random points, many
//! times. Then: no ATC was ever released twice, every cryptogram that left the process has its
//! history record, keys spent equal records written, and the database passes integrity_check.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use wallet_core::emv::tlv::{self, Tag};
use wallet_core::store::SoftwareKeyWrapper;
use wallet_core::wallet::{Wallet, WalletConfig};

const KEYS: u16 = 300;
const KILLS: usize = 25;
const PPSE: &str = "00A404000E325041592E5359532E444446303100";
const SELECT_VISA: &str = "00A4040007A000000003101000";
/// GPO with the Visa PDOL data: TTQ, 12.34 CNY, China, TVR, date, purchase, UN.
const GPO: &str =
    "80A800002383213680400000000000123400000000000001560000000000015625112100DEADBEEF00";

/// xorshift: reproducible kill points from a printed seed, no extra dependency.
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[test]
fn sigkill_during_real_taps_never_reuses_a_key_or_loses_a_record() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path();
    let wallet_bin = env!("CARGO_BIN_EXE_wallet");
    let run = |args: &[&str]| {
        let out = Command::new(wallet_bin)
            .arg("--home")
            .arg(home)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["init"]);
    run(&[
        "card",
        "add-test",
        "--scheme",
        "visa",
        "--keys",
        &KEYS.to_string(),
    ]);

    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    eprintln!("kill-point seed {seed}");
    let mut rng = Rng(seed);
    let mut released = BTreeSet::new();
    for _ in 0..KILLS {
        let mut child = Command::new(wallet_bin)
            .arg("--home")
            .arg(home)
            .args(["apdu", "--stdio"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        // Kill after a random number of answered commands, mid-transaction or between taps.
        let budget = 1 + rng.below(60);
        let mut answered = 0;
        'taps: loop {
            for cmd in ["!poweron", PPSE, SELECT_VISA, GPO, "!poweroff"] {
                if answered == budget {
                    break 'taps;
                }
                if writeln!(stdin, "{cmd}")
                    .and_then(|()| stdin.flush())
                    .is_err()
                {
                    break 'taps;
                }
                let Some(Ok(reply)) = lines.next() else {
                    break 'taps;
                };
                answered += 1;
                if cmd == GPO {
                    let bytes = hex::decode(&reply).unwrap();
                    if bytes.ends_with(&[0x90, 0x00]) {
                        let atc = tlv::find(&bytes[..bytes.len() - 2], Tag(0x9F36))
                            .unwrap()
                            .expect("a GPO answer carries the ATC");
                        let atc = u16::from_be_bytes([atc[0], atc[1]]);
                        assert!(released.insert(atc), "ATC {atc} released twice");
                    } else {
                        // Out of keys: a status word, never a cryptogram.
                        assert_eq!(reply, "6985");
                        break 'taps;
                    }
                }
            }
        }
        // A random extra delay puts some kills inside the commit of the next GPO.
        if rng.below(2) == 0 {
            let _ = writeln!(stdin, "{GPO}");
            std::thread::sleep(std::time::Duration::from_micros(rng.below(3000)));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
    }
    eprintln!(
        "{} cryptograms released across {KILLS} kills",
        released.len()
    );
    assert!(
        released.len() > 10,
        "the test should release many cryptograms"
    );

    let wrapper = SoftwareKeyWrapper::in_dir(home).unwrap();
    let wallet = Wallet::open(WalletConfig::new(home), Arc::new(wrapper)).unwrap();
    wallet.with_store(|s| s.integrity_check()).unwrap();
    let mut recorded = BTreeSet::new();
    let mut after = None;
    loop {
        let page = wallet
            .history(&Default::default(), 500, after.as_deref())
            .unwrap();
        for r in &page.records {
            assert!(recorded.insert(r.atc), "two records for ATC {}", r.atc);
        }
        match page.next {
            Some(c) => after = Some(c.to_string()),
            None => break,
        }
    }
    // Every cryptogram that left has its record; a record without a released cryptogram is a
    // key burnt by a kill between the commit and the answer.
    assert!(
        released.is_subset(&recorded),
        "released without a record: {:?}",
        released.difference(&recorded).collect::<Vec<_>>()
    );
    let keys_left = wallet.cards().unwrap()[0].keys_left;
    assert_eq!(
        usize::from(KEYS),
        recorded.len() + keys_left as usize,
        "every key is either unused or has exactly one record"
    );
}
