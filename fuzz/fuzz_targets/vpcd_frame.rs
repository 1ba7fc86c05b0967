//! What arrives on the vpcd socket, fed to the bridge serving a live card: no panic; every
//! complete ATR request or APDU gets exactly one length-prefixed answer (the ATR, or an R-APDU
//! of at least a status word), control messages get none, and a stray control code or a
//! truncated message ends nothing worse than the session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::{self, Read, Write};
use wallet_core::card::{AID_VISA, CardProfile, Scheme, SessionKey};
use wallet_core::emv::crypto::Key16;
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::ledger::MemoryLedger;
use wallet_sandbox::vpcd::{self, ATR, EngineCard, Frame};

/// vpcd's side of the socket: reads come from the fuzz input, writes are collected.
struct Socket<'a> {
    input: &'a [u8],
    output: Vec<u8>,
}

impl Read for Socket<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.input.read(buf)
    }
}

impl Write for Socket<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.output.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn card() -> CardProfile {
    CardProfile {
        id: "v".into(),
        scheme: Scheme::Visa,
        aid: AID_VISA.to_vec(),
        label: "visa fuzz".into(),
        token_pan: "4761739001010010".into(),
        expiry: "3012".into(),
        psn: 1,
        cvn: Cvn::Visa22,
        dki: 1,
        cvm_limit_minor: 5_000,
        issuer_country: 156,
    }
}

fuzz_target!(|data: &[u8]| {
    // What the bridge should answer: walk the messages the same way vpcd frames them.
    let mut expected = Vec::new();
    let mut reader = data;
    while let Ok(Some(payload)) = vpcd::read_message(&mut reader) {
        match vpcd::decode(&payload) {
            Ok(Frame::GetAtr) => expected.push(Some(ATR.to_vec())),
            Ok(Frame::Apdu(_)) => expected.push(None),
            Ok(_) | Err(_) => {}
        }
    }

    let mut engine = Engine::new(vec![card()]).expect("valid profile");
    let mut ledger = MemoryLedger::new();
    ledger.add_keys(
        "v",
        (1..=4)
            .map(|atc| SessionKey {
                atc,
                key: Key16::from_bytes([atc as u8; 16]),
            })
            .collect(),
    );
    let mut socket = Socket {
        input: data,
        output: Vec::new(),
    };
    let mut bridge = EngineCard::new(&mut engine, &mut ledger);
    let _ = vpcd::serve(&mut socket, &mut bridge);

    let mut answers: &[u8] = &socket.output;
    for want in expected {
        let got = vpcd::read_message(&mut answers)
            .expect("answers are well framed")
            .expect("one answer per ATR request or APDU");
        match want {
            Some(atr) => assert_eq!(got, atr),
            None => assert!(got.len() >= 2, "an R-APDU has a status word"),
        }
    }
    assert!(answers.is_empty(), "no answer to a control message");
});
