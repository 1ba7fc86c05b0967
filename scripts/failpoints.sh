#!/usr/bin/env bash
# Fault-injection tests: the `fail` crate's failpoints are compiled in only with the
# `failpoints` feature (never in a release build), so these run as their own cargo invocations.
# Each test arms points between "key consumed" and "respond", inside card installation and
# history writes, and around every token-service call, then checks the invariants: no key/ATC
# reuse, no lost acknowledged record, no half-installed card, the database opens.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked -p wallet-core --features failpoints \
  --test failpoints_ledger --test failpoints_cards --test failpoints_history
cargo test --locked -p wallet-tests --features failpoints \
  --test failpoints_wallet --test failpoints_token
