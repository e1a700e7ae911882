#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora into fuzz/corpus/<target>/.

Each seed is a well-formed input in its target's layout (see the comment
at the top of each fuzz-*.c), one per endpoint, parameter or variable
worth starting from.  The trace-db seeds are trace logs the library
wrote (MAKE_LOG: the replay-make-log program of a build) and variants
of them: another schema version, not a trace log, missing tables,
columns of other types, a cut file.

    fuzz/seeds.py BUILD_DIR      (BUILD_DIR/fuzz/make-log must exist)
"""
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data)


def field(b):
    if isinstance(b, str):
        b = b.encode()
    assert len(b) < 256
    return bytes([len(b)]) + b


# ---- fuzz-http ----

ENDPOINTS = [
    "/", "/index.html", "/app.js", "/style.css", "/views/", "/no-such-file.png",
    "/../meson.build", "/metrics", "/api/", "/api/v2/kernel", "/api/v1/", "/api/v1/kernel",
    "/api/v1/sessions", "/api/v1/sessions/", "/api/v1/sessions/1", "/api/v1/sessions/2/reasons",
    "/api/v1/sessions/0", "/api/v1/sessions/18446744073709551615", "/api/v1/why",
    "/api/v1/tree", "/api/v1/queue", "/api/v1/timers", "/api/v1/watchers", "/api/v1/signals",
    "/api/v1/aliases", "/api/v1/extrefs", "/api/v1/trace", "/api/v1/trace/tail",
    "/api/v1/trace/runs", "/api/v1/trace/groups", "/api/v1/export/jsonl", "/api/v1/export/csv",
    "/api/v1/export/chrome", "/api/v1/export/otlp", "/api/v1/export/sqlite", "/api/v1/export/",
    "/api/v1/sessions/1/signal", "/api/v1/sessions/3/signal", "/api/v1/sessions/0/signal",
]
KEYS = ["limit", "offset", "q", "parent", "session", "root", "depth", "items", "type", "signal",
        "since", "until", "group", "event", "kind", "after", "run", "order", "wait"]
METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS"]


def http(method, ep, params=(), path=b"", host=0, auth=0, body=None, raw_path=False,
         http10=False, raw_host=None, raw_auth=None, raw_method=None):
    flags = host | (auth << 2) | (0x10 if body is not None else 0) | (0x20 if raw_path else 0)
    flags |= 0x40 if http10 else 0
    out = bytes([6 if raw_method else METHODS.index(method), flags, ENDPOINTS.index(ep)])
    if raw_method:
        out += field(raw_method)
    out += field(path)
    out += bytes([len(params)])
    for k, v in params:
        out += bytes([KEYS.index(k)]) + field(v)
    if body is not None:
        out += field(body)
    if host == 3:
        out += field(raw_host or "")
    if auth == 3:
        out += field(raw_auth or "")
    return out


def http_seeds():
    for ep in ENDPOINTS:
        write("http", http("GET", ep))
    s = [
        http("HEAD", "/"), http("HEAD", "/api/v1/kernel"), http("POST", "/api/v1/kernel"),
        http("GET", "/api/v1/sessions", [("q", "leaf"), ("limit", "2"), ("offset", "1")]),
        http("GET", "/api/v1/sessions", [("parent", "1"), ("q", "2")]),
        http("GET", "/api/v1/sessions", [("limit", "abc")]),
        http("GET", "/api/v1/sessions", [("offset", "-1")]),
        http("GET", "/api/v1/tree", [("depth", "1"), ("root", "1")]),
        http("GET", "/api/v1/tree", [("depth", "0")]),
        http("GET", "/api/v1/why", [("items", "2")]),
        http("GET", "/api/v1/queue", [("type", "post"), ("session", "1")]),
        http("GET", "/api/v1/timers", [("session", "2"), ("limit", "1")]),
        http("GET", "/api/v1/signals", [("signal", "TERM")]),
        http("GET", "/api/v1/aliases", [("q", "ro")]),
        http("GET", "/api/v1/extrefs", [("session", "x")]),
        http("GET", "/api/v1/sessions/", path=b"1/reasons"),
        http("GET", "/api/v1/sessions/", path=b"12a"),
        http("GET", "/api/v1/trace", [("group", "events,sessions"), ("limit", "5"),
                                      ("order", "desc")]),
        http("GET", "/api/v1/trace", [("session", "1"), ("event", "tick"), ("kind", "dispatch")]),
        http("GET", "/api/v1/trace", [("since", "0"), ("until", "9999999999"), ("run", "1"),
                                      ("after", "3")]),
        http("GET", "/api/v1/trace", [("group", "nope")]),
        http("GET", "/api/v1/trace", [("order", "up")]),
        http("GET", "/api/v1/trace/tail", [("after", "0"), ("wait", "0")]),
        http("GET", "/api/v1/trace/tail"),
        http("GET", "/api/v1/export/csv", [("group", "TRACE_EVENTS"), ("session", "1")]),
        http("GET", "/api/v1/export/chrome", [("since", "1")]),
        http("GET", "/api/v1/export/", path=b"xml"),
        http("PUT", "/api/v1/trace/groups", auth=1, body=b'{"TRACE_EVENTS": true}'),
        http("PUT", "/api/v1/trace/groups", auth=1, body=b'{"ASSERT_DATA": true}'),
        http("PUT", "/api/v1/trace/groups", auth=1, body=b'[1,2'),
        http("PUT", "/api/v1/trace/groups", body=b'{"TRACE_EVENTS": false}'),
        http("PUT", "/api/v1/trace/groups", auth=2, body=b'{}'),
        http("POST", "/api/v1/sessions/1/signal", auth=1, body=b'{"signal": "USR1"}'),
        http("POST", "/api/v1/sessions/3/signal", auth=1, body=b'{"signal": "ZOMBIE"}'),
        http("POST", "/api/v1/sessions/0/signal", auth=1, body=b'{"signal": ""}'),
        http("POST", "/api/v1/sessions/1/signal", auth=3, raw_auth="Bearer fuzz-token",
             body=b'{"signal": "HUP"}'),
        http("GET", "/api/v1/kernel", host=2),
        http("GET", "/api/v1/kernel", host=3, raw_host="evil.example:80"),
        http("GET", "/api/v1/kernel", host=1),
        http("GET", "/api/v1/kernel", http10=True),
        http("GET", "/", path=b"%2e%2e/etc/passwd", raw_path=True),
        http("GET", "/api/v1/kernel", raw_method="PATCH"),
    ]
    for x in s:
        write("http", x)


# ---- fuzz-env ----

VARS = ["POE_TRACE_DEFAULT", "POE_ASSERT_DEFAULT", "POE_TRACE_EVENTS", "POE_TRACE_FILES",
        "POE_TRACE_REFCNT", "POE_TRACE_RETVALS", "POE_TRACE_SESSIONS", "POE_TRACE_SIGNALS",
        "POE_TRACE_DESTROY", "POE_TRACE_PROFILE", "POE_ASSERT_DATA", "POE_ASSERT_EVENTS",
        "POE_ASSERT_FILES", "POE_ASSERT_RETVALS", "POE_ASSERT_USAGE", "POE_ASSERT_STATES",
        "POE_TRACE_FILENAME", "POE_CATCH_EXCEPTIONS", "POE_USE_SIGCHLD", "POE_USE_SIGNAL_PIPE",
        "POE_CHILD_POLLING_INTERVAL", "POE_EVENT_LOOP", "POE_INSPECTOR", "POE_INSPECTOR_REMOTE",
        "POE_INSPECTOR_TOKEN", "POE_TRACE_DB"]


def env(pairs, group="", on=0):
    out = bytes([len(pairs)])
    for k, v in pairs:
        out += bytes([VARS.index(k)]) + field(v)
    return out + field(group) + bytes([on])


def env_seeds():
    s = [
        env([]),
        env([("POE_TRACE_DEFAULT", "1")], on=4),
        env([("POE_ASSERT_DEFAULT", "1"), ("POE_ASSERT_DATA", "0")], on=4),
        env([("POE_TRACE_DEFAULT", "yes"), ("POE_TRACE_EVENTS", "0.0")], on=4),
        env([("POE_TRACE_EVENTS", "1"), ("POE_TRACE_FILENAME", "out.txt")], on=4),
        env([("POE_TRACE_SESSIONS", "1"), ("POE_TRACE_FILENAME", "!missing")], on=4),
        env([("POE_TRACE_REFCNT", "a b"), ("POE_TRACE_SIGNALS", "-1")]),
        env([("POE_EVENT_LOOP", "poll")], on=4),
        env([("POE_EVENT_LOOP", "select")], on=4),
        env([("POE_EVENT_LOOP", "kqueue")]),
        env([("POE_CHILD_POLLING_INTERVAL", "0.5")]),
        env([("POE_CHILD_POLLING_INTERVAL", "abc")]),
        env([("POE_CHILD_POLLING_INTERVAL", "1e9")]),
        env([("POE_USE_SIGNAL_PIPE", "0"), ("POE_USE_SIGCHLD", "0"),
             ("POE_CATCH_EXCEPTIONS", "0")], on=4),
        env([("POE_INSPECTOR", "127.0.0.1:0"), ("POE_INSPECTOR_TOKEN", "t"),
             ("POE_TRACE_DB", "t.db")], on=6),
        env([("POE_INSPECTOR", "[::1]:0"), ("POE_TRACE_DB", "")], on=2),
        env([("POE_INSPECTOR", "localhost:0")], on=2),
        env([("POE_INSPECTOR", "0.0.0.0:0"), ("POE_INSPECTOR_REMOTE", "1")], on=2),
        env([("POE_INSPECTOR", "[::1]")], on=2),
        env([("POE_INSPECTOR", "1.2.3.4:99999")], on=2),
        env([], group="TRACE_EVENTS", on=5),
        env([], group="poe_assert_data", on=1),
        env([], group="POE_TRACE_DESTROY", on=1),
        env([], group="ASSERT_STATES", on=0),
    ]
    for x in s:
        write("env", x)


# ---- fuzz-trace-query ----

QKEYS = ["since", "until", "session", "group", "event", "kind", "after", "run", "offset",
         "limit", "order"]


def query(params, pick=0):
    out = bytes([len(params)])
    for k, v in params:
        out += bytes([QKEYS.index(k)]) + field(v)
    return out + bytes([pick])


def query_seeds():
    s = [
        query([]), query([], 0x5f),
        query([("group", "events, TRACE_SESSIONS"), ("limit", "3")], 0x01),
        query([("group", "POE_TRACE_SIGNALS,files")], 0x02),
        query([("group", ",")]),
        query([("session", "1"), ("order", "desc")], 0x04),
        query([("session", "-1")]),
        query([("event", "tick"), ("kind", "dispatch")], 0x08),
        query([("event", "evt,\"quoted\"\nline")], 0x03),
        query([("kind", "enqueue")], 0x0c),
        query([("since", "1"), ("until", "99999999999")], 0x01),
        query([("since", "nan")]),
        query([("until", "1e400")]),
        query([("after", "10"), ("run", "1")], 0x10),
        query([("run", "2"), ("offset", "5"), ("limit", "1000")], 0x40),
        query([("offset", "9223372036854775807")]),
        query([("limit", "0")]),
        query([("order", "asc")]),
        query([("event", "xml")], 0x80),
    ]
    for x in s:
        write("trace-query", x)


# ---- fuzz-trace-db ----

def shrink(path):
    """The same log in 512-byte pages: small seeds mutate faster."""
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode = DELETE")
    con.execute("PRAGMA page_size = 512")
    con.execute("VACUUM")
    con.close()


def variant(base, tmp, name, sql=None, version=None, app=None, cut=None):
    p = os.path.join(tmp, name + ".db")
    shutil.copy(base, p)
    if sql or version is not None or app is not None:
        con = sqlite3.connect(p)
        if sql:
            con.executescript(sql)
        if version is not None:
            con.execute("PRAGMA user_version = %d" % version)
        if app is not None:
            con.execute("PRAGMA application_id = %d" % app)
        con.commit()
        con.execute("VACUUM")
        con.close()
    data = open(p, "rb").read()
    if cut:
        data = data[:cut]
    write("trace-db", data)


def db_seeds(build):
    make_log = os.path.join(build, "fuzz", "make-log")
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base.db")
        subprocess.run([make_log, base, "8"], check=True)
        shrink(base)
        variant(base, tmp, "sound")
        two = os.path.join(tmp, "two.db")
        subprocess.run([make_log, two, "3"], check=True)
        subprocess.run([make_log, two, "2"], check=True)
        shrink(two)
        variant(two, tmp, "two-runs")
        variant(base, tmp, "v1", version=1)
        variant(base, tmp, "v99", version=99)
        variant(base, tmp, "other-app", app=7)
        variant(base, tmp, "no-records", "DROP TABLE records;")
        variant(base, tmp, "no-runs", "DROP TABLE runs;")
        variant(base, tmp, "no-sessions", "DROP TABLE sessions; DROP TABLE drops;")
        variant(base, tmp, "empty-runs", "DELETE FROM runs;")
        variant(base, tmp, "text-columns",
                "CREATE TABLE r2 AS SELECT * FROM records; DROP TABLE records;"
                "CREATE TABLE records(id TEXT, run_id TEXT, mono_ns TEXT, wall TEXT, grp BLOB,"
                " prefix BLOB, kind INT, session TEXT, event BLOB, sender TEXT, refcount REAL,"
                " queue TEXT, message BLOB, event_id TEXT);"
                "INSERT INTO records SELECT * FROM r2; DROP TABLE r2;"
                "UPDATE records SET wall = 'yesterday', session = x'ff00', event = x'c3' "
                " WHERE id % 3 = 0;"
                "UPDATE records SET mono_ns = 1e300, event_id = -1 WHERE id % 3 = 1;")
        variant(base, tmp, "odd-runs",
                "UPDATE runs SET started = 1e300, pid = -5, kernel_id = NULL, poe_version = 7;"
                "INSERT INTO runs(id, pid, started) VALUES (9223372036854775807, 1, -1);")
        variant(base, tmp, "odd-sessions",
                "UPDATE sessions SET first_seen = 'x', last_seen = 1e308, session_id = -session_id - 1;")
        variant(base, tmp, "cut", cut=1024)
    write("trace-db", b"")
    write("trace-db", b"SQLite format 3\x00 not really")
    write("trace-db", b"id,run\n1,2\n")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    http_seeds()
    env_seeds()
    query_seeds()
    db_seeds(sys.argv[1])


main()
