#!/usr/bin/env python3
"""Every public function must be covered by the misuse and OOM tests.

poe.h's functions must each be classified in tests/test-oom-all.c's
oom_api table: swept under allocation failure by a named, registered
test, or allocating nothing, with the reason.

poe.h's functions must each have a row in tests/misuse-api.h (the
results test-misuse allows it, and test-misuse then asserts each was
called).  inspector.h's functions must each be named in
test-oom-inspector.c's table, as swept under allocation failure or as
not allocating, with the reason.  A new public function in neither
fails this test until it is added.
"""
import re
import sys

root = sys.argv[1]


def exported(path):
    text = open(f"{root}/{path}").read()
    return re.findall(r"POE_EXPORT[^;(]*?\b(poe_\w+)\s*\(", text)


status = 0
table = open(f"{root}/tests/misuse-api.h").read()
listed = set(re.findall(r"X\((poe_\w+),", table))
for fn in exported("kernel/include/poe/poe.h"):
    if fn not in listed:
        print(f"{fn}: in poe.h but not in tests/misuse-api.h", file=sys.stderr)
        status = 1
oom = open(f"{root}/tests/test-oom-inspector.c").read()
rows = set(re.findall(r"^ \*   (poe_\w+) +(?:swept|no allocation)", oom, re.M))
for fn in exported("inspector/include/poe/inspector.h"):
    if fn not in rows:
        print(f"{fn}: in inspector.h but not in test-oom-inspector.c's table", file=sys.stderr)
        status = 1
# poe.h's functions must each be classified in test-oom-all.c's oom_api:
# OA_SWEPT(fn, test) names a test that sweeps it under allocation
# failure, which must exist and be registered in test-oom.c or
# test-oom-all.c; OA_NONE(fn, "reason") says why it allocates nothing
# (test-oom-all's test_no_alloc checks that at run time).
oom_all = open(f"{root}/tests/test-oom-all.c").read()
swept = dict(re.findall(r"OA_SWEPT\((poe_\w+),\s*(\w+)\)", oom_all))
none = set(re.findall(r"OA_NONE\((poe_\w+),\s*\"", oom_all))
sources = oom_all + open(f"{root}/tests/test-oom.c").read()
registered = set(re.findall(r"cmocka_unit_test\w*\((test_\w+)\)", sources))
defined = set(re.findall(r"^static void (test_\w+)\(void \*\*state\)", sources, re.M))
poe_fns = exported("kernel/include/poe/poe.h")
for fn in poe_fns:
    if fn in swept and fn in none:
        print(f"{fn}: both swept and not allocating in test-oom-all.c", file=sys.stderr)
        status = 1
    elif fn in swept:
        test = swept[fn]
        if test not in defined or test not in registered:
            print(f"{fn}: its sweep {test} is not a registered test in test-oom.c or "
                  "test-oom-all.c", file=sys.stderr)
            status = 1
    elif fn not in none:
        print(f"{fn}: in poe.h but not classified in test-oom-all.c's oom_api",
              file=sys.stderr)
        status = 1
for fn in (set(swept) | none) - set(poe_fns):
    print(f"{fn}: in test-oom-all.c's oom_api but not in poe.h", file=sys.stderr)
    status = 1
print(f"{len(listed)} poe.h functions in the misuse table, {len(rows)} inspector.h "
      f"functions in the OOM table; poe.h under allocation failure: {len(swept)} swept, "
      f"{len(none)} allocating nothing")
sys.exit(status)
