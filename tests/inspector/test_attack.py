#!/usr/bin/env python3
"""The inspector under connections that do not play fair, over real
sockets on loopback: the fixture (tests/inspector/fixture.c) is the
subject, and the clients come from addresses across 127.0.0.0/8, all of
which reach it.

  - 200 idle connections held: a normal request is answered at once;
  - 70 connections sending their headers a line every 2 s: normal
    requests are answered all along, and each of them (and each idle
    one) is closed by the server once the request deadline (10 s from
    its start) has passed, not before;
  - 32 connections from one address: the 33rd is refused, other
    addresses are answered, and the address is answered again once it
    holds fewer;
  - as many idle connections as the server allows in total: the ones
    that waited longest are closed to make room, and a normal request is
    answered;
  - SIGTERM while 8 long polls wait and idle and slow connections are
    held: poe_inspector_stop takes under a second (the fixture measures
    it) and the program exits within a second.

    test_attack.py FIXTURE

Prints one line per check and closes with "N passed, N failed".  Every
loop is bounded in count and in time; waits poll a condition against a
deadline scaled by SLOW.
"""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, promtool_check, status as exit_status  # noqa: E402

REQUEST_DEADLINE = 10.0  # POE__REQUEST_DEADLINE (inspector/http.h)
PER_ADDRESS = 32         # POE__CONN_PER_ADDRESS
PROMPT = 2.0 * SLOW      # what "answered at once" may take on a loaded machine
results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)))
    sys.stdout.flush()
    return cond


def connect_from(port, src):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src, 0))
    s.settimeout(5 * SLOW)
    s.connect(("127.0.0.1", port))
    return s


def get(port, path, src="127.0.0.1", timeout=10):
    """GET path from address src: (status, body, seconds), status None
    when the connection ended without an answer."""
    t0 = time.monotonic()
    try:
        s = connect_from(port, src)
    except OSError:
        return None, b"", time.monotonic() - t0
    s.settimeout(timeout * SLOW)
    data = b""
    try:
        s.sendall(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                  % path.encode())
        while len(data) < 1 << 22:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError:
        pass
    finally:
        s.close()
    took = time.monotonic() - t0
    m = re.match(rb"HTTP/1\.[01] (\d+)", data)
    return (int(m.group(1)) if m else None), data.partition(b"\r\n\r\n")[2], took


def metrics(port):
    st, body, _ = get(port, "/metrics")
    if st != 200:
        return {}
    promtool_check(body)
    return {m.group(1): float(m.group(2)) for m in re.finditer(
        r"^(poe_inspector_\w+) ([0-9.e+-]+)$", body.decode(), re.M)}


def until(seconds, fn):
    end = time.monotonic() + seconds * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def ended(s):
    """Whether the server has closed s (readable with EOF, or reset)."""
    try:
        r, _, _ = select.select([s], [], [], 0)
        if not r:
            return False
        return s.recv(4096) == b""
    except OSError:
        return True


def idle_and_slow(port):
    idle, slow = [], []
    for i in range(200):
        idle.append((connect_from(port, "127.0.0.%d" % (2 + i // 25)), time.monotonic()))
    st, _, took = get(port, "/api/v1/kernel")
    check("with 200 idle connections held, a request is answered at once",
          st == 200 and took < PROMPT, (st, took))
    for i in range(70):
        s = connect_from(port, "127.0.0.%d" % (20 + i // 25))
        s.sendall(b"GET /api/v1/kernel HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append((s, time.monotonic()))
    m = metrics(port)
    check("the server counts the 270 connections",
          m.get("poe_inspector_connections", 0) >= 270, m)

    closed = {}  # socket -> seconds from its start to its end
    answers = []
    next_line = time.monotonic() + 2
    next_request = time.monotonic()
    end = time.monotonic() + REQUEST_DEADLINE + 5 * SLOW
    line = 0
    while len(closed) < len(idle) + len(slow) and time.monotonic() < end:
        t = time.monotonic()
        for s, t0 in idle + slow:
            if s not in closed and ended(s):
                closed[s] = t - t0
        if t >= next_line:
            line += 1
            for s, t0 in slow:
                if s in closed:
                    continue
                try:
                    s.sendall(b"X-Slow-%d: one line every two seconds\r\n" % line)
                except OSError:
                    closed[s] = t - t0
            next_line = t + 2
        if t >= next_request:
            st, _, took = get(port, "/api/v1/sessions")
            answers.append((st, round(took, 3)))
            next_request = time.monotonic() + 1
        time.sleep(0.02)
    check("normal requests are answered all along (%d of them)" % len(answers),
          len(answers) >= 5 and all(st == 200 and took < PROMPT for st, took in answers),
          answers)
    idle_t = [closed.get(s) for s, _ in idle]
    slow_t = [closed.get(s) for s, _ in slow]
    check("every idle connection is closed by the server",
          all(t is not None for t in idle_t), sum(t is None for t in idle_t))
    check("every slow-header connection is closed by the server",
          all(t is not None for t in slow_t), sum(t is None for t in slow_t))
    both = [t for t in idle_t + slow_t if t is not None]
    check("none before its request deadline (%.0f s)" % REQUEST_DEADLINE,
          both and min(both) >= REQUEST_DEADLINE - 0.5, min(both) if both else None)
    check("all soon after it", both and max(both) < REQUEST_DEADLINE + 3 * SLOW,
          max(both) if both else None)
    m = metrics(port)
    check("/metrics counts them as expired",
          m.get("poe_inspector_connections_expired_total", 0) >= 270, m)
    for s, _ in idle + slow:
        s.close()


def per_address(port):
    held = [connect_from(port, "127.0.0.40") for _ in range(PER_ADDRESS)]
    check("the server holds 32 connections from one address",
          until(10, lambda: metrics(port).get("poe_inspector_connections", 0) >= PER_ADDRESS))
    st, _, took = get(port, "/api/v1/kernel", src="127.0.0.40")
    check("the 33rd from that address is refused: closed without an answer",
          st is None and took < PROMPT, (st, took))
    st, _, _ = get(port, "/api/v1/kernel", src="127.0.0.41")
    check("another address is answered meanwhile", st == 200, st)
    for s in held:
        s.close()
    check("the address is answered again once it holds fewer",
          until(10, lambda: get(port, "/api/v1/kernel", src="127.0.0.40")[0] == 200))


def eviction(port):
    m = metrics(port)
    total = int(m.get("poe_inspector_connections_max", 0))
    if not check("/metrics gives the connection limit", total >= 16, m):
        return
    held = []
    for i in range(total):
        held.append(connect_from(port, "127.0.0.%d" % (100 + i // 30)))
    st, _, took = get(port, "/api/v1/kernel", src="127.0.0.99")
    check("with as many idle connections as the limit (%d) opened, a request is answered"
          % total, st == 200 and took < PROMPT, (st, took))
    m = metrics(port)
    check("the longest waiting were closed to make room",
          m.get("poe_inspector_connections_evicted_total", 0) > 0
          and m.get("poe_inspector_connections", total) < total, m)
    check("the oldest are among them", until(5, lambda: all(ended(s) for s in held[:10])))
    for s in held:
        s.close()


def stop_under_load(proc, port):
    socks = []
    for i in range(8):
        s = connect_from(port, "127.0.0.60")
        s.sendall(b"GET /api/v1/trace/tail?after=999999999&wait=30 HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\n\r\n")
        socks.append(s)
    for i in range(100):
        socks.append(connect_from(port, "127.0.0.%d" % (61 + i // 25)))
    for i in range(30):
        s = connect_from(port, "127.0.0.70")
        s.sendall(b"GET /api/v1/kernel HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        socks.append(s)
    check("8 long polls wait and 138 connections are held", until(10, lambda: (
        lambda m: m.get("poe_inspector_long_polls") == 8
        and m.get("poe_inspector_connections", 0) >= 138)(metrics(port))))
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    took = time.monotonic() - t0
    m = re.search(r"^STOP ([0-9.]+)$", out, re.M)
    stop = float(m.group(1)) if m else None
    print("poe_inspector_stop took %s s; SIGTERM to exit %.3f s" % (stop, took))
    check("poe_inspector_stop under that load takes under a second",
          stop is not None and stop < 1.0 * SLOW, (stop, out[-300:]))
    check("SIGTERM to exit under that load within a second",
          proc.returncode == 0 and took < 1.0 * SLOW,
          (exit_status(proc.returncode), took, err[-2000:]))
    check("every client sees its connection end",
          until(5, lambda: all(ended(s) for s in socks)))
    for s in socks:
        s.close()


def main():
    fixture = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="poe-inspector-attack-")
    proc = popen([fixture, os.path.join(tmp, "trace.db")], stdout=subprocess.PIPE,
                 stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().split()
        if check("fixture prints its URL", line[:1] == ["URL"], line):
            port = int(line[1].rstrip("/").rsplit(":", 1)[1])
            proc.stdout.readline()
            idle_and_slow(port)
            per_address(port)
            eviction(port)
            stop_under_load(proc, port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    passed = sum(results)
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
