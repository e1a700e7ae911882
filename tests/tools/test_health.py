#!/usr/bin/env python3
"""scripts/inspector-health, the image's HEALTHCHECK, against the
inspector fixture: healthy (exit 0) while the kernel answers; unhealthy
(exit 1, "not responding") while a handler holds the kernel, though the
inspector still answers /api/v1/kernel; healthy again once it lets go;
unhealthy with nothing listening.

    test_health.py INSPECTOR_HEALTH FIXTURE
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

HEALTH, FIXTURE = sys.argv[1], sys.argv[2]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail), flush=True)


def health(addr):
    r = subprocess.run(["bash", HEALTH, addr], capture_output=True, text=True,
                       timeout=30 * SLOW)
    return r.returncode, (r.stdout + r.stderr).strip()


def until(seconds, fn):
    end = time.monotonic() + seconds * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.1)


def responding(base):
    try:
        with urllib.request.urlopen(base + "/api/v1/kernel", timeout=5 * SLOW) as r:
            return json.loads(r.read())["data"].get("responding")
    except Exception:
        return None


def main():
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "trace.db")
        proc = popen([FIXTURE, db], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            base = ""
            for line in proc.stdout:
                if line.startswith("URL "):
                    base = line.split()[1].rstrip("/")
                    break
            addr = base.split("//", 1)[-1]
            rc, said = health(addr)
            check("a kernel that answers: healthy", rc == 0 and said.endswith(": ok"),
                  (rc, said))
            os.kill(proc.pid, signal.SIGUSR1)
            check("the kernel is stuck in a handler", until(10, lambda: responding(base)
                                                            is False))
            rc, said = health(addr)
            check("a stuck kernel: unhealthy, saying so",
                  rc == 1 and "not responding" in said, (rc, said))
            open(db + ".unhang", "w").close()
            check("the handler lets go", until(10, lambda: responding(base) is True))
            rc, said = health(addr)
            check("healthy again", rc == 0, (rc, said))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                _, err = proc.communicate(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
        check("the fixture stops cleanly", proc.returncode == 0,
              (exit_status(proc.returncode), err[-2000:]))
        rc, said = health(addr)
        check("nothing listening: unhealthy", rc == 1, (rc, said))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
