//! walletcore's EMV cryptography against an independent implementation.
//!
//! Thousands of seeded random cases — issuer keys, PANs of 12 to 19 digits, PSNs, ATCs,
//! unpredictable numbers, terminal data, CDCVM on and off — go to one run of
//! `tests/peers/emv_oracle.py`, which answers with:
//! - pyemv (PyPI) for option A/B master keys, the EMV common session key, Mastercard SKD, MAC
//!   algorithm 3 with padding methods 1 and 2, and the ARQC of Visa CVN 18/'22' and Mastercard
//!   CVN 16/17/20/21 through pyemv's own per-CVN classes;
//! - for UnionPay qPBOC CVN 01, which has no public vectors and no pyemv class, values the
//!   script computes directly from `cryptography`'s DES/3DES primitives (no pyemv EMV
//!   function): the option A UDK, the qPBOC session key and the retail MAC.
//!
//! The test fails (never skips) when python3, pyemv or cryptography is missing:
//! `pip install -r tests/peers/requirements.txt`.

use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};
use wallet_core::emv::crypto::{self, Key16, Padding};
use wallet_core::emv::cvn::{AcInput, Cvn, Verification};

const INSTALL_HINT: &str = "install the EMV peers: apt-get install python3 python3-pip && pip install -r tests/peers/requirements.txt";

/// SplitMix64: a small seeded generator, so a failing case can be reproduced.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        std::array::from_fn(|_| self.next() as u8)
    }
    fn vec(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
    fn bcd(&mut self, digits: usize) -> Vec<u8> {
        let s: String = (0..digits)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect();
        hex::decode(s).unwrap()
    }
    fn key(&mut self) -> Key16 {
        Key16::from_bytes(self.bytes())
    }
    fn pan(&mut self) -> String {
        let len = 12 + self.below(8) as usize; // 12..=19 digits
        (0..len)
            .map(|_| char::from(b'0' + self.below(10) as u8))
            .collect()
    }
    /// A 5F34 value: BCD 00..99.
    fn psn(&mut self) -> u8 {
        let n = self.below(100) as u8;
        (n / 10) << 4 | (n % 10)
    }
    fn verification(&mut self) -> Verification {
        Verification {
            cdcvm_performed: self.below(2) == 1,
            arqc_returned: self.below(8) != 0,
        }
    }
    fn ac_input(&mut self, atc: u16) -> AcInput {
        AcInput {
            amount: self.bcd(12).try_into().unwrap(),
            amount_other: self.bcd(12).try_into().unwrap(),
            terminal_country: self.bcd(4).try_into().unwrap(),
            tvr: self.bytes(),
            currency: self.bcd(4).try_into().unwrap(),
            date: self.bcd(6).try_into().unwrap(),
            txn_type: self.bcd(2)[0],
            un: self.bytes(),
            aip: self.bytes(),
            atc,
            iad: Vec::new(),
        }
    }
}

fn hx(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

fn psn_hex(psn: u8) -> String {
    format!("{psn:02X}")
}

/// The terminal fields of a case as the oracle names them.
fn fields(case: &mut serde_json::Map<String, Value>, input: &AcInput) {
    let pairs: [(&str, &[u8]); 11] = [
        ("9F02", &input.amount),
        ("9F03", &input.amount_other),
        ("9F1A", &input.terminal_country),
        ("95", &input.tvr),
        ("5F2A", &input.currency),
        ("9A", &input.date),
        ("9C", &[input.txn_type]),
        ("9F37", &input.un),
        ("82", &input.aip),
        ("9F36", &input.atc.to_be_bytes()),
        ("9F10", &input.iad),
    ];
    for (tag, value) in pairs {
        case.insert(tag.into(), json!(hx(value)));
    }
}

/// One case sent to the oracle and what walletcore computed for it.
struct Case {
    request: Value,
    ours: Vec<(&'static str, String)>,
}

fn cases(rng: &mut Rng) -> Vec<Case> {
    let mut out = Vec::new();

    for _ in 0..300 {
        let (imk, pan, psn) = (rng.key(), rng.pan(), rng.bytes::<1>()[0]);
        out.push(Case {
            request: json!({"kind": "mk", "imk": hx(imk.as_bytes()), "pan": pan, "psn": psn_hex(psn)}),
            ours: vec![
                ("a", hx(crypto::icc_master_key_option_a(&imk, &pan, psn).as_bytes())),
                ("b", hx(crypto::icc_master_key_option_b(&imk, &pan, psn).as_bytes())),
            ],
        });
    }
    for _ in 0..200 {
        let (mk, atc, un) = (rng.key(), rng.next() as u16, rng.bytes::<4>());
        out.push(Case {
            request: json!({"kind": "csk", "mk": hx(mk.as_bytes()), "atc": hx(&atc.to_be_bytes())}),
            ours: vec![("sk", hx(crypto::session_key_emv_csk(&mk, atc).as_bytes()))],
        });
        out.push(Case {
            request: json!({"kind": "skd", "mk": hx(mk.as_bytes()), "atc": hx(&atc.to_be_bytes()), "un": hx(&un)}),
            ours: vec![("sk", hx(crypto::session_key_mastercard_skd(&mk, atc, un).as_bytes()))],
        });
    }
    for i in 0..400 {
        let key = rng.key();
        let len = rng.below(70) as usize;
        let data = rng.vec(len);
        let (padding, method) = if i % 2 == 0 {
            (Padding::Method1, 1)
        } else {
            (Padding::Method2, 2)
        };
        out.push(Case {
            request: json!({"kind": "mac", "key": hx(key.as_bytes()), "data": hx(&data), "padding": method}),
            ours: vec![("mac", hx(&crypto::mac_retail(&key, &data, padding)))],
        });
    }
    for cvn in [
        Cvn::Visa18,
        Cvn::Visa22,
        Cvn::Mastercard20,
        Cvn::Mastercard21,
    ] {
        let name = match cvn {
            Cvn::Visa18 => "visa18",
            Cvn::Visa22 => "visa22",
            Cvn::Mastercard20 => "mc20",
            _ => "mc21",
        };
        for _ in 0..250 {
            let (imk, pan, psn, atc) = (rng.key(), rng.pan(), rng.psn(), rng.next() as u16);
            let mut input = rng.ac_input(atc);
            input.iad = cvn.iad(rng.bytes::<1>()[0], rng.verification());
            let mk = cvn.icc_master_key(&imk, &pan, psn);
            let sk = cvn.session_key(&mk, atc, input.un);
            let mut request = json!({"kind": "arqc", "cvn": name, "imk": hx(imk.as_bytes()), "pan": pan, "psn": psn_hex(psn)});
            fields(request.as_object_mut().unwrap(), &input);
            out.push(Case {
                request,
                ours: vec![
                    ("mk", hx(mk.as_bytes())),
                    ("arqc", hx(&cvn.arqc(&sk, &input))),
                ],
            });
        }
    }
    // Mastercard CVN 16/17 (Mastercard SKD) are not card profiles, but the SKD session key
    // and the M/Chip AC layout are checked end to end with pyemv's classes all the same.
    for (name, cvn_byte, with_counters) in [("mc16", 0x10u8, false), ("mc17", 0x11, true)] {
        for _ in 0..100 {
            let (imk, pan, psn, atc) = (rng.key(), rng.pan(), rng.psn(), rng.next() as u16);
            let mut input = rng.ac_input(atc);
            let mut iad = Cvn::Mastercard21.iad(1, rng.verification());
            iad[1] = cvn_byte;
            iad[10..17].copy_from_slice(&rng.bytes::<7>()); // non-zero counters
            input.iad = iad;
            let mk = crypto::icc_master_key_option_a(&imk, &pan, psn);
            let sk = crypto::session_key_mastercard_skd(&mk, atc, input.un);
            let mut data = input.common_data();
            data.extend_from_slice(&input.iad[2..8]);
            if with_counters {
                data.extend_from_slice(&input.iad[10..18]);
            }
            let arqc = crypto::mac_retail(&sk, &data, Padding::Method2);
            let mut request = json!({"kind": "arqc", "cvn": name, "imk": hx(imk.as_bytes()), "pan": pan, "psn": psn_hex(psn)});
            fields(request.as_object_mut().unwrap(), &input);
            out.push(Case {
                request,
                ours: vec![("mk", hx(mk.as_bytes())), ("arqc", hx(&arqc))],
            });
        }
    }
    for _ in 0..300 {
        let cvn = Cvn::UnionPay01;
        let (imk, pan, psn, atc) = (rng.key(), rng.pan(), rng.psn(), rng.next() as u16);
        let mut input = rng.ac_input(atc);
        input.iad = cvn.iad(rng.bytes::<1>()[0], rng.verification());
        let udk = cvn.icc_master_key(&imk, &pan, psn);
        let sk = cvn.session_key(&udk, atc, input.un);
        let mut request =
            json!({"kind": "unionpay", "imk": hx(imk.as_bytes()), "pan": pan, "psn": psn_hex(psn)});
        fields(request.as_object_mut().unwrap(), &input);
        out.push(Case {
            request,
            ours: vec![
                ("mk", hx(udk.as_bytes())),
                ("sk", hx(sk.as_bytes())),
                ("arqc", hx(&cvn.arqc(&sk, &input))),
            ],
        });
    }
    out
}

fn oracle(requests: Vec<Value>) -> Vec<Value> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/peers/emv_oracle.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run python3 ({e}); {INSTALL_HINT}"));
    let body = serde_json::to_vec(&json!({ "cases": requests })).unwrap();
    child.stdin.take().unwrap().write_all(&body).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "emv_oracle.py failed ({}): {}\n{INSTALL_HINT}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let reply: Value = serde_json::from_slice(&output.stdout).unwrap();
    reply["results"].as_array().unwrap().clone()
}

#[test]
fn walletcore_agrees_with_pyemv_and_an_independent_unionpay_computation() {
    let mut rng = Rng(0x5EED_E3F0_2026_0001);
    let cases = cases(&mut rng);
    let results = oracle(cases.iter().map(|c| c.request.clone()).collect());
    assert_eq!(results.len(), cases.len());

    let mut checked = std::collections::BTreeMap::<String, usize>::new();
    for (case, theirs) in cases.iter().zip(&results) {
        for (field, ours) in &case.ours {
            let expected = theirs[field]
                .as_str()
                .unwrap_or_default()
                .to_ascii_uppercase();
            assert_eq!(ours, &expected, "field {field} of case {}", case.request);
        }
        let kind = case.request["cvn"]
            .as_str()
            .or(case.request["kind"].as_str())
            .unwrap_or("?");
        *checked.entry(kind.to_string()).or_default() += 1;
    }
    // Printed with `--nocapture`, for the record.
    println!(
        "agreed with the oracle on {} cases: {checked:?}",
        cases.len()
    );
    assert_eq!(cases.len(), 300 + 400 + 400 + 4 * 250 + 200 + 300);
}
