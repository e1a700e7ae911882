#!/usr/bin/env python3
"""check_chrome: a Chrome trace (Trace Event Format JSON) against the
format's rules, as Perfetto and chrome://tracing read them.

    check_chrome.py FILE...

Prints, per file, the figures (events, slices, flows) and every rule
broken (the first few cases of each); exits 1 if any file breaks one.
test_chrome.py imports it.  The rules:

- json: the file is one JSON value (no NaN or Infinity, no key twice in
  an object): an array of events, or an object whose traceEvents is one;
  displayTimeUnit, if there, "ms" or "ns"; otherData, if there, an object.
- fields: each event is an object with a known ph and the fields its
  phase needs: name (a string), ts (a number), pid and tid (integers) on
  everything but metadata; dur >= 0 on X; id on flows (s, t, f); bp, if
  there, "e"; an instant's s, if there, "g", "p" or "t"; args, if there,
  an object; cat, if there, a string.
- metadata: M events name process_name, process_labels,
  process_sort_index, thread_name or thread_sort_index, with the args
  each needs (name a string, sort_index an integer); each thread with
  events has a thread_name and each process a process_name, one name
  each.
- order: B and E events of a track come in time order in the file
  (the format wants them sorted per thread; X and the rest need not be).
- nesting: on each track (pid, tid) the slices (X events, B/E pairs)
  nest: one that begins inside another ends inside it too; every E has
  its B (same name, when it names one), every B its E.
- flows: a flow is its (cat, name, id), as Perfetto pairs v1 flows; it
  has one s, one f and any t, s no later than its t and no later than f.
  Its s and each t lies inside a slice on its own track at its ts
  (start <= ts <= end), where Perfetto binds it; its f inside one too
  with bp "e" (the enclosing slice), else a slice begins on its track at
  or after its ts (the next slice, which it binds).  A flow whose start
  or end binds no slice is one Perfetto drops: counted as dangling.

Timestamps are read as exact decimals (microseconds, to the
nanosecond), so a 1 ns slice compares right at any uptime.
"""
import bisect
import collections
import decimal
import json
import sys

PHASES = set("BEXiIsStfMCbenNODPpRTF")
META = {"process_name": ("name", str), "process_labels": ("labels", str),
        "process_sort_index": ("sort_index", int), "thread_name": ("name", str),
        "thread_sort_index": ("sort_index", int)}
EXAMPLES = 5


class Report:
    """The problems found, by rule, and the figures."""

    def __init__(self):
        self.problems = collections.OrderedDict()
        self.counts = collections.Counter()
        self.figures = {}

    def bad(self, rule, what):
        self.counts[rule] += 1
        ex = self.problems.setdefault(rule, [])
        if len(ex) < EXAMPLES:
            ex.append(what)

    @property
    def ok(self):
        return not self.counts

    def text(self):
        lines = ["  " + ", ".join("%s %s" % (k, v) for k, v in self.figures.items())]
        for rule, ex in self.problems.items():
            lines.append("  %s: %d problem(s)" % (rule, self.counts[rule]))
            lines.extend("    " + e for e in ex)
        return "\n".join(lines)


def _no_dupes(pairs):
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("key %r twice in one object" % k)
        d[k] = v
    return d


def _no_constant(name):
    raise ValueError("%s is not JSON" % name)


def load(text):
    """The parsed document; ValueError if it is not JSON."""
    return json.loads(text, parse_float=decimal.Decimal, parse_constant=_no_constant,
                      object_pairs_hook=_no_dupes)


def _num(v):
    return isinstance(v, (int, float, decimal.Decimal)) and not isinstance(v, bool)


def _int(v):
    return isinstance(v, int) and not isinstance(v, bool)


def _ns(v):
    """Microseconds (a JSON number) as integer nanoseconds."""
    if isinstance(v, float):
        v = repr(v)  # as written, not as stored in binary
    return int((decimal.Decimal(v) * 1000).to_integral_value(rounding=decimal.ROUND_HALF_EVEN))


def _desc(i, ev):
    return "event %d %s" % (i, json.dumps(ev, default=str)[:200])


def check_doc(doc, r=None):
    """Checks a parsed document; returns the Report."""
    r = r or Report()
    if isinstance(doc, list):
        events = doc
    elif isinstance(doc, dict) and isinstance(doc.get("traceEvents"), list):
        events = doc["traceEvents"]
        if doc.get("displayTimeUnit", "ms") not in ("ms", "ns"):
            r.bad("json", "displayTimeUnit %r" % doc["displayTimeUnit"])
        if "otherData" in doc and not isinstance(doc["otherData"], dict):
            r.bad("json", "otherData is not an object")
    else:
        r.bad("json", "neither an array of events nor an object with traceEvents")
        return r

    names = collections.defaultdict(set)  # ("p", pid) / ("t", pid, tid) -> names
    used = set()                           # tracks with events
    be = collections.defaultdict(list)     # track -> [(ns, ph, name, i)]
    slices = collections.defaultdict(list)  # track -> [(start, end, i)]
    flows = collections.defaultdict(list)  # (cat, name, id) -> [(ph, ns, track, bp, i)]
    per_ph = collections.Counter()

    for i, ev in enumerate(events):
        if not isinstance(ev, dict):
            r.bad("fields", "event %d is not an object" % i)
            continue
        ph = ev.get("ph")
        if not isinstance(ph, str) or ph not in PHASES:
            r.bad("fields", "%s: unknown ph" % _desc(i, ev))
            continue
        per_ph[ph] += 1
        if "args" in ev and not isinstance(ev["args"], dict):
            r.bad("fields", "%s: args is not an object" % _desc(i, ev))
        if "cat" in ev and not isinstance(ev["cat"], str):
            r.bad("fields", "%s: cat is not a string" % _desc(i, ev))
        if ph == "M":
            check_meta(r, i, ev, names)
            continue
        missing = [k for k, t in (("name", str), ("ts", None), ("pid", int), ("tid", int))
                   if k not in ev or (t is str and not isinstance(ev[k], str)) or
                   (t is int and not _int(ev[k])) or (t is None and not _num(ev[k]))]
        if missing:
            r.bad("fields", "%s: no valid %s" % (_desc(i, ev), ", ".join(missing)))
            continue
        track = (ev["pid"], ev["tid"])
        used.add(track)
        ns = _ns(ev["ts"])
        if ph == "X":
            if not _num(ev.get("dur")) or ev["dur"] < 0:
                r.bad("fields", "%s: X with no dur >= 0" % _desc(i, ev))
                continue
            slices[track].append((ns, ns + _ns(ev["dur"]), i))
        elif ph in "BE":
            be[track].append((ns, ph, ev["name"], i))
        elif ph in "iI":
            if ev.get("s", "t") not in ("g", "p", "t"):
                r.bad("fields", "%s: instant scope %r" % (_desc(i, ev), ev.get("s")))
        elif ph in "stf":
            fid = ev.get("id")
            if not (_int(fid) or isinstance(fid, str)):
                r.bad("fields", "%s: flow with no id" % _desc(i, ev))
                continue
            if "bp" in ev and ev["bp"] != "e":
                r.bad("fields", "%s: bp %r" % (_desc(i, ev), ev["bp"]))
            flows[(ev.get("cat"), ev["name"], fid)].append((ph, ns, track, ev.get("bp"), i))

    # B/E: in time order per track, each E closing the innermost B.
    for track, evs in be.items():
        stack, last = [], None
        for ns, ph, name, i in evs:
            if last is not None and ns < last:
                r.bad("order", "track %s: event %d (%s) before the one above it" % (track, i, ph))
            last = ns
            if ph == "B":
                stack.append((ns, name, i))
            elif not stack:
                r.bad("nesting", "track %s: E (event %d) with no B" % (track, i))
            else:
                b_ns, b_name, b_i = stack.pop()
                if name and b_name and name != b_name:
                    r.bad("nesting", "track %s: E %r (event %d) closes B %r (event %d)" %
                          (track, name, i, b_name, b_i))
                slices[track].append((b_ns, ns, b_i))
        for b_ns, b_name, b_i in stack:
            r.bad("nesting", "track %s: B %r (event %d) never ends" % (track, b_name, b_i))

    # Nesting: sorted by start, longest first, each slice inside the
    # innermost one still open; parents kept for the flows' look-ups.
    index = {}
    for track, sl in slices.items():
        sl.sort(key=lambda s: (s[0], -s[1], s[2]))
        parent = [-1] * len(sl)
        stack = []
        for k, (start, end, i) in enumerate(sl):
            # One that begins as the other ends follows it, unless it
            # is empty (then it is inside, as an instant at its end).
            while stack and (sl[stack[-1]][1] < start or
                             (sl[stack[-1]][1] == start and end > start)):
                stack.pop()
            if stack:
                p_start, p_end, p_i = sl[stack[-1]]
                if end > p_end:
                    r.bad("nesting", "track %s: event %d [%d, %d] overlaps event %d [%d, %d] "
                          "without nesting" % (track, i, start, end, p_i, p_start, p_end))
                parent[k] = stack[-1]
            stack.append(k)
        index[track] = ([s[0] for s in sl], sl, parent)

    def enclosing(track, ns):
        if track not in index:
            return None
        starts, sl, parent = index[track]
        # The last slice begun by ns, then its parents: a slice that
        # began earlier and lasts past ns holds that one, so it is one
        # of them (the slices nest, or "nesting" says they do not).
        k = bisect.bisect_right(starts, ns) - 1
        while k >= 0:
            if sl[k][1] >= ns:
                return sl[k]
            k = parent[k]
        return None

    def next_slice(track, ns):
        if track not in index:
            return None
        starts, sl, _ = index[track]
        k = bisect.bisect_left(starts, ns)
        return sl[k] if k < len(sl) else None

    dangling = 0
    for key, evs in flows.items():
        s = [e for e in evs if e[0] == "s"]
        f = [e for e in evs if e[0] == "f"]
        t = [e for e in evs if e[0] == "t"]
        ok = True
        if len(s) != 1 or len(f) != 1:
            r.bad("flows", "flow %r: %d start(s), %d end(s)" % (key, len(s), len(f)))
            ok = False
        if s and f and (s[0][1] > f[0][1] or any(not s[0][1] <= e[1] <= f[0][1] for e in t)):
            r.bad("flows", "flow %r: its events are out of time order" % (key,))
        for ph, ns, track, bp, i in evs:
            if ph in "st" or bp == "e":
                if enclosing(track, ns) is None:
                    r.bad("flows", "flow %r: %s (event %d) at %d ns is inside no slice on "
                          "track %s" % (key, ph, i, ns, track))
                    ok = False
            elif next_slice(track, ns) is None:
                r.bad("flows", "flow %r: f (event %d) at %d ns has no slice after it on "
                      "track %s" % (key, i, ns, track))
                ok = False
        dangling += not ok

    # Metadata: a name for each process and thread with events.
    for pid, tid in sorted(used):
        if not names.get(("p", pid)):
            r.bad("metadata", "process %s has no process_name" % pid)
            names[("p", pid)] = {"(reported)"}
        if not names.get(("t", pid, tid)):
            r.bad("metadata", "thread %s/%s has no thread_name" % (pid, tid))
    for key, v in names.items():
        if len(v) > 1:
            r.bad("metadata", "%s named %s" % (key, sorted(v)))

    r.figures.update(events=len(events), slices=sum(len(s) for s in slices.values()),
                     flows=len(flows), dangling_flows=dangling, tracks=len(used),
                     **{"ph_" + k: v for k, v in sorted(per_ph.items())})
    return r


def check_meta(r, i, ev, names):
    name = ev.get("name")
    if name not in META:
        r.bad("metadata", "%s: unknown metadata name" % _desc(i, ev))
        return
    key, typ = META[name]
    args = ev.get("args")
    if not _int(ev.get("pid")) or (name.startswith("thread") and not _int(ev.get("tid"))):
        r.bad("metadata", "%s: no pid/tid" % _desc(i, ev))
        return
    if not isinstance(args, dict) or key not in args or not (
            isinstance(args[key], str) if typ is str else _int(args[key])):
        r.bad("metadata", "%s: args.%s missing or not a %s" % (_desc(i, ev), key, typ.__name__))
        return
    if name == "process_name":
        names[("p", ev["pid"])].add(args[key])
    elif name == "thread_name":
        names[("t", ev["pid"], ev["tid"])].add(args[key])


def check_text(text):
    r = Report()
    try:
        doc = load(text)
    except ValueError as e:
        r.bad("json", "not JSON: %s" % e)
        return r
    return check_doc(doc, r)


def check_file(path):
    with open(path, "rb") as f:
        data = f.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        r = Report()
        r.bad("json", "not UTF-8: %s" % e)
        return r
    return check_text(text)


def main(argv):
    bad = 0
    for path in argv[1:]:
        r = check_file(path)
        print("%s: %s" % (path, "ok" if r.ok else "BROKEN"))
        print(r.text())
        bad += not r.ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
