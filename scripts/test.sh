#!/usr/bin/env bash
# Runs every test in five stages: the plain -Werror build's whole suite
# (build checks, cmocka unit tests, oracles against real POE, the
# inspector over HTTP, the page in chromium, the fuzz corpora replayed),
# and a release -Werror build compiled; the whole suite again in an AddressSanitizer+UBSan build (its
# 'sanitize' test setup); the thread and inspector tests in a
# ThreadSanitizer build (its 'tsan' setup); the suite under valgrind memcheck (the
# 'valgrind' test setup, which leaves out the suites the top meson.build
# names, saying why); then each fuzz target for FUZZ_SECONDS (30) under
# libFuzzer in a clang build.  Installs what it needs.
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
stages=$(mktemp)
trap 'rm -f "$log" "$stages"' EXIT

run() {
        echo "==> $*" >&2
        "$@"
}

# count LOG: "N passed, N failed" over the meson summaries in LOG.
count() {
        awk '/^Ok:/ { ok += $2 } /^(Fail|Timeout|Unexpected Pass):/ { bad += $NF }
             END { printf "%d passed, %d failed", ok, bad }' "$1"
}

# mtest STAGE ARGS...: meson test, with its output kept for the closing
# tally and one line per stage (its counts and wall time).  A failing
# stage is remembered and the others still run, so one report says all.
status=0
mtest() {
        stage=$1
        shift
        echo "==> meson test $*" >&2
        one=$(mktemp)
        start=$(date +%s)
        meson test "$@" 2>&1 | tee "$one" || status=1
        cat "$one" >>"$log"
        echo "stage $stage: $(count "$one"), $(( $(date +%s) - start )) s" >>"$stages"
        rm -f "$one"
}

# The closing line CI reads: every test run by every stage above.
tally() {
        cat "$stages"
        counts=$(count "$log")
        echo "tests: $counts"
        case $counts in
        *" 0 failed") [ "$status" -eq 0 ] ;;
        *) false ;;
        esac
}

# Plain build, warnings as errors.
[ -d build ] || run meson setup build -Dwerror=true
run ninja -C build
mtest plain -C build --print-errorlogs --num-processes 2

if [ $quick = 1 ]; then
        tally
        exit $?
fi

# The release build with warnings as errors: -O3's flow analysis warns
# where -O2's does not (a maybe-uninitialized that only the image's
# release build found, stop 34), and the Dockerfile builds this way.
# Compiled only: the stages below run the suite.
[ -d build-release ] || run meson setup build-release -Dwerror=true -Dbuildtype=release
run ninja -C build-release

# AddressSanitizer + UndefinedBehaviorSanitizer over the whole suite; the
# 'sanitize' setup makes any report (leaks included) abort the program.
[ -d build-asan ] || run meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debug
run ninja -C build-asan
mtest asan+ubsan -C build-asan --setup sanitize --print-errorlogs --num-processes 2

# ThreadSanitizer over suite 'tsan' only: the thread and inspector tests,
# the code that runs on more than one thread (the top meson.build says
# why not the rest).  Only the programs they run are built, which keeps
# the stage near two minutes of CI's 30.
[ -d build-tsan ] || run meson setup build-tsan -Dwerror=true -Db_sanitize=thread \
        -Dbuildtype=debug
run ninja -C build-tsan tests/test-threads tests/test-api tests/test-inspector-stop \
        tests/test-tracewriter tests/test-tracelog tests/inspector/inspector-fixture \
        tests/inspector/inspector-autostart
mtest tsan -C build-tsan --setup tsan --suite tsan --no-rebuild --print-errorlogs \
        --num-processes 2

# valgrind memcheck over the whole suite, less the suites the setup
# excludes (top meson.build): our programs run under valgrind, the Python,
# shell and Perl that drive them natively (tests/wrap).
mtest valgrind -C build --setup valgrind --print-errorlogs --num-processes 2

# Fuzzing: each target for a bounded time in a clang build (build-fuzz);
# a crash is kept in fuzz/regress/ and fails the run; a slow input is
# kept and fails it only if it is slow replayed alone.  Its "Ok:"/"Fail:"
# lines join the tally.
echo "==> scripts/fuzz.sh ${FUZZ_SECONDS:-30}" >&2
one=$(mktemp)
start=$(date +%s)
bash scripts/fuzz.sh "${FUZZ_SECONDS:-30}" 2>&1 | tee "$one" || status=1
cat "$one" >>"$log"
echo "stage fuzz: $(count "$one"), $(( $(date +%s) - start )) s" >>"$stages"
rm -f "$one"
tally
