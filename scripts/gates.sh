#!/usr/bin/env bash
# The hardening gates, for scripts/test.sh to run after the ordinary tests:
#   1. the failpoint tests: wallet-core's fault injection points (compiled in only with the
#      `failpoints` feature, so never in a release build) and the tests that drive them, plus
#      clippy over that build;
#   2. the fuzz short pass: every libFuzzer target for FUZZ_SECONDS (default 20), FUZZ_JOBS
#      (default 2) at a time; any crash fails (scripts/fuzz.sh);
#   3. cargo-deny's offline checks: licences, bans, sources (deny.toml). Advisories need the
#      RustSec database from GitHub, which CI cannot reach, so they are not run here.
#
# Needs cargo-deny (`cargo install --locked cargo-deny`, from crates.io) and a C++ compiler
# for libFuzzer; fails, saying so, when cargo-deny is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "gates: failpoint tests" >&2
cargo clippy --locked -p wallet-core -p wallet-tests --features wallet-tests/failpoints --all-targets \
    -- -D warnings
cargo test --locked -p wallet-core -p wallet-tests --features wallet-tests/failpoints --test 'failpoints_*'

echo "gates: fuzz short pass" >&2
FUZZ_JOBS="${FUZZ_JOBS:-2}" scripts/fuzz.sh "${FUZZ_SECONDS:-20}"

echo "gates: cargo deny (licenses, bans, sources)" >&2
if ! cargo deny --version >/dev/null 2>&1; then
    echo "gates: cargo-deny is not installed: cargo install --locked cargo-deny" >&2
    exit 1
fi
cargo deny check licenses bans sources
