#!/usr/bin/env bash
# Runs every test: the build checks, the cmocka unit tests, the oracle
# tests against real POE, then the whole suite again under
# AddressSanitizer+UBSan and under valgrind, then each fuzz target for
# FUZZ_SECONDS (45) under libFuzzer.  Installs what it needs.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the plain build's suite only
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs $BUILD_PKGS $TEST_PKGS

quick=0
[ "${1:-}" = "--quick" ] && quick=1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

run() {
        echo "==> $*" >&2
        "$@"
}

# meson test, with its output kept for the closing tally.  A failing
# suite is remembered and the others still run, so one report says all.
status=0
mtest() {
        echo "==> meson test $*" >&2
        meson test "$@" 2>&1 | tee -a "$log" || status=1
}

# The closing line CI reads: every test run by every suite above.
tally() {
        passed=$(awk '/^Ok:/ { n += $2 } END { print n + 0 }' "$log")
        failed=$(awk '/^(Fail|Timeout|Unexpected Pass):/ { n += $NF } END { print n + 0 }' "$log")
        echo "tests: $passed passed, $failed failed"
        [ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
}

# Plain build, warnings as errors.
[ -d build ] || run meson setup build -Dwerror=true
run ninja -C build
mtest -C build --print-errorlogs --num-processes 2

if [ $quick = 1 ]; then
        tally
        exit $?
fi

# AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal.
[ -d build-asan ] || run meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debug
run ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        mtest -C build-asan --print-errorlogs --num-processes 2

# valgrind: memcheck over every unit test program (the build's 'valgrind'
# setup), and over the C side of every oracle test (run-oracle honours
# POE_TEST_WRAPPER, so the Perl side runs natively).
mtest -C build --setup valgrind --print-errorlogs --num-processes 2 --suite unit
POE_TEST_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
        mtest -C build --print-errorlogs --num-processes 2 --suite oracle --no-suite timing

# Fuzzing: each target for a bounded time in a clang build (build-fuzz);
# a crash is kept in fuzz/regress/ and fails the run.  Its "Ok:"/"Fail:"
# lines join the tally.
echo "==> scripts/fuzz.sh ${FUZZ_SECONDS:-45}" >&2
bash scripts/fuzz.sh "${FUZZ_SECONDS:-45}" 2>&1 | tee -a "$log" || status=1
tally
