#!/usr/bin/env python3
"""poe-demo with its inspector: it starts, says where to point the
browser, fills its sessions, clients, workers and handled DIEs, and stops
gracefully on SIGINT; and a second run stops on SIGTERM within a second
while its inspector holds long polls, idle connections and connections
still sending their headers; the token comes from the environment or a
file, never the command line.  Prints "N passed, N failed"; waits poll
with deadlines.

    test_demo.py POE_DEMO
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
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, promtool_check, status as exit_status  # noqa: E402

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


def start(demo, tmp, name):
    proc = popen([demo, "--inspector", "127.0.0.1:0", "--trace-db", os.path.join(tmp, name)],
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    return proc, line, line.rsplit(" ", 1)[-1].strip().rstrip("/")


def term_under_load(demo, tmp):
    """SIGTERM while the inspector holds 8 long polls, 50 idle connections
    and 20 that are still sending their headers, and a line client that
    has said one line and stays connected: the demo exits, cleanly, within
    a second (scaled by SLOW); it hangs up on the client, which does not
    hold it up."""
    proc, line, base = start(demo, tmp, "term.db")
    socks = []
    try:
        port = int(base.rsplit(":", 1)[1])

        def conn(src):
            s = socket.socket()
            s.bind((src, 0))
            s.settimeout(5 * SLOW)
            s.connect(("127.0.0.1", port))
            socks.append(s)
            return s
        for _ in range(8):
            conn("127.0.0.1").sendall(b"GET /api/v1/trace/tail?after=999999999&wait=30 "
                                      b"HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for i in range(50):
            conn("127.0.0.%d" % (2 + i // 25))
        for i in range(20):
            conn("127.0.0.4").sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n")

        def loaded():
            try:
                with urllib.request.urlopen(base + "/metrics", timeout=5 * SLOW) as r:
                    text = r.read().decode()
            except Exception:
                return False
            promtool_check(text)
            polls = re.search(r"^poe_inspector_long_polls (\d+)", text, re.M)
            conns = re.search(r"^poe_inspector_connections (\d+)", text, re.M)
            return polls and int(polls.group(1)) == 8 and conns and int(conns.group(1)) >= 78
        check("the demo's inspector holds 8 long polls and 78 connections", until(10, loaded))
        lport = int(re.search(r"line server on [0-9.]+:(\d+)", line).group(1))
        client = socket.create_connection(("127.0.0.1", lport), timeout=5 * SLOW)
        socks.append(client)
        client.sendall(b"hi\n")
        reply = client.recv(256)
        check("an idle line client is connected and answered", reply.startswith(b"HI"), reply)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        try:
            out, err = proc.communicate(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        took = time.monotonic() - t0
        check("SIGTERM under that load stops it within a second (%.3f s)" % took,
              proc.returncode == 0 and "poe-demo: done" in out and took < 1.0 * SLOW,
              (exit_status(proc.returncode), took, out[-300:], err[-2000:]))
    finally:
        for s in socks:
            s.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def put_groups(base, token):
    req = urllib.request.Request(base + "/api/v1/trace/groups", method="PUT",
                                 data=b'{"TRACE_REFCNT": true}',
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:
        return str(e)


def token_from_env(demo, tmp):
    """--token is gone (ps would show it); POE_INSPECTOR_TOKEN_FILE's first
    line is the token, and its switches answer that token only; a named
    file that cannot be read stops the demo before it starts."""
    r = subprocess.run([demo, "--token", "x"], capture_output=True, text=True,
                       timeout=30 * SLOW)
    check("--token is refused: exit 2, naming the variables",
          r.returncode == 2 and "POE_INSPECTOR_TOKEN_FILE" in r.stderr, (r.returncode, r.stderr))
    env = dict(os.environ, POE_INSPECTOR_TOKEN_FILE=os.path.join(tmp, "missing"))
    r = subprocess.run([demo, "--inspector", "127.0.0.1:0", "--trace-db", ""], env=env,
                       capture_output=True, text=True, timeout=30 * SLOW)
    check("a token file that is missing: exit 2, saying so",
          r.returncode == 2 and "missing" in r.stderr, (r.returncode, r.stderr))
    path = os.path.join(tmp, "token")
    with open(path, "w") as f:
        f.write("s3cret-from-file\n")
    env = dict(os.environ, POE_INSPECTOR_TOKEN_FILE=path, POE_INSPECTOR_TOKEN="not-this")
    proc = popen([demo, "--inspector", "127.0.0.1:0", "--trace-db", ""], env=env,
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = proc.stdout.readline().rsplit(" ", 1)[-1].strip().rstrip("/")
        status, doc = get(base + "/api/v1/kernel")
        check("with a token file the inspector is not read-only",
              status == 200 and doc["data"].get("read_only") is False, doc)
        check("a switch without the token: 401", put_groups(base, None) == 401)
        check("a switch with POE_INSPECTOR_TOKEN's: 401", put_groups(base, "not-this") == 401)
        check("a switch with the file's token: 200", put_groups(base, "s3cret-from-file") == 200)
        with open("/proc/%d/cmdline" % proc.pid, "rb") as f:
            cmdline = f.read()
        check("the command line does not hold the token", b"s3cret" not in cmdline, cmdline)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.communicate(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


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
    term_under_load(sys.argv[1], tmp)
    token_from_env(sys.argv[1], tmp)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
