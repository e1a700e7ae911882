#!/usr/bin/env python3
"""The inspector over real HTTP: starts tests/inspector/fixture (a kernel
with a known population and an inspector on a free port), talks to it with
urllib, checks every endpoint, the errors, the trace log and its exports,
the busy answer of a stuck kernel, and a clean shutdown.

    test_http.py FIXTURE

Prints one line per check and closes with "N passed, N failed".  Every
wait polls with a deadline; nothing sleeps to wait.
"""
import csv
import io
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, promtool_check, run as run_wrapped  # noqa: E402
from testutil import status as exit_status  # noqa: E402

TOKEN = "sekrit-token"
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    return cond


def request(url, method="GET", body=None, token=None, timeout=10 * SLOW):
    data = json.dumps(body).encode() if body is not None and not isinstance(body, bytes) else body
    req = urllib.request.Request(url, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            got = r.status, r.headers, r.read()
        # Every scrape a test makes passes Prometheus' own linter.
        if method == "GET" and url.endswith("/metrics"):
            promtool_check(got[2])
        return got
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def request_headers(url, headers, method="GET", body=None):
    req = urllib.request.Request(url, data=body, method=method)
    for k, v in headers.items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def request_host(url, host):
    req = urllib.request.Request(url)
    req.add_header("Host", host)
    try:
        with urllib.request.urlopen(req, timeout=10 * SLOW) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def get_json(base, path, **kw):
    status, headers, body = request(base + path, **kw)
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    return status, doc


def until(deadline_s, fn):
    """Calls fn until it returns a true value or the deadline (scaled
    under the wrapper) passes."""
    end = time.monotonic() + deadline_s * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def autostart_checks(program, tmp):
    """POE_INSPECTOR in the environment of a program that links the
    inspector without calling it starts one; and a program whose sessions
    finish still exits with the inspector running."""
    env = dict(os.environ, POE_INSPECTOR="127.0.0.1:0",
               POE_TRACE_DB=os.path.join(tmp, "auto.db"), POE_TRACE_DB_GROUPS=" events, FILES")
    proc = popen([program, "wait"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env)
    try:
        line = proc.stderr.readline()
        url = line.split()[1] if line.startswith("poe-inspector: http") else None
        check("POE_INSPECTOR starts an inspector in a program that never calls it",
              url is not None, line)
        if url:
            status, doc = get_json(url.rstrip("/"), "/api/v1/kernel")
            check("the auto-started inspector answers",
                  status == 200 and doc["data"]["sessions"] == 1, (status, doc))
            status, doc = get_json(url.rstrip("/"), "/api/v1/sessions")
            check("the inspector's own work is not a session",
                  status == 200 and len(doc["data"]) == 1, doc)
            status, doc = get_json(url.rstrip("/"), "/api/v1/kernel")
            check("POE_TRACE_DB_GROUPS chooses the groups the log records",
                  doc["data"]["trace_log"].get("groups") == ["TRACE_EVENTS", "TRACE_FILES"],
                  doc["data"].get("trace_log"))
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15 * SLOW)
        check("the auto-started program stops on TERM", proc.returncode == 0 and "EXIT 0" in out,
              (exit_status(proc.returncode), out, err[-2000:]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    try:
        done = run_wrapped([program, "count"], 20, capture_output=True, text=True, env=env)
        check("a program whose sessions end exits with the inspector running",
              done.returncode == 0 and "EXIT 0 count 1000" in done.stdout,
              (exit_status(done.returncode), done.stdout, done.stderr[-2000:]))
    except subprocess.TimeoutExpired:
        check("a program whose sessions end exits with the inspector running", False,
              "still running after %d s: the inspector keeps the kernel alive" % (20 * SLOW))
    for bad in ("events,nonsense", "ASSERT_DATA", ","):
        done = run_wrapped([program, "count"], 20, capture_output=True, text=True,
                           env=dict(env, POE_TRACE_DB_GROUPS=bad))
        check("POE_TRACE_DB_GROUPS=%r is refused with a message, and the program runs on" % bad,
              done.returncode == 0 and "POE_TRACE_DB_GROUPS" in done.stderr
              and "Invalid argument" in done.stderr,
              (exit_status(done.returncode), done.stderr[-2000:]))
    env["POE_INSPECTOR"] = "10.1.2.3:0"
    done = run_wrapped([program, "count"], 20, capture_output=True, text=True, env=env)
    check("a remote address is refused without POE_INSPECTOR_REMOTE, and the program runs on",
          done.returncode == 0 and "Operation not permitted" in done.stderr,
          (exit_status(done.returncode), done.stderr[-2000:]))


def main():
    fixture = sys.argv[1]
    autostart = sys.argv[2] if len(sys.argv) > 2 else None
    tmp = tempfile.mkdtemp(prefix="poe-inspector-test-")
    db = os.path.join(tmp, "trace.db")
    proc = popen([fixture, db, TOKEN], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        run(proc, db)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if autostart:
        autostart_checks(autostart, tmp)
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


def run(proc, db):
    line = proc.stdout.readline().split()
    if not check("fixture prints its URL", line[:1] == ["URL"], line):
        print(proc.stderr.read())
        return
    base = line[1].rstrip("/")
    check("fixture names its trace log", proc.stdout.readline().split() == ["DB", db])

    # The kernel summary.
    status, doc = get_json(base, "/api/v1/kernel")
    check("kernel answers 200", status == 200, status)
    k = (doc or {}).get("data", {})
    check("envelope has api 1", (doc or {}).get("api") == 1, doc)
    check("kernel counts 3 sessions", k.get("sessions") == 3, k)
    check("kernel names its loop", k.get("loop") in ("epoll", "poll", "select"), k)
    check("kernel shows the trace log path",
          (k.get("trace_log") or {}).get("path") == db, k.get("trace_log"))
    check("kernel pid is the fixture's", k.get("pid") == proc.pid, k.get("pid"))

    # Sessions, paging and filters.
    status, doc = get_json(base, "/api/v1/sessions")
    sessions = (doc or {}).get("data", [])
    check("sessions lists 3", status == 200 and len(sessions) == 3, doc)
    check("sessions page total 3", (doc or {}).get("page", {}).get("total") == 3, doc)
    by_alias = {}
    for s in sessions:
        for a in s.get("aliases", []):
            by_alias[a] = s
    check("aliases listed per session",
          {"root", "service", "middle", "leaf"} <= set(by_alias), by_alias.keys())
    status, doc = get_json(base, "/api/v1/sessions?limit=1&offset=1")
    check("paging returns one", status == 200 and len(doc["data"]) == 1
          and doc["page"]["total"] == 3 and doc["page"]["offset"] == 1, doc)
    status, doc = get_json(base, "/api/v1/sessions?q=midd")
    check("q filters by alias", status == 200 and [s["aliases"] for s in doc["data"]] ==
          [["middle"]], doc)
    root = by_alias.get("root", {}).get("id")

    # Why the root session lives, item by item.
    status, doc = get_json(base, "/api/v1/sessions/%s/reasons" % root)
    data = (doc or {}).get("data", {})
    items = data.get("items", data if isinstance(data, list) else [])
    kinds = sorted({i.get("reason") for i in items}) if isinstance(items, list) else []
    check("reasons answer 200", status == 200, doc)
    check("reasons name aliases, timers, handles, children, extrefs",
          {"aliases", "timers", "handles", "children", "extra refs"} <= set(
              i.get("reason_name", i.get("reason")) for i in items), items)
    check("reasons add up to the refcount",
          isinstance(data, dict) and data.get("sum") == data.get("refcount"), data)
    status, doc = get_json(base, "/api/v1/sessions/999999/reasons")
    check("unknown session is 404 with a JSON error",
          status == 404 and doc and doc.get("error", {}).get("status") == 404, (status, doc))
    status, doc = get_json(base, "/api/v1/sessions/abc")
    check("malformed session id is 400 or 404", status in (400, 404) and doc and "error" in doc,
          (status, doc))

    for path in ("why", "tree", "queue", "timers", "watchers", "signals", "aliases", "extrefs"):
        status, doc = get_json(base, "/api/v1/" + path)
        check("%s answers 200 with data" % path, status == 200 and doc and "data" in doc,
              (status, doc))
    status, doc = get_json(base, "/api/v1/signals")
    names = json.dumps(doc)
    check("signals lists TERM and USR1", "TERM" in names and "USR1" in names, doc)
    status, doc = get_json(base, "/api/v1/timers")
    check("timers lists the ticker", "tick" in json.dumps(doc), doc)

    # Errors are JSON, with the right status.
    for path, want in (("/api/v1/nope", 404), ("/api/v2/kernel", 404),
                       ("/api/v1/sessions?limit=abc", 400), ("/api/v1/sessions?limit=0", 400),
                       ("/api/v1/trace?since=yesterday", 400), ("/nope.html", 404),
                       ("/api/v1/export/pdf", 404)):
        status, doc = get_json(base, path)
        check("%s is %d with a JSON error" % (path, want),
              status == want and doc and doc.get("error", {}).get("status") == want,
              (status, doc))
    status, headers, body = request_host(base + "/api/v1/kernel", "evil.example:80")
    check("a foreign Host header is refused (DNS rebinding)", status == 403
          and json.loads(body).get("error", {}).get("status") == 403, (status, body[:200]))
    status, headers, body = request_host(base + "/api/v1/kernel", "localhost:1234")
    check("a localhost Host header is accepted", status == 200, status)
    status, headers, body = request_host(base + "/api/v1/kernel", "LOCALHOST:1234")
    check("host names are case-insensitive", status == 200, status)
    # Cross-site requests: refused for the API, the exports and /metrics,
    # answered for the page's files and for the page itself.
    own = "http://" + base.split("//", 1)[1]
    for path in ("/api/v1/kernel", "/api/v1/export/jsonl", "/metrics", "/api/v1/trace"):
        for hdrs in ({"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
                     {"Origin": "http://evil.example"}, {"Origin": "null"},
                     {"Origin": own.replace("127.0.0.1", "localhost")}):
            status, _, body = request_headers(base + path, hdrs)
            check("%s with %s is refused as cross-site" % (path, hdrs),
                  status == 403 and b"cross-site" in body, (status, body[:200]))
    status, _, body = request_headers(base + "/api/v1/trace/groups",
                                      {"Origin": "http://evil.example",
                                       "Authorization": "Bearer " + TOKEN,
                                       "Content-Type": "application/json"},
                                      method="PUT", body=b'{"TRACE_REFCNT": true}')
    check("a cross-site PUT with the token is refused too", status == 403, (status, body[:200]))
    status, _, body = request_headers(base + "/", {"Sec-Fetch-Site": "cross-site"})
    check("the page's files answer a cross-site request", status == 200, status)
    for hdrs in ({"Sec-Fetch-Site": "same-origin", "Origin": own},
                 {"Sec-Fetch-Site": "none"}, {}):
        status, _, body = request_headers(base + "/api/v1/kernel", hdrs)
        check("the page's own request (%s) is answered" % hdrs, status == 200,
              (status, body[:200]))
    for sid in ("-1", "18446744073709551617", "1x"):
        status, doc = get_json(base, "/api/v1/sessions/%s/signal" % sid, method="POST",
                               token=TOKEN, body={"signal": "ZZZ"})
        check("a signal to session %s is 400, not a wrapped id" % sid,
              status == 400 and "18446744073709551615" not in json.dumps(doc), (status, doc))
    status, headers, body = request(base + "/api/v1/sessions/1/signal", method="POST",
                                    token=TOKEN, body=b'{"signal": "ZZZ", "x": "' +
                                    b"y" * 100000 + b'"}')
    check("an oversized signal body is 413", status == 413, status)
    status, doc = get_json(base, "/api/v1/sessions?" + "&".join("p%d=1" % i for i in range(40)))
    check("too many parameters is 400", status == 400 and doc and "error" in doc, (status, doc))
    status, doc = get_json(base, "/api/v1/sessions?" + "&".join("p%d=1" % i for i in range(2000)))
    check("2,000 parameters get a 400 too, not a closed connection",
          status == 400 and doc and "error" in doc, (status, doc))
    status, headers, body = request(base + "/api/v1/trace/groups", method="PUT", token=TOKEN,
                                    body=b"{" + b" " * 70000 + b"}")
    check("an oversized body is 413", status == 413, status)
    status, doc = get_json(base, "/api/v1/kernel", method="DELETE")
    check("DELETE is 405", status == 405 and doc and "error" in doc, (status, doc))
    status, _, body = request(base + "/")
    check("the page is served", status == 200 and b"<html" in body.lower(), status)

    # Trace groups: read-only without the token.
    status, doc = get_json(base, "/api/v1/trace/groups")
    check("trace groups listed", status == 200 and "TRACE_EVENTS" in doc["data"], doc)
    status, doc = get_json(base, "/api/v1/trace/groups", method="PUT",
                           body={"TRACE_REFCNT": True})
    check("switching groups needs the token", status == 401, (status, doc))
    status, doc = get_json(base, "/api/v1/trace/groups", method="PUT", token="wrong",
                           body={"TRACE_REFCNT": True})
    check("a wrong token is refused", status == 401, (status, doc))
    status, doc = get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN,
                           body={"TRACE_NOPE": True})
    check("an unknown group is 400", status == 400, (status, doc))
    status, doc = get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN,
                           body=b"{not json")
    check("a body that is not JSON is 400", status == 400, (status, doc))
    # Which groups the log records: its defaults, then whatever is
    # switched on besides, in the summary and in /metrics.
    default = ["TRACE_EVENTS", "TRACE_SESSIONS", "TRACE_SIGNALS"]

    def recorded_metrics():
        s, _, body = request(base + "/metrics")
        return {m.group(1): int(m.group(2)) for m in re.finditer(
            r'^poe_trace_group_recorded\{group="(\w+)"\} (\d+)$', body.decode(), re.M)}
    status, doc = get_json(base, "/api/v1/kernel")
    tl = doc["data"].get("trace_log", {})
    check("the summary names the groups the log records: the defaults",
          tl.get("groups") == default and tl.get("groups_asked") == default, tl)
    rec = recorded_metrics()
    check("/metrics says which groups are recorded",
          [g for g, on in rec.items() if on] == default and rec.get("TRACE_FILES") == 0, rec)
    status, doc = get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN,
                           body={"TRACE_REFCNT": True})
    check("switching with the token works", status == 200, (status, doc))
    status, doc = get_json(base, "/api/v1/kernel")
    check("the summary shows TRACE_REFCNT on",
          "TRACE_REFCNT" in json.dumps(doc["data"].get("debug_enabled")), doc["data"])
    check("a group switched on live is recorded too, and the summary says so",
          doc["data"]["trace_log"].get("groups") == ["TRACE_EVENTS", "TRACE_REFCNT",
                                                     "TRACE_SESSIONS", "TRACE_SIGNALS"]
          and doc["data"]["trace_log"].get("groups_asked") == default, doc["data"]["trace_log"])
    check("/metrics shows the live switch", recorded_metrics().get("TRACE_REFCNT") == 1)
    get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN, body={"TRACE_REFCNT": False})
    status, doc = get_json(base, "/api/v1/kernel")
    check("switched off, the log is back to its own groups",
          doc["data"]["trace_log"].get("groups") == default, doc["data"]["trace_log"])

    # The trace log fills as the ticker ticks.
    def records():
        s, d = get_json(base, "/api/v1/trace?group=TRACE_EVENTS&limit=5")
        return d if s == 200 and d["data"]["records"] else None
    doc = until(10, records)
    check("trace records arrive", doc is not None, doc)
    if doc:
        rec = doc["data"]["records"][0]
        check("records have their fields",
              {"id", "wall", "group", "kind", "session", "event", "message"} <= set(rec), rec)
        check("trace answers carry the drop counts", "dropped" in doc.get("trace_log", {}), doc)
        last = max(r["id"] for r in doc["data"]["records"])
        t0 = time.monotonic()
        status, tail = get_json(base, "/api/v1/trace/tail?after=%d&wait=30" % last, timeout=60 * SLOW)
        check("the tail returns newer records", status == 200 and tail["data"]["records"]
              and min(r["id"] for r in tail["data"]["records"]) > last, tail)
        # The ticker writes a record every 50 ms: a tail that waited its
        # whole 30 s did not wake for them.
        check("the tail came before its wait ran out", time.monotonic() - t0 < 30)
    status, doc = get_json(base, "/api/v1/trace/tail")
    check("a tail without after= is 400", status == 400, (status, doc))
    # At most 8 long polls at once: the 9th is a 429 with Retry-After.
    # The 8 wait for TRACE_REFCNT records, which come once it is switched
    # on, so they end as soon as the check is done.
    # TRACE_REFCNT was on for a while above: the tails wait for records
    # newer than any written since, once every record made until now is
    # written or dropped.
    _, doc = get_json(base, "/api/v1/kernel")
    made = doc["data"]["trace_log"]["records_produced"]

    def accounted():
        _, d = get_json(base, "/api/v1/kernel")
        tl = d["data"]["trace_log"]
        return tl["records_written"] + tl["dropped_total"] >= made
    check("the records made so far are all written or dropped", until(10, accounted))
    _, doc = get_json(base, "/api/v1/trace?order=desc&limit=1")
    newest = doc["data"]["records"][0]["id"]
    tails = []

    def tail_wait():
        tails.append(get_json(base, "/api/v1/trace/tail?after=%d&group=TRACE_REFCNT&wait=30"
                              % newest, timeout=60 * SLOW)[0])
    waiting = [threading.Thread(target=tail_wait) for _ in range(8)]
    for t in waiting:
        t.start()

    def waiting_tails():
        s, _, body = request(base + "/metrics")
        m = re.search(r'^poe_inspector_long_polls (\d+)$', body.decode(), re.M)
        return m and int(m.group(1)) == 8
    check("/metrics counts the 8 long polls waiting", until(10, waiting_tails))

    def ninth():
        st, hdrs, body = request(base + "/api/v1/trace/tail?after=%d&group=TRACE_REFCNT&wait=0.1"
                                 % newest)
        return (st, hdrs.get("Retry-After"), body) if st == 429 else None
    got = until(10, ninth)
    check("a 9th long poll is refused with 429 and Retry-After",
          got is not None and got[1] == "2" and b"at most 8" in got[2], got)
    get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN, body={"TRACE_REFCNT": True})
    for t in waiting:
        t.join(60 * SLOW)
    get_json(base, "/api/v1/trace/groups", method="PUT", token=TOKEN, body={"TRACE_REFCNT": False})
    check("the 8 long polls end with records once they come", tails == [200] * 8, tails)
    status, doc = get_json(base, "/api/v1/trace/tail?after=0&wait=1")
    check("with them gone, a long poll is answered again", status == 200, (status, doc))
    status, doc = get_json(base, "/api/v1/trace?group=TRACE_FILES&limit=5")
    check("by default no record per loop wait (TRACE_FILES is not recorded)",
          status == 200 and doc["data"]["records"] == [], (status, doc))

    # Exports.
    status, headers, body = request(base + "/api/v1/export/jsonl")
    lines = [json.loads(l) for l in body.decode().splitlines() if l.strip()]
    check("JSON Lines export parses", status == 200 and lines, status)
    status, headers, body = request(base + "/api/v1/export/csv")
    rows = list(csv.reader(io.StringIO(body.decode())))
    check("CSV export has a header and rows", status == 200 and len(rows) > 1, rows[:2])
    status, headers, body = request(base + "/api/v1/export/chrome")
    chrome = json.loads(body) if status == 200 else {}
    check("Chrome trace export parses", "traceEvents" in chrome, status)
    check("Chrome trace has complete events",
          any(e.get("ph") == "X" for e in chrome.get("traceEvents", [])), status)
    status, headers, body = request(base + "/api/v1/export/otlp")
    spans = []
    try:
        for l in body.decode().splitlines():
            doc = json.loads(l)
            for rs in doc["resourceSpans"]:
                for ss in rs["scopeSpans"]:
                    spans.extend(ss["spans"])
    except (ValueError, KeyError) as e:
        spans = e
    check("OTLP export has spans with ids and times", status == 200 and isinstance(spans, list)
          and spans and all(len(s["traceId"]) == 32 and len(s["spanId"]) == 16
                            and int(s["endTimeUnixNano"]) >= int(s["startTimeUnixNano"])
                            for s in spans), (status, str(spans)[:200]))
    status, headers, body = request(base + "/api/v1/export/sqlite")
    path = db + ".export"
    with open(path, "wb") as f:
        f.write(body)
    try:
        n = sqlite3.connect(path).execute("select count(*) from records").fetchone()[0]
    except sqlite3.Error as e:
        n = str(e)
    check("SQLite export opens and has records", status == 200 and isinstance(n, int) and n > 0,
          n)

    # Metrics.
    status, headers, body = request(base + "/metrics")
    text = body.decode()
    check("metrics answer in Prometheus text", status == 200 and
          "poe_sessions 3" in text and "poe_events_dispatched_total" in text, text[:200])
    check("metrics count dispatches by kind",
          'poe_dispatches_total{kind="alarm"}' in text, text[:400])
    kinds = ("idle_held", "slow_handler", "queue_grows", "timers_grow", "postback_unused",
             "timer_in_past")
    check("metrics count the lints' findings by kind (poe_lints, a gauge)",
          "# TYPE poe_lints gauge" in text and
          all(re.search(r'^poe_lints\{kind="%s"\} \d+$' % k, text, re.M) for k in kinds),
          [l for l in text.splitlines() if l.startswith("poe_lints")])
    status, headers, body = request(base + "/api/v1/lints?idle=0.001")
    doc = json.loads(body) if status == 200 else {}
    check("GET /api/v1/lints: findings, counts of every kind, thresholds",
          status == 200 and sorted(doc["data"]["counts"]) == sorted(kinds)
          and doc["data"]["thresholds"]["idle"] == 0.001
          and any(x["kind"] == "idle_held" for x in doc["data"]["lints"]), body[:300])
    status, headers, body = request(base + "/api/v1/lints?kind=nope")
    check("GET /api/v1/lints?kind=nope is a 400 naming it", status == 400 and b"kind=nope" in body,
          (status, body[:200]))
    status, headers, body = request(base + "/api/v1/sessions?sort=id&order=desc")
    ids = [x["id"] for x in json.loads(body)["data"]] if status == 200 else []
    check("GET /api/v1/sessions?sort=id&order=desc: every session, highest id first",
          len(ids) == 3 and ids == sorted(ids, reverse=True), (status, ids))
    status, headers, body = request(base + "/api/v1/sessions?sort=bogus")
    check("GET /api/v1/sessions?sort=bogus is a 400 naming the columns",
          status == 400 and b"last_activity" in body, (status, body[:200]))
    check("metrics have the duration histogram",
          'poe_dispatch_duration_seconds_bucket{le="+Inf"}' in text
          and "poe_dispatch_duration_seconds_count" in text, text[-400:])

    def sample(name):
        m = re.search(r"^%s ([0-9.e+-]+)$" % re.escape(name), text, re.M)
        return float(m.group(1)) if m else None
    by_kind = sum(float(v) for v in re.findall(r'^poe_dispatches_total\{kind="\w+"\} (\d+)$',
                                               text, re.M))
    check("one count of dispatches in a scrape: the total, the sum by kind, the histogram's",
          sample("poe_events_dispatched_total") == by_kind
          == sample("poe_dispatch_duration_seconds_count") > 0,
          (sample("poe_events_dispatched_total"), by_kind,
           sample("poe_dispatch_duration_seconds_count")))
    check("no poe_up and no poe_uptime_seconds (Prometheus has up; process_start_time_seconds)",
          not re.search(r"^poe_up(time_seconds)? ", text, re.M), text[:300])
    started = sample("process_start_time_seconds")
    check("process_start_time_seconds is when the fixture started",
          started is not None and time.time() - 600 < started <= time.time() + 1, started)
    check("the process_* metrics",
          sample("process_cpu_seconds_total") is not None
          and sample("process_resident_memory_bytes") > 1e6
          and sample("process_virtual_memory_bytes") >= sample("process_resident_memory_bytes")
          and 3 <= sample("process_open_fds") < sample("process_max_fds"), text[:1200])
    check("poe_build_info names the version and the loop",
          re.search(r'^poe_build_info\{version="\d+\.\d+\.\d+",loop="(epoll|poll|select)",'
                    r'microhttpd="[^"]+",jansson="[^"]+"\} 1$', text, re.M), text[:400])
    # The fixture only sets timers: no post waits in its queue.
    check("the queue wait and loop lag histograms (the timers counted)",
          sample("poe_queue_wait_seconds_count") is not None and sample("poe_loop_lag_seconds_count") > 0
          and 'poe_loop_lag_seconds_bucket{le="0.001"}' in text,
          re.findall(r"^poe_(?:queue_wait|loop_lag)_seconds_\w+.*$", text, re.M))

    # Many at once.
    statuses = []

    def hit():
        statuses.append(request(base + "/api/v1/sessions")[0])
    threads = [threading.Thread(target=hit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check("20 concurrent requests all succeed", statuses == [200] * 20, statuses)

    # A stuck kernel: the kernel summary and /metrics answer from what the
    # kernel publishes, and say what it is stuck in; the rest answer 503
    # with the same.
    os.kill(proc.pid, signal.SIGUSR1)

    def stuck():
        s, d = get_json(base, "/api/v1/kernel")
        return d if s == 200 and d["data"].get("responding") is False else None
    doc = until(10, stuck)
    k = (doc or {}).get("data", {})
    b = k.get("busy") or {}
    check("a stuck kernel's summary answers 200 with responding false", doc is not None, doc)
    check("the summary names the session and the event it is stuck in, and for how long",
          b.get("session") == root and b.get("event") == "hang"
          and b.get("for_seconds", 0) >= 0.45, k)  # the fixture's answer timeout: 0.5 s
    check("the stuck summary still shows the trace log",
          (k.get("trace_log") or {}).get("path") == db, k)
    status, _, body = request(base + "/metrics")
    text = body.decode()
    check("/metrics answers 200 while the kernel is stuck", status == 200, status)
    check("/metrics says the kernel is not responding, in which handler, and how long",
          "poe_kernel_responding 0" in text
          and 'poe_kernel_stuck_handler{session="%s",event="hang"} 1' % root in text
          and re.search(r"^poe_kernel_stuck_seconds [0-9.]+$", text, re.M)
          and "poe_trace_records_written_total" in text, text)
    status, doc = get_json(base, "/api/v1/sessions")
    b = ((doc or {}).get("error") or {}).get("busy") or {}
    check("other endpoints answer 503 naming the session and the event",
          status == 503 and b.get("session") == root and b.get("event") == "hang", doc)
    # The handler blocks until this file exists (fixture.c), so the stuck
    # window lasts however long the machine takes to see it.
    open(db + ".unhang", "w").close()
    doc = until(10, lambda: get_json(base, "/api/v1/kernel")[1]["data"].get("responding")
                is True)
    check("the kernel answers again once unstuck", doc)
    status, _, body = request(base + "/metrics")
    check("/metrics says it responds again", "poe_kernel_responding 1" in body.decode(), status)

    # A clean stop.
    os.kill(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    check("SIGTERM stops the fixture cleanly", proc.returncode == 0 and "EXIT 0" in out,
          (exit_status(proc.returncode), out, err[-2000:]))
    con = sqlite3.connect(db)
    runs = con.execute("select count(*) from runs").fetchone()[0]
    recs = con.execute("select count(*) from records").fetchone()[0]
    check("the trace log file has a run and records", runs >= 1 and recs > 0, (runs, recs))


if __name__ == "__main__":
    sys.exit(main())
