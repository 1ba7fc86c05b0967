#!/usr/bin/env bash
# Install what the test suite needs on a bare Debian machine with Rust. Idempotent: a tool that is
# already there is not fetched again. Needs root for apt-get (CI and the sandbox run as root).
set -euo pipefail

rustup component add rustfmt clippy >/dev/null 2>&1 || true

# Debian packages: zbarimg (independent QR decoder), JNA (Kotlin bindings on the JVM), sqlite3
# (the import-rate comparison in the history benchmark), a JDK for kotlinc.
need=()
command -v zbarimg >/dev/null || need+=(zbar-tools)
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v xmllint >/dev/null || need+=(libxml2-utils)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "ci-setup: install these Debian packages first: ${need[*]}" >&2
    exit 2
  fi
fi

# Python peers: pyemv recomputes EMV cryptograms, jwcrypto decrypts our JWEs.
# pyemv uses cryptography's TripleDES; the pin in requirements keeps a release where that works.
python3 -m pip install -q --disable-pip-version-check -r tests/peers/requirements.txt
