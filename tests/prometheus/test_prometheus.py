#!/usr/bin/env python3
"""poe-demo scraped by Debian's real Prometheus server, and the files of
docs/monitoring checked against it.

Prometheus (the `prometheus` package) runs on a free loopback port with
its data in a temporary directory, scraping poe-demo's /metrics every
second and loading docs/monitoring/poe-alerts.yml.  The test reads the
series back through Prometheus' HTTP API (/api/v1/query) and asserts:
the target is up (Prometheus parsed every scrape), poe_build_info,
process_start_time_seconds and the process_* metrics have sane values,
the three dispatch counts of one scrape agree (the same timestamp: one
scrape), the loop lag and queue wait histograms count, and every alert
rule loaded and evaluates with health "ok".  The dashboard
(grafana-dashboard.json) is valid JSON, every metric its expressions
name is in a real scrape, and Prometheus evaluates each expression
without an error.  The rules pass `promtool check rules` and their unit
tests `promtool test rules`, and the test's own scrape `promtool check
metrics`.  Every wait polls with a deadline.

    test_prometheus.py POE_DEMO MONITORING_DIR
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, promtool_check, status as exit_status  # noqa: E402

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)[:3000]))
    return cond


def until(seconds, fn):
    end = time.monotonic() + seconds * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.2)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fetch(url, timeout=10):
    try:
        with urllib.request.urlopen(url, timeout=timeout * SLOW) as r:
            return r.status, r.read().decode()
    except Exception as e:  # a refused request is a value while waiting
        return None, str(e)


class Prom:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def query(self, expr, at=None):
        """The result of an instant query, or None on an error."""
        q = {"query": expr}
        if at is not None:
            q["time"] = "%.3f" % at
        st, body = fetch(self.base + "/api/v1/query?" + urllib.parse.urlencode(q))
        if st != 200:
            return None
        doc = json.loads(body)
        return doc["data"]["result"] if doc.get("status") == "success" else None

    def value(self, expr, at=None):
        """(timestamp, float) of a one-series instant query, or None."""
        r = self.query(expr, at)
        if not r or len(r) != 1:
            return None
        return float(r[0]["value"][0]), float(r[0]["value"][1])


def promtool(*args):
    return subprocess.run(["promtool"] + list(args), capture_output=True, text=True,
                          timeout=60 * SLOW)


def expr_metrics(expr):
    """The metric names an expression selects: identifiers followed by a
    selector or a range, less functions and keywords."""
    names = set()
    for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\{|\[)", expr):
        names.add(m.group(1))
    return names


def check_files(mon):
    rules = os.path.join(mon, "poe-alerts.yml")
    r = promtool("check", "rules", rules)
    check("promtool check rules docs/monitoring/poe-alerts.yml",
          r.returncode == 0 and "SUCCESS" in r.stdout, r.stdout + r.stderr)
    r = subprocess.run(["promtool", "test", "rules", "poe-alerts.test.yml"], cwd=mon,
                       capture_output=True, text=True, timeout=60 * SLOW)
    check("promtool test rules docs/monitoring/poe-alerts.test.yml (every alert fires when "
          "it should, not before)", r.returncode == 0 and "SUCCESS" in r.stdout,
          r.stdout + r.stderr)
    with open(os.path.join(mon, "grafana-dashboard.json")) as f:
        try:
            dash = json.load(f)
        except ValueError as e:
            dash = None
            check("the Grafana dashboard is JSON", False, e)
    exprs = [t["expr"] for p in (dash or {}).get("panels", []) for t in p.get("targets", [])]
    check("the Grafana dashboard is JSON with panels and expressions",
          dash and dash.get("title") and len(exprs) >= 10, len(exprs))
    return exprs


def main():
    demo, mon = sys.argv[1], sys.argv[2]
    if not shutil.which("prometheus") or not shutil.which("promtool"):
        check("prometheus and promtool are installed (apt-get install prometheus; "
              "scripts/deps.sh): required, not a skip", False)
        return 1
    exprs = check_files(mon)
    tmp = tempfile.mkdtemp(prefix="poe-prometheus-test-")
    demo_proc = prom_proc = None
    try:
        demo_proc = popen([demo, "--inspector", "127.0.0.1:0", "--trace-db",
                           os.path.join(tmp, "demo.db")],
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = demo_proc.stdout.readline()
        base = line.rsplit(" ", 1)[-1].strip().rstrip("/")
        m = re.match(r"http://(127\.0\.0\.1:\d+)$", base)
        if not check("poe-demo says where its inspector is", m, line):
            return 1
        target = m.group(1)
        port = free_port()
        with open(os.path.join(tmp, "prometheus.yml"), "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "  evaluation_interval: 1s\n"
                    "rule_files:\n  - %s\n"
                    "scrape_configs:\n  - job_name: poe\n    static_configs:\n"
                    "      - targets: ['%s']\n"
                    % (os.path.abspath(os.path.join(mon, "poe-alerts.yml")), target))
        prom_proc = subprocess.Popen(
            ["prometheus", "--config.file=" + os.path.join(tmp, "prometheus.yml"),
             "--storage.tsdb.path=" + os.path.join(tmp, "data"),
             "--web.listen-address=127.0.0.1:%d" % port, "--log.level=warn"],
            stdout=subprocess.DEVNULL, stderr=open(os.path.join(tmp, "prometheus.log"), "w"))
        prom = Prom(port)

        # Three scrapes at least: rate() and the rules need two samples.
        up = until(60, lambda: (lambda v: v if v and v[1] == 1 else None)(
            prom.value('up{job="poe"}')))
        with open(os.path.join(tmp, "prometheus.log")) as f:
            log = f.read()
        if not check("Prometheus scrapes poe-demo: up == 1", up, log[-2000:]):
            return 1
        check("Prometheus has scraped it three times",
              until(60, lambda: (lambda v: v and v[1] >= 3)(
                  prom.value('count_over_time(up{job="poe"}[1m])'))))

        # The test's own scrape, for the names the dashboard may use.
        st, text = fetch(base + "/metrics")
        promtool_check(text)
        scraped = set(re.findall(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", text, re.M))
        # A family with no sample yet (no records dropped so far) is
        # declared by its TYPE line; a histogram's series are its suffixes.
        for name, kind in re.findall(r"^# TYPE (\S+) (\S+)$", text, re.M):
            scraped.add(name)
            if kind == "histogram":
                scraped |= {name + "_bucket", name + "_sum", name + "_count"}
        check("the demo's scrape has the metrics of issue 19",
              {"poe_build_info", "process_start_time_seconds", "process_cpu_seconds_total",
               "process_resident_memory_bytes", "process_open_fds", "process_max_fds",
               "poe_queue_wait_seconds_bucket", "poe_loop_lag_seconds_bucket",
               "poe_events_dispatched_total"} <= scraped and "poe_up" not in scraped,
              sorted(scraped))

        bi = prom.query('poe_build_info{job="poe"}')
        check("poe_build_info reads back: 1, with version and loop",
              bi and len(bi) == 1 and bi[0]["value"][1] == "1"
              and re.match(r"\d+\.\d+\.\d+$", bi[0]["metric"].get("version", ""))
              and bi[0]["metric"].get("loop") in ("epoll", "poll", "select"), bi)
        started = prom.value('process_start_time_seconds{job="poe"}')
        check("process_start_time_seconds: the demo started in the last ten minutes",
              started and time.time() - 600 < started[1] <= time.time(), started)
        cpu = prom.value('process_cpu_seconds_total{job="poe"}')
        rss = prom.value('process_resident_memory_bytes{job="poe"}')
        fds = prom.value('process_open_fds{job="poe"}')
        mx = prom.value('process_max_fds{job="poe"}')
        check("process_* read back: CPU seconds, resident memory, open and allowed fds",
              cpu and cpu[1] >= 0 and rss and rss[1] > 1e6 and fds and mx
              and 3 <= fds[1] < mx[1], (cpu, rss, fds, mx))

        # One scrape: the same timestamp for the three.
        total = prom.value('poe_events_dispatched_total{job="poe"}')
        if check("poe_events_dispatched_total reads back", total and total[1] > 0, total):
            at = prom.value('timestamp(poe_events_dispatched_total{job="poe"})', total[0])
            at = at[1] if at else total[0]
            by_kind = prom.value('sum(poe_dispatches_total{job="poe"})', at)
            count = prom.value('poe_dispatch_duration_seconds_count{job="poe"}', at)
            check("one scrape's dispatch counts agree: the total, the sum by kind, the "
                  "duration histogram's count",
                  by_kind and count and total[1] == by_kind[1] == count[1],
                  (total, by_kind, count))
        lag = prom.value('poe_loop_lag_seconds_count{job="poe"}')
        wait = prom.value('poe_queue_wait_seconds_count{job="poe"}')
        check("the loop lag and queue wait histograms count the demo's timers and posts",
              lag and lag[1] > 0 and wait and wait[1] > 0, (lag, wait))
        q = until(30, lambda: (lambda r: r if r else None)(prom.query(
            'histogram_quantile(0.99, sum by (le) (rate(poe_loop_lag_seconds_bucket'
            '{job="poe"}[30s])))')))
        check("a p99 of the loop lag is computed (a number, in seconds)",
              q and re.match(r"^[0-9.e+-]+$", q[0]["value"][1]), q)

        def rules_evaluated():
            st, body = fetch(prom.base + "/api/v1/rules")
            if st != 200:
                return None
            rs = [r for g in json.loads(body)["data"]["groups"] for r in g["rules"]]
            return rs if rs and all(r.get("lastEvaluation", "").startswith("20")
                                     and not r["lastEvaluation"].startswith("0001")
                                     for r in rs) else None
        rs = until(30, rules_evaluated) or []
        check("every alert rule of poe-alerts.yml is loaded and evaluates without an error",
              len(rs) == 7 and all(r["health"] == "ok" for r in rs),
              [(r["name"], r["health"], r.get("lastError")) for r in rs])
        firing = [r["name"] for r in rs if r.get("state") == "firing"]
        check("no alert fires for a healthy demo (PoeTraceRecordsDropped aside: the demo's "
              "default log may shed)",
              not [n for n in firing if n != "PoeTraceRecordsDropped"], firing)

        # The dashboard: names that exist, expressions Prometheus runs.
        named = set()
        for e in exprs:
            named |= expr_metrics(e)
        missing = sorted(n for n in named if n not in scraped and n != "up")
        check("every metric the dashboard's expressions name is in a real scrape",
              named and not missing, missing)
        bad = []
        for e in exprs:
            q = e.replace("$__rate_interval", "30s").replace("$instance", ".*")
            if prom.query(q) is None:
                bad.append(e)
        check("Prometheus evaluates each of the dashboard's %d expressions" % len(exprs),
              not bad, bad)
    finally:
        for p in (prom_proc, demo_proc):
            if p and p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(timeout=30 * SLOW)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        if demo_proc:
            check("poe-demo exits cleanly", demo_proc.returncode == 0,
                  exit_status(demo_proc.returncode))
        shutil.rmtree(tmp, ignore_errors=True)
    passed = sum(results)
    print("%d passed, %d failed" % (passed, len(results) - passed))
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
