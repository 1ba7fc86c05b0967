#!/usr/bin/env bash
# The whole test suite: what README calls "all tests" and what .ci/run runs.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace
# The bindings from Kotlin on the JVM (UniFFI + JNI), against the sandbox token service.
tests/kotlin/run.sh
