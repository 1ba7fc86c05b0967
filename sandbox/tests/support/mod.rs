//! A phone (engine + in-memory ledger) personalised by the sandbox issuer.

#![allow(dead_code)]

use std::time::SystemTime;
use wallet_core::card::Scheme;
use wallet_core::emv::cvn::Cvn;
use wallet_core::hce::Engine;
use wallet_core::ledger::MemoryLedger;
use wallet_sandbox::issuer::{CardRequest, Issuer};
use wallet_sandbox::terminal::{TapOutcome, Terminal, Transaction};

pub struct Phone {
    pub engine: Engine,
    pub ledger: MemoryLedger,
    pub now: SystemTime,
}

impl Phone {
    /// One card of `scheme`/`cvn`, personalised by `issuer` with `keys` keys.
    pub fn with_card(issuer: &mut Issuer, id: &str, scheme: Scheme, cvn: Cvn, keys: u16) -> Self {
        let mut req = CardRequest::new(id, scheme);
        req.cvn = cvn;
        req.key_count = keys;
        let perso = issuer.personalise(&req).expect("personalise");
        let mut ledger = MemoryLedger::new();
        ledger.add_keys(id, perso.keys);
        let engine = Engine::new(vec![perso.profile]).expect("profile");
        Self {
            engine,
            ledger,
            now: SystemTime::now(),
        }
    }

    /// One tap: the field comes up, the terminal runs, the field goes away.
    pub fn tap(&mut self, terminal: &Terminal, txn: &Transaction) -> TapOutcome {
        let Phone {
            engine,
            ledger,
            now,
        } = self;
        engine.deactivate();
        let out = terminal.tap(txn, &mut |c| engine.process(c, ledger, *now));
        engine.deactivate();
        out
    }
}

pub const ALL_CVNS: [(Scheme, Cvn); 5] = [
    (Scheme::UnionPay, Cvn::UnionPay01),
    (Scheme::Visa, Cvn::Visa18),
    (Scheme::Visa, Cvn::Visa22),
    (Scheme::Mastercard, Cvn::Mastercard20),
    (Scheme::Mastercard, Cvn::Mastercard21),
];
