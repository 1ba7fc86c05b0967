#!/usr/bin/env bash
# JVM tests for the app's plain-Kotlin logic (android/app/src/main/kotlin/org/walletcore/app/logic):
# compiles that package with the tests below using kotlinc, runs them, prints "N passed, N failed".
# No Gradle, no Android SDK. Fetches the Kotlin compiler from npm if missing; idempotent.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
LOGIC="$ROOT/android/app/src/main/kotlin/org/walletcore/app/logic"
KVER=2.4.20
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}

# The logic package must stay free of the Android framework, or it could not run here.
if grep -rnE '^import +android\.|android\.[a-z]+\.[A-Z]' "$LOGIC"; then
  echo "FAIL: $LOGIC uses android.* (above); keep framework code out of the logic package"
  echo "0 passed, 1 failed"
  exit 1
fi

if ! command -v java >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq --no-install-recommends default-jdk-headless >/dev/null
  else echo "install a JDK (17+) first, e.g. apt-get install default-jdk-headless"; exit 2; fi
fi

KOTLINC=""
for k in "$CACHE/walletcore/kotlin-$KVER/package/bin/kotlinc" "$CACHE/android-check/kotlin-$KVER/package/bin/kotlinc"; do
  [ -x "$k" ] && KOTLINC=$k && break
done
if [ -z "$KOTLINC" ]; then
  command -v npm >/dev/null || { echo "npm is needed to fetch kotlin-compiler@$KVER (apt-get install npm)"; exit 2; }
  mkdir -p "$CACHE/walletcore/kotlin-$KVER"
  (cd "$CACHE/walletcore/kotlin-$KVER" && npm pack -q "kotlin-compiler@$KVER" >/dev/null && tar xzf "kotlin-compiler-$KVER.tgz" && rm -f "kotlin-compiler-$KVER.tgz")
  KOTLINC="$CACHE/walletcore/kotlin-$KVER/package/bin/kotlinc"
fi
KLIB=$(cd "$(dirname "$KOTLINC")/../lib" && pwd)

OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if ! "$KOTLINC" -nowarn -jvm-target 17 -cp "$KLIB/kotlin-test.jar" -d "$OUT/classes" "$LOGIC" "$HERE/src" >"$OUT/kotlinc.log" 2>&1; then
  cat "$OUT/kotlinc.log"; echo "compilation failed"; echo "0 passed, 1 failed"; exit 1
fi
java -cp "$OUT/classes:$KLIB/kotlin-stdlib.jar:$KLIB/kotlin-test.jar" org.walletcore.app.logic.tests.HarnessKt
