#!/bin/sh
# trace-cost.sh: the kernel thread's instructions per trace record, counted
# by callgrind (a shared, noisy machine does not disturb a count).
#
#   bench/trace-cost.sh [BUILD_DIR] [N]
#
# BUILD_DIR is build-bench unless given: a release tree, as bench/run
# builds (meson setup build-bench --buildtype=release); a debug tree
# counts unoptimized code.  Runs BUILD_DIR/bench/trace-cost at N and 2N
# yields in each set-up (bare, nolog, log, shed), counts thread 1's
# instructions (the kernel's; the writer and the HTTP server have threads
# of their own), and prints per set-up the instructions per yield,
# (I(2N) - I(N)) / N, then for the log the records per yield and
#   per_record      instructions per yield / records per yield (the
#                   whole kernel thread, the yield's own work included);
#   marginal        (log - bare) / records per yield: what a record adds;
#   shed_marginal   (shed - bare) / records per yield: the same with a
#                   ring of 16 records, where most records are shed.
# The target (issue 14) is marginal <= 100 (docs/performance.md has the
# figures).
set -eu
build=${1:-build-bench}
n=${2:-20000}
prog=$build/bench/trace-cost
[ -x "$prog" ] || { echo "build $prog first (ninja -C $build)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Thread 1's total from a run at $1 yields in set-up $2; its output line
# goes to $tmp/out.$2.$1.
count() {
        valgrind --tool=callgrind --separate-threads=yes \
                --callgrind-out-file="$tmp/cg.$2.$1.%p" "$prog" "$1" "$2" \
                >"$tmp/out.$2.$1" 2>"$tmp/err.$2.$1" ||
                { cat "$tmp/err.$2.$1" >&2; exit 1; }
        f=$(ls "$tmp"/cg."$2"."$1".*-01 | head -n 1)
        awk '/^totals:/ { print $2 }' "$f"
}

records() {
        sed 's/.* records=\([0-9]*\).*/\1/' "$tmp/out.$2.$1"
}

for mode in bare nolog log shed; do
        a=$(count "$n" "$mode")
        b=$(count $((2 * n)) "$mode")
        eval "py_$mode=\$(( (b - a) / n ))"
        cat "$tmp/out.$mode.$n" "$tmp/out.$mode.$((2 * n))"
done
ra=$(records "$n" log)
rb=$(records $((2 * n)) log)
echo "instructions per yield: bare=$py_bare nolog=$py_nolog log=$py_log shed=$py_shed"
awk -v n="$n" -v ra="$ra" -v rb="$rb" -v bare="$py_bare" -v lg="$py_log" -v sh="$py_shed" 'BEGIN {
        rpy = (rb - ra) / n
        printf "records per yield: %.3f\n", rpy
        printf "per_record=%.1f marginal=%.1f (instructions, kernel thread)\n",
               lg / rpy, (lg - bare) / rpy
        printf "shed_marginal=%.1f (a record while the ring is full, most of them shed)\n",
               (sh - bare) / rpy
}'
