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
build_native dev test-panic,sandbox-issuer
generate_bindings
check_android_bindings
# The Android SDK's NativeHce.kt when it is in the tree (it imports no android.*), so the tests
# drive the very methods the payment service calls; the stand-in otherwise.
native_hce="$ROOT/android/wallet-sdk/src/main/kotlin/org/walletcore/sdk/NativeHce.kt"
[ -f "$native_hce" ] || native_hce="$KT_DIR/stub"
compile_kotlin "$OUT/tests.jar" "$KT_DIR/src" "$native_hce"

start_sandbox
say "running"
run_kotlin "$OUT/tests.jar" org.walletcore.test.HarnessKt "$@"
