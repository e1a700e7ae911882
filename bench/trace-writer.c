/*
 * trace-writer: how fast the trace log's writer puts records into SQLite,
 * against the fastest SQLite itself does with the same rows.  No kernel
 * runs: the records are a yield chain's (an enqueue, a dispatch and a
 * return per yield, TRACE_EVENTS, one session, one event name), made
 * here and handed to the log's own sink, so what is timed is the ring
 * and the writer alone.
 *
 *   trace-writer floor N [DIR]
 *           the floor: a bare SQLite loop.  The log is opened (schema 3,
 *           its PRAGMAs, this run's row) and its writer and checkpointer
 *           stopped at once; then the same N rows go in through the
 *           writer's own prepared INSERT on the writer's own connection,
 *           BATCH_MAX rows per transaction and per statement (the rows
 *           set straight into the batch it reads), nothing else, with
 *           SQLite's own checkpoints: wal_autocheckpoint at its default
 *           (1000 pages), in the loop's thread, as a bare loop has them.
 *   trace-writer floor-nockpt N [DIR]
 *           the same with no checkpoint at all (wal_autocheckpoint 0,
 *           the WAL grows with every row): the most SQLite does with
 *           these rows on this connection, a floor no bounded log can
 *           have.
 *   trace-writer rows N [DIR]
 *           the same loop with a prepared INSERT of one row per step, as
 *           the writer did before (and as a program that logs to SQLite
 *           usually does): what one statement per batch gains.
 *   trace-writer floor-run-index N [DIR]
 *   trace-writer floor-no-index N [DIR]
 *           the floor with the records' indexes dropped first but the
 *           run's (trace_run), or all three: what each costs the writer.
 *   trace-writer writer N [RATE] [DIR]
 *           the writer: the main thread hands N records to
 *           poe__tracelog_sink, as the kernel's thread would.  RATE 0
 *           (the default) offers them all at once into a ring large
 *           enough for all of them, so nothing is dropped and the time
 *           is the writer's own: the most it sustains.  RATE > 0 offers
 *           RATE records a second, paced, into the inspector's default
 *           ring (DEFAULT_RING records): whatever the writer cannot keep
 *           up with is dropped and counted.
 *
 *   workload=trace_writer impl=MODE n=N batch=B seconds=S rate=R
 *       cpu_seconds=C cpu_rate=X fs=F dir=D
 *   workload=trace_writer impl=writer n=N offered=O ring=G seconds=S rate=R
 *       cpu_seconds=C cpu_rate=X produced=P written=W dropped=D
 *       checkpoints=K waits=A wait_seconds=T wal_max=M runq=Q ckpt_runq=Q2
 *       fs=F dir=D
 *
 * checkpoints: the checkpointer's runs; waits and wait_seconds: how
 * often and how long the writer waited for one (at the WAL's restart
 * mark, tracelog-checkpoint.c); wal_max: the WAL's largest size, bytes;
 * runq and ckpt_runq: the seconds the writer's thread and the
 * checkpointer's spent runnable but waiting for a core (schedstat),
 * which an idle machine keeps near 0.
 *
 * The time runs from the first record to the last one committed (the
 * writer's written count); the rate is records written a second.
 * cpu_seconds is the writing thread's CPU time over the same span (the
 * floor's main thread, or the writer's), and cpu_rate the records per
 * CPU second: on a loaded machine, where the thread waits for a core,
 * nearer what the rate would be on an idle one (less the time it waits
 * for the disk, which the CPU time leaves out, and more than a core
 * shared with another job gives).  The file is made in DIR, the
 * working directory unless told: where the inspector's default log
 * (poe-trace-PID.db, a relative path) goes; fs names its file system.
 * bench/run --trace runs them side by side (floor, rows, writer at RATE
 * 0, and at 500k/s); bench/run --trace --callgrind counts the floor's
 * main thread's and the writer thread's instructions per record.
 */
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include <poe/poe.h>

#include "tracelog-internal.h"

#define EVENT_NAME 1 /* the name id of "step" */
#define SERIAL     7 /* the session's loggable serial */
#define SID        2 /* and its id */

static double now(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Record i of a yield chain: yield y = i / 3 makes an enqueue, then its
 * dispatch, then the handler's return (nil), all about queue item y + 1,
 * 100 ns apart; the fields as kernel/trace.c fills them in.
 */
static void make_record(uint64_t i, poe_trace_record *r)
{
        unsigned step = (unsigned)(i % 3);

        memset(r, 0, sizeof(*r));
        r->mono_ns = 1000000000 + (int64_t)i * 100;
        r->wall = 1.7e9 + (double)r->mono_ns / 1e9;
        r->group = POE_TRACE_EVENTS;
        r->kind = (uint16_t)(POE_TK_ENQUEUE + step);
        r->event = EVENT_NAME;
        r->event_id = i / 3 + 1;
        r->session = SID;
        r->sender = SID;
        r->refcount = 1;
        r->queue_length = step == 0 ? 1 : 0;
        r->session_name = SERIAL;
        r->peer_name = step == 2 ? POE_TRACE_NOBODY : SERIAL;
        r->epoch = 1;
}

/* What the kernel sends before the first record: the event's name and
 * the session's loggable name. */
static void define(poe__tracelog *t)
{
        poe_trace_record r;

        memset(&r, 0, sizeof(r));
        r.kind = POE_TK_DEF_NAME;
        r.event = EVENT_NAME;
        r.text = "step";
        r.text_len = 4;
        r.epoch = 1;
        poe__tracelog_sink(t, &r);
        memset(&r, 0, sizeof(r));
        r.kind = POE_TK_DEF_LOGGABLE;
        r.session = SID;
        r.session_name = SERIAL;
        r.text = "session 2 (main)";
        r.text_len = 16;
        r.epoch = 1;
        poe__tracelog_sink(t, &r);
}

static const char *fs_name(const char *dir)
{
        struct statfs s;

        if (statfs(dir, &s) != 0)
                return "unknown";
        switch ((unsigned long)s.f_type) {
        case 0xef53:
                return "ext4";
        case 0x01021994:
                return "tmpfs";
        case 0x58465342:
                return "xfs";
        case 0x9123683e:
                return "btrfs";
        case 0x794c7630:
                return "overlayfs";
        default:
                return "other";
        }
}

static void remove_db(const char *path)
{
        char side[PATH_MAX + 8];

        unlink(path);
        snprintf(side, sizeof(side), "%s-wal", path);
        unlink(side);
        snprintf(side, sizeof(side), "%s-shm", path);
        unlink(side);
}

static double cpu_now(clockid_t clock)
{
        struct timespec ts;

        if (clock_gettime(clock, &ts) != 0)
                return 0;
        return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A thread's time on a core and waiting for one, in seconds, from
 * /proc/self/task/TID/schedstat, found by its name (the log names its
 * threads): false when there is no such thread.
 */
static bool sched_of(const char *name, double *run, double *wait)
{
        char path[300], comm[32];
        unsigned long long r, w;
        struct dirent *e;
        bool found = false;
        DIR *d;
        FILE *f;

        if (!(d = opendir("/proc/self/task")))
                return false;
        while (!found && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
                if (!(f = fopen(path, "r")))
                        continue;
                found = fgets(comm, sizeof(comm), f) && strncmp(comm, name, strlen(name)) == 0;
                fclose(f);
                if (!found)
                        continue;
                snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
                found = (f = fopen(path, "r")) && fscanf(f, "%llu %llu", &r, &w) == 2;
                if (f)
                        fclose(f);
                *run = r / 1e9;
                *wait = w / 1e9;
        }
        closedir(d);
        return found;
}

/* One record bound as a row of the single-row INSERT: NULL for "no
 * name", "no queue item", 0.0 and no text, as the writer stores them. */
static int bind_record(sqlite3_stmt *st, int64_t run, const poe_trace_record *r)
{
        int rc, i;

        rc = sqlite3_bind_int64(st, 1, run);
        rc |= sqlite3_bind_int64(st, 2, r->mono_ns);
        rc |= sqlite3_bind_double(st, 3, r->wall);
        rc |= sqlite3_bind_int64(st, 4, r->group);
        rc |= sqlite3_bind_int64(st, 5, r->kind);
        rc |= sqlite3_bind_int64(st, 6, (sqlite3_int64)r->session);
        rc |= sqlite3_bind_int64(st, 7, (sqlite3_int64)r->sender);
        rc |= r->event == POE_TRACE_NO_NAME ? sqlite3_bind_null(st, 8)
                                            : sqlite3_bind_int64(st, 8, r->event);
        rc |= r->event_id ? sqlite3_bind_int64(st, 9, (sqlite3_int64)r->event_id)
                          : sqlite3_bind_null(st, 9);
        rc |= sqlite3_bind_int64(st, 10, r->refcount);
        rc |= sqlite3_bind_int64(st, 11, (sqlite3_int64)r->queue_length);
        rc |= sqlite3_bind_int64(st, 12, r->session_name);
        rc |= sqlite3_bind_int64(st, 13, r->peer_name);
        for (i = 0; i < 5; i++)
                rc |= sqlite3_bind_int64(st, 14 + i, r->arg.i[i]);
        rc |= sqlite3_bind_null(st, 19);
        rc |= sqlite3_bind_null(st, 20);
        return rc;
}

/* The database's page size, for the WAL's frames. */
static unsigned long long page_size(sqlite3 *db)
{
        sqlite3_stmt *st;
        unsigned long long n = 0;

        if (sqlite3_prepare_v2(db, "PRAGMA page_size", -1, &st, NULL) != SQLITE_OK)
                return 0;
        if (sqlite3_step(st) == SQLITE_ROW)
                n = (unsigned long long)sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return n;
}

/* Steps a statement of no rows and resets it. */
static bool run(sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);

        sqlite3_reset(st);
        return rc == SQLITE_DONE;
}

/* The floor's variants: one statement per row or per batch, and which
 * indexes of the records are dropped first. */
static const struct floor_mode {
        const char *name;
        bool rows;
        const char *drop;
        int autocheckpoint; /* wal_autocheckpoint, pages */
} floor_modes[] = {
        { "floor", false, NULL, 1000 },
        { "floor-nockpt", false, NULL, 0 },
        { "rows", true, NULL, 1000 },
        { "floor-run-index", false,
          "DROP INDEX trace_run_session; DROP INDEX trace_run_event;", 1000 },
        { "floor-no-index", false,
          "DROP INDEX trace_run; DROP INDEX trace_run_session; DROP INDEX trace_run_event;",
          1000 },
};

/*
 * The floor: the log's connection, its writer stopped, and a loop of
 * BATCH_MAX-row transactions, each one statement (the writer's st_batch,
 * reading t->batch) or, for rows, one statement per row.  The seconds it
 * took and the CPU seconds into *cpu, or < 0.
 */
static double run_floor(poe__tracelog *t, long n, const struct floor_mode *m, double *cpu)
{
        static const char one_row[] =
                "INSERT INTO records(run_id, mono_ns, wall, grp, kind, session, sender, event, "
                "event_id, refcount, queue, session_name, peer_name, arg0, arg1, arg2, arg3, "
                "arg4, num, text) "
                "VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
        int64_t run_id = atomic_load(&t->run_id);
        sqlite3_stmt *ins = NULL;
        bool rows = m->rows;
        double t0, t1, c0;
        long i = 0, b;

        poe__tracelog_stop(t); /* the checkpointer with it */
        /* SQLite's own checkpoints, in this thread (the writer's hook
         * replaced them). */
        sqlite3_wal_hook(t->db, NULL, NULL);
        sqlite3_wal_autocheckpoint(t->db, m->autocheckpoint);
        if (m->drop && sqlite3_exec(t->db, m->drop, NULL, NULL, NULL) != SQLITE_OK)
                return -1;
        if (rows && sqlite3_prepare_v3(t->db, one_row, -1, SQLITE_PREPARE_PERSISTENT, &ins,
                                       NULL) != SQLITE_OK)
                return -1;
        c0 = cpu_now(CLOCK_THREAD_CPUTIME_ID);
        t0 = now();
        while (i < n) {
                if (!run(t->st_begin))
                        goto fail;
                t->batch_n = 0;
                for (b = 0; b < BATCH_MAX && i < n; b++, i++) {
                        if (!rows) {
                                make_record((uint64_t)i, &t->batch[t->batch_n++]);
                                continue;
                        }
                        make_record((uint64_t)i, &t->batch[0]);
                        if (bind_record(ins, run_id, &t->batch[0]) != SQLITE_OK || !run(ins))
                                goto fail;
                }
                if (!rows && (sqlite3_bind_int64(t->st_batch, 1, run_id) != SQLITE_OK ||
                              !run(t->st_batch)))
                        goto fail;
                t->batch_n = 0;
                if (!run(t->st_commit))
                        goto fail;
        }
        t1 = now();
        *cpu = cpu_now(CLOCK_THREAD_CPUTIME_ID) - c0;
        sqlite3_finalize(ins);
        return t1 - t0;
fail:
        t->batch_n = 0;
        sqlite3_finalize(ins);
        return -1;
}

static void sleep_ns(long ns)
{
        struct timespec ts = { .tv_sec = 0, .tv_nsec = ns };

        nanosleep(&ts, NULL);
}

/*
 * The writer: n records into the sink, all at once (rate 0) or rate a
 * second in bursts every 200 us (the kernel's thread makes them in
 * bursts too, a dispatch's worth at a time), then a wait until every
 * record is written or dropped.  The seconds until the last was
 * written, or < 0 if it never was.
 */
/* The writer's and the checkpointer's time waiting for a core during
 * the run, seconds: how loaded the machine was, as they saw it. */
static double runq_writer, runq_ckpt;

static double run_writer(poe__tracelog *t, long n, double rate, double *cpu)
{
        double r0 = 0, w0 = 0, r1 = 0, w1 = 0, cr0 = 0, cw0 = 0, cr1 = 0, cw1 = 0;
        uint64_t want = (uint64_t)n;
        poe_trace_record r;
        double t0, t1 = 0, due, c0;
        clockid_t clock;
        long i = 0;

        if (pthread_getcpuclockid(t->thread, &clock) != 0)
                return -1;
        define(t);
        sched_of("poe-trace-write", &r0, &w0);
        sched_of("poe-trace-ckpt", &cr0, &cw0);
        c0 = cpu_now(clock);
        t0 = now();
        while (i < n) {
                due = rate > 0 ? (now() - t0) * rate : (double)n;
                for (; i < n && (double)i < due; i++) {
                        make_record((uint64_t)i, &r);
                        poe__tracelog_sink(t, &r);
                }
                if (i < n)
                        sleep_ns(200000);
        }
        /* Written or dropped, every one, as the log's status counts
         * them. */
        for (;;) {
                json_t *st = poe__tracelog_status(t);
                json_int_t w = json_integer_value(json_object_get(st, "records_written"));
                json_int_t d = json_integer_value(json_object_get(st, "dropped_total"));

                json_decref(st);
                if ((uint64_t)(w + d) >= want) {
                        t1 = now();
                        *cpu = cpu_now(clock) - c0;
                        sched_of("poe-trace-write", &r1, &w1);
                        sched_of("poe-trace-ckpt", &cr1, &cw1);
                        runq_writer = w1 - w0;
                        runq_ckpt = cw1 - cw0;
                        break;
                }
                if (now() - t0 > 600)
                        return -1;
                sleep_ns(1000000);
        }
        return t1 - t0;
}

int main(int argc, char **argv)
{
        const char *mode = argc > 1 ? argv[1] : "";
        const struct floor_mode *floor = NULL;
        bool writer = strcmp(mode, "writer") == 0;
        long n = argc > 2 ? atol(argv[2]) : 0;
        double rate = writer && argc > 3 ? atof(argv[3]) : 0, s, cpu = 0;
        const char *dir = argc > (writer ? 4 : 3) ? argv[writer ? 4 : 3] : ".";
        size_t ring = rate > 0 ? DEFAULT_RING : (size_t)n + 1024;
        char path[PATH_MAX], err[512];
        json_int_t written;
        poe__tracelog *t;
        json_t *st;
        size_t i;
        int rc;

        for (i = 0; i < sizeof(floor_modes) / sizeof(floor_modes[0]); i++)
                if (strcmp(mode, floor_modes[i].name) == 0)
                        floor = &floor_modes[i];
        if ((!writer && !floor) || n <= 0 || rate < 0) {
                fprintf(stderr, "usage: trace-writer floor|floor-nockpt|rows|floor-run-index|"
                                "floor-no-index N [DIR]\n"
                                "       trace-writer writer N [RATE] [DIR]\n");
                return 2;
        }
        snprintf(path, sizeof(path), "%s/bench-trace-writer-%d.db", dir, (int)getpid());
        remove_db(path);
        rc = poe__tracelog_open(path, writer ? ring : 0, NULL, &t, err, sizeof(err));
        if (rc < 0) {
                fprintf(stderr, "trace-writer: %s\n", err);
                return 1;
        }
        s = writer ? run_writer(t, n, rate, &cpu) : run_floor(t, n, floor, &cpu);
        if (s < 0) {
                fprintf(stderr, "trace-writer: %s failed: %s\n", mode,
                        t->db ? sqlite3_errmsg(t->db) : "no database");
                poe__tracelog_close(t);
                remove_db(path);
                return 1;
        }
        if (!writer) {
                printf("workload=trace_writer impl=%s n=%ld batch=%d seconds=%.6f rate=%.0f "
                       "cpu_seconds=%.6f cpu_rate=%.0f fs=%s dir=%s\n",
                       mode, n, BATCH_MAX, s, n / s, cpu, cpu > 0 ? n / cpu : 0, fs_name(dir),
                       dir);
        } else {
                poe__tracelog_stop(t);
                st = poe__tracelog_status(t);
                written = json_integer_value(json_object_get(st, "records_written"));
                printf("workload=trace_writer impl=writer n=%ld offered=%.0f ring=%zu "
                       "seconds=%.6f rate=%.0f cpu_seconds=%.6f cpu_rate=%.0f produced=%lld "
                       "written=%lld dropped=%lld checkpoints=%lld waits=%llu "
                       "wait_seconds=%.6f wal_max=%llu runq=%.6f ckpt_runq=%.6f fs=%s dir=%s\n",
                       n, rate, ring, s, (double)written / s, cpu,
                       cpu > 0 ? (double)written / cpu : 0,
                       (long long)json_integer_value(json_object_get(st, "records_produced")),
                       (long long)written,
                       (long long)json_integer_value(json_object_get(st, "dropped_total")),
                       (long long)json_integer_value(json_object_get(st, "checkpoints")),
                       (unsigned long long)t->ckpt_waits, (double)t->ckpt_wait_ns / 1e9,
                       (unsigned long long)t->wal_frames_max * (page_size(t->db) + 24),
                       runq_writer, runq_ckpt, fs_name(dir), dir);
                json_decref(st);
        }
        poe__tracelog_close(t);
        remove_db(path);
        return 0;
}
