#!/usr/bin/env python3
"""Exports over HTTP from a large trace log: each format streams in
constant memory, at most two run at once (a third gets 429 with
Retry-After), a client that goes ends its export, and a stop during an
export completes within a second.

    test_export.py FIXTURE MAKE_LOG

MAKE_LOG writes a log of RECORDS records (run 1); the fixture
(tests/inspector/fixture.c) opens it as its trace log, adding its own run,
and every export here asks for run 1.  For each format the fixture's peak
RSS is reset (/proc/PID/clear_refs) before the export and read after it
(VmHWM): its growth must stay under 16 MiB, however many records (the
same export built in memory took 536 MB for 2 million).  Under valgrind
(POE_TEST_WRAPPER) or a sanitizer, whose allocators keep freed memory
aside, the growth is printed and not judged, and the log is a tenth of
the size.

Prints one line per check and closes with "N passed, N failed".  Every
wait polls with a deadline and a count; nothing sleeps to wait.
"""
import csv
import http.client
import io
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, WRAPPER, popen, promtool_check, status as exit_status  # noqa: E402

RECORDS = 20000 if WRAPPER else 200000
RSS_GROWTH_MAX_KB = 16 * 1024
# A stop ends an export, and the program, within this (scaled).
STOP_S = 1.0
FORMATS = ("jsonl", "csv", "chrome", "otlp", "sqlite")
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    sys.stdout.flush()
    return cond


def until(deadline_s, fn, step=0.02):
    """fn() until it is true, at most deadline_s (scaled) and a bounded
    number of tries; returns its last value."""
    end = time.monotonic() + deadline_s * SLOW
    for _ in range(int(deadline_s * SLOW / step) + 2):
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)
    return fn()


# ---- the fixture ----

class Fixture:
    def __init__(self, program, db):
        self.proc = popen([program, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True)
        self.url = None
        for _ in range(10):
            line = self.proc.stdout.readline()
            if line.startswith("URL "):
                self.url = line.split()[1]
            if line.startswith("DB ") or not line:
                break
        if not self.url:
            raise RuntimeError("the fixture did not start: " + self.proc.stderr.read())
        m = re.match(r"http://([^:/]+):(\d+)/", self.url)
        self.host, self.port = m.group(1), int(m.group(2))
        self.pid = self.proc.pid

    def get(self, path, timeout=10):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout * SLOW)
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            conn.close()

    def metric(self, name):
        status, _, body = self.get("/metrics")
        if status == 200:
            promtool_check(body)
        m = re.search(r"^%s (\d+)$" % re.escape(name), body.decode(), re.M)
        return int(m.group(1)) if m else None

    def stop(self):
        """SIGTERM; the seconds until it exited, its exit status, stdout."""
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, err = self.proc.communicate(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
        return time.monotonic() - t0, self.proc.returncode, out, err

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return None


def reset_peak(pid):
    """Resets the process's peak RSS to its RSS now (Linux 4.0)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def judged(pid):
    """Whether the RSS of pid says anything: not under valgrind, nor with
    a sanitizer's allocator (its quarantine keeps freed memory)."""
    if WRAPPER:
        return False
    with open("/proc/%d/maps" % pid) as f:
        maps = f.read()
    return "libasan" not in maps and "libtsan" not in maps


# ---- what each export must hold ----

def expected(db):
    con = sqlite3.connect(db)
    try:
        q = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
        return {"records": q("SELECT count(*) FROM records WHERE run_id = 1"),
                "dispatches": q("SELECT count(*) FROM records WHERE run_id = 1 AND kind = 2")}
    finally:
        con.close()


def validate(fmt, path, want, tmp):
    """None when the body at path is what fmt must give for run 1, else
    what is wrong."""
    if fmt == "jsonl":
        n = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                if json.loads(line)["run"] != 1:
                    return "a record of another run"
                n += 1
        return None if n == want["records"] else "%d records, not %d" % (n, want["records"])
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as f:
            rows = sum(1 for _ in csv.reader(f))
        return None if rows == want["records"] + 1 else "%d rows" % rows
    if fmt == "chrome":
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        # Dispatches; not the slices of posts made outside any handler.
        x = sum(1 for e in doc["traceEvents"] if e.get("ph") == "X" and e.get("cat") != "post")
        unpaired = doc["otherData"]["unpaired"]
        return None if x == want["dispatches"] else "%d X events (%s)" % (x, unpaired)
    if fmt == "otlp":
        dispatches = 0
        with open(path, encoding="utf-8") as f:
            for line in f:
                for s in json.loads(line)["resourceSpans"][0]["scopeSpans"][0]["spans"]:
                    keys = {a["key"] for a in s["attributes"]}
                    dispatches += "poe.outcome" not in keys
        return None if dispatches == want["dispatches"] else "%d dispatch spans" % dispatches
    con = sqlite3.connect(path)
    try:
        n = con.execute("SELECT count(*) FROM records WHERE run_id = 1").fetchone()[0]
    finally:
        con.close()
    return None if n == want["records"] else "%d records in the copy" % n


def export_to(fx, fmt, path):
    """Streams /api/v1/export/FMT?run=1 into path; status, headers,
    bytes, seconds."""
    t0 = time.monotonic()
    conn = http.client.HTTPConnection(fx.host, fx.port, timeout=60 * SLOW)
    try:
        conn.request("GET", "/api/v1/export/%s?run=1" % fmt)
        r = conn.getresponse()
        n = 0
        with open(path, "wb") as f:
            while True:
                chunk = r.read(1 << 16)
                if not chunk:
                    break
                f.write(chunk)
                n += len(chunk)
        return r.status, dict(r.getheaders()), n, time.monotonic() - t0
    finally:
        conn.close()


def formats_checks(fixture, db, tmp, want):
    fx = Fixture(fixture, db)
    try:
        judge = judged(fx.pid)
        for fmt in FORMATS:
            path = os.path.join(tmp, "export." + fmt)
            before = status_kb(fx.pid, "VmRSS")
            reset = reset_peak(fx.pid)
            hwm0 = status_kb(fx.pid, "VmHWM")
            status, headers, n, secs = export_to(fx, fmt, path)
            growth = status_kb(fx.pid, "VmHWM") - (before if reset else hwm0)
            print("  %s: %d records, %d bytes in %.2f s, peak RSS growth %d KiB%s"
                  % (fmt, want["records"], n, secs, growth,
                     "" if judge else " (not judged: valgrind or a sanitizer)"))
            check("%s export of %d records answers 200" % (fmt, want["records"]),
                  status == 200, status)
            if fmt == "sqlite":
                check("the SQLite copy says its length",
                      headers.get("Content-Length") == str(n), headers)
            else:
                check("%s is streamed (chunked, no length)" % fmt,
                      headers.get("Transfer-Encoding") == "chunked"
                      and "Content-Length" not in headers, headers)
            check("%s export holds run 1's records" % fmt,
                  status == 200 and validate(fmt, path, want, tmp) is None,
                  validate(fmt, path, want, tmp) if status == 200 else status)
            if judge:
                check("%s export: the inspector's peak RSS grows by %d KiB < %d KiB"
                      % (fmt, growth, RSS_GROWTH_MAX_KB), growth < RSS_GROWTH_MAX_KB,
                      (before, reset))
            os.unlink(path)
        _, rc, out, err = fx.stop()
        check("the fixture stops cleanly after the exports", rc == 0 and "EXIT 0" in out,
              (exit_status(rc), err[-2000:]))
    finally:
        fx.kill()


# ---- held exports: the limit, and clients that go ----

def held_export(fx, fmt):
    """A client that asks for an export, reads its status line and
    headers, and then reads nothing: the export waits on it."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(30 * SLOW)
    s.connect((fx.host, fx.port))
    s.sendall(("GET /api/v1/export/%s?run=1 HTTP/1.1\r\nHost: %s:%d\r\n\r\n"
               % (fmt, fx.host, fx.port)).encode())
    head = b""
    for _ in range(1000):
        if b"\r\n\r\n" in head:
            break
        b = s.recv(1)
        if not b:
            break
        head += b
    return s, head.split(b"\r\n", 1)[0]


def limit_checks(fixture, db):
    fx = Fixture(fixture, db)
    try:
        a, sa = held_export(fx, "otlp")
        b, sb = held_export(fx, "chrome")
        check("two exports start", sa.endswith(b"200 OK") and sb.endswith(b"200 OK"), (sa, sb))
        check("/metrics counts the two exports held open",
              until(10, lambda: fx.metric("poe_inspector_exports") == 2),
              fx.metric("poe_inspector_exports"))
        status, headers, body = fx.get("/api/v1/export/jsonl?run=1")
        try:
            err = json.loads(body)["error"]
        except (ValueError, KeyError):
            err = {}
        check("a third export is refused with 429, Retry-After and a JSON error",
              status == 429 and headers.get("Retry-After") == "2" and err.get("status") == 429
              and "at most 2" in err.get("message", ""), (status, headers, body[:200]))
        # The clients go: their exports end, and give their slots back.
        t0 = time.monotonic()
        a.close()
        b.close()
        gone = until(10, lambda: fx.metric("poe_inspector_exports") == 0)
        secs = time.monotonic() - t0
        print("  the exports ended %.3f s after their clients went" % secs)
        check("exports whose clients went end within %.0f s" % (STOP_S * SLOW),
              gone and secs < STOP_S * SLOW, (secs, fx.metric("poe_inspector_exports")))
        status, _, _ = fx.get("/api/v1/export/csv?run=1&kind=dispatch")
        check("with them gone an export is answered again", status == 200, status)
        _, rc, out, err = fx.stop()
        check("the fixture stops cleanly after the held exports", rc == 0 and "EXIT 0" in out,
              (exit_status(rc), err[-2000:]))
    finally:
        fx.kill()


# ---- a stop during an export ----

def reading_export(fx, fmt, started, result, resume, path):
    """Reads an export as fast as it comes into path, but for a pause
    after its first block until resume is set (when given); result gets
    whether it ended complete, and the bytes."""
    conn = http.client.HTTPConnection(fx.host, fx.port, timeout=30 * SLOW)
    n = 0
    out = open(path, "wb")
    try:
        conn.request("GET", "/api/v1/export/%s?run=1" % fmt)
        r = conn.getresponse()
        length = r.getheader("Content-Length")
        while True:
            chunk = r.read(1 << 16)
            if not started.is_set():
                started.set()
                if resume:
                    resume.wait(30 * SLOW)
            if not chunk:
                break
            out.write(chunk)
            n += len(chunk)
        # http.client's read(amt) ends quietly when a body with a length
        # is cut; a chunked one raises IncompleteRead.
        result.append(("complete" if length is None or n == int(length) else "cut short", n))
    except (http.client.HTTPException, OSError) as e:
        result.append(("cut: " + type(e).__name__, n))
    finally:
        started.set()
        out.close()
        conn.close()


def stop_checks(fixture, db, tmp, want):
    # A reader that keeps up (the export runs in SQLite and the renderer
    # when the stop comes: otlp and chrome take seconds), one that stalls
    # (the export waits on the client), and the SQLite copy, whose reader
    # pauses after its first block until the stop is sent (its file
    # streams faster than a signal arrives).
    for fmt, stall in (("otlp", False), ("chrome", False), ("jsonl", True), ("sqlite", False)):
        fx = Fixture(fixture, db)
        held = None
        resume = threading.Event() if fmt == "sqlite" else None
        try:
            result, started = [], threading.Event()
            if stall:
                held, line = held_export(fx, fmt)
                ok = line.endswith(b"200 OK")
            else:
                body = os.path.join(tmp, "stopped." + fmt)
                t = threading.Thread(target=reading_export,
                                     args=(fx, fmt, started, result, resume, body))
                t.start()
                ok = started.wait(30 * SLOW) and not result
            # Under valgrind the SQLite copy (2 MB) may be sent whole into
            # the sockets' buffers before the first scrape (see below):
            # then it is counted complete instead.
            def under_way():
                if fx.metric("poe_inspector_exports") == 1:
                    return True
                return fmt == "sqlite" and WRAPPER and (fx.metric(
                    'poe_inspector_exports_ended_total{how="complete"}') or 0) >= 1
            check("a %s export is under way%s" % (fmt, " (its client stalled)" if stall else ""),
                  ok and until(10 * SLOW, under_way), result)
            secs, rc, out, err = fx.stop()
            if resume:
                resume.set()
            print("  %s: SIGTERM to exit %.3f s" % (fmt, secs))
            check("a stop during a %s export%s exits cleanly within %.0f s"
                  % (fmt, " whose client stalled" if stall else "", STOP_S * SLOW),
                  rc == 0 and "EXIT 0" in out and secs < STOP_S * SLOW,
                  (secs, exit_status(rc), err[-2000:]))
            if not stall:
                t.join(30 * SLOW)
            # What must never be is an export cut by the stop that ends
            # as if complete.  Which of the two a reader that keeps up
            # gets depends on whether the export had finished when the
            # stop reached its thread, a race with the machine's load
            # (otlp and chrome take seconds on a quiet machine, and the
            # kernel's thread may be starved of the stop): so a body
            # that ends complete must be the whole export, checked like
            # the formats' own; one that does not must read as cut.
            # The stalled jsonl export is always cut.
            if not stall and result and result[0][0] == "complete":
                print("  %s: the export ended before the stop reached it" % fmt)
                bad = validate(fmt, body, want, tmp)
                check("the %s export that ended before the stop is whole" % fmt,
                      bad is None, (bad, result))
            elif not stall:
                check("the stopped %s export is cut, not ended as if complete" % fmt,
                      result and result[0][0].startswith("cut"), result)
        finally:
            if held:
                held.close()
            fx.kill()


def main():
    if len(sys.argv) != 3:
        print("usage: test_export.py FIXTURE MAKE_LOG", file=sys.stderr)
        return 2
    fixture, make_log = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "trace.db")
        # A helper, not the program under test: run natively.
        done = subprocess.run([make_log, db, str(RECORDS)], capture_output=True, text=True,
                              timeout=600)
        if not check("make-log wrote a log of %d records" % RECORDS, done.returncode == 0,
                     done.stderr[-2000:]):
            return 1
        want = expected(db)
        print("  run 1: %(records)d records, %(dispatches)d dispatches" % want)
        formats_checks(fixture, db, tmp, want)
        limit_checks(fixture, db)
        stop_checks(fixture, db, tmp, want)
    failed = results.count(False)
    print("%d passed, %d failed" % (results.count(True), failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
