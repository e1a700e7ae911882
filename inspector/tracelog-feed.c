/*
 * The OTLP feed: the OTLP export's spans of the log's current run, as
 * they are written, for the inspector's live push (otlp-push.c).  Each
 * poll reads the records written since the last (id > the last it read,
 * at most a given number), through the same code as the file export
 * (tracelog-otlp.c), which keeps what is open (dispatches waiting for
 * their return, posts for their dispatch) from one poll to the next, and
 * hands out the lines that ended: each one OTLP/JSON TracesData, a
 * request's body.  A new run (the file replaced under the writer) starts
 * the feed again.  The thread that polls owns the feed; one connection
 * per poll, under the query deadline, so a poll never holds a snapshot
 * (and the WAL) between two.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-internal.h"

/* The ends of the lines a poll made: where each ends in the buffer, and
 * its spans. */
typedef struct line_mark {
        size_t end, spans;
} line_mark;

struct poe__otlp_feed {
        poe__tracelog *t;
        char *service;
        size_t spans_per_line;
        int64_t run, last_id;
        obuf out;
        tl_pair_counts counts;
        tl_otlp *otlp;
        line_mark *marks;
        size_t n_marks, cap_marks;
        bool oom;
        int64_t deadline_ms; /* of the poll under way */
};

/* A poll's reads stop at its deadline, not when the log's owner cancels
 * the readers: the push's last poll comes after that, while the
 * inspector stops. */
static int feed_progress(void *arg)
{
        poe__otlp_feed *f = arg;

        return now_ms() > f->deadline_ms;
}

static void on_line(void *ctx, size_t end, size_t spans)
{
        poe__otlp_feed *f = ctx;
        line_mark *m;

        if (f->n_marks == f->cap_marks) {
                size_t cap = f->cap_marks ? f->cap_marks * 2 : 16;

                m = realloc(f->marks, cap * sizeof(*m));
                if (!m) {
                        f->oom = true;
                        return;
                }
                f->marks = m;
                f->cap_marks = cap;
        }
        f->marks[f->n_marks++] = (line_mark){ .end = end, .spans = spans };
}

int poe__otlp_feed_new(poe__tracelog *t, const char *service, size_t spans_per_line,
                       poe__otlp_feed **ret)
{
        poe__otlp_feed *f;

        if (!t || !ret)
                return -EINVAL;
        f = calloc(1, sizeof(*f));
        if (!f || (service && !(f->service = strdup(service)))) {
                free(f);
                return -ENOMEM;
        }
        f->t = t;
        f->spans_per_line = spans_per_line;
        *ret = f;
        return 0;
}

/* Drops what the feed holds of its run: the next poll starts run. */
static void feed_restart(poe__otlp_feed *f, int64_t run)
{
        poe__tl_otlp_free(f->otlp);
        f->otlp = NULL;
        f->run = run;
        f->last_id = 0;
        memset(&f->counts, 0, sizeof(f->counts));
}

int poe__otlp_feed_poll(poe__otlp_feed *f, size_t max_records, bool finish, poe__otlp_line_fn fn,
                        void *ctx, char *err, size_t errlen)
{
        poe__trace_query q;
        sqlite3_stmt *st = NULL;
        sqlite3 *db;
        int64_t run = atomic_load(&f->t->run_id);
        size_t n = 0, i, start;
        int rc = 0, r;

        if (run == 0)
                return 0; /* the log is not open yet */
        if (run != f->run)
                feed_restart(f, run);
        db = poe__tl_reader_open(f->t, err, errlen);
        if (!db)
                return -EIO;
        f->deadline_ms = now_ms() + QUERY_DEADLINE_MS;
        sqlite3_progress_handler(db, 1000, feed_progress, f);
        poe__tl_ob_reset(&f->out);
        f->out.oom = false;
        f->n_marks = 0;
        f->oom = false;
        if (!f->otlp) {
                rc = poe__tl_otlp_new(db, run, &f->out, &f->counts, f->service, &f->otlp, err,
                                      errlen);
                if (rc < 0)
                        goto out;
                poe__tl_otlp_set_line_spans(f->otlp, f->spans_per_line);
                poe__tl_otlp_on_line(f->otlp, on_line, f);
        }
        memset(&q, 0, sizeof(q));
        q.run_id = run;
        q.after_id = f->last_id;
        q.page.limit = (int64_t)(max_records ? max_records : 1);
        rc = poe__tl_records(f->t, db, &q, true, false, &st, err, errlen);
        if (rc < 0)
                goto out;
        while ((r = sqlite3_step(st)) == SQLITE_ROW) {
                f->last_id = sqlite3_column_int64(st, COL_ID);
                poe__tl_otlp_record(f->otlp, st);
                n++;
        }
        /* A read that fails part way hands out what it read before. */
        if (finish && r == SQLITE_DONE)
                while (!poe__tl_otlp_finish(f->otlp))
                        ;
        else
                poe__tl_otlp_flush(f->otlp);
        if (f->out.oom || f->oom) {
                poe__tl_set_err(err, errlen, "OTLP feed: out of memory");
                /* What the lines lost cannot be told apart: start over
                 * from the next record. */
                poe__tl_otlp_free(f->otlp);
                f->otlp = NULL;
                rc = -ENOMEM;
                goto out;
        }
        for (i = 0, start = 0; i < f->n_marks; i++) {
                fn(ctx, f->out.p + start, f->marks[i].end - start, f->marks[i].spans);
                start = f->marks[i].end;
        }
        rc = r == SQLITE_DONE ? (int)(n > INT32_MAX ? INT32_MAX : n)
                              : poe__tl_step_failed(db, r, err, errlen);
out:
        sqlite3_finalize(st);
        sqlite3_close(db);
        return rc;
}

void poe__otlp_feed_free(poe__otlp_feed *f)
{
        if (!f)
                return;
        poe__tl_otlp_free(f->otlp);
        free(f->out.p);
        free(f->marks);
        free(f->service);
        free(f);
}
