"""The live OTLP push against a real receiver (otlp_receiver.py: an HTTP
server on loopback that checks every request against the OTLP/JSON
encoding's rules).  The subject (otlp-subject.c) runs a timer that
re-arms itself 20 times, each tick posting work whose handler calls
another; the third work item dies.

  1. OTEL_EXPORTER_OTLP_ENDPOINT: requests go to ENDPOINT/v1/traces with
     the headers of OTEL_EXPORTER_OTLP_HEADERS and OTEL_SERVICE_NAME's
     service.name, every one well formed, while the subject runs (before
     it is stopped); /metrics and /api/v1/kernel count what was sent.
     After the stop: every parent and every link arrived, in its trace;
     one trace per tick, each linked to the tick before; the died
     handler's span is an ERROR with an exception event.
  2. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, used as is; the receiver
     answers the first request 503 with Retry-After: 1: the same body
     comes again, and is counted as a retry.
  3. A receiver that answers 400: not retried, counted as failed.
  4. No receiver at all and a queue of 10 spans: drops are counted in
     /metrics, in the kernel summary, and on the page's data.

    test_otlp_push.py SUBJECT POE_TRACE

Prints one line per check and closes with "N passed, N failed".  Every
wait polls with a deadline; nothing sleeps to wait.
"""
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)
import testutil  # noqa: E402
from testutil import SLOW  # noqa: E402
from otlp_receiver import Receiver  # noqa: E402

results = []
DEADLINE = 30 * SLOW
POE_TRACE = None


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    return cond


def until(fn, deadline=DEADLINE):
    end = time.monotonic() + deadline
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def get(base, path):
    with urllib.request.urlopen(base + path, timeout=10 * SLOW) as r:
        text = r.read().decode()
    if path == "/metrics":
        testutil.promtool_check(text)
    return text


def push_status(base):
    return json.loads(get(base, "/api/v1/kernel"))["data"].get("otlp_push") or {}


def metric(text, name):
    m = re.search(r"^%s (\S+)$" % re.escape(name), text, re.M)
    return float(m.group(1)) if m else None


def start(subject, db, env):
    e = dict(os.environ)
    for k in list(e):
        if k.startswith("OTEL_"):
            del e[k]
    e.update(env)
    e["OTEL_BSP_SCHEDULE_DELAY"] = "100"
    proc = testutil.popen([subject, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, env=e)
    line = proc.stdout.readline().split()
    if not check("subject prints its URL", line[:1] == ["URL"], line):
        proc.kill()
        print(proc.communicate()[1])
        return None, None
    return proc, line[1].rstrip("/")


def stop(proc, name):
    os.kill(proc.pid, signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=30 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    check("%s: SIGTERM stops the subject cleanly" % name, proc.returncode == 0,
          (testutil.status(proc.returncode), err[-800:]))
    return err


def attr(o, key):
    for a in o.get("attributes", []):
        if a["key"] == key:
            return next(iter(a["value"].values()))
    return None


def named(spans, name):
    return [s for s in spans if s["name"] == name]


def normal(subject, tmp):
    rec = Receiver()
    proc, base = start(subject, os.path.join(tmp, "a.db"), {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d/" % rec.port,
        "OTEL_EXPORTER_OTLP_HEADERS": "x-tenant=acme%20corp,x-other=1",
        "OTEL_SERVICE_NAME": "otlp-subject"})
    if not proc:
        rec.close()
        return
    # Spans arrive while the program runs: all twenty ticks.
    got = until(lambda: len(named(rec.snapshot()[1], "tick")) >= 20)
    check("spans arrive while the program runs (20 tick spans)", got,
          len(named(rec.snapshot()[1], "tick")))
    reqs, spans, faults = rec.snapshot()
    check("every request follows the OTLP/JSON encoding", not faults, faults[:5])
    check("requests go to ENDPOINT/v1/traces",
          reqs and all(r[0] == "/v1/traces" for r in reqs), [r[0] for r in reqs][:5])
    check("OTEL_EXPORTER_OTLP_HEADERS' headers are sent, percent-decoded",
          reqs and all(r[1].get("x-tenant") == "acme corp" and r[1].get("x-other") == "1"
                       for r in reqs), reqs[0][1] if reqs else None)
    check("service.name is OTEL_SERVICE_NAME's",
          spans and all(s["_resource"].get("service.name") == "otlp-subject" for s in spans))
    # The receiver keeps a request's spans before the push reads its
    # answer and counts them.
    sent = until(lambda: (lambda n: n if n is not None and n >= len(spans) > 0 else None)(
        metric(get(base, "/metrics"), "poe_otlp_spans_sent_total")))
    check("/metrics counts the spans sent", sent, (sent, len(spans)))
    st = push_status(base)
    check("the kernel summary's otlp_push names the endpoint and counts",
          st.get("endpoint") == "http://127.0.0.1:%d/v1/traces" % rec.port and
          st.get("sent_spans", 0) > 0 and st.get("dropped_spans") == 0 and
          st.get("failed_spans") == 0, st)
    stop(proc, "normal")
    # The die is in the trace log itself, for poe-trace and queries.
    r = subprocess.run([POE_TRACE, "records", os.path.join(tmp, "a.db"), "--kind", "die"],
                       capture_output=True, text=True, timeout=60)
    check("poe-trace reads the die record: message, file and line",
          r.returncode == 0 and len(r.stdout.splitlines()) == 1 and
          re.search(r"<ev> event ``work'' of session \d+ \(worker\) died at \S*otlp-subject\.c "
                    r"line \d+: work item 3 failed at ", r.stdout), (r.stdout, r.stderr))
    reqs, spans, faults = rec.snapshot()
    rec.close()
    check("after the stop: still no request broke the rules", not faults, faults[:5])
    cross = rec.check_complete()
    check("every parent and every linked span arrived, in its trace", not cross, cross[:5])
    ids = [s["spanId"] for s in spans]
    check("no span was sent twice", len(ids) == len(set(ids)), len(ids) - len(set(ids)))
    ticks = named(spans, "tick")
    traces = {s["traceId"] for s in spans}
    check("one trace per tick (the timer's chain is cut at each firing)",
          len({t["traceId"] for t in ticks}) == 20 and len(traces) >= 20,
          (len({t["traceId"] for t in ticks}), len(traces)))
    by_id = {s["spanId"]: s for s in spans}
    linked = [t for t in ticks if t.get("links")]
    check("each tick after the first links to the timer span that set it",
          len(linked) >= 19 and all(
              by_id.get(t["links"][0]["spanId"], {}).get("name") == "timer tick" and
              attr(t["links"][0], "poe.link") == "timer" for t in linked),
          [t.get("links") for t in ticks][:3])
    depth = 0
    for s in spans:
        d, p = 1, s
        while p.get("parentSpanId") in by_id:
            p = by_id[p["parentSpanId"]]
            d += 1
        depth = max(depth, d)
    check("chains are short (max depth %d)" % depth, depth <= 8, depth)
    work = named(spans, "work")
    died = [w for w in work if (w.get("status") or {}).get("code") == 2]
    check("the died handler's span is an ERROR with the die's message",
          len(died) == 1 and died[0]["status"]["message"].startswith("work item 3 failed at "),
          [w.get("status") for w in work][:4])
    ex = [e for e in (died[0].get("events", []) if died else []) if e["name"] == "exception"]
    check("... and an exception event with message, file and line",
          len(ex) == 1 and attr(ex[0], "exception.message").startswith("work item 3 failed") and
          attr(ex[0], "code.filepath").endswith("otlp-subject.c") and
          int(attr(ex[0], "code.lineno")) > 0, ex)
    subs = named(spans, "sub")
    check("a call is its caller's child, in its trace",
          len(subs) == 20 and all(by_id.get(s.get("parentSpanId"), {}).get("name") == "work"
                                  for s in subs),
          [(by_id.get(s.get("parentSpanId"), {}).get("name"), s.get("links")) for s in subs][:5])


def retry(subject, tmp):
    rec = Receiver(script=[(503, {"Retry-After": "1"})])
    proc, base = start(subject, os.path.join(tmp, "b.db"), {
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:%d/custom/traces" % rec.port})
    if not proc:
        rec.close()
        return
    got = until(lambda: len(rec.snapshot()[0]) >= 2)
    reqs, spans, faults = rec.snapshot()
    check("503: the request is made again", got and reqs[0][3] == 503 and reqs[1][3] == 200,
          [r[3] for r in reqs])
    check("... with the same body", got and reqs[0][2] == reqs[1][2])
    check("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is used as is",
          reqs and all(r[0] == "/custom/traces" for r in reqs), [r[0] for r in reqs][:3])
    m = until(lambda: (lambda t: t if (metric(t, "poe_otlp_retries_total") or 0) >= 1 and
                       (metric(t, "poe_otlp_spans_sent_total") or 0) > 0 else None)(
        get(base, "/metrics")))
    check("/metrics counts the retry and the spans then sent", m,
          (m or get(base, "/metrics"))[-1200:])
    check("no request broke the rules", not faults, faults[:5])
    stop(proc, "retry")
    rec.close()


def refused(subject, tmp):
    rec = Receiver(script=[(400, {})] * 1000)
    proc, base = start(subject, os.path.join(tmp, "c.db"), {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % rec.port})
    if not proc:
        rec.close()
        return
    got = until(lambda: (push_status(base).get("failed_spans") or 0) > 0)
    st = push_status(base)
    check("400: the spans are counted as failed", got, st)
    check("... never retried", st.get("retries") == 0, st)
    reqs = rec.snapshot()[0]
    check("... every request a new body", len({r[2] for r in reqs}) == len(reqs), len(reqs))
    check("... and the error is named", "HTTP 400" in (st.get("last_error") or ""), st)
    m = get(base, "/metrics")
    check("/metrics counts the refused spans",
          (metric(m, 'poe_otlp_spans_failed_total{reason="rejected"}') or 0) > 0, m[-1200:])
    stop(proc, "refused")
    rec.close()


def unreachable(subject, tmp):
    # A port nobody listens on: bound, then closed.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    proc, base = start(subject, os.path.join(tmp, "d.db"), {
        "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:%d" % port,
        "OTEL_BSP_MAX_QUEUE_SIZE": "10", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE": "5"})
    if not proc:
        return
    st = until(lambda: (lambda st: st if st.get("dropped_spans", 0) > 0 else None)(
        push_status(base)))
    check("collector down, queue of 10: drops are counted in the kernel summary", st,
          push_status(base))
    st = st or {}
    check("... the queue stays within its bound", st.get("queued_spans", 99) <= 10, st)
    # The first request may still be under way when the first drop comes.
    st = until(lambda: (lambda st: st if "cannot connect" in (st.get("last_error") or "")
                        else None)(push_status(base)))
    check("... the connection failure is named", st, push_status(base))
    m = get(base, "/metrics")
    check("/metrics counts the drops",
          (metric(m, 'poe_otlp_spans_dropped_total{reason="queue_full"}') or 0) > 0 and
          metric(m, "poe_otlp_queue_max_spans") == 10, m[-1500:])
    err = stop(proc, "unreachable")
    check("the stop is not held up by the collector's absence", "poe-inspector" in err, err[-300:])


def main():
    global POE_TRACE
    subject, POE_TRACE = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="poe-otlp-push-") as tmp:
        normal(subject, tmp)
        retry(subject, tmp)
        refused(subject, tmp)
        unreachable(subject, tmp)
    print("%d passed, %d failed" % (results.count(True), results.count(False)))
    sys.exit(0 if all(results) else 1)


if __name__ == "__main__":
    main()
