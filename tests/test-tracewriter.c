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
 *
 * The checkpointer (inspector/tracelog-checkpoint.c): records written
 * through many turns of the WAL leave it within its reserve (plus one
 * transaction), every one of them in a sound file, none dropped, the
 * checkpointer's runs counted; a reader that keeps a snapshot open holds
 * the WAL at its cap, where batches are dropped and counted (and the
 * status says why) rather than the WAL growing, until it ends and the
 * WAL starts again; the checkpointer's thread starts and ends with the
 * log, and a stop, a reader in the way or not, comes within a deadline.
 * Waits poll the status against deadlines.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tracelog-fixture.h"
#include "tracelog-internal.h"

#define N          3000
#define LONG_TEXT  3000 /* bytes of 0xff: 9000 once each is U+FFFD */
#define EVENT_NAME 1

static uint64_t wal_peak;

static int setup(void **state)
{
        wal_peak = 0;
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

/* ---- the checkpointer ---- */

/* A bound whose WAL reserve (an eighth of it) is 1 MiB, and a workload
 * that the size bound never trims: every record written stays. */
#define WAL_BOUND   (8u << 20)
#define WAL_RESERVE (1u << 20)
/* What the WAL may exceed its reserve by: the transaction that crossed
 * the cap, a batch of up to 1000 of these records, 20 to 35 frames here
 * (some 140 KiB; the run prints the most it saw), with room to spare. */
#define WAL_MARGIN (512u << 10)
#define TURNS_N    60000
#define CHUNK      5000
/* The longest a stop may take: the ring drained first (nothing in it
 * here), then the writer's and the checkpointer's threads joined. */
#define STOP_MS (2000 * tl_time_scale())

static uint64_t wal_bytes(void)
{
        char wal[200];
        struct stat sb;

        snprintf(wal, sizeof(wal), "%s-wal", tf.path);
        return stat(wal, &sb) == 0 ? (uint64_t)sb.st_size : 0;
}

static void note_wal(void)
{
        uint64_t n = wal_bytes();

        if (n > wal_peak)
                wal_peak = n;
}

/* The process's threads. */
static int threads(void)
{
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        int n = 0;

        assert_non_null(d);
        while ((e = readdir(d)))
                if (e->d_name[0] != '.')
                        n++;
        closedir(d);
        return n;
}

static void wal_open(void)
{
        poe_trace_record r;
        char err[512];

        TL_EQ(poe__tracelog_open(tf.path, 2 * CHUNK, tl.k, &tf.t, err, sizeof(err)), 0);
        TL_EQ(poe__tracelog_set_bounds(tf.t, WAL_BOUND, 0), 0);
        memset(&r, 0, sizeof(r));
        r.kind = POE_TK_DEF_NAME;
        r.event = EVENT_NAME;
        r.text = "step";
        r.text_len = 4;
        r.epoch = 1;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
}

/* Hands records [from, from + n) to the sink (a ring that holds them),
 * then waits until each is written or dropped, noting the WAL's size as
 * it goes. */
static void push(int from, int n)
{
        poe_trace_record r;
        char text[LONG_TEXT];
        int64_t deadline, done = tf_status_int("records_produced") + n;
        int i;

        for (i = from; i < from + n; i++) {
                make_record(i, &r, text);
                r.text_len = 0; /* no texts: a steady size per record */
                r.text = NULL;
                TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        }
        deadline = tf_now_ms() + TF_DEADLINE_MS;
        while (tf_status_int("records_written") + tf_status_int("dropped_total") < done) {
                note_wal();
                if (tf_now_ms() > deadline)
                        fail_msg("records %d to %d were not written", from, from + n);
                tf_poll_pause();
        }
        note_wal();
}

/* Stops the log within STOP_MS, its threads with it. */
static void stop_promptly(int threads_before)
{
        int64_t t0 = tf_now_ms(), ms;

        poe__tracelog_stop(tf.t);
        ms = tf_now_ms() - t0;
        print_message("  (stopped in %lld ms)\n", (long long)ms);
        assert_true(ms <= STOP_MS);
        assert_null(tf.t->ckpt);
        TL_EQ(threads(), threads_before);
}

static void integrity_ok(void)
{
        sqlite3 *db = tf_db_open_ro(tf.path);

        tf_sql_text_is(db, "PRAGMA integrity_check", "ok");
        sqlite3_close(db);
}

/* The WAL's largest length, as the writer saw it after its commits
 * (read once the writer has stopped), against the reserve. */
static void wal_within_reserve(void)
{
        sqlite3 *db = tf_db_open_ro(tf.path);
        uint64_t frames = tf.t->wal_frames_max,
                 bytes = frames * (uint64_t)(tf_sql_int(db, "PRAGMA page_size", 0) + 24);

        sqlite3_close(db);

        print_message("  (WAL at most %llu frames, %llu bytes, the file %llu; cap %u frames)\n",
                      (unsigned long long)frames, (unsigned long long)bytes,
                      (unsigned long long)wal_peak, tf.t->wal_cap);
        assert_true(bytes <= WAL_RESERVE + WAL_MARGIN);
        assert_true(wal_peak <= WAL_RESERVE + WAL_MARGIN);
}

static void t_wal_turns(void **state)
{
        int before = threads(), i;
        int64_t run;
        sqlite3 *db;
        json_t *s;

        (void)state;
        wal_open();
        /* The writer and the checkpointer. */
        TL_EQ(threads(), before + 2);
        run = tf_status_int("run_id");
        for (i = 0; i < TURNS_N; i += CHUNK)
                push(i, CHUNK);
        s = tf_status();
        TL_EQ(tf_st_int(s, "records_written"), TURNS_N);
        TL_EQ(tf_st_int(s, "dropped_total"), 0);
        TL_EQ(tf_st_int(s, "removed_total"), 0);
        assert_true(json_is_null(json_object_get(s, "error")));
        /* Many turns of a WAL of 1 MiB: the checkpointer ran. */
        assert_true(tf_st_int(s, "checkpoints") > 0);
        json_decref(s);
        stop_promptly(before);
        wal_within_reserve();
        /* The WAL started again: it never held all that was written. */
        assert_true(tf.t->wal_frames_max < tf.t->wal_cap * 4);
        poe__tracelog_close(tf.t);
        tf.t = NULL;
        note_wal();
        assert_true(wal_peak <= WAL_RESERVE + WAL_MARGIN);

        integrity_ok();
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), TURNS_N);
        TL_EQ(tf_sql_int(db, "SELECT count(DISTINCT arg0) FROM records WHERE run_id = ?", run),
              TURNS_N);
        TL_EQ(tf_sql_int(db, "SELECT written FROM runs WHERE id = ?", run), TURNS_N);
        TL_EQ(tf_sql_int(db, "SELECT produced FROM runs WHERE id = ?", run), TURNS_N);
        sqlite3_close(db);
}

/* The status says the WAL is held, and some records went for it. */
static bool held(void)
{
        json_t *s = tf_status(), *e = json_object_get(s, "error");
        bool h = tf_st_int(s, "dropped_total") > 0 && json_is_string(e) &&
                 strstr(json_string_value(e), "reader");

        json_decref(s);
        return h;
}

static void t_reader_holds_wal(void **state)
{
        int before = threads(), i = 0;
        int64_t run, deadline, written, dropped, written_held;
        sqlite3 *reader, *db;
        json_t *s;

        (void)state;
        wal_open();
        run = tf_status_int("run_id");
        push(i, CHUNK);
        i += CHUNK;
        /* A reader's snapshot, kept open: no checkpoint moves what is
         * written after it. */
        reader = tf_db_open_ro(tf.path);
        TL_EQ(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        TL_EQ(tf_sql_int(reader, "SELECT count(*) FROM records WHERE run_id = ?", run), CHUNK);
        deadline = tf_now_ms() + TF_DEADLINE_MS;
        while (!held()) {
                if (tf_now_ms() > deadline || i > 40 * CHUNK)
                        fail_msg("the writer never held the WAL (%d records)", i);
                push(i, CHUNK);
                i += CHUNK;
        }
        /* Held: more records change nothing but the drops. */
        written_held = tf_status_int("records_written");
        push(i, CHUNK);
        i += CHUNK;
        TL_EQ(tf_status_int("records_written"), written_held);
        assert_true(wal_peak <= WAL_RESERVE + WAL_MARGIN);
        /* The reader's snapshot is still what it was. */
        TL_EQ(tf_sql_int(reader, "SELECT count(*) FROM records WHERE run_id = ?", run), CHUNK);
        TL_EQ(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(reader);

        /* The reader gone, the WAL starts again and records go in. */
        deadline = tf_now_ms() + TF_DEADLINE_MS;
        for (;;) {
                push(i, CHUNK);
                i += CHUNK;
                s = tf_status();
                if (tf_st_int(s, "records_written") > written_held &&
                    json_is_null(json_object_get(s, "error")))
                        break;
                json_decref(s);
                if (tf_now_ms() > deadline)
                        fail_msg("the writer did not resume after the reader ended");
        }
        written = tf_st_int(s, "records_written");
        dropped = tf_st_int(s, "dropped_total");
        TL_EQ(tf_st_int(s, "records_produced"), i);
        TL_EQ(written + dropped, i);
        json_decref(s);
        stop_promptly(before);
        wal_within_reserve();
        poe__tracelog_close(tf.t);
        tf.t = NULL;

        /* Every record is in the file or counted as dropped. */
        integrity_ok();
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), written);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run),
              dropped);
        TL_EQ(tf_sql_int(db, "SELECT written FROM runs WHERE id = ?", run), written);
        TL_EQ(tf_sql_int(db, "SELECT produced FROM runs WHERE id = ?", run), i);
        sqlite3_close(db);
}

/* A stop while a reader holds the WAL and the checkpointer waits for it
 * to end: prompt all the same, both threads gone. */
static void t_stop_reader_holding(void **state)
{
        int before = threads();
        sqlite3 *reader;

        (void)state;
        wal_open();
        push(0, CHUNK);
        reader = tf_db_open_ro(tf.path);
        TL_EQ(sqlite3_exec(reader, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        assert_true(tf_sql_int(reader, "SELECT count(*) FROM records", 0) > 0);
        push(CHUNK, 4 * CHUNK);
        stop_promptly(before);
        TL_EQ(sqlite3_exec(reader, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(reader);
        poe__tracelog_close(tf.t);
        tf.t = NULL;
        integrity_ok();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(t_burst_in_order, setup, teardown),
                cmocka_unit_test_setup_teardown(t_wal_turns, setup, teardown),
                cmocka_unit_test_setup_teardown(t_reader_holds_wal, setup, teardown),
                cmocka_unit_test_setup_teardown(t_stop_reader_holding, setup, teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
