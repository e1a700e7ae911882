#!/usr/bin/env python3
"""GET /api/v1/events/ID/lineage over real HTTP, against lineage-subject's
chains (its header comment gives their shape): the ancestors of an event
up to a root posted outside any handler, its children through a call,
the depth and limit bounds with the truncated flag, a pending timer, and
the 400 and 404 answers; then the same log with run 1's record ids spread
past what a signed difference holds, opened again by a second run.

    test_lineage.py SUBJECT

Every wait polls with a deadline; nothing sleeps to wait.
"""
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from testutil import SLOW, popen  # noqa: E402

results = []


def check(name, cond, detail=""):
    results.append(bool(cond))
    print("%s: %s%s" % ("ok" if cond else "FAIL", name, "" if cond else " -- " + str(detail)[:2000]))
    return cond


def get(base, path):
    try:
        with urllib.request.urlopen(base + path, timeout=20 * SLOW) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        body = e.read()
        try:
            return e.code, json.loads(body)
        except ValueError:
            return e.code, body


def until(deadline_s, fn):
    end = time.monotonic() + deadline_s * SLOW
    while True:
        v = fn()
        if v or time.monotonic() > end:
            return v
        time.sleep(0.05)


def first_record(base, event, kind):
    status, doc = get(base, "/api/v1/trace?event=%s&kind=%s&limit=1" % (event, kind))
    if status != 200 or not doc["data"]["records"]:
        return None
    return doc["data"]["records"][0]


def count(node):
    return 1 + sum(count(c) for c in node.get("children", []))


def stop(proc):
    """SIGTERM, then the exit status (after a kill if it will not go)."""
    proc.send_signal(15)
    try:
        return proc.wait(timeout=30 * SLOW)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait()


def spread_ids(subject, tmp, known):
    """A log the library did not write: run 1's record ids spread to
    -2^62 - 1 and above 2^62 (order kept), so that the search's hi - lo
    is past INT64_MAX.  A second run of the subject opens that log (run
    2), and run 1's lineage still answers as before."""
    db = os.path.join(tmp, "t.db")
    con = sqlite3.connect(db)
    lo = con.execute("SELECT min(id) FROM records WHERE run_id = 1").fetchone()[0]
    con.execute("UPDATE records SET id = id + 4611686018427387904 WHERE run_id = 1 AND id > ?",
                (lo,))
    con.execute("UPDATE records SET id = -4611686018427387905 WHERE id = ?", (lo,))
    con.commit()
    lo, hi = con.execute("SELECT min(id), max(id) FROM records WHERE run_id = 1").fetchone()
    con.close()
    check("run 1's ids now span more than INT64_MAX", hi - lo > 2**63 - 1, (lo, hi))
    proc = popen([subject, db], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        check("the subject starts again on that log", line.startswith("URL "), line)
        base = line.split()[1].rstrip("/")
        check("its chains ran again", proc.stdout.readline().strip() == "READY")
        status, doc = get(base, "/api/v1/events/%d/lineage?run=1" % known["three"])
        check("run 1's lineage of three answers 200 over the spread ids", status == 200,
              (status, doc))
        if status == 200:
            d = doc["data"]
            check("three's only ancestor is still one",
                  d["run"] == 1 and d["event"]["event"] == "three"
                  and [a["event"] for a in d["ancestors"]] == ["one"]
                  and d["ancestors"][0]["event_id"] == known["one"], d)
    finally:
        rc = stop(proc)
        check("the second subject exits cleanly on SIGTERM", rc == 0, rc)


def main():
    subject = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="poe-lineage-")
    known = {}
    proc = popen([subject, os.path.join(tmp, "t.db")], stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        check("the subject starts and prints its URL", line.startswith("URL "), line)
        base = line.split()[1].rstrip("/")
        check("the chains ran", proc.stdout.readline().strip() == "READY")
        # The records reach the log from the writer thread: wait for the
        # last deep's return.
        deep_done = until(20, lambda: get(base, "/api/v1/trace?event=deep&kind=return")[1]
                          ["page"]["total"] == 21)
        check("the log holds the 21 returns of deep", deep_done)

        one = first_record(base, "one", "enqueue")
        three = first_record(base, "three", "enqueue")
        four = first_record(base, "four", "enqueue")
        later = first_record(base, "later", "enqueue")
        check("the log holds the enqueues", all([one, three, four, later]), (one, three, four, later))
        if not all([one, three, four, later]):
            return
        known["one"], known["three"] = one["event_id"], three["event_id"]

        # "three": posted inside helper, a call made by one's handler.
        status, doc = get(base, "/api/v1/events/%d/lineage" % three["event_id"])
        check("lineage of three answers 200", status == 200, (status, doc))
        d = doc["data"]
        anc = d["ancestors"]
        check("three's event node is itself",
              d["event"]["event_id"] == three["event_id"] and d["event"]["event"] == "three"
              and d["event"]["state"] == "dispatched"
              and d["event"]["enqueue"]["kind"] == "enqueue"
              and d["event"]["dispatch"]["kind"] == "dispatch", d["event"])
        check("three's only ancestor is one (the post inside the call goes to the caller's item)",
              [a["event"] for a in anc] == ["one"] and anc[0]["event_id"] == one["event_id"], anc)
        # Calls leave no dispatch record: the post made inside helper is
        # one's, posted from one's dispatch.
        check("posted_from is the dispatch that was open when it was posted",
              anc and anc[0]["posted_from"]["event"] == "one"
              and anc[0]["posted_from"]["kind"] == "dispatch"
              and anc[0]["posted_from"]["id"] == anc[0]["dispatch"]["id"],
              anc and anc[0].get("posted_from"))
        check("one was posted outside any handler: the root",
              d["root"] == "posted outside any handler", d["root"])

        # "deep"s last: ancestors deep x20, four, two, one.
        status, doc = get(base, "/api/v1/trace?event=deep&kind=enqueue&order=desc&limit=1")
        last_deep = doc["data"]["records"][0]
        status, doc = get(base, "/api/v1/events/%d/lineage" % last_deep["event_id"])
        anc = doc["data"]["ancestors"] if status == 200 else []
        names = [a["event"] for a in anc]
        check("the last deep's ancestors go up to the root, nearest first",
              names == ["deep"] * 20 + ["four", "two", "one"], names)
        ids = [last_deep["event_id"]] + [a["event_id"] for a in anc]
        check("ancestor ids decrease", ids == sorted(ids, reverse=True) and len(set(ids)) == len(ids),
              ids)
        check("each ancestor was dispatched, with its records",
              all(a["state"] == "dispatched" and a["dispatch"]["event_id"] == a["event_id"]
                  for a in anc), anc[:2])

        # one's descendants: two and three (via the call), then four, later.
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=2" % one["event_id"])
        d = doc["data"]
        kids = d["event"]["children"]
        check("one caused two and three", sorted(k["event"] for k in kids) == ["three", "two"],
              [k["event"] for k in kids])
        two = [k for k in kids if k["event"] == "two"][0]
        check("two caused four and the timer later",
              sorted(k["event"] for k in two["children"]) == ["four", "later"],
              two["children"])
        lat = [k for k in two["children"] if k["event"] == "later"][0]
        check("later is a timer, pending", lat["timer"] and lat["state"] == "pending"
              and lat["dispatch"] is None, lat)
        four_n = [k for k in two["children"] if k["event"] == "four"][0]
        check("depth 2 stops below four, and says truncated",
              four_n["children"] == [] and d["truncated"] is True and d["depth"] == 2, d)
        check("one has no ancestors", d["ancestors"] == [] and d["root"], d["ancestors"])

        # four fans out to 30 leaves and a deep: a limit of 10 nodes.
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=1&limit=10" % four["event_id"])
        d = doc["data"]
        check("limit bounds the nodes and sets truncated",
              status == 200 and d["nodes"] <= 10 and count(d["event"]) <= 10 and d["truncated"],
              (status, d.get("nodes"), count(d["event"])))
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=1&limit=1000" % four["event_id"])
        d = doc["data"]
        check("with room, four's 31 children (truncated: the deep below is not read)",
              len(d["event"]["children"]) == 31 and d["truncated"]
              and sorted(set(k["event"] for k in d["event"]["children"])) == ["deep", "leaf"],
              (len(d["event"]["children"]), d["truncated"]))
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=16&limit=1000" % four["event_id"])
        d = doc["data"]
        check("depth 16 under four: itself, 30 leaves and 16 of the 21 deeps, truncated",
              count(d["event"]) == 47 and d["truncated"], count(d["event"]))
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=16&limit=1000" % first_record(
            base, "deep", "enqueue")["event_id"])
        d = doc["data"]
        check("the first deep's whole chain: 17 nodes, none left out at the end",
              count(d["event"]) == 17, count(d["event"]))
        status, doc = get(base, "/api/v1/trace?event=deep&kind=enqueue&order=desc&limit=1&offset=10")
        mid = doc["data"]["records"][0]
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=16" % mid["event_id"])
        d = doc["data"]
        check("a deep 11 from the end: 11 nodes down, not truncated",
              count(d["event"]) == 11 and not d["truncated"], (count(d["event"]), d["truncated"]))

        # A record's lineage: the queue item it belongs to.
        status, doc = get(base, "/api/v1/trace?kind=create&limit=1000")
        creates = [r for r in doc["data"]["records"] if r["event_id"] is None]
        status, doc = get(base, "/api/v1/trace?event=one&kind=dispatch&limit=1")
        one_disp = doc["data"]["records"][0]
        inside = [r for r in creates if r["id"] > one_disp["id"]]
        check("the session one made left a create record after one's dispatch", inside,
              [(r["id"], r["message"]) for r in creates])
        if inside:
            status, doc = get(base, "/api/v1/trace/records/%d/lineage" % inside[0]["id"])
            d = doc.get("data") or {}
            check("a record without an event id: the lineage of the dispatch it was made in",
                  status == 200 and d["event_id"] == one["event_id"]
                  and d["via"] == "the dispatch it was made in" and d["record"] == inside[0]["id"]
                  and sorted(k["event"] for k in d["event"]["children"]) == ["three", "two"],
                  (status, doc))
        outside = [r for r in creates if r["id"] < one_disp["id"]]
        if outside:
            status, doc = get(base, "/api/v1/trace/records/%d/lineage" % outside[0]["id"])
            check("a record made outside any handler has no lineage: 404",
                  status == 404 and "outside any handler" in doc["error"]["message"],
                  (status, doc))
        status, doc = get(base, "/api/v1/trace/records/%d/lineage" % one_disp["id"])
        d = doc.get("data") or {}
        check("a dispatch record: the lineage of its event id",
              status == 200 and d["event_id"] == one["event_id"] and d["via"] == "its event id",
              (status, doc))
        status, doc = get(base, "/api/v1/trace/records/987654321/lineage")
        check("an unknown record is a 404", status == 404, (status, doc))
        status, doc = get(base, "/api/v1/trace/records/x1/lineage")
        check("a bad record id is a 400", status == 400, (status, doc))

        # Errors.
        for bad in ["abc", "0", "-3", "1x", "99999999999999999999999"]:
            status, doc = get(base, "/api/v1/events/%s/lineage" % bad)
            check("a bad id (%s) is a 400" % bad, status == 400 and "error" in doc, (status, doc))
        status, doc = get(base, "/api/v1/events/%d/lineage" % (later["event_id"] + 100000))
        check("an unknown id is a 404 with a message",
              status == 404 and "enqueue" in doc["error"]["message"], (status, doc))
        status, doc = get(base, "/api/v1/events/%d/lineage?depth=17" % one["event_id"])
        check("depth past 16 is a 400", status == 400, (status, doc))
        status, doc = get(base, "/api/v1/events/%d/lineage?limit=0" % one["event_id"])
        check("limit 0 is a 400", status == 400, (status, doc))
    finally:
        rc = stop(proc)
        check("the subject exits cleanly on SIGTERM", rc == 0, rc)
    try:
        if known:
            spread_ids(subject, tmp, known)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    failed = results.count(False)
    print("%d passed, %d failed" % (results.count(True), failed))
    sys.exit(1 if failed or not results else 0)


if __name__ == "__main__":
    main()
