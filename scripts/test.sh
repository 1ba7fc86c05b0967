#!/usr/bin/env bash
# The whole test suite: what README calls "every test" and what .ci/run runs after
# scripts/ci-setup.sh. Stops at the first failing step and says which.
#
#   scripts/test.sh            everything
#   FUZZ_SECONDS=5 scripts/test.sh   a shorter fuzz pass
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}

step() { printf '\n==== %s\n' "$*" >&2; }
elapsed() { printf '     (%ss)\n' "$SECONDS" >&2; }

step "rustfmt"
cargo fmt --all --check
step "clippy (all targets, warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
elapsed
step "cargo test --workspace (unit, integration, property tests, pyemv/zbarimg/jwcrypto/pcscd peers)"
cargo test --workspace --locked
elapsed
step "Kotlin on the JVM: UniFFI bindings over JNA, NativeHce over JNI"
tests/kotlin/run.sh
elapsed
step "Kotlin on the JVM: the Android app's plain-Kotlin logic"
tests/kotlin/android-logic/run.sh
elapsed
if [ -x ../shared/tools/android-check ]; then
  step "android-check: manifests/resources link, all Kotlin type-checks against API 36"
  tests/kotlin/android-bindings.sh "$CARGO_TARGET_DIR/android-bindings"
  ../shared/tools/android-check android "$CARGO_TARGET_DIR/android-bindings" tests/android-stubs
  elapsed
fi
step "hardening gates: failpoint tests, fuzz short pass (${FUZZ_SECONDS}s per target), cargo deny"
FUZZ_SECONDS=$FUZZ_SECONDS scripts/gates.sh
elapsed
step "all passed in ${SECONDS}s"
