/*
 * The trace log tests' shared fixture: see tracelog-fixture.h.
 */
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "tracelog-fixture.h"

tf_env tf;

/* ---- time ---- */

int64_t tf_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void tf_poll_pause(void)
{
        struct timespec ts = {0, 1000000};

        nanosleep(&ts, NULL);
}

/* ---- set-up and tear-down ---- */

int tf_setup(void **state, const char *name)
{
        memset(&tf, 0, sizeof(tf));
        snprintf(tf.dir, sizeof(tf.dir), "/tmp/poe-%s-XXXXXX", name);
        if (!mkdtemp(tf.dir))
                return -1;
        snprintf(tf.path, sizeof(tf.path), "%s/trace.db", tf.dir);
        return tl_setup(state);
}

void tf_release(void)
{
        if (tf.log_sink > 0 && tl.k)
                poe_kernel_trace_sink_remove(tl.k, tf.log_sink);
        if (tf.own_sink > 0 && tl.k)
                poe_kernel_trace_sink_remove(tl.k, tf.own_sink);
        tf.log_sink = tf.own_sink = 0;
        poe__tracelog_close(tf.t);
        tf.t = NULL;
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
        (void)sb;
        (void)flag;
        (void)ftw;
        return remove(p);
}

int tf_teardown(void **state)
{
        /* Depth first and without following links: a test may leave a
         * file where a directory was, or the other way round. */
        nftw(tf.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        return tl_teardown(state);
}

/* ---- the sinks ---- */

void tf_sinks_add(poe_trace_sink_fn own)
{
        tf.log_sink =
                poe_kernel_trace_sink_add_slots(tl.k, poe__tracelog_sink, poe__tracelog_slot, tf.t);
        assert_true(tf.log_sink > 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.log_sink, TF_GROUPS), 0);
        tf.own_sink = poe_kernel_trace_sink_add(tl.k, own, NULL);
        assert_true(tf.own_sink > 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.own_sink, TF_GROUPS), 0);
}

void tf_attach(poe_trace_sink_fn own)
{
        assert_non_null(tf.t);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 0), 0);
        tf_sinks_add(own);
}

void tf_detach(void)
{
        if (tf.log_sink > 0)
                TL_EQ(poe_kernel_trace_sink_remove(tl.k, tf.log_sink), 0);
        if (tf.own_sink > 0)
                TL_EQ(poe_kernel_trace_sink_remove(tl.k, tf.own_sink), 0);
        tf.log_sink = tf.own_sink = 0;
}

void tf_log_close(void)
{
        tf_detach();
        poe__tracelog_close(tf.t);
        tf.t = NULL;
}

/* ---- the status ---- */

json_t *tf_status(void)
{
        json_t *s = poe__tracelog_status(tf.t);

        assert_non_null(s);
        return s;
}

int64_t tf_st_int(json_t *s, const char *key)
{
        json_t *v = json_object_get(s, key);

        if (!json_is_integer(v))
                fail_msg("status has no integer `%s'", key);
        return json_integer_value(v);
}

int64_t tf_status_int(const char *key)
{
        json_t *s = tf_status();
        int64_t v = tf_st_int(s, key);

        json_decref(s);
        return v;
}

int64_t tf_dropped(json_t *s, const char *group)
{
        json_t *v = json_object_get(json_object_get(s, "dropped"), group);

        return v ? json_integer_value(v) : 0;
}

bool tf_s_healthy_past(json_t *s, const void *arg)
{
        return json_is_null(json_object_get(s, "error")) &&
               tf_st_int(s, "records_written") > *(const int64_t *)arg;
}

void tf_run_until(bool (*pred)(json_t *s, const void *arg), const void *arg, const char *what)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;
        int i;

        for (;;) {
                json_t *s = tf_status();

                if (pred(s, arg)) {
                        json_decref(s);
                        return;
                }
                if (tf_now_ms() > deadline)
                        fail_msg("timed out waiting for %s; status %s", what,
                                 json_dumps(s, JSON_COMPACT));
                json_decref(s);
                for (i = 0; i < 20; i++)
                        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                /* Block now and then: under valgrind, whose thread lock is
                 * not fair, a thread that never blocks starves the writer. */
                tf_poll_pause();
        }
}

/* ---- the file ---- */

sqlite3 *tf_db_open_ro(const char *path)
{
        sqlite3 *db = NULL;

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
                fail_msg("sqlite3_open(%s): %s", path, sqlite3_errmsg(db));
        return db;
}

int64_t tf_sql_int(sqlite3 *db, const char *sql, int64_t arg)
{
        sqlite3_stmt *st;
        int64_t v;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        if (sqlite3_bind_parameter_count(st) > 0)
                sqlite3_bind_int64(st, 1, arg);
        if (sqlite3_step(st) != SQLITE_ROW)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

void tf_sql_text_is(sqlite3 *db, const char *sql, const char *want)
{
        sqlite3_stmt *st;

        if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        if (sqlite3_step(st) != SQLITE_ROW)
                fail_msg("%s: %s", sql, sqlite3_errmsg(db));
        assert_string_equal((const char *)sqlite3_column_text(st, 0), want);
        sqlite3_finalize(st);
}

/* ---- the workloads' start handlers ---- */

poe_value tf_h_listener_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "listener"), 0);
        return poe_nil();
}

poe_value tf_h_ticker_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "tick", NULL, 0), 0);
        return poe_nil();
}
