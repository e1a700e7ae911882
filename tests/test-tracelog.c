/*
 * The inspector's trace log (inspector/tracelog*.c): records from a real
 * kernel go through poe__tracelog_sink into SQLite and come back from
 * queries and exports field for field; filters and paging select what
 * they say; a flooded ring drops and counts rather than blocks; and the
 * faults a log meets in the field (a path it cannot create, a file that
 * is not a database, a database locked by someone else, a full disk) are
 * reported, survived and recovered from while the kernel goes on.
 * Event ids link each post to its dispatch in the log, and through it in
 * the Chrome trace (flows) and the OTLP export (parent spans); a version-1
 * log is migrated; the SQLite export comes as a descriptor.
 *
 * A second sink on the same groups keeps a copy of every record the
 * kernel produced: it is what the log is compared with.  Waits poll the
 * log's status against a deadline; nothing sleeps for a fixed time.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracelog-fixture.h"

/* ---- the copying sink ---- */

typedef struct rec {
        unsigned group;
        char *group_name, *prefix, *kind, *event, *message;
        poe_sid session, sender;
        uint32_t refcount;
        size_t queue;
        int64_t mono_ns;
        double wall;
        uint64_t event_id;
} rec;

static struct {
        rec *r;
        size_t n, cap;
        bool keep;         /* copy them, or only count them */
        uint64_t produced; /* every record the kernel handed the sinks */
        uint64_t per_group[32];
} copies;

static char *dup_or_null(const char *s)
{
        char *d;

        if (!s)
                return NULL;
        d = strdup(s);
        if (!d)
                abort();
        return d;
}

/* Keeps what the kernel made, as text: the names and the line rendered by
 * the public formatter on the kernel's thread (what the log renders on
 * reading must be the same). */
static int copy_sink(void *ctx, const poe_trace_record *r)
{
        char msg[4096];
        rec *x;

        (void)ctx;
        if (r->kind >= POE_TK_KINDS)
                return 0; /* a definition */
        copies.produced++;
        copies.per_group[__builtin_ctz(r->group)]++;
        if (!copies.keep)
                return 0;
        if (copies.n == copies.cap) {
                copies.cap = copies.cap ? copies.cap * 2 : 256;
                copies.r = realloc(copies.r, copies.cap * sizeof(*copies.r));
                if (!copies.r)
                        abort();
        }
        x = &copies.r[copies.n++];
        x->group = r->group;
        x->group_name = dup_or_null(poe_debug_group_name(r->group));
        x->prefix = dup_or_null(poe_debug_group_prefix(r->group));
        x->kind = dup_or_null(poe_trace_kind_name(r->kind));
        x->event = dup_or_null(poe_kernel_trace_lookup(tl.k, POE_TRACE_LOOKUP_NAME, r->event));
        poe_kernel_trace_format(tl.k, r, msg, sizeof(msg));
        x->message = dup_or_null(msg);
        x->session = r->session;
        x->sender = r->sender;
        x->refcount = r->refcount;
        x->queue = r->queue_length;
        x->mono_ns = r->mono_ns;
        x->wall = r->wall;
        x->event_id = r->event_id;
        return 0;
}

static void copies_clear(void)
{
        size_t i;

        for (i = 0; i < copies.n; i++) {
                free(copies.r[i].group_name);
                free(copies.r[i].prefix);
                free(copies.r[i].kind);
                free(copies.r[i].event);
                free(copies.r[i].message);
        }
        free(copies.r);
        memset(&copies, 0, sizeof(copies));
}

/* ---- the fixture: what this test keeps beside tracelog-fixture.h's ---- */

static struct {
        bool mounted;
        sqlite3 *locker;
        char filler[160];
} fx;

static int setup(void **state)
{
        memset(&fx, 0, sizeof(fx));
        memset(&copies, 0, sizeof(copies));
        copies.keep = true;
        return tf_setup(state, "tracelog");
}

static int teardown(void **state)
{
        tf_release();
        if (fx.locker)
                sqlite3_close(fx.locker);
        if (fx.mounted)
                umount2(tf.dir, MNT_DETACH);
        copies_clear();
        return tf_teardown(state);
}

#define FX_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/* Opens the log at tf.path and attaches it, and the copying sink, to
 * the kernel for TRACE_EVENTS and TRACE_SESSIONS. */
static void attach(size_t ring)
{
        char err[512];
        int rc;

        rc = poe__tracelog_open(tf.path, ring, tl.k, &tf.t, err, sizeof(err));
        if (rc != 0)
                fail_msg("poe__tracelog_open(%s): %d: %s", tf.path, rc, err);
        tf_attach(copy_sink);
}

/* ---- the status ---- */

/* Waits until every record produced is accounted for: written or
 * dropped, nothing pending. */
static void wait_settled(void)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;

        for (;;) {
                json_t *s = tf_status();
                int64_t w = tf_st_int(s, "records_written"), d = tf_st_int(s, "dropped_total");
                int64_t p = tf_st_int(s, "records_pending");

                json_decref(s);
                if (p == 0 && (uint64_t)(w + d) == copies.produced)
                        return;
                if (tf_now_ms() > deadline)
                        fail_msg("the log did not settle: %lld written + %lld dropped of %llu "
                                 "produced, %lld pending",
                                 (long long)w, (long long)d, (unsigned long long)copies.produced,
                                 (long long)p);
                tf_poll_pause();
        }
}

/* ---- the workload: two sessions talking ---- */

static struct {
        int ticks, target, notes, inner, spins, spin_target;
        poe_sid a, b;
        bool forever;
} wl;

static poe_value h_note(poe_ctx *c)
{
        wl.notes++;
        if (!wl.forever && poe_value_int(poe_ctx_arg(c, 0)) == wl.target - 1)
                TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "listener"), 0);
        return poe_nil();
}

static poe_value h_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value arg = poe_int(wl.ticks);
        poe_value ret;

        wl.ticks++;
        /* A call to another session is a nested dispatch (a session
         * calling itself is not traced, as in POE). */
        TL_EQ(poe_kernel_call(k, wl.b, "inner", NULL, 0, &ret), 0);
        TL_EQ(poe_kernel_post(k, wl.b, "note", &arg, 1), 0);
        if (wl.forever || wl.ticks < wl.target)
                TL_EQ(poe_kernel_yield(k, "tick", NULL, 0), 0);
        return poe_nil();
}

static poe_value h_inner(poe_ctx *c)
{
        (void)c;
        wl.inner++;
        return poe_int(42);
}

/* Creates the two sessions; ticks is how many rounds A runs (forever:
 * until wl.forever is cleared). */
static void workload(int ticks, bool forever)
{
        memset(&wl, 0, sizeof(wl));
        wl.target = ticks;
        wl.forever = forever;
        wl.b = TL_CREATE(tl.k, { "_start", tf_h_listener_start }, { "note", h_note },
                         { "inner", h_inner });
        wl.a = TL_CREATE(tl.k, { "_start", tf_h_ticker_start }, { "tick", h_tick });
}

/* Runs n timeslices of a workload that runs forever. */
static void run_slices(int n)
{
        int i;

        for (i = 0; i < n; i++)
                TL_EQ(poe_kernel_run_one_timeslice(tl.k), 1);
}

/* ---- queries ---- */

typedef struct kv {
        const char *k, *v;
} kv;

static poe__params params_of(const kv *p, size_t n)
{
        poe__params ps;
        size_t i;

        memset(&ps, 0, sizeof(ps));
        for (i = 0; i < n; i++) {
                ps.kv[i].key = p[i].k;
                ps.kv[i].value = p[i].v;
        }
        ps.n = (int)n;
        return ps;
}

#define PARAMS(...)                                                                                \
        params_of((const kv[]){ __VA_ARGS__ }, sizeof((const kv[]){ __VA_ARGS__ }) / sizeof(kv))

static json_t *query(const poe__params *p)
{
        poe__trace_query q;
        char err[256];
        json_t *r;

        if (poe__trace_query_parse(p, &q, err, sizeof(err)) != 0)
                fail_msg("query_parse: %s", err);
        r = poe__tracelog_query(tf.t, &q, err, sizeof(err));
        if (!r)
                fail_msg("query: %s", err);
        return r;
}

static int64_t query_total(const poe__params *p)
{
        json_t *r = query(p);
        int64_t n = json_integer_value(json_object_get(r, "total"));

        json_decref(r);
        return n;
}

static const char *jget_s(json_t *o, const char *key)
{
        return json_string_value(json_object_get(o, key));
}

static int64_t jget_i(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_integer(v))
                fail_msg("no integer `%s'", key);
        return json_integer_value(v);
}

/* A record from the log is the record the kernel produced. */
static void assert_same(json_t *o, const rec *r, int64_t run)
{
        json_t *ev = json_object_get(o, "event");

        TL_EQ(jget_i(o, "run"), run);
        TL_EQ(jget_i(o, "mono_ns"), r->mono_ns);
        assert_true(json_is_real(json_object_get(o, "wall")));
        if (json_real_value(json_object_get(o, "wall")) != r->wall)
                fail_msg("wall %.9f, want %.9f", json_real_value(json_object_get(o, "wall")),
                         r->wall);
        assert_string_equal(jget_s(o, "group"), r->group_name);
        assert_string_equal(jget_s(o, "prefix"), r->prefix);
        assert_string_equal(jget_s(o, "kind"), r->kind);
        TL_EQ(jget_i(o, "session"), r->session);
        if (r->event)
                assert_string_equal(json_string_value(ev), r->event);
        else
                assert_true(json_is_null(ev));
        TL_EQ(jget_i(o, "sender"), r->sender);
        TL_EQ(jget_i(o, "refcount"), r->refcount);
        TL_EQ(jget_i(o, "queue"), r->queue);
        assert_string_equal(jget_s(o, "message"), r->message);
        /* 0, "about no queue item", is stored as NULL. */
        if (r->event_id)
                TL_EQ(jget_i(o, "event_id"), r->event_id);
        else
                assert_true(json_is_null(json_object_get(o, "event_id")));
}

/* The sessions the records are about. */
static size_t distinct_sessions(void)
{
        size_t i, j, n = 0;

        for (i = 0; i < copies.n; i++) {
                for (j = 0; j < i; j++)
                        if (copies.r[j].session == copies.r[i].session)
                                break;
                n += j == i;
        }
        return n;
}

/* The build's version, as meson.project_version() gives it: digits and
 * dots first, whatever follows. */
static void assert_version(const char *v)
{
        size_t digits = strspn(v ? v : "", "0123456789.");

        if (!v || digits < 3 || !strchr(v, '.') || strcmp(v, "unknown") == 0)
                fail_msg("poe_version `%s' is not the build's version", v ? v : "(null)");
}

/* ---- tests ---- */

/*
 * The log alone on its groups: the kernel writes the records straight
 * into the ring's slots (poe__tracelog_slot), and the log gives back what
 * a plain sink gets from the same program on a kernel of its own, field
 * for field, walls included (both kernels on the same fake clock, so
 * even the times agree).  With a small ring, the program runs a slice at
 * a time and waits for the writer whenever half the ring is in use, so
 * that the slots wrap around the ring many times and nothing is dropped.
 */
static void alone_in_slots(size_t ring)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        poe_kernel *mine = tl.k, *other;
        char err[512], lim[32];
        int64_t run, deadline;
        poe__params p;
        json_t *r, *recs;
        size_t i;
        int own, rc;

        /* The plain sink's run. */
        TL_EQ(poe_kernel_new(&other, &al), 0);
        tl.k = other;
        TL_EQ(poe_kernel_clock_fake(other, 1700000000.5), 0);
        TL_EQ(poe_kernel_trace_sink_remove(other, 0), 0);
        own = poe_kernel_trace_sink_add(other, copy_sink, NULL);
        assert_true(own > 0);
        TL_EQ(poe_kernel_trace_sink_groups(other, own, TF_GROUPS), 0);
        workload(40, false);
        tl_run_to_end(other, 1000);
        TL_EQ(wl.ticks, 40);
        tl.k = mine;
        poe_kernel_free(other);
        assert_true(copies.n > 200 && copies.n <= 1000);

        /* The log's, alone. */
        TL_EQ(poe_kernel_clock_fake(mine, 1700000000.5), 0);
        TL_EQ(poe__tracelog_open(tf.path, ring, mine, &tf.t, err, sizeof(err)), 0);
        TL_EQ(poe_kernel_trace_sink_remove(mine, 0), 0);
        tf.log_sink =
                poe_kernel_trace_sink_add_slots(mine, poe__tracelog_sink, poe__tracelog_slot, tf.t);
        assert_true(tf.log_sink > 0);
        TL_EQ(poe_kernel_trace_sink_groups(mine, tf.log_sink, TF_GROUPS), 0);
        workload(40, false);
        while ((rc = poe_kernel_run_one_timeslice(mine)) == 1) {
                deadline = tf_now_ms() + TF_DEADLINE_MS;
                while (ring && tf_status_int("records_pending") > (int64_t)ring / 4) {
                        if (tf_now_ms() > deadline)
                                fail_msg("the writer did not catch up");
                        tf_poll_pause();
                }
        }
        TL_EQ(rc, 0);
        TL_EQ(wl.ticks, 40);
        tf_detach();
        wait_settled();
        TL_EQ(tf_status_int("records_written"), copies.n);
        TL_EQ(tf_status_int("dropped_total"), 0);
        run = tf_status_int("run_id");
        snprintf(lim, sizeof(lim), "%zu", copies.n);
        p = PARAMS({"limit", lim});
        r = query(&p);
        recs = json_object_get(r, "records");
        TL_EQ(json_array_size(recs), copies.n);
        for (i = 0; i < copies.n; i++)
                assert_same(json_array_get(recs, i), &copies.r[i], run);
        json_decref(r);
        tf_log_close();
}

static void workload_finish(void)
{
        wl.forever = false;
        wl.target = wl.ticks + 1;
        tl_run_to_end(tl.k, 100000);
}

/* Waits until every record the log was handed is written, none dropped. */
static void wait_all_written(void)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;

        for (;;) {
                json_t *s = tf_status();
                int64_t w = tf_st_int(s, "records_written"), p = tf_st_int(s, "records_produced");

                TL_EQ(tf_st_int(s, "dropped_total"), 0);
                json_decref(s);
                if (p > 0 && w == p)
                        return;
                if (tf_now_ms() > deadline)
                        fail_msg("the writer did not see every record: %lld written of %lld",
                                 (long long)w, (long long)p);
                tf_poll_pause();
        }
}

/* The log's sink alone, in slots, with the writer's periodic look put
 * off by look_ms. */
static void attach_alone(int64_t look_ms)
{
        char err[512];

        TL_EQ(poe__tracelog_open(tf.path, 0, tl.k, &tf.t, err, sizeof(err)), 0);
        poe__tracelog_set_idle_look(tf.t, look_ms);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 0), 0);
        tf.log_sink =
                poe_kernel_trace_sink_add_slots(tl.k, poe__tracelog_sink, poe__tracelog_slot, tf.t);
        assert_true(tf.log_sink > 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.log_sink, TF_GROUPS), 0);
}

/* The records the kernel writes in its slots tell the writer of
 * themselves only now and then (tracelog.c, "Waking the writer"); when
 * the kernel returns from a timeslice it hands its slot back, and a writer
 * that went to sleep meanwhile is woken for what it has not seen.  Its
 * own periodic look is put off an hour, so in every round but the first
 * (whose wait was armed before) only the hand-back can wake it. */
static void t_idle_hands_back(void **state)
{
        int round;

        (void)state;
        attach_alone(3600 * 1000);
        workload(0, true);
        for (round = 0; round < 8; round++) {
                /* Slices of ticks and notes: records in slots only. */
                run_slices(3);
                wait_all_written();
        }
        workload_finish();
        tf_detach();
        tf_log_close();
}

/* A kernel busy in one long handler neither sleeps nor returns: the
 * writer's periodic look finds the records it makes.  The handler waits,
 * with a deadline, until the writer has seen everything and sleeps, then
 * posts three events (records in slots, which do not wake the writer)
 * and waits again until they are written. */
static poe_value h_noop(poe_ctx *c)
{
        (void)c;
        return poe_nil();
}

static poe_value h_long(poe_ctx *c)
{
        int i;

        wait_all_written();
        for (i = 0; i < 3; i++)
                TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "noop", POE_NOARGS), 0);
        wait_all_written();
        wl.ticks++;
        return poe_nil();
}

static poe_value h_long_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "long", POE_NOARGS), 0);
        return poe_nil();
}

static void t_long_handler(void **state)
{
        (void)state;
        attach_alone(20);
        memset(&wl, 0, sizeof(wl));
        TL_CREATE(tl.k, {"_start", h_long_start}, {"long", h_long}, {"noop", h_noop});
        tl_run_to_end(tl.k, 1000);
        TL_EQ(wl.ticks, 1);
        tf_detach();
        tf_log_close();
}

static void t_alone_in_slots(void **state)
{
        (void)state;
        alone_in_slots(0);
}

static void t_alone_in_slots_small_ring(void **state)
{
        (void)state;
        alone_in_slots(64);
}

/* Every field of every record comes back as the kernel produced it; the
 * sessions table matches the records; a reopened log is a new run. */
static void t_roundtrip(void **state)
{
        json_t *r, *runs, *s;
        int64_t run, off = 0;
        size_t i, j;
        char err[256];
        sqlite3 *db;
        sqlite3_stmt *st;
        char page_off[32];

        (void)state;
        attach(0);
        s = tf_status();
        run = tf_st_int(s, "run_id");
        assert_true(run >= 1);
        assert_true(json_is_null(json_object_get(s, "error")));
        assert_non_null(jget_s(s, "path"));
        assert_true(jget_s(s, "path")[0] == '/');
        TL_EQ(tf_st_int(s, "dropped_total"), 0);
        json_decref(s);

        workload(20, false);
        tl_run_to_end(tl.k, 1000);
        TL_EQ(wl.ticks, 20);
        TL_EQ(wl.notes, 20);
        tf_detach();
        wait_settled();
        TL_EQ(tf_status_int("records_written"), copies.n);
        TL_EQ(tf_status_int("dropped_total"), 0);
        assert_true(copies.n > 100);

        /* Every record, page by page, in order. */
        for (i = 0; i < copies.n;) {
                poe__params p;

                snprintf(page_off, sizeof(page_off), "%lld", (long long)off);
                p = PARAMS({ "offset", page_off }, { "limit", "37" });
                r = query(&p);
                TL_EQ(jget_i(r, "total"), copies.n);
                assert_true(json_array_size(json_object_get(r, "records")) > 0);
                for (j = 0; j < json_array_size(json_object_get(r, "records")); j++, i++)
                        assert_same(json_array_get(json_object_get(r, "records"), j), &copies.r[i],
                                    run);
                off += 37;
                json_decref(r);
        }

        /* The sessions table: each session's first and last record. */
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "PRAGMA user_version", 0), 3);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), copies.n);
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "SELECT session_id, first_seen, last_seen FROM "
                                            "sessions WHERE run_id = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_int64(st, 1, run);
        j = 0;
        while (sqlite3_step(st) == SQLITE_ROW) {
                poe_sid sid = (poe_sid)sqlite3_column_int64(st, 0);
                double first = INFINITY, last = -INFINITY;

                for (i = 0; i < copies.n; i++) {
                        if (copies.r[i].session != sid)
                                continue;
                        first = fmin(first, copies.r[i].wall);
                        last = fmax(last, copies.r[i].wall);
                }
                assert_true(first == sqlite3_column_double(st, 1));
                assert_true(last == sqlite3_column_double(st, 2));
                j++;
        }
        sqlite3_finalize(st);
        TL_EQ(j, distinct_sessions());
        assert_true(j >= 2); /* A and B at least */
        sqlite3_close(db);

        runs = poe__tracelog_runs(tf.t, err, sizeof(err));
        assert_non_null(runs);
        TL_EQ(json_array_size(runs), 1);
        TL_EQ(jget_i(json_array_get(runs, 0), "id"), run);
        TL_EQ(jget_i(json_array_get(runs, 0), "pid"), getpid());
        assert_string_equal(jget_s(json_array_get(runs, 0), "kernel_id"), poe_kernel_id(tl.k));
        assert_version(jget_s(json_array_get(runs, 0), "poe_version"));
        TL_EQ(jget_i(json_array_get(runs, 0), "records"), copies.n);
        assert_true(json_is_true(json_object_get(json_array_get(runs, 0), "current")));
        json_decref(runs);

        /* Reopened: a second run; the first is still there by number. */
        tf_log_close();
        attach(0);
        TL_EQ(tf_status_int("run_id"), run + 1);
        {
                char rbuf[32];
                poe__params p;

                snprintf(rbuf, sizeof(rbuf), "%lld", (long long)run);
                p = PARAMS({ "run", rbuf });
                TL_EQ(query_total(&p), copies.n);
                p = PARAMS({ "order", "asc" });
                TL_EQ(query_total(&p), 0);
        }
        runs = poe__tracelog_runs(tf.t, err, sizeof(err));
        assert_non_null(runs);
        TL_EQ(json_array_size(runs), 2);
        assert_true(json_is_false(json_object_get(json_array_get(runs, 0), "current")));
        assert_true(json_is_true(json_object_get(json_array_get(runs, 1), "current")));
        json_decref(runs);
        tf_log_close();
}

static size_t count_copies(bool (*pred)(const rec *r, const void *arg), const void *arg)
{
        size_t i, n = 0;

        for (i = 0; i < copies.n; i++)
                n += pred(&copies.r[i], arg);
        return n;
}

static bool p_session(const rec *r, const void *arg)
{
        return r->session == *(const poe_sid *)arg;
}

static bool p_group(const rec *r, const void *arg)
{
        return (r->group & *(const unsigned *)arg) != 0;
}

static bool p_event(const rec *r, const void *arg)
{
        return r->event && strcmp(r->event, arg) == 0;
}

static bool p_kind(const rec *r, const void *arg)
{
        return strcmp(r->kind, arg) == 0;
}

static bool p_since(const rec *r, const void *arg)
{
        return r->wall >= *(const double *)arg;
}

static bool p_until(const rec *r, const void *arg)
{
        return r->wall <= *(const double *)arg;
}

/* Each filter selects what it says; paging and order too. */
static void t_filters_and_paging(void **state)
{
        poe__params p;
        json_t *r, *recs;
        unsigned g;
        char buf[64], buf2[64];
        int64_t run, first_id;
        size_t i, n;
        double w;

        (void)state;
        attach(0);
        run = tf_status_int("run_id");
        workload(15, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        n = copies.n;

        /* Paging: offset 3, limit 7. */
        p = PARAMS({ "offset", "3" }, { "limit", "7" });
        r = query(&p);
        recs = json_object_get(r, "records");
        TL_EQ(jget_i(r, "total"), n);
        TL_EQ(json_array_size(recs), 7);
        for (i = 0; i < 7; i++)
                assert_same(json_array_get(recs, i), &copies.r[3 + i], run);
        first_id = jget_i(json_array_get(recs, 0), "id") - 3;
        json_decref(r);
        /* Past the end: nothing, the same total. */
        snprintf(buf, sizeof(buf), "%zu", n);
        p = PARAMS({ "offset", buf });
        r = query(&p);
        TL_EQ(json_array_size(json_object_get(r, "records")), 0);
        TL_EQ(jget_i(r, "total"), n);
        json_decref(r);
        /* The default page is 100. */
        p = PARAMS({ "order", "asc" });
        r = query(&p);
        TL_EQ(json_array_size(json_object_get(r, "records")), n < 100 ? n : 100);
        json_decref(r);

        /* Newest first. */
        p = PARAMS({ "order", "desc" }, { "limit", "2" });
        r = query(&p);
        recs = json_object_get(r, "records");
        assert_same(json_array_get(recs, 0), &copies.r[n - 1], run);
        assert_same(json_array_get(recs, 1), &copies.r[n - 2], run);
        json_decref(r);

        /* session */
        snprintf(buf, sizeof(buf), "%llu", (unsigned long long)wl.b);
        p = PARAMS({ "session", buf }, { "limit", "1000" });
        r = query(&p);
        TL_EQ(jget_i(r, "total"), count_copies(p_session, &wl.b));
        for (i = 0; i < json_array_size(json_object_get(r, "records")); i++)
                TL_EQ(jget_i(json_array_get(json_object_get(r, "records"), i), "session"), wl.b);
        json_decref(r);

        /* group: a name, a short name, a list. */
        g = POE_TRACE_SESSIONS;
        p = PARAMS({ "group", "TRACE_SESSIONS" });
        TL_EQ(query_total(&p), count_copies(p_group, &g));
        assert_true(count_copies(p_group, &g) > 0);
        g = POE_TRACE_EVENTS;
        p = PARAMS({ "group", "events" });
        TL_EQ(query_total(&p), count_copies(p_group, &g));
        p = PARAMS({ "group", "events, POE_TRACE_SESSIONS" });
        TL_EQ(query_total(&p), n);
        p = PARAMS({ "group", "signals" });
        TL_EQ(query_total(&p), 0);

        /* event, kind, and both */
        p = PARAMS({ "event", "tick" });
        TL_EQ(query_total(&p), count_copies(p_event, "tick"));
        assert_true(count_copies(p_event, "tick") >= 15 * 3);
        p = PARAMS({ "kind", "dispatch" });
        TL_EQ(query_total(&p), count_copies(p_kind, "dispatch"));
        p = PARAMS({ "kind", "return" }, { "event", "inner" });
        TL_EQ(query_total(&p), 15);

        /* since and until, at a record's own time */
        w = copies.r[n / 2].wall;
        snprintf(buf, sizeof(buf), "%.17g", w);
        p = PARAMS({ "since", buf });
        TL_EQ(query_total(&p), count_copies(p_since, &w));
        p = PARAMS({ "until", buf });
        TL_EQ(query_total(&p), count_copies(p_until, &w));
        snprintf(buf2, sizeof(buf2), "%.17g", copies.r[n - 1].wall + 1000);
        p = PARAMS({ "since", buf2 });
        TL_EQ(query_total(&p), 0);

        /* after: the tail of the log */
        snprintf(buf, sizeof(buf), "%lld", (long long)(first_id + 9));
        p = PARAMS({ "after", buf }, { "limit", "1" });
        r = query(&p);
        TL_EQ(jget_i(r, "total"), n - 10);
        assert_same(json_array_get(json_object_get(r, "records"), 0), &copies.r[10], run);
        json_decref(r);

        /* run: another run's records, or none */
        p = PARAMS({ "run", "999" });
        TL_EQ(query_total(&p), 0);
        snprintf(buf, sizeof(buf), "%lld", (long long)run);
        p = PARAMS({ "run", buf }, { "kind", "dispatch" }, { "event", "note" });
        TL_EQ(query_total(&p), 15);
        tf_log_close();
}

/* Bad parameters: -EINVAL, and the message names the parameter. */
static void t_query_parse_errors(void **state)
{
        static const struct {
                const char *k, *v;
        } bad[] = {
                { "since", "yesterday" }, { "since", "-5" },      { "until", "nan" },
                { "until", "" },          { "session", "x" },     { "session", "-1" },
                { "group", "bogus" },     { "group", "events," }, { "group", "" },
                { "after", "-3" },        { "run", "one" },       { "offset", "-1" },
                { "limit", "0" },         { "limit", "5000" },    { "order", "sideways" },
        };
        poe__trace_query q;
        poe__params p;
        char err[256];
        size_t i;

        (void)state;
        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                p = PARAMS({ bad[i].k, bad[i].v });
                err[0] = '\0';
                if (poe__trace_query_parse(&p, &q, err, sizeof(err)) != -EINVAL)
                        fail_msg("%s=%s was accepted", bad[i].k, bad[i].v);
                if (strncmp(err, bad[i].k, strlen(bad[i].k)) != 0)
                        fail_msg("%s=%s: message `%s' does not name it", bad[i].k, bad[i].v, err);
        }
        /* Everything at once, parsed. */
        p = PARAMS({ "since", "1700000000.5" }, { "until", "1800000000" }, { "session", "7" },
                   { "group", "TRACE_EVENTS,sessions" }, { "event", "tick" },
                   { "kind", "dispatch" }, { "after", "12" }, { "run", "3" }, { "offset", "20" },
                   { "limit", "10" }, { "order", "desc" });
        TL_EQ(poe__trace_query_parse(&p, &q, err, sizeof(err)), 0);
        assert_true(q.since == 1700000000.5);
        assert_true(q.until == 1800000000.0);
        assert_true(q.has_session);
        TL_EQ(q.session, 7);
        TL_EQ(q.groups, POE_TRACE_EVENTS | POE_TRACE_SESSIONS);
        assert_string_equal(q.event, "tick");
        assert_string_equal(q.kind, "dispatch");
        TL_EQ(q.after_id, 12);
        TL_EQ(q.run_id, 3);
        TL_EQ(q.page.offset, 20);
        TL_EQ(q.page.limit, 10);
        assert_true(q.descending);
        /* Nothing: no filter, the first page. */
        p = params_of(NULL, 0);
        TL_EQ(poe__trace_query_parse(&p, &q, err, sizeof(err)), 0);
        assert_false(q.has_session);
        TL_EQ(q.groups, 0);
        assert_null(q.event);
        TL_EQ(q.page.limit, 100);
        assert_false(q.descending);
}

static poe_value h_flood(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int i;

        /* Each call is a dispatch and a return: thousands of records from
         * one handler, faster than any writer. */
        for (i = 0; i < 500; i++)
                TL_EQ(poe_kernel_call(k, wl.b, "inner", NULL, 0, NULL), 0);
        if (++wl.spins < wl.spin_target)
                TL_EQ(poe_kernel_yield(k, "flood", NULL, 0), 0);
        else
                TL_EQ(poe_kernel_call(k, wl.b, "done", NULL, 0, NULL), 0);
        return poe_nil();
}

static poe_value h_done(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), "listener"), 0);
        return poe_nil();
}

static poe_value h_flood_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "flood", NULL, 0), 0);
        return poe_nil();
}

/* A ring of 8 flooded with 10,000 records: the kernel never waits; what
 * does not fit is dropped and counted per group, in the status and in
 * the log; written + dropped = produced. */
static void t_flood_small_ring(void **state)
{
        int64_t written, dropped, run;
        json_t *s;
        sqlite3 *db;

        (void)state;
        copies.keep = false;
        attach(8);
        run = tf_status_int("run_id");
        memset(&wl, 0, sizeof(wl));
        wl.spin_target = 10;
        wl.b = TL_CREATE(tl.k, { "_start", tf_h_listener_start }, { "inner", h_inner },
                         { "done", h_done });
        TL_CREATE(tl.k, { "_start", h_flood_start }, { "flood", h_flood });
        tl_run_to_end(tl.k, 1000);
        TL_EQ(wl.inner, 5000);
        assert_true(copies.produced >= 10000);
        tf_detach();
        wait_settled();
        s = tf_status();
        written = tf_st_int(s, "records_written");
        dropped = tf_st_int(s, "dropped_total");
        TL_EQ((uint64_t)(written + dropped), copies.produced);
        assert_true(dropped > 0);
        assert_true(written > 0);
        TL_EQ(tf_dropped(s, "TRACE_EVENTS") + tf_dropped(s, "TRACE_SESSIONS"), dropped);
        assert_true(tf_dropped(s, "TRACE_EVENTS") > 0);
        assert_true((uint64_t)tf_dropped(s, "TRACE_SESSIONS") <= copies.per_group[4]);
        assert_true(json_is_null(json_object_get(s, "error")));
        json_decref(s);
        tf_log_close();

        /* The log says the same. */
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), written);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run),
              dropped);
        TL_EQ(tf_sql_int(db, "SELECT count FROM drops WHERE run_id = ? AND grp = 'TRACE_EVENTS'",
                      run) > 0,
              1);
        sqlite3_close(db);
}

/* The same flood with the log alone on its groups, the records written in
 * the ring's slots: what the ring cannot take is dropped and counted per
 * group all the same, and written + dropped is what the kernel made (as
 * a counting sink on a kernel of its own sees it). */
static void flood(poe_kernel *k)
{
        memset(&wl, 0, sizeof(wl));
        wl.spin_target = 10;
        wl.b = TL_CREATE(k, {"_start", tf_h_listener_start}, {"inner", h_inner}, {"done", h_done});
        TL_CREATE(k, {"_start", h_flood_start}, {"flood", h_flood});
        tl_run_to_end(k, 1000);
        TL_EQ(wl.inner, 5000);
}

static void t_flood_small_ring_alone(void **state)
{
        poe_allocator al = tl_allocator(&tl.alloc);
        poe_kernel *other;
        static const struct {
                unsigned group;
                const char *name;
        } groups[] = {{POE_TRACE_EVENTS, "TRACE_EVENTS"}, {POE_TRACE_SESSIONS, "TRACE_SESSIONS"}};
        int64_t written, dropped, run, by_group[2];
        char q[128];
        size_t i;
        char err[512];
        json_t *s;
        sqlite3 *db;
        int own;

        (void)state;
        copies.keep = false;
        TL_EQ(poe_kernel_new(&other, &al), 0);
        TL_EQ(poe_kernel_trace_sink_remove(other, 0), 0);
        own = poe_kernel_trace_sink_add(other, copy_sink, NULL);
        assert_true(own > 0);
        TL_EQ(poe_kernel_trace_sink_groups(other, own, TF_GROUPS), 0);
        flood(other);
        poe_kernel_free(other);
        assert_true(copies.produced >= 10000);

        TL_EQ(poe__tracelog_open(tf.path, 8, tl.k, &tf.t, err, sizeof(err)), 0);
        TL_EQ(poe_kernel_trace_sink_remove(tl.k, 0), 0);
        tf.log_sink =
                poe_kernel_trace_sink_add_slots(tl.k, poe__tracelog_sink, poe__tracelog_slot, tf.t);
        assert_true(tf.log_sink > 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.log_sink, TF_GROUPS), 0);
        run = tf_status_int("run_id");
        flood(tl.k);
        tf_detach();
        wait_settled();
        s = tf_status();
        written = tf_st_int(s, "records_written");
        dropped = tf_st_int(s, "dropped_total");
        TL_EQ(tf_st_int(s, "records_produced"), copies.produced);
        TL_EQ((uint64_t)(written + dropped), copies.produced);
        TL_EQ(tf_st_int(s, "records_pending"), 0);
        assert_true(dropped > 0);
        assert_true(written > 0);
        for (i = 0; i < 2; i++)
                by_group[i] = tf_dropped(s, groups[i].name);
        TL_EQ(by_group[0] + by_group[1], dropped);
        assert_true(by_group[0] > 0);
        /* Every drop here is the full ring's, shed on the kernel's
         * thread in the shedding slot. */
        TL_EQ(tf_st_int(s, "dropped_ring_full"), dropped);
        json_decref(s);
        tf_log_close();
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), written);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run),
              dropped);
        /* Per group, what the file holds and what was dropped is what
         * the kernel made: a shed record is counted in its own group. */
        for (i = 0; i < 2; i++) {
                snprintf(q, sizeof(q), "SELECT count(*) FROM records WHERE run_id = ? AND grp = %u",
                         groups[i].group);
                TL_EQ((uint64_t)(tf_sql_int(db, q, run) + by_group[i]),
                      copies.per_group[__builtin_ctz(groups[i].group)]);
        }
        sqlite3_close(db);
}

/* A path that cannot be created: open fails and says why. */
static void t_unwritable_path(void **state)
{
        poe__tracelog *t = NULL;
        char err[512], path[160];
        int rc;

        (void)state;
        rc = poe__tracelog_open("/nonexistent-poe-dir/sub/trace.db", 64, tl.k, &t, err,
                                sizeof(err));
        assert_true(rc < 0);
        assert_null(t);
        print_message("  (message: %s)\n", err);
        assert_non_null(strstr(err, "/nonexistent-poe-dir/sub/trace.db"));
        assert_non_null(strstr(err, "cannot open"));
        assert_non_null(strstr(err, "No such file or directory"));

        /* A directory is no database either. */
        rc = poe__tracelog_open(tf.dir, 64, tl.k, &t, err, sizeof(err));
        assert_true(rc < 0);
        assert_null(t);
        assert_non_null(strstr(err, tf.dir));

        /* A read-only directory: only meaningful when not root. */
        if (geteuid() != 0) {
                snprintf(path, sizeof(path), "%s/ro", tf.dir);
                TL_EQ(mkdir(path, 0500), 0);
                snprintf(path, sizeof(path), "%s/ro/trace.db", tf.dir);
                rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
                assert_true(rc < 0);
                assert_non_null(strstr(err, "cannot open"));
        }

        /* A read-only file system says so (SQLite's last error is the
         * ENOENT of its read-only retry).  Mounting needs root. */
        snprintf(path, sizeof(path), "%s/rofs", tf.dir);
        TL_EQ(mkdir(path, 0700), 0);
        if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=64k") == 0) {
                snprintf(path, sizeof(path), "%s/rofs/trace.db", tf.dir);
                rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
                print_message("  (message: %s)\n", err);
                snprintf(path, sizeof(path), "%s/rofs", tf.dir);
                umount2(path, MNT_DETACH);
                TL_EQ(rc, -EROFS);
                assert_null(t);
                assert_non_null(strstr(err, "Read-only file system"));
        } else {
                print_message("  (not root: the read-only file system is not tried)\n");
        }

        /* No path at all. */
        TL_EQ(poe__tracelog_open("", 64, tl.k, &t, err, sizeof(err)), -EINVAL);
}

static void write_file(const char *path, const char *text, size_t times)
{
        FILE *f = fopen(path, "w");
        size_t i;

        assert_non_null(f);
        for (i = 0; i < times; i++)
                fputs(text, f);
        TL_EQ(fclose(f), 0);
}

/* A file that is not a database, a database of something else, and a
 * newer trace log: refused with a message, and left as they were. */
static void t_not_a_database(void **state)
{
        poe__tracelog *t = NULL;
        char err[512], path[160];
        struct stat before, after;
        sqlite3 *db;
        int rc;

        (void)state;
        write_file(tf.path, "this is a text file, not a database\n", 100);
        TL_EQ(stat(tf.path, &before), 0);
        rc = poe__tracelog_open(tf.path, 64, tl.k, &t, err, sizeof(err));
        print_message("  (message: %s)\n", err);
        TL_EQ(rc, -EINVAL);
        assert_null(t);
        assert_non_null(strstr(err, tf.path));
        assert_non_null(strstr(err, "not a SQLite database"));
        TL_EQ(stat(tf.path, &after), 0);
        TL_EQ(after.st_size, before.st_size);

        /* Someone else's database. */
        snprintf(path, sizeof(path), "%s/other.db", tf.dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "CREATE TABLE customers(id, name);"
                                      "INSERT INTO customers VALUES(1, 'ann');",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
        print_message("  (message: %s)\n", err);
        TL_EQ(rc, -EINVAL);
        assert_null(t);
        assert_non_null(strstr(err, "not a libpoe trace log"));
        db = tf_db_open_ro(path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table'", 0), 1);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM customers", 0), 1);
        sqlite3_close(db);

        /* Someone else's database with no tables yet, only its
         * application_id: its schema version is 0, as a new file's, but
         * it is refused before anything is written, its journal mode
         * included. */
        snprintf(path, sizeof(path), "%s/other-empty.db", tf.dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 1234", NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
        TL_EQ(rc, -EINVAL);
        assert_null(t);
        assert_non_null(strstr(err, "not a libpoe trace log"));
        db = tf_db_open_ro(path);
        TL_EQ(tf_sql_int(db, "PRAGMA application_id", 0), 1234);
        sqlite3_close(db);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        tf_sql_text_is(db, "PRAGMA journal_mode", "delete");
        sqlite3_close(db);

        /* A trace log from a newer libpoe. */
        snprintf(path, sizeof(path), "%s/newer.db", tf.dir);
        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        assert_int_equal(sqlite3_exec(db,
                                      "PRAGMA application_id = 1347372372;"
                                      "PRAGMA user_version = 99;"
                                      "CREATE TABLE runs(id INTEGER PRIMARY KEY);",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(db);
        rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
        assert_true(rc < 0);
        assert_null(t);
        assert_non_null(strstr(err, "newer"));

        /* An empty file is a new, empty database: it becomes a log. */
        snprintf(path, sizeof(path), "%s/empty.db", tf.dir);
        write_file(path, "", 0);
        TL_EQ(poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err)), 0);
        poe__tracelog_close(t);
}

static bool s_has_error(json_t *s, const void *arg)
{
        (void)arg;
        return json_is_string(json_object_get(s, "error"));
}

static bool s_dropped(json_t *s, const void *arg)
{
        (void)arg;
        return tf_st_int(s, "dropped_total") > 0;
}

/* Stops the forever workload and lets the kernel run out. */

/* Another connection holds the write lock: the status says so, the
 * kernel goes on, records are dropped and counted; when the lock goes,
 * the log resumes. */
static void t_locked_database(void **state)
{
        int64_t written_before, written_locked, ticks_before, run;
        const char *e;
        json_t *s;
        sqlite3 *db;

        (void)state;
        attach(256);
        run = tf_status_int("run_id");
        copies.keep = false;
        workload(0, true);
        run_slices(50);
        wait_settled();
        written_before = tf_status_int("records_written");
        assert_true(written_before > 0);

        assert_int_equal(sqlite3_open(tf.path, &fx.locker), SQLITE_OK);
        assert_int_equal(sqlite3_exec(fx.locker, "BEGIN EXCLUSIVE", NULL, NULL, NULL), SQLITE_OK);
        ticks_before = wl.ticks;
        tf_run_until(s_has_error, NULL, "the status to show the lock");
        tf_run_until(s_dropped, NULL, "drops while locked");
        s = tf_status();
        e = jget_s(s, "error");
        print_message("  (status error: %s)\n", e);
        assert_non_null(strstr(e, "locked"));
        written_locked = tf_st_int(s, "records_written");
        json_decref(s);
        /* The kernel did not notice. */
        assert_true(wl.ticks > ticks_before + 20);
        /* Queries still read (WAL: readers do not wait for writers). */
        {
                poe__params p = PARAMS({ "limit", "1" });

                TL_EQ(query_total(&p), written_locked);
        }

        assert_int_equal(sqlite3_exec(fx.locker, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(fx.locker);
        fx.locker = NULL;
        tf_run_until(tf_s_healthy_past, &written_locked, "the log to resume");

        workload_finish();
        tf_detach();
        wait_settled();
        s = tf_status();
        assert_true(json_is_null(json_object_get(s, "error")));
        assert_true(tf_st_int(s, "dropped_total") > 0);
        TL_EQ((uint64_t)(tf_st_int(s, "records_written") + tf_st_int(s, "dropped_total")),
              copies.produced);
        written_locked = tf_st_int(s, "records_written");
        json_decref(s);
        tf_log_close();

        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), written_locked);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run) +
                      written_locked,
              copies.produced);
        sqlite3_close(db);
}

/* Reads have a deadline inside SQLite, and a log whose owner stops ends
 * them: a query past its deadline and an export after the cancel fail
 * with a message that says so, and nothing else is disturbed. */
static void t_read_deadlines(void **state)
{
        poe__params p = PARAMS({ "kind", "return" }, { "limit", "1" });
        poe__trace_query q;
        char err[256], *body = NULL;
        const char *type;
        size_t len = 0;
        int fd = -1;

        (void)state;
        copies.keep = false;
        attach(4096);
        workload(300, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        assert_true(tf_status_int("records_written") > 1000);
        TL_EQ(poe__trace_query_parse(&p, &q, err, sizeof(err)), 0);

        /* A query whose deadline has passed (a count over every record). */
        poe__tracelog_set_query_deadline(tf.t, -1);
        assert_null(poe__tracelog_query(tf.t, &q, err, sizeof(err)));
        print_message("  (%s)\n", err);
        assert_non_null(strstr(err, "deadline"));
        poe__tracelog_set_query_deadline(tf.t, 0);
        json_decref(query(&p));

        /* Cancelled: queries and exports end at once. */
        poe__tracelog_cancel_readers(tf.t);
        assert_null(poe__tracelog_query(tf.t, &q, err, sizeof(err)));
        assert_non_null(strstr(err, "closing"));
        assert_true(poe__tracelog_export(tf.t, "jsonl", &q, &body, &fd, &len, &type, err,
                                         sizeof(err)) < 0);
        assert_null(body);
        assert_non_null(strstr(err, "closing"));
        /* The status is no read: it still answers. */
        TL_EQ(tf_status_int("dropped_total"), 0);
}

/* A predicate for tf_run_until: the writer has started a new file
 * (*(int64_t *)arg times in all) and written to it. */
static bool s_new_file(json_t *s, const void *arg)
{
        return tf_st_int(s, "files_started") == *(const int64_t *)arg &&
               json_is_null(json_object_get(s, "error"));
}

static void remove_db_files(const char *path)
{
        char side[200];

        TL_EQ(unlink(path), 0);
        snprintf(side, sizeof(side), "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        unlink(side);
}

/* The database deleted, then replaced, under the writer: each noticed
 * within a batch, said in the status, and a new file started with a new
 * run, which gets the records from then on; the accounting still adds
 * up across the files. */
static void t_file_deleted(void **state)
{
        int64_t run0, run1, run2, written0, want;
        char other[200];
        json_t *s;
        sqlite3 *db;

        (void)state;
        copies.keep = false;
        attach(256);
        run0 = tf_status_int("run_id");
        TL_EQ(tf_status_int("files_started"), 0);
        workload(0, true);
        run_slices(50);
        wait_settled();
        written0 = tf_status_int("records_written");
        assert_true(written0 > 0);

        remove_db_files(tf.path);
        want = 1;
        tf_run_until(s_new_file, &want, "a new file after the old one was deleted");
        tf_run_until(tf_s_healthy_past, &written0, "records written to the new file");
        s = tf_status();
        print_message("  (file note: %s)\n", jget_s(s, "file_note"));
        assert_non_null(strstr(jget_s(s, "file_note"), "was deleted"));
        assert_non_null(strstr(jget_s(s, "file_note"), "started a new file"));
        run1 = tf_st_int(s, "run_id");
        json_decref(s);
        /* A fresh database, so its first run is 1 again; the old run's id
         * was another file's. */
        (void)run0;
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM runs", 0), 1);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run1) > 0);
        sqlite3_close(db);

        /* Another file renamed over it: replaced, not deleted. */
        snprintf(other, sizeof(other), "%s.other", tf.path);
        write_file(other, "", 1);
        TL_EQ(rename(other, tf.path), 0);
        written0 = tf_status_int("records_written");
        want = 2;
        tf_run_until(s_new_file, &want, "a new file after the old one was replaced");
        tf_run_until(tf_s_healthy_past, &written0, "records written to the newest file");
        s = tf_status();
        assert_non_null(strstr(jget_s(s, "file_note"), "was replaced"));
        run2 = tf_st_int(s, "run_id");
        json_decref(s);

        workload_finish();
        tf_detach();
        wait_settled();
        s = tf_status();
        TL_EQ((uint64_t)(tf_st_int(s, "records_written") + tf_st_int(s, "dropped_total")),
              copies.produced);
        TL_EQ(tf_st_int(s, "files_started"), 2);
        json_decref(s);
        tf_log_close();
        db = tf_db_open_ro(tf.path);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run2) > 0);
        sqlite3_close(db);
}

static void export_sqlite_to(const char *path);

/* Fills the file system the log is on. */
static void fill_disk(void)
{
        static char block[4096];
        int fd;
        ssize_t n;

        snprintf(fx.filler, sizeof(fx.filler), "%s/filler", tf.dir);
        fd = open(fx.filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(fd >= 0);
        do
                n = write(fd, block, sizeof(block));
        while (n > 0);
        do
                n = write(fd, block, 1);
        while (n > 0);
        TL_EQ(errno, ENOSPC);
        close(fd);
}

/* The disk fills up under the log (a 512 KiB tmpfs): SQLITE_FULL in the
 * status, drops counted, the kernel unaffected.  Space freed, the log
 * finds out by itself (it retries with the drop counts) and writes
 * again. */
static void t_disk_full(void **state)
{
        int64_t written_full, ticks_before, run;
        const char *e;
        json_t *s;
        sqlite3 *db;

        (void)state;
        if (mount("tmpfs", tf.dir, "tmpfs", 0, "size=512k") != 0) {
                print_message("  (skipped: cannot mount a tmpfs on %s: %s)\n", tf.dir,
                              strerror(errno));
                skip();
        }
        fx.mounted = true;
        attach(1024);
        run = tf_status_int("run_id");
        copies.keep = false;
        workload(0, true);
        run_slices(50);
        wait_settled();

        fill_disk();
        ticks_before = wl.ticks;
        tf_run_until(s_has_error, NULL, "the status to show the full disk");
        tf_run_until(s_dropped, NULL, "drops while full");
        s = tf_status();
        e = jget_s(s, "error");
        print_message("  (status error: %s)\n", e);
        assert_non_null(strstr(e, "full"));
        json_decref(s);
        assert_true(wl.ticks > ticks_before);
        /* The kernel finishes its work while the disk is full. */
        workload_finish();
        tf_detach();
        wait_settled();
        written_full = tf_status_int("records_written");

        /* The SQLite export, whose copy does not fit next to the log, is
         * made in TMPDIR instead. */
        {
                char copy[200];

                snprintf(copy, sizeof(copy), "%s/poe-full-export-%d.db",
                         getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
                         (int)getpid());
                export_sqlite_to(copy);
                db = tf_db_open_ro(copy);
                TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run),
                      written_full);
                sqlite3_close(db);
                TL_EQ(unlink(copy), 0);
        }

        /* Space again: the retry (the drop counts alone) succeeds. */
        TL_EQ(unlink(fx.filler), 0);
        {
                int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;

                for (;;) {
                        s = tf_status();
                        if (json_is_null(json_object_get(s, "error")))
                                break;
                        json_decref(s);
                        if (tf_now_ms() > deadline)
                                fail_msg("the log did not recover from the full disk");
                        tf_poll_pause();
                }
                json_decref(s);
        }
        /* And new records are written. */
        tf_sinks_add(copy_sink);
        workload(5, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        s = tf_status();
        assert_true(json_is_null(json_object_get(s, "error")));
        assert_true(tf_st_int(s, "records_written") > written_full);
        assert_true(tf_st_int(s, "dropped_total") > 0);
        TL_EQ((uint64_t)(tf_st_int(s, "records_written") + tf_st_int(s, "dropped_total")),
              copies.produced);
        written_full = tf_st_int(s, "records_written");
        json_decref(s);
        tf_log_close();

        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), written_full);
        TL_EQ(tf_sql_int(db, "SELECT coalesce(sum(count), 0) FROM drops WHERE run_id = ?", run) +
                      written_full,
              copies.produced);
        sqlite3_close(db);
}

/* Counts the records of RFC 4180 CSV (quoted fields may hold commas,
 * quotes and line breaks); *fields_ok says whether each had want_fields. */
static size_t csv_records(const char *s, size_t len, size_t *fields_ok, size_t want_fields)
{
        size_t i, records = 0, fields = 1;
        bool quoted = false;

        *fields_ok = 1;
        for (i = 0; i < len; i++) {
                char ch = s[i];

                if (quoted) {
                        if (ch == '"' && i + 1 < len && s[i + 1] == '"')
                                i++;
                        else if (ch == '"')
                                quoted = false;
                        continue;
                }
                if (ch == '"')
                        quoted = true;
                else if (ch == ',')
                        fields++;
                else if (ch == '\r' && i + 1 < len && s[i + 1] == '\n') {
                        if (fields != want_fields)
                                *fields_ok = 0;
                        records++;
                        fields = 1;
                        i++;
                }
        }
        return records;
}

/* An export of what p selects, as a body in memory. */
static void do_export_p(const char *format, const poe__params *p, char **body, size_t *len,
                        const char **type)
{
        poe__trace_query q;
        char err[256];
        int rc, fd = 7;

        TL_EQ(poe__trace_query_parse(p, &q, err, sizeof(err)), 0);
        rc = poe__tracelog_export(tf.t, format, &q, body, &fd, len, type, err, sizeof(err));
        if (rc != 0)
                fail_msg("export %s: %d: %s", format, rc, err);
        assert_non_null(*body);
        assert_non_null(*type);
        TL_EQ(fd, -1);
}

static void do_export(const char *format, char **body, size_t *len, const char **type)
{
        poe__params p = params_of(NULL, 0);

        do_export_p(format, &p, body, len, type);
}

/*
 * The SQLite export: a descriptor of an unlinked file, at offset 0, as
 * long as it says, holding a database.  Its bytes are written to path
 * for SQLite to open; the descriptor is closed.
 */
static void export_sqlite_to(const char *path)
{
        poe__trace_query q;
        poe__params p = params_of(NULL, 0);
        char err[256], *body = (char *)"x", magic[16], buf[65536];
        const char *type;
        size_t len = 0, total = 0;
        struct stat sb;
        ssize_t n;
        FILE *f;
        int fd = -1;

        TL_EQ(poe__trace_query_parse(&p, &q, err, sizeof(err)), 0);
        if (poe__tracelog_export(tf.t, "sqlite", &q, &body, &fd, &len, &type, err, sizeof(err)) !=
            0)
                fail_msg("export sqlite: %s", err);
        assert_null(body);
        assert_true(fd >= 0);
        assert_string_equal(type, "application/vnd.sqlite3");
        TL_EQ(fstat(fd, &sb), 0);
        assert_true(S_ISREG(sb.st_mode));
        TL_EQ(sb.st_nlink, 0); /* unlinked: it goes when the descriptor does */
        TL_EQ(sb.st_size, len);
        assert_true(len > 100);
        TL_EQ(lseek(fd, 0, SEEK_CUR), 0);
        TL_EQ(read(fd, magic, sizeof(magic)), sizeof(magic));
        assert_true(memcmp(magic, "SQLite format 3", 16) == 0);
        /* Its format bytes say "rollback journal", not WAL: one file. */
        TL_EQ(pread(fd, magic, 2, 18), 2);
        TL_EQ(magic[0], 1);
        TL_EQ(magic[1], 1);
        TL_EQ(lseek(fd, 0, SEEK_SET), 0);
        f = fopen(path, "wb");
        assert_non_null(f);
        while ((n = read(fd, buf, sizeof(buf))) > 0) {
                TL_EQ(fwrite(buf, 1, (size_t)n, f), n);
                total += (size_t)n;
        }
        TL_EQ(n, 0);
        TL_EQ(total, len);
        TL_EQ(fclose(f), 0);
        TL_EQ(close(fd), 0);
}

static void t_exports(void **state)
{
        char *body, *line, *next, tmp[160];
        const char *type;
        size_t len, n, i, ok, x = 0, m = 0, dispatches = 0;
        json_t *j, *evs, *first = NULL, *qr;
        json_error_t jerr;
        poe__params p;
        poe__trace_query q;
        char err[256];
        int64_t run;
        sqlite3 *db;
        int fd;

        (void)state;
        attach(0);
        run = tf_status_int("run_id");
        workload(10, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        for (i = 0; i < copies.n; i++)
                dispatches += strcmp(copies.r[i].kind, "dispatch") == 0;

        /* JSON Lines: one object per line, the same as a query. */
        do_export("jsonl", &body, &len, &type);
        assert_string_equal(type, "application/x-ndjson");
        TL_EQ(strlen(body), len);
        n = 0;
        for (line = body; *line; line = next) {
                next = strchr(line, '\n');
                assert_non_null(next);
                *next++ = '\0';
                j = json_loads(line, 0, &jerr);
                if (!j)
                        fail_msg("line %zu: %s", n + 1, jerr.text);
                assert_same(j, &copies.r[n], run);
                if (n == 0)
                        first = j;
                else
                        json_decref(j);
                n++;
        }
        TL_EQ(n, copies.n);
        p = PARAMS({ "limit", "1" });
        qr = query(&p);
        assert_true(json_equal(json_array_get(json_object_get(qr, "records"), 0), first));
        json_decref(qr);
        json_decref(first);
        free(body);

        /* CSV: a header and one row per record, RFC 4180. */
        do_export("csv", &body, &len, &type);
        assert_non_null(strstr(type, "text/csv"));
        assert_true(strncmp(body,
                            "id,run,mono_ns,wall,group,prefix,kind,session,event,sender,"
                            "refcount,queue,message,event_id\r\n",
                            strlen("id,run,mono_ns,wall,group,prefix,kind,session,event,"
                                   "sender,refcount,queue,message,event_id\r\n")) == 0);
        TL_EQ(csv_records(body, len, &ok, 14), copies.n + 1);
        TL_EQ(ok, 1);
        free(body);

        /* Chrome trace: parses; dispatches are complete events on their
         * session's track. */
        do_export("chrome", &body, &len, &type);
        assert_string_equal(type, "application/json");
        j = json_loadb(body, len, 0, &jerr);
        if (!j)
                fail_msg("chrome JSON: %s (line %d)", jerr.text, jerr.line);
        evs = json_object_get(j, "traceEvents");
        assert_true(json_is_array(evs));
        for (i = 0; i < json_array_size(evs); i++) {
                json_t *ev = json_array_get(evs, i);
                const char *ph = jget_s(ev, "ph");

                assert_non_null(ph);
                TL_EQ(jget_i(ev, "pid"), run);
                if (strcmp(ph, "X") == 0 && strcmp(jget_s(ev, "cat"), "post") == 0) {
                        /* A post's own slice, where no handler ran on its
                         * sender's track: 1 ns for its arrow to start in. */
                        assert_true(json_number_value(json_object_get(ev, "dur")) == 0.001);
                } else if (strcmp(ph, "X") == 0) {
                        x++;
                        assert_true(json_is_number(json_object_get(ev, "dur")));
                        assert_true(json_number_value(json_object_get(ev, "dur")) >= 0);
                        assert_true(json_is_number(json_object_get(ev, "ts")));
                        /* "returned" is only said when false. */
                        assert_null(json_object_get(json_object_get(ev, "args"), "returned"));
                } else if (strcmp(ph, "M") == 0 && strcmp(jget_s(ev, "name"), "thread_name") == 0) {
                        snprintf(tmp, sizeof(tmp), "session %lld", (long long)jget_i(ev, "tid"));
                        assert_true(strncmp(jget_s(json_object_get(ev, "args"), "name"), tmp,
                                            strlen(tmp)) == 0);
                        m++;
                } else if (strcmp(ph, "i") == 0) {
                        /* The thread's scope: the format's default. */
                        assert_null(json_object_get(ev, "s"));
                }
        }
        /* Every dispatch returned; every session has a named track. */
        TL_EQ(x, dispatches);
        TL_EQ(m, distinct_sessions());
        json_decref(j);
        free(body);

        /* SQLite: a database file with every record. */
        snprintf(tmp, sizeof(tmp), "%s/export.db", tf.dir);
        export_sqlite_to(tmp);
        db = tf_db_open_ro(tmp);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), copies.n);
        TL_EQ(tf_sql_int(db, "PRAGMA user_version", 0), 3);
        sqlite3_close(db);

        /* Filters apply to exports; paging does not. */
        p = PARAMS({ "kind", "dispatch" }, { "limit", "1" });
        TL_EQ(poe__trace_query_parse(&p, &q, err, sizeof(err)), 0);
        TL_EQ(poe__tracelog_export(tf.t, "jsonl", &q, &body, &fd, &len, &type, err, sizeof(err)),
              0);
        for (n = 0, i = 0; i < len; i++)
                n += body[i] == '\n';
        TL_EQ(n, dispatches);
        free(body);

        /* An unknown format. */
        TL_EQ(poe__tracelog_export(tf.t, "xml", &q, &body, &fd, &len, &type, err, sizeof(err)),
              -EINVAL);
        assert_null(body);
        TL_EQ(fd, -1);
        assert_true(strncmp(err, "format", 6) == 0);
        tf_log_close();
}

/* ---- event ids, flows and OTLP ---- */

/* The kernel dequeues its _garbage_collect events without dispatching
 * them: their enqueues pair with nothing. */
static bool is_gc(const rec *r)
{
        return r->event && strcmp(r->event, "_garbage_collect") == 0;
}

/* Each post's event id comes back on the dispatch of its queue item (the
 * same session and event, later in the log), in the log, in queries and
 * in CSV; records about no queue item have none. */
static void t_event_ids(void **state)
{
        size_t i, j, enqueues = 0, linked = 0, none = 0, signals = 0;
        char *body, *line, *next;
        const char *type;
        int64_t run;
        size_t len, ok;
        sqlite3 *db;
        sqlite3_stmt *st;
        bool uses_index = false;

        (void)state;
        attach(0);
        run = tf_status_int("run_id");
        workload(10, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();

        /* What the kernel produced: every enqueue has an id that its
         * dispatch carries. */
        for (i = 0; i < copies.n; i++) {
                const rec *e = &copies.r[i];

                if (e->group == POE_TRACE_SESSIONS)
                        none += e->event_id == 0;
                if (strcmp(e->kind, "enqueue") != 0 || is_gc(e))
                        continue;
                enqueues++;
                assert_true(e->event_id > 0);
                for (j = i + 1; j < copies.n; j++)
                        if (copies.r[j].event_id == e->event_id &&
                            strcmp(copies.r[j].kind, "dispatch") == 0)
                                break;
                assert_true(j < copies.n);
                /* A signal is one queue item, to the kernel, that its
                 * watchers' handlers (or the stops it causes) run for. */
                if (strcmp(e->event, "_signal") == 0) {
                        signals++;
                        continue;
                }
                TL_EQ(copies.r[j].session, e->session);
                assert_string_equal(copies.r[j].event, e->event);
                linked++;
        }
        assert_true(enqueues >= 20); /* ten ticks, ten notes */
        TL_EQ(linked + signals, enqueues);
        assert_true(none > 0);

        /* The log links them the same way (kinds and groups are codes,
         * event names are in their own table). */
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db,
                      "SELECT count(*) FROM records e JOIN names n ON n.run_id = e.run_id AND "
                      "n.id = e.event WHERE e.run_id = ?1 AND e.kind = 1 "
                      "AND n.text NOT IN ('_garbage_collect', '_signal') AND EXISTS (SELECT 1 "
                      "FROM records d WHERE d.run_id = e.run_id AND "
                      "d.event_id = e.event_id AND d.kind = 2 AND d.id > e.id AND "
                      "d.session = e.session AND d.event = e.event)",
                      run),
              linked);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ? AND event_id = 0", run),
              0);
        TL_EQ(tf_sql_int(db,
                      "SELECT count(*) FROM records WHERE run_id = ? AND grp = 16 "
                      "AND event_id IS NOT NULL",
                      run),
              0);
        /* A run's records are found by its index, in id order. */
        assert_int_equal(sqlite3_prepare_v2(db,
                                            "EXPLAIN QUERY PLAN SELECT id FROM records WHERE "
                                            "run_id = 1 ORDER BY id",
                                            -1, &st, NULL),
                         SQLITE_OK);
        while (sqlite3_step(st) == SQLITE_ROW) {
                const char *detail = (const char *)sqlite3_column_text(st, 3);

                uses_index |= strstr(detail, "trace_run") != NULL;
                assert_null(strstr(detail, "TEMP B-TREE"));
        }
        sqlite3_finalize(st);
        assert_true(uses_index);
        sqlite3_close(db);

        /* CSV: the last field, empty for none. */
        do_export("csv", &body, &len, &type);
        TL_EQ(csv_records(body, len, &ok, 14), copies.n + 1);
        TL_EQ(ok, 1);
        line = strstr(body, "\r\n") + 2;
        for (i = 0; i < copies.n; i++, line = next + 2) {
                char *comma;

                next = strstr(line, "\r\n");
                assert_non_null(next);
                *next = '\0';
                comma = strrchr(line, ',');
                assert_non_null(comma);
                /* The event id has no comma: the last one separates it. */
                if (copies.r[i].event_id)
                        TL_EQ(strtoll(comma + 1, NULL, 10), copies.r[i].event_id);
                else
                        assert_string_equal(comma + 1, "");
        }
        free(body);
        tf_log_close();
}

/* The v1 schema, as libpoe wrote it before event ids. */
static const char v1_schema[] =
        "CREATE TABLE runs(id INTEGER PRIMARY KEY, pid INTEGER, kernel_id TEXT, started REAL, "
        "hostname TEXT, poe_version TEXT);"
        "CREATE TABLE sessions(run_id INTEGER NOT NULL, session_id INTEGER NOT NULL, "
        "first_seen REAL, last_seen REAL, PRIMARY KEY(run_id, session_id));"
        "CREATE TABLE records(id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, mono_ns INTEGER, "
        "wall REAL, grp TEXT, prefix TEXT, kind TEXT, session INTEGER, event TEXT, sender "
        "INTEGER, refcount INTEGER, queue INTEGER, message TEXT);"
        "CREATE INDEX records_run_wall ON records(run_id, wall);"
        "CREATE INDEX records_run_session ON records(run_id, session);"
        "CREATE INDEX records_run_grp ON records(run_id, grp);"
        "CREATE INDEX records_run_event ON records(run_id, event);"
        "CREATE TABLE drops(run_id INTEGER NOT NULL, grp TEXT NOT NULL, count INTEGER NOT NULL, "
        "PRIMARY KEY(run_id, grp));"
        "INSERT INTO runs VALUES(1, 4242, 'old-kernel', 1600000000.0, 'oldhost', '0.0.1');"
        "INSERT INTO records VALUES(1, 1, 5, 1600000000.5, 'TRACE_EVENTS', '<ev>', 'enqueue', "
        "2, 'old', 1, 3, 0, 'enqueued event 9 ``old''''');"
        "PRAGMA application_id = 1347372372;"
        "PRAGMA user_version = 1;";

static void make_v1(const char *path, const char *extra)
{
        sqlite3 *db;

        assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
        if (sqlite3_exec(db, v1_schema, NULL, NULL, NULL) != SQLITE_OK ||
            (extra && sqlite3_exec(db, extra, NULL, NULL, NULL) != SQLITE_OK))
                fail_msg("making a v1 log: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
}

static int64_t columns_named(sqlite3 *db, const char *table, const char *column)
{
        sqlite3_stmt *st;
        int64_t n = 0;

        assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM pragma_table_info(?) "
                                                "WHERE name = ?",
                                            -1, &st, NULL),
                         SQLITE_OK);
        sqlite3_bind_text(st, 1, table, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, column, -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_ROW);
        n = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

/* A version-1 log is migrated in place: its records keep their rows
 * (with no event id) and new ones get theirs.  A migration that fails
 * halfway leaves the log as it was. */
static void t_migrate_v1(void **state)
{
        poe__tracelog *t = NULL;
        poe__params p;
        char path[160], err[512];
        json_t *r, *o, *runs;
        sqlite3 *db;
        int rc;

        (void)state;
        make_v1(tf.path, NULL);
        attach(0);
        TL_EQ(tf_status_int("run_id"), 2);
        workload(3, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();

        /* The old run's record, through a query: event_id null. */
        p = PARAMS({ "run", "1" });
        r = query(&p);
        TL_EQ(jget_i(r, "total"), 1);
        o = json_array_get(json_object_get(r, "records"), 0);
        assert_string_equal(jget_s(o, "event"), "old");
        assert_true(json_is_null(json_object_get(o, "event_id")));
        json_decref(r);
        /* The new run's, with theirs. */
        p = PARAMS({ "kind", "enqueue" }, { "limit", "1" });
        r = query(&p);
        assert_true(jget_i(r, "total") > 0);
        assert_true(jget_i(json_array_get(json_object_get(r, "records"), 0), "event_id") > 0);
        json_decref(r);
        runs = poe__tracelog_runs(tf.t, err, sizeof(err));
        assert_non_null(runs);
        TL_EQ(json_array_size(runs), 2);
        assert_string_equal(jget_s(json_array_get(runs, 0), "poe_version"), "0.0.1");
        assert_version(jget_s(json_array_get(runs, 1), "poe_version"));
        json_decref(runs);
        tf_log_close();

        /* Migrated to version 2 (event_id), then 3: the old records
         * moved aside with their text columns, the new run's in the new
         * table. */
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "PRAGMA user_version", 0), 3);
        TL_EQ(columns_named(db, "records_v2", "event_id"), 1);
        TL_EQ(columns_named(db, "records", "message"), 0);
        TL_EQ(tf_sql_int(db,
                      "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = "
                      "'records_run_event_id'",
                      0),
              1);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records_v2 WHERE run_id = 1", 0), 1);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = 1", 0), 0);
        assert_true(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = 2", 0) > 0);
        sqlite3_close(db);

        /* Half a migration: the column can be added but the index cannot
         * (its name is taken).  Refused, and rolled back whole. */
        snprintf(path, sizeof(path), "%s/v1-broken.db", tf.dir);
        make_v1(path, "CREATE TABLE records_run_event_id(x);");
        rc = poe__tracelog_open(path, 64, tl.k, &t, err, sizeof(err));
        print_message("  (message: %s)\n", err);
        assert_true(rc < 0);
        assert_null(t);
        assert_non_null(strstr(err, "migrate"));
        db = tf_db_open_ro(path);
        TL_EQ(tf_sql_int(db, "PRAGMA user_version", 0), 1);
        TL_EQ(columns_named(db, "records", "event_id"), 0);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM runs", 0), 1);
        sqlite3_close(db);
}

/* ---- synthetic records, for exact expectations ---- */

/* The event names put() has defined to the log, by id. */
static const char *put_names[16];

/* The id of an event name, defined to the sink (as the kernel does)
 * before its first use. */
static uint32_t put_name(const char *name)
{
        poe_trace_record d;
        uint32_t i;

        for (i = 0; i < 16 && put_names[i]; i++)
                if (strcmp(put_names[i], name) == 0)
                        return i;
        assert_true(i < 16);
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

/* Writes one record straight into the sink (the log is detached from
 * the kernel).  ns is its mono_ns; its wall time follows; arg0 its first
 * number, text (text_len bytes) its text. */
static void put_x(const char *group, const char *kind, poe_sid session, const char *event,
                  poe_sid sender, uint64_t event_id, int64_t ns, int64_t arg0, const char *text,
                  size_t text_len)
{
        poe_trace_record r;

        memset(&r, 0, sizeof(r));
        r.mono_ns = ns;
        r.wall = 1700000000.0 + (double)ns / 1e9;
        r.group = poe_debug_group_parse(group);
        r.kind = (uint16_t)poe_trace_kind_parse(kind);
        assert_true(r.kind != POE_TK_NONE);
        r.session = session;
        r.event = event ? put_name(event) : POE_TRACE_NO_NAME;
        r.sender = sender;
        r.refcount = 1;
        r.epoch = 1;
        r.event_id = event_id;
        r.arg.i[0] = arg0;
        r.text = text;
        r.text_len = (uint16_t)text_len;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
}

static void put(const char *group, const char *kind, poe_sid session, const char *event,
                poe_sid sender, uint64_t event_id, int64_t ns)
{
        poe_trace_record r;

        memset(&r, 0, sizeof(r));
        r.mono_ns = ns;
        r.wall = 1700000000.0 + (double)ns / 1e9;
        r.group = poe_debug_group_parse(group);
        r.kind = (uint16_t)poe_trace_kind_parse(kind);
        assert_true(r.kind != POE_TK_NONE);
        r.session = session;
        r.event = event ? put_name(event) : POE_TRACE_NO_NAME;
        r.sender = sender;
        r.refcount = 1;
        r.queue_length = 0;
        r.epoch = 1;
        r.event_id = event_id;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
}

#define EV "TRACE_EVENTS"
#define SS "TRACE_SESSIONS"

/*
 * A handler "a" (1) posts "b" to 2, calls "c" on 3, posts "d" (later
 * discarded); "b" runs and calls "e" on 4, which never returns (unwound);
 * "f" is posted from outside any handler and never dispatched; a signal
 * (one queue item) is dispatched to 6 and then 7; one record falls
 * outside any dispatch.  18 records.
 */
static void put_story(void)
{
        int64_t deadline = tf_now_ms() + TF_DEADLINE_MS;

        attach(64);
        tf_detach();
        memset(put_names, 0, sizeof(put_names));
        put(EV, "dispatch", 1, "a", 0, 1, 1000);
        put(EV, "enqueue", 2, "b", 1, 2, 1100);
        put(SS, "create", 1, NULL, 1, 0, 1150);
        put(EV, "dispatch", 3, "c", 1, 1, 1200);
        put(EV, "return", 3, "c", 1, 1, 1300);
        put(EV, "enqueue", 2, "d", 1, 3, 1350);
        put(EV, "return", 1, "a", 0, 1, 1400);
        put(EV, "discard", 2, "d", 1, 3, 1450);
        put(EV, "dispatch", 2, "b", 1, 2, 1500);
        put(EV, "dispatch", 4, "e", 2, 2, 1600);
        put(EV, "return", 2, "b", 1, 2, 1700);
        put(EV, "enqueue", 5, "f", 0, 5, 1750);
        put(EV, "enqueue", 0, "SIG", 0, 4, 1800);
        put(EV, "dispatch", 6, "SIG", 0, 4, 1900);
        put(EV, "return", 6, "SIG", 0, 4, 1950);
        put(EV, "dispatch", 7, "SIG", 0, 4, 2000);
        put(EV, "return", 7, "SIG", 0, 4, 2100);
        put(SS, "stop", 7, NULL, 0, 0, 2200);
        while (tf_status_int("records_written") < 18) {
                if (tf_now_ms() > deadline)
                        fail_msg("the records were not written");
                tf_poll_pause();
        }
}

static json_t *find_ph(json_t *evs, const char *ph, int64_t id, int nth)
{
        size_t i;

        for (i = 0; i < json_array_size(evs); i++) {
                json_t *ev = json_array_get(evs, i);

                if (strcmp(jget_s(ev, "ph"), ph) == 0 &&
                    json_integer_value(json_object_get(ev, "id")) == id && nth-- == 0)
                        return ev;
        }
        return NULL;
}

static size_t index_of(json_t *evs, json_t *ev)
{
        size_t i;

        for (i = 0; i < json_array_size(evs); i++)
                if (json_array_get(evs, i) == ev)
                        return i;
        fail_msg("event not found");
        return 0;
}

/* The X event of the dispatch at ts on tid. */
static json_t *find_x(json_t *evs, int64_t tid, double ts)
{
        size_t i;

        for (i = 0; i < json_array_size(evs); i++) {
                json_t *ev = json_array_get(evs, i);

                if (strcmp(jget_s(ev, "ph"), "X") == 0 && jget_i(ev, "tid") == tid &&
                    json_number_value(json_object_get(ev, "ts")) == ts)
                        return ev;
        }
        return NULL;
}

static double jnum(json_t *o, const char *key)
{
        json_t *v = json_object_get(o, key);

        if (!json_is_number(v))
                fail_msg("no number `%s'", key);
        return json_number_value(v);
}

/* A flow from a post to its dispatch: "s" on the sender's track at the
 * enqueue, "f" binding the dispatch's slice, after it in the file. */
static void assert_flow(json_t *evs, int64_t id, int64_t sender, double post_ts, int64_t to,
                        double dispatch_ts)
{
        json_t *s = find_ph(evs, "s", id, 0), *f = find_ph(evs, "f", id, 0), *x;

        if (!s || !f)
                fail_msg("no flow %lld", (long long)id);
        assert_null(find_ph(evs, "s", id, 1));
        assert_null(find_ph(evs, "f", id, 1));
        assert_string_equal(jget_s(s, "cat"), "post");
        assert_string_equal(jget_s(s, "name"), "post");
        assert_string_equal(jget_s(f, "cat"), "post");
        assert_string_equal(jget_s(f, "name"), "post");
        assert_string_equal(jget_s(f, "bp"), "e");
        TL_EQ(jget_i(s, "tid"), sender);
        TL_EQ(jget_i(f, "tid"), to);
        assert_true(jnum(s, "ts") == post_ts);
        assert_true(jnum(f, "ts") == dispatch_ts);
        x = find_x(evs, to, dispatch_ts);
        assert_non_null(x);
        TL_EQ(jget_i(json_object_get(x, "args"), "event_id"), id);
        assert_true(index_of(evs, f) > index_of(evs, x));
}

static size_t count_ph(json_t *evs, const char *ph)
{
        size_t i, n = 0;

        for (i = 0; i < json_array_size(evs); i++)
                n += strcmp(jget_s(json_array_get(evs, i), "ph"), ph) == 0;
        return n;
}

static json_t *chrome_events(const poe__params *p, json_t **doc)
{
        json_error_t jerr;
        const char *type;
        char *body;
        size_t len;

        do_export_p("chrome", p, &body, &len, &type);
        *doc = json_loadb(body, len, 0, &jerr);
        free(body);
        if (!*doc)
                fail_msg("chrome JSON: %s (line %d)", jerr.text, jerr.line);
        return json_object_get(*doc, "traceEvents");
}

/* Flows in the Chrome trace, exactly: a post dispatched gets one; a post
 * discarded or never dispatched, or whose enqueue is not selected, none;
 * a signal's one queue item flows to its first dispatch. */
static void t_chrome_flows_story(void **state)
{
        poe__params p = params_of(NULL, 0);
        json_t *doc, *evs, *x;

        (void)state;
        put_story();
        evs = chrome_events(&p, &doc);
        TL_EQ(count_ph(evs, "s"), 2);
        TL_EQ(count_ph(evs, "f"), 2);
        assert_flow(evs, 2, 1, 1.1, 2, 1.5);
        assert_flow(evs, 4, 0, 1.8, 6, 1.9);
        /* The unwound dispatch is still a complete event. */
        x = find_x(evs, 4, 1.6);
        assert_non_null(x);
        assert_true(json_is_false(json_object_get(json_object_get(x, "args"), "returned")));
        assert_true(jnum(x, "dur") == 0.1);
        json_decref(doc);

        /* Without the enqueues: no arrows. */
        p = PARAMS({ "kind", "dispatch" });
        evs = chrome_events(&p, &doc);
        TL_EQ(count_ph(evs, "s") + count_ph(evs, "f"), 0);
        TL_EQ(count_ph(evs, "X"), 6);
        json_decref(doc);
        tf_log_close();
}

/* Flows from a real kernel: every post to its dispatch. */
static void t_chrome_flows(void **state)
{
        poe__params p = params_of(NULL, 0);
        json_t *doc, *evs;
        size_t i, j, posts = 0;

        (void)state;
        attach(0);
        workload(10, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        evs = chrome_events(&p, &doc);
        for (i = 0; i < copies.n; i++) {
                const rec *e = &copies.r[i];

                if (strcmp(e->kind, "enqueue") != 0 || is_gc(e))
                        continue;
                for (j = i + 1; j < copies.n; j++)
                        if (copies.r[j].event_id == e->event_id &&
                            strcmp(copies.r[j].kind, "dispatch") == 0)
                                break;
                assert_true(j < copies.n);
                assert_flow(evs, (int64_t)e->event_id, (int64_t)e->sender,
                            (double)e->mono_ns / 1000.0, (int64_t)copies.r[j].session,
                            (double)copies.r[j].mono_ns / 1000.0);
                posts++;
        }
        TL_EQ(count_ph(evs, "s"), posts);
        assert_true(posts >= 20);
        json_decref(doc);

        /* Only "note": its posts and its dispatches, so its arrows. */
        p = PARAMS({ "event", "note" });
        evs = chrome_events(&p, &doc);
        TL_EQ(count_ph(evs, "s"), 10);
        TL_EQ(count_ph(evs, "f"), 10);
        json_decref(doc);
        tf_log_close();
}

/* ---- OTLP ---- */

static bool is_hex(const char *s, size_t len)
{
        size_t i;
        bool nonzero = false;

        if (!s || strlen(s) != len)
                return false;
        for (i = 0; i < len; i++) {
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
                nonzero |= s[i] != '0';
        }
        return nonzero;
}

/* A decimal string (OTLP/JSON's 64-bit integers) as a number. */
static uint64_t dec(json_t *v)
{
        const char *s = json_string_value(v);

        if (!s || !*s || strspn(s, "0123456789") != strlen(s))
                fail_msg("not a decimal string: %s", s ? s : "(not a string)");
        return strtoull(s, NULL, 10);
}

/* The value object of attribute key in an attribute list, or NULL. */
static json_t *attr(json_t *attrs, const char *key)
{
        size_t i;

        for (i = 0; i < json_array_size(attrs); i++)
                if (strcmp(jget_s(json_array_get(attrs, i), "key"), key) == 0)
                        return json_object_get(json_array_get(attrs, i), "value");
        return NULL;
}

static int64_t attr_i(json_t *o, const char *key)
{
        json_t *v = attr(json_object_get(o, "attributes"), key);

        if (!v)
                return -1;
        return (int64_t)dec(json_object_get(v, "intValue"));
}

static const char *attr_s(json_t *o, const char *key)
{
        return json_string_value(
                json_object_get(attr(json_object_get(o, "attributes"), key), "stringValue"));
}

static json_t *attr_b(json_t *o, const char *key)
{
        return json_object_get(attr(json_object_get(o, "attributes"), key), "boolValue");
}

/*
 * What holds across an export's spans: a parent, when the selection has
 * it, is in its child's trace; a link names a trace and a span by hex
 * ids, and the span, when the selection has it, is in that trace; no
 * chain of parents is deeper than the export's CHAIN_MAX (64).  Returns
 * the number of traces.
 */
static size_t check_traces(json_t *spans)
{
        json_t *by_id = json_object(), *traces = json_object(), *s, *p, *links, *l;
        size_t i, j, n, depth;

        for (i = 0; i < json_array_size(spans); i++) {
                s = json_array_get(spans, i);
                json_object_set(by_id, jget_s(s, "spanId"), s);
                json_object_set_new(traces, jget_s(s, "traceId"), json_true());
        }
        for (i = 0; i < json_array_size(spans); i++) {
                s = json_array_get(spans, i);
                depth = 1;
                for (p = s; json_object_get(p, "parentSpanId"); depth++) {
                        json_t *up = json_object_get(by_id, jget_s(p, "parentSpanId"));

                        if (!up)
                                break;
                        assert_string_equal(jget_s(up, "traceId"), jget_s(p, "traceId"));
                        p = up;
                }
                assert_true(depth <= 64);
                links = json_object_get(s, "links");
                for (j = 0; j < json_array_size(links); j++) {
                        l = json_array_get(links, j);
                        assert_true(is_hex(jget_s(l, "traceId"), 32));
                        assert_true(is_hex(jget_s(l, "spanId"), 16));
                        p = json_object_get(by_id, jget_s(l, "spanId"));
                        if (p)
                                assert_string_equal(jget_s(p, "traceId"), jget_s(l, "traceId"));
                        /* A link starts a trace: its span has no parent. */
                        assert_null(json_object_get(s, "parentSpanId"));
                }
        }
        n = json_object_size(traces);
        json_decref(by_id);
        json_decref(traces);
        return n;
}

/*
 * Parses an OTLP export line by line and checks what every line must
 * have: one resource (of this run) with one scope ("libpoe") and spans
 * with the required fields, hex ids of the right length, end >= start,
 * parents in their children's traces (check_traces).  Returns every span
 * (and the number of lines in *lines).
 */
static json_t *otlp_spans(const poe__params *p, size_t *lines, char **raw)
{
        json_t *all = json_array(), *doc, *rs, *ss, *spans, *res;
        char *body, *line, *next;
        json_error_t jerr;
        const char *type;
        size_t len, i;

        do_export_p("otlp", p, &body, &len, &type);
        assert_string_equal(type, "application/x-ndjson");
        TL_EQ(strlen(body), len);
        *lines = 0;
        for (line = body; *line; line = next + 1) {
                next = strchr(line, '\n');
                assert_non_null(next);
                doc = json_loadb(line, (size_t)(next - line), 0, &jerr);
                if (!doc)
                        fail_msg("line %zu: %s", *lines + 1, jerr.text);
                (*lines)++;
                rs = json_object_get(doc, "resourceSpans");
                TL_EQ(json_array_size(rs), 1);
                res = json_object_get(json_array_get(rs, 0), "resource");
                assert_string_equal(attr_s(res, "service.name"), "poe");
                TL_EQ(attr_i(res, "process.pid"), getpid());
                assert_string_equal(attr_s(res, "poe.kernel_id"), poe_kernel_id(tl.k));
                assert_non_null(attr_s(res, "host.name"));
                ss = json_object_get(json_array_get(rs, 0), "scopeSpans");
                TL_EQ(json_array_size(ss), 1);
                assert_string_equal(jget_s(json_object_get(json_array_get(ss, 0), "scope"),
                                           "name"),
                                    "libpoe");
                spans = json_object_get(json_array_get(ss, 0), "spans");
                assert_true(json_array_size(spans) > 0 && json_array_size(spans) <= 1000);
                for (i = 0; i < json_array_size(spans); i++) {
                        json_t *s = json_array_get(spans, i), *par;

                        assert_true(is_hex(jget_s(s, "traceId"), 32));
                        assert_true(is_hex(jget_s(s, "spanId"), 16));
                        par = json_object_get(s, "parentSpanId");
                        assert_true(!par || is_hex(json_string_value(par), 16));
                        assert_non_null(jget_s(s, "name"));
                        TL_EQ(jget_i(s, "kind"), 1);
                        assert_true(dec(json_object_get(s, "endTimeUnixNano")) >=
                                    dec(json_object_get(s, "startTimeUnixNano")));
                        assert_true(attr_i(s, "poe.session") >= 0);
                        assert_true(attr_i(s, "poe.sender") >= 0);
                        json_array_append(all, s);
                }
                json_decref(doc);
        }
        check_traces(all);
        if (raw)
                *raw = body;
        else
                free(body);
        return all;
}

static json_t *span_named(json_t *spans, const char *name, int nth)
{
        size_t i;

        for (i = 0; i < json_array_size(spans); i++)
                if (strcmp(jget_s(json_array_get(spans, i), "name"), name) == 0 && nth-- == 0)
                        return json_array_get(spans, i);
        fail_msg("no span `%s'", name);
        return NULL;
}

static json_t *span_by_id(json_t *spans, const char *id)
{
        size_t i;

        for (i = 0; id && i < json_array_size(spans); i++)
                if (strcmp(jget_s(json_array_get(spans, i), "spanId"), id) == 0)
                        return json_array_get(spans, i);
        return NULL;
}

static json_t *parent_of(json_t *spans, json_t *s)
{
        return span_by_id(spans, json_string_value(json_object_get(s, "parentSpanId")));
}

/* Nanoseconds after the story's first record, the start of "a". */
static uint64_t story_t0;

static int64_t rel(json_t *s, const char *key)
{
        return (int64_t)(dec(json_object_get(s, key)) - story_t0);
}

/* The story as spans: each dispatch and post one, parents as caused. */
static void t_otlp_story(void **state)
{
        poe__params p = params_of(NULL, 0);
        json_t *spans, *a, *b, *c, *e, *pb, *pd, *pf, *ps, *s6, *s7, *ev;
        size_t lines;

        (void)state;
        put_story();
        spans = otlp_spans(&p, &lines, NULL);
        TL_EQ(lines, 1);
        TL_EQ(json_array_size(spans), 10);
        a = span_named(spans, "a", 0);
        b = span_named(spans, "b", 0);
        c = span_named(spans, "c", 0);
        e = span_named(spans, "e", 0);
        pb = span_named(spans, "post b", 0);
        pd = span_named(spans, "post d", 0);
        pf = span_named(spans, "post f", 0);
        ps = span_named(spans, "post SIG", 0);
        s6 = span_named(spans, "SIG", 0);
        s7 = span_named(spans, "SIG", 1);

        /* a: a root, from 1000 to 1400, with the session record inside it
         * as an event; the record outside any dispatch is nowhere.  Its
         * start is its wall time, to a double's precision. */
        story_t0 = dec(json_object_get(a, "startTimeUnixNano"));
        assert_true(llabs((long long)(story_t0 - 1700000000000001000ull)) < 1000);
        assert_null(json_object_get(a, "parentSpanId"));
        TL_EQ(rel(a, "endTimeUnixNano"), 400);
        TL_EQ(attr_i(a, "poe.session"), 1);
        TL_EQ(attr_i(a, "poe.event_id"), 1);
        TL_EQ(json_array_size(json_object_get(a, "events")), 1);
        ev = json_array_get(json_object_get(a, "events"), 0);
        assert_string_equal(jget_s(ev, "name"), "create");
        TL_EQ((int64_t)(dec(json_object_get(ev, "timeUnixNano")) - story_t0), 150);
        assert_string_equal(attr_s(ev, "poe.group"), "TRACE_SESSIONS");
        /* The call from a's handler is its child. */
        assert_true(parent_of(spans, c) == a);
        /* Posts from a's handler are its children; b's post lasts until b
         * is dispatched, and is b's parent. */
        assert_true(parent_of(spans, pb) == a);
        assert_true(parent_of(spans, b) == pb);
        TL_EQ(rel(pb, "startTimeUnixNano"), 100);
        TL_EQ(rel(pb, "endTimeUnixNano"), 500);
        assert_string_equal(attr_s(pb, "poe.outcome"), "dispatched");
        TL_EQ(attr_i(pb, "poe.event_id"), 2);
        TL_EQ(attr_i(pb, "poe.sender"), 1);
        TL_EQ(attr_i(b, "poe.event_id"), 2);
        assert_true(json_is_true(attr_b(b, "poe.returned")));
        assert_string_equal(attr_s(b, "poe.return"), "event ``b'' returns (undef)");
        assert_null(json_object_get(b, "status"));
        /* d was discarded: its post ends there. */
        assert_true(parent_of(spans, pd) == a);
        assert_string_equal(attr_s(pd, "poe.outcome"), "discarded");
        TL_EQ(rel(pd, "endTimeUnixNano"), 450);
        /* e, called from b, never returned: unwound by b's return. */
        assert_true(parent_of(spans, e) == b);
        TL_EQ(rel(e, "endTimeUnixNano"), 700);
        TL_EQ(jget_i(json_object_get(e, "status"), "code"), 2);
        assert_true(json_is_false(attr_b(e, "poe.returned")));
        /* f: posted from outside any handler, never dispatched. */
        assert_null(json_object_get(pf, "parentSpanId"));
        assert_string_equal(attr_s(pf, "poe.outcome"), "pending");
        TL_EQ(rel(pf, "endTimeUnixNano"), 1200);
        /* The signal: one post, the parent of both its dispatches. */
        assert_true(parent_of(spans, s6) == ps);
        assert_true(parent_of(spans, s7) == ps);
        TL_EQ(attr_i(s6, "poe.session"), 6);
        TL_EQ(attr_i(s7, "poe.session"), 7);
        /* Three chains, three traces: a's (what a caused, transitively),
         * f's (posted from outside any handler) and the signal's. */
        TL_EQ(check_traces(spans), 3);
        assert_string_equal(jget_s(e, "traceId"), jget_s(a, "traceId"));
        assert_string_equal(jget_s(pd, "traceId"), jget_s(a, "traceId"));
        assert_string_equal(jget_s(c, "traceId"), jget_s(a, "traceId"));
        assert_string_equal(jget_s(s7, "traceId"), jget_s(ps, "traceId"));
        assert_string_not_equal(jget_s(pf, "traceId"), jget_s(a, "traceId"));
        assert_string_not_equal(jget_s(ps, "traceId"), jget_s(a, "traceId"));
        assert_string_not_equal(jget_s(ps, "traceId"), jget_s(pf, "traceId"));
        json_decref(spans);
        tf_log_close();
}

/* The attribute list of a span's event named name. */
static json_t *span_event(json_t *s, const char *name)
{
        json_t *evs = json_object_get(s, "events");
        size_t i;

        for (i = 0; i < json_array_size(evs); i++)
                if (strcmp(jget_s(json_array_get(evs, i), "name"), name) == 0)
                        return json_array_get(evs, i);
        return NULL;
}

/*
 * Chains: "t" (an fd ready: a root) sets a timer "tick" and dies; the
 * timer's dispatch starts a new trace linked to the timer's span; "next",
 * posted by tick, is in tick's trace.  t's span is an error with the
 * die's message, and has an "exception" event with the message, the file
 * and the line.
 */
static void t_otlp_chains(void **state)
{
        static const char die_text[] = "boom at x.c line 7.\n\0src/x.c";
        poe__params p = params_of(NULL, 0);
        json_t *spans, *t, *timer, *tick, *pn, *next, *link, *ex, *st;
        size_t lines;

        (void)state;
        attach(64);
        tf_detach();
        memset(put_names, 0, sizeof(put_names));
        put(EV, "dispatch", 1, "t", 0, 0, 3000);
        put_x(EV, "enqueue", 1, "tick", 1, 11, 3100, 1, NULL, 0);
        put_x(EV, "die", 1, "t", 0, 0, 3200, 7, die_text, sizeof(die_text) - 1);
        put(EV, "return", 1, "t", 0, 0, 3300);
        put(EV, "dispatch", 1, "tick", 1, 11, 4000);
        put(EV, "enqueue", 2, "next", 1, 12, 4100);
        put(EV, "return", 1, "tick", 1, 11, 4200);
        put(EV, "dispatch", 2, "next", 1, 12, 4300);
        put(EV, "return", 2, "next", 1, 12, 4400);
        while (tf_status_int("records_written") < 9)
                tf_poll_pause();
        /* The die's record reads as a line of its own. */
        p = PARAMS({ "kind", "die" });
        {
                json_t *res = query(&p), *o = json_array_get(json_object_get(res, "records"), 0);

                assert_string_equal(jget_s(o, "message"), "event ``t'' of nobody died at "
                                                          "src/x.c line 7: boom at x.c line 7.");
                json_decref(res);
        }
        p = params_of(NULL, 0);
        spans = otlp_spans(&p, &lines, NULL);
        TL_EQ(json_array_size(spans), 5);
        TL_EQ(check_traces(spans), 2);
        t = span_named(spans, "t", 0);
        timer = span_named(spans, "timer tick", 0);
        tick = span_named(spans, "tick", 0);
        pn = span_named(spans, "post next", 0);
        next = span_named(spans, "next", 0);
        assert_null(json_object_get(t, "parentSpanId"));
        assert_true(parent_of(spans, timer) == t);
        assert_string_equal(jget_s(timer, "traceId"), jget_s(t, "traceId"));
        /* The timer's dispatch: a root, in a trace of its own, linked. */
        assert_null(json_object_get(tick, "parentSpanId"));
        assert_string_not_equal(jget_s(tick, "traceId"), jget_s(t, "traceId"));
        TL_EQ(json_array_size(json_object_get(tick, "links")), 1);
        link = json_array_get(json_object_get(tick, "links"), 0);
        assert_string_equal(jget_s(link, "traceId"), jget_s(t, "traceId"));
        assert_string_equal(jget_s(link, "spanId"), jget_s(timer, "spanId"));
        assert_string_equal(attr_s(link, "poe.link"), "timer");
        assert_true(parent_of(spans, pn) == tick);
        assert_true(parent_of(spans, next) == pn);
        assert_string_equal(jget_s(next, "traceId"), jget_s(tick, "traceId"));
        /* The die. */
        st = json_object_get(t, "status");
        TL_EQ(jget_i(st, "code"), 2);
        assert_string_equal(jget_s(st, "message"), "boom at x.c line 7.");
        ex = span_event(t, "exception");
        assert_non_null(ex);
        assert_string_equal(attr_s(ex, "exception.message"), "boom at x.c line 7.");
        assert_string_equal(attr_s(ex, "code.filepath"), "src/x.c");
        TL_EQ(attr_i(ex, "code.lineno"), 7);
        assert_null(json_object_get(tick, "status"));
        assert_null(json_object_get(next, "status"));
        json_decref(spans);
        tf_log_close();
}

/* From a real kernel: more than one line of spans, every dispatch and
 * post a span, each note's dispatch the child of its post and each post
 * the child of the tick that made it; the same export twice is the same
 * bytes. */
static void t_otlp(void **state)
{
        poe__params p = params_of(NULL, 0);
        json_t *spans, *s, *par, *all_ids;
        size_t i, lines, dispatches = 0, enqueues = 0, posts = 0, notes = 0, links = 0;
        char *raw, *raw2;
        double first_wall, last_wall, t0;

        (void)state;
        attach(0);
        workload(300, false);
        tl_run_to_end(tl.k, 10000);
        tf_detach();
        wait_settled();
        for (i = 0; i < copies.n; i++) {
                dispatches += strcmp(copies.r[i].kind, "dispatch") == 0;
                enqueues += strcmp(copies.r[i].kind, "enqueue") == 0 && !is_gc(&copies.r[i]);
        }
        spans = otlp_spans(&p, &lines, &raw);
        TL_EQ(json_array_size(spans), dispatches + enqueues);
        assert_true(json_array_size(spans) > 1000);
        TL_EQ(lines, (json_array_size(spans) + 999) / 1000);

        all_ids = json_object();
        first_wall = copies.r[0].wall;
        last_wall = copies.r[copies.n - 1].wall;
        for (i = 0; i < json_array_size(spans); i++) {
                s = json_array_get(spans, i);
                /* Unique span ids. */
                assert_null(json_object_get(all_ids, jget_s(s, "spanId")));
                json_object_set_new(all_ids, jget_s(s, "spanId"), json_true());
                /* Epoch times, where the records say. */
                t0 = (double)dec(json_object_get(s, "startTimeUnixNano")) / 1e9;
                assert_true(t0 >= first_wall - 0.001 && t0 <= last_wall + 0.001);
                par = parent_of(spans, s);
                if (json_object_get(s, "parentSpanId"))
                        assert_non_null(par); /* everything is selected */
                /* A chain cut at CHAIN_MAX goes on in a new trace,
                 * linked to where it was cut: that is its cause. */
                if (!par && json_object_get(s, "links")) {
                        json_t *l = json_array_get(json_object_get(s, "links"), 0);

                        assert_string_equal(attr_s(l, "poe.link"), "continued");
                        par = span_by_id(spans, jget_s(l, "spanId"));
                        assert_non_null(par);
                        links++;
                }
                if (strncmp(jget_s(s, "name"), "post ", 5) == 0) {
                        posts++;
                        assert_string_equal(attr_s(s, "poe.outcome"), "dispatched");
                        if (strcmp(jget_s(s, "name"), "post note") == 0)
                                assert_string_equal(jget_s(par, "name"), "tick");
                } else if (strcmp(jget_s(s, "name"), "note") == 0) {
                        notes++;
                        assert_string_equal(jget_s(par, "name"), "post note");
                        TL_EQ(attr_i(par, "poe.event_id"), attr_i(s, "poe.event_id"));
                        assert_string_equal(jget_s(par, "endTimeUnixNano"),
                                            jget_s(s, "startTimeUnixNano"));
                } else if (strcmp(jget_s(s, "name"), "inner") == 0) {
                        assert_string_equal(jget_s(par, "name"), "tick");
                        /* A call carries its caller's event id. */
                        TL_EQ(attr_i(par, "poe.event_id"), attr_i(s, "poe.event_id"));
                }
        }
        TL_EQ(posts, enqueues);
        TL_EQ(notes, 300);
        /* tick yields to itself 300 times: one chain, cut every 64 spans
         * into traces linked one to the next. */
        assert_true(links > 0);
        assert_true(check_traces(spans) > 2 * 300 * 2 / 64 - 1);
        json_decref(all_ids);
        json_decref(spans);

        spans = otlp_spans(&p, &lines, &raw2);
        assert_string_equal(raw, raw2);
        json_decref(spans);
        free(raw);
        free(raw2);

        /* A filter that selects nothing: no lines at all. */
        p = PARAMS({ "event", "nothing-by-this-name" });
        spans = otlp_spans(&p, &lines, NULL);
        TL_EQ(lines, 0);
        json_decref(spans);
        tf_log_close();
}

/* The SQLite export's descriptor: nothing is left in the log's directory
 * or TMPDIR, and the copy is the log. */
static void t_sqlite_export_fd(void **state)
{
        char path[160];
        DIR *d;
        struct dirent *de;
        sqlite3 *db;
        int64_t run;
        size_t files = 0;

        (void)state;
        attach(0);
        run = tf_status_int("run_id");
        workload(5, false);
        tl_run_to_end(tl.k, 1000);
        tf_detach();
        wait_settled();
        snprintf(path, sizeof(path), "%s/copy.db", tf.dir);
        export_sqlite_to(path);
        export_sqlite_to(path);
        d = opendir(tf.dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                if (de->d_name[0] == '.')
                        continue;
                if (strcmp(de->d_name, "trace.db") != 0 &&
                    strcmp(de->d_name, "trace.db-wal") != 0 &&
                    strcmp(de->d_name, "trace.db-shm") != 0 && strcmp(de->d_name, "copy.db") != 0)
                        fail_msg("left behind: %s", de->d_name);
                files++;
        }
        closedir(d);
        assert_true(files >= 2);
        db = tf_db_open_ro(path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM records WHERE run_id = ?", run), copies.n);
        sqlite3_close(db);
        tf_log_close();
}

/* Records the kernel would never make, straight into the sink: a very
 * long text is cut with a marker, bad UTF-8 is replaced (in a name and
 * in a text), a record without an event has a null one. */
static void t_odd_records(void **state)
{
        poe_trace_record r;
        static char big[10000];
        json_t *res, *recs, *o;
        poe__params p;
        const char *m;
        int64_t deadline;

        (void)state;
        attach(64);
        tf_detach();
        memset(big, 'x', sizeof(big) - 1);
        memset(&r, 0, sizeof(r));
        r.kind = POE_TK_DEF_NAME;
        r.epoch = 1;
        r.event = 3;
        r.text = "bad\xff\xfe name";
        r.text_len = (uint16_t)strlen(r.text);
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        memset(&r, 0, sizeof(r));
        r.mono_ns = 123456789;
        r.wall = 1700000000.25;
        r.epoch = 1;
        r.group = POE_TRACE_DESTROY;
        r.kind = POE_TK_DESTROY; /* its text is the whole line */
        r.session = 5;
        r.event = 3;
        r.sender = 6;
        r.refcount = 7;
        r.queue_length = 8;
        r.text = big;
        r.text_len = sizeof(big) - 1;
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        r.event = POE_TRACE_NO_NAME;
        r.group = POE_TRACE_SESSIONS;
        r.text = "caf\xc3\xa9 \xe2\x82";
        r.text_len = (uint16_t)strlen(r.text);
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);

        deadline = tf_now_ms() + TF_DEADLINE_MS;
        while (tf_status_int("records_written") < 2) {
                if (tf_now_ms() > deadline)
                        fail_msg("the records were not written");
                tf_poll_pause();
        }
        p = PARAMS({ "order", "asc" });
        res = query(&p);
        recs = json_object_get(res, "records");
        TL_EQ(json_array_size(recs), 2);
        o = json_array_get(recs, 0);
        m = jget_s(o, "message");
        assert_non_null(m);
        assert_true(strlen(m) < 4096 && strlen(m) > 2000);
        assert_non_null(strstr(m, "bytes truncated]"));
        assert_string_equal(jget_s(o, "event"), "bad\xef\xbf\xbd\xef\xbf\xbd name");
        assert_string_equal(jget_s(o, "kind"), "destroy");
        assert_string_equal(jget_s(o, "prefix"), "");
        TL_EQ(jget_i(o, "queue"), 8);
        o = json_array_get(recs, 1);
        assert_true(json_is_null(json_object_get(o, "event")));
        assert_string_equal(jget_s(o, "group"), "TRACE_SESSIONS");
        assert_string_equal(jget_s(o, "prefix"), "<ss>");
        assert_string_equal(jget_s(o, "message"), "caf\xc3\xa9 \xef\xbf\xbd\xef\xbf\xbd");
        json_decref(res);
        tf_log_close();
}

/* ---- every kind, rendered where it is read ---- */

/* Every record the log holds, in id order, is what the kernel made: its
 * message rendered by the reader from ids and numbers equals the
 * kernel's own rendering on its thread, field for field. */
static void assert_log_is_copies(int64_t run)
{
        char page_off[32];
        size_t i = 0, j;
        int64_t off = 0;
        json_t *r;

        while (i < copies.n) {
                poe__params p;

                snprintf(page_off, sizeof(page_off), "%lld", (long long)off);
                p = PARAMS({ "offset", page_off }, { "limit", "1000" });
                r = query(&p);
                TL_EQ(jget_i(r, "total"), copies.n);
                assert_true(json_array_size(json_object_get(r, "records")) > 0);
                for (j = 0; j < json_array_size(json_object_get(r, "records")); j++, i++)
                        assert_same(json_array_get(json_object_get(r, "records"), j), &copies.r[i],
                                    run);
                off += 1000;
                json_decref(r);
        }
}

static struct {
        int pfd[2];
        poe_sid a, b;
        pid_t child;
} ek;

static void ek_describe(void *ctx, poe_sid sid, void *heap, char *buf, size_t size)
{
        (void)ctx;
        (void)heap;
        snprintf(buf, size, "$VAR1 = { sid => %llu };", (unsigned long long)sid);
}

static int ek_anchor;

static poe_value ek_c_start(poe_ctx *c)
{
        TL_EQ(poe_kernel_alias_set(poe_ctx_kernel(c), "sea"), 0);
        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "go", POE_NOARGS), 0);
        return poe_nil();
}

static poe_value ek_c_go(poe_ctx *c)
{
        /* Its parent gives it up: a move. */
        TL_EQ(poe_kernel_detach_myself(poe_ctx_kernel(c)), 0);
        return poe_nil();
}

static poe_value ek_b_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);

        TL_EQ(poe_kernel_alias_set(k, "bee"), 0);
        TL_CREATE(k, { "_start", ek_c_start }, { "go", ek_c_go });
        return poe_str("b started");
}

static poe_value ek_str(poe_ctx *c)
{
        (void)c;
        return poe_str("pong \xc3\xa9t\xc3\xa9, a string longer than the 63 bytes that POE's line "
                       "shows of it");
}

static poe_value ek_dbl(poe_ctx *c)
{
        (void)c;
        return poe_double(-2.5);
}

static poe_value ek_list(poe_ctx *c)
{
        static const poe_value items[] = { { POE_T_INT, 0, { .i = 1 } },
                                           { POE_T_STR, 3, { .s = "two" } } };

        (void)c;
        return poe_list(items, 2);
}

static poe_value ek_sess(poe_ctx *c)
{
        return poe_session(poe_ctx_session(c));
}

static poe_value ek_ptr(poe_ctx *c)
{
        (void)c;
        return poe_ptr(&ek_anchor, NULL);
}

static poe_value ek_tick(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_value arg = poe_int(7), ret;

        TL_EQ(poe_kernel_post(k, ek.b, "str", POE_NOARGS), 0);
        TL_EQ(poe_kernel_call(k, ek.b, "dbl", POE_NOARGS, &ret), 0);
        TL_EQ(poe_kernel_post(k, ek.b, "list", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(k, ek.b, "sess", POE_NOARGS), 0);
        TL_EQ(poe_kernel_post(k, ek.b, "ptr", POE_NOARGS), 0);
        if (n == 0) {
                TL_EQ(poe_kernel_alias_remove(k, "beta"), 0);
                TL_EQ(poe_kernel_delay(k, "tick", 0.001, &arg, 1), 0);
                /* A failing call (retval), a signal, an OS signal. */
                TL_EQ(poe_kernel_post_alias(k, "nobody-here", "x", POE_NOARGS), -ESRCH);
                TL_EQ(poe_kernel_signal(k, ek.a, "FOO", POE_NOARGS), 0);
                TL_EQ(raise(SIGUSR1), 0);
        } else {
                TL_EQ(poe_kernel_select_read(k, ek.pfd[0], NULL, POE_NOARGS), 0);
                TL_EQ(poe_kernel_sig(k, "USR1", NULL, POE_NOARGS), 0);
                TL_EQ(poe_kernel_sig(k, "FOO", NULL, POE_NOARGS), 0);
                TL_EQ(poe_kernel_alias_remove(k, "alpha"), 0);
                TL_EQ(poe_kernel_signal(k, ek.b, "TERM", POE_NOARGS), 0);
        }
        return poe_int(n);
}

static poe_value ek_readable(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char buf[8];

        /* Non-blocking: the byte, or nothing if a wait saw it twice. */
        (void)!read(ek.pfd[0], buf, sizeof(buf));
        TL_EQ(poe_kernel_select_pause_read(k, ek.pfd[0]), 1);
        TL_EQ(poe_kernel_select_resume_read(k, ek.pfd[0]), 1);
        return poe_nil();
}

/* A handler that dies, and the DIE signal's handler that handles it. */
static poe_value ek_boom(poe_ctx *c)
{
        poe_die(c, "kaboom");
}

static poe_value ek_got_die(poe_ctx *c)
{
        poe_kernel_sig_handled(poe_ctx_kernel(c));
        return poe_nil();
}

static poe_value ek_a_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        poe_value zero = poe_int(0);

        ek.a = poe_ctx_session(c);
        TL_EQ(poe_kernel_alias_set(k, "alpha"), 0);
        TL_EQ(poe_kernel_alias_set(k, "beta"), 0);
        ek.b = TL_CREATE(k, { "_start", ek_b_start }, { "str", ek_str }, { "dbl", ek_dbl },
                         { "list", ek_list }, { "sess", ek_sess }, { "ptr", ek_ptr });
        TL_EQ(poe_kernel_sig(k, "USR1", "got_sig", POE_NOARGS), 0);
        TL_EQ(poe_kernel_sig(k, "FOO", "got_sig", POE_NOARGS), 0);
        TL_EQ(poe_kernel_select_read(k, ek.pfd[0], "readable", POE_NOARGS), 0);
        TL_EQ(write(ek.pfd[1], "x", 1), 1);
        TL_EQ(poe_kernel_delay(k, "tick", 0.001, &zero, 1), 0);
        TL_EQ(poe_kernel_sig(k, "DIE", "got_die", POE_NOARGS), 0);
        TL_EQ(poe_kernel_yield(k, "boom", POE_NOARGS), 0);
        fflush(NULL);
        ek.child = fork();
        assert_true(ek.child >= 0);
        if (ek.child == 0)
                _exit(3);
        TL_EQ(poe_kernel_sig_child(k, ek.child, "child", POE_NOARGS), 0);
        return poe_int(42);
}

/*
 * A program that makes a record of every kind but assert (which
 * aborts), in every trace group: each record's line as the log renders
 * it (from integers, ids and the definitions it was given) is the line
 * the kernel rendered on its thread, and every other field is the same.
 * An assert record, made by hand, renders its message.
 */
static void t_every_kind(void **state)
{
        bool seen[POE_TK_KINDS] = { false }, str_seen = false;
        poe_trace_record r;
        json_t *res, *o;
        poe__params p;
        int64_t run;
        size_t i;
        unsigned kind;

        (void)state;
        memset(&ek, 0, sizeof(ek));
        assert_true(pipe(ek.pfd) == 0);
        attach(0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.log_sink, POE_TRACE_ALL), 0);
        TL_EQ(poe_kernel_trace_sink_groups(tl.k, tf.own_sink, POE_TRACE_ALL), 0);
        poe_kernel_set_heap_describer(tl.k, ek_describe, NULL);
        run = tf_status_int("run_id");
        TL_CREATE(tl.k, { "_start", ek_a_start }, { "tick", ek_tick }, { "readable", ek_readable },
                  { "got_sig", tl_h_nop }, { "child", tl_h_nop }, { "boom", ek_boom },
                  { "got_die", ek_got_die });
        TL_EQ(poe_kernel_run(tl.k), 0);
        poe_kernel_set_heap_describer(tl.k, NULL, NULL);
        close(ek.pfd[0]);
        close(ek.pfd[1]);
        tf_detach();
        wait_settled();
        TL_EQ(tf_status_int("dropped_total"), 0);
        for (i = 0; i < copies.n; i++) {
                kind = poe_trace_kind_parse(copies.r[i].kind);
                assert_true(kind > POE_TK_NONE && kind < POE_TK_KINDS);
                seen[kind] = true;
        }
        for (kind = POE_TK_ENQUEUE; kind < POE_TK_KINDS; kind++)
                if (!seen[kind] && kind != POE_TK_ASSERT)
                        fail_msg("no %s record", poe_trace_kind_name(kind));
        assert_log_is_copies(run);

        /* One of each return value's type, among them. */
        p = PARAMS({ "kind", "return" }, { "limit", "1000" });
        res = query(&p);
        for (i = 0; i < json_array_size(json_object_get(res, "records")); i++) {
                const char *m = jget_s(json_array_get(json_object_get(res, "records"), i),
                                       "message");

                /* Its first 63 bytes, as POE's line shows it. */
                str_seen |= strcmp(m, "event ``str'' returns (pong \xc3\xa9t\xc3\xa9, a string "
                                      "longer than the 63 bytes that POE's line s)") == 0;
        }
        assert_true(str_seen);
        json_decref(res);

        /* The die: its message, and where poe_die was called. */
        p = PARAMS({ "kind", "die" });
        res = query(&p);
        TL_EQ(json_array_size(json_object_get(res, "records")), 1);
        o = json_array_get(json_object_get(res, "records"), 0);
        assert_non_null(strstr(jget_s(o, "message"), "event ``boom'' of session "));
        assert_non_null(strstr(jget_s(o, "message"), "test-tracelog.c line "));
        assert_non_null(strstr(jget_s(o, "message"), ": kaboom at "));
        json_decref(res);

        /* An assertion's record, by hand: its text is its line. */
        memset(&r, 0, sizeof(r));
        r.mono_ns = 5;
        r.wall = 1700000000.5;
        r.epoch = 1;
        r.group = POE_ASSERT_DATA;
        r.kind = POE_TK_ASSERT;
        r.event = POE_TRACE_NO_NAME;
        r.text = "session 1: count of timers went below zero";
        r.text_len = (uint16_t)strlen(r.text);
        TL_EQ(poe__tracelog_sink(tf.t, &r), 0);
        p = PARAMS({ "kind", "assert" });
        while (query_total(&p) < 1)
                tf_poll_pause();
        res = query(&p);
        o = json_array_get(json_object_get(res, "records"), 0);
        assert_string_equal(jget_s(o, "group"), "ASSERT_DATA");
        assert_string_equal(jget_s(o, "prefix"), "<dt>");
        assert_string_equal(jget_s(o, "message"), "session 1: count of timers went below zero");
        json_decref(res);
        tf_log_close();
}

/* A session renamed between records: the log names it in each record as
 * it was called then (each name its own serial, defined once). */
static poe_value h_rename(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        int64_t n = poe_value_int(poe_ctx_arg(c, 0));
        poe_value next = poe_int(n + 1);

        if (n == 0) {
                TL_EQ(poe_kernel_alias_set(k, "one"), 0);
        } else if (n == 1) {
                TL_EQ(poe_kernel_alias_remove(k, "one"), 0);
                TL_EQ(poe_kernel_alias_set(k, "two"), 0);
        } else if (n == 2) {
                TL_EQ(poe_kernel_alias_remove(k, "two"), 0);
        }
        if (n < 3)
                TL_EQ(poe_kernel_yield(k, "rename", &next, 1), 0);
        return poe_nil();
}

static poe_value h_rename_start(poe_ctx *c)
{
        poe_value zero = poe_int(0);

        TL_EQ(poe_kernel_yield(poe_ctx_kernel(c), "rename", &zero, 1), 0);
        return poe_nil();
}

static void t_alias_change(void **state)
{
        static const char *const want[] = {
                "enqueued event 1 ``rename'' from session 1 to session 1",
                "dispatching event 1 ``rename'' from session 1 to session 1",
                "enqueued event 3 ``rename'' from session 1 (one) to session 1 (one)",
                "dispatching event 3 ``rename'' from session 1 (one) to session 1 (one)",
                "enqueued event 4 ``rename'' from session 1 (two) to session 1 (two)",
                "dispatching event 4 ``rename'' from session 1 (two) to session 1 (two)",
                "enqueued event 5 ``rename'' from session 1 to session 1",
                "dispatching event 5 ``rename'' from session 1 to session 1",
        };
        poe__params p = PARAMS({ "event", "rename" }, { "group", "events" });
        json_t *res, *recs;
        size_t i, w = 0;
        sqlite3 *db;
        int64_t run;

        (void)state;
        attach(0);
        run = tf_status_int("run_id");
        TL_EQ(TL_CREATE(tl.k, { "_start", h_rename_start }, { "rename", h_rename }), 1);
        TL_EQ(poe_kernel_run(tl.k), 0);
        tf_detach();
        wait_settled();
        assert_log_is_copies(run);
        res = query(&p);
        recs = json_object_get(res, "records");
        for (i = 0; i < json_array_size(recs) && w < sizeof(want) / sizeof(want[0]); i++)
                if (strcmp(jget_s(json_array_get(recs, i), "message"), want[w]) == 0)
                        w++;
        if (w < sizeof(want) / sizeof(want[0]))
                fail_msg("no record says `%s'", want[w]);
        json_decref(res);
        /* Four names of session 1, each defined once. */
        db = tf_db_open_ro(tf.path);
        TL_EQ(tf_sql_int(db, "SELECT count(*) FROM loggables WHERE run_id = ? AND session = 1",
                         run),
              4);
        sqlite3_close(db);
        tf_log_close();
}

/* ---- definitions lost ---- */

static int created;

static poe_value h_named_start(poe_ctx *c)
{
        poe_kernel *k = poe_ctx_kernel(c);
        char name[32];

        snprintf(name, sizeof(name), "s%d", created++);
        TL_EQ(poe_kernel_alias_set(k, name), 0);
        snprintf(name, sizeof(name), "e%d", created);
        TL_EQ(poe_kernel_yield(k, name, POE_NOARGS), 0);
        return poe_nil();
}

static poe_value h_named_any(poe_ctx *c)
{
        char name[32];

        /* Its own event ("eN"); _parent and the like come here too. */
        if (poe_value_str(poe_ctx_arg(c, 0))[0] != 'e')
                return poe_nil();
        snprintf(name, sizeof(name), "s%llu", (unsigned long long)poe_ctx_session(c) - 2);
        TL_EQ(poe_kernel_alias_remove(poe_ctx_kernel(c), name), 0);
        return poe_nil();
}

static poe_value h_make_many(poe_ctx *c)
{
        int i;

        for (i = 0; i < 200; i++)
                TL_CREATE(poe_ctx_kernel(c), { "_start", h_named_start },
                          { "_default", h_named_any });
        return poe_nil();
}

/*
 * A ring too small for a burst of new names: some definitions do not fit
 * it.  The records that might name them are dropped and counted, the
 * kernel sends every definition again once there is room, and every
 * record written renders as the kernel rendered it: no name is lost.
 */
static void t_definitions_lost(void **state)
{
        json_t *s, *res, *recs, *o;
        int64_t written, dropped, off;
        size_t i, j, matched = 0;
        char page_off[32];

        (void)state;
        created = 0;
        attach(16);
        TL_CREATE(tl.k, { "_start", h_make_many });
        tl_run_to_end(tl.k, 5000);
        TL_EQ(created, 200);
        tf_detach();
        wait_settled();
        s = tf_status();
        written = tf_st_int(s, "records_written");
        dropped = tf_st_int(s, "dropped_total");
        json_decref(s);
        TL_EQ((uint64_t)(written + dropped), copies.produced);
        assert_true(dropped > 0);
        assert_true(written > 0);
        for (off = 0; off < written; off += 1000) {
                poe__params p;

                snprintf(page_off, sizeof(page_off), "%lld", (long long)off);
                p = PARAMS({ "offset", page_off }, { "limit", "1000" });
                res = query(&p);
                recs = json_object_get(res, "records");
                for (i = 0; i < json_array_size(recs); i++) {
                        o = json_array_get(recs, i);
                        for (j = 0; j < copies.n; j++)
                                if (copies.r[j].mono_ns == jget_i(o, "mono_ns") &&
                                    strcmp(copies.r[j].kind, jget_s(o, "kind")) == 0 &&
                                    copies.r[j].session == (poe_sid)jget_i(o, "session"))
                                        break;
                        if (j == copies.n)
                                fail_msg("record %lld is not one the kernel made",
                                         (long long)jget_i(o, "id"));
                        assert_same(o, &copies.r[j], jget_i(o, "run"));
                        matched++;
                }
                json_decref(res);
        }
        TL_EQ(matched, written);
        tf_log_close();
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                FX_TEST(t_roundtrip),
                FX_TEST(t_alone_in_slots),
                FX_TEST(t_idle_hands_back),
                FX_TEST(t_long_handler),
                FX_TEST(t_alone_in_slots_small_ring),
                FX_TEST(t_filters_and_paging),
                FX_TEST(t_query_parse_errors),
                FX_TEST(t_flood_small_ring),
                FX_TEST(t_flood_small_ring_alone),
                FX_TEST(t_unwritable_path),
                FX_TEST(t_not_a_database),
                FX_TEST(t_locked_database),
                FX_TEST(t_file_deleted),
                FX_TEST(t_read_deadlines),
                FX_TEST(t_disk_full),
                FX_TEST(t_exports),
                FX_TEST(t_odd_records),
                FX_TEST(t_every_kind),
                FX_TEST(t_alias_change),
                FX_TEST(t_definitions_lost),
                FX_TEST(t_event_ids),
                FX_TEST(t_migrate_v1),
                FX_TEST(t_chrome_flows_story),
                FX_TEST(t_chrome_flows),
                FX_TEST(t_otlp_story),
                FX_TEST(t_otlp_chains),
                FX_TEST(t_otlp),
                FX_TEST(t_sqlite_export_fd),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
