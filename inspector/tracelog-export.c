/*
 * Exports of the trace log: what a query selects as JSON Lines or CSV (or,
 * through tracelog-chrome.c and tracelog-otlp.c, as a Chrome trace or as
 * OpenTelemetry spans), or the whole database as a consistent SQLite
 * copy.
 *
 * An export is a stream: a read cursor (one prepared statement stepping
 * over the selection in id order, in one read transaction) and a small
 * buffer that one record at a time is rendered into and handed out from,
 * as the caller reads.  Its memory is that buffer (the largest record's
 * output), SQLite's page cache, and the bounded pairing state of the
 * trace formats (tracelog-pair.c): the same for ten records or ten
 * million.  Its time is linear in the records: every record costs O(1)
 * (a hash lookup, a ring push or pop, a bounded search).  The SQLite copy
 * is made into an unlinked temporary file at the open (tracelog-copy.c)
 * and read from it.
 *
 * Every read checks whether the export must stop (the log's owner
 * stopping, a cancel, the deadline), and so does SQLite while it steps
 * (the progress handler): a stop ends it within one record, or 1000
 * virtual machine steps, or one COPY_PAGES step of the copy.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracelog-internal.h"

/* ---- the output buffer ---- */

void poe__tl_ob_put(obuf *b, const char *s, size_t n)
{
        if (b->oom)
                return;
        if (n > SIZE_MAX / 2 - b->len) {
                b->oom = true;
                return;
        }
        if (b->len + n + 1 > b->cap) {
                size_t cap = b->cap ? b->cap : 4096;
                char *p;

                while (cap < b->len + n + 1)
                        cap *= 2;
                p = realloc(b->p, cap);
                if (!p) {
                        b->oom = true;
                        return;
                }
                b->p = p;
                b->cap = cap;
        }
        memcpy(b->p + b->len, s, n);
        b->len += n;
        b->p[b->len] = '\0';
}

void poe__tl_ob_puts(obuf *b, const char *s)
{
        poe__tl_ob_put(b, s, strlen(s));
}

void poe__tl_ob_printf(obuf *b, const char *fmt, ...)
{
        char small[128];
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vsnprintf(small, sizeof(small), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(small)) {
                b->oom = true; /* only short numbers are printed this way */
                return;
        }
        poe__tl_ob_put(b, small, (size_t)n);
}

static int ob_json_cb(const char *s, size_t n, void *data)
{
        poe__tl_ob_put(data, s, n);
        return ((obuf *)data)->oom ? -1 : 0;
}

/* Appends j (consumed) as compact JSON; a NULL j is an allocation that
 * failed.  Reals at full precision unless precision says otherwise. */
void poe__tl_ob_json_p(obuf *b, json_t *j, int precision)
{
        size_t flags = JSON_COMPACT;

        if (precision)
                flags |= JSON_REAL_PRECISION(precision);
        if (!j) {
                b->oom = true;
                return;
        }
        if (json_dump_callback(j, ob_json_cb, b, flags) < 0)
                b->oom = true;
        json_decref(j);
}

void poe__tl_ob_json(obuf *b, json_t *j)
{
        poe__tl_ob_json_p(b, j, 0);
}

void poe__tl_ob_reset(obuf *b)
{
        if (b->cap > OB_KEEP) {
                free(b->p);
                b->p = NULL;
                b->cap = 0;
        }
        b->len = 0;
}

/* One record as a JSON Lines line. */
static void jsonl_row(obuf *b, sqlite3_stmt *st)
{
        poe__tl_ob_json(b, poe__tl_row_json(st));
        poe__tl_ob_put(b, "\n", 1);
}

/* One CSV field, quoted when RFC 4180 says it must be. */
static void csv_field(obuf *b, const char *s, size_t n)
{
        size_t i, from = 0;

        if (!s)
                return;
        if (strcspn(s, ",\"\r\n") >= n && (n == 0 || (s[0] != ' ' && s[n - 1] != ' '))) {
                poe__tl_ob_put(b, s, n);
                return;
        }
        poe__tl_ob_put(b, "\"", 1);
        for (i = 0; i < n; i++) {
                if (s[i] == '"') {
                        poe__tl_ob_put(b, s + from, i + 1 - from);
                        poe__tl_ob_put(b, "\"", 1);
                        from = i + 1;
                }
        }
        poe__tl_ob_put(b, s + from, n - from);
        poe__tl_ob_put(b, "\"", 1);
}

static void csv_text(obuf *b, sqlite3_stmt *st, int col)
{
        csv_field(b, (const char *)sqlite3_column_text(st, col),
                  (size_t)sqlite3_column_bytes(st, col));
}

static const char csv_header[] =
        "id,run,mono_ns,wall,group,prefix,kind,session,event,sender,refcount,queue,message,"
        "event_id\r\n";

/* One record as a CSV row. */
static void csv_row(obuf *b, sqlite3_stmt *st)
{
        poe__tl_ob_printf(b, "%lld,%lld,%lld,%.6f,", (long long)sqlite3_column_int64(st, COL_ID),
                          (long long)sqlite3_column_int64(st, COL_RUN),
                          (long long)sqlite3_column_int64(st, COL_MONO_NS),
                          sqlite3_column_double(st, COL_WALL));
        csv_text(b, st, COL_GROUP);
        poe__tl_ob_put(b, ",", 1);
        csv_text(b, st, COL_PREFIX);
        poe__tl_ob_put(b, ",", 1);
        csv_text(b, st, COL_KIND);
        poe__tl_ob_printf(b, ",%lld,", (long long)sqlite3_column_int64(st, COL_SESSION));
        csv_text(b, st, COL_EVENT);
        poe__tl_ob_printf(b, ",%lld,%lld,%lld,", (long long)sqlite3_column_int64(st, COL_SENDER),
                          (long long)sqlite3_column_int64(st, COL_REFCOUNT),
                          (long long)sqlite3_column_int64(st, COL_QUEUE));
        csv_text(b, st, COL_MESSAGE);
        /* An empty field for NULL, as for a NULL event. */
        if (sqlite3_column_type(st, COL_EVENT_ID) == SQLITE_NULL)
                poe__tl_ob_put(b, ",\r\n", 3);
        else
                poe__tl_ob_printf(b, ",%lld\r\n",
                                  (long long)sqlite3_column_int64(st, COL_EVENT_ID));
}

/* ---- the export ---- */

static const struct {
        const char *name, *content_type, *filename;
} formats[] = {
        { "jsonl", "application/x-ndjson", "poe-trace.jsonl" },
        { "csv", "text/csv; charset=utf-8; header=present", "poe-trace.csv" },
        { "chrome", "application/json", "poe-trace.chrome.json" },
        { "otlp", "application/x-ndjson", "poe-trace.otlp" },
        { "sqlite", "application/vnd.sqlite3", "poe-trace.db" },
};
enum { JSONL, CSV, CHROME, OTLP, SQLITE, N_FORMATS };

/* Where an export is: its head and records, the end of a trace format
 * (what is still open), done, or failed. */
enum { ST_RECORDS, ST_FINISH, ST_DONE, ST_FAILED };

struct poe__tl_export {
        poe__tracelog *t;
        int format, state;
        int error; /* -errno once ST_FAILED */
        sqlite3 *db;
        sqlite3_stmt *st;
        tl_chrome *chrome;
        tl_otlp *otlp;
        int fd;         /* the SQLite copy, -1 for the others */
        int64_t size;   /* the copy's size; -1 for the others */
        obuf out;       /* rendered and not yet handed out, from pos */
        size_t pos;
        int64_t deadline_ms; /* CLOCK_MONOTONIC, ms */
        int64_t span_ms;     /* from the open to the deadline */
        int64_t busy_since;  /* poe__tl_busy_wait's */
        _Atomic bool cancel;
        poe__tl_export_counts counts;
        tl_pair_counts pairs;
        char err[256];
};

static const char past_deadline[] = "it ran past its deadline";

/* Why the export must stop now, or NULL: the log's owner is stopping
 * (poe__tracelog_cancel_readers), poe__tl_export_cancel, or the
 * deadline (past_deadline).  Read on every record and by SQLite's
 * progress and busy handlers. */
static const char *stop_reason(poe__tl_export *x)
{
        if (atomic_load_explicit(&x->t->cancel_readers, memory_order_relaxed))
                return "the trace log is closing";
        if (atomic_load_explicit(&x->cancel, memory_order_relaxed))
                return "it was cancelled";
        if (now_ms() > x->deadline_ms)
                return past_deadline;
        return NULL;
}

/* The export's own progress handler, in place of the reader's: its
 * deadline is the export's, whichever thread reads it. */
static int export_progress(void *arg)
{
        return stop_reason(arg) != NULL;
}

/* And its busy handler: a wait for a lock ends with the export. */
static int export_busy(void *arg, int count)
{
        poe__tl_export *x = arg;

        return poe__tl_busy_wait(count, stop_reason(x) != NULL, &x->busy_since);
}

/* stop_reason for the copy (tracelog-copy.c). */
static const char *export_stop(void *arg)
{
        return stop_reason(arg);
}

/* Fails x with e and a message; the first failure is the one kept. */
__attribute__((format(printf, 3, 4))) static int fail(poe__tl_export *x, int e,
                                                       const char *fmt, ...)
{
        va_list ap;

        if (x->state == ST_FAILED)
                return x->error;
        va_start(ap, fmt);
        vsnprintf(x->err, sizeof(x->err), fmt, ap);
        va_end(ap);
        x->state = ST_FAILED;
        x->error = e;
        return e;
}

/* Fails x for the stop why says: -ETIMEDOUT past its deadline, else
 * -ECANCELED. */
static int stop(poe__tl_export *x, const char *why)
{
        if (why == past_deadline)
                return fail(x, -ETIMEDOUT,
                            "trace log export: stopped: it ran past its deadline of %lld ms",
                            (long long)x->span_ms);
        return fail(x, -ECANCELED, "trace log export: stopped: %s", why);
}

/* A step that did not give a row: interrupted or refused a lock because
 * it must stop, or failing. */
static int step_failed(poe__tl_export *x, int rc)
{
        const char *why = stop_reason(x);
        char err[256];
        int e;

        if (((rc & 0xff) == SQLITE_INTERRUPT || (rc & 0xff) == SQLITE_BUSY) && why)
                return stop(x, why);
        e = poe__tl_step_failed(x->db, rc, err, sizeof(err));
        return fail(x, e == -ENOMEM ? e : -EIO, "%s", err);
}

/* ---- producing the body ---- */

/*
 * Renders what comes next into x->out: one record, or one piece of a
 * trace format's end, or, at the end, nothing (ST_DONE).  What one call
 * adds is bounded by the largest record (its text is at most ENTRY_MAX)
 * or the largest span (EVENTS_PER_SPAN events), so x->out stays small.
 */
static void produce(poe__tl_export *x)
{
        const char *why;
        int rc;

        if ((why = stop_reason(x))) {
                stop(x, why);
                return;
        }
        if (x->state == ST_FINISH) {
                if (x->format == CHROME ? poe__tl_chrome_finish(x->chrome)
                                        : poe__tl_otlp_finish(x->otlp))
                        x->state = ST_DONE;
                return;
        }
        rc = sqlite3_step(x->st);
        if (rc == SQLITE_DONE) {
                x->state = x->format == CHROME || x->format == OTLP ? ST_FINISH : ST_DONE;
                return;
        }
        if (rc != SQLITE_ROW) {
                step_failed(x, rc);
                return;
        }
        x->counts.records++;
        switch (x->format) {
        case JSONL: jsonl_row(&x->out, x->st); break;
        case CSV: csv_row(&x->out, x->st); break;
        case CHROME: poe__tl_chrome_record(x->chrome, x->st); break;
        default: poe__tl_otlp_record(x->otlp, x->st); break;
        }
}

/* Reads the copy's next bytes straight into buf. */
static ssize_t read_copy(poe__tl_export *x, char *buf, size_t max)
{
        const char *why = stop_reason(x);
        ssize_t n;

        if (why)
                return stop(x, why);
        do
                n = read(x->fd, buf, max);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return fail(x, -EIO, "trace log export: reading the copy failed: %s",
                            strerror(errno));
        if (n == 0)
                x->state = ST_DONE;
        x->counts.bytes += (uint64_t)n;
        return n;
}

ssize_t poe__tl_export_read(poe__tl_export *x, char *buf, size_t max)
{
        size_t n = 0, k;

        if (!x || (!buf && max))
                return -EINVAL;
        if (x->format == SQLITE && x->state == ST_RECORDS && max)
                return read_copy(x, buf, max);
        while (n < max && x->state != ST_FAILED) {
                if (x->pos < x->out.len) {
                        k = x->out.len - x->pos < max - n ? x->out.len - x->pos : max - n;
                        memcpy(buf + n, x->out.p + x->pos, k);
                        x->pos += k;
                        n += k;
                        continue;
                }
                poe__tl_ob_reset(&x->out);
                x->pos = 0;
                if (x->state == ST_DONE)
                        break;
                produce(x);
                if (x->out.oom)
                        fail(x, -ENOMEM, "trace log export: out of memory");
        }
        x->counts.bytes += n;
        /* A failure after some bytes is the next call's answer. */
        if (n > 0)
                return (ssize_t)n;
        return x->state == ST_FAILED ? x->error : 0;
}

int poe__tracelog_export_open(poe__tracelog *t, const char *format, const poe__trace_query *q,
                              poe__tl_export **ret, char *err, size_t errlen)
{
        poe__tl_export *x;
        const char *why;
        bool desc;
        char buf[80];
        int f, rc;

        if (!t || !ret) {
                poe__tl_set_err(err, errlen, "trace log export: no log");
                return -EINVAL;
        }
        for (f = 0; f < N_FORMATS; f++)
                if (format && strcmp(format, formats[f].name) == 0)
                        break;
        if (f == N_FORMATS) {
                poe__tl_set_err(err, errlen,
                                "format: expected jsonl, csv, chrome, otlp or sqlite, got `%s'",
                                poe__tl_echo(format ? format : "", buf, sizeof(buf)));
                return -EINVAL;
        }
        x = calloc(1, sizeof(*x));
        if (!x) {
                poe__tl_set_err(err, errlen, "trace log export: out of memory");
                return -ENOMEM;
        }
        x->t = t;
        x->format = f;
        x->fd = -1;
        x->size = -1;
        x->span_ms = atomic_load(&t->export_deadline_ms);
        if (!x->span_ms)
                x->span_ms = EXPORT_DEADLINE_MS;
        x->deadline_ms = now_ms() + x->span_ms;
        if (stop_reason(x)) {
                rc = -ECANCELED;
                goto fail;
        }
        x->db = poe__tl_reader_open_for(t, x->span_ms, err, errlen);
        if (!x->db) {
                rc = -EIO;
                goto fail;
        }
        sqlite3_progress_handler(x->db, 1000, export_progress, x);
        sqlite3_busy_handler(x->db, export_busy, x);
        if (f == SQLITE) {
                rc = poe__tl_copy(t, x->db, export_stop, x, &x->fd, &x->size, err, errlen);
                /* The copy is all it needs of the log. */
                sqlite3_close(x->db);
                x->db = NULL;
                if (rc < 0)
                        goto fail;
                *ret = x;
                return 0;
        }
        /* One snapshot for the whole export. */
        rc = sqlite3_exec(x->db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                rc = poe__tl_step_failed(x->db, rc, err, errlen);
                goto fail;
        }
        /* Traces pair records in time order, whatever order q asks. */
        desc = (f == JSONL || f == CSV) && q && q->descending;
        rc = poe__tl_records(t, x->db, q, false, desc, &x->st, err, errlen);
        if (rc < 0)
                goto fail;
        if (f == CSV) {
                poe__tl_ob_puts(&x->out, csv_header);
        } else if (f == CHROME) {
                x->chrome = poe__tl_chrome_new(x->db, poe__tl_run_of(t, q), &x->out, &x->pairs);
                if (!x->chrome)
                        x->out.oom = true;
        } else if (f == OTLP) {
                rc = poe__tl_otlp_new(x->db, poe__tl_run_of(t, q), &x->out, &x->pairs, NULL,
                                      &x->otlp, err, errlen);
                if (rc < 0)
                        goto fail;
        }
        /* The first record now: a log that cannot be read fails the open,
         * before a caller has said anything (an HTTP status) about it. */
        if (!x->out.oom)
                produce(x);
        if (x->out.oom)
                fail(x, -ENOMEM, "trace log export: out of memory");
        if (x->state == ST_FAILED) {
                poe__tl_set_err(err, errlen, "%s", x->err);
                rc = x->error;
                goto fail;
        }
        *ret = x;
        return 0;
fail:
        /* A read the stop interrupted says so, whatever it failed with. */
        if (rc != -EINVAL && (why = stop_reason(x))) {
                poe__tl_set_err(err, errlen, "trace log export: stopped: %s", why);
                rc = -ECANCELED;
        }
        poe__tl_export_close(x);
        /* The interface promises -EINVAL, -EIO, -ENOMEM and -ECANCELED. */
        return rc == -ENOMEM || rc == -EINVAL || rc == -ECANCELED ? rc : -EIO;
}

void poe__tl_export_cancel(poe__tl_export *x)
{
        if (x)
                atomic_store(&x->cancel, true);
}

const char *poe__tl_export_error(const poe__tl_export *x)
{
        return x && x->state == ST_FAILED ? x->err : NULL;
}

const char *poe__tl_export_content_type(const poe__tl_export *x)
{
        return formats[x->format].content_type;
}

const char *poe__tl_export_filename(const poe__tl_export *x)
{
        return formats[x->format].filename;
}

int64_t poe__tl_export_size(const poe__tl_export *x)
{
        return x->size;
}

void poe__tl_export_get_counts(const poe__tl_export *x, poe__tl_export_counts *ret)
{
        *ret = x->counts;
        ret->unreturned = x->pairs.unreturned;
        ret->undispatched = x->pairs.undispatched;
        ret->untracked = x->pairs.untracked;
        ret->events_dropped = x->pairs.events_dropped;
}

void poe__tl_export_close(poe__tl_export *x)
{
        if (!x)
                return;
        poe__tl_chrome_free(x->chrome);
        poe__tl_otlp_free(x->otlp);
        sqlite3_finalize(x->st);
        /* Ends the read transaction: the writer's checkpoints go on. */
        sqlite3_close(x->db);
        if (x->fd >= 0)
                close(x->fd);
        free(x->out.p);
        free(x);
}

/* ---- the whole export at once ---- */

int poe__tracelog_export(poe__tracelog *t, const char *format, const poe__trace_query *q,
                         char **ret_body, int *ret_fd, size_t *ret_len,
                         const char **ret_content_type, char *err, size_t errlen)
{
        poe__tl_export *x = NULL;
        obuf b = { .p = NULL };
        char chunk[16384];
        ssize_t n;
        int rc;

        *ret_body = NULL;
        *ret_fd = -1;
        *ret_len = 0;
        *ret_content_type = NULL;
        rc = poe__tracelog_export_open(t, format, q, &x, err, errlen);
        if (rc < 0)
                return rc;
        *ret_content_type = formats[x->format].content_type;
        if (x->format == SQLITE) {
                *ret_fd = x->fd;
                *ret_len = (size_t)x->size;
                x->fd = -1;
                poe__tl_export_close(x);
                return 0;
        }
        while ((n = poe__tl_export_read(x, chunk, sizeof(chunk))) > 0)
                poe__tl_ob_put(&b, chunk, (size_t)n);
        if (n == 0 && b.oom)
                n = fail(x, -ENOMEM, "trace log export: out of memory");
        if (n == 0 && !b.p && !(b.p = calloc(1, 1)))
                n = fail(x, -ENOMEM, "trace log export: out of memory");
        if (n < 0) {
                poe__tl_set_err(err, errlen, "%s", x->err);
                *ret_content_type = NULL;
                free(b.p);
                poe__tl_export_close(x);
                return n == -ENOMEM || n == -ECANCELED ? (int)n : -EIO;
        }
        poe__tl_export_close(x);
        *ret_body = b.p;
        *ret_len = b.len;
        return 0;
}
