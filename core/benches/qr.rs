//! QR benchmarks. Targets: MPM parse ≤ 5 µs per typical payload; CPM build + matrix + SVG
//! ≤ 2 ms.
//!
//! cargo bench -p wallet-core --bench qr -- --warm-up-time 1 --measurement-time 3

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use wallet_core::card::{AID_UNIONPAY_CREDIT, CardProfile, Scheme, SessionKey};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::ledger::MemoryLedger;
use wallet_core::qr::cpm::{PresentContext, Presenter};
use wallet_core::qr::render::{QrSymbol, RenderOptions};
use wallet_core::qr::{self, mpm};

/// Typical merchant codes from the corpus: EMVCo annex (non-ASCII, 248 chars), QR Ph
/// (215 chars), PromptPay personal (shortest kind); all corpus entries.
const PAYLOADS: [(&str, &str); 3] = [
    (
        "annex_cn",
        "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678520441115802CN5914BEST TRANSPORT6007BEIJING64200002ZH0104最佳运输0202北京540523.7253031565502016233030412340603***0708A60086670902ME91320016A0112233449988770708123456786304A13A",
    ),
    (
        "qrph",
        "00020101021128620011ph.ppmi.p2m0111GXCHPHM2XXX032121702000005469871609905030005204581453036085802PH5917S and R MBTC 91826006Taguig6104163062650012ph.ppmi.qrph0308SRSU002005212170500000669901340940708GEN0035163049EE7",
    ),
    (
        "promptpay",
        "00020101021129370016A000000677010111011300668012345675802TH530376463046197",
    ),
];

fn mpm_parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("mpm_decode");
    for (name, payload) in PAYLOADS {
        g.bench_function(name, |b| b.iter(|| mpm::decode(black_box(payload))));
    }
    g.finish();
    let mut g = c.benchmark_group("scan_report");
    for (name, payload) in PAYLOADS {
        g.bench_function(name, |b| b.iter(|| qr::scan_str(black_box(payload))));
    }
    g.finish();
}

fn card() -> CardProfile {
    CardProfile {
        id: "card-1".into(),
        scheme: Scheme::UnionPay,
        aid: AID_UNIONPAY_CREDIT.to_vec(),
        label: "UnionPay Credit".into(),
        token_pan: "6212345678901234567".into(),
        expiry: "3012".into(),
        psn: 1,
        cvn: Cvn::UnionPay01,
        dki: 1,
        cvm_limit_minor: 100_000,
        issuer_country: 156,
    }
}

fn cpm_present(c: &mut Criterion) {
    let card = card();
    let presenter = Presenter::default();
    let ctx = PresentContext {
        now_unix: 1_800_000_000,
        cdcvm: true,
    };
    let fresh_ledger = || {
        let mut ledger = MemoryLedger::new();
        ledger.add_keys(
            "card-1",
            vec![SessionKey {
                atc: 7,
                key: Key16::from_bytes([0x11; 16]),
            }],
        );
        ledger
    };
    c.bench_function("cpm_issue+matrix+svg", |b| {
        b.iter_batched(
            fresh_ledger,
            |mut ledger| {
                let code = presenter.issue(&mut ledger, &[&card], ctx).expect("issues");
                let symbol = QrSymbol::encode(code.payload.as_bytes(), RenderOptions::default())
                    .expect("encodes");
                (symbol.matrix(), symbol.svg())
            },
            BatchSize::SmallInput,
        )
    });
    let payload = presenter
        .issue(&mut fresh_ledger(), &[&card], ctx)
        .expect("issues")
        .payload;
    c.bench_function("cpm_issue", |b| {
        b.iter_batched(
            fresh_ledger,
            |mut l| presenter.issue(&mut l, &[&card], ctx),
            BatchSize::SmallInput,
        )
    });
    c.bench_function("qr_encode+matrix (cpm payload)", |b| {
        b.iter(|| {
            QrSymbol::encode(black_box(payload.as_bytes()), RenderOptions::default())
                .map(|s| s.matrix())
        })
    });
    c.bench_function("png x4 (cpm payload)", |b| {
        let s = QrSymbol::encode(payload.as_bytes(), RenderOptions::default()).expect("encodes");
        b.iter(|| s.png(4))
    });
}

criterion_group!(benches, mpm_parse, cpm_present);
criterion_main!(benches);
