#!/usr/bin/env bash
# Run every libFuzzer target in fuzz/fuzz_targets for a bounded time each; fail on a crash.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      default: 60 seconds, every target
#   FUZZ_JOBS=2 scripts/fuzz.sh 20             CI's short pass: two targets at a time
#
# Works on stable Rust: instead of `cargo fuzz` (which wants nightly's -Z sanitizer flags),
# it builds the targets with the same SanitizerCoverage instrumentation cargo-fuzz uses
# (rustc -C passes / -C llvm-args, all stable) and runs the libFuzzer binaries directly. Rust
# code needs no AddressSanitizer to find what matters here: panics, overflow (checks are on)
# and runaway allocation (libFuzzer's -rss_limit_mb). Developers with cargo-fuzz can still
# use `cargo fuzz run TARGET` in fuzz/.
#
# Corpora: fuzz/seeds/TARGET (committed, from the tests) seeds fuzz/corpus/TARGET (kept
# between runs, not committed). Crashes land in fuzz/artifacts/TARGET. A target added as
# fuzz/fuzz_targets/NAME.rs with its [[bin]] in fuzz/Cargo.toml joins automatically.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for f in fuzz/fuzz_targets/*.rs; do targets+=("$(basename "$f" .rs)"); done
fi

# Instrumented builds must not share a target dir with ordinary builds (different flags
# would rebuild everything each time): they live in target/fuzz, built once and reused by every
# later run (CI pays the instrumented build once per cache).
target_dir="${CARGO_TARGET_DIR:-$PWD/target}/fuzz"
jobs="${FUZZ_JOBS:-1}"
export RUSTFLAGS="--cfg fuzzing -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares -Cdebug-assertions -Coverflow-checks"
# An explicit --target keeps RUSTFLAGS off build scripts and proc macros (as cargo-fuzz does).
host="$(rustc -vV | sed -n 's/^host: //p')"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
echo "fuzz: building ${targets[*]}" >&2
cargo build --release --manifest-path fuzz/Cargo.toml --target-dir "$target_dir" --target "$host" "${bins[@]}"

# One target: run it, leave "ok" or "CRASH" in fuzz/artifacts/TARGET/result.
run_target() {
    local t="$1" log="fuzz/artifacts/$1/last-run.log"
    mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t" "fuzz/seeds/$t"
    echo "fuzz: $t for ${seconds}s" >&2
    if "$target_dir/$host/release/$t" -max_total_time="$seconds" -print_final_stats=1 \
        -rss_limit_mb=2048 -timeout=10 -artifact_prefix="fuzz/artifacts/$t/" \
        "fuzz/corpus/$t" "fuzz/seeds/$t" >"$log" 2>&1; then
        echo ok >"fuzz/artifacts/$t/result"
    else
        echo CRASH >"fuzz/artifacts/$t/result"
        tail -n 40 "$log" >&2
    fi
}

for t in "${targets[@]}"; do
    rm -f "fuzz/artifacts/$t/result"
    run_target "$t" &
    while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do wait -n || true; done
done
wait

summary=()
status=0
for t in "${targets[@]}"; do
    log="fuzz/artifacts/$t/last-run.log"
    result="$(cat "fuzz/artifacts/$t/result" 2>/dev/null || echo CRASH)"
    if [ "$result" != ok ]; then
        result="CRASH (see $log and fuzz/artifacts/$t/)"
        status=1
    fi
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
    corpus=$(find "fuzz/corpus/$t" -type f | wc -l)
    summary+=("$(printf '%-16s %-8s %12s execs  %6s corpus files' "$t" "$result" "$execs" "$corpus")")
done

printf 'fuzz summary (%ss per target, %s at a time):\n' "$seconds" "$jobs"
printf '  %s\n' "${summary[@]}"
exit "$status"
