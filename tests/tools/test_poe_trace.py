#!/usr/bin/env python3
"""poe-trace against a real trace log.

Runs the inspector fixture until its trace log holds records, stops it,
then runs every poe-trace command over the log and checks the outputs,
that the filters narrow them, the times in text output (local with its
offset, --utc), --last, and the error cases (one line and a hint); then
follows a log the fixture is writing (--follow), into the next run.

    test_poe_trace.py POE_TRACE FIXTURE
"""
import csv
import hashlib
import io
import json
import os
import queue
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, run as run_wrapped, status as exit_status  # noqa: E402

TOOL, FIXTURE = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail), flush=True)


def run(*args, env=None):
    p = run_wrapped([TOOL] + list(args), 60, capture_output=True, env=env)
    err = p.stderr.decode(errors="replace")
    # poe-trace exits 0, 1 or 2; a memcheck report (99) or a sanitizer's
    # abort is a failure of its own, with the report in the detail.
    if p.returncode not in (0, 1, 2):
        check("poe-trace %s" % " ".join(map(str, args)), False,
              "%s\n%s" % (exit_status(p.returncode), err))
    return p.returncode, p.stdout, err


def count_records(db):
    try:
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=1)
        try:
            return con.execute("SELECT count(*) FROM records").fetchone()[0]
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def make_log(tmp):
    db = os.path.join(tmp, "trace.db")
    fx = popen([FIXTURE, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        # Records and several sessions: the fixture's tree starts at once,
        # its ticker adds records every 50 ms.
        deadline = time.monotonic() + 20 * SLOW
        while time.monotonic() < deadline and count_records(db) < 100:
            time.sleep(0.1)
    finally:
        fx.send_signal(signal.SIGTERM)
        try:
            _, err = fx.communicate(timeout=20 * SLOW)
        except subprocess.TimeoutExpired:
            fx.kill()
            _, err = fx.communicate()
    # The fixture handles TERM and exits 0; anything else (a memcheck
    # report's 99, a sanitizer's abort) is a failure of its own.
    check("fixture stops cleanly on TERM", fx.returncode == 0,
          "%s\n%s" % (exit_status(fx.returncode), err.decode(errors="replace")[-4000:]))
    return db


def jsonl(out):
    return [json.loads(l) for l in out.decode().splitlines() if l.strip()]


# What poe-trace printed for trace-v2.sql before issue 14 changed the
# schema (libpoe 0.1.0's text columns), by command: a log written then
# must read the same, byte for byte.  The Chrome trace's closing
# otherData gained "unpaired" (issue 15: what the export could not pair);
# everything before it is the bytes it always was.  The OTLP export is one
# trace per causal chain since issue 19 (47 spans in 11 traces, not one),
# with the telemetry.sdk.* resource attributes.  Issue 19 also gave the
# Chrome trace's posts made outside any handler a slice of their own for
# their arrows to start in, and left out fields that said nothing (an
# instant's default scope, null event_id and message, sender 0,
# "returned" when true): the same events otherwise, each field the value
# it had, timestamps now exact.
# Text records gained each record's time in front (issue 21): with it
# cut off, the text is what it was.
V2_TEXT_DIGEST = "c2a978ecd64d2278fb97cb6b1911a14eeb1cc68dcd98215869e0c123cb5e20b6"
V2_DIGESTS = {
    ("records", "--format", "jsonl"):
        "7c8681901ea5d3f14af396cb1696e262af03c231921d1a350f6ef587916f31f0",
    ("export", "--format", "csv"):
        "8651a7fbf5854bd5e0cf3a6d84403de8e5c4280c5f198ae03a6e00b934c4e34b",
    ("export", "--format", "chrome"):
        "06c7ed1c8a3e5d2f4aa54b2eee91feb72543d9d03d46342ee481b1416c30ead0",
    ("export", "--format", "otlp"):
        "42dbf4e95f2632826bcad8a970b014c0ebf5e30838b1e5502d969d56e0085cfb",
    ("runs", "--format", "jsonl"):
        "90f5cf51227c808e60caf02838c7646b18d789e15accd2c55fa4c5fec18c1097",
    ("sessions", "--format", "jsonl"):
        "d9190d1fd8159926cac0719a746c06ed35c0e74b9b2a60f91ed0396be52e1714",
}


def old_logs(tmp):
    """Logs written before the binary schema: version 2 (trace-v2.sql, a
    real log's dump) and version 1 (the same without event_id) are read
    through poe-trace's compatibility path, and give what they gave."""
    sql = open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                            "trace-v2.sql")).read()
    v2 = os.path.join(tmp, "v2.db")
    con = sqlite3.connect(v2)
    con.executescript(sql)
    con.close()
    digest = hashlib.sha256(open(v2, "rb").read()).hexdigest()
    for args, want in V2_DIGESTS.items():
        rc, out, err = run(args[0], v2, *args[1:])
        got = hashlib.sha256(out).hexdigest()
        check("v2 %s" % " ".join(args), rc == 0 and got == want,
              "%s %s\n%s" % (rc, err, out.decode(errors="replace")[:600]))
    rc, out, err = run("records", v2, "--format", "jsonl")
    recs = jsonl(out)
    # A record's message may hold a newline: its time is on its first line.
    stamp_re = r"(?m)^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(?:Z|[+-]\d\d:\d\d)) (?==== )"
    rc, text, err = run("records", v2, "--utc")
    stamps = re.findall(stamp_re, text.decode())
    bare = re.sub(stamp_re, "", text.decode()).encode()
    check("v2 records: the old text after the time",
          rc == 0 and hashlib.sha256(bare).hexdigest() == V2_TEXT_DIGEST, (rc, err, text[:300]))
    want = [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(r["wall"])))
            + ".%06dZ" % int((r["wall"] - int(r["wall"])) * 1e6) for r in recs]
    check("v2 records --utc: each record's wall time, ISO 8601, to the microsecond",
          len(stamps) == len(recs) and stamps == want, (stamps[:2], want[:2]))
    # Local time with its offset: a zone 5:30 east of UTC (POSIX TZ, no
    # tzdata needed), and one west of it.
    for tz, offset, shift in (("IST-5:30", "+05:30", 19800), ("XST8", "-08:00", -28800)):
        rc, text, err = run("records", v2, env=dict(os.environ, TZ=tz))
        stamps = re.findall(stamp_re, text.decode())
        want = [time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(r["wall"]) + shift))
                + ".%06d%s" % (int((r["wall"] - int(r["wall"])) * 1e6), offset) for r in recs]
        check("v2 records in TZ=%s: local time with its offset" % tz,
              rc == 0 and stamps == want, (rc, err, stamps[:2], want[:2]))
        rc, text, err = run("runs", v2, env=dict(os.environ, TZ=tz))
        lines = text.decode().splitlines()
        check("v2 runs in TZ=%s: local start time" % tz,
              rc == 0 and len(lines) > 1 and lines[1].split()[2].endswith(offset), lines)
    rc, text, err = run("sessions", v2, "--utc")
    lines = text.decode().splitlines()
    check("v2 sessions --utc", rc == 0 and len(lines) > 1
          and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", lines[1].split()[1]),
          lines[:2])
    kinds = {r["kind"] for r in recs}
    check("v2 every kind", len(kinds) >= 24, sorted(kinds))
    # Filters select what they say, as on a new log.
    for flt, pred in ((("--kind", "dispatch"), lambda r: r["kind"] == "dispatch"),
                      (("--event", "tick"), lambda r: r["event"] == "tick"),
                      (("--group", "signals,files"),
                       lambda r: r["group"] in ("TRACE_SIGNALS", "TRACE_FILES")),
                      (("--session", "2"), lambda r: r["session"] == 2)):
        rc, out, err = run("records", v2, "--format", "jsonl", *flt)
        want = [r for r in recs if pred(r)]
        check("v2 records %s" % (flt,), rc == 0 and want and jsonl(out) == want,
              (rc, err, len(jsonl(out)), len(want)))
    check("v2 log unchanged", hashlib.sha256(open(v2, "rb").read()).hexdigest() == digest)

    v1 = os.path.join(tmp, "v1.db")
    con = sqlite3.connect(v1)
    con.executescript(sql)
    con.executescript("DROP INDEX records_run_event_id;"
                      "ALTER TABLE records DROP COLUMN event_id;"
                      "PRAGMA user_version = 1;")
    con.close()
    rc, out, err = run("records", v1, "--format", "jsonl")
    want = [dict(r, event_id=None) for r in recs]
    check("v1 records", rc == 0 and jsonl(out) == want, (rc, err, out[:300]))
    rc, out, err = run("export", v1, "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.decode(), newline="")))
    check("v1 csv", rc == 0 and len(rows) == len(recs) + 1, (rc, err, len(rows)))
    rc, out, err = run("export", v1, "--format", "chrome")
    check("v1 chrome", rc == 0 and json.loads(out).get("traceEvents"), (rc, err))


def lines_of(proc):
    """A queue of proc's stdout lines (None at its end), read by a thread:
    a reader that waits for a line with a deadline."""
    q = queue.Queue()

    def pump():
        for line in proc.stdout:
            q.put(line)
        q.put(None)
    threading.Thread(target=pump, daemon=True).start()
    return q


def read_until(q, seconds, done):
    """Lines from q until done(lines) holds or the deadline passes."""
    got = []
    end = time.monotonic() + seconds * SLOW
    while not done(got):
        left = end - time.monotonic()
        if left <= 0:
            break
        try:
            line = q.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        got.append(line)
    return got


def start_fixture(db):
    return popen([FIXTURE, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def stop(proc, name):
    proc.send_signal(signal.SIGINT if name == "poe-trace" else signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=20 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    check("%s stops cleanly on its signal" % name, proc.returncode == 0,
          "%s\n%s" % (exit_status(proc.returncode), err.decode(errors="replace")[-2000:]))


def db_records(db, lo, hi):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=5)
    try:
        return [r[0] for r in con.execute(
            "SELECT id FROM records WHERE id BETWEEN ? AND ? ORDER BY id", (lo, hi))]
    finally:
        con.close()


def follow(tmp):
    """--follow on a log the fixture is writing: every record committed
    after it started, once each and in order, as they come; a filter holds;
    the next run (the program started again) is followed too; SIGINT ends
    it with status 0."""
    db = os.path.join(tmp, "live.db")
    fx = start_fixture(db)
    tails = []
    try:
        deadline = time.monotonic() + 20 * SLOW
        while time.monotonic() < deadline and count_records(db) < 20:
            time.sleep(0.05)
        before = db_records(db, 0, 1 << 62)
        check("the fixture is writing", len(before) >= 20, len(before))
        everything = popen([TOOL, "records", db, "--follow", "--last", "0", "--format", "jsonl"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        tails.append(everything)
        dispatches = popen([TOOL, "records", db, "-f", "--kind", "dispatch", "--last", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        tails.append(dispatches)
        q_all, q_disp = lines_of(everything), lines_of(dispatches)
        got = [json.loads(l) for l in read_until(q_all, 20, lambda g: len(g) >= 60)]
        check("--follow: new records come as they are written", len(got) >= 60, len(got))
        ids = [r["id"] for r in got]
        check("--follow --last 0: only records written after it started",
              ids and ids[0] > before[-1], (ids[:3], before[-1]))
        check("--follow: each record once, in order, none missing",
              ids and ids == db_records(db, ids[0], ids[-1]), ids[:10])
        text = read_until(q_disp, 20, lambda g: len(g) >= 6)
        check("--follow --kind dispatch: text lines of dispatches only",
              len(text) >= 6 and all(re.match(r"^\S+ === \d+ === <ev> dispatching ", l.decode())
                                     for l in text), text[:6])
        stop(fx, "the fixture")
        # The program starts again: a new run in the same log.
        fx = start_fixture(db)
        got = [json.loads(l) for l in read_until(q_all, 30, lambda g: g and
                                                 json.loads(g[-1])["run"] == 2)]
        check("--follow moves on to the next run", got and got[-1]["run"] == 2,
              [r["run"] for r in got][-5:])
        t0 = time.monotonic()
        stop(everything, "poe-trace")
        check("SIGINT ends --follow at once (%.3f s)" % (time.monotonic() - t0),
              time.monotonic() - t0 < 2 * SLOW)
        stop(dispatches, "poe-trace")
        stop(fx, "the fixture")
    finally:
        for p in tails + [fx]:
            if p.poll() is None:
                p.kill()
                p.wait()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        old_logs(tmp)
        db = make_log(tmp)
        check("fixture wrote records", count_records(db) >= 100, str(count_records(db)))
        digest = hashlib.sha256(open(db, "rb").read()).hexdigest()

        # runs
        rc, out, err = run("runs", db)
        lines = out.decode().splitlines()
        check("runs exit 0", rc == 0, err)
        check("runs header", lines and lines[0].split()[:3] == ["ID", "PID", "STARTED"], lines)
        check("runs one run", len(lines) == 2, lines)
        fields = lines[1].split() if len(lines) > 1 else []
        pid = fields[1] if len(fields) > 1 else "?"
        check("runs ISO time", len(fields) > 2 and fields[2][4] == "-" and "T" in fields[2],
              fields)
        rc, out, err = run("runs", db, "--format", "jsonl")
        runs = jsonl(out)
        check("runs jsonl", rc == 0 and len(runs) == 1 and runs[0]["id"] == 1, out)
        total = runs[0]["records"] if runs else -1

        # sessions
        rc, out, err = run("sessions", db)
        lines = out.decode().splitlines()
        check("sessions exit 0", rc == 0, err)
        check("sessions several", len(lines) >= 3, lines)
        rc, out, err = run("sessions", db, "--run", "1", "--format", "jsonl")
        sess = jsonl(out)
        check("sessions jsonl", rc == 0 and sess and all("first_seen" in s for s in sess))
        check("sessions records add up", sum(s["records"] for s in sess) <= total,
              (sess, total))
        check("sessions match text", len(sess) == len(lines) - 1)

        # records, text
        rc, out, err = run("records", db)
        text = out.decode().splitlines()
        check("records exit 0", rc == 0, err)
        check("records all", len(text) == total, (len(text), total))
        check("records: the time, then POE's lines",
              all(re.match(r"^\S+ === %s === <" % pid, l) for l in text), text[:3])
        rc, out, err = run("records", db, "--limit", "5")
        check("records --limit", rc == 0 and len(out.decode().splitlines()) == 5)
        rc, out, err = run("records", db, "--last", "7")
        check("records --last 7: the last 7 lines", rc == 0 and out.decode().splitlines()
              == text[-7:], (rc, err, out[:300]))
        rc, out, err = run("records", db, "--last", "0")
        check("records --last 0: none", rc == 0 and out == b"", (rc, err, out[:300]))
        rc, out, err = run("records", db, "--last", str(total + 50))
        check("records --last more than there are: all",
              rc == 0 and out.decode().splitlines() == text, (rc, err))

        # records, jsonl
        rc, out, err = run("records", db, "--format", "jsonl")
        recs = jsonl(out)
        check("records jsonl", rc == 0 and len(recs) == total, (rc, len(recs), total))
        keys = {"id", "run", "mono_ns", "wall", "group", "prefix", "kind", "session", "event",
                "sender", "refcount", "queue", "message", "event_id"}
        check("records jsonl fields", recs and set(recs[0]) == keys, recs[:1])
        check("records id order", [r["id"] for r in recs] == sorted(r["id"] for r in recs))
        rc, exp, err = run("export", db, "--format", "jsonl")
        check("export jsonl = records jsonl", rc == 0 and exp == out, err)

        # filters narrow
        def sel(*f):
            rc, out, err = run("records", db, "--format", "jsonl", *f)
            check("records %s" % (f,), rc == 0, err)
            return jsonl(out)

        sid = max(sess, key=lambda s: s["records"])["session"]
        by_s = sel("--session", sid)
        check("--session", by_s and len(by_s) < total and all(r["session"] == sid for r in by_s))
        by_g = sel("--group", "events")
        check("--group", by_g and len(by_g) < total
              and all(r["group"] == "TRACE_EVENTS" for r in by_g))
        by_g2 = sel("--group", "TRACE_EVENTS,files")
        check("--group list", len(by_g2) >= len(by_g)
              and {r["group"] for r in by_g2} <= {"TRACE_EVENTS", "TRACE_FILES"})
        by_k = sel("--kind", "dispatch")
        check("--kind", by_k and all(r["kind"] == "dispatch" for r in by_k))
        by_e = sel("--event", "tick")
        check("--event", by_e and len(by_e) < total and all(r["event"] == "tick" for r in by_e))
        mid = recs[len(recs) // 2]["wall"]
        since = sel("--since", "%.6f" % mid)
        until = sel("--until", "%.6f" % mid)
        check("--since", since and len(since) < total and all(r["wall"] >= mid - 1e-6
                                                             for r in since))
        check("--until", until and len(until) < total and all(r["wall"] <= mid + 1e-6
                                                             for r in until))
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(recs[0]["wall"] - 3600))
        check("--since ISO", len(sel("--since", iso)) == total)
        check("--until ISO past", sel("--until", "2000-01-01T00:00:00Z") == [])
        check("--run 1", len(sel("--run", "1")) == total)
        both = sel("--kind", "dispatch", "--event", "tick")
        check("filters combine", both and len(both) <= min(len(by_k), len(by_e)))
        for f, full in ((("--session", sid), by_s), (("--group", "events"), by_g),
                        (("--kind", "dispatch", "--event", "tick"), both)):
            last = sel("--last", "3", *f)
            check("--last 3 %s: the selection's last 3, oldest first" % (f,),
                  last == full[-3:], (last, full[-3:]))

        # exports
        for f in (("--kind", "dispatch"), ("--group", "events"), ()):
            n = len(sel(*f))
            rc, out, err = run("export", db, "--format", "csv", *f)
            rows = list(csv.reader(io.StringIO(out.decode(), newline="")))
            check("csv exit 0 %s" % (f,), rc == 0, err)
            check("csv header %s" % (f,), rows and rows[0][:3] == ["id", "run", "mono_ns"]
                  and rows[0][-1] == "event_id", rows[:1])
            check("csv rows %s" % (f,), len(rows) - 1 == n, (len(rows) - 1, n))
        rc, out, err = run("export", db, "--format", "chrome")
        try:
            chrome = json.loads(out)
        except ValueError:
            chrome = {}
        check("chrome", rc == 0 and isinstance(chrome.get("traceEvents"), list)
              and len(chrome["traceEvents"]) > 0, err)
        check("chrome dispatches", any(e.get("ph") == "X" for e in chrome.get("traceEvents", [])))
        rc, out, err = run("export", db, "--format", "otlp")
        try:
            otlp = jsonl(out)
        except ValueError:
            otlp = []
        check("otlp", rc == 0 and otlp and all("resourceSpans" in o for o in otlp), err)
        outfile = os.path.join(tmp, "out.csv")
        rc, _, err = run("export", db, "--format", "csv", "-o", outfile)
        rc2, out, _ = run("export", db, "--format", "csv")
        check("export -o", rc == 0 and open(outfile, "rb").read() == out, err)

        # the log is read, never written
        rc, out, err = run("runs", db, "--format", "jsonl")
        check("no run added", len(jsonl(out)) == 1)
        check("db unchanged", hashlib.sha256(open(db, "rb").read()).hexdigest() == digest)

        # errors
        missing = os.path.join(tmp, "missing.db")
        rc, out, err = run("records", missing)
        check("missing exit 1", rc == 1, rc)
        check("missing message", err.strip() == "poe-trace: %s: No such file or directory"
              % missing, err)
        check("missing not created", not os.path.exists(missing))
        text_file = os.path.join(tmp, "notes.txt")
        with open(text_file, "w") as f:
            f.write("not a database, just some text\n" * 50)
        rc, out, err = run("runs", text_file)
        check("text file exit 1", rc == 1 and "not a SQLite database" in err, (rc, err))
        foreign = os.path.join(tmp, "foreign.db")
        con = sqlite3.connect(foreign)
        con.execute("CREATE TABLE runs(id INTEGER PRIMARY KEY, name TEXT)")
        con.execute("INSERT INTO runs(name) VALUES ('x')")
        con.commit()
        con.close()
        before = open(foreign, "rb").read()
        rc, out, err = run("records", foreign)
        check("foreign exit 1", rc == 1 and "not a libpoe trace log" in err, (rc, err))
        check("foreign unchanged", open(foreign, "rb").read() == before)
        rc, out, err = run("records", db, "--run", "42")
        check("unknown run exit 1", rc == 1 and "no run 42" in err, (rc, err))
        for bad in (["records", db, "--bogus"], ["records", db, "--limit", "x"],
                    ["records", db, "--format", "csv"], ["export", db],
                    ["export", db, "--format", "xml"], ["runs", db, "--run", "1"],
                    ["records", db, "--group", "nope"], ["records", db, "--since", "soon"],
                    ["records", db, "--session", "-1"], ["records"], ["frobnicate", db],
                    ["records", db, "extra"], ["records", db, "--limit"], ["records", db, "-x"],
                    ["records", db, "--last", "-1"], ["records", db, "--last", "2", "--limit", "2"],
                    ["records", db, "--follow", "--limit", "2"], ["export", db, "--last", "2"],
                    ["runs", db, "--follow"], ["export", db, "--format", "csv", "--utc"]):
            rc, out, err = run(*bad)
            lines = err.splitlines()
            check("bad %s: exit 2, one line and a hint" % bad[2:],
                  rc == 2 and len(lines) == 2 and lines[0].startswith("poe-trace: ")
                  and lines[1] == "Try `poe-trace --help' for more information.", (bad, rc, err))
        rc, out, err = run("--help")
        check("--help", rc == 0 and b"Usage:" in out)

        follow(tmp)

    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
