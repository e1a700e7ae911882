#!/usr/bin/env python3
"""The trace log is a library of its own, and poe-trace uses nothing else
of the inspector's.

    check-tracelog-split.py SOURCE_ROOT BUILD_ROOT POE_TRACE TRACELOG_LIB INSPECTOR_LIB

Fails when
  - a file poe-trace is compiled from (the targets poe-trace and
    poe-trace-cmd), or a header it includes from the source tree, directly
    or through another, is one of the inspector's: any header under
    inspector/ but the trace log's interface, poe/tracelog.h;
  - a file the trace log library (poe-tracelog) is compiled from reaches
    a header of the inspector's proper (inspector-internal.h, http.h,
    poe/inspector.h): the library must build without the inspector;
  - poe-trace's include path holds a directory with any of the
    inspector's internal headers in it;
  - the poe-trace binary needs libmicrohttpd (readelf's NEEDED entries,
    ldd's closure) or names a symbol of it (nm, MHD_*);
  - the trace log library names a symbol of libmicrohttpd.
The same probes must find libmicrohttpd in the inspector's library, or
the check itself is blind and fails.  Python 3 standard library, binutils
and ldd only.
"""
import json
import os
import re
import subprocess
import sys

source_root, build_root, poe_trace, tracelog_lib, inspector_lib = map(os.path.abspath,
                                                                        sys.argv[1:6])
inspector_dir = os.path.join(source_root, "inspector")
tracelog_h = os.path.join(inspector_dir, "tracelog-include", "poe", "tracelog.h")
# The inspector's own headers (the trace log library may use only
# tracelog-internal.h and poe/tracelog.h of what lies in inspector/).
inspector_proper = {os.path.join(inspector_dir, h)
                    for h in ("inspector-internal.h", "http.h",
                              os.path.join("include", "poe", "inspector.h"))}
INTERNAL_NAMES = ("inspector-internal.h", "http.h", "tracelog-internal.h")
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^">]+)[">]', re.M)

failures = []


def fail(msg):
    failures.append(msg)


targets = {t["name"]: t
           for t in json.load(open(os.path.join(build_root, "meson-info",
                                                "intro-targets.json")))}


def compiled(name):
    """The sources a target compiles and its include directories."""
    if name not in targets:
        fail(f"no target {name} in the build (the check is stale)")
        return [], []
    sources, dirs = [], []
    for ts in targets[name]["target_sources"]:
        sources += [s for s in ts.get("sources", []) if s.endswith((".c", ".h"))]
        params = ts.get("parameters", [])
        for i, p in enumerate(params):
            if p.startswith("-I") and len(p) > 2:
                dirs.append(p[2:])
            elif p in ("-I", "-isystem", "-iquote") and i + 1 < len(params):
                dirs.append(params[i + 1])
            elif p.startswith("-isystem"):
                dirs.append(p[len("-isystem"):])
    return sources, [os.path.abspath(d) for d in dirs]


def reached(sources, dirs):
    """Every file of the source tree the sources include, directly or not:
    {header: the file that includes it}."""
    seen, todo = {}, list(sources)
    while todo:
        f = todo.pop()
        try:
            text = open(f, errors="replace").read()
        except OSError:
            continue
        for name in INCLUDE.findall(text):
            for d in [os.path.dirname(f)] + dirs:
                h = os.path.abspath(os.path.join(d, name))
                if os.path.isfile(h):
                    break
            else:
                continue
            if not h.startswith(source_root + os.sep) or h in seen:
                continue
            seen[h] = f
            todo.append(h)
    return seen


def rel(path):
    return os.path.relpath(path, source_root)


# poe-trace's sources reach no header of the inspector but the interface.
checked = 0
for name in ("poe-trace", "poe-trace-cmd"):
    sources, dirs = compiled(name)
    if not sources:
        fail(f"{name}: no sources found (the check is stale)")
    checked += len(sources)
    for h, by in sorted(reached(sources, dirs).items()):
        if h.startswith(inspector_dir + os.sep) and h != tracelog_h:
            fail(f"{name}: {rel(by)} includes {rel(h)}, one of the inspector's headers "
                 f"(poe-trace may use poe/tracelog.h only)")
    for d in dirs:
        for n in INTERNAL_NAMES:
            if os.path.isfile(os.path.join(d, n)):
                fail(f"{name}: its include path has {d}, which holds {n}")

# The trace log library reaches nothing of the inspector's proper.
sources, dirs = compiled("poe-tracelog")
if not sources:
    fail("poe-tracelog: no sources found (the check is stale)")
for h, by in sorted(reached(sources, dirs).items()):
    if h in inspector_proper:
        fail(f"poe-tracelog: {rel(by)} includes {rel(h)}, a header of the inspector's")


def run(*cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    return r.stdout if r.returncode == 0 else ""


def microhttpd(path, shared):
    """How path shows libmicrohttpd: the probes that found it."""
    found = []
    if shared:
        needed = re.findall(r"\(NEEDED\).*\[(.*)\]", run("readelf", "-d", path))
        if not needed:
            fail(f"{rel(path)}: readelf lists no NEEDED entries (the check is blind)")
        if any("microhttpd" in n for n in needed):
            found.append("readelf NEEDED")
        if re.search(r"libmicrohttpd", run("ldd", path)):
            found.append("ldd")
        syms = run("nm", "-D", path) + run("nm", path)
    else:
        syms = run("nm", "-A", path)
    if not syms.strip():
        fail(f"{rel(path)}: nm lists no symbols (the check is blind)")
    if re.search(r"\bMHD_\w+", syms):
        found.append("nm: " + ", ".join(sorted(set(re.findall(r"\bMHD_\w+", syms)))[:3]))
    return found


control = microhttpd(inspector_lib, True)
for probe in ("readelf NEEDED", "ldd", "nm"):
    if not any(f.startswith(probe) for f in control):
        fail(f"{rel(inspector_lib)}: {probe} does not show libmicrohttpd in the inspector's "
             f"own library (the check is blind)")
for path, shared in ((poe_trace, True), (tracelog_lib, False)):
    for how in microhttpd(path, shared):
        fail(f"{rel(path)} depends on libmicrohttpd ({how})")

for f in failures:
    print("FAIL:", f)
if failures:
    sys.exit(1)
print(f"PASS: poe-trace's {checked} sources reach only poe/tracelog.h of the inspector's "
      f"headers, the trace log library none of the inspector's, and neither poe-trace "
      f"nor the library needs libmicrohttpd (which the inspector's library does)")
