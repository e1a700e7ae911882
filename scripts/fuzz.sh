#!/usr/bin/env bash
# Runs every fuzz target (fuzz/) under libFuzzer for a bounded time, in a
# clang build with AddressSanitizer and UBSan.  Installs clang if missing.
#
#   scripts/fuzz.sh [SECONDS]            each target SECONDS (default 60)
#   scripts/fuzz.sh --merge [SECONDS]    and minimize what it found into
#                                        fuzz/corpus/<target>/
#   FUZZ_TARGETS="http env" scripts/fuzz.sh    only these targets
#
# Each target runs over a copy of its corpus and its regressions, so the
# committed corpus changes only with --merge.  A crash (or leak, or
# failed check) is copied into fuzz/regress/<target>/, where the normal
# test suite replays it from then on, and the script fails.  The last
# lines are meson's ("Ok: N", "Fail: N"), which scripts/test.sh tallies.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs $BUILD_PKGS $FUZZ_PKGS

merge=0
if [ "${1:-}" = "--merge" ]; then
        merge=1
        shift
fi
secs=${1:-60}
targets=${FUZZ_TARGETS:-"http env trace-query trace-db"}
build=${FUZZ_BUILD:-build-fuzz}

if [ ! -d "$build" ]; then
        CC=clang meson setup "$build" -Dfuzz=enabled -Dtests=false -Db_lundef=false \
                -Dbuildtype=debugoptimized >/dev/null
fi
ninja -C "$build" >/dev/null

# SQLite files on tmpfs: no fsync per input.
if [ -z "${TMPDIR:-}" ] && [ -w /dev/shm ]; then
        export TMPDIR=/dev/shm
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
ok=0
fail=0
for t in $targets; do
        exe="$build/fuzz/fuzz-$t"
        mkdir -p "$work/$t/corpus" "$work/$t/crash" "fuzz/regress/$t"
        cp fuzz/corpus/"$t"/* "$work/$t/corpus/" 2>/dev/null || true
        cp fuzz/regress/"$t"/* "$work/$t/corpus/" 2>/dev/null || true
        echo "==> fuzz-$t for ${secs}s" >&2
        # Leaks, ASan and UBSan reports and timeouts all end the run with
        # a crash file; -timeout is per input.  fuzz-http's server and
        # log writer allocate on their own threads while an input runs,
        # so its leaks are looked for once, at exit, not per input.
        extra=""
        [ "$t" = http ] && extra="-detect_leaks=0"
        rc=0
        ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
                "$exe" $extra -max_total_time="$secs" -timeout=25 -rss_limit_mb=4096 \
                -print_final_stats=1 -artifact_prefix="$work/$t/crash/" \
                "$work/$t/corpus" >"$work/$t/log" 2>&1 || rc=$?
        grep -E "^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::average_exec_per_sec" \
                "$work/$t/log" | tail -3 >&2 || true
        crashes=$(ls "$work/$t/crash" 2>/dev/null | wc -l)
        if [ "$rc" -ne 0 ] || [ "$crashes" -ne 0 ]; then
                fail=$((fail + 1))
                tail -60 "$work/$t/log" >&2
                for c in "$work/$t/crash"/*; do
                        [ -e "$c" ] || continue
                        cp "$c" "fuzz/regress/$t/"
                        echo "fuzz-$t: kept $(basename "$c") in fuzz/regress/$t/" >&2
                done
                echo "FAIL fuzz-$t" >&2
        else
                ok=$((ok + 1))
                echo "OK   fuzz-$t" >&2
        fi
        if [ $merge = 1 ]; then
                # Only what adds coverage to the committed corpus joins it.
                "$exe" -merge=1 fuzz/corpus/"$t" "$work/$t/corpus" \
                        >"$work/$t/merge.log" 2>&1 || true
                echo "fuzz-$t: corpus now $(ls "fuzz/corpus/$t" | wc -l) files" >&2
        fi
done
echo "Ok:                 $ok"
echo "Fail:               $fail"
[ "$fail" -eq 0 ]
