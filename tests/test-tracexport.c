/*
 * The trace log's exports as streams (tracelog-export.c,
 * tracelog-pair.c): read in any block size they give the bytes the whole
 * export gives; they stop when cancelled or when the log's owner stops,
 * within a record; their memory does not grow with the records; and the
 * pairing of the Chrome and OTLP exports keeps to its caps, counting
 * what it cannot pair.  What the formats contain is test-tracelog.c's;
 * the HTTP side, and the process's RSS, tests/inspector/test_export.py's.
 */
#include <errno.h>
#include <malloc.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "testlib.h"
#include "tracelog-fixture.h"
#include "tracelog-internal.h"

static const char *const text_formats[] = { "jsonl", "csv", "chrome", "otlp" };
#define N_TEXT_FORMATS (sizeof(text_formats) / sizeof(text_formats[0]))

static int setup(void **state)
{
        return tf_setup(state, "tracexport");
}

static int teardown(void **state)
{
        tf_release();
        return tf_teardown(state);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* The test's own sink: the log is compared with nothing here. */
static int own_sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        (void)r;
        return 0;
}

/* ---- a workload: a ticker posting to and calling a listener ---- */

static struct {
        int ticks, target;
        poe_sid listener;
} wl;

static poe_value h_note(poe_ctx *c)
{
        if (poe_value_int(poe_ctx_arg(c, 0)) == wl.target - 1)
                TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "listener"), 0);
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value arg = poe_int(wl.ticks), ret;

        wl.ticks++;
        TL_EQ(poe_kernel_call(k, wl.listener, "inner", NULL, 0, &ret), 0);
        TL_EQ(poe_kernel_post(k, wl.listener, "note", &arg, 1), 0);
        if (wl.ticks < wl.target)
                TL_EQ(poe_kernel_yield(k, "tick", NULL, 0), 0);
        return poe_nil();
}

/* A log of about 6 records a tick, written and settled, the sinks
 * detached; returns the records in the file. */
static int64_t make_log(int ticks)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS, n;
        char err[512];
        sqlite3 *db;
        int rc;

        /* Room for every record: none is dropped, however slow the
         * writer runs. */
        rc = poe__tracelog_open(tf.path, (size_t)ticks * 8 + 1024, tl.k, &tf.t, err,
                                sizeof(err));
        if (rc != 0)
                fail_msg("poe__tracelog_open(%s): %d: %s", tf.path, rc, err);
        tf_attach(own_sink);
        memset(&wl, 0, sizeof(wl));
        wl.target = ticks;
        wl.listener = TL_CREATE(tl.k, { "_start", tf_h_listener_start }, { "note", h_note },
                                { "inner", tl_h_nop });
        TL_CREATE(tl.k, { "_start", tf_h_ticker_start }, { "tick", h_tick });
        tl_run_to_end(tl.k, ticks * 4 + 100);
        tf_detach();
        while (tf_status_int("records_pending") > 0) {
                if (tf_now_ms() > deadline)
                        fail_msg("the log did not settle");
                tf_poll_pause();
        }
        TL_EQ(tf_status_int("dropped_total"), 0);
        db = tf_db_open_ro(tf.path);
        n = tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?",
                       tf_status_int("run_id"));
        sqlite3_close(db);
        return n;
}

/* ---- helpers ---- */

static void query_of(const char *key, const char *value, poe__trace_query *q)
{
        poe__params p;
        char err[256];

        memset(&p, 0, sizeof(p));
        if (key) {
                p.kv[0].key = key;
                p.kv[0].value = value;
                p.n = 1;
        }
        if (poe__trace_query_parse(&p, q, err, sizeof(err)) != 0)
                fail_msg("query_parse: %s", err);
}

static poe__tl_export *open_export(const char *format, const poe__trace_query *q)
{
        poe__tl_export *x = NULL;
        char err[256];
        int rc;

        rc = poe__tracelog_export_open(tf.t, format, q, &x, err, sizeof(err));
        if (rc != 0)
                fail_msg("export_open(%s): %d: %s", format, rc, err);
        assert_non_null(x);
        return x;
}

/* The whole export through poe__tracelog_export. */
static char *whole(const char *format, const poe__trace_query *q, size_t *len)
{
        char err[256], *body = NULL;
        const char *type;
        int fd = -1, rc;

        rc = poe__tracelog_export(tf.t, format, q, &body, &fd, len, &type, err, sizeof(err));
        if (rc != 0)
                fail_msg("export(%s): %d: %s", format, rc, err);
        TL_EQ(fd, -1);
        return body;
}

/* Heap bytes in use (both arenas' blocks and mmapped ones), or 0 where
 * the allocator does not say (a sanitizer's, valgrind's). */
static size_t heap_in_use(void)
{
        struct mallinfo2 mi = mallinfo2();

        return mi.uordblks + mi.hblkhd;
}

/* The heap's peak during the last drain(), less what it was when it
 * began. */
static size_t drain_growth;

/* Reads x to its end in blocks of at most block bytes into a buffer the
 * caller frees; every read but the last gives a full block. */
static char *drain(poe__tl_export *x, size_t block, size_t *len)
{
        size_t cap = 1 << 16, n = 0;
        char *buf = malloc(cap);
        ssize_t r;
        bool short_read = false;

        size_t base = heap_in_use(), peak = base, now;

        assert_non_null(buf);
        for (;;) {
                /* The buffer here grows with the body: not the export's. */
                now = heap_in_use() - cap;
                peak = now > peak ? now : peak;
                if (cap - n < block) {
                        cap = cap * 2 + block;
                        buf = realloc(buf, cap);
                        assert_non_null(buf);
                }
                r = poe__tl_export_read(x, buf + n, block);
                if (r < 0)
                        fail_msg("export_read: %zd: %s", r, poe__tl_export_error(x));
                if (r == 0)
                        break;
                /* Short only at the end. */
                assert_false(short_read);
                short_read = (size_t)r < block;
                n += (size_t)r;
        }
        *len = n;
        drain_growth = peak - base;
        return buf;
}

/* ---- the stream gives what the whole export gives ---- */

static void assert_stream_is_whole(const char *format, const poe__trace_query *q,
                                   int64_t records)
{
        static const size_t blocks[] = { 1, 7, 4096, 65536 };
        poe__tl_export_counts counts;
        size_t len, slen, i;
        char *body = whole(format, q, &len), *s, one;
        poe__tl_export *x;

        for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
                /* One byte at a time is slow for the large ones. */
                if (blocks[i] == 1 && len > (1u << 20))
                        continue;
                x = open_export(format, q);
                assert_non_null(poe__tl_export_content_type(x));
                assert_non_null(strstr(poe__tl_export_filename(x), "poe-trace."));
                TL_EQ(poe__tl_export_size(x), -1);
                s = drain(x, blocks[i], &slen);
                if (slen != len || memcmp(s, body, len) != 0)
                        fail_msg("%s read %zu at a time: %zu bytes, not the %zu of the whole",
                                 format, blocks[i], slen, len);
                /* The end stays the end. */
                TL_EQ(poe__tl_export_read(x, &one, 1), 0);
                TL_EQ(poe__tl_export_read(x, &one, 1), 0);
                assert_null(poe__tl_export_error(x));
                poe__tl_export_get_counts(x, &counts);
                TL_EQ(counts.bytes, len);
                if (records >= 0)
                        TL_EQ(counts.records, records);
                poe__tl_export_close(x);
                free(s);
        }
        free(body);
}

static void t_stream_is_whole(void **state)
{
        poe__trace_query q;
        int64_t n, dispatches;
        size_t i;
        sqlite3 *db;

        (void)state;
        n = make_log(200);
        db = tf_db_open_ro(tf.path);
        dispatches = tf_sql_int(db, "SELECT count(*) FROM records WHERE kind = ?",
                                POE_TK_DISPATCH);
        sqlite3_close(db);
        assert_true(n > 1000);
        query_of(NULL, NULL, &q);
        for (i = 0; i < N_TEXT_FORMATS; i++)
                assert_stream_is_whole(text_formats[i], &q, n);
        query_of("kind", "dispatch", &q);
        for (i = 0; i < N_TEXT_FORMATS; i++)
                assert_stream_is_whole(text_formats[i], &q, dispatches);
        query_of("order", "desc", &q);
        assert_stream_is_whole("jsonl", &q, n);
        assert_stream_is_whole("csv", &q, n);
        /* A selection of nothing: a head and a tail, or nothing. */
        query_of("event", "no-such-event", &q);
        for (i = 0; i < N_TEXT_FORMATS; i++)
                assert_stream_is_whole(text_formats[i], &q, 0);
}

/* The SQLite copy streams from its file, as long as it said. */
static void t_stream_sqlite(void **state)
{
        poe__tl_export_counts counts;
        poe__trace_query q;
        poe__tl_export *x;
        char copy[200], *s;
        int64_t n;
        size_t len;
        sqlite3 *db;
        FILE *f;

        (void)state;
        n = make_log(100);
        query_of(NULL, NULL, &q);
        x = open_export("sqlite", &q);
        assert_string_equal(poe__tl_export_content_type(x), "application/vnd.sqlite3");
        assert_true(poe__tl_export_size(x) > 4096);
        s = drain(x, 4096, &len);
        TL_EQ(len, poe__tl_export_size(x));
        poe__tl_export_get_counts(x, &counts);
        TL_EQ(counts.bytes, len);
        poe__tl_export_close(x);
        assert_true(memcmp(s, "SQLite format 3", 16) == 0);
        snprintf(copy, sizeof(copy), "%s/copy.db", tf.dir);
        f = fopen(copy, "wb");
        assert_non_null(f);
        TL_EQ(fwrite(s, 1, len, f), len);
        TL_EQ(fclose(f), 0);
        free(s);
        db = tf_db_open_ro(copy);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?",
                         tf_status_int("run_id")),
              n);
        sqlite3_close(db);
}

/* ---- stops ---- */

/* Reads x until it fails, which it must within a record's output of
 * being told to stop; returns the failure. */
static ssize_t read_until_failure(poe__tl_export *x)
{
        char buf[4096];
        size_t after = 0;
        ssize_t r;
        int i;

        for (i = 0; i < 64; i++) {
                r = poe__tl_export_read(x, buf, sizeof(buf));
                if (r <= 0)
                        return r;
                after += (size_t)r;
        }
        fail_msg("still reading %zu bytes after the stop", after);
        return 0;
}

static void t_stream_stops(void **state)
{
        poe__trace_query q;
        poe__tl_export *x, *y;
        char buf[100], err[256];
        size_t i;

        (void)state;
        make_log(300);
        query_of(NULL, NULL, &q);

        /* A cancelled export ends at its next record, and stays ended. */
        for (i = 0; i < N_TEXT_FORMATS; i++) {
                x = open_export(text_formats[i], &q);
                assert_true(poe__tl_export_read(x, buf, sizeof(buf)) > 0);
                poe__tl_export_cancel(x);
                TL_EQ(read_until_failure(x), -ECANCELED);
                assert_non_null(strstr(poe__tl_export_error(x), "cancelled"));
                TL_EQ(poe__tl_export_read(x, buf, sizeof(buf)), -ECANCELED);
                poe__tl_export_close(x);
        }

        /* The log's owner stopping ends every export, reading or not, and
         * refuses new ones. */
        x = open_export("otlp", &q);
        y = open_export("sqlite", &q);
        assert_true(poe__tl_export_read(x, buf, sizeof(buf)) > 0);
        poe__tracelog_cancel_readers(tf.t);
        TL_EQ(read_until_failure(x), -ECANCELED);
        assert_non_null(strstr(poe__tl_export_error(x), "closing"));
        TL_EQ(read_until_failure(y), -ECANCELED);
        poe__tl_export_close(x);
        poe__tl_export_close(y);
        for (i = 0; i < N_TEXT_FORMATS; i++) {
                x = (poe__tl_export *)buf;
                TL_EQ(poe__tracelog_export_open(tf.t, text_formats[i], &q, &x, err,
                                                sizeof(err)),
                      -ECANCELED);
                assert_ptr_equal(x, buf); /* untouched on failure */
                assert_non_null(strstr(err, "closing"));
        }
        x = NULL;
        TL_EQ(poe__tracelog_export_open(tf.t, "sqlite", &q, &x, err, sizeof(err)), -ECANCELED);
        assert_null(x);
}

/* An unknown format, and what a failed open leaves. */
static void t_stream_errors(void **state)
{
        poe__trace_query q;
        poe__tl_export *x = NULL;
        char err[256], buf[8];

        (void)state;
        make_log(10);
        query_of(NULL, NULL, &q);
        TL_EQ(poe__tracelog_export_open(tf.t, "xml", &q, &x, err, sizeof(err)), -EINVAL);
        assert_null(x);
        assert_true(strncmp(err, "format", 6) == 0);
        TL_EQ(poe__tracelog_export_open(tf.t, NULL, &q, &x, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_export_open(NULL, "csv", &q, &x, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tl_export_read(NULL, buf, sizeof(buf)), -EINVAL);
        poe__tl_export_close(NULL);
        poe__tl_export_cancel(NULL);
        assert_null(poe__tl_export_error(NULL));
}

/* ---- memory ---- */

/* The heap grows by less than this however many records an export
 * reads: the record being handed out, SQLite's page cache (2 MiB by
 * default), a statement. */
#define HEAP_GROWTH_MAX (6u << 20)

static void t_stream_memory(void **state)
{
        poe__trace_query q;
        poe__tl_export *x;
        static char block[65536];
        size_t base, peak, now, total, i;
        int64_t n;
        ssize_t r;

        (void)state;
        /* 80,000 records: 11-30 MiB in each format, past the bound;
         * a tenth of it under valgrind, where the figure means nothing. */
        n = make_log(10000 / tl_time_scale());
        query_of(NULL, NULL, &q);
        for (i = 0; i < N_TEXT_FORMATS; i++) {
                x = open_export(text_formats[i], &q);
                base = peak = heap_in_use();
                total = 0;
                while ((r = poe__tl_export_read(x, block, sizeof(block))) > 0) {
                        total += (size_t)r;
                        now = heap_in_use();
                        peak = now > peak ? now : peak;
                }
                TL_EQ(r, 0);
                poe__tl_export_close(x);
                print_message("  %s: %lld records, %zu bytes, heap %zu -> peak %zu\n",
                              text_formats[i], (long long)n, total, base, peak);
                /* The body is larger than the bound: memory that grew
                 * with it would not stay under it. */
                if (tl_time_scale() == 1 && base > 0) {
                        assert_true(total > HEAP_GROWTH_MAX + (4u << 20));
                        assert_true(peak - base < HEAP_GROWTH_MAX);
                }
        }
}

/* ---- the pairing's caps, with synthetic records ---- */

static const char *put_names[8];

/* The id of an event name, defined to the sink before its first use. */
static uint32_t put_name(const char *name)
{
        poe_trace_record d;
        uint32_t i;

        for (i = 0; i < 8 && put_names[i]; i++)
                if (strcmp(put_names[i], name) == 0)
                        return i;
        assert_true(i < 8);
        put_names[i] = name;
        memset(&d, 0, sizeof(d));
        d.kind = POE_TK_DEF_NAME;
        d.epoch = 1;
        d.event = i;
        d.text = name;
        d.text_len = (uint16_t)strlen(name);
        TL_EQ(poe__tracelog_sink(tf.t, &d), 0);
        return i;
}

static int64_t put_count;

/* One record straight into the sink, ns apart from the last. */
static void put(const char *group, const char *kind, poe_sid session, const char *event,
                uint64_t event_id)
{
        poe_trace_record r;

        memset(&r, 0, sizeof(r));
        r.mono_ns = 1000 * ++put_count;
        r.wall = 1700000000.0 + (double)r.mono_ns / 1e9;
        r.group = poe_debug_group_parse(group);
        r.kind = (uint16_t)poe_trace_kind_parse(kind);
        r.session = session;
        r.event = event ? put_name(event) : POE_TRACE_NO_NAME;
        r.sender = 1;
        r.refcount = 1;
        r.epoch = 1;
        r.event_id = event_id;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
}

/* A log fed by put() alone, big enough for n records. */
static void put_begin(size_t n)
{
        char err[512];

        if (poe__tracelog_open(tf.path, n + 1024, tl.k, &tf.t, err, sizeof(err)) != 0)
                fail_msg("poe__tracelog_open: %s", err);
        memset(put_names, 0, sizeof(put_names));
        put_count = 0;
}

static void put_end(void)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;

        while (tf_status_int("records_written") < put_count) {
                if (tf_now_ms() > deadline)
                        fail_msg("the records were not written");
                tf_poll_pause();
        }
        TL_EQ(tf_status_int("dropped_total"), 0);
}

/* The whole export as JSON: Chrome's object, or OTLP's spans. */
static json_t *chrome_of(poe__tl_export_counts *counts)
{
        poe__trace_query q;
        poe__tl_export *x;
        json_error_t jerr;
        size_t len;
        char *body;
        json_t *j;

        query_of(NULL, NULL, &q);
        x = open_export("chrome", &q);
        body = drain(x, 65536, &len);
        poe__tl_export_get_counts(x, counts);
        poe__tl_export_close(x);
        j = json_loadb(body, len, 0, &jerr);
        if (!j)
                fail_msg("chrome JSON: %s", jerr.text);
        free(body);
        return j;
}

static json_t *otlp_spans(poe__tl_export_counts *counts)
{
        json_t *spans = json_array(), *line, *s;
        poe__trace_query q;
        poe__tl_export *x;
        json_error_t jerr;
        size_t len, i;
        char *body, *l, *next;

        query_of(NULL, NULL, &q);
        x = open_export("otlp", &q);
        body = drain(x, 65536, &len);
        poe__tl_export_get_counts(x, counts);
        poe__tl_export_close(x);
        body = realloc(body, len + 1);
        body[len] = '\0';
        for (l = body; *l; l = next) {
                next = strchr(l, '\n');
                assert_non_null(next);
                *next++ = '\0';
                line = json_loads(l, 0, &jerr);
                if (!line)
                        fail_msg("OTLP line: %s", jerr.text);
                s = json_object_get(json_array_get(json_object_get(json_array_get(
                                                                           json_object_get(line, "resourceSpans"), 0),
                                                                   "scopeSpans"),
                                                   0),
                                    "spans");
                assert_true(json_array_size(s) > 0);
                for (i = 0; i < json_array_size(s); i++)
                        json_array_append(spans, json_array_get(s, i));
                json_decref(line);
        }
        free(body);
        return spans;
}

/* A span attribute's value, as its JSON ({"stringValue": ...}). */
static json_t *attr(json_t *span, const char *key)
{
        json_t *a = json_object_get(span, "attributes");
        size_t i;

        for (i = 0; i < json_array_size(a); i++)
                if (strcmp(json_string_value(json_object_get(json_array_get(a, i), "key")), key) ==
                    0)
                        return json_object_get(json_array_get(a, i), "value");
        return NULL;
}

static size_t spans_with(json_t *spans, const char *name, const char *key, const char *value)
{
        size_t i, n = 0;

        for (i = 0; i < json_array_size(spans); i++) {
                json_t *s = json_array_get(spans, i), *v;

                if (strcmp(json_string_value(json_object_get(s, "name")), name) != 0)
                        continue;
                v = key ? attr(s, key) : NULL;
                if (!key ||
                    (v && json_string_value(json_object_get(v, "stringValue")) &&
                     strcmp(json_string_value(json_object_get(v, "stringValue")), value) == 0) ||
                    (v && json_is_boolean(json_object_get(v, "boolValue")) &&
                     strcmp(json_is_true(json_object_get(v, "boolValue")) ? "true" : "false",
                            value) == 0))
                        n++;
        }
        return n;
}

/* An export at its caps holds what they allow, well under the 16 MiB an
 * export may grow an inspector by (where the allocator says). */
static void assert_cap_memory(const char *what)
{
        print_message("  %s: heap growth %zu KiB\n", what, drain_growth >> 10);
        if (tl_time_scale() == 1 && heap_in_use() > 0)
                assert_true(drain_growth < (12u << 20));
}

static int64_t unpaired(json_t *chrome, const char *key)
{
        return json_integer_value(json_object_get(
                json_object_get(json_object_get(chrome, "otherData"), "unpaired"), key));
}

static size_t chrome_ph(json_t *chrome, const char *ph)
{
        json_t *evs = json_object_get(chrome, "traceEvents");
        size_t i, n = 0;

        for (i = 0; i < json_array_size(evs); i++)
                n += strcmp(json_string_value(json_object_get(json_array_get(evs, i), "ph")),
                            ph) == 0;
        return n;
}

/* Past POSTS_MAX pending posts a new one is not paired: no arrow, an
 * "untracked" span, and counted. */
static void t_posts_cap(void **state)
{
        poe__tl_export_counts counts;
        json_t *j, *spans;
        uint64_t id;

        (void)state;
        put_begin(POSTS_MAX + 64);
        for (id = 1; id <= POSTS_MAX + 8; id++)
                put("TRACE_EVENTS", "enqueue", 2, "p", id);
        /* The first four and the last four are dispatched. */
        for (id = 1; id <= POSTS_MAX + 8; id += id == 4 ? POSTS_MAX + 1 : 1) {
                put("TRACE_EVENTS", "dispatch", 2, "p", id);
                put("TRACE_EVENTS", "return", 2, "p", id);
        }
        put_end();

        j = chrome_of(&counts);
        assert_cap_memory("chrome, POSTS_MAX pending");
        /* The 8 dispatches, and a slice of its own for each post paired
         * (its sender, session 1, runs no handler for it to start in). */
        TL_EQ(chrome_ph(j, "X"), 8 + 4);
        TL_EQ(chrome_ph(j, "s"), 4); /* an arrow for each post paired */
        TL_EQ(unpaired(j, "posts_untracked"), 8);
        TL_EQ(unpaired(j, "posts_undispatched"), POSTS_MAX - 4);
        TL_EQ(unpaired(j, "dispatches_unreturned"), 0);
        TL_EQ(counts.untracked, 8);
        TL_EQ(counts.undispatched, POSTS_MAX - 4);
        json_decref(j);

        spans = otlp_spans(&counts);
        assert_cap_memory("otlp, POSTS_MAX pending");
        TL_EQ(spans_with(spans, "post p", "poe.outcome", "dispatched"), 4);
        TL_EQ(spans_with(spans, "post p", "poe.outcome", "untracked"), 8);
        TL_EQ(spans_with(spans, "post p", "poe.outcome", "pending"), POSTS_MAX - 4);
        TL_EQ(spans_with(spans, "p", NULL, NULL), 8);
        TL_EQ(counts.untracked, 8);
        TL_EQ(counts.undispatched, POSTS_MAX - 4);
        json_decref(spans);
}

/* Past STACK_MAX open dispatches the outermost is finished as one that
 * never returned; every dispatch is still there. */
static void t_stack_cap(void **state)
{
        poe__tl_export_counts counts;
        json_t *j, *spans;
        int i;

        (void)state;
        put_begin(STACK_MAX + 64);
        for (i = 0; i < STACK_MAX + 5; i++)
                put("TRACE_EVENTS", "dispatch", (poe_sid)(10 + i), "d", 0);
        put_end();

        j = chrome_of(&counts);
        assert_cap_memory("chrome, STACK_MAX open");
        TL_EQ(chrome_ph(j, "X"), STACK_MAX + 5);
        TL_EQ(unpaired(j, "dispatches_unreturned"), STACK_MAX + 5);
        TL_EQ(counts.unreturned, STACK_MAX + 5);
        json_decref(j);

        spans = otlp_spans(&counts);
        assert_cap_memory("otlp, STACK_MAX open");
        TL_EQ(spans_with(spans, "d", "poe.returned", "false"), STACK_MAX + 5);
        TL_EQ(counts.unreturned, STACK_MAX + 5);
        json_decref(spans);
}

/* The open dispatches hold at most EVENTS_HELD_MAX span events between
 * them; past it a span counts what it could not hold. */
static void t_events_cap(void **state)
{
        poe__tl_export_counts counts;
        json_t *spans, *s;
        const int depth = EVENTS_HELD_MAX / EVENTS_PER_SPAN + 1, per = EVENTS_PER_SPAN;
        int i, k;
        size_t n, full = 0, empty = 0;

        (void)state;
        put_begin((size_t)depth * (per + 2) + 64);
        for (i = 0; i < depth; i++) {
                put("TRACE_EVENTS", "dispatch", (poe_sid)(10 + i), "n", 0);
                for (k = 0; k < per; k++)
                        put("TRACE_SESSIONS", "create", (poe_sid)(10 + i), NULL, 0);
        }
        for (i = depth - 1; i >= 0; i--)
                put("TRACE_EVENTS", "return", (poe_sid)(10 + i), "n", 0);
        put_end();

        spans = otlp_spans(&counts);
        assert_cap_memory("otlp, EVENTS_HELD_MAX held");
        TL_EQ(spans_with(spans, "n", "poe.returned", "true"), depth);
        for (i = 0; i < (int)json_array_size(spans); i++) {
                s = json_array_get(spans, (size_t)i);
                n = json_array_size(json_object_get(s, "events"));
                if (n == (size_t)per) {
                        full++;
                        assert_null(json_object_get(s, "droppedEventsCount"));
                } else {
                        TL_EQ(n, 0);
                        TL_EQ(json_integer_value(json_object_get(s, "droppedEventsCount")), per);
                        empty++;
                }
        }
        TL_EQ(full, depth - 1);
        TL_EQ(empty, 1);
        TL_EQ(counts.events_dropped, per);
        json_decref(spans);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                FX_TEST(t_stream_is_whole), FX_TEST(t_stream_sqlite), FX_TEST(t_stream_stops),
                FX_TEST(t_stream_errors),   FX_TEST(t_stream_memory), FX_TEST(t_posts_cap),
                FX_TEST(t_stack_cap),       FX_TEST(t_events_cap),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
