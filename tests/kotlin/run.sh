#!/usr/bin/env bash
# The Kotlin tests: the bindings exercised on the JVM exactly as the app uses them — generated
# UniFFI Kotlin over JNA, and NativeHce over plain JNI — against the host build of
# libwallet_ffi.so. Fetches kotlinc (npm) and JNA (Debian) when missing. Exits non-zero on any
# failure.
#
#   tests/kotlin/run.sh              all tests
#   tests/kotlin/run.sh panic qr     only tests whose name contains "panic" or "qr"
#
# The library is a debug build with the `test-panic` feature (a magic APDU panics inside the JNI
# entry point, to prove the panic never reaches the JVM). That feature refuses to compile in
# release builds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

OUT="$CARGO_TARGET_DIR/kotlin-tests"
mkdir -p "$OUT"

ensure_kotlinc
ensure_jna
build_native dev test-panic
generate_bindings
compile_kotlin "$OUT/tests.jar" "$KT_DIR/src" "$KT_DIR/stub"

say "running"
run_kotlin "$OUT/tests.jar" org.walletcore.test.HarnessKt "$@"
