#!/usr/bin/env python3
"""An OTLP/HTTP trace receiver for the tests: a real HTTP server on
loopback that takes POSTs of ExportTraceServiceRequest in the JSON
encoding, checks every one against the encoding's rules, and keeps what
it got.

The rules checked (OTLP specification, "JSON Protobuf Encoding", and the
trace proto): the body is one JSON object with resourceSpans; each has a
resource whose attributes include a string service.name, and scopeSpans
with a scope name; each span has traceId as 32 and spanId as 16
lowercase hex digits (not base64, not all zeros), parentSpanId absent or
16 hex digits, a name, kind an integer enum (0-5), startTimeUnixNano and
endTimeUnixNano as decimal strings (64-bit integers are strings in
OTLP/JSON) with end >= start, attributes as KeyValue lists with exactly
one typed value (intValue a decimal string), status with an integer code
(0-2), events with a decimal-string timeUnixNano and a name, links with
hex traceId and spanId.  A request that breaks one is answered 400 and
its fault kept in .faults (a test fails on any).  check_complete() then
checks across requests: every parent is a span received in the same
trace, every link names a span received in the trace it says.

The answer to each request can be scripted: .script is a list of
(status, headers) pairs used in turn (then 200): 503 with Retry-After,
400, ...

    python3 otlp_receiver.py PORT     # print what arrives, for a demo
"""
import json
import re
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX16 = re.compile(r"^[0-9a-f]{16}$")
DEC = re.compile(r"^-?[0-9]+$")
VALUE_KEYS = {"stringValue", "boolValue", "intValue", "doubleValue", "arrayValue",
              "kvlistValue", "bytesValue"}


def check_value(v, where, faults):
    if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in VALUE_KEYS:
        faults.append("%s: a value must have exactly one typed field: %r" % (where, v))
        return
    k, x = next(iter(v.items()))
    if k == "intValue" and not (isinstance(x, str) and DEC.match(x)):
        faults.append("%s: intValue must be a decimal string: %r" % (where, x))
    if k == "stringValue" and not isinstance(x, str):
        faults.append("%s: stringValue must be a string" % where)
    if k == "boolValue" and not isinstance(x, bool):
        faults.append("%s: boolValue must be a boolean" % where)


def check_attrs(attrs, where, faults):
    if attrs is None:
        return {}
    if not isinstance(attrs, list):
        faults.append("%s: attributes must be a list" % where)
        return {}
    out = {}
    for a in attrs:
        if not isinstance(a, dict) or not isinstance(a.get("key"), str) or "value" not in a:
            faults.append("%s: an attribute must have key and value: %r" % (where, a))
            continue
        check_value(a["value"], "%s attribute %s" % (where, a["key"]), faults)
        out[a["key"]] = next(iter(a["value"].values())) if isinstance(a["value"], dict) and \
            a["value"] else None
    return out


def is_id(s, rx):
    return isinstance(s, str) and rx.match(s) and s.strip("0") != ""


def check_span(s, faults):
    w = "span %s" % s.get("name", "?")
    if not is_id(s.get("traceId"), HEX32):
        faults.append("%s: traceId must be 32 lowercase hex digits: %r" % (w, s.get("traceId")))
    if not is_id(s.get("spanId"), HEX16):
        faults.append("%s: spanId must be 16 lowercase hex digits: %r" % (w, s.get("spanId")))
    if "parentSpanId" in s and not is_id(s["parentSpanId"], HEX16):
        faults.append("%s: parentSpanId must be 16 hex digits or absent" % w)
    if not isinstance(s.get("name"), str) or not s["name"]:
        faults.append("%s: a span needs a name" % w)
    if not isinstance(s.get("kind"), int) or isinstance(s.get("kind"), bool) or \
            not 0 <= s["kind"] <= 5:
        faults.append("%s: kind must be the enum's integer (0-5): %r" % (w, s.get("kind")))
    times = []
    for k in ("startTimeUnixNano", "endTimeUnixNano"):
        v = s.get(k)
        if not (isinstance(v, str) and DEC.match(v)):
            faults.append("%s: %s must be a decimal string: %r" % (w, k, v))
        else:
            times.append(int(v))
    if len(times) == 2 and times[1] < times[0]:
        faults.append("%s: ends before it starts" % w)
    check_attrs(s.get("attributes"), w, faults)
    st = s.get("status")
    if st is not None:
        if not isinstance(st, dict) or not isinstance(st.get("code", 0), int) or \
                not 0 <= st.get("code", 0) <= 2:
            faults.append("%s: status code must be 0, 1 or 2: %r" % (w, st))
        if "message" in st and not isinstance(st["message"], str):
            faults.append("%s: status message must be a string" % w)
    for e in s.get("events", []):
        v = e.get("timeUnixNano")
        if not (isinstance(v, str) and DEC.match(v)):
            faults.append("%s: event timeUnixNano must be a decimal string: %r" % (w, v))
        if not isinstance(e.get("name"), str):
            faults.append("%s: an event needs a name" % w)
        check_attrs(e.get("attributes"), "%s event" % w, faults)
    for l in s.get("links", []):
        if not is_id(l.get("traceId"), HEX32) or not is_id(l.get("spanId"), HEX16):
            faults.append("%s: a link needs hex traceId and spanId: %r" % (w, l))
        check_attrs(l.get("attributes"), "%s link" % w, faults)
    for k in ("droppedEventsCount", "droppedAttributesCount", "droppedLinksCount"):
        if k in s and not isinstance(s[k], int):
            faults.append("%s: %s must be an integer" % (w, k))


def check_request(doc):
    """The faults of one request's body (a parsed JSON value), and its
    spans."""
    faults, spans = [], []
    if not isinstance(doc, dict) or not isinstance(doc.get("resourceSpans"), list) or \
            not doc["resourceSpans"]:
        return ["the body must be an object with a non-empty resourceSpans list"], spans
    for rs in doc["resourceSpans"]:
        res = check_attrs((rs.get("resource") or {}).get("attributes"), "resource", faults)
        if not isinstance(res.get("service.name"), str) or not res["service.name"]:
            faults.append("resource: service.name must be a non-empty string")
        for ss in rs.get("scopeSpans", []):
            if not isinstance((ss.get("scope") or {}).get("name"), str):
                faults.append("scopeSpans: a scope needs a name")
            for s in ss.get("spans", []):
                check_span(s, faults)
                spans.append(dict(s, _resource=res))
    return faults, spans


class Receiver:
    def __init__(self, script=None, port=0):
        self.lock = threading.Lock()
        self.requests = []   # (path, headers dict, body bytes, status answered)
        self.spans = []      # every span of every request answered 2xx
        self.faults = []
        self.script = list(script or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                faults, spans = [], []
                if self.headers.get("Content-Type", "").split(";")[0] != "application/json":
                    faults.append("Content-Type must be application/json: %r"
                                  % self.headers.get("Content-Type"))
                try:
                    doc = json.loads(body)
                except ValueError as e:
                    doc = None
                    faults.append("not JSON: %s" % e)
                if doc is not None:
                    f, spans = check_request(doc)
                    faults += f
                with receiver.lock:
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                    if faults:
                        status = 400
                        receiver.faults += faults
                    receiver.requests.append((self.path, dict(self.headers), body, status))
                    if 200 <= status < 300:
                        receiver.spans += spans
                answer = b"{}" if status < 300 else b'{"code":3,"message":"test"}'
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self):
        with self.lock:
            return list(self.requests), list(self.spans), list(self.faults)

    def check_complete(self):
        """Faults across the requests: every parent received in its
        child's trace, every link's span received in the trace it names."""
        _, spans, _ = self.snapshot()
        by_id = {s["spanId"]: s for s in spans}
        faults = []
        for s in spans:
            p = s.get("parentSpanId")
            if p is not None:
                if p not in by_id:
                    faults.append("span %s: parent %s never arrived" % (s["name"], p))
                elif by_id[p]["traceId"] != s["traceId"]:
                    faults.append("span %s: parent %s is in another trace" % (s["name"], p))
            for l in s.get("links", []):
                t = by_id.get(l["spanId"])
                if t is None:
                    faults.append("span %s: linked span %s never arrived" % (s["name"],
                                                                             l["spanId"]))
                elif t["traceId"] != l["traceId"]:
                    faults.append("span %s: link names trace %s, its span is in %s"
                                  % (s["name"], l["traceId"], t["traceId"]))
        return faults


if __name__ == "__main__":
    srv = Receiver(port=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
    print("listening on http://127.0.0.1:%d/ (OTEL_EXPORTER_OTLP_ENDPOINT)" % srv.port,
          flush=True)
    seen = 0
    try:
        while True:
            threading.Event().wait(1)
            reqs, spans, faults = srv.snapshot()
            for path, _, body, status in reqs[seen:]:
                print("%s %d: %d bytes" % (path, status, len(body)), flush=True)
            seen = len(reqs)
            for f in faults[-10:]:
                print("FAULT", f, flush=True)
    except KeyboardInterrupt:
        srv.close()
