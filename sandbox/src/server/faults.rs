//! Failpoints for chaos tests: make one step of the API fail in a chosen way, once.
//!
//! Armed only through the in-process [`super::RunningServer`] handle (tests, benches); nothing
//! on the network or the command line can reach them.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

/// The API steps a fault can be attached to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Register,
    Eligibility,
    Terms,
    Tokenize,
    SelectIdv,
    SubmitOtp,
    Status,
    Credentials,
    Replenish,
    Lifecycle,
    Events,
    TokenStatus,
    Transaction,
    QrPay,
}

/// What goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 503 before doing anything.
    UnavailableBefore,
    /// Do the work and commit it, then answer 500 (the client cannot know it happened).
    ErrorAfterCommit,
    /// Cut the connection before doing anything (the request is lost).
    CutBefore,
    /// Do the work and commit it, then cut the connection mid-response.
    CutAfterCommit,
    /// Hold the request this long before doing anything.
    StallBefore(Duration),
    /// Do the work and commit it, then hold the response this long.
    StallAfterCommit(Duration),
}

#[derive(Default)]
pub struct Faults {
    armed: Mutex<HashMap<Step, VecDeque<Fault>>>,
    fired: Mutex<Vec<(Step, Fault)>>,
}

impl Faults {
    /// Queue `fault` for the next request to `step` (faults queued on one step fire in order).
    pub fn arm(&self, step: Step, fault: Fault) {
        if let Ok(mut a) = self.armed.lock() {
            a.entry(step).or_default().push_back(fault);
        }
    }

    pub(crate) fn take(&self, step: Step) -> Option<Fault> {
        let fault = self.armed.lock().ok()?.get_mut(&step)?.pop_front()?;
        if let Ok(mut f) = self.fired.lock() {
            f.push((step, fault));
        }
        log::warn!("failpoint: {step:?} -> {fault:?}");
        Some(fault)
    }

    /// Faults that have fired so far, in order.
    pub fn fired(&self) -> Vec<(Step, Fault)> {
        self.fired.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// Faults still armed.
    pub fn pending(&self) -> usize {
        self.armed
            .lock()
            .map(|a| a.values().map(VecDeque::len).sum())
            .unwrap_or(0)
    }
}
