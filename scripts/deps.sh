#!/bin/sh
# Installs what building and testing libpoe needs, on Debian 12, when it
# is missing.  Sourced by the other scripts; safe to run repeatedly.
set -eu

need_pkgs() {
        missing=""
        for p in "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
                        missing="$missing $p"
        done
        [ -z "$missing" ] && return 0
        if [ "$(id -u)" != 0 ]; then
                echo "missing Debian packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
                exit 1
        fi
        echo "installing:$missing" >&2
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        # shellcheck disable=SC2086
        apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

BUILD_PKGS="gcc g++ meson ninja-build pkg-config binutils libmicrohttpd-dev libjansson-dev libsqlite3-dev libglib2.0-dev libuv1-dev libev-dev"
# libunistring-dev: `pkg-config --static --libs libpoe-inspector` names
# -lunistring (through libmicrohttpd and gnutls), which the build test
# 'pkgconfig' links.
# man-db (and groff): the build test 'man' renders the man pages.
TEST_PKGS="libcmocka-dev valgrind libpoe-perl curl sqlite3 abigail-tools libunistring-dev man-db"
# prometheus: promtool lints every /metrics scrape the tests make, and the
# Prometheus server scrapes poe-demo in the 'prometheus' suite.
TEST_PKGS="$TEST_PKGS prometheus"
# bench/soak only (not the test suite): the HTTP load generator.
SOAK_PKGS="wrk"
FUZZ_PKGS="clang libclang-rt-14-dev"
