/*
 * The trace log's walks (tracelog-walk.c), which poe-trace reads logs
 * through: poe__tracelog_walk_records hands over exactly what
 * poe__tracelog_query gives, page or no page, in either order;
 * poe__tracelog_walk_sessions the sessions with their records' counts;
 * a callback's non-zero return stops a walk and is what it returns;
 * poe__tracelog_run_pid knows the runs and says when one is not there;
 * poe__tracelog_json_text writes the JSON Lines export's lines byte for
 * byte; cancelled readers end the walks.  The same on the writing handle
 * and on a read-only one.
 *
 * Built, as poe-trace is, on poe/tracelog.h alone.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracelog-fixture.h"

#define NOTES 30

/* ---- the fixture: a finished log of two sessions talking ---- */

static int setup(void **state)
{
        return tf_setup(state, "tracewalk");
}

static int teardown(void **state)
{
        tf_release();
        return tf_teardown(state);
}

#define WALK_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static int own_sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        (void)r;
        return 0;
}

static poe_sid listener;
static int ticks;

static poe_value h_note(poe_ctx *c)
{
        if (poe_value_int(poe_ctx_arg(c, 0)) == NOTES - 1)
                TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "listener"), 0);
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value arg = poe_int(ticks);

        TL_EQ(poe_kernel_post(k, listener, "note", &arg, 1), 0);
        if (++ticks < NOTES)
                TL_EQ(poe_kernel_yield(k, "tick", NULL, 0), 0);
        return poe_nil();
}

/* Writes the log: a ticker posts NOTES notes to a listener, both stop;
 * the writer is stopped, so everything is in the file. */
static void write_log(void)
{
        char err[512];
        int rc;

        rc = poe__tracelog_open(tf.path, 0, tl.k, &tf.t, err, sizeof(err));
        if (rc != 0)
                fail_msg("poe__tracelog_open(%s): %d: %s", tf.path, rc, err);
        tf_attach(own_sink);
        ticks = 0;
        listener = TL_CREATE(tl.k, { "_start", tf_h_listener_start }, { "note", h_note });
        TL_CREATE(tl.k, { "_start", tf_h_ticker_start }, { "tick", h_tick });
        tl_run_to_end(tl.k, 10000);
        TL_EQ(ticks, NOTES);
        tf_detach();
        poe__tracelog_stop(tf.t);
}

/* ---- helpers ---- */

static json_t *query_p(poe__tracelog *t, const poe__params *p, poe__trace_query *ret_q)
{
        char err[256];
        json_t *r;

        if (poe__trace_query_parse(p, ret_q, err, sizeof(err)) != 0)
                fail_msg("query_parse: %s", err);
        r = poe__tracelog_query(t, ret_q, err, sizeof(err));
        if (!r)
                fail_msg("query: %s", err);
        return r;
}

/* A walk's callback that keeps what it is handed, and stops (returning
 * stop_with) at item stop_at (1-based; 0: never). */
typedef struct keep {
        json_t *items;
        int calls, stop_at, stop_with;
} keep;

static int keep_item(void *ctx, json_t *item)
{
        keep *k = ctx;

        k->calls++;
        assert_int_equal(json_array_append(k->items, item), 0);
        return k->calls == k->stop_at ? k->stop_with : 0;
}

static json_t *walk_records(poe__tracelog *t, const poe__trace_query *q)
{
        keep k = { .items = json_array() };
        char err[256];
        int rc;

        assert_non_null(k.items);
        rc = poe__tracelog_walk_records(t, q, keep_item, &k, err, sizeof(err));
        if (rc != 0)
                fail_msg("walk_records: %d: %s", rc, err);
        TL_EQ(k.calls, json_array_size(k.items));
        return k.items;
}

/* The walk over q gives the records of query p's answer, in its order. */
static void assert_walk_is_query(poe__tracelog *t, const poe__params *p, bool paged)
{
        poe__trace_query q;
        json_t *r = query_p(t, p, &q), *w;

        if (!paged)
                q.page.limit = 0;
        w = walk_records(t, &q);
        if (!json_equal(w, json_object_get(r, "records"))) {
                char *a = json_dumps(w, JSON_COMPACT), *b = json_dumps(r, JSON_COMPACT);

                fail_msg("the walk gave\n  %.600s\nthe query\n  %.600s", a, b);
        }
        json_decref(w);
        json_decref(r);
}

/* ---- the tests ---- */

/* The records, as the query gives them: all of them (the query's page
 * holds them all: fewer than 1000), a page, newest first, filtered; on
 * the writing handle and on a read-only one. */
static void t_records(void **state)
{
        const poe__params all = { 1, { { "limit", "1000" } } };
        const poe__params page = { 2, { { "offset", "3" }, { "limit", "7" } } };
        const poe__params desc = { 2, { { "limit", "1000" }, { "order", "desc" } } };
        const poe__params notes = { 2, { { "limit", "1000" }, { "event", "note" } } };
        poe__tracelog *ro = NULL;
        poe__trace_query q;
        json_t *r;
        char err[256];

        (void)state;
        write_log();
        r = query_p(tf.t, &all, &q);
        /* Each note's post, dispatch and return, at least. */
        assert_true(json_integer_value(json_object_get(r, "total")) >= 3 * NOTES);
        assert_true(json_integer_value(json_object_get(r, "total")) < 1000);
        json_decref(r);

        assert_walk_is_query(tf.t, &all, false);
        assert_walk_is_query(tf.t, &page, true);
        assert_walk_is_query(tf.t, &desc, false);
        assert_walk_is_query(tf.t, &notes, false);

        TL_EQ(poe__tracelog_open_readonly(tf.path, &ro, err, sizeof(err)), 0);
        TL_EQ(poe__tracelog_run_id(ro), poe__tracelog_run_id(tf.t));
        assert_walk_is_query(ro, &all, false);
        assert_walk_is_query(ro, &page, true);
        poe__tracelog_close(ro);
}

/* A callback's non-zero return stops the walk there, and is its answer. */
static void t_callback_stops(void **state)
{
        const poe__params none = { 0 };
        keep k = { .stop_at = 3, .stop_with = -ECANCELED };
        poe__trace_query q;
        char err[256];

        (void)state;
        write_log();
        TL_EQ(poe__trace_query_parse(&none, &q, err, sizeof(err)), 0);
        q.page.limit = 0;
        k.items = json_array();
        TL_EQ(poe__tracelog_walk_records(tf.t, &q, keep_item, &k, err, sizeof(err)), -ECANCELED);
        TL_EQ(k.calls, 3);
        json_decref(k.items);

        k = (keep){ .items = json_array(), .stop_at = 1, .stop_with = 7 };
        TL_EQ(poe__tracelog_walk_sessions(tf.t, poe__tracelog_run_id(tf.t), keep_item, &k, err,
                                          sizeof(err)),
              7);
        TL_EQ(k.calls, 1);
        json_decref(k.items);
}

/* The sessions the run's records mention, in id order, each with the
 * number of its records a query counts. */
static void t_sessions(void **state)
{
        keep k = { .stop_at = 0 };
        int64_t run, prev = -1;
        json_t *runs, *s;
        char err[256], sid[32];
        size_t i;

        (void)state;
        write_log();
        run = poe__tracelog_run_id(tf.t);
        assert_true(run > 0);
        k.items = json_array();
        TL_EQ(poe__tracelog_walk_sessions(tf.t, run, keep_item, &k, err, sizeof(err)), 0);
        runs = poe__tracelog_runs(tf.t, err, sizeof(err));
        assert_non_null(runs);
        /* The listener, the ticker and the kernel itself at least. */
        assert_true(k.calls >= 2);
        TL_EQ(k.calls, json_integer_value(json_object_get(json_array_get(runs, 0), "sessions")));
        json_array_foreach(k.items, i, s) {
                int64_t id = json_integer_value(json_object_get(s, "session"));
                poe__params p = { 2, { { "session", sid }, { "limit", "1" } } };
                poe__trace_query q;
                json_t *r;

                TL_EQ(json_integer_value(json_object_get(s, "run")), run);
                assert_true(id > prev);
                prev = id;
                assert_true(json_real_value(json_object_get(s, "first_seen")) <=
                            json_real_value(json_object_get(s, "last_seen")));
                snprintf(sid, sizeof(sid), "%lld", (long long)id);
                r = query_p(tf.t, &p, &q);
                TL_EQ(json_integer_value(json_object_get(s, "records")),
                      json_integer_value(json_object_get(r, "total")));
                json_decref(r);
        }
        json_decref(runs);
        json_decref(k.items);

        /* A run the log does not hold has no sessions. */
        k = (keep){ .items = json_array() };
        TL_EQ(poe__tracelog_walk_sessions(tf.t, run + 100, keep_item, &k, err, sizeof(err)), 0);
        TL_EQ(k.calls, 0);
        json_decref(k.items);
}

/* The run's pid, and a run that is not there. */
static void t_run_pid(void **state)
{
        int64_t pid = -1;
        char err[256];

        (void)state;
        write_log();
        TL_EQ(poe__tracelog_run_pid(tf.t, poe__tracelog_run_id(tf.t), &pid, err, sizeof(err)), 0);
        TL_EQ(pid, getpid());
        pid = -1;
        TL_EQ(poe__tracelog_run_pid(tf.t, 999, &pid, err, sizeof(err)), -ENOENT);
        TL_EQ(pid, -1);
        assert_non_null(strstr(err, "no run 999"));
        TL_EQ(poe__tracelog_run_pid(NULL, 1, &pid, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_run_pid(tf.t, 1, NULL, err, sizeof(err)), -EINVAL);
}

/* Lines made with poe__tracelog_json_text are the JSON Lines export. */
static int put_line(void *ctx, json_t *item)
{
        char **out = ctx, *line, *joined;
        size_t len;

        line = poe__tracelog_json_text(item, &len);
        assert_non_null(line);
        TL_EQ(len, strlen(line));
        joined = malloc(strlen(*out) + len + 2);
        assert_non_null(joined);
        sprintf(joined, "%s%s\n", *out, line);
        free(line);
        free(*out);
        *out = joined;
        return 0;
}

static void t_json_text_is_export(void **state)
{
        const poe__params none = { 0 };
        poe__trace_query q;
        const char *type;
        char err[256], *body = NULL, *lines = strdup("");
        size_t len = 0;
        int fd = -1;

        (void)state;
        write_log();
        assert_non_null(lines);
        TL_EQ(poe__trace_query_parse(&none, &q, err, sizeof(err)), 0);
        TL_EQ(poe__tracelog_export(tf.t, "jsonl", &q, &body, &fd, &len, &type, err, sizeof(err)),
              0);
        TL_EQ(fd, -1);
        q.page.limit = 0;
        TL_EQ(poe__tracelog_walk_records(tf.t, &q, put_line, &lines, err, sizeof(err)), 0);
        TL_EQ(strlen(lines), len);
        assert_string_equal(lines, body);
        free(lines);
        free(body);
        assert_null(poe__tracelog_json_text(NULL, &len));
}

/* Bad arguments: the walks fail with a message and call nothing.  Then
 * readers cancelled by the log's owner: a walk of some hundred records
 * reaches SQLite's progress check (every 1000 steps) before its end, and
 * fails there. */
static void t_failures(void **state)
{
        const poe__params none = { 0 };
        keep k = { .stop_at = 0 };
        poe__trace_query q;
        char err[256];
        int total;

        (void)state;
        write_log();
        k.items = json_array();
        TL_EQ(poe__trace_query_parse(&none, &q, err, sizeof(err)), 0);
        TL_EQ(poe__tracelog_walk_records(NULL, &q, keep_item, &k, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_walk_records(tf.t, NULL, keep_item, &k, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_walk_records(tf.t, &q, NULL, &k, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_walk_sessions(NULL, 1, keep_item, &k, err, sizeof(err)), -EINVAL);
        TL_EQ(poe__tracelog_walk_sessions(tf.t, 1, NULL, &k, err, sizeof(err)), -EINVAL);

        TL_EQ(k.calls, 0);

        q.page.limit = 0;
        TL_EQ(poe__tracelog_walk_records(tf.t, &q, keep_item, &k, err, sizeof(err)), 0);
        total = k.calls;
        k.calls = 0;
        poe__tracelog_cancel_readers(tf.t);
        err[0] = '\0';
        TL_EQ(poe__tracelog_walk_records(tf.t, &q, keep_item, &k, err, sizeof(err)), -EIO);
        assert_non_null(strstr(err, "stopped"));
        assert_true(k.calls < total);
        json_decref(k.items);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                WALK_TEST(t_records),
                WALK_TEST(t_callback_stops),
                WALK_TEST(t_sessions),
                WALK_TEST(t_run_pid),
                WALK_TEST(t_json_text_is_export),
                WALK_TEST(t_failures),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
