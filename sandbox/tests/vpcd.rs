//! The virtual-card bridge: framing against vpcd's protocol, then a real pcscd + vpcd driver
//! with a PC/SC client (pyscard) as the terminal and pyemv checking the cryptograms.

use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wallet_core::card::Scheme;
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::ledger::{KeyLedger, MemoryLedger};
use wallet_sandbox::issuer::{CardRequest, Issuer, TEST_IMK_HEX};
use wallet_sandbox::vpcd::{self, EngineCard, VirtualCard};

/// A vpcd stand-in that speaks exactly as `vpcd.c` does: `sendToVICC` writes a 2-byte
/// big-endian length then the bytes; `recvFromVICC` reads the same; power on/off/reset are
/// sent without waiting for an answer, ATR and APDUs wait for one.
struct FakeVpcd {
    sock: TcpStream,
}

impl FakeVpcd {
    fn send(&mut self, payload: &[u8]) {
        let mut m = (payload.len() as u16).to_be_bytes().to_vec();
        m.extend_from_slice(payload);
        self.sock.write_all(&m).unwrap();
    }
    fn recv(&mut self) -> Vec<u8> {
        let mut len = [0u8; 2];
        self.sock.read_exact(&mut len).unwrap();
        let mut body = vec![0u8; u16::from_be_bytes(len) as usize];
        self.sock.read_exact(&mut body).unwrap();
        body
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.send(apdu);
        self.recv()
    }
}

struct Recorder {
    events: Vec<String>,
}

impl VirtualCard for Recorder {
    fn power_on(&mut self) {
        self.events.push("on".into());
    }
    fn power_off(&mut self) {
        self.events.push("off".into());
    }
    fn reset(&mut self) {
        self.events.push("reset".into());
    }
    fn transmit(&mut self, apdu: &[u8]) -> Vec<u8> {
        self.events.push(format!("apdu {}", hex::encode(apdu)));
        [apdu, &[0x90, 0x00]].concat()
    }
}

#[test]
fn framing_follows_vpcd() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let card = std::thread::spawn(move || {
        let mut rec = Recorder { events: Vec::new() };
        vpcd::run(addr, &mut rec).map(|()| rec.events)
    });
    let (sock, _) = listener.accept().unwrap();
    let mut pcd = FakeVpcd { sock };
    // vicc_present: ATR request, answered with the ATR.
    pcd.send(&[0x04]);
    assert_eq!(pcd.recv(), vec![0x3B, 0x80, 0x80, 0x01, 0x01]);
    pcd.send(&[0x01]); // power on, no answer
    let apdu = [0x00, 0xA4, 0x04, 0x00, 0x02, 0x3F, 0x00, 0x00];
    assert_eq!(pcd.transmit(&apdu), [&apdu[..], &[0x90, 0x00]].concat());
    pcd.send(&[0x02]); // reset, no answer
    pcd.send(&[0x07]); // unknown control: ignored, no answer
    // A maximal APDU (extended length) crosses intact.
    let big: Vec<u8> = (0..4000u32).map(|i| i as u8).collect();
    assert_eq!(pcd.transmit(&big).len(), big.len() + 2);
    pcd.send(&[0x04]);
    assert_eq!(pcd.recv().len(), 5);
    pcd.send(&[0x00]); // power off
    drop(pcd); // vpcd goes away: the card's loop ends cleanly
    let events = card.join().unwrap().unwrap();
    assert_eq!(events[0], "on");
    assert_eq!(events[1], format!("apdu {}", hex::encode(apdu)));
    assert_eq!(events[2], "reset");
    assert_eq!(events.last().unwrap(), "off");
}

#[test]
fn engine_card_answers_uid_and_resets_on_power_events() {
    let mut issuer = Issuer::with_test_keys();
    let perso = issuer
        .personalise(&CardRequest::new("v", Scheme::Visa))
        .unwrap();
    let mut ledger = MemoryLedger::new();
    ledger.add_keys("v", perso.keys);
    let mut engine = Engine::new(vec![perso.profile.clone()]).unwrap();
    let mut card = EngineCard::new(&mut engine, &mut ledger);
    card.power_on();
    let uid = card.transmit(&[0xFF, 0xCA, 0x00, 0x00, 0x00]);
    assert_eq!((uid.len(), uid[0], &uid[4..]), (6, 0x08, &[0x90, 0x00][..]));
    let aid = &perso.profile.aid;
    let select = [&[0x00, 0xA4, 0x04, 0x00, aid.len() as u8][..], aid, &[0x00]].concat();
    assert!(card.transmit(&select).ends_with(&[0x90, 0x00]));
    card.reset();
    // After a reset the selection is gone: GPO is out of sequence.
    assert_eq!(
        card.transmit(&[0x80, 0xA8, 0x00, 0x00, 0x02, 0x83, 0x00, 0x00]),
        vec![0x69, 0x85]
    );
}

/// pcscd started for this test, stopped (by its pid) when dropped.
struct Pcscd(Child);

impl Drop for Pcscd {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn first_existing(paths: &[&str]) -> Option<PathBuf> {
    paths.iter().map(PathBuf::from).find(|p| p.exists())
}

fn free_port_pair() -> u16 {
    // vpcd listens on the configured port and the next one (two slots).
    for _ in 0..50 {
        let a = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = a.local_addr().unwrap().port();
        if port < 65_000 && TcpListener::bind(("0.0.0.0", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no free port pair");
}

#[test]
fn a_pcsc_terminal_pays_through_pcscd_and_vpcd() {
    let pcscd =
        first_existing(&["/usr/sbin/pcscd"]).expect("pcscd is missing: apt-get install pcscd");
    let driver = first_existing(&[
        "/usr/lib/pcsc/drivers/serial/libifdvpcd.so",
        "/usr/lib/pcsc/drivers/serial/libifdvpcd.so.0.8",
    ])
    .expect("the vpcd driver is missing: apt-get install vsmartcard-vpcd");
    let status = Command::new("/usr/bin/python3")
        .args(["-c", "import smartcard"])
        .status();
    assert!(
        status.is_ok_and(|s| s.success()),
        "pyscard for /usr/bin/python3 is missing: apt-get install python3-pyscard"
    );
    // pcscd 1.9's socket path is fixed (/run/pcscd/pcscd.comm): one daemon per machine.
    if let Ok(pid) = std::fs::read_to_string("/run/pcscd/pcscd.pid") {
        let alive = Path::new(&format!("/proc/{}", pid.trim())).exists();
        assert!(
            !alive,
            "another pcscd (pid {}) is running; stop it to run this test",
            pid.trim()
        );
    }

    let dir = tempfile::tempdir().unwrap();
    let port = free_port_pair();
    std::fs::write(
        dir.path().join("vpcd"),
        format!(
            "FRIENDLYNAME \"Virtual PCD\"\nDEVICENAME /dev/null:0x{port:X}\nLIBPATH {}\nCHANNELID 0x{port:X}\n",
            driver.display()
        ),
    )
    .unwrap();
    let _daemon = Pcscd(
        Command::new(pcscd)
            .args(["--foreground", "--auto-exit", "--config"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start pcscd"),
    );

    // The phone: one card per scheme.
    let mut issuer = Issuer::with_test_keys();
    let mut ledger = MemoryLedger::new();
    let mut profiles = Vec::new();
    for (id, scheme, cvn) in [
        ("u", Scheme::UnionPay, Cvn::UnionPay01),
        ("v", Scheme::Visa, Cvn::Visa22),
        ("m", Scheme::Mastercard, Cvn::Mastercard20),
    ] {
        let mut req = CardRequest::new(id, scheme);
        req.cvn = cvn;
        req.key_count = 2;
        let p = issuer.personalise(&req).unwrap();
        ledger.add_keys(id, p.keys);
        profiles.push(p.profile);
    }
    let bridge = std::thread::spawn(move || {
        let mut engine = Engine::new(profiles).unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            // vpcd's listener comes up once pcscd has loaded the driver.
            match TcpStream::connect(("127.0.0.1", port)) {
                Ok(mut stream) => {
                    let mut card = EngineCard::new(&mut engine, &mut ledger);
                    let _ = vpcd::serve(&mut stream, &mut card);
                    break;
                }
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(100))
                }
                Err(e) => panic!("vpcd never listened on {port}: {e}"),
            }
        }
        ledger
    });

    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/pcsc_tap.py");
    let out = Command::new("/usr/bin/python3")
        .arg(script)
        .arg("Virtual PCD")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "PC/SC terminal failed: {stderr}");
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["atr"], "3b80800101");
    assert!(report["uid"].as_str().unwrap().starts_with("08"));
    let taps = report["taps"].as_array().unwrap();
    assert_eq!(taps.len(), 3, "{report}");

    for tap in taps {
        let apdus: Vec<(Vec<u8>, Vec<u8>)> = tap["apdus"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    hex::decode(p["c"].as_str().unwrap()).unwrap(),
                    hex::decode(p["r"].as_str().unwrap()).unwrap(),
                )
            })
            .collect();
        let verdict = verify_with_pyemv(&apdus);
        assert_eq!(verdict["match"], Value::Bool(true), "{verdict}");
    }

    drop(_daemon); // vpcd closes the connection; the bridge returns the ledger
    let ledger = bridge.join().unwrap();
    for id in ["u", "v", "m"] {
        assert_eq!(
            ledger.remaining(id).unwrap(),
            1,
            "card {id} spent exactly one key"
        );
    }
}

fn verify_with_pyemv(apdus: &[(Vec<u8>, Vec<u8>)]) -> Value {
    let request = serde_json::json!({
        "imk": TEST_IMK_HEX,
        "apdus": apdus.iter().map(|(c, r)| serde_json::json!({"c": hex::encode(c), "r": hex::encode(r)})).collect::<Vec<_>>(),
    });
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/peers/verify_trace.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_ne!(
        out.status.code(),
        Some(3),
        "pyemv is missing: pip install pyemv"
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&out.stderr)))
}
