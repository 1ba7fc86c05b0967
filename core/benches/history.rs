//! History at a million records: insert throughput, first page with filters, monthly stats,
//! export throughput, file size per record, open time, the durable tap, and the insert rate
//! compared with the sqlite3 shell importing the same rows.
//!
//! The 1,000,000-record wallet is generated once and cached in the target directory
//! (`$CARGO_TARGET_TMPDIR/history-1m`); delete that directory to regenerate it. Run:
//!
//! ```sh
//! cargo bench -p wallet-core --bench history -- --warm-up-time 1 --measurement-time 3
//! ```
//!
//! Needs the `sqlite3` shell (`apt-get install sqlite3`) for the comparison.

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use wallet_core::card::{AID_VISA, CardProfile, Personalisation, Scheme, SessionKey};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::history::{Filter, Imported, Month, StatsQuery, Status};
use wallet_core::ledger::{Channel, KeyLedger, TxnDraft};
use wallet_core::store::{SoftwareKeyWrapper, Store, schema};

const RECORDS: usize = 1_000_000;
const CARDS: usize = 20;
const BATCH: usize = 10_000;
/// Bump when the generator changes, so a cached fixture is rebuilt.
const GENERATOR: u32 = 1;
/// 2021-01-01T00:00:00Z; records are spread over five years from there.
const T0: i64 = 1_609_459_200_000;
const SPAN_MS: i64 = 5 * 365 * 86_400_000;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

fn card_id(i: usize) -> String {
    format!("card-{i:02}")
}

fn profile(id: &str) -> CardProfile {
    CardProfile {
        id: id.to_owned(),
        scheme: Scheme::Visa,
        aid: AID_VISA.to_vec(),
        label: "VISA".into(),
        token_pan: "4761739001010119".into(),
        expiry: "3012".into(),
        psn: 1,
        cvn: Cvn::Visa18,
        dki: 1,
        cvm_limit_minor: 50_000,
        issuer_country: 156,
    }
}

fn perso(id: &str, atcs: std::ops::RangeInclusive<u16>) -> Personalisation {
    Personalisation {
        profile: profile(id),
        keys: atcs
            .map(|atc| SessionKey {
                atc,
                key: Key16::from_bytes([atc as u8; 16]),
            })
            .collect(),
    }
}

/// Realistic merchant names: a few hundred, repeating, some in Chinese.
fn merchant(rng: &mut Lcg) -> String {
    const A: [&str; 12] = [
        "Lucky", "Golden", "Blue", "Jade", "Harbour", "Sunrise", "Old Town", "East", "Lotus",
        "Maple", "Red Door", "Corner",
    ];
    const B: [&str; 12] = [
        "Noodle Bar",
        "Coffee",
        "Mart",
        "Bakery",
        "Pharmacy",
        "Books",
        "Dumplings",
        "Grocer",
        "Cinema",
        "Taxi",
        "Tea House",
        "Electronics",
    ];
    const ZH: [&str; 6] = [
        "星巴克咖啡",
        "全家便利店",
        "海底捞火锅",
        "上海地铁",
        "盒马鲜生",
        "瑞幸咖啡",
    ];
    if rng.next(5) == 0 {
        format!("{} {}店", ZH[rng.next(6) as usize], 1 + rng.next(40))
    } else {
        format!("{} {}", A[rng.next(12) as usize], B[rng.next(12) as usize])
    }
}

/// The generator: deterministic records, `count` of them starting at sequence number `from`.
struct Generator {
    rng: Lcg,
    atc: Vec<u16>,
    seq: u64,
}

impl Generator {
    fn new(seed: u64) -> Self {
        Generator {
            rng: Lcg(seed),
            atc: vec![0; CARDS],
            seq: 0,
        }
    }

    fn item(&mut self, created_at_ms: i64, only_scanned: bool) -> Imported {
        let r = &mut self.rng;
        let card = r.next(CARDS as u64) as usize;
        let channel = match r.next(10) {
            _ if only_scanned => Channel::QrScanned,
            0..=6 => Channel::Nfc,
            7 => Channel::QrPresented,
            _ => Channel::QrScanned,
        };
        let atc = if channel == Channel::QrScanned {
            r.next(65_535) as u16
        } else {
            self.atc[card] += 1;
            self.atc[card]
        };
        self.seq += 1;
        let mut hash = [0u8; 32];
        for chunk in hash.chunks_mut(8) {
            chunk.copy_from_slice(&r.next(u64::MAX).to_le_bytes());
        }
        hash[..8].copy_from_slice(&self.seq.to_be_bytes());
        let status = match r.next(100) {
            0..=89 => Status::Approved,
            90..=94 => Status::Declined,
            95..=97 => Status::Reversed,
            98 => Status::Expired,
            _ => Status::Pending,
        };
        Imported {
            draft: TxnDraft {
                card_id: card_id(card),
                channel,
                atc,
                amount_minor: Some(100 + r.next(50_000)),
                currency: Some([156, 156, 156, 840, 978][r.next(5) as usize]),
                country: Some(156),
                unpredictable_number: (r.next(u64::from(u32::MAX)) as u32).to_be_bytes(),
                cryptogram_sha256: hash,
                cdcvm: r.next(3) == 0,
                merchant: (channel != Channel::Nfc || r.next(4) != 0).then(|| merchant(r)),
            },
            status,
            created_at_ms,
        }
    }
}

fn wrapper(dir: &Path) -> Arc<SoftwareKeyWrapper> {
    Arc::new(SoftwareKeyWrapper::in_dir(dir).expect("key file"))
}

/// What the fixture build measured, kept beside it.
struct Fixture {
    dir: PathBuf,
    import_secs: f64,
    import_cpu_secs: f64,
}

/// CPU seconds used by this process (`children: false`) or its waited-for children (Linux
/// `/proc/self/stat` utime + stime or cutime + cstime, at the usual 100 ticks/s): cost apart from
/// how busy the machine is. 0 elsewhere.
fn cpu_secs_of(children: bool) -> f64 {
    let at = if children { 13 } else { 11 };
    let fields = || -> Option<f64> {
        let stat = fs::read_to_string("/proc/self/stat").ok()?;
        let after_comm: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let user: f64 = after_comm.get(at)?.parse().ok()?;
        let system: f64 = after_comm.get(at + 1)?.parse().ok()?;
        Some((user + system) / 100.0)
    };
    fields().unwrap_or(0.0)
}

fn cpu_secs() -> f64 {
    cpu_secs_of(false)
}

fn fixture() -> Fixture {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("history-1m");
    let marker = dir.join("complete");
    let tag = format!(
        "generator {GENERATOR} schema {} records {RECORDS}",
        schema::VERSION
    );
    if let Ok(text) = fs::read_to_string(&marker)
        && let Some((head, times)) = text.trim().split_once(" import_secs ")
        && head == tag
        && let Some((wall, cpu)) = times.split_once(" cpu_secs ")
        && let (Ok(wall), Ok(cpu)) = (wall.parse(), cpu.parse())
    {
        return Fixture {
            dir,
            import_secs: wall,
            import_cpu_secs: cpu,
        };
    }
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    eprintln!(
        "building the {RECORDS}-record fixture in {} (once)…",
        dir.display()
    );
    let mut store = Store::open(&dir, wrapper(&dir)).unwrap();
    for c in 0..CARDS {
        store.install_card(perso(&card_id(c), 0..=0)).unwrap();
    }
    let mut g = Generator::new(42);
    let step = SPAN_MS / RECORDS as i64;
    let start = Instant::now();
    let cpu_start = cpu_secs();
    for batch in 0..RECORDS / BATCH {
        let items: Vec<Imported> = (0..BATCH)
            .map(|i| g.item(T0 + ((batch * BATCH + i) as i64) * step, false))
            .collect();
        store.import(items).unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu_start;
    drop(store);
    fs::write(&marker, format!("{tag} import_secs {secs} cpu_secs {cpu}")).unwrap();
    Fixture {
        dir,
        import_secs: secs,
        import_cpu_secs: cpu,
    }
}

fn db_size(dir: &Path) -> u64 {
    ["wallet.db", "wallet.db-wal"]
        .iter()
        .filter_map(|n| fs::metadata(dir.join(n)).ok())
        .map(|m| m.len())
        .sum()
}

/// The sqlite3 shell importing the same rows into the same table and indexes, as a SQL script
/// in one transaction with the same journal and sync settings. Cached beside the fixture.
fn shell_import_secs(fx: &Fixture) -> (f64, f64) {
    let cache = fx.dir.join("shell_import_secs");
    if let Some((wall, cpu)) = fs::read_to_string(&cache).ok().and_then(|s| {
        let (w, c) = s.trim().split_once(' ')?;
        Some((w.parse().ok()?, c.parse().ok()?))
    }) {
        return (wall, cpu);
    }
    let version = Command::new("sqlite3").arg("--version").output();
    let Some(version) = version.ok().filter(|o| o.status.success()) else {
        panic!("the comparison needs the sqlite3 shell: apt-get install sqlite3");
    };
    eprintln!(
        "sqlite3 shell {}",
        String::from_utf8_lossy(&version.stdout).trim()
    );
    let work = tempfile::tempdir_in(&fx.dir).unwrap();
    let rows_sql = work.path().join("rows.sql");
    // Untimed: dump the fixture's rows as INSERT statements.
    let status = Command::new("sqlite3")
        .arg("-bail")
        .arg(fx.dir.join("wallet.db"))
        .args([
            ".mode insert records",
            &format!(".output {}", rows_sql.display()),
            "SELECT * FROM records ORDER BY id;",
        ])
        .status()
        .unwrap();
    assert!(status.success(), "dumping the rows failed");
    let schema_sql: Vec<String> = {
        let c = rusqlite::Connection::open(fx.dir.join("wallet.db")).unwrap();
        let mut stmt = c
            .prepare("SELECT sql FROM sqlite_master WHERE tbl_name = 'records' AND sql IS NOT NULL ORDER BY type DESC")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let script = work.path().join("import.sql");
    fs::write(
        &script,
        format!(
            "PRAGMA journal_mode=WAL;\nPRAGMA synchronous=FULL;\nPRAGMA secure_delete=ON;\n{};\nBEGIN;\n.read {}\nCOMMIT;\n",
            schema_sql.join(";\n"),
            rows_sql.display()
        ),
    )
    .unwrap();
    let target = work.path().join("shell.db");
    let start = Instant::now();
    let cpu_start = cpu_secs_of(true);
    let status = Command::new("sqlite3")
        .arg("-bail")
        .arg(&target)
        .stdin(fs::File::open(&script).unwrap())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_secs_of(true) - cpu_start;
    assert!(status.success(), "the shell import failed");
    let n: i64 = rusqlite::Connection::open(&target)
        .unwrap()
        .query_row("SELECT count(*) FROM records", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, RECORDS, "the shell imported every row");
    fs::write(&cache, format!("{secs} {cpu}")).unwrap();
    (secs, cpu)
}

fn report(fx: &Fixture) {
    let size = db_size(&fx.dir);
    let ours = RECORDS as f64 / fx.import_secs;
    let (shell_wall, shell_cpu) = shell_import_secs(fx);
    let shell = RECORDS as f64 / shell_wall;
    eprintln!("--- history fixture: {RECORDS} records, {CARDS} cards ---");
    eprintln!(
        "file size: {:.1} MiB, {:.0} bytes/record",
        size as f64 / 1_048_576.0,
        size as f64 / RECORDS as f64
    );
    eprintln!(
        "build: import() in batches of {BATCH}: {:.1} s, {ours:.0} records/s (encrypt + insert + rollup); \
         {:.1} CPU s, {:.0} records per CPU second",
        fx.import_secs,
        fx.import_cpu_secs,
        RECORDS as f64 / fx.import_cpu_secs
    );
    eprintln!(
        "sqlite3 shell importing the same rows (SQL script, one transaction): {shell:.0} rows/s, \
         {:.0} rows per CPU second; walletcore/shell = {:.2} (wall), {:.2} (CPU)",
        RECORDS as f64 / shell_cpu,
        ours / shell,
        shell_cpu / fx.import_cpu_secs
    );
}

fn benches(c: &mut Criterion) {
    let fx = fixture();
    report(&fx);
    let store = Store::open(&fx.dir, wrapper(&fx.dir)).unwrap();

    // Insert throughput into a fresh wallet: batches of 1,000 and 10,000, one transaction each.
    {
        let home = tempfile::tempdir().unwrap();
        let mut s = Store::open(home.path(), wrapper(home.path())).unwrap();
        for i in 0..CARDS {
            s.install_card(perso(&card_id(i), 0..=0)).unwrap();
        }
        let mut g = Generator::new(7);
        let mut t = T0;
        let mut group = c.benchmark_group("insert");
        group.sample_size(10);
        for batch in [1_000u64, 10_000] {
            group.throughput(Throughput::Elements(batch));
            group.bench_function(format!("import_batch_{batch}"), |b| {
                b.iter_batched(
                    || {
                        (0..batch)
                            .map(|_| {
                                t += 1_000;
                                g.item(t, true)
                            })
                            .collect::<Vec<_>>()
                    },
                    |items| s.import(items).unwrap(),
                    BatchSize::PerIteration,
                )
            });
        }
        group.finish();
    }

    // The durable tap: consume a key and write its record, one FULL-synced transaction each.
    {
        let home = tempfile::tempdir().unwrap();
        let mut s = Store::open(home.path(), wrapper(home.path())).unwrap();
        s.install_card(perso("tap", 1..=65_000)).unwrap();
        let mut g = Generator::new(9);
        let mut group = c.benchmark_group("ledger");
        group.bench_function("consume_next_durable", |b| {
            b.iter(|| {
                let mut item = g.item(0, false);
                s.consume_next("tap", &mut |atc, _key| {
                    item.draft.card_id = "tap".into();
                    item.draft.atc = atc;
                    item.draft.channel = Channel::Nfc;
                    item.draft.clone()
                })
                .unwrap()
            })
        });
        group.finish();
    }

    // First page of 50, newest first, with filters, on the million-record wallet.
    {
        let month = Month::of_ms(T0 + SPAN_MS / 2);
        let deep = {
            // A cursor half way down the history: keyset paging costs the same there.
            let f = Filter {
                to_ms: Some(T0 + SPAN_MS / 2),
                ..Default::default()
            };
            store.records(&f, None, 1).unwrap().next
        };
        let filters: Vec<(&str, Filter)> = vec![
            ("none", Filter::default()),
            (
                "card",
                Filter {
                    card_id: Some(card_id(3)),
                    ..Default::default()
                },
            ),
            (
                "card_approved",
                Filter {
                    card_id: Some(card_id(3)),
                    status: Some(Status::Approved),
                    ..Default::default()
                },
            ),
            (
                "channel_qr_scanned",
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
                "one_month",
                Filter {
                    from_ms: Some(month.start_ms()),
                    to_ms: Some(month.end_ms()),
                    ..Default::default()
                },
            ),
            (
                "amount_range_usd",
                Filter {
                    min_amount: Some(40_000),
                    max_amount: Some(45_000),
                    currency: Some(840),
                    ..Default::default()
                },
            ),
            (
                "text_coffee",
                Filter {
                    text: Some("coffee".into()),
                    ..Default::default()
                },
            ),
            (
                "text_rare",
                Filter {
                    text: Some("jade cinema".into()),
                    ..Default::default()
                },
            ),
        ];
        let mut group = c.benchmark_group("first_page_50");
        for (name, f) in &filters {
            let n = store.records(f, None, 50).unwrap().records.len();
            eprintln!(
                "first_page_50/{name}: {n} records; plan: {}",
                store.explain_records(f, None).unwrap().join(" | ")
            );
            group.bench_function(*name, |b| {
                b.iter(|| black_box(store.records(f, None, 50).unwrap()))
            });
        }
        group.bench_function("none_at_500k", |b| {
            b.iter(|| {
                black_box(
                    store
                        .records(&Filter::default(), deep.as_ref(), 50)
                        .unwrap(),
                )
            })
        });
        group.finish();
    }

    // Monthly totals.
    {
        let mut group = c.benchmark_group("stats");
        let all = StatsQuery {
            by_card: true,
            ..Default::default()
        };
        let rows = store.monthly_totals(&all).unwrap().len();
        eprintln!("stats/all_months_by_card: {rows} rows");
        group.bench_function("all_months_by_card", |b| {
            b.iter(|| black_box(store.monthly_totals(&all).unwrap()))
        });
        let month = Month::of_ms(T0 + SPAN_MS / 2);
        let one = StatsQuery {
            from: Some(month),
            to: Some(month),
            ..Default::default()
        };
        group.bench_function("one_month_by_currency", |b| {
            b.iter(|| black_box(store.monthly_totals(&one).unwrap()))
        });
        group.finish();
    }

    // Export throughput over six months (~100,000 records) to a sink.
    {
        let f = Filter {
            from_ms: Some(T0),
            to_ms: Some(T0 + SPAN_MS / 10),
            ..Default::default()
        };
        let n = store.count_records(&f).unwrap();
        let mut group = c.benchmark_group("export");
        group.sample_size(10);
        group.throughput(Throughput::Elements(n));
        group.bench_function("csv", |b| {
            b.iter(|| store.export_csv(std::io::sink(), &f).unwrap())
        });
        group.bench_function("json", |b| {
            b.iter(|| store.export_json(std::io::sink(), &f).unwrap())
        });
        group.finish();
    }

    // Opening the million-record wallet (quick_check included).
    {
        drop(store);
        let w = wrapper(&fx.dir);
        let mut group = c.benchmark_group("open");
        group.sample_size(20);
        group.bench_function("wallet_1m_records", |b| {
            b.iter(|| black_box(Store::open(&fx.dir, w.clone()).unwrap()))
        });
        group.finish();
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
}

criterion_group! { name = history; config = config(); targets = benches }
criterion_main!(history);
