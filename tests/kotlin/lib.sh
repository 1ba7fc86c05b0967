# Shared by run.sh and bench.sh: fetch the Kotlin compiler and JNA, build the native library,
# generate the UniFFI bindings from it (library mode) and compile Kotlin against them.
# Sourced, not run. Every step is idempotent: what is already there is reused.

KOTLIN_VERSION=2.4.20
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
KT_DIR="$ROOT/tests/kotlin"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
# Downloads survive `cargo clean` and are shared between checkouts.
CACHE=${WALLETCORE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/walletcore}

say() { echo "kotlin: $*" >&2; }
die() { echo "kotlin: error: $*" >&2; exit 1; }

# kotlinc from the npm package `kotlin-compiler` (the JetBrains distribution, repackaged).
ensure_kotlinc() {
  KOTLIN_HOME="$CACHE/kotlin-compiler-$KOTLIN_VERSION/package"
  if [ ! -x "$KOTLIN_HOME/bin/kotlinc" ]; then
    apt_install npm npm
    apt_install java default-jdk-headless
    say "fetching kotlin-compiler@$KOTLIN_VERSION from npm into $CACHE"
    local tmp
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "kotlin-compiler@$KOTLIN_VERSION" >/dev/null) || die "npm pack kotlin-compiler failed"
    mkdir -p "$tmp/x"
    tar -xzf "$tmp"/kotlin-compiler-*.tgz -C "$tmp/x"
    chmod +x "$tmp/x/package/bin/"*
    mkdir -p "$CACHE"
    rm -rf "$CACHE/kotlin-compiler-$KOTLIN_VERSION"
    mv "$tmp/x" "$CACHE/kotlin-compiler-$KOTLIN_VERSION"
    rm -rf "$tmp"
  fi
  KOTLINC="$KOTLIN_HOME/bin/kotlinc"
  KOTLIN_LIB="$KOTLIN_HOME/lib"
}

# apt_install COMMAND PACKAGE: install PACKAGE from Debian when COMMAND is missing (as root).
apt_install() {
  command -v "$1" >/dev/null && return
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    say "installing $2"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2") >/dev/null
  fi
  command -v "$1" >/dev/null || die "$1 is missing: apt-get install $2"
}

# JNA, which the generated bindings load the library with: Debian's libjna-java.
ensure_jna() {
  JNA_JAR=${JNA_JAR:-/usr/share/java/jna.jar}
  if [ ! -f "$JNA_JAR" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      say "installing libjna-java"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libjna-java) >/dev/null
    fi
    [ -f "$JNA_JAR" ] || die "JNA missing: apt-get install libjna-java (or set JNA_JAR)"
  fi
}

# build_native PROFILE [FEATURES]: build libwallet_ffi.so and the workspace uniffi-bindgen, copy
# the library into $OUT/lib. The bindgen is built separately (its `cli` feature does not belong
# in the library under test) and first, because both builds write libwallet_ffi.so.
build_native() {
  local profile=$1 features=${2:-}
  (cd "$ROOT" && cargo build --quiet -p wallet-ffi --features cli --bin uniffi-bindgen) || die "building uniffi-bindgen failed"
  cp "$CARGO_TARGET_DIR/debug/uniffi-bindgen" "$OUT/uniffi-bindgen"
  local args=(--quiet -p wallet-ffi --lib --profile "$profile")
  [ -n "$features" ] && args+=(--features "$features")
  (cd "$ROOT" && cargo build "${args[@]}") || die "building libwallet_ffi.so ($profile) failed"
  local dir=$profile
  [ "$profile" = dev ] && dir=debug
  mkdir -p "$OUT/lib"
  cp "$CARGO_TARGET_DIR/$dir/libwallet_ffi.so" "$OUT/lib/libwallet_ffi.so"
  NATIVE_LIB="$OUT/lib"
}

# Kotlin for the JVM from the library's own metadata (library mode; config bindings/uniffi.toml).
generate_bindings() {
  rm -rf "$OUT/gen"
  (cd "$ROOT" && "$OUT/uniffi-bindgen" generate --library "$OUT/lib/libwallet_ffi.so" \
      --language kotlin --no-format --out-dir "$OUT/gen") || die "uniffi-bindgen failed"
  [ -f "$OUT/gen/org/walletcore/ffi/wallet.kt" ] || die "no bindings generated"
}

# The Android flavour from the same library, with the config wallet-sdk's Gradle build passes:
# checks that bindings/uniffi-android.toml is read (uniffi 0.32 silently ignores an old-style
# flat file) and keeps the package.
check_android_bindings() {
  rm -rf "$OUT/gen-android"
  (cd "$ROOT" && "$OUT/uniffi-bindgen" generate --library "$OUT/lib/libwallet_ffi.so" \
      --language kotlin --no-format --config bindings/uniffi-android.toml --out-dir "$OUT/gen-android" 2>&1) \
    | grep -i warning >&2 && die "uniffi-bindgen warned about the Android config"
  local kt="$OUT/gen-android/org/walletcore/ffi/wallet.kt"
  [ -f "$kt" ] || die "no Android bindings generated (package org.walletcore.ffi expected)"
  grep -q 'android.system.SystemCleaner' "$kt" || die "Android bindings lack the Android cleaner: uniffi-android.toml not applied"
}

# compile_kotlin JAR SOURCE_DIR...: compile the generated bindings plus the given sources,
# skipped when nothing changed since the last compile of the same JAR.
compile_kotlin() {
  local jar=$1
  shift
  local stamp="$jar.sha256" sum
  sum=$( (echo "$KOTLIN_VERSION"; find "$OUT/gen" "$@" -name '*.kt' -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -d' ' -f1)
  if [ -f "$jar" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$sum" ]; then
    return
  fi
  say "compiling $(basename "$jar")"
  rm -f "$jar" "$stamp"
  "$KOTLINC" -nowarn -jvm-target 17 -cp "$JNA_JAR:$KOTLIN_LIB/kotlin-test.jar" -d "$jar" \
    "$OUT/gen" "$@" || die "kotlinc failed"
  echo "$sum" >"$stamp"
}

# run_kotlin JAR MAIN ARGS...: the JVM with JNA and the JNI side both loading $NATIVE_LIB's copy
# (one file, so one registry in the process).
run_kotlin() {
  local jar=$1 main=$2
  shift 2
  RUST_BACKTRACE=${RUST_BACKTRACE:-0} java -Xss4m -Djna.library.path="$NATIVE_LIB" -Djava.library.path="$NATIVE_LIB" \
    -Dwalletcore.sandbox.url="${SANDBOX_URL:-}" -Dwalletcore.sandbox.ca="${SANDBOX_CA:-}" \
    -Dwalletcore.sandbox.dir="${SANDBOX_DIR:-}" \
    -cp "$jar:$KOTLIN_LIB/kotlin-stdlib.jar:$KOTLIN_LIB/kotlin-test.jar:$JNA_JAR" "$main" "$@"
}

# start_sandbox: the token service on loopback (`wallet-sandbox serve --json` prints one line
# {"url":…,"ca":…} once listening), stopped when the script exits. Sets SANDBOX_URL, SANDBOX_CA
# and SANDBOX_DIR (its OTP outbox is where the tests read one-time codes).
start_sandbox() {
  (cd "$ROOT" && cargo build --quiet -p wallet-sandbox --bin wallet-sandbox) || die "building wallet-sandbox failed"
  SANDBOX_DIR=$(mktemp -d)
  "$CARGO_TARGET_DIR/debug/wallet-sandbox" serve --dir "$SANDBOX_DIR" --addr 127.0.0.1:0 --json \
    >"$SANDBOX_DIR/serve.out" 2>"$SANDBOX_DIR/serve.err" &
  SANDBOX_PID=$!
  # `wait` reports the SIGTERM we sent (143); under `set -e` that would become this script's status.
  trap 'kill "$SANDBOX_PID" 2>/dev/null; wait "$SANDBOX_PID" 2>/dev/null || true; rm -rf "$SANDBOX_DIR"' EXIT
  local line=""
  for _ in $(seq 1 300); do
    line=$(head -n1 "$SANDBOX_DIR/serve.out" 2>/dev/null || true)
    [ -n "$line" ] && break
    kill -0 "$SANDBOX_PID" 2>/dev/null || die "wallet-sandbox exited: $(cat "$SANDBOX_DIR/serve.err")"
    sleep 0.1
  done
  SANDBOX_URL=$(printf '%s' "$line" | sed -n 's/.*"url":"\([^"]*\)".*/\1/p')
  SANDBOX_CA=$(printf '%s' "$line" | sed -n 's/.*"ca":"\([^"]*\)".*/\1/p')
  [ -n "$SANDBOX_URL" ] && [ -f "$SANDBOX_CA" ] || die "wallet-sandbox did not report its URL and CA: '$line'"
  say "sandbox token service at $SANDBOX_URL"
}
