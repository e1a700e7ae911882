#!/bin/sh
# Builds libpoe and runs the demo program.  Installs what it needs.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs $BUILD_PKGS libcmocka-dev
[ -d build ] || meson setup build >/dev/null
ninja -C build examples/counters >/dev/null
exec build/examples/counters "$@"
