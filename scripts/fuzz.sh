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
# committed corpus changes only with --merge.  What the run leaves is
# classified (see classify below):
#   crash-*, leak-*, oom-*, a sanitizer report in the log, or an exit
#     code other than success or libFuzzer's timeout: kept in
#     fuzz/regress/<target>/ and the target fails;
#   timeout-*, slow-unit-*: kept in fuzz/regress/<target>/ (the test
#     suite replays them from then on) and reported, then each is run
#     ALONE by the fuzzer with the same -timeout, up to 3 attempts; the
#     target fails only if every attempt times out or one crashes.  A unit
#     that was slow because the machine was busy passes, reported.
# The last lines are meson's ("Ok: N", "Fail: N"), which scripts/test.sh
# tallies.
#
#   FUZZ_UNIT_TIMEOUT=S    libFuzzer's -timeout per input (default 25)
#   FUZZ_SLOW_UNIT=S       libFuzzer's -report_slow_units (default 10)
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
# -timeout (per input, wall clock): above fuzz-http's own 10 s reply
# deadline, so that a hung request is reported by the harness's check
# (with what it was waiting for) before libFuzzer's alarm; still short
# enough that a real hang ends a 45 s run.  -report_slow_units: libFuzzer's
# default, 10 s, the harness's deadline: an input taking that long is
# worth a look even if it passes, but on a busy machine it is often the
# machine, so it is reported and replayed alone, never a failure by
# itself.
unit_timeout=${FUZZ_UNIT_TIMEOUT:-25}
slow_unit=${FUZZ_SLOW_UNIT:-10}
# libFuzzer's exit codes, set explicitly: a crash, leak or failed check
# exits with 77, an input over -timeout with 70.  LeakSanitizer at exit
# (fuzz-http) exits with 23, a sanitizer abort otherwise; all but 0 and
# 70 fail.
err_rc=77
timeout_rc=70
san_re='ERROR: (AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|MemorySanitizer|ThreadSanitizer)|runtime error:|ERROR: libFuzzer: (deadly signal|out-of-memory|fuzz target exited|malloc|leak)'

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# replay_alone EXE FILE LOG [EXTRA...]: run one kept slow/timed-out input
# by itself with the run's -timeout; up to 3 attempts (the machine may
# still be busy).  Prints a verdict; returns 0 if an attempt finished in
# time without a crash.
replay_alone() {
        local exe=$1 file=$2 log=$3 rc a t0 t1
        shift 3
        for a in 1 2 3; do
                rc=0
                t0=$(date +%s.%N)
                "$exe" "$@" -timeout="$unit_timeout" -error_exitcode=$err_rc \
                        -timeout_exitcode=$timeout_rc -runs=1 "$file" >"$log.$a" 2>&1 || rc=$?
                t1=$(date +%s.%N)
                local took
                took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
                if [ "$rc" -eq 0 ] && ! grep -Eq "$san_re" "$log.$a"; then
                        echo "  replayed alone: fine in ${took}s (attempt $a)"
                        return 0
                fi
                if [ "$rc" -ne $timeout_rc ] || grep -Eq "$san_re" "$log.$a"; then
                        echo "  replayed alone: CRASHED (exit $rc, attempt $a):"
                        tail -30 "$log.$a" | sed 's/^/    /'
                        return 1
                fi
                echo "  replayed alone: over the ${unit_timeout}s timeout (attempt $a, ${took}s)"
        done
        echo "  replayed alone: SLOW, over the ${unit_timeout}s timeout in every attempt"
        tail -30 "$log.3" | sed 's/^/    /'
        return 1
}

# show_report LOG: what a failed run says, from where it starts saying
# it: the first sanitizer, libFuzzer or harness ("fuzz: ") report line,
# 120 lines on (the whole stack and the input's name, which a tail of
# the log cut off), then the run's last lines (its stats); without a
# report line, the last 60.
show_report() {
        local log=$1 first
        first=$(grep -nE "$san_re|^==[0-9]+==|^fuzz: " "$log" | head -1 | cut -d: -f1)
        if [ -z "$first" ]; then
                tail -60 "$log"
                return
        fi
        sed -n "$((first > 5 ? first - 5 : 1)),$((first + 120))p" "$log"
        echo "[...]"
        tail -12 "$log"
}

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
        # fuzz-http's server and log writer allocate on their own threads
        # while an input runs, so its leaks are looked for once, at exit,
        # not per input.
        extra=()
        [ "$t" = http ] && extra=(-detect_leaks=0)
        rc=0
        "$exe" "${extra[@]}" -max_total_time="$secs" -timeout="$unit_timeout" \
                -report_slow_units="$slow_unit" -error_exitcode=$err_rc \
                -timeout_exitcode=$timeout_rc -rss_limit_mb=4096 \
                -print_final_stats=1 -artifact_prefix="$work/$t/crash/" \
                "$work/$t/corpus" >"$work/$t/log" 2>&1 || rc=$?
        grep -E "^#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|stat::average_exec_per_sec" \
                "$work/$t/log" | tail -3 >&2 || true

        # classify: hard failures first, then slow and timed-out inputs.
        bad=0
        why=()
        if grep -Eq "$san_re" "$work/$t/log"; then
                bad=1
                why+=("a sanitizer or libFuzzer error report")
        fi
        if [ "$rc" -ne 0 ] && [ "$rc" -ne $timeout_rc ]; then
                bad=1
                why+=("exit code $rc")
        fi
        slow=()
        for c in "$work/$t/crash"/*; do
                [ -e "$c" ] || continue
                n=$(basename "$c")
                cp "$c" "fuzz/regress/$t/"
                case "$n" in
                timeout-*|slow-unit-*)
                        slow+=("$n")
                        echo "fuzz-$t: kept $n in fuzz/regress/$t/ (slow in the run)" >&2
                        ;;
                *)
                        bad=1
                        why+=("$n")
                        echo "fuzz-$t: kept $n in fuzz/regress/$t/" >&2
                        ;;
                esac
        done
        if [ "$rc" -eq $timeout_rc ] && [ ${#slow[@]} -eq 0 ]; then
                bad=1
                why+=("libFuzzer timed out but left no input")
        fi
        if [ $bad = 1 ]; then
                show_report "$work/$t/log" >&2
        else
                [ "$rc" -eq $timeout_rc ] &&
                        echo "fuzz-$t: the run ended on libFuzzer's ${unit_timeout}s timeout" >&2
                for n in "${slow[@]}"; do
                        echo "fuzz-$t: $n:" >&2
                        grep -E "Slowest unit|ALARM|timeout after" "$work/$t/log" \
                                | sed 's/^/  run: /' | tail -3 >&2 || true
                        if ! replay_alone "$exe" "fuzz/regress/$t/$n" "$work/$t/alone-$n" \
                                "${extra[@]}" >&2; then
                                bad=1
                                why+=("$n slow or crashing when replayed alone")
                        fi
                done
        fi
        if [ $bad = 1 ]; then
                fail=$((fail + 1))
                echo "FAIL fuzz-$t: $(IFS=,; echo "${why[*]}")" >&2
        else
                ok=$((ok + 1))
                if [ ${#slow[@]} -ne 0 ]; then
                        echo "OK   fuzz-$t (${#slow[@]} slow input(s) kept, fast alone)" >&2
                else
                        echo "OK   fuzz-$t" >&2
                fi
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
