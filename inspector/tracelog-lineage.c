/*
 * Lineage: the chain of posts that led to a queue item, and what its
 * dispatch caused, read back from the log's event ids.
 *
 * The log holds no "cause" column: a post is linked to its dispatch by
 * the queue item's event id (the enqueue and the dispatch records share
 * it), and to what caused it by where it was made, inside which
 * dispatch.  So the walk reads the records around each link:
 *
 *  - an event's enqueue record: the kernel numbers queue items in the
 *    order it makes them and the log keeps records in the order they
 *    were made, so the enqueue records' event ids grow with their record
 *    ids, and a binary search over record ids finds one in O(log n)
 *    short reads (each reads forward from a record id to the next
 *    enqueue): no index on event_id, which every record would pay for;
 *  - its parent: the dispatch open when it was enqueued, found by
 *    reading back from the enqueue, a dispatch opening and a return
 *    closing one, until a dispatch that has not returned (the parent), a
 *    wait of the loop (TRACE_FILES: the post was made outside any
 *    handler), the run's start or BACK_MAX records (both: a root, with
 *    the reason).  Calls leave no dispatch record, so a post made inside
 *    a call is the calling handler's queue item's child;
 *  - its dispatch: the first dispatch (or discard) record with its
 *    event id after the enqueue, at most FWD_MAX records on (a timer set
 *    for an hour later may be further: "unknown");
 *  - its children: every enqueue made while its dispatch was open
 *    (inside the calls it made too), read up to its return, at most
 *    CHILD_SCAN_MAX records; then the next dispatches of the same queue
 *    item, if any follow at once (a signal is one queue item dispatched
 *    to each watcher in turn).
 *
 * Records the ring dropped can mislead the walk (a return dropped makes
 * a finished dispatch look open); the answer then names a wrong parent,
 * never loops: each ancestor's event id is smaller than its child's.
 * Only logs of schema 3 hold event ids as numbers; runs of older logs
 * answer -EPROTONOSUPPORT.  What the whole walk reads is bounded by
 * SCAN_BUDGET records, past which the answer says it is truncated.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

#define BACK_MAX       50000
#define FWD_MAX        1000000
#define CHILD_SCAN_MAX 200000
#define SCAN_BUDGET    5000000
#define ANCESTORS_MAX  64
/* How far past a dispatch's return the next dispatch of the same queue
 * item (a signal's next watcher) is looked for. */
#define SIBLING_SCAN 64

typedef struct lineage {
        poe__tracelog *t;
        sqlite3 *db;
        tl_legacy lg;
        int64_t run, lo, hi; /* the run's first and last record ids */
        sqlite3_stmt *next_enq, *fwd, *back, *find_disp, *one;
        int64_t scanned; /* records read by the scans, against SCAN_BUDGET */
        int64_t gc_name; /* the name id of _garbage_collect in the run, or -1 */
        bool truncated;
        size_t nodes, max_nodes;
        char *err;
        size_t errlen;
        int rc; /* the first failure, negative errno */
} lineage;

/* A scanned row: the raw columns the walk needs. */
typedef struct row {
        int64_t id, kind, event_id, event;
} row;

static int fail(lineage *l, int rc)
{
        if (!l->rc)
                l->rc = poe__tl_step_failed(l->db, rc, l->err, l->errlen);
        return l->rc;
}

static int prep(lineage *l, const char *sql, sqlite3_stmt **st)
{
        int rc = sqlite3_prepare_v2(l->db, sql, -1, st, NULL);

        return rc == SQLITE_OK ? 0 : fail(l, rc);
}

/* The first enqueue record at or after id: 1 with it in *r, 0 for none,
 * or a failure. */
static int next_enqueue(lineage *l, int64_t id, row *r)
{
        sqlite3_stmt *st = l->next_enq;
        int rc;

        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, l->hi);
        sqlite3_bind_int64(st, 3, l->run);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return fail(l, rc);
        r->id = sqlite3_column_int64(st, 0);
        r->kind = POE_TK_ENQUEUE;
        r->event_id = sqlite3_column_int64(st, 1);
        return 1;
}

/* The enqueue record of event_id, by binary search: its record id, 0
 * when the run has none, or a failure. */
static int64_t find_enqueue(lineage *l, int64_t event_id)
{
        /* A log the library did not write may hold any ids: hi and the
         * steps saturate (the last id, INT64_MAX, is still found by the
         * final read, which reaches l->hi), and the middle is taken on
         * the unsigned distance, which hi - lo can overflow. */
        int64_t lo = l->lo, hi = poe__tl_sat_add(l->hi, 1), mid;
        row r = {0, 0, 0, 0};
        int rc;

        /* The smallest record id whose next enqueue has an id >= event_id. */
        while (lo < hi) {
                mid = lo + (int64_t)(((uint64_t)hi - (uint64_t)lo) / 2);
                rc = next_enqueue(l, mid, &r);
                if (rc < 0)
                        return rc;
                if (rc == 0 || r.event_id >= event_id)
                        hi = mid;
                else
                        lo = poe__tl_sat_add(r.id, 1);
        }
        rc = next_enqueue(l, lo, &r);
        if (rc <= 0)
                return rc;
        return r.event_id == event_id ? r.id : 0;
}

/* Steps a scan statement: 1 with a row, 0 at its end, or a failure. */
static int scan_step(lineage *l, sqlite3_stmt *st, row *r)
{
        int rc = sqlite3_step(st);

        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return fail(l, rc);
        r->id = sqlite3_column_int64(st, 0);
        r->kind = sqlite3_column_int64(st, 1);
        r->event_id = sqlite3_column_int64(st, 2);
        r->event = sqlite3_column_int64(st, 3);
        l->scanned++;
        return 1;
}

static void scan_from(lineage *l, sqlite3_stmt *st, int64_t from, int64_t to)
{
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, from);
        sqlite3_bind_int64(st, 2, to);
        sqlite3_bind_int64(st, 3, l->run);
}

static bool over_budget(lineage *l)
{
        if (l->scanned < SCAN_BUDGET)
                return false;
        l->truncated = true;
        return true;
}

/*
 * The dispatch open at record id (exclusive), reading back: its record
 * id in *ret (0: none), and why there is none in *why.  0 or a failure.
 */
static int open_dispatch_at(lineage *l, int64_t id, int64_t *ret, const char **why)
{
        int64_t depth = 0, from = poe__tl_sat_sub(id, BACK_MAX);
        row r = {0, 0, 0, 0};
        int rc;

        if (from < l->lo)
                from = l->lo;

        *ret = 0;
        *why = from == l->lo ? "posted outside any handler"
                             : "its cause is further back "
                               "than the walk reads";
        scan_from(l, l->back, id, from);
        while ((rc = scan_step(l, l->back, &r)) == 1) {
                if (r.kind == POE_TK_RETURN) {
                        depth++;
                } else if (r.kind == POE_TK_DISPATCH) {
                        if (depth == 0) {
                                *ret = r.id;
                                return 0;
                        }
                        depth--;
                } else if (r.kind == POE_TK_WAIT && depth == 0) {
                        *why = "posted outside any handler";
                        return 0;
                }
                if (over_budget(l)) {
                        *why = "the walk's budget ran out";
                        return 0;
                }
        }
        return rc;
}

/* A record's column, raw. */
static int64_t record_int(lineage *l, int64_t id, const char *col)
{
        char sql[128];
        sqlite3_stmt *st = NULL;
        int64_t v = 0;

        snprintf(sql, sizeof(sql), "SELECT %s FROM records WHERE id = ?", col);
        if (prep(l, sql, &st) < 0)
                return 0;
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_ROW)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

/* Record id as the trace query gives it; JSON null for 0. */
static json_t *record_json(lineage *l, int64_t id)
{
        json_t *o = NULL;
        int rc;

        if (!id)
                return json_null();
        sqlite3_reset(l->one);
        sqlite3_bind_int64(l->one, 1, l->run);
        sqlite3_bind_int64(l->one, 2, id);
        rc = sqlite3_step(l->one);
        if (rc == SQLITE_ROW)
                o = poe__tl_row_json(l->one);
        else
                fail(l, rc == SQLITE_DONE ? SQLITE_CORRUPT : rc);
        return o;
}

/*
 * The first dispatch or discard of event_id after record id: its record
 * id and kind, or 0 (not within FWD_MAX records: *reached_end says
 * whether the scan read to the run's end, so the event is pending).
 */
static int find_dispatch(lineage *l, int64_t id, int64_t event_id, int64_t *ret, int64_t *kind,
                         bool *reached_end)
{
        int64_t to = poe__tl_sat_add(id, FWD_MAX);
        sqlite3_stmt *st = l->find_disp;
        int rc;

        if (to > l->hi)
                to = l->hi;

        *ret = 0;
        *kind = 0;
        *reached_end = to == l->hi;
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, id);
        sqlite3_bind_int64(st, 2, to);
        sqlite3_bind_int64(st, 3, l->run);
        sqlite3_bind_int64(st, 4, event_id);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) {
                l->scanned += to - id; /* the records it read */
                return 0;
        }
        if (rc != SQLITE_ROW)
                return fail(l, rc);
        *ret = sqlite3_column_int64(st, 0);
        *kind = sqlite3_column_int64(st, 1);
        l->scanned += *ret - id;
        return 0;
}

/* {"event_id","event","session","sender","timer","state","enqueue",
 *  "dispatch"} of the queue item whose enqueue is record enq. */
static json_t *node_json(lineage *l, int64_t event_id, int64_t enq, int64_t *ret_dispatch)
{
        json_t *o = json_object(), *e = record_json(l, enq), *d;
        int64_t disp = 0, kind = 0;
        bool end = false;
        const char *state;
        int bad = 0;

        *ret_dispatch = 0;
        if (!o || !e || find_dispatch(l, enq, event_id, &disp, &kind, &end) < 0) {
                json_decref(o);
                json_decref(e);
                return NULL;
        }
        state = kind == POE_TK_DISPATCH  ? "dispatched"
                : kind == POE_TK_DISCARD ? "discarded"
                : end                    ? "pending"
                                         : "unknown";
        if (kind == POE_TK_DISPATCH)
                *ret_dispatch = disp;
        d = record_json(l, disp);
        bad |= poe__tl_jset(o, "event_id", json_integer(event_id));
        bad |= poe__tl_jset(o, "event", json_incref(json_object_get(e, "event")));
        bad |= poe__tl_jset(o, "session", json_incref(json_object_get(e, "session")));
        bad |= poe__tl_jset(o, "sender", json_incref(json_object_get(e, "sender")));
        bad |= poe__tl_jset(o, "timer", json_boolean(record_int(l, enq, "arg0") == 1));
        bad |= poe__tl_jset(o, "state", json_string(state));
        bad |= poe__tl_jset(o, "enqueue", e);
        bad |= poe__tl_jset(o, "dispatch", d);
        if (bad) {
                json_decref(o);
                return NULL;
        }
        l->nodes++;
        return o;
}

/* The ancestors of the queue item whose enqueue is record enq, nearest
 * first, into arr; the root's reason into *why. */
static int ancestors(lineage *l, int64_t event_id, int64_t enq, json_t *arr, const char **why)
{
        int64_t open, parent, penq, disp;
        json_t *node;
        int rc;

        while (json_array_size(arr) < ANCESTORS_MAX) {
                rc = open_dispatch_at(l, enq, &open, why);
                if (rc < 0)
                        return rc;
                if (!open)
                        return 0;
                parent = record_int(l, open, "event_id");
                if (parent <= 0 || parent >= event_id) {
                        *why = "posted by a handler of no queue item";
                        return l->rc;
                }
                penq = find_enqueue(l, parent);
                if (penq < 0)
                        return (int)penq;
                if (penq == 0) {
                        *why = "its parent's enqueue is not in the log";
                        node = json_pack("{s:I, s:n, s:o}", "event_id", (json_int_t)parent,
                                         "enqueue", "posted_from", record_json(l, open));
                        if (!node || json_array_append_new(arr, node) < 0)
                                return -ENOMEM;
                        return 0;
                }
                node = node_json(l, parent, penq, &disp);
                if (!node || poe__tl_jset(node, "posted_from", record_json(l, open)) < 0 ||
                    json_array_append_new(arr, node) < 0)
                        return l->rc ? l->rc : -ENOMEM;
                event_id = parent;
                enq = penq;
                if (over_budget(l)) {
                        *why = "the walk's budget ran out";
                        return 0;
                }
        }
        *why = "the chain is longer than the walk follows";
        l->truncated = true;
        return 0;
}

/* The enqueues made while the dispatch at record disp was open (and
 * while the next dispatches of the same queue item were), appended to
 * out as [event_id, record id] pairs; truncated set when the dispatch
 * went on past the scan's bound. */
static int children_of(lineage *l, int64_t event_id, int64_t disp, json_t *out)
{
        int64_t depth = 0, to = poe__tl_sat_add(disp, CHILD_SCAN_MAX);
        int64_t after_return = -1;
        row r = {0, 0, 0, 0};
        int rc;

        if (to > l->hi)
                to = l->hi;
        scan_from(l, l->fwd, disp, to);
        while ((rc = scan_step(l, l->fwd, &r)) == 1) {
                if (after_return >= 0) {
                        /* Past the dispatch's return: another dispatch of
                         * the same item (a signal's next watcher) goes on,
                         * any other ends it. */
                        if (r.kind == POE_TK_DISPATCH) {
                                if (r.event_id != event_id)
                                        return 0;
                                after_return = -1;
                                continue;
                        }
                        if (++after_return > SIBLING_SCAN)
                                return 0;
                        continue;
                }
                if (r.kind == POE_TK_DISPATCH) {
                        depth++;
                } else if (r.kind == POE_TK_RETURN) {
                        if (depth == 0)
                                after_return = 0;
                        else
                                depth--;
                } else if (r.kind == POE_TK_ENQUEUE && r.event_id > event_id &&
                           r.event != l->gc_name) {
                        /* Not _garbage_collect: the kernel's own, taken
                         * off the queue without a dispatch. */
                        json_t *p = json_pack("[I,I]", (json_int_t)r.event_id, (json_int_t)r.id);

                        if (!p || json_array_append_new(out, p) < 0)
                                return -ENOMEM;
                }
                if (over_budget(l))
                        return 0;
        }
        if (rc == 0 && to < l->hi && after_return < 0)
                l->truncated = true; /* the dispatch went on past the bound */
        return rc;
}

/* node's "children", depth levels down (0: none read, truncated if it
 * has any). */
static int descend(lineage *l, json_t *node, int64_t event_id, int64_t disp, int depth)
{
        json_t *kids = json_array(), *list = json_array(), *pair, *child;
        int64_t cdisp;
        size_t i;
        int rc = 0;

        if (!kids || !list || poe__tl_jset(node, "children", kids) < 0) {
                json_decref(list);
                return -ENOMEM;
        }
        if (!disp)
                goto done;
        rc = children_of(l, event_id, disp, list);
        if (rc < 0)
                goto done;
        if (depth <= 0) {
                if (json_array_size(list))
                        l->truncated = true;
                goto done;
        }
        json_array_foreach(list, i, pair)
        {
                if (l->nodes >= l->max_nodes || over_budget(l)) {
                        l->truncated = true;
                        break;
                }
                child = node_json(l, json_integer_value(json_array_get(pair, 0)),
                                  json_integer_value(json_array_get(pair, 1)), &cdisp);
                if (!child || json_array_append_new(kids, child) < 0) {
                        rc = l->rc ? l->rc : -ENOMEM;
                        break;
                }
                rc = descend(l, child, json_integer_value(json_array_get(pair, 0)), cdisp,
                             depth - 1);
                if (rc < 0)
                        break;
        }
done:
        json_decref(list);
        return rc;
}

static int lineage_open(lineage *l)
{
        sqlite3_stmt *st = NULL;
        char sql[2048];
        int rc;

        rc = poe__tl_legacy_of(l->db, &l->lg);
        if (rc != SQLITE_OK)
                return fail(l, rc);
        if (poe__tl_legacy_run(&l->lg, l->run)) {
                poe__tl_set_err(l->err, l->errlen,
                                "trace log: run %lld was written by an older libpoe, whose "
                                "records hold no event ids to follow",
                                (long long)l->run);
                return l->rc = -EPROTONOSUPPORT;
        }
        if (prep(l, "SELECT min(id), max(id) FROM records WHERE run_id = ?", &st) < 0)
                return l->rc;
        sqlite3_bind_int64(st, 1, l->run);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(st);
                return fail(l, rc);
        }
        l->lo = sqlite3_column_int64(st, 0);
        l->hi = sqlite3_column_int64(st, 1);
        sqlite3_finalize(st);
        st = NULL;
        l->gc_name = -1;
        if (prep(l, "SELECT id FROM names WHERE run_id = ? AND text = '_garbage_collect'", &st) <
            0)
                return l->rc;
        sqlite3_bind_int64(st, 1, l->run);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                l->gc_name = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return fail(l, rc);
        /* "+run_id": read by record id, not through the run's index. */
        if (prep(l,
                 "SELECT id, event_id FROM records WHERE id >= ?1 AND id <= ?2 AND +run_id = ?3 "
                 "AND kind = 1 ORDER BY id LIMIT 1",
                 &l->next_enq) < 0 ||
            prep(l,
                 "SELECT id, kind, coalesce(event_id, 0), event FROM records WHERE id > ?1 AND "
                 "id <= ?2 AND +run_id = ?3 ORDER BY id",
                 &l->fwd) < 0 ||
            prep(l,
                 "SELECT id, kind, coalesce(event_id, 0), event FROM records WHERE id < ?1 AND "
                 "id >= ?2 AND +run_id = ?3 ORDER BY id DESC",
                 &l->back) < 0 ||
            prep(l,
                 "SELECT id, kind FROM records WHERE id > ?1 AND id <= ?2 AND +run_id = ?3 AND "
                 "kind IN (2, 4) AND event_id = ?4 ORDER BY id LIMIT 1",
                 &l->find_disp) < 0)
                return l->rc;
        poe__tl_select(&l->lg, l->run, sql, sizeof(sql));
        strncat(sql, " WHERE r.run_id = ? AND r.id = ?", sizeof(sql) - strlen(sql) - 1);
        return prep(l, sql, &l->one);
}

/*
 * The queue item record belongs to, in *ret (its run into l->run first):
 * the one its event id names (an enqueue, dispatch, return or discard),
 * else the one whose dispatch was open when it was made; *via says which.
 * 0, or a failure (-ENOENT with the message: no such record, or one made
 * outside any handler).
 */
static int record_item(lineage *l, int64_t record, int64_t *ret, const char **via)
{
        sqlite3_stmt *st = NULL;
        int64_t kind, eid, open;
        const char *why;
        int rc;

        if (prep(l, "SELECT run_id, kind, coalesce(event_id, 0) FROM records WHERE id = ?",
                 &st) < 0)
                return l->rc;
        sqlite3_bind_int64(st, 1, record);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                sqlite3_finalize(st);
                if (rc != SQLITE_DONE)
                        return fail(l, rc);
                poe__tl_set_err(l->err, l->errlen, "trace log: no record %lld (never written, "
                                "or removed by the log's bounds)", (long long)record);
                return l->rc = -ENOENT;
        }
        l->run = sqlite3_column_int64(st, 0);
        kind = sqlite3_column_int64(st, 1);
        eid = sqlite3_column_int64(st, 2);
        sqlite3_finalize(st);
        if (lineage_open(l) < 0)
                return l->rc;
        if (eid > 0 && (kind == POE_TK_ENQUEUE || kind == POE_TK_DISPATCH ||
                        kind == POE_TK_RETURN || kind == POE_TK_DISCARD)) {
                *ret = eid;
                *via = "its event id";
                return 0;
        }
        if ((rc = open_dispatch_at(l, record, &open, &why)) < 0)
                return rc;
        *ret = open ? record_int(l, open, "event_id") : 0;
        if (*ret <= 0) {
                poe__tl_set_err(l->err, l->errlen,
                                "trace log: record %lld was made outside any handler's "
                                "dispatch: it belongs to no queue item",
                                (long long)record);
                return l->rc = -ENOENT;
        }
        *via = "the dispatch it was made in";
        return 0;
}

/* Both entries: the lineage of event_id in run, or (record > 0) of the
 * queue item record belongs to. */
static json_t *lineage_run(poe__tracelog *t, int64_t run, int64_t event_id, int64_t record,
                           int depth, size_t max_nodes, int *ret_errno, char *err,
                           size_t errlen)
{
        lineage l = {.t = t, .err = err, .errlen = errlen, .max_nodes = max_nodes};
        json_t *out = NULL, *anc = NULL, *node = NULL;
        const char *why = NULL, *via = NULL;
        int64_t enq, disp = 0;
        int rc;

        *ret_errno = 0;
        l.db = poe__tl_reader_open(t, err, errlen);
        if (!l.db) {
                *ret_errno = -EIO;
                return NULL;
        }
        l.run = run ? run : poe__tracelog_run_id(t);
        if ((rc = sqlite3_exec(l.db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
                fail(&l, rc);
                goto done;
        }
        if (record > 0 ? record_item(&l, record, &event_id, &via) < 0 : lineage_open(&l) < 0)
                goto done;
        enq = l.hi ? find_enqueue(&l, event_id) : 0;
        if (enq < 0)
                goto done;
        if (enq == 0) {
                poe__tl_set_err(err, errlen,
                                "trace log: run %lld has no enqueue record of event %lld (it "
                                "was never posted, or before the log recorded TRACE_EVENTS, or "
                                "its record was removed or dropped)",
                                (long long)l.run, (long long)event_id);
                l.rc = -ENOENT;
                goto done;
        }
        node = node_json(&l, event_id, enq, &disp);
        anc = json_array();
        if (!node || !anc)
                goto nomem;
        if (ancestors(&l, event_id, enq, anc, &why) < 0)
                goto done;
        if (descend(&l, node, event_id, disp, depth) < 0)
                goto done;
        out = json_pack("{s:I, s:I, s:O, s:O, s:s?, s:i, s:I, s:I, s:b, s:I}", "run",
                        (json_int_t)l.run, "event_id", (json_int_t)event_id, "event", node,
                        "ancestors", anc, "root", why, "depth", depth, "limit",
                        (json_int_t)max_nodes, "nodes", (json_int_t)l.nodes, "truncated",
                        l.truncated, "records_read", (json_int_t)l.scanned);
        if (out && record > 0 &&
            (poe__tl_jset(out, "record", json_integer(record)) < 0 ||
             poe__tl_jset(out, "via", json_string(via)) < 0)) {
                json_decref(out);
                out = NULL;
        }
        if (!out)
                goto nomem;
        goto done;
nomem:
        if (!l.rc) {
                poe__tl_set_err(err, errlen, "trace log: out of memory");
                l.rc = -ENOMEM;
        }
done:
        if (!out)
                *ret_errno = l.rc ? l.rc : -EIO;
        json_decref(node);
        json_decref(anc);
        sqlite3_finalize(l.next_enq);
        sqlite3_finalize(l.fwd);
        sqlite3_finalize(l.back);
        sqlite3_finalize(l.find_disp);
        sqlite3_finalize(l.one);
        sqlite3_close(l.db);
        return out;
}

json_t *poe__tracelog_lineage(poe__tracelog *t, int64_t run, int64_t event_id, int depth,
                              size_t max_nodes, int *ret_errno, char *err, size_t errlen)
{
        return lineage_run(t, run, event_id, 0, depth, max_nodes, ret_errno, err, errlen);
}

json_t *poe__tracelog_record_lineage(poe__tracelog *t, int64_t record, int depth,
                                     size_t max_nodes, int *ret_errno, char *err, size_t errlen)
{
        return lineage_run(t, 0, 0, record, depth, max_nodes, ret_errno, err, errlen);
}
