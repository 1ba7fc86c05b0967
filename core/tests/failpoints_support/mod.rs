//! Shared by the `failpoints_*` tests: arming a failpoint, and the crash the tests model.
//!
//! A failpoint set to `panic` unwinds through the store: an open SQLite transaction is rolled
//! back by its `Drop`, as SQLite rolls back a transaction whose process died before `COMMIT`
//! (its WAL frames never got a commit record). The tests then drop every handle and open the
//! wallet again from its files, as a restarted process would.

#![allow(dead_code)]

use fail::FailScenario;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

/// Arm `point` with `actions` (the `fail` crate's syntax: `panic`, `return`, `1*return`,
/// `2*off->return`, `30%return`, …) until the returned scenario is dropped. A scenario also
/// serialises the tests of one binary: the failpoint registry is global.
pub fn arm(point: &str, actions: &str) -> FailScenario<'static> {
    quiet_injected_panics();
    let scenario = FailScenario::setup();
    fail::cfg(point, actions).expect("valid failpoint actions");
    scenario
}

/// Nothing armed; holding it keeps the other tests of the binary from arming anything.
pub fn clean() -> FailScenario<'static> {
    FailScenario::setup()
}

/// Run `f`, which must die at an armed `panic` failpoint.
pub fn crashes<T>(what: &str, f: impl FnOnce() -> T) {
    let died = catch_unwind(AssertUnwindSafe(f)).is_err();
    assert!(died, "{what}: the armed failpoint did not fire");
}

/// Injected crashes are expected: keep their messages and backtraces out of the test output,
/// and let every other panic through to the default hook.
fn quiet_injected_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let message = payload
                .downcast_ref::<String>()
                .map(String::as_str)
                .or_else(|| payload.downcast_ref::<&str>().copied())
                .unwrap_or_default();
            if !message.starts_with("failpoint ") {
                default(info);
            }
        }));
    });
}
