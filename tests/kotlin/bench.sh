#!/usr/bin/env bash
# Benchmarks from Kotlin, on an optimised host build (profile `release`):
#   - NativeHce.processApdu (JNI) vs Wallet.processApdu (UniFFI/JNA) with the same bytes;
#   - the time to open a wallet from Kotlin;
# and the size of the x86_64 library built with `--profile release-smaller` (what an APK
# carries per ABI), checked to still hold UniFFI's metadata.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

OUT="$CARGO_TARGET_DIR/kotlin-bench"
mkdir -p "$OUT"

ensure_kotlinc
ensure_jna
build_native release sandbox-issuer
generate_bindings
native_hce="$ROOT/android/wallet-sdk/src/main/kotlin/org/walletcore/sdk/NativeHce.kt"
[ -f "$native_hce" ] || native_hce="$KT_DIR/stub"
compile_kotlin "$OUT/bench.jar" "$KT_DIR/bench" "$native_hce"

say "benchmarking (JIT warm-up, then medians)"
run_kotlin "$OUT/bench.jar" org.walletcore.bench.BenchKt

say "release-smaller library size"
(cd "$ROOT" && cargo build --quiet -p wallet-ffi --lib --profile release-smaller) || die "release-smaller build failed"
so="$CARGO_TARGET_DIR/release-smaller/libwallet_ffi.so"
size=$(stat -c %s "$so")
echo "release_smaller_so_bytes: $size"
echo "release_smaller_so_mib: $(awk "BEGIN { printf \"%.2f\", $size / 1048576 }")"
# Library mode must still find its metadata in the built library (symbols kept).
(cd "$ROOT" && "$OUT/uniffi-bindgen" generate --library "$so" --language kotlin --no-format \
  --out-dir "$OUT/gen-smaller" >/dev/null) || die "uniffi-bindgen cannot read the release-smaller library"
echo "release_smaller_bindgen: ok"
# What an APK carries: the Android Gradle plugin strips native libraries (--strip-unneeded)
# when packaging, after the bindings were generated.
cp "$so" "$OUT/libwallet_ffi.stripped.so"
strip --strip-unneeded "$OUT/libwallet_ffi.stripped.so"
stripped=$(stat -c %s "$OUT/libwallet_ffi.stripped.so")
echo "release_smaller_stripped_bytes: $stripped"
[ "$size" -le $((3 * 1024 * 1024)) ] || die "libwallet_ffi.so is $size bytes, above the 3 MiB target"
