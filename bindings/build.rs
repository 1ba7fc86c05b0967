//! Generates the UniFFI scaffolding from the UDL.
//!
//! `udl/wallet.udl` (workspace root) is the one source. `src/wallet.udl` is a symlink to it
//! because UniFFI's library mode, when it generates Kotlin from the built `.so`, looks for the
//! UDL at `<crate root>/src/<name>.udl`. A build-time copy would leave a generated file under
//! `src/` that can go stale or be edited by mistake; the symlink cannot.

use std::fs;

const UDL: &str = "src/wallet.udl";
const SOURCE: &str = "../udl/wallet.udl";

fn main() {
    println!("cargo:rerun-if-changed={SOURCE}");
    // A checkout without symlink support (git's core.symlinks=false) turns the link into a
    // one-line text file; say so instead of failing somewhere inside the UDL parser.
    let linked = fs::read(UDL).ok();
    let source = fs::read(SOURCE).ok();
    if linked.is_none() || linked != source {
        panic!(
            "bindings/{UDL} must be a symlink to udl/wallet.udl (check out with \
             `git config core.symlinks true`, or `ln -sf ../../udl/wallet.udl bindings/{UDL}`)"
        );
    }
    if let Err(e) = uniffi::generate_scaffolding(UDL) {
        panic!("UniFFI scaffolding from {UDL}: {e:#}");
    }
}
