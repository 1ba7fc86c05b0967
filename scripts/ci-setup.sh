#!/usr/bin/env bash
# Install what the test suite needs on a bare Debian machine with Rust. Idempotent: a tool that is
# already there is not fetched again. Needs root for apt-get (CI and the sandbox run as root).
set -euo pipefail

rustup component add rustfmt clippy >/dev/null 2>&1 || true
# cargo-deny checks licences, bans and sources offline (scripts/gates.sh).
cargo deny --version >/dev/null 2>&1 || cargo install --locked --quiet cargo-deny

# Debian packages: zbarimg (independent QR decoder), JNA (Kotlin bindings on the JVM), sqlite3
# (the import-rate comparison in the history benchmark), a JDK for kotlinc.
need=()
command -v zbarimg >/dev/null || need+=(zbar-tools)
[ -f /usr/share/java/jna.jar ] || need+=(libjna-java)
command -v sqlite3 >/dev/null || need+=(sqlite3)
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v xmllint >/dev/null || need+=(libxml2-utils)
# A real PC/SC stack for the vpcd test: pcscd with vsmartcard's virtual reader, and pyscard as
# a terminal program independent of ours.
command -v pcscd >/dev/null || need+=(pcscd)
[ -e /usr/lib/pcsc/drivers/serial/libifdvpcd.so ] || ls /usr/lib/pcsc/drivers/*vpcd* >/dev/null 2>&1 || need+=(vsmartcard-vpcd)
/usr/bin/python3 -c "import smartcard" 2>/dev/null || need+=(python3-pyscard)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  else
    echo "ci-setup: install these Debian packages first: ${need[*]}" >&2
    exit 2
  fi
fi

# Python peers: pyemv recomputes EMV cryptograms, jwcrypto decrypts our JWEs (cryptography is
# pinned below 49 in requirements.txt: pyemv calls its TripleDES from the old module path).
peers="$(dirname "$0")/../tests/peers/requirements.txt"
pip_install() { python3 -m pip install --quiet --disable-pip-version-check "$@"; }
# Debian's own python3 refuses user installs (PEP 668) unless told.
pip_install -r "$peers" || pip_install --break-system-packages -r "$peers"
