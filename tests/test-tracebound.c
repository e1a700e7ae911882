/*
 * The trace log's bounds and its accounting (inspector/tracelog-bound.c,
 * the counts of tracelog-writer.c):
 *
 *  - a log written far past a small size bound stays within it, plus a
 *    stated margin, all along and at the end; its file passes
 *    integrity_check; what was removed is counted per group, in the
 *    status and in the file, and a run's records in the file are its
 *    written count less its removed; queries still answer;
 *  - on the kernel's fake clock, records older than the age bound go, and
 *    only they; an earlier run whose records all went goes with what
 *    describes it, the current run's description stays;
 *  - a migrated log's old records (records_v2) go first;
 *  - a process killed with SIGKILL while records are on their way leaves
 *    a log from which poe-trace and a later inspector tell how many never
 *    reached the file: produced - written - dropped as the file stores
 *    them, never negative, and never more produced than the process made;
 *  - POE_TRACE_DB_MAX and POE_TRACE_DB_MAX_AGE: their syntax, and a bad
 *    value refused with -EINVAL and a message; an inspector whose log
 *    passes its bound shows the removed records in its summary and in
 *    /metrics.
 *
 * Waits poll the log's status (or the file) against a deadline; nothing
 * counts on a speed.
 *
 *   test-tracebound POE_TRACE TRACE_V2_SQL
 *   test-tracebound --child DB COUNTFILE     (the process the test kills)
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tracelog-fixture.h"

#include "http.h"

/* The small bound the size test writes past, and what the file (with its
 * WAL) may exceed it by: one batch of this workload's records (1000, about
 * 100 KiB) in the database before the pass after it trims, and one such
 * transaction in the WAL beyond the mark where the writer starts it again
 * (half its reserve, tracelog-checkpoint.c).  A quarter of the
 * bound here; a bound of the default's size has the same absolute margin,
 * a fraction of a percent of it. */
#define SMALL_BOUND  (1u << 20)
#define BOUND_MARGIN (256u << 10)

static const char *poe_trace_path, *v2_sql_path;

/* ---- the counting sink, and the fixture ---- */

static struct {
        uint64_t produced[32]; /* per group bit */
        uint64_t peak_bytes;   /* the file and its WAL, at the largest seen */
} fx;

static int count_sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        if (r->kind < POE_TK_KINDS) /* not a definition */
                fx.produced[__builtin_ctz(r->group)]++;
        return 0;
}

static uint64_t produced_total(void)
{
        uint64_t n = 0;
        int g;

        for (g = 0; g < 32; g++)
                n += fx.produced[g];
        return n;
}

static int setup(void **state)
{
        memset(&fx, 0, sizeof(fx));
        return tf_setup(state, "tracebound");
}

static int teardown(void **state)
{
        tf_release();
        return tf_teardown(state);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Opens tf.path with a ring of that many records (0: the default) and
 * the bounds, and attaches it and the counting sink. */
static void attach_ring(size_t ring, uint64_t max_bytes, uint64_t max_age)
{
        char err[512];

        if (poe__tracelog_open(tf.path, ring, tl.k, &tf.t, err, sizeof(err)) != 0)
                fail_msg("open: %s", err);
        TL_EQ(poe__tracelog_set_bounds(tf.t, max_bytes, max_age), 0);
        tf_attach(count_sink);
}

static void attach(uint64_t max_bytes, uint64_t max_age)
{
        attach_ring(0, max_bytes, max_age);
}

/* The database and its WAL on disk. */
static uint64_t file_bytes(const char *path)
{
        char wal[200];
        struct stat sb;
        uint64_t n = 0;

        if (stat(path, &sb) == 0)
                n += (uint64_t)sb.st_size;
        snprintf(wal, sizeof(wal), "%s-wal", path);
        if (stat(wal, &sb) == 0)
                n += (uint64_t)sb.st_size;
        return n;
}

static void note_size(void)
{
        uint64_t n = file_bytes(tf.path);

        if (n > fx.peak_bytes)
                fx.peak_bytes = n;
}

/* ---- the workload: a session that yields to itself and posts to
 * another, and now and then makes a session that stops at once (session
 * records all along), until told to stop ---- */

static struct {
        bool stop;
        poe_sid b;
        unsigned ticks;
} wl;

static poe_value h_note(poe_ctx *c)
{
        if (wl.stop)
                poe_kernel_alias_remove(poe_ctx_kernel(c), "listener");
        return poe_nil();
}

static poe_value h_blip_start(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_post(k, wl.b, "note", NULL, 0), 0);
        if (++wl.ticks % 50 == 0)
                TL_CREATE(k, {"_start", h_blip_start});
        if (!wl.stop)
                TL_EQ(poe_kernel_yield(k, "tick", NULL, 0), 0);
        return poe_nil();
}

static void workload_start(void)
{
        memset(&wl, 0, sizeof(wl));
        wl.b = TL_CREATE(tl.k, {"_start", tf_h_listener_start}, {"note", h_note});
        TL_CREATE(tl.k, {"_start", tf_h_ticker_start}, {"tick", h_tick});
}

/* Stops the workload, detaches the sinks and stops the log's writer
 * (which writes what the ring holds, and the bounds' last pass, first);
 * returns the status then, final (the caller owns it). */
static json_t *workload_finish(void)
{
        json_t *s;

        wl.stop = true;
        tl_run_to_end(tl.k, 100000);
        tf_detach();
        poe__tracelog_stop(tf.t);
        s = tf_status();
        TL_EQ(tf_st_int(s, "records_pending"), 0);
        return s;
}

static int64_t removed_of(json_t *s, const char *group)
{
        json_t *v = json_object_get(json_object_get(s, "removed"), group);

        return v ? json_integer_value(v) : 0;
}

/* The run's object in a runs answer. */
static json_t *run_in(json_t *runs, int64_t id)
{
        size_t i;
        json_t *r;

        json_array_foreach(runs, i, r)
                if (json_integer_value(json_object_get(r, "id")) == id)
                        return r;
        return NULL;
}

static int64_t jint(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                fail_msg("no integer `%s' in %s", key, json_dumps(o, JSON_COMPACT));
        return json_integer_value(v);
}

static void integrity_ok(const char *path)
{
        sqlite3 *db = tf_db_open_ro(path);

        tf_sql_text_is(db, "PRAGMA integrity_check", "ok");
        sqlite3_close(db);
}

/* ---- the size ---- */

static bool s_past_the_bound(json_t *s, const void *arg)
{
        (void)arg;
        note_size();
        /* Written twice what the file holds, and each group trimmed. */
        return tf_st_int(s, "removed_total") > tf_st_int(s, "records_written") / 2 &&
               removed_of(s, "TRACE_EVENTS") > 0 && removed_of(s, "TRACE_SESSIONS") > 0;
}

static void t_size(void **state)
{
        char sql[160], err[256];
        int64_t run, written, removed, in_file;
        poe__tracelog *ro;
        poe__trace_query q;
        json_t *s, *runs, *r, *ans;
        sqlite3 *db;
        int g;

        (void)state;
        attach(SMALL_BOUND, 0);
        workload_start();
        tf_run_until(s_past_the_bound, NULL, "records removed past the bound");
        s = workload_finish();
        note_size();
        run = tf_st_int(s, "run_id");
        written = tf_st_int(s, "records_written");
        removed = tf_st_int(s, "removed_total");
        print_message("  (%lld produced, %lld written, %lld removed, %lld dropped; "
                      "file and WAL at most %llu bytes for a bound of %u)\n",
                      (long long)produced_total(), (long long)written, (long long)removed,
                      (long long)tf_st_int(s, "dropped_total"),
                      (unsigned long long)fx.peak_bytes, SMALL_BOUND);
        TL_EQ(tf_st_int(s, "max_bytes"), SMALL_BOUND);
        TL_EQ(tf_st_int(s, "records_produced"), produced_total());
        TL_EQ(written + tf_st_int(s, "dropped_total"), produced_total());
        assert_true(tf_st_int(s, "size_bytes") <= SMALL_BOUND + BOUND_MARGIN);
        tf_log_close();

        /* The file: within the bound, sound, and its counts add up. */
        note_size();
        assert_true(fx.peak_bytes <= SMALL_BOUND + BOUND_MARGIN);
        integrity_ok(tf.path);
        db = tf_db_open_ro(tf.path);
        in_file = tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run);
        TL_EQ(in_file, written - removed);
        TL_EQ(tf_sql_int(db, "SELECT written FROM runs WHERE id = ?", run), written);
        TL_EQ(tf_sql_int(db, "SELECT produced FROM runs WHERE id = ?", run), produced_total());
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM removed WHERE run_id = ?", run),
              removed);
        for (g = 0; g < 32; g++) {
                const char *name = poe_debug_group_name(1u << g);

                if (!fx.produced[g])
                        continue;
                assert_true(removed_of(s, name) > 0);
                snprintf(sql, sizeof(sql),
                         "SELECT count(*) FROM records WHERE run_id = ? AND grp = %u", 1u << g);
                TL_EQ(tf_sql_int(db, sql, run) + removed_of(s, name) + tf_dropped(s, name),
                      fx.produced[g]);
                snprintf(sql, sizeof(sql),
                         "SELECT count FROM removed WHERE run_id = ? AND grp = '%s'", name);
                TL_EQ(tf_sql_int(db, sql, run), removed_of(s, name));
        }
        /* The oldest went first: what is left is the newest, in one run
         * of ids. */
        TL_EQ(tf_sql_int(db, "SELECT max(id) - min(id) + 1 FROM records WHERE run_id = ?", run),
              in_file);
        sqlite3_close(db);

        /* Queries answer, and the runs say what went. */
        TL_EQ(poe__tracelog_open_readonly(tf.path, &ro, err, sizeof(err)), 0);
        memset(&q, 0, sizeof(q));
        q.run_id = run;
        q.page.limit = 10;
        ans = poe__tracelog_query(ro, &q, err, sizeof(err));
        assert_non_null(ans);
        TL_EQ(jint(ans, "total"), in_file);
        TL_EQ(json_array_size(json_object_get(ans, "records")), 10);
        r = json_array_get(json_object_get(ans, "records"), 0);
        assert_true(json_is_string(json_object_get(r, "message")));
        json_decref(ans);
        runs = poe__tracelog_runs(ro, err, sizeof(err));
        assert_non_null(runs);
        r = run_in(runs, run);
        assert_non_null(r);
        TL_EQ(jint(r, "records"), in_file);
        TL_EQ(jint(r, "written"), written);
        TL_EQ(jint(r, "removed"), removed);
        TL_EQ(jint(r, "lost"), 0);
        assert_true(json_is_real(json_object_get(r, "ended")));
        json_decref(runs);
        poe__tracelog_close(ro);
        json_decref(s);
}

/* ---- the age, on the fake clock ---- */

#define T0      1000000000.0
#define MAX_AGE 60

/* A status count at least so high. */
typedef struct at_least {
        const char *key;
        int64_t n;
} at_least;

static bool s_at_least(json_t *s, const void *arg)
{
        const at_least *a = arg;

        return tf_st_int(s, a->key) >= a->n;
}

static void run_until_at_least(const char *key, int64_t n, const char *what)
{
        at_least a = { key, n };

        tf_run_until(s_at_least, &a, what);
}

/* Waits, without running the kernel (nothing new is produced), until the
 * writer has written or counted every record: the status then. */
static json_t *drained(void)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;
        json_t *s;

        for (;;) {
                s = tf_status();
                if (tf_st_int(s, "records_pending") == 0)
                        return s;
                json_decref(s);
                if (tf_now_ms() > deadline)
                        fail_msg("the ring did not drain");
                tf_poll_pause();
        }
}

static void t_age(void **state)
{
        int64_t run1, run2, run1_written, old, phase2;
        json_t *s;
        sqlite3 *db;

        (void)state;
        TL_EQ(poe_kernel_clock_fake(tl.k, T0), 0);

        /* An earlier run, at T0. */
        attach(0, 0);
        workload_start();
        run_until_at_least("records_written", 2000, "the first run's records");
        s = workload_finish();
        run1 = tf_st_int(s, "run_id");
        run1_written = tf_st_int(s, "records_written");
        json_decref(s);
        tf_log_close();

        /* The current run starts 1000 s later: the first run is past the
         * age at its first batch, all of it.  A small ring: a writer
         * slower than the kernel (valgrind's) drops records, and the age
         * must take only what was written. */
        TL_EQ(poe_kernel_clock_advance(tl.k, 1000), 0);
        memset(&fx, 0, sizeof(fx));
        attach_ring(2048, 0, MAX_AGE);
        workload_start();
        run_until_at_least("records_written", 3000,
                           "the current run's records at its start");
        run_until_at_least("removed_earlier", run1_written, "the earlier run removed");

        /* Then the clock moves past the age: what was written before
         * (all the kernel had made, once the ring is empty; a slow writer
         * may have dropped some) goes, and nothing after it. */
        s = drained();
        old = tf_st_int(s, "records_written");
        json_decref(s);
        TL_EQ(poe_kernel_clock_advance(tl.k, MAX_AGE + 1), 0);
        run_until_at_least("removed_total", old, "the records past the age removed");
        run_until_at_least("records_written", old + 3000, "records after the age");
        s = workload_finish();
        run2 = tf_st_int(s, "run_id");
        phase2 = tf_st_int(s, "records_written") - old;
        print_message("  (earlier run %lld records, this run %lld before the age and %lld "
                      "after, %lld dropped)\n",
                      (long long)run1_written, (long long)old, (long long)phase2,
                      (long long)tf_st_int(s, "dropped_total"));
        TL_EQ(tf_st_int(s, "removed_total"), old);
        TL_EQ(tf_st_int(s, "removed_earlier"), run1_written);
        TL_EQ(tf_st_int(s, "runs_removed"), 1);
        TL_EQ(tf_st_int(s, "max_age"), MAX_AGE);
        TL_EQ(tf_st_int(s, "records_written") + tf_st_int(s, "dropped_total"), produced_total());
        tf_log_close();

        integrity_ok(tf.path);
        db = tf_db_open_ro(tf.path);
        /* The earlier run and all that described it are gone ... */
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM runs WHERE id = ?", run1), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM sessions WHERE run_id = ?", run1), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM names WHERE run_id = ?", run1), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM loggables WHERE run_id = ?", run1), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM removed WHERE run_id = ?", run1), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run1), 0);
        /* ... the current run's stays, with the records after the age
         * and none before. */
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM runs WHERE id = ?", run2), 1);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM names WHERE run_id = ?", run2) > 0);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM sessions WHERE run_id = ?", run2) > 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run2), phase2);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE wall < ?", (int64_t)T0 + 1001),
              0);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM removed WHERE run_id = ?",
                         run2),
              old);
        sqlite3_close(db);
        json_decref(s);
}

/* ---- a migrated log: its old records go first ---- */

static void load_v2(const char *path, int copies)
{
        char *sql;
        sqlite3 *db;
        FILE *f;
        long n;
        int i;

        f = fopen(v2_sql_path, "r");
        if (!f)
                fail_msg("%s: %s", v2_sql_path, strerror(errno));
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        sql = malloc((size_t)n + 1);
        assert_non_null(sql);
        TL_EQ(fread(sql, 1, (size_t)n, f), n);
        sql[n] = '\0';
        fclose(f);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        free(sql);
        /* More of the same run: 205 records, doubled copies times. */
        for (i = 0; i < copies; i++)
                assert_int_equal(
                        sqlite3_exec(db,
                                     "INSERT INTO records(run_id, mono_ns, wall, grp, prefix, "
                                     "kind, session, event, sender, refcount, queue, message, "
                                     "event_id) SELECT run_id, mono_ns, wall, grp, prefix, kind, "
                                     "session, event, sender, refcount, queue, message, event_id "
                                     "FROM records",
                                     NULL, NULL, NULL),
                        SQLITE_OK);
        sqlite3_close(db);
}

static void t_migrated(void **state)
{
        int64_t v2_records, run, written, removed;
        char err[256];
        poe__tracelog *ro;
        json_t *s, *runs;
        sqlite3 *db;

        (void)state;
        /* About 2 MiB of version-2 records, twice the bound. */
        load_v2(tf.path, 6);
        db = tf_db_open_ro(tf.path);
        v2_records = tf_sql_int(db, "SELECT count(*) FROM records", 0);
        sqlite3_close(db);
        assert_true(file_bytes(tf.path) > SMALL_BOUND);

        attach(SMALL_BOUND, 0);
        workload_start();
        /* The old run goes whole, then the new run's oldest. */
        run_until_at_least("removed_earlier", v2_records, "the old records removed");
        run_until_at_least("removed_total", 1, "the new run's oldest removed");
        s = workload_finish();
        TL_EQ(tf_st_int(s, "removed_earlier"), v2_records);
        TL_EQ(tf_st_int(s, "runs_removed"), 1);
        run = tf_st_int(s, "run_id");
        written = tf_st_int(s, "records_written");
        removed = tf_st_int(s, "removed_total");
        tf_log_close();
        integrity_ok(tf.path);
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records_v2", 0), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM runs", 0), 1);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run),
              written - removed);
        sqlite3_close(db);

        /* Read as the readers read a migrated log. */
        TL_EQ(poe__tracelog_open_readonly(tf.path, &ro, err, sizeof(err)), 0);
        runs = poe__tracelog_runs(ro, err, sizeof(err));
        assert_non_null(runs);
        TL_EQ(json_array_size(runs), 1);
        TL_EQ(jint(run_in(runs, run), "records"), written - removed);
        TL_EQ(jint(run_in(runs, run), "lost"), 0);
        json_decref(runs);
        poe__tracelog_close(ro);
        json_decref(s);
}

/* A migrated log's old runs keep no counts: the readers say so (null),
 * and a run written since has them. */
static void t_migrated_unknown(void **state)
{
        char err[256];
        poe__tracelog *ro;
        json_t *s, *runs, *old, *cur;
        int64_t run;

        (void)state;
        load_v2(tf.path, 0);
        attach(0, 0);
        workload_start();
        run_until_at_least("records_written", 100, "records");
        s = workload_finish();
        run = tf_st_int(s, "run_id");
        json_decref(s);
        tf_log_close();
        TL_EQ(poe__tracelog_open_readonly(tf.path, &ro, err, sizeof(err)), 0);
        runs = poe__tracelog_runs(ro, err, sizeof(err));
        assert_non_null(runs);
        TL_EQ(json_array_size(runs), 2);
        old = run_in(runs, 1);
        cur = run_in(runs, run);
        assert_non_null(old);
        assert_non_null(cur);
        TL_EQ(jint(old, "records"), 205);
        assert_true(json_is_null(json_object_get(old, "lost")));
        assert_true(json_is_null(json_object_get(old, "produced")));
        TL_EQ(jint(old, "removed"), 0);
        TL_EQ(jint(cur, "lost"), 0);
        TL_EQ(jint(cur, "produced"), produced_total());
        json_decref(runs);
        poe__tracelog_close(ro);
}

/* ---- killed: the child ---- */

static uint64_t *child_count;

/* Counts what the kernel produced where the parent can read it after the
 * kill.  Registered before the log's sink: it is never behind it. */
static int child_count_sink(void *ctx, const poe_trace_record *r)
{
        (void)ctx;
        if (r->kind < POE_TK_KINDS)
                __atomic_store_n(child_count, *child_count + 1, __ATOMIC_RELEASE);
        return 0;
}

static poe_sid child_b;

static poe_value c_note(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value c_listener_start(poe_ctx *c)
{
        poe_kernel_alias_set(poe_ctx_kernel(c), "listener");
        return poe_nil();
}

static poe_value c_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        poe_kernel_post(k, child_b, "note", NULL, 0);
        poe_kernel_yield(k, "tick", NULL, 0);
        return poe_nil();
}

static poe_value c_ticker_start(poe_ctx *c)
{
        poe_kernel_yield(poe_ctx_kernel(c), "tick", NULL, 0);
        return poe_nil();
}

/* A kernel that traces into the log at DB as fast as it can, forever. */
static int child_main(const char *path, const char *countfile)
{
        static const poe_handler lh[] = { { "_start", c_listener_start, NULL },
                                          { "note", c_note, NULL } };
        static const poe_handler th[] = { { "_start", c_ticker_start, NULL },
                                          { "tick", c_tick, NULL } };
        poe_session_spec ls = { .handlers = lh, .n_handlers = 2 };
        poe_session_spec ts = { .handlers = th, .n_handlers = 2 };
        poe__tracelog *t;
        poe_kernel *k;
        char err[512];
        int fd, id;

        fd = open(countfile, O_RDWR);
        if (fd < 0)
                return 2;
        child_count = mmap(NULL, sizeof(*child_count), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (child_count == MAP_FAILED || poe_kernel_new(&k, NULL) < 0)
                return 2;
        if (poe__tracelog_open(path, 0, k, &t, err, sizeof(err)) < 0) {
                fprintf(stderr, "child: %s\n", err);
                return 2;
        }
        poe_kernel_trace_sink_remove(k, 0);
        id = poe_kernel_trace_sink_add(k, child_count_sink, NULL);
        if (id < 0 || poe_kernel_trace_sink_groups(k, id, TF_GROUPS) < 0)
                return 2;
        id = poe_kernel_trace_sink_add(k, poe__tracelog_sink, t);
        if (id < 0 || poe_kernel_trace_sink_groups(k, id, TF_GROUPS) < 0)
                return 2;
        if (poe_session_create(k, &ls, &child_b) < 0 || poe_session_create(k, &ts, NULL) < 0)
                return 2;
        poe_kernel_run(k);
        return 1; /* never: the test kills it */
}

/* ---- killed: the test ---- */

/* The newest run's written count, 0 while the file cannot say. */
static int64_t written_so_far(const char *path)
{
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        int64_t n = 0;

        if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
            sqlite3_prepare_v2(db, "SELECT written FROM runs ORDER BY id DESC LIMIT 1", -1, &st,
                               NULL) == SQLITE_OK &&
            sqlite3_step(st) == SQLITE_ROW)
                n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        sqlite3_close(db);
        return n;
}

/* argv run (under POE_TEST_WRAPPER when set, as the script runners do),
 * its standard output into out; returns its exit status. */
static int run_capture(char *const argv[], char *out, size_t size)
{
        char *wrapper = getenv("POE_TEST_WRAPPER"), *words[32], *w, *save = NULL, *copy = NULL;
        int p[2], st = 0, n = 0, i;
        size_t len = 0;
        ssize_t r;
        pid_t pid;

        if (wrapper && *wrapper) {
                copy = strdup(wrapper);
                assert_non_null(copy);
                for (w = strtok_r(copy, " ", &save); w && n < 24; w = strtok_r(NULL, " ", &save))
                        words[n++] = w;
        }
        for (i = 0; argv[i] && n < 31; i++)
                words[n++] = argv[i];
        words[n] = NULL;
        TL_EQ(pipe(p), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(p[1], 1);
                close(p[0]);
                close(p[1]);
                execvp(words[0], words);
                _exit(127);
        }
        close(p[1]);
        while (len + 1 < size && (r = read(p[0], out + len, size - len - 1)) > 0)
                len += (size_t)r;
        out[len] = '\0';
        close(p[0]);
        TL_EQ(waitpid(pid, &st, 0), pid);
        free(copy);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void t_killed(void **state)
{
        char self[4096], countfile[200], out[65536], err[256];
        int64_t deadline, produced, written, dropped, lost, records;
        uint64_t *count, made;
        json_t *line, *runs, *r;
        poe__tracelog *later;
        sqlite3 *db;
        ssize_t n;
        pid_t pid;
        int fd, st;

        (void)state;
        snprintf(countfile, sizeof(countfile), "%s/count", tf.dir);
        fd = open(countfile, O_RDWR | O_CREAT | O_EXCL, 0600);
        assert_true(fd >= 0);
        TL_EQ(ftruncate(fd, sizeof(*count)), 0);
        count = mmap(NULL, sizeof(*count), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        assert_true(count != MAP_FAILED);
        close(fd);
        n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execl(self, self, "--child", tf.path, countfile, (char *)NULL);
                _exit(127);
        }

        /* Killed once a few batches are in the file, while its kernel
         * goes on producing: records are in its ring and its writer. */
        for (deadline = tf_now_ms() + TF_DEADLINE_MS; written_so_far(tf.path) < 3000;) {
                if (tf_now_ms() > deadline || waitpid(pid, &st, WNOHANG) == pid) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        fail_msg("the child wrote no records in time");
                }
                nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        TL_EQ(kill(pid, SIGKILL), 0);
        TL_EQ(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL);
        made = __atomic_load_n(count, __ATOMIC_ACQUIRE);
        munmap(count, sizeof(*count));

        /* What the file stores. */
        db = tf_db_open_ro(tf.path);
        produced = tf_sql_int(db, "SELECT produced FROM runs WHERE id = 1", 0);
        written = tf_sql_int(db, "SELECT written FROM runs WHERE id = 1", 0);
        dropped = tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = 1", 0);
        records = tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = 1", 0);
        TL_EQ(tf_sql_int(db, "SELECT ended IS NULL FROM runs WHERE id = 1", 0), 1);
        sqlite3_close(db);
        TL_EQ(records, written);
        assert_true((uint64_t)produced <= made);

        /* What poe-trace says of it. */
        {
                char *argv[] = { (char *)poe_trace_path, "runs", tf.path, "--format", "jsonl",
                                 NULL };

                TL_EQ(run_capture(argv, out, sizeof(out)), 0);
        }
        line = json_loads(out, JSON_DISABLE_EOF_CHECK, NULL);
        if (!line)
                fail_msg("poe-trace runs: not JSON: %s", out);
        lost = jint(line, "lost");
        print_message("  (the kernel made %llu records; the file says %lld produced, %lld written, "
                      "%lld dropped: %lld lost, and %lld made after its last count)\n",
                      (unsigned long long)made, (long long)produced, (long long)written,
                      (long long)dropped, (long long)lost, (long long)made - produced);
        TL_EQ(lost, produced - written - dropped);
        assert_true(lost >= 0);
        TL_EQ(jint(line, "produced"), produced);
        TL_EQ(jint(line, "written"), written);
        TL_EQ(jint(line, "dropped"), dropped);
        assert_true(json_is_null(json_object_get(line, "ended")));
        json_decref(line);

        /* And an inspector's log opening the file later. */
        TL_EQ(poe__tracelog_open(tf.path, 0, tl.k, &later, err, sizeof(err)), 0);
        runs = poe__tracelog_runs(later, err, sizeof(err));
        assert_non_null(runs);
        r = run_in(runs, 1);
        assert_non_null(r);
        TL_EQ(jint(r, "lost"), lost);
        assert_true(json_is_false(json_object_get(r, "current")));
        json_decref(runs);
        poe__tracelog_close(later);
        integrity_ok(tf.path);
}

/* ---- the environment ---- */

static void t_parse(void **state)
{
        static const struct {
                const char *s;
                int ret;
                uint64_t v;
        } sizes[] = {
                { "1048576", 0, 1048576 },   { "1M", 0, 1 << 20 },
                { "1m", 0, 1 << 20 },        { "256M", 0, 256u << 20 },
                { "1024k", 0, 1 << 20 },     { "2G", 0, 2ull << 30 },
                { "1024T", 0, 1ull << 50 },  { "1048575", -EINVAL, 0 },
                { "1025T", -EINVAL, 0 },     { "0", -EINVAL, 0 },
                { "", -EINVAL, 0 },          { "M", -EINVAL, 0 },
                { "-1M", -EINVAL, 0 },       { "1.5G", -EINVAL, 0 },
                { "1MB", -EINVAL, 0 },       { "1 M", -EINVAL, 0 },
                { " 1M", -EINVAL, 0 },       { "1X", -EINVAL, 0 },
                { "99999999999999999999", -EINVAL, 0 },
                { "18446744073709551615G", -EINVAL, 0 },
        };
        static const struct {
                const char *s;
                int ret;
                uint64_t v;
        } ages[] = {
                { "0", 0, 0 },          { "60", 0, 60 },        { "60s", 0, 60 },
                { "5m", 0, 300 },       { "2h", 0, 7200 },      { "7d", 0, 7 * 86400 },
                { "36600d", 0, 36600ull * 86400 },              { "36601d", -EINVAL, 0 },
                { "", -EINVAL, 0 },     { "d", -EINVAL, 0 },    { "1w", -EINVAL, 0 },
                { "-1", -EINVAL, 0 },   { "1.5h", -EINVAL, 0 }, { "7D", -EINVAL, 0 },
                { "18446744073709551615d", -EINVAL, 0 },
        };
        uint64_t v;
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
                v = 12345;
                if (poe__inspector_parse_size(sizes[i].s, &v) != sizes[i].ret ||
                    v != (sizes[i].ret ? 12345 : sizes[i].v))
                        fail_msg("size `%s': %llu", sizes[i].s, (unsigned long long)v);
        }
        for (i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
                v = 12345;
                if (poe__inspector_parse_age(ages[i].s, &v) != ages[i].ret ||
                    v != (ages[i].ret ? 12345 : ages[i].v))
                        fail_msg("age `%s': %llu", ages[i].s, (unsigned long long)v);
        }
        TL_EQ(poe__tracelog_set_bounds(NULL, 0, 0), -EINVAL);
}

static void env_clear(void)
{
        unsetenv("POE_INSPECTOR");
        unsetenv("POE_TRACE_DB");
        unsetenv("POE_TRACE_DB_MAX");
        unsetenv("POE_TRACE_DB_MAX_AGE");
        unsetenv("POE_INSPECTOR_TOKEN");
        unsetenv("POE_INSPECTOR_TOKEN_FILE");
}

/* Writes text into tf.dir/name; its path into path. */
static void token_file(const char *name, const char *text, char *path, size_t size)
{
        FILE *f;

        snprintf(path, size, "%s/%s", tf.dir, name);
        f = fopen(path, "w");
        assert_non_null(f);
        fputs(text, f);
        fclose(f);
}

/* A bad value is refused, said on stderr, and starts nothing. */
static void refused(const char *name, const char *value)
{
        poe_inspector *in = (poe_inspector *)&in;
        char said[2048];

        setenv(name, value, 1);
        tl_stderr_begin();
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), -EINVAL);
        tl_stderr_end(said, sizeof(said));
        assert_null(in);
        if (!strstr(said, name) || !strstr(said, "expected"))
                fail_msg("%s=%s: stderr said `%s'", name, value, said);
        unsetenv(name);
}

static void t_env(void **state)
{
        poe_inspector *in = NULL;
        json_t *s;

        (void)state;
        env_clear();
        setenv("POE_INSPECTOR", "127.0.0.1:0", 1);
        setenv("POE_TRACE_DB", tf.path, 1);
        refused("POE_TRACE_DB_MAX", "100K");
        refused("POE_TRACE_DB_MAX", "lots");
        refused("POE_TRACE_DB_MAX", "1M\x1b[2J");
        refused("POE_TRACE_DB_MAX_AGE", "-5");
        refused("POE_TRACE_DB_MAX_AGE", "1y");

        setenv("POE_TRACE_DB_MAX", "2M", 1);
        setenv("POE_TRACE_DB_MAX_AGE", "1h", 1);
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), 0);
        assert_non_null(in);
        s = poe__tracelog_status(in->log);
        assert_non_null(s);
        TL_EQ(tf_st_int(s, "max_bytes"), 2 << 20);
        TL_EQ(tf_st_int(s, "max_age"), 3600);
        json_decref(s);
        poe_inspector_stop(in);

        /* Unset or empty: the defaults. */
        setenv("POE_TRACE_DB_MAX", "", 1);
        unsetenv("POE_TRACE_DB_MAX_AGE");
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), 0);
        s = poe__tracelog_status(in->log);
        TL_EQ(tf_st_int(s, "max_bytes"), POE__TRACE_DB_MAX_DEFAULT);
        assert_true(json_is_null(json_object_get(s, "max_age")));
        json_decref(s);
        poe_inspector_stop(in);
        env_clear();

        /* The options' own check. */
        {
                poe_inspector_options o;

                memset(&o, 0, sizeof(o));
                o.address = "127.0.0.1:0";
                o.trace_db = "";
                o.trace_db_max = POE__TRACE_DB_MAX_MIN - 1;
                in = (poe_inspector *)&o;
                TL_EQ(poe_inspector_start(tl.k, &o, &in), -EINVAL);
        }
}

/* The token from a file (a systemd credential, a container secret): its
 * first line, trimmed; the file wins over POE_INSPECTOR_TOKEN; a file that
 * is missing or holds no token starts nothing and says so. */
static void t_env_token_file(void **state)
{
        poe_inspector *in = NULL;
        char path[256], said[2048];

        (void)state;
        env_clear();
        setenv("POE_INSPECTOR", "127.0.0.1:0", 1);
        setenv("POE_TRACE_DB", "", 1);
        setenv("POE_INSPECTOR_TOKEN", "from-env", 1);
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), 0);
        assert_string_equal(in->token, "from-env");
        poe_inspector_stop(in);

        token_file("token", "  s3cret\t\nsecond line\n", path, sizeof(path));
        setenv("POE_INSPECTOR_TOKEN_FILE", path, 1);
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), 0);
        assert_non_null(in);
        assert_string_equal(in->token, "s3cret");
        poe_inspector_stop(in);

        token_file("empty", " \n", path, sizeof(path));
        setenv("POE_INSPECTOR_TOKEN_FILE", path, 1);
        in = (poe_inspector *)&in;
        tl_stderr_begin();
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), -EINVAL);
        tl_stderr_end(said, sizeof(said));
        assert_null(in);
        assert_non_null(strstr(said, "POE_INSPECTOR_TOKEN_FILE"));
        assert_non_null(strstr(said, "no token"));

        snprintf(path, sizeof(path), "%s/missing", tf.dir);
        setenv("POE_INSPECTOR_TOKEN_FILE", path, 1);
        tl_stderr_begin();
        TL_EQ(poe_inspector_start_from_env(tl.k, &in), -ENOENT);
        tl_stderr_end(said, sizeof(said));
        assert_null(in);
        assert_non_null(strstr(said, "missing"));
        env_clear();
}

/* An inspector whose log passes its bound says so: the kernel summary's
 * trace_log, and /metrics beside the drops. */
static void t_inspector(void **state)
{
        poe_inspector_options o;
        poe_inspector *in = NULL;
        int64_t deadline, n;
        json_t *extra, *log;
        char *metrics, line[128], why[2048];
        int i;

        (void)state;
        memset(&o, 0, sizeof(o));
        o.address = "127.0.0.1:0";
        o.trace_db = tf.path;
        o.trace_groups = TF_GROUPS;
        o.trace_db_max = SMALL_BOUND;
        TL_EQ(poe_inspector_start(tl.k, &o, &in), 0);
        workload_start();
        for (deadline = tf_now_ms() + TF_DEADLINE_MS;;) {
                log = poe__tracelog_status(in->log);
                assert_non_null(log);
                n = removed_of(log, "TRACE_EVENTS");
                json_decref(log);
                if (n > 0)
                        break;
                if (tf_now_ms() > deadline)
                        fail_msg("timed out waiting for the inspector's log to remove records");
                for (i = 0; i < 20; i++)
                        TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
                tf_poll_pause();
        }
        extra = poe__inspector_summary_extra(in);
        assert_non_null(extra);
        log = json_object_get(extra, "trace_log");
        assert_true(removed_of(log, "TRACE_EVENTS") > 0);
        assert_true(jint(log, "removed_total") >= removed_of(log, "TRACE_EVENTS"));
        TL_EQ(jint(log, "max_bytes"), SMALL_BOUND);
        assert_true(json_is_object(json_object_get(log, "dropped")));
        json_decref(extra);
        metrics = poe__metrics_text(tl.k, in);
        assert_non_null(metrics);
        assert_non_null(strstr(metrics, "# TYPE poe_trace_records_removed_total counter\n"));
        assert_non_null(strstr(metrics, "poe_trace_records_removed_total{group=\"TRACE_EVENTS\"} "));
        snprintf(line, sizeof(line), "poe_trace_log_max_bytes %u\n", SMALL_BOUND);
        assert_non_null(strstr(metrics, line));
        assert_non_null(strstr(metrics, "poe_trace_log_size_bytes "));
        if (!tl_promtool_check(metrics, why, sizeof(why)))
                fail_msg("promtool check metrics: %s", why);
        free(metrics);
        wl.stop = true;
        tl_run_to_end(tl.k, 100000);
        poe_inspector_stop(in);
}

int main(int argc, char **argv)
{
        const struct CMUnitTest tests[] = {
                FX_TEST(t_parse),    FX_TEST(t_env),    FX_TEST(t_env_token_file), FX_TEST(t_size),
                FX_TEST(t_age),      FX_TEST(t_migrated), FX_TEST(t_migrated_unknown),
                FX_TEST(t_killed),   FX_TEST(t_inspector),
        };

        if (argc == 4 && strcmp(argv[1], "--child") == 0)
                return child_main(argv[2], argv[3]);
        if (argc < 3) {
                fprintf(stderr, "usage: %s POE_TRACE TRACE_V2_SQL\n", argv[0]);
                return 2;
        }
        poe_trace_path = argv[1];
        v2_sql_path = argv[2];
        return cmocka_run_group_tests(tests, NULL, NULL);
}
