#!/usr/bin/env python3
"""Trace log faults seen through the real HTTP kernel summary: the fixture
(tests/inspector/fixture.c) runs with its log at a path whose parent is a
regular file, then under a write lock this process takes, then (a second
fixture) with a text file at the path.  For each fault: the summary's
trace_log.error names it, the kernel keeps dispatching, drops are counted
(and show in /metrics); once the fault is cleared the log writes again by
itself.  After SIGTERM the file holds exactly the records the log says it
wrote, its drops table the drops, and produced == written + dropped.

    test_faults.py FIXTURE

Prints one line per check and closes with "N passed, N failed".  Every
wait polls with a deadline; nothing sleeps to wait.
"""
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, promtool_check  # noqa: E402

results = []
DEADLINE = 30 * SLOW


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    return cond


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=10 * SLOW) as r:
        text = r.read().decode()
        if path == "/metrics" and r.status == 200:
            promtool_check(text)
        return r.status, text


def kernel(base):
    status, body = get(base, "/api/v1/kernel")
    return json.loads(body)["data"] if status == 200 else {}


def log_of(k):
    return k.get("trace_log") or {}


def until(fn, deadline=DEADLINE):
    """Calls fn until it returns a true value or the deadline passes."""
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def start(fixture, db):
    proc = subprocess.Popen([fixture, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    line = proc.stdout.readline().split()
    if not check("fixture prints its URL", line[:1] == ["URL"], line):
        proc.kill()
        print(proc.communicate()[1])
        return None, None
    check("fixture names its trace log even before it opens",
          proc.stdout.readline().split() == ["DB", db])
    return proc, line[1].rstrip("/")


def fault(base, name, says):
    """While the fault lasts: the summary names it, the kernel dispatches,
    drops are counted and show in /metrics."""
    k = until(lambda: (lambda k: k if says in (log_of(k).get("error") or "") else None)(
        kernel(base)))
    check("%s: the kernel summary names the fault" % name, k, log_of(kernel(base)))
    if not k:
        return 0
    print("    (%s)" % log_of(k)["error"])
    d0, drop0 = k["events_dispatched"], log_of(k)["dropped_total"]
    k2 = until(lambda: (lambda k: k if k["events_dispatched"] >= d0 + 20 and
                        log_of(k)["dropped_total"] > drop0 else None)(kernel(base)))
    check("%s: the kernel keeps dispatching and the log counts its drops" % name, k2,
          (d0, drop0, log_of(kernel(base))))
    k2 = k2 or kernel(base)
    check("%s: drops are counted per group" % name,
          sum(log_of(k2).get("dropped", {}).values()) == log_of(k2)["dropped_total"] and
          log_of(k2).get("dropped", {}).get("TRACE_EVENTS", 0) > 0, log_of(k2))
    _, metrics = get(base, "/metrics")
    check("%s: /metrics shows the error and the drops" % name,
          "poe_trace_log_error 1" in metrics and
          re.search(r'poe_trace_records_dropped_total\{group="TRACE_EVENTS"\} [1-9]', metrics),
          metrics[-600:])
    return log_of(k2)["records_written"]


def recovered(base, name, written):
    k = until(lambda: (lambda k: k if log_of(k).get("error") is None and
                       log_of(k)["records_written"] > written else None)(kernel(base)))
    check("%s: once cleared, the log writes again" % name, k, log_of(kernel(base)))


def stop(proc, db, name):
    """SIGTERM; the closing line's totals against the file."""
    os.kill(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    check("%s: SIGTERM stops the fixture cleanly" % name,
          proc.returncode == 0 and "EXIT 0" in out, (proc.returncode, out, err[-500:]))
    m = re.search(r"poe-inspector: trace log (.*): (\d+) records produced, (\d+) written, "
                  r"(\d+) dropped", err)
    if not check("%s: the closing line gives the log's totals" % name, m, err[-500:]):
        return
    produced, written, dropped = (int(x) for x in m.group(2, 3, 4))
    print("    (%d produced, %d written, %d dropped)" % (produced, written, dropped))
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    run = con.execute("select max(id) from runs").fetchone()[0]
    in_file = con.execute("select count(*) from records where run_id = ?", (run,)).fetchone()[0]
    drops = con.execute("select coalesce(sum(count), 0) from drops where run_id = ?",
                        (run,)).fetchone()[0]
    con.close()
    check("%s: the file holds exactly the records written" % name, in_file == written,
          (in_file, written))
    check("%s: the file's drops table holds the drops" % name, drops == dropped, (drops, dropped))
    check("%s: produced == written + dropped" % name, produced == written + dropped,
          (produced, written, dropped))


def main():
    fixture = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="poe-faults-test-")
    try:
        # A regular file where the log's directory should be (ENOTDIR:
        # fails for root too), then a directory in its place.
        blocker = os.path.join(tmp, "logs")
        open(blocker, "w").close()
        db = os.path.join(blocker, "trace.db")
        proc, base = start(fixture, db)
        if proc:
            try:
                w = fault(base, "path under a file", "Not a directory")
                os.unlink(blocker)
                os.mkdir(blocker)
                recovered(base, "path under a file", w)

                # Another process (this one) holds the write lock.
                con = sqlite3.connect(db, isolation_level=None, timeout=10)
                con.execute("BEGIN EXCLUSIVE")
                w = fault(base, "locked by another process", "locked")
                status, body = get(base, "/api/v1/trace?limit=1")
                check("locked: queries still answer", status == 200, body[:300])
                con.execute("ROLLBACK")
                con.close()
                recovered(base, "locked by another process", w)
                stop(proc, db, "path under a file, then locked")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()

        # Text where the log should be, then moved away.
        db = os.path.join(tmp, "text.db")
        with open(db, "w") as f:
            f.write("this is a text file, not a database\n" * 100)
        proc, base = start(fixture, db)
        if proc:
            try:
                w = fault(base, "not a database", "not a SQLite database")
                os.rename(db, db + ".moved")
                recovered(base, "not a database", w)
                stop(proc, db, "not a database")
            finally:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
