#!/usr/bin/env python3
"""The Chrome trace export against the Trace Event Format's rules
(check_chrome.py), over a real traced run: signals, a handler that dies,
child processes, posts from the main program.

    test_chrome.py TRACED_RUN POE_TRACE FIXTURE MAKE_LOG

First the checker itself: each rule it holds an export to is broken on
purpose in a small document, and it must say so (and pass the same
document unbroken).  Then TRACED_RUN (tests/inspector/traced-run.c)
writes a log of ROUNDS rounds, and its export, through poe-trace and
through the inspector's HTTP API (the same bytes), must break none:
every flow binds a slice at both ends, the kernel's posts (_signal,
DIE, a reaped child's event) included, and so must the exports of
selections that leave the senders' handlers out.  Last, the export of
MAKE_LOG's logs of N and 2N records: bytes per record within 5% of each
other (the file linear in the records), its time printed.

Prints one line per check and closes with "N passed, N failed".
"""
import collections
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
from testutil import SLOW, WRAPPER, popen, run as run_wrapped, status  # noqa: E402
import check_chrome  # noqa: E402

ROUNDS = 5 if WRAPPER else 20
LINEAR_N = 1000 if WRAPPER else 5000
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    sys.stdout.flush()
    return cond


# ---- the checker, on documents broken on purpose ----

def meta(tids=(1,)):
    evs = [{"name": "process_name", "ph": "M", "pid": 1, "tid": 0, "args": {"name": "p"}}]
    evs += [{"name": "thread_name", "ph": "M", "pid": 1, "tid": t, "args": {"name": "t%d" % t}}
            for t in tids]
    return evs


def x(ts, dur, tid=1, name="x"):
    return {"name": name, "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid}


def flow(ph, ts, tid, fid=7, **kw):
    ev = {"name": "post", "cat": "post", "ph": ph, "id": fid, "ts": ts, "pid": 1, "tid": tid}
    ev.update(kw)
    return ev


def be(ph, ts, name="b", tid=1):
    return {"name": name, "ph": ph, "ts": ts, "pid": 1, "tid": tid}


def good():
    """Slices on two tracks, nested X and B/E, a flow bound at both
    ends (f by bp "e" and by the next slice), an instant."""
    return {"traceEvents": meta((1, 2)) + [
        x(10, 100), x(20, 10), be("B", 40), be("E", 50),
        {"name": "i", "ph": "i", "ts": 45, "pid": 1, "tid": 1},
        flow("s", 25, 1), flow("f", 200, 2, bp="e"), x(200, 0.001, tid=2),
        flow("s", 41, 1, fid=8), flow("t", 60, 1, fid=8), flow("f", 250, 2, fid=8),
        x(300, 1, tid=2)], "displayTimeUnit": "ms", "otherData": {}}


def checker_self_test():
    r = check_chrome.check_doc(good())
    check("checker: a well-formed trace passes", r.ok, r.text())
    check("checker: it sees the well-formed trace's 2 flows bound",
          r.figures.get("flows") == 2 and r.figures.get("dangling_flows") == 0, r.figures)

    def broken(what, rule, change, dangling=None):
        doc = good()
        change(doc["traceEvents"])
        r = check_chrome.check_doc(doc)
        check("checker: %s breaks %s" % (what, rule), rule in r.counts, r.text())
        if dangling is not None:
            check("checker: %s: %d dangling" % (what, dangling),
                  r.figures.get("dangling_flows") == dangling, r.figures)

    # What the export did before: a flow starting on the kernel's track
    # where no slice is open.
    broken("a flow start outside any slice", "flows",
           lambda e: e.append(flow("s", 150, 2, fid=9)) or e.append(flow("f", 200, 2, fid=9,
                                                                          bp="e")),
           dangling=1)
    broken("a flow start on another track's slice", "flows",
           lambda e: e.__setitem__(e.index(flow("s", 25, 1)), flow("s", 25, 3)), dangling=1)
    broken("a flow with no end", "flows", lambda e: e.remove(flow("f", 200, 2, bp="e")),
           dangling=1)
    broken("a flow with two starts", "flows", lambda e: e.append(flow("s", 30, 1)))
    broken("a flow ending before it starts", "flows",
           lambda e: e.append(flow("s", 60, 1, fid=10)) or e.append(
               flow("f", 15, 1, fid=10, bp="e")))
    broken("an f with no slice after it", "flows",
           lambda e: e.append(flow("s", 60, 1, fid=11)) or e.append(flow("f", 400, 2, fid=11)),
           dangling=1)
    broken("an f with bp \"e\" outside any slice", "flows",
           lambda e: e.append(flow("s", 60, 1, fid=12)) or e.append(
               flow("f", 260, 2, fid=12, bp="e")), dangling=1)
    broken("a flow with no id", "fields", lambda e: e.append(
        {"name": "post", "cat": "post", "ph": "s", "ts": 30, "pid": 1, "tid": 1}))
    broken("an X with no dur", "fields", lambda e: e.append(
        {"name": "x", "ph": "X", "ts": 30, "pid": 1, "tid": 1}))
    broken("an X with a negative dur", "fields", lambda e: e.append(x(30, -1)))
    broken("an event with no ts", "fields", lambda e: e.append(
        {"name": "i", "ph": "i", "pid": 1, "tid": 1}))
    broken("an event with no tid", "fields", lambda e: e.append(
        {"name": "i", "ph": "i", "ts": 1, "pid": 1}))
    broken("an unknown ph", "fields", lambda e: e.append(
        {"name": "i", "ph": "Q", "ts": 1, "pid": 1, "tid": 1}))
    broken("an instant's scope", "fields", lambda e: e.append(
        {"name": "i", "ph": "i", "s": "x", "ts": 1, "pid": 1, "tid": 1}))
    broken("args not an object", "fields", lambda e: e.append(
        {"name": "i", "ph": "i", "ts": 1, "pid": 1, "tid": 1, "args": [1]}))
    broken("slices overlapping without nesting", "nesting", lambda e: e.append(x(100, 20)))
    broken("an E with no B", "nesting", lambda e: e.append(be("E", 70, tid=2)))
    broken("a B that never ends", "nesting", lambda e: e.append(be("B", 70, tid=2)))
    broken("an E closing another name's B", "nesting",
           lambda e: e.extend([be("B", 60, "p", 2), be("B", 61, "q", 2), be("E", 62, "p", 2),
                               be("E", 63, "q", 2)]))
    broken("B/E out of time order", "order",
           lambda e: e.extend([be("B", 70, "p", 2), be("E", 80, "p", 2), be("B", 75, "q", 2),
                               be("E", 76, "q", 2)]))
    broken("a thread with no name", "metadata", lambda e: e.append(x(1, 1, tid=5)))
    broken("a process with no name", "metadata", lambda e: e.pop(0))
    broken("a thread named twice, differently", "metadata", lambda e: e.append(
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 1, "args": {"name": "other"}}))
    broken("a thread_name with no args.name", "metadata", lambda e: e.append(
        {"name": "thread_name", "ph": "M", "pid": 1, "tid": 3, "args": {}}))
    broken("a sort index that is not an integer", "metadata", lambda e: e.append(
        {"name": "thread_sort_index", "ph": "M", "pid": 1, "tid": 1,
         "args": {"sort_index": "1"}}))
    for text, what in (('{"traceEvents":[', "cut short"), ('[{"ph":"i","ts":NaN}]', "a NaN"),
                       ('{"traceEvents":[],"traceEvents":[]}', "a key twice"),
                       ('{"events":[]}', "no traceEvents")):
        r = check_chrome.check_text(text)
        check("checker: %s is not a trace" % what, "json" in r.counts, r.text())


# ---- exports of a real traced run ----

def export_cli(poe_trace, db, out, *flt):
    p = run_wrapped([poe_trace, "export", db, "--format", "chrome", "-o", out] + list(flt),
                    timeout=120, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return p.returncode, p.stderr


def flows_by_target(doc):
    """(sender tid, name of the slice the flow ends in) -> flows."""
    evs = doc["traceEvents"]
    xs = {(e["tid"], e["ts"]): e for e in evs if e["ph"] == "X" and e.get("cat") != "post"}
    starts = {e["id"]: e for e in evs if e["ph"] == "s"}
    out = collections.Counter()
    for e in evs:
        if e["ph"] == "f" and e["id"] in starts and (e["tid"], e["ts"]) in xs:
            out[(starts[e["id"]]["tid"], xs[(e["tid"], e["ts"])]["name"])] += 1
    return out


def traced_run_checks(traced_run, poe_trace, fixture, tmp):
    db = os.path.join(tmp, "run.db")
    p = run_wrapped([traced_run, db, str(ROUNDS)], timeout=120, stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE, text=True)
    if not check("traced-run wrote its log", p.returncode == 0,
                 "%s %s" % (status(p.returncode), p.stderr)):
        return
    out = os.path.join(tmp, "run.json")
    rc, err = export_cli(poe_trace, db, out)
    if not check("poe-trace exports it", rc == 0, err):
        return
    r = check_chrome.check_file(out)
    print(r.text())
    check("the export keeps every rule of the format", r.ok, r.text())
    check("no flow dangles", r.figures.get("dangling_flows") == 0, r.figures)
    with open(out, encoding="utf-8") as f:
        doc = json.load(f)
    by = flows_by_target(doc)
    print("  flows (sender's track, handler): %s" % dict(by))
    # The kernel's own posts, each an arrow from the kernel's track (0):
    # USR1's _signal, the DIE after a handler died, each child's reaping,
    # and the main program's post before run().
    for handler, want in (("usr1", ROUNDS), ("died", ROUNDS // 2), ("reaped", ROUNDS),
                          ("hello", 1)):
        check("%d arrows from the kernel's track to %s" % (want, handler),
              by.get((0, handler), 0) >= want, dict(by))
    own = [e for e in doc["traceEvents"] if e["ph"] == "X" and e.get("cat") == "post"]
    check("the kernel's posts have slices of their own on its track",
          sum(1 for e in own if e["tid"] == 0) >= 2 * ROUNDS + ROUNDS // 2, len(own))
    check("a post's own slice lasts 1 ns", all(e["dur"] == 0.001 for e in own))
    handlers = {e["args"]["event_id"] for e in own}
    inside = [e for e in doc["traceEvents"] if e["ph"] == "s" and e["id"] not in handlers]
    check("posts from handlers start in the handler's slice, with no slice added",
          len(inside) >= 3 * ROUNDS, len(inside))

    # Selections that leave out the senders' handlers: the posts to
    # flaky (session 1) from boss, whose dispatches are not selected.
    for flt in (("--session", "1"), ("--event", "work"), ("--kind", "enqueue"),
                ("--group", "events"), ("--group", "signals,sessions")):
        path = os.path.join(tmp, "sel.json")
        rc, err = export_cli(poe_trace, db, path, *flt)
        r = check_chrome.check_file(path) if rc == 0 else None
        check("a selection (%s) keeps every rule" % " ".join(flt), r and r.ok,
              r.text() if r else err)

    # The inspector's HTTP export: the same bytes as poe-trace's.
    fx = popen([fixture, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = None
        for _ in range(10):
            line = fx.stdout.readline()
            if line.startswith("URL "):
                url = line.split()[1]
            if line.startswith("DB ") or not line:
                break
        if check("the fixture serves the log", url, fx.poll()):
            with urllib.request.urlopen(url + "api/v1/export/chrome?run=1",
                                        timeout=60 * SLOW) as resp:
                body = resp.read()
            with open(out, "rb") as f:
                check("the HTTP export is poe-trace's, byte for byte", body == f.read(),
                      "%d bytes" % len(body))
    finally:
        fx.terminate()
        try:
            fx.communicate(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            fx.kill()
            fx.communicate()


# ---- size linear in the records ----

def linear_checks(make_log, poe_trace, tmp):
    per = []
    for n in (LINEAR_N, 2 * LINEAR_N):
        db = os.path.join(tmp, "log-%d.db" % n)
        p = run_wrapped([make_log, db, str(n)], timeout=300, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE, text=True)
        m = re.search(r"records (\d+)", p.stdout)
        if not check("make-log wrote %d records" % n, p.returncode == 0 and m, p.stderr):
            return
        records = int(m.group(1))
        out = os.path.join(tmp, "log-%d.json" % n)
        t0 = time.monotonic()
        rc, err = export_cli(poe_trace, db, out)
        seconds = time.monotonic() - t0
        if not check("poe-trace exports %d records" % records, rc == 0, err):
            return
        size = os.path.getsize(out)
        r = check_chrome.check_file(out)
        check("the export of %d records keeps every rule" % records, r.ok, r.text())
        print("  records=%d bytes=%d bytes_per_record=%.1f seconds=%.2f" %
              (records, size, size / records, seconds))
        per.append((records, size, seconds))
    (n1, b1, s1), (n2, b2, s2) = per
    print("  records_ratio=%.2f size_ratio=%.2f time_ratio=%.2f (time not judged)" %
          (n2 / n1, b2 / b1, s2 / s1 if s1 else 0))
    check("bytes per record the same at N and 2N (within 5%)",
          abs((b2 / n2) / (b1 / n1) - 1) < 0.05, (b1 / n1, b2 / n2))


def main():
    if len(sys.argv) != 5:
        print(__doc__)
        return 2
    traced_run, poe_trace, fixture, make_log = sys.argv[1:]
    checker_self_test()
    with tempfile.TemporaryDirectory(prefix="test-chrome-") as tmp:
        traced_run_checks(traced_run, poe_trace, fixture, tmp)
        linear_checks(make_log, poe_trace, tmp)
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
