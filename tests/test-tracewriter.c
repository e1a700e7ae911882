/*
 * The trace log's writer (inspector/tracelog-writer.c): a batch's records
 * go into SQLite in one statement, through a virtual table over copies
 * of them, and a batch whose texts do not fit the copy's text buffer
 * goes in as several statements.  Records handed straight to the sink in
 * one burst, into a ring that holds them all, must come out of the file
 * every one, in the order they were produced, each field as stored
 * before (NULL for no event, no queue item and 0.0; -0.0 and the texts
 * kept, bad UTF-8 replaced), and the counts must add up exactly:
 * produced = written, nothing dropped.  Nothing here is timed: the
 * writer batches as it likes, and what is checked holds for any
 * batching.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tracelog-fixture.h"

#define N          3000
#define LONG_TEXT  3000 /* bytes of 0xff: 9000 once each is U+FFFD */
#define EVENT_NAME 1

static int setup(void **state)
{
        return tf_setup(state, "tracewriter");
}

static int teardown(void **state)
{
        tf_release();
        return tf_teardown(state);
}

/* What record i is: a yield chain's enqueue, dispatch or return, and
 * every fiftieth, at a few offsets, one of the odd ones. */
static void make_record(int i, poe_trace_record *r, char *text)
{
        memset(r, 0, sizeof(*r));
        r->mono_ns = 1000 + i;
        r->wall = 1700000000.0 + i / 1000.0;
        r->group = POE_TRACE_EVENTS;
        r->kind = (uint16_t)(POE_TK_ENQUEUE + i % 3);
        r->event = EVENT_NAME;
        r->event_id = (uint64_t)i / 3 + 1;
        r->session = 2;
        r->sender = 2;
        r->refcount = 1;
        r->arg.i[0] = i;
        r->epoch = 1;
        switch (i % 50) {
        case 7: /* a short text */
                r->kind = POE_TK_RETURN;
                snprintf(text, 32, "returned %d", i);
                r->text = text;
                r->text_len = (uint16_t)strlen(text);
                break;
        case 23: /* a long one, all of it bad UTF-8 */
                memset(text, 0xff, LONG_TEXT);
                r->text = text;
                r->text_len = LONG_TEXT;
                break;
        case 31: /* about no event and no queue item */
                r->event = POE_TRACE_NO_NAME;
                r->event_id = 0;
                break;
        case 41:
                r->num = -0.0;
                break;
        case 42:
                r->num = 2.5;
                break;
        }
}

/* Row i of the log is record i. */
static void assert_row(sqlite3_stmt *st, int i)
{
        poe_trace_record r;
        char text[LONG_TEXT];
        const unsigned char *t;

        make_record(i, &r, text);
        TL_EQ(sqlite3_column_int64(st, 0), r.mono_ns);
        TL_EQ(sqlite3_column_int64(st, 1), r.kind);
        TL_EQ(sqlite3_column_int64(st, 5), i);
        if (r.event == POE_TRACE_NO_NAME) {
                TL_EQ(sqlite3_column_type(st, 2), SQLITE_NULL);
                TL_EQ(sqlite3_column_type(st, 3), SQLITE_NULL);
        } else {
                TL_EQ(sqlite3_column_int64(st, 2), EVENT_NAME);
                TL_EQ(sqlite3_column_int64(st, 3), (int64_t)r.event_id);
        }
        if (i % 50 == 41) {
                TL_EQ(sqlite3_column_type(st, 4), SQLITE_FLOAT);
                assert_true(signbit(sqlite3_column_double(st, 4)));
        } else if (i % 50 == 42) {
                assert_true(sqlite3_column_double(st, 4) == 2.5);
        } else {
                TL_EQ(sqlite3_column_type(st, 4), SQLITE_NULL);
        }
        t = sqlite3_column_text(st, 6);
        if (i % 50 == 7) {
                assert_string_equal((const char *)t, text);
        } else if (i % 50 == 23) {
                TL_EQ(sqlite3_column_bytes(st, 6), 3 * LONG_TEXT);
                assert_memory_equal(t, "\xef\xbf\xbd", 3);
                assert_memory_equal(t + 3 * LONG_TEXT - 3, "\xef\xbf\xbd", 3);
        } else {
                TL_EQ(sqlite3_column_type(st, 6), SQLITE_NULL);
        }
}

static void t_burst_in_order(void **state)
{
        poe_trace_record r;
        char err[512], text[LONG_TEXT];
        int64_t deadline, run;
        sqlite3_stmt *st;
        sqlite3 *db;
        json_t *s;
        int i;

        (void)state;
        /* Room for every record and its text: nothing may be dropped. */
        TL_EQ(poe__tracelog_open(tf.path, 4 * N, tl.k, &tf.t, err, sizeof(err)), 0);
        run = tf_status_int("run_id");
        memset(&r, 0, sizeof(r));
        r.kind = POE_TK_DEF_NAME;
        r.event = EVENT_NAME;
        r.text = "step";
        r.text_len = 4;
        r.epoch = 1;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        for (i = 0; i < N; i++) {
                make_record(i, &r, text);
                TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        }
        deadline = tf_now_ms() + TF_DEADLINE_MS;
        while (tf_status_int("records_written") + tf_status_int("dropped_total") < N) {
                if (tf_now_ms() > deadline)
                        fail_msg("the records were not written");
                tf_poll_pause();
        }
        s = tf_status();
        TL_EQ(tf_st_int(s, "records_produced"), N);
        TL_EQ(tf_st_int(s, "records_written"), N);
        TL_EQ(tf_st_int(s, "dropped_total"), 0);
        TL_EQ(tf_st_int(s, "records_pending"), 0);
        assert_true(json_is_null(json_object_get(s, "error")));
        json_decref(s);
        poe__tracelog_close(tf.t);
        tf.t = NULL;

        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), N);
        TL_EQ(tf_sql_int(db, "SELECT written FROM runs WHERE id = ?", run), N);
        TL_EQ(tf_sql_int(db, "SELECT produced FROM runs WHERE id = ?", run), N);
        TL_EQ(sqlite3_prepare_v2(db,
                                 "SELECT mono_ns, kind, event, event_id, num, arg0, text "
                                 "FROM records WHERE run_id = ? ORDER BY id",
                                 -1, &st, NULL),
              SQLITE_OK);
        TL_EQ(sqlite3_bind_int64(st, 1, run), SQLITE_OK);
        for (i = 0; sqlite3_step(st) == SQLITE_ROW; i++)
                assert_row(st, i);
        TL_EQ(i, N);
        sqlite3_finalize(st);
        sqlite3_close(db);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(t_burst_in_order, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
