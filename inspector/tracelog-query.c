/*
 * Reading the trace log: query parameters, the SQL a query becomes (fixed
 * fragments, every value a bound parameter), queries and runs.  Every
 * reader opens its own read-only connection, so queries run on any
 * thread while the writer writes (WAL).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

/* ---- query parameters ---- */

static int param_seconds(const poe__params *p, const char *key, double *ret, char *err,
                         size_t errlen)
{
        const char *v = poe__param(p, key);
        char buf[80], *end;
        double d;

        if (!v)
                return 0;
        errno = 0;
        d = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(d) || d < 0) {
                poe__tl_set_err(err, errlen, "%s: expected epoch seconds, got `%s'", key,
                                poe__tl_echo(v, buf, sizeof(buf)));
                return -EINVAL;
        }
        *ret = d;
        return 0;
}

static int param_int_named(const poe__params *p, const char *key, int64_t min, int64_t max,
                           int64_t *ret, char *err, size_t errlen)
{
        char buf[80];

        if (poe__param_int(p, key, *ret, min, max, ret) < 0) {
                poe__tl_set_err(err, errlen, "%s: expected an integer from %lld to %lld, got `%s'",
                                key, (long long)min, (long long)max,
                                poe__tl_echo(poe__param(p, key), buf, sizeof(buf)));
                return -EINVAL;
        }
        return 0;
}

/* "TRACE_EVENTS", "POE_TRACE_EVENTS", "trace_events" or "events". */
static unsigned parse_group(const char *name, size_t len)
{
        char buf[64];
        unsigned g;

        if (len == 0 || len >= sizeof(buf) - 6)
                return 0;
        memcpy(buf, name, len);
        buf[len] = '\0';
        g = poe_debug_group_parse(buf);
        if (!g) {
                memcpy(buf, "TRACE_", 6);
                memcpy(buf + 6, name, len);
                buf[len + 6] = '\0';
                g = poe_debug_group_parse(buf);
        }
        return g;
}

int poe__trace_query_parse(const poe__params *p, poe__trace_query *q, char *err, size_t errlen)
{
        const char *v, *s;
        char buf[80];
        int64_t n;

        memset(q, 0, sizeof(*q));
        q->page.limit = 100;
        if (param_seconds(p, "since", &q->since, err, errlen) < 0 ||
            param_seconds(p, "until", &q->until, err, errlen) < 0)
                return -EINVAL;
        if (poe__param(p, "session")) {
                n = 0;
                if (param_int_named(p, "session", 0, INT64_MAX, &n, err, errlen) < 0)
                        return -EINVAL;
                q->session = (poe_sid)n;
                q->has_session = true;
        }
        if ((v = poe__param(p, "group"))) {
                for (s = v;;) {
                        size_t len = strcspn(s, ",");
                        const char *a = s, *b = s + len;
                        unsigned g;

                        while (a < b && *a == ' ')
                                a++;
                        while (b > a && b[-1] == ' ')
                                b--;
                        g = parse_group(a, (size_t)(b - a));
                        if (!g) {
                                poe__tl_set_err(err, errlen,
                                                "group: unknown trace group `%s' (names "
                                                "like TRACE_EVENTS or events, comma-separated)",
                                                poe__tl_echo(v, buf, sizeof(buf)));
                                return -EINVAL;
                        }
                        q->groups |= g;
                        if (!s[len])
                                break;
                        s += len + 1;
                }
        }
        q->event = poe__param(p, "event");
        q->kind = poe__param(p, "kind");
        n = 0;
        if (param_int_named(p, "after", 0, INT64_MAX, &n, err, errlen) < 0)
                return -EINVAL;
        q->after_id = n;
        n = 0;
        if (param_int_named(p, "run", 0, INT64_MAX, &n, err, errlen) < 0)
                return -EINVAL;
        q->run_id = n;
        if (poe__param_page(p, &q->page) < 0) {
                n = 0;
                if (param_int_named(p, "offset", 0, INT64_MAX / 2, &n, err, errlen) == 0) {
                        n = 100;
                        param_int_named(p, "limit", 1, 1000, &n, err, errlen);
                }
                return -EINVAL;
        }
        if ((v = poe__param(p, "order"))) {
                if (strcmp(v, "asc") == 0) {
                        q->descending = false;
                } else if (strcmp(v, "desc") == 0) {
                        q->descending = true;
                } else {
                        poe__tl_set_err(err, errlen, "order: expected asc or desc, got `%s'",
                                        poe__tl_echo(v, buf, sizeof(buf)));
                        return -EINVAL;
                }
        }
        return 0;
}

/* ---- queries ---- */

/* SQL built from fixed fragments, with every value a bound parameter. */
typedef struct qsql {
        char sql[2048];
        size_t len;
        bool overflow;
        int n;
        struct {
                char type; /* 'i', 'd', 't' */
                int64_t i;
                double d;
                const char *t;
        } arg[48];
} qsql;

static void q_frag(qsql *b, const char *frag)
{
        size_t n = strlen(frag);

        if (b->len + n + 1 > sizeof(b->sql)) {
                b->overflow = true;
                return;
        }
        memcpy(b->sql + b->len, frag, n + 1);
        b->len += n;
}

static void q_arg(qsql *b, char type, int64_t i, double d, const char *text)
{
        if (b->n == (int)(sizeof(b->arg) / sizeof(b->arg[0]))) {
                b->overflow = true;
                return;
        }
        b->arg[b->n].type = type;
        b->arg[b->n].i = i;
        b->arg[b->n].d = d;
        b->arg[b->n].t = text;
        b->n++;
}

int64_t poe__tl_run_of(poe__tracelog *t, const poe__trace_query *q)
{
        return q && q->run_id ? q->run_id : atomic_load(&t->run_id);
}

/* The conditions q makes, on the columns of the table aliased r that
 * holds the run's records (lg says which). */
static void q_where(poe__tracelog *t, const tl_legacy *lg, const poe__trace_query *q, qsql *b)
{
        int64_t run = poe__tl_run_of(t, q);
        bool legacy = poe__tl_legacy_run(lg, run);
        unsigned g, kind;
        bool first = true;

        q_frag(b, " WHERE r.run_id = ?");
        q_arg(b, 'i', run, 0, NULL);
        if (!q)
                return;
        if (q->since > 0) {
                q_frag(b, " AND r.wall >= ?");
                q_arg(b, 'd', 0, q->since, NULL);
        }
        if (q->until > 0) {
                q_frag(b, " AND r.wall <= ?");
                q_arg(b, 'd', 0, q->until, NULL);
        }
        if (q->has_session) {
                q_frag(b, " AND r.session = ?");
                q_arg(b, 'i', (int64_t)q->session, 0, NULL);
        }
        if (q->groups) {
                /* Old records name their group, new ones hold its bit. */
                for (g = 0; g < N_GROUP_BITS; g++) {
                        const char *name = poe_debug_group_name(1u << g);

                        if (!(q->groups & (1u << g)) || !name)
                                continue;
                        q_frag(b, first ? " AND r.grp IN (?" : ", ?");
                        if (legacy)
                                q_arg(b, 't', 0, 0, name);
                        else
                                q_arg(b, 'i', (int64_t)(1u << g), 0, NULL);
                        first = false;
                }
                /* Only bits that name no group: nothing can match. */
                q_frag(b, first ? " AND 0" : ")");
        }
        if (q->event && legacy) {
                q_frag(b, " AND r.event = ?");
                q_arg(b, 't', 0, 0, q->event);
        } else if (q->event) {
                q_frag(b, " AND r.event IN (SELECT id FROM names WHERE run_id = ? AND text = ?)");
                q_arg(b, 'i', run, 0, NULL);
                q_arg(b, 't', 0, 0, q->event);
        }
        if (q->kind && legacy) {
                q_frag(b, " AND r.kind = ?");
                q_arg(b, 't', 0, 0, q->kind);
        } else if (q->kind) {
                /* A name that is no kind matches nothing, as it did. */
                kind = poe_trace_kind_parse(q->kind);
                if (kind == POE_TK_NONE || kind >= POE_TK_KINDS) {
                        q_frag(b, " AND 0");
                } else {
                        q_frag(b, " AND r.kind = ?");
                        q_arg(b, 'i', kind, 0, NULL);
                }
        }
        if (q->after_id > 0) {
                q_frag(b, " AND r.id > ?");
                q_arg(b, 'i', q->after_id, 0, NULL);
        }
        if (q->upto_id > 0) {
                q_frag(b, " AND r.id <= ?");
                q_arg(b, 'i', q->upto_id, 0, NULL);
        }
}

static int q_prepare(sqlite3 *db, qsql *b, sqlite3_stmt **st, char *err, size_t errlen)
{
        int i, rc;

        if (b->overflow) {
                poe__tl_set_err(err, errlen, "trace log: query too complex");
                return -EINVAL;
        }
        rc = sqlite3_prepare_v2(db, b->sql, -1, st, NULL);
        if (rc != SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log: cannot query it: %s", sqlite3_errmsg(db));
                return poe__tl_sqlite_errno(db, rc);
        }
        for (i = 0; i < b->n && rc == SQLITE_OK; i++) {
                if (b->arg[i].type == 'i')
                        rc = sqlite3_bind_int64(*st, i + 1, b->arg[i].i);
                else if (b->arg[i].type == 'd')
                        rc = sqlite3_bind_double(*st, i + 1, b->arg[i].d);
                else
                        rc = sqlite3_bind_text(*st, i + 1, b->arg[i].t, -1, SQLITE_STATIC);
        }
        if (rc != SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log: cannot bind a query: %s",
                                sqlite3_errmsg(db));
                sqlite3_finalize(*st);
                *st = NULL;
                return poe__tl_sqlite_errno(db, rc);
        }
        return 0;
}

/* The selection's records, in id order, paged or not. */
int poe__tl_records(poe__tracelog *t, sqlite3 *db, const poe__trace_query *q, bool paged,
                    bool descending, sqlite3_stmt **st, char *err, size_t errlen)
{
        qsql b = { .len = 0 };
        tl_legacy lg;
        int rc;

        rc = poe__tl_legacy_of(db, &lg);
        if (rc != SQLITE_OK)
                return poe__tl_step_failed(db, rc, err, errlen);
        poe__tl_select(&lg, poe__tl_run_of(t, q), b.sql, sizeof(b.sql));
        b.len = strlen(b.sql);
        q_where(t, &lg, q, &b);
        q_frag(&b, descending ? " ORDER BY r.id DESC" : " ORDER BY r.id ASC");
        if (paged) {
                q_frag(&b, " LIMIT ? OFFSET ?");
                q_arg(&b, 'i', q->page.limit > 0 ? q->page.limit : 100, 0, NULL);
                q_arg(&b, 'i', q->page.offset > 0 ? q->page.offset : 0, 0, NULL);
        }
        return q_prepare(db, &b, st, err, errlen);
}

/* The deadline of the reads the calling thread runs (a thread runs one
 * reader at a time: a query or an export is one call). */
static _Thread_local int64_t reader_deadline_ms;

/* SQLite's progress handler: non-zero interrupts the statement. */
static int reader_progress(void *arg)
{
        poe__tracelog *t = arg;

        return atomic_load_explicit(&t->cancel_readers, memory_order_relaxed) ||
               now_ms() > reader_deadline_ms;
}

int poe__tl_busy_wait(int count, bool stop, int64_t *since)
{
        struct timespec ts = { 0, READER_BUSY_STEP_MS * 1000000L };

        if (count == 0)
                *since = now_ms();
        if (stop || now_ms() - *since >= READER_BUSY_MS)
                return 0;
        nanosleep(&ts, NULL);
        return 1;
}

/* When the calling thread's reader began waiting for a lock. */
static _Thread_local int64_t reader_busy_since_ms;

/* SQLite's busy handler, in place of a plain busy timeout: a reader
 * waiting for a lock stops waiting as soon as it must stop (the log's
 * owner stopping, its deadline), not READER_BUSY_MS later. */
static int reader_busy(void *arg, int count)
{
        return poe__tl_busy_wait(count, reader_progress(arg) != 0, &reader_busy_since_ms);
}

sqlite3 *poe__tl_reader_open(poe__tracelog *t, char *err, size_t errlen)
{
        int64_t ms = t ? atomic_load(&t->query_deadline_ms) : 0;

        return poe__tl_reader_open_for(t, ms ? ms : QUERY_DEADLINE_MS, err, errlen);
}

void poe__tracelog_set_query_deadline(poe__tracelog *t, int64_t ms)
{
        atomic_store(&t->query_deadline_ms, ms);
}

void poe__tracelog_set_export_deadline(poe__tracelog *t, int64_t ms)
{
        atomic_store(&t->export_deadline_ms, ms);
}

sqlite3 *poe__tl_reader_open_for(poe__tracelog *t, int64_t deadline_ms, char *err,
                                 size_t errlen)
{
        sqlite3 *db = NULL;
        int rc;

        if (!t) {
                poe__tl_set_err(err, errlen, "no trace log");
                return NULL;
        }
        rc = sqlite3_open_v2(t->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                poe__tl_fail_db(db, rc, t->path, "cannot open it for reading", err, errlen);
                sqlite3_close(db);
                return NULL;
        }
        /* Checked every 1000 virtual machine steps: a few microseconds;
         * and every READER_BUSY_STEP_MS while it waits for a lock. */
        reader_deadline_ms = now_ms() + deadline_ms;
        sqlite3_progress_handler(db, 1000, reader_progress, t);
        sqlite3_busy_handler(db, reader_busy, t);

        /* Records are rendered as they are read (tracelog-render.c). */
        rc = poe__tl_register_functions(db);
        if (rc != SQLITE_OK) {
                poe__tl_fail_db(db, rc, t->path, "cannot prepare it for reading", err, errlen);
                sqlite3_close(db);
                return NULL;
        }
        return db;
}

void poe__tracelog_cancel_readers(poe__tracelog *t)
{
        if (t)
                atomic_store(&t->cancel_readers, true);
}

json_t *poe__tl_col_text(sqlite3_stmt *st, int i)
{
        const char *s = (const char *)sqlite3_column_text(st, i);

        if (!s)
                return json_null();
        return poe__tl_jstr_n(s, (size_t)sqlite3_column_bytes(st, i));
}

json_t *poe__tl_col_int_or_null(sqlite3_stmt *st, int i)
{
        if (sqlite3_column_type(st, i) == SQLITE_NULL)
                return json_null();
        return json_integer(sqlite3_column_int64(st, i));
}

/* A record row as JSON. */
json_t *poe__tl_row_json(sqlite3_stmt *st)
{
        json_t *o = json_object();
        int bad = 0;

        if (!o)
                return NULL;
        bad |= poe__tl_jset(o, "id", json_integer(sqlite3_column_int64(st, COL_ID)));
        bad |= poe__tl_jset(o, "run", json_integer(sqlite3_column_int64(st, COL_RUN)));
        bad |= poe__tl_jset(o, "mono_ns", json_integer(sqlite3_column_int64(st, COL_MONO_NS)));
        bad |= poe__tl_jset(o, "wall", json_real(sqlite3_column_double(st, COL_WALL)));
        bad |= poe__tl_jset(o, "group", poe__tl_col_text(st, COL_GROUP));
        bad |= poe__tl_jset(o, "prefix", poe__tl_col_text(st, COL_PREFIX));
        bad |= poe__tl_jset(o, "kind", poe__tl_col_text(st, COL_KIND));
        bad |= poe__tl_jset(o, "session", json_integer(sqlite3_column_int64(st, COL_SESSION)));
        bad |= poe__tl_jset(o, "event", poe__tl_col_text(st, COL_EVENT));
        bad |= poe__tl_jset(o, "sender", json_integer(sqlite3_column_int64(st, COL_SENDER)));
        bad |= poe__tl_jset(o, "refcount", json_integer(sqlite3_column_int64(st, COL_REFCOUNT)));
        bad |= poe__tl_jset(o, "queue", json_integer(sqlite3_column_int64(st, COL_QUEUE)));
        bad |= poe__tl_jset(o, "message", poe__tl_col_text(st, COL_MESSAGE));
        bad |= poe__tl_jset(o, "event_id", poe__tl_col_int_or_null(st, COL_EVENT_ID));
        if (bad) {
                json_decref(o);
                return NULL;
        }
        return o;
}

int poe__tl_step_failed(sqlite3 *db, int rc, char *err, size_t errlen)
{
        if ((rc & 0xff) == SQLITE_INTERRUPT)
                poe__tl_set_err(err, errlen,
                                "trace log: the read was stopped: it ran past its deadline "
                                "(%d s for a query, %d s for an export) or the log is closing",
                                QUERY_DEADLINE_MS / 1000, EXPORT_DEADLINE_MS / 1000);
        else
                poe__tl_set_err(err, errlen, "trace log: reading it failed: %s",
                                sqlite3_errmsg(db));
        return poe__tl_sqlite_errno(db, rc);
}

json_t *poe__tracelog_query(poe__tracelog *t, const poe__trace_query *q, char *err, size_t errlen)
{
        sqlite3 *db = poe__tl_reader_open(t, err, errlen);
        sqlite3_stmt *st = NULL;
        json_t *out = NULL, *recs = NULL, *r;
        int64_t total = 0;
        qsql b = { .len = 0 };
        tl_legacy lg;
        int rc;

        if (!db)
                return NULL;
        if (!q) {
                poe__tl_set_err(err, errlen, "trace log: no query");
                goto done;
        }
        /* The total and the page, in one read transaction: the writer
         * may commit between two statements otherwise. */
        if ((rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL)) != SQLITE_OK) {
                poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        if ((rc = poe__tl_legacy_of(db, &lg)) != SQLITE_OK) {
                poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        q_frag(&b, "SELECT count(*) FROM ");
        q_frag(&b, poe__tl_legacy_run(&lg, poe__tl_run_of(t, q)) ? lg.table : "records");
        q_frag(&b, " r");
        q_where(t, &lg, q, &b);
        if (q_prepare(db, &b, &st, err, errlen) < 0)
                goto done;
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW) {
                poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        total = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        st = NULL;
        if (poe__tl_records(t, db, q, true, q->descending, &st, err, errlen) < 0)
                goto done;
        recs = json_array();
        if (!recs)
                goto nomem;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                r = poe__tl_row_json(st);
                if (!r || json_array_append_new(recs, r) < 0)
                        goto nomem;
        }
        if (rc != SQLITE_DONE) {
                poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        out = json_object();
        if (!out || json_object_set_new(out, "records", recs) < 0) {
                recs = NULL;
                goto nomem;
        }
        recs = NULL;
        if (poe__tl_jset(out, "total", json_integer(total)) < 0)
                goto nomem;
        goto done;
nomem:
        poe__tl_set_err(err, errlen, "trace log: out of memory");
        json_decref(out);
        out = NULL;
done:
        json_decref(recs);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
}

/* The runs, with what each log version knows of them: a log of version
 * 1 or 2 read as it is has no counts but its drops (and its answer is
 * what it always was); a log of version 3 keeps each run's produced and
 * written counts and what the bounds removed, and a migrated one counts
 * its old runs' records in the old table. */
static const char runs_v2_sql[] =
        "SELECT r.id, r.pid, r.kernel_id, r.started, r.hostname, r.poe_version, "
        "(SELECT count(*) FROM records WHERE run_id = r.id), "
        "(SELECT count(*) FROM sessions WHERE run_id = r.id), "
        "(SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = r.id) "
        "FROM runs r ORDER BY r.id";
static const char runs_v3_sql[] =
        "SELECT r.id, r.pid, r.kernel_id, r.started, r.hostname, r.poe_version, "
        "(SELECT count(*) FROM records WHERE run_id = r.id), "
        "(SELECT count(*) FROM sessions WHERE run_id = r.id), "
        "(SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = r.id), "
        "r.written, (SELECT coalesce(sum(count), 0) FROM removed WHERE run_id = r.id), "
        "r.produced, r.ended "
        "FROM runs r ORDER BY r.id";
static const char runs_migrated_sql[] =
        "SELECT r.id, r.pid, r.kernel_id, r.started, r.hostname, r.poe_version, "
        "(SELECT count(*) FROM records WHERE run_id = r.id) + "
        "(SELECT count(*) FROM records_v2 WHERE run_id = r.id), "
        "(SELECT count(*) FROM sessions WHERE run_id = r.id), "
        "(SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = r.id), "
        "r.written, (SELECT coalesce(sum(count), 0) FROM removed WHERE run_id = r.id), "
        "r.produced, r.ended "
        "FROM runs r ORDER BY r.id";

/* The counts of schema 3 (columns 9 to 12): what the bounds removed, and
 * the records that never reached the file, known when the run recorded
 * what it produced (a run before version 3 did not). */
static int run_counts(json_t *o, sqlite3_stmt *st)
{
        bool known = sqlite3_column_type(st, 9) != SQLITE_NULL &&
                     sqlite3_column_type(st, 11) != SQLITE_NULL;
        int64_t lost = sqlite3_column_int64(st, 11) - sqlite3_column_int64(st, 9) -
                       sqlite3_column_int64(st, 8);
        int bad;

        bad = poe__tl_jset(o, "written", poe__tl_col_int_or_null(st, 9));
        bad |= poe__tl_jset(o, "removed", json_integer(sqlite3_column_int64(st, 10)));
        bad |= poe__tl_jset(o, "produced", poe__tl_col_int_or_null(st, 11));
        bad |= poe__tl_jset(o, "lost", known ? json_integer(lost) : json_null());
        bad |= poe__tl_jset(o, "ended", sqlite3_column_type(st, 12) == SQLITE_NULL
                                                ? json_null()
                                                : json_real(sqlite3_column_double(st, 12)));
        return bad;
}

json_t *poe__tracelog_runs(poe__tracelog *t, char *err, size_t errlen)
{
        sqlite3 *db = poe__tl_reader_open(t, err, errlen);
        sqlite3_stmt *st = NULL;
        json_t *out = NULL, *o;
        tl_legacy lg;
        bool v3;
        int rc, bad;

        if (!db)
                return NULL;
        rc = poe__tl_legacy_of(db, &lg);
        v3 = !lg.table || strcmp(lg.table, "records_v2") == 0;
        if (rc == SQLITE_OK)
                rc = sqlite3_prepare_v2(db,
                                        !v3     ? runs_v2_sql
                                        : lg.table ? runs_migrated_sql
                                                   : runs_v3_sql,
                                        -1, &st, NULL);
        if (rc != SQLITE_OK) {
                poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        out = json_array();
        if (!out)
                goto nomem;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                o = json_object();
                if (!o)
                        goto nomem;
                bad = poe__tl_jset(o, "id", json_integer(sqlite3_column_int64(st, 0)));
                bad |= poe__tl_jset(o, "pid", json_integer(sqlite3_column_int64(st, 1)));
                bad |= poe__tl_jset(o, "kernel_id", poe__tl_col_text(st, 2));
                bad |= poe__tl_jset(o, "started", json_real(sqlite3_column_double(st, 3)));
                bad |= poe__tl_jset(o, "hostname", poe__tl_col_text(st, 4));
                bad |= poe__tl_jset(o, "poe_version", poe__tl_col_text(st, 5));
                bad |= poe__tl_jset(o, "records", json_integer(sqlite3_column_int64(st, 6)));
                bad |= poe__tl_jset(o, "sessions", json_integer(sqlite3_column_int64(st, 7)));
                bad |= poe__tl_jset(o, "dropped", json_integer(sqlite3_column_int64(st, 8)));
                bad |= poe__tl_jset(o, "current",
                                    json_boolean(sqlite3_column_int64(st, 0) ==
                                                 atomic_load(&t->run_id)));
                if (v3)
                        bad |= run_counts(o, st);
                if (bad) {
                        json_decref(o);
                        goto nomem;
                }
                if (json_array_append_new(out, o) < 0)
                        goto nomem;
        }
        if (rc != SQLITE_DONE) {
                poe__tl_step_failed(db, rc, err, errlen);
                json_decref(out);
                out = NULL;
        }
        goto done;
nomem:
        poe__tl_set_err(err, errlen, "trace log: out of memory");
        json_decref(out);
        out = NULL;
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        return out;
}
