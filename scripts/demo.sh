#!/bin/sh
# Builds libpoe and runs poe-demo with its inspector on
# http://127.0.0.1:8080/ (pass --inspector HOST:PORT to change it).
# Installs what it needs.  Ctrl-C stops the demo gracefully.
set -eu
cd "$(dirname "$0")/.."
. scripts/deps.sh
need_pkgs $BUILD_PKGS libcmocka-dev
[ -d build ] || meson setup build >/dev/null
ninja -C build examples/poe-demo >/dev/null
exec build/examples/poe-demo "$@"
