#!/usr/bin/env python3
"""poe-demo with its inspector: it starts, says where to point the
browser, fills its sessions, clients, workers and handled DIEs, and stops
gracefully on SIGINT.  Prints "N passed, N failed"; waits poll with
deadlines.

    test_demo.py POE_DEMO
"""
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, status as exit_status  # noqa: E402

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    return cond


def get(url):
    try:
        with urllib.request.urlopen(url, timeout=5 * SLOW) as r:
            return r.status, json.loads(r.read())
    except Exception as e:  # a refused or failed request is a value here
        return None, str(e)


def until(seconds, fn):
    end = time.monotonic() + seconds * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.1)


def main():
    tmp = tempfile.mkdtemp(prefix="poe-demo-test-")
    proc = popen([sys.argv[1], "--inspector", "127.0.0.1:0", "--trace-db",
                  os.path.join(tmp, "demo.db")],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        check("the demo says where to point the browser", "point your browser at" in line, line)
        base = line.rsplit(" ", 1)[-1].strip().rstrip("/")
        status, doc = get(base + "/api/v1/kernel")
        check("its inspector answers", status == 200, doc)
        status, doc = get(base + "/api/v1/aliases")
        names = {a["alias"] for a in doc["data"]} if status == 200 else set()
        check("the services are there by alias",
              {"demo", "stats", "listener", "ticker", "workers", "flaky"} <= names, names)
        def more_sessions():
            status, doc = get(base + "/api/v1/sessions")
            return status == 200 and doc["page"]["total"] > 6
        check("clients and connections come within 10 s", until(10, more_sessions))
        check("a worker is watched within 10 s", until(10, lambda: "CHLD" in json.dumps(
            get(base + "/api/v1/signals")[1])))
        check("the trace log records dispatches", until(10, lambda: (lambda s, d: s == 200 and
              d["data"]["records"])(*get(base + "/api/v1/trace?group=TRACE_EVENTS&limit=3"))))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30 * SLOW)
        check("SIGINT stops it gracefully", proc.returncode == 0 and "poe-demo: done" in out,
              (exit_status(proc.returncode), out[-300:], err[-2000:]))
        check("the flaky handler died and was handled", "handled DIE in 'work'" in err, err[-300:])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
