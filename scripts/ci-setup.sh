#!/usr/bin/env bash
# Install the tools the test suite needs on a bare Debian machine with Rust (idempotent).
set -euo pipefail
rustup component add rustfmt clippy >/dev/null 2>&1 || true
# EMV cryptogram peers for core/tests/emv_pyemv.rs (pyemv; cryptography pinned below 49).
peers="$(dirname "$0")/../tests/peers/requirements.txt"
pip_install() { python3 -m pip install --quiet --disable-pip-version-check "$@"; }
# Debian's own python3 refuses user installs (PEP 668) unless told.
pip_install -r "$peers" || pip_install --break-system-packages -r "$peers"
