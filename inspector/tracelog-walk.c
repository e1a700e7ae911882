/*
 * Reading the trace log a piece at a time, for readers that print what
 * they read (poe-trace) rather than answer with it: the records a query
 * selects and the sessions a run mentions, handed over one object at a
 * time, never all held at once; a run's pid, which POE's text lines
 * carry; and the JSON text of one object, as the JSON Lines export
 * writes it.  Each read opens its own read-only connection
 * (tracelog-query.c), so it runs on any thread, as queries do.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "tracelog-internal.h"

/* What a failed read returns: the interface promises -ENOMEM or -EIO
 * (a deadline, a cancellation, a damaged or vanished file alike). */
static int read_failed(int rc)
{
        return rc == -ENOMEM ? rc : -EIO;
}

/* Steps st to its end, handing fn each row as make builds it.  0, fn's
 * non-zero return, or -ENOMEM / -EIO with err. */
static int walk_rows(sqlite3 *db, sqlite3_stmt *st, json_t *(*make)(sqlite3_stmt *, void *),
                     void *make_arg, poe__tracelog_walk_fn fn, void *ctx, char *err,
                     size_t errlen)
{
        json_t *item;
        int rc, r;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                item = make(st, make_arg);
                if (!item) {
                        poe__tl_set_err(err, errlen, "trace log: out of memory");
                        return -ENOMEM;
                }
                r = fn(ctx, item);
                json_decref(item);
                if (r != 0)
                        return r;
        }
        if (rc != SQLITE_DONE)
                return read_failed(poe__tl_step_failed(db, rc, err, errlen));
        return 0;
}

/* ---- records ---- */

static json_t *record_item(sqlite3_stmt *st, void *unused)
{
        (void)unused;
        return poe__tl_row_json(st);
}

int poe__tracelog_walk_records(poe__tracelog *t, const poe__trace_query *q,
                               poe__tracelog_walk_fn fn, void *ctx, char *err, size_t errlen)
{
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        int rc;

        if (!t || !q || !fn) {
                poe__tl_set_err(err, errlen, "trace log: no log, query or callback to walk");
                return -EINVAL;
        }
        db = poe__tl_reader_open(t, err, errlen);
        if (!db)
                return -EIO;
        /* One snapshot for the whole walk, as an export takes: the writer
         * may commit between two steps otherwise. */
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                rc = read_failed(poe__tl_step_failed(db, rc, err, errlen));
                goto done;
        }
        rc = poe__tl_records(t, db, q, q->page.limit > 0, q->descending, &st, err, errlen);
        if (rc < 0) {
                rc = read_failed(rc);
                goto done;
        }
        rc = walk_rows(db, st, record_item, NULL, fn, ctx, err, errlen);
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc;
}

/* ---- sessions ---- */

static json_t *session_item(sqlite3_stmt *st, void *arg)
{
        const int64_t *run = arg;

        return json_pack("{sIsIsfsfsI}", "run", (json_int_t)*run, "session",
                         (json_int_t)sqlite3_column_int64(st, 0), "first_seen",
                         sqlite3_column_double(st, 1), "last_seen", sqlite3_column_double(st, 2),
                         "records", (json_int_t)sqlite3_column_int64(st, 3));
}

int poe__tracelog_walk_sessions(poe__tracelog *t, int64_t run, poe__tracelog_walk_fn fn,
                                void *ctx, char *err, size_t errlen)
{
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        char sql[300];
        tl_legacy lg;
        int rc;

        if (!t || !fn) {
                poe__tl_set_err(err, errlen, "trace log: no log or callback to walk");
                return -EINVAL;
        }
        db = poe__tl_reader_open(t, err, errlen);
        if (!db)
                return -EIO;
        /* The run's records are in the old table if it is an old run (a
         * fixed name, never the user's): the only text put into the SQL. */
        rc = poe__tl_legacy_of(db, &lg);
        if (rc == SQLITE_OK) {
                snprintf(sql, sizeof(sql),
                         "SELECT s.session_id, s.first_seen, s.last_seen, "
                         "(SELECT count(*) FROM %s r WHERE r.run_id = s.run_id "
                         "AND r.session = s.session_id) "
                         "FROM sessions s WHERE s.run_id = ? ORDER BY s.session_id",
                         poe__tl_legacy_run(&lg, run) ? lg.table : "records");
                rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
        }
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, run);
        if (rc != SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log: cannot read its sessions: %s",
                                sqlite3_errmsg(db));
                rc = read_failed(poe__tl_sqlite_errno(db, rc));
                goto done;
        }
        rc = walk_rows(db, st, session_item, &run, fn, ctx, err, errlen);
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc;
}

/* ---- runs ---- */

int poe__tracelog_run_pid(poe__tracelog *t, int64_t run, int64_t *ret_pid, char *err,
                          size_t errlen)
{
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        if (!t || !ret_pid) {
                poe__tl_set_err(err, errlen, "trace log: no log or no place for the pid");
                return -EINVAL;
        }
        db = poe__tl_reader_open(t, err, errlen);
        if (!db)
                return -EIO;
        rc = sqlite3_prepare_v2(db, "SELECT pid FROM runs WHERE id = ?", -1, &st, NULL);
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, run);
        if (rc == SQLITE_OK)
                rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *ret_pid = sqlite3_column_int64(st, 0);
        } else if (rc == SQLITE_DONE) {
                poe__tl_set_err(err, errlen, "trace log: no run %lld", (long long)run);
                r = -ENOENT;
        } else {
                poe__tl_set_err(err, errlen, "trace log: cannot read its runs: %s",
                                sqlite3_errmsg(db));
                r = read_failed(poe__tl_sqlite_errno(db, rc));
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
        return r;
}

/* ---- JSON text ---- */

/* Through the export's own buffer and flags (poe__tl_ob_json), so that a
 * line printed from this is the export's line. */
char *poe__tracelog_json_text(json_t *j, size_t *ret_len)
{
        obuf b = { .p = NULL };

        if (!j)
                return NULL;
        poe__tl_ob_json(&b, json_incref(j));
        if (b.oom || !b.p) {
                free(b.p);
                return NULL;
        }
        if (ret_len)
                *ret_len = b.len;
        return b.p;
}
