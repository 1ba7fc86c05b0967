#!/usr/bin/env bash
# Generate the Android flavour of the UniFFI Kotlin bindings (what wallet-sdk's Gradle task does,
# config bindings/uniffi-android.toml) from a host build of libwallet_ffi.so without test
# features, into DIR — for ../shared/tools/android-check to type-check the app against.
#
#   tests/kotlin/android-bindings.sh DIR
set -euo pipefail
source "$(dirname "$0")/lib.sh"
DEST=${1:?usage: android-bindings.sh DIR}
OUT="$CARGO_TARGET_DIR/android-bindings-build"
mkdir -p "$OUT"
build_native dev
check_android_bindings
rm -rf "$DEST"
mkdir -p "$(dirname "$DEST")"
cp -r "$OUT/gen-android" "$DEST"
say "Android bindings in $DEST"
