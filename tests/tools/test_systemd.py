#!/usr/bin/env python3
"""examples/systemd/poe-app.service: systemd-analyze verify finds nothing
to say about it (with ExecStart= pointed at a real program), and says
something about a broken copy (so the check can fail); then poe-demo runs
with the unit's environment, its specifiers (%d, %S) resolved as systemd
would, a credentials directory holding the token: the inspector listens on
loopback, the credential's token unlocks its switches and nothing else
does, the trace log is where the unit says.  Exit 77 (skipped) without
systemd-analyze.

    test_systemd.py UNIT POE_DEMO
"""
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen, status as exit_status  # noqa: E402

UNIT, DEMO = sys.argv[1], os.path.abspath(sys.argv[2])
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL: %s %s" % (name, detail), flush=True)


def verify(path):
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                       capture_output=True, text=True, timeout=60 * SLOW)
    return r.returncode, (r.stdout + r.stderr).strip()


def put_groups(base, token):
    req = urllib.request.Request(base + "/api/v1/trace/groups", method="PUT",
                                 data=b'{"TRACE_SIGNALS": true}',
                                 headers={"Content-Type": "application/json"})
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=5 * SLOW) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except Exception as e:  # a refused request is a value here
        return str(e)


def unit_environment(text, creds, state):
    """The unit's Environment= assignments, as systemd would set them."""
    env = {}
    for line in text.splitlines():
        m = re.match(r"^Environment=(.*)$", line)
        if not m:
            continue
        for word in shlex.split(m.group(1)):
            k, v = word.split("=", 1)
            env[k] = v.replace("%d", creds).replace("%S", state)
    return env


def main():
    if not shutil.which("systemd-analyze"):
        print("systemd-analyze not found: skipped")
        return 77
    text = open(UNIT).read()
    check("the unit starts a program", re.search(r"^ExecStart=/", text, re.M), text[:200])
    with tempfile.TemporaryDirectory() as tmp:
        unit = os.path.join(tmp, "poe-app.service")
        with open(unit, "w") as f:
            f.write(re.sub(r"^ExecStart=\S+", "ExecStart=" + DEMO, text, flags=re.M))
        rc, said = verify(unit)
        check("systemd-analyze verify: exit 0, nothing said", rc == 0 and said == "",
              (rc, said))
        broken = os.path.join(tmp, "broken.service")
        with open(broken, "w") as f:
            f.write(re.sub(r"^ExecStart=\S+", "ExecStart=" + DEMO, text, flags=re.M)
                    .replace("%d/", "%Q/").replace("[Service]", "[Service]\nBogusKey=1"))
        rc, said = verify(broken)
        check("systemd-analyze verify: a broken copy is noticed",
              "BogusKey" in said and "%Q" in said, (rc, said))

        # The unit's environment, resolved.
        creds = os.path.join(tmp, "credentials")
        state = os.path.join(tmp, "state")
        os.makedirs(creds)
        os.makedirs(os.path.join(state, "poe-app"))
        m = re.search(r"^LoadCredential=([^:\s]+):", text, re.M)
        check("the token is a credential", m, text)
        name = m.group(1) if m else "inspector-token"
        with open(os.path.join(creds, name), "w") as f:
            f.write("tok-from-credential\n")
        env = unit_environment(text, creds, state)
        check("the token file is the credential",
              env.get("POE_INSPECTOR_TOKEN_FILE") == os.path.join(creds, name), env)
        check("no token in the unit", "POE_INSPECTOR_TOKEN" not in env, env)
        check("the inspector is on loopback, not remote",
              env.get("POE_INSPECTOR", "").startswith("127.0.0.1:")
              and "POE_INSPECTOR_REMOTE" not in env, env)
        check("no trace lines to a file", "POE_TRACE_FILENAME" not in env, env)
        run_env = {k: v for k, v in os.environ.items() if not k.startswith("POE_")}
        run_env.update(env)
        run_env["CREDENTIALS_DIRECTORY"] = creds
        # A free port rather than the unit's 8080, which may be taken here.
        run_env["POE_INSPECTOR"] = "127.0.0.1:0"
        proc = popen([DEMO], env=run_env, cwd=os.path.join(state, "poe-app"),
                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            line = proc.stdout.readline()
            base = line.rsplit(" ", 1)[-1].strip().rstrip("/")
            check("it listens on loopback", base.startswith("http://127.0.0.1:"), line)
            try:
                with urllib.request.urlopen(base + "/api/v1/kernel", timeout=5 * SLOW) as r:
                    doc = json.loads(r.read())
            except Exception as e:
                doc = {"error": str(e)}
            check("not read-only", doc.get("data", {}).get("read_only") is False, doc)
            check("no token: 401", put_groups(base, None) == 401)
            check("another token: 401", put_groups(base, "tok") == 401)
            check("the credential's token: 200",
                  put_groups(base, "tok-from-credential") == 200)
            check("the trace log where the unit says",
                  os.path.exists(env.get("POE_TRACE_DB", "")), env)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                out, err = proc.communicate(timeout=30 * SLOW)
            except subprocess.TimeoutExpired:
                proc.kill()
                out, err = proc.communicate()
        check("SIGTERM stops it cleanly", proc.returncode == 0,
              (exit_status(proc.returncode), err[-2000:]))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
