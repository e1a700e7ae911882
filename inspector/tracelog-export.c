/*
 * Exports of the trace log: what a query selects as JSON Lines or CSV (or,
 * through tracelog-chrome.c and tracelog-otlp.c, as a Chrome trace or as
 * OpenTelemetry spans), or the whole database as a consistent SQLite
 * copy; and what the trace exports share to pair a dispatch with its
 * return and a post with its dispatch.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int export_jsonl(sqlite3 *db, sqlite3_stmt *st, obuf *b, char *err, size_t errlen)
{
        int rc;

        while ((rc = sqlite3_step(st)) == SQLITE_ROW && !b->oom) {
                poe__tl_ob_json(b, poe__tl_row_json(st));
                poe__tl_ob_put(b, "\n", 1);
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return poe__tl_step_failed(db, rc, err, errlen);
        return 0;
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

static int export_csv(sqlite3 *db, sqlite3_stmt *st, obuf *b, char *err, size_t errlen)
{
        int rc;

        poe__tl_ob_puts(b,
                        "id,run,mono_ns,wall,group,prefix,kind,session,event,sender,refcount,queue,"
                        "message,event_id\r\n");
        while ((rc = sqlite3_step(st)) == SQLITE_ROW && !b->oom) {
                poe__tl_ob_printf(b, "%lld,%lld,%lld,%.6f,",
                                  (long long)sqlite3_column_int64(st, COL_ID),
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
                poe__tl_ob_printf(b, ",%lld,%lld,%lld,",
                                  (long long)sqlite3_column_int64(st, COL_SENDER),
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
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return poe__tl_step_failed(db, rc, err, errlen);
        return 0;
}

/* ---- pairing records: the dispatch stack and the post table ---- */

bool poe__tl_same_event(const char *a, const char *b)
{
        return a == b || (a && b && strcmp(a, b) == 0);
}

bool poe__tl_is_post(const char *event, uint64_t event_id)
{
        return event_id && !(event && strcmp(event, "_garbage_collect") == 0);
}

open_dispatch *poe__tl_dstack_push(dstack *ds, uint64_t sid, const char *event, int64_t ns)
{
        open_dispatch *d;

        if (ds->depth == ds->cap) {
                size_t cap = ds->cap ? ds->cap * 2 : 64;
                open_dispatch *s = realloc(ds->s, cap * sizeof(*s));

                if (!s)
                        return NULL;
                ds->s = s;
                ds->cap = cap;
        }
        d = &ds->s[ds->depth];
        memset(d, 0, sizeof(*d));
        d->sid = sid;
        d->ns = ns;
        if (event && !(d->event = strdup(event)))
                return NULL;
        ds->depth++;
        return d;
}

void poe__tl_dstack_drop_first(dstack *ds)
{
        memmove(ds->s, ds->s + 1, (ds->depth - 1) * sizeof(*ds->s));
        ds->depth--;
}

size_t poe__tl_dstack_match(const dstack *ds, uint64_t sid, const char *event)
{
        size_t i, n = ds->depth < STACK_SEARCH ? ds->depth : STACK_SEARCH;

        for (i = 1; i <= n; i++) {
                const open_dispatch *d = &ds->s[ds->depth - i];

                if (d->sid == sid && poe__tl_same_event(d->event, event))
                        return i;
        }
        return 0;
}

/* Linear probing; removal shifts the run back instead of leaving
 * tombstones, so a long export that posts and dispatches millions of
 * events keeps a table the size of what is pending at once. */
static size_t post_home(uint64_t id, size_t cap)
{
        return (size_t)((id * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static bool post_grow(post_table *pt)
{
        size_t cap = pt->cap ? pt->cap * 2 : 256, i, j;
        posted *s = calloc(cap, sizeof(*s));

        if (!s)
                return false;
        for (i = 0; i < pt->cap; i++) {
                if (!pt->slot[i].event_id)
                        continue;
                j = post_home(pt->slot[i].event_id, cap);
                while (s[j].event_id)
                        j = (j + 1) & (cap - 1);
                s[j] = pt->slot[i];
        }
        free(pt->slot);
        pt->slot = s;
        pt->cap = cap;
        return true;
}

bool poe__tl_post_put(post_table *pt, const posted *p, posted *old)
{
        size_t i;

        memset(old, 0, sizeof(*old));
        if ((pt->n + 1) * 2 > pt->cap && !post_grow(pt))
                return false;
        i = post_home(p->event_id, pt->cap);
        while (pt->slot[i].event_id && pt->slot[i].event_id != p->event_id)
                i = (i + 1) & (pt->cap - 1);
        if (pt->slot[i].event_id)
                *old = pt->slot[i];
        else
                pt->n++;
        pt->slot[i] = *p;
        return true;
}

bool poe__tl_post_take(post_table *pt, uint64_t event_id, posted *ret)
{
        size_t i, j, k, mask = pt->cap - 1;

        if (!event_id || !pt->n)
                return false;
        i = post_home(event_id, pt->cap);
        while (pt->slot[i].event_id != event_id) {
                if (!pt->slot[i].event_id)
                        return false;
                i = (i + 1) & mask;
        }
        *ret = pt->slot[i];
        for (j = i;;) {
                j = (j + 1) & mask;
                if (!pt->slot[j].event_id)
                        break;
                k = post_home(pt->slot[j].event_id, pt->cap);
                /* Moved back unless its home lies cyclically in (i, j]. */
                if (i <= j ? (k <= i || k > j) : (k <= i && k > j)) {
                        pt->slot[i] = pt->slot[j];
                        i = j;
                }
        }
        pt->slot[i].event_id = 0;
        pt->n--;
        return true;
}

void poe__tl_post_free(post_table *pt)
{
        size_t i;

        for (i = 0; i < pt->cap; i++)
                if (pt->slot[i].event_id)
                        json_decref(pt->slot[i].obj);
        free(pt->slot);
        memset(pt, 0, sizeof(*pt));
}

/* ---- the SQLite copy ---- */

static void unlink_sidecars(const char *path)
{
        static const char *const suffix[] = { "-journal", "-wal", "-shm" };
        char p[4096];
        size_t i;

        for (i = 0; i < sizeof(suffix) / sizeof(suffix[0]); i++)
                if ((size_t)snprintf(p, sizeof(p), "%s%s", path, suffix[i]) < sizeof(p))
                        unlink(p);
}

/*
 * A temporary file for the copy: first next to the log, whose directory
 * the writer already writes and whose file system already holds the log
 * (a small tmpfs as TMPDIR might not); then, when that fails or its file
 * system fills up during the copy, in TMPDIR (or /tmp).
 */
static int make_temp(const char *log, bool next_to_log, char *path, size_t size, char *err,
                     size_t errlen)
{
        const char *dir = getenv("TMPDIR");
        int fd = -1, e = ENAMETOOLONG;

        if (!dir || !*dir)
                dir = "/tmp";
        if ((size_t)(next_to_log ? snprintf(path, size, "%s.export-XXXXXX", log)
                                 : snprintf(path, size, "%s/poe-trace-export-XXXXXX", dir)) <
            size) {
                fd = mkstemp(path);
                e = errno;
        }
        if (fd < 0)
                poe__tl_set_err(err, errlen,
                                "trace log export: cannot make a temporary file %s %s: %s",
                                next_to_log ? "next to" : "in", next_to_log ? log : dir,
                                strerror(e));
        return fd;
}

/* Copies src into the temporary file at path (fd, opened before SQLite
 * touched it); 0, or -errno with err. */
static int copy_into(sqlite3 *src, int fd, const char *path, size_t *ret_len, char *err,
                     size_t errlen)
{
        sqlite3 *dst = NULL;
        sqlite3_backup *bk;
        struct stat sb;
        int rc, e;

        rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                e = poe__tl_fail_db(dst, rc, path, "cannot open the export copy", err, errlen);
                goto fail;
        }
        bk = sqlite3_backup_init(dst, "main", src, "main");
        if (!bk) {
                e = poe__tl_fail_db(dst, sqlite3_errcode(dst), path, "cannot copy the trace log",
                                    err, errlen);
                goto fail;
        }
        rc = sqlite3_backup_step(bk, -1);
        sqlite3_backup_finish(bk);
        if (rc != SQLITE_DONE) {
                poe__tl_set_err(err, errlen, "trace log export: copying into %s failed: %s", path,
                                sqlite3_errstr(rc));
                e = poe__tl_sqlite_errno(NULL, rc);
                goto fail;
        }
        /* The copy keeps the source's WAL flag: make it one plain file. */
        rc = sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                e = poe__tl_fail_db(dst, rc, path, "cannot finish the export copy", err, errlen);
                goto fail;
        }
        /* SQLite closes its own descriptor before ours goes: closing any
         * descriptor of a file drops the process's POSIX locks on it. */
        rc = sqlite3_close(dst);
        dst = NULL;
        if (rc != SQLITE_OK) {
                poe__tl_set_err(err, errlen, "trace log export: closing the copy failed: %s",
                                sqlite3_errstr(rc));
                e = poe__tl_sqlite_errno(NULL, rc);
                goto fail;
        }
        if (fstat(fd, &sb) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
                e = -errno;
                poe__tl_set_err(err, errlen, "trace log export: reading the copy failed: %s",
                                strerror(-e));
                goto fail;
        }
        *ret_len = (size_t)sb.st_size;
        return 0;
fail:
        if (dst)
                sqlite3_close(dst);
        return e;
}

/*
 * A consistent copy of the whole database (every run, whatever q says),
 * through the backup API: it reads one snapshot of the WAL database while
 * the writer goes on.  The copy is made into a temporary file and turned
 * from WAL into an ordinary single-file database; the file is unlinked
 * and its descriptor, opened before SQLite touched the file and at offset
 * 0, handed back: the body is streamed from it rather than held in memory,
 * and it disappears when the descriptor is closed.  A copy that fills the
 * log's file system is made again in TMPDIR.
 */
static int export_sqlite(poe__tracelog *t, sqlite3 *src, int *ret_fd, size_t *ret_len, char *err,
                         size_t errlen)
{
        char path[4096], first[512] = "";
        int fd, e = -EIO, where;

        for (where = 0; where < 2; where++) {
                fd = make_temp(t->path, where == 0, path, sizeof(path), err, errlen);
                if (fd >= 0) {
                        e = copy_into(src, fd, path, ret_len, err, errlen);
                        unlink(path);
                        unlink_sidecars(path);
                        if (e == 0) {
                                *ret_fd = fd;
                                return 0;
                        }
                        close(fd);
                } else {
                        e = -EIO;
                }
                /* Only a full (or unwritable) log file system is worth a
                 * second place; say what the first one said too. */
                if (where == 0 && e != -ENOSPC && e != -EIO && e != -EACCES && e != -EROFS &&
                    e != -EDQUOT)
                        return e;
                if (where == 0)
                        snprintf(first, sizeof(first), "%s", err);
        }
        if (first[0]) {
                char second[512];

                snprintf(second, sizeof(second), "%s", err);
                poe__tl_set_err(err, errlen, "%s; then %s", first, second);
        }
        return e;
}

/* ---- the export ---- */

static const struct {
        const char *name, *content_type;
} formats[] = {
        { "jsonl", "application/x-ndjson"},     {"csv", "text/csv; charset=utf-8; header=present" },
        { "chrome", "application/json"},        {"otlp", "application/x-ndjson" },
        { "sqlite", "application/vnd.sqlite3" },
};
enum { JSONL, CSV, CHROME, OTLP, SQLITE, N_FORMATS };

int poe__tracelog_export(poe__tracelog *t, const char *format, const poe__trace_query *q,
                         char **ret_body, int *ret_fd, size_t *ret_len,
                         const char **ret_content_type, char *err, size_t errlen)
{
        obuf b = { .p = NULL };
        sqlite3 *db;
        sqlite3_stmt *st = NULL;
        bool desc;
        char buf[80];
        int f, rc;

        *ret_body = NULL;
        *ret_fd = -1;
        *ret_len = 0;
        *ret_content_type = NULL;
        for (f = 0; f < N_FORMATS; f++)
                if (format && strcmp(format, formats[f].name) == 0)
                        break;
        if (f == N_FORMATS) {
                poe__tl_set_err(err, errlen,
                                "format: expected jsonl, csv, chrome, otlp or sqlite, got `%s'",
                                poe__tl_echo(format ? format : "", buf, sizeof(buf)));
                return -EINVAL;
        }
        db = poe__tl_reader_open_for(t, EXPORT_DEADLINE_MS, err, errlen);
        if (!db)
                return -EIO;
        if (f == SQLITE) {
                rc = export_sqlite(t, db, ret_fd, ret_len, err, errlen);
                sqlite3_close(db);
                if (rc < 0)
                        return rc == -ENOMEM ? rc : -EIO;
                *ret_content_type = formats[f].content_type;
                return 0;
        }
        /* One snapshot for the whole export. */
        rc = sqlite3_exec(db, "BEGIN", NULL, NULL, NULL);
        if (rc != SQLITE_OK) {
                rc = poe__tl_step_failed(db, rc, err, errlen);
                goto done;
        }
        /* Traces pair records in time order, whatever order q asks. */
        desc = (f == JSONL || f == CSV) && q && q->descending;
        rc = poe__tl_records(t, db, q, false, desc, &st, err, errlen);
        if (rc < 0)
                goto done;
        if (f == JSONL)
                rc = export_jsonl(db, st, &b, err, errlen);
        else if (f == CSV)
                rc = export_csv(db, st, &b, err, errlen);
        else if (f == CHROME)
                rc = poe__tl_export_chrome(db, st, poe__tl_run_of(t, q), &b, err, errlen);
        else
                rc = poe__tl_export_otlp(db, st, poe__tl_run_of(t, q), &b, err, errlen);
done:
        sqlite3_finalize(st);
        sqlite3_close(db);
        if (rc == 0 && b.oom) {
                poe__tl_set_err(err, errlen, "trace log export: out of memory");
                rc = -ENOMEM;
        }
        if (rc < 0) {
                free(b.p);
                /* The interface promises -EINVAL, -EIO (and -ENOMEM). */
                return rc == -ENOMEM || rc == -EINVAL ? rc : -EIO;
        }
        if (!b.p) {
                b.p = malloc(1);
                if (!b.p) {
                        poe__tl_set_err(err, errlen, "trace log export: out of memory");
                        return -ENOMEM;
                }
                b.p[0] = '\0';
        }
        *ret_body = b.p;
        *ret_len = b.len;
        *ret_content_type = formats[f].content_type;
        return 0;
}
