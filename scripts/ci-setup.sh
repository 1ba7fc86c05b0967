#!/usr/bin/env bash
# Install the tools the test suite needs on a bare Debian machine with Rust (idempotent).
set -euo pipefail
rustup component add rustfmt clippy >/dev/null 2>&1 || true
