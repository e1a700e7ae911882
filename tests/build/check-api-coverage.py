#!/usr/bin/env python3
"""Every public function must be covered by the misuse and OOM tests.

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
print(f"{len(listed)} poe.h functions in the misuse table, {len(rows)} inspector.h "
      "functions in the OOM table")
sys.exit(status)
