#!/bin/sh
# Runs every test: the build checks, the cmocka unit tests, the oracle
# tests against real POE, then the whole suite again under
# AddressSanitizer+UBSan and under valgrind.  Installs what it needs.
#
#   scripts/test.sh            everything
#   scripts/test.sh --quick    the plain build's suite only
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs $BUILD_PKGS $TEST_PKGS

quick=0
[ "${1:-}" = "--quick" ] && quick=1

run() {
        echo "==> $*" >&2
        "$@"
}

# Plain build, warnings as errors.
[ -d build ] || run meson setup build -Dwerror=true
run ninja -C build
run meson test -C build --print-errorlogs --num-processes 2

[ $quick = 1 ] && exit 0

# AddressSanitizer + UndefinedBehaviorSanitizer, any report fatal.
[ -d build-asan ] || run meson setup build-asan -Dwerror=true -Db_sanitize=address,undefined \
        -Db_lundef=false -Dbuildtype=debug
run ninja -C build-asan
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        run meson test -C build-asan --print-errorlogs --num-processes 2

# valgrind: memcheck over every unit test program (the build's 'valgrind'
# setup), and over the C side of every oracle test (run-oracle honours
# POE_TEST_WRAPPER, so the Perl side runs natively).
run meson test -C build --setup valgrind --print-errorlogs --num-processes 2 --suite unit
POE_TEST_WRAPPER="valgrind --quiet --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite" \
        run meson test -C build --print-errorlogs --num-processes 2 --suite oracle
